"""``papertrends backfill``: rebuild a range of dates from what is in landing/."""

from __future__ import annotations

import time

import click

from orchestration.cli._common import DATE, prepare_home, summary, verbose_option
from transforms.errors import UserError


@click.command(short_help="re-run every date of a range from what is in landing/ (one run)")
@click.option("--from", "start", type=DATE, required=True, help="first listing date")
@click.option("--to", "end", type=DATE, required=True, help="last listing date (inclusive)")
@click.option(
    "--full-refresh",
    is_flag=True,
    help="rebuild every incremental table from scratch (every date), not just the range",
)
@verbose_option
@click.pass_context
def backfill(ctx: click.Context, start, end, full_refresh: bool, verbose: bool) -> None:
    """Materialize the whole graph for every listing date from --from to --to (inclusive)
    in a single Dagster run, from the files already in landing/<date>/."""
    from orchestration.defs.dbt_models import full_refresh_run_config
    from orchestration.runs import materialize

    if end < start:
        raise UserError(f"--to {end} is before --from {start}")
    home = prepare_home(ctx)
    started = time.monotonic()
    # From what is already in landing/: the fetch assets are left out of the run.
    run_config = full_refresh_run_config() if full_refresh else None
    materialize(home, start, verbose=verbose, until=end, run_config=run_config, fetch=False)
    days = (end - start).days + 1
    click.echo(f"backfilled {days} date(s) {start}..{end} in {time.monotonic() - started:.1f}s")
    click.echo(summary(home, end))
