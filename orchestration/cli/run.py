"""``papertrends run``: land listing files for a date and build everything for it."""

from __future__ import annotations

import time
from pathlib import Path

import click

from orchestration.cli._common import (
    DATE,
    check_listing_date,
    prepare_home,
    summary,
    today,
    verbose_option,
)


@click.command(
    short_help="land listing files for a date and materialize the whole graph for it",
)
@click.option(
    "--listing",
    "listings",
    multiple=True,
    required=True,
    metavar="FILE",
    help="a listing file: pasted page text, HF API JSON, arXiv XML (repeatable)",
)
@click.option("--date", "listing_date", type=DATE, help="listing date (default: today, UTC)")
@verbose_option
@click.pass_context
def run(ctx: click.Context, listings: tuple[str, ...], listing_date, verbose: bool) -> None:
    """Copy listing files into landing/<date>/ and materialize every asset for that date's
    partition through Dagster (the run shows in the UI)."""
    from orchestration.defs.fetch import fetch_run_config
    from orchestration.runs import materialize
    from transforms.landing import land_files

    listing_date = listing_date or today()
    check_listing_date(listing_date)
    home = prepare_home(ctx)
    folder = home.landing / listing_date.isoformat()
    landed = land_files(folder, [Path(p) for p in listings])
    click.echo(f"landed {len(landed)} file(s) in {folder}")
    started = time.monotonic()
    # The listing files given are the day's listing: nothing is fetched beside them.
    materialize(home, listing_date, verbose=verbose, run_config=fetch_run_config(set()))
    click.echo(f"materialized {listing_date} in {time.monotonic() - started:.1f}s")
    click.echo(summary(home, listing_date))
