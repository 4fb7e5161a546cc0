"""``papertrends query``: read-only SQL on the warehouse."""

from __future__ import annotations

import click

from orchestration.cli._common import format_rows, home_of


# SQL may start with a comment ("-- why\nselect ..."): not an option
@click.command(
    short_help="run read-only SQL on the warehouse",
    context_settings={"ignore_unknown_options": True},
)
@click.argument("sql")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
)
@click.pass_context
def query(ctx: click.Context, sql: str, fmt: str) -> None:
    """Run SQL (e.g. "select count(*) from papers") on the warehouse through a read-only
    connection with no access to files outside it, and print the result."""
    from orchestration.query import run_query

    columns, rows = run_query(home_of(ctx), sql)
    if columns:
        click.echo(format_rows(columns, rows, fmt))
