"""``papertrends``: run the pipeline and query the warehouse from a terminal.

One module per command, each a thin call into the library: landing files
(:mod:`transforms.landing`), running the daily job in this process (:mod:`orchestration.runs`),
read-only SQL (:mod:`orchestration.query`), the suites (:mod:`expectations.runner`), parsing
(:mod:`transforms.formats`), keyphrases (:mod:`transforms.keyphrases`). Every command works on
one home folder (``--home``, else ``PAPERTRENDS_HOME``, else ``./.papertrends``). A failure a
user can act on (:class:`transforms.errors.UserError`) prints one line on stderr and exits 1.
"""

from __future__ import annotations

import os
import sys

import click

from orchestration.cli.backfill import backfill
from orchestration.cli.fetch import fetch
from orchestration.cli.import_snapshot import import_snapshot
from orchestration.cli.keyphrases import keyphrases
from orchestration.cli.parse import parse
from orchestration.cli.query import query
from orchestration.cli.run import run
from orchestration.cli.serve import serve
from orchestration.cli.validate import validate
from transforms.errors import UserError


class _Commands(click.Group):
    """Expected failures as one line (``papertrends: <message>``, exit 1), Ctrl-C as
    ``papertrends: interrupted`` (exit 130), and a reader that went away (``papertrends parse
    FILE | head``) quietly (exit 141)."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except UserError as exc:
            click.echo(f"papertrends: {exc}", err=True)
            ctx.exit(1)
        except KeyboardInterrupt:
            click.echo("papertrends: interrupted", err=True)
            ctx.exit(130)
        except BrokenPipeError:
            # keep Python from complaining again when it flushes stdout at exit
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            ctx.exit(141)


@click.group("papertrends", cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--home", help="state folder (default: $PAPERTRENDS_HOME or ./.papertrends)")
def main(home: str | None) -> None:
    """Track trending research papers: ingest listings, build the DuckDB warehouse with
    Dagster and dbt, and query it."""
    # --home is read by each command (``_common.home_of``), after click has parsed it here.


for command in (run, backfill, fetch, query, validate, import_snapshot, parse, keyphrases, serve):
    main.add_command(command)
