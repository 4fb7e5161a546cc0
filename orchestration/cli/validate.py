"""``papertrends validate``: every Great Expectations suite against the warehouse."""

from __future__ import annotations

import click

from orchestration.cli._common import DATE, format_rows, home_of
from transforms.errors import UserError


@click.command(short_help="run every Great Expectations suite against the warehouse")
@click.option("--date", "listing_date", type=DATE, help="listing date (default: the latest)")
@click.pass_context
def validate(ctx: click.Context, listing_date) -> None:
    """Validate raw listings, papers, keyphrases, trends and topics for a listing date and
    print each suite's result with its failing expectations. Exit 0 only if no gate failed."""
    from expectations import STAGES, run_suite
    from orchestration.query import connect_read_only

    with connect_read_only(home_of(ctx)) as con:
        if listing_date is None:
            listing_date = con.execute("select max(listing_date) from raw.listings").fetchone()[0]
        if listing_date is None:
            raise UserError("the warehouse has no listings yet: run `papertrends run` first")
        outcomes = {stage: run_suite(con, stage, listing_date) for stage in STAGES}
    rows = []
    ok = True
    for stage, outcome in outcomes.items():
        if outcome.skipped:
            rows.append((stage, "skipped", "", outcome.skipped))
            continue
        ok = ok and outcome.success
        status = "FAIL" if not outcome.success else ("warn" if outcome.failed else "pass")
        failing = "; ".join(
            f"{f.expectation}({f.column})" if f.column else f.expectation for f in outcome.failed
        )
        rows.append((stage, status, outcome.row_count, outcome.error or failing))
    click.echo(f"validation of {listing_date}")
    header = ["suite", "result", "rows", "failing expectations"]
    click.echo(format_rows(header, rows, "table", max_width=400))
    ctx.exit(0 if ok else 1)
