"""``papertrends fetch``: download a date's listings and build everything for it."""

from __future__ import annotations

import datetime as dt
import time

import click

from orchestration import env
from orchestration.cli._common import (
    DATE,
    check_listing_date,
    prepare_home,
    summary,
    today,
    verbose_option,
)
from transforms.errors import UserError


@click.command(short_help="download the day's listing from HF / arXiv and build everything")
@click.option(
    "--source",
    "sources",
    multiple=True,
    type=click.Choice(["hf", "arxiv"]),
    help="fetch this source (repeatable; default: PAPERTRENDS_SOURCES)",
)
@click.option("--date", "listing_date", type=DATE, help="listing date (default: today, UTC)")
@verbose_option
@click.pass_context
def fetch(ctx: click.Context, sources: tuple[str, ...], listing_date, verbose: bool) -> None:
    """Fetch the listing of a date from each source (default: those in PAPERTRENDS_SOURCES)
    into landing/<date>/, then run the whole daily job for that date (fetch, ingest, dbt,
    keyphrases, digest) in one Dagster run."""
    from orchestration.defs.fetch import fetch_run_config
    from orchestration.runs import materialize

    listing_date = listing_date or today()
    check_listing_date(listing_date)
    try:
        chosen = set(sources or env.listing_sources()["sources"])
    except ValueError as exc:
        raise UserError(str(exc)) from None
    if not chosen:
        raise UserError("nothing to fetch: pass --source hf|arxiv or set PAPERTRENDS_SOURCES")
    home = prepare_home(ctx)
    folder = home.landing / listing_date.isoformat()
    started, since = time.monotonic(), dt.datetime.now(dt.UTC).replace(microsecond=0)
    try:
        materialize(home, listing_date, verbose=verbose, run_config=fetch_run_config(chosen))
    finally:  # what was fetched, also when a later step failed
        for line in fetched_lines(folder, listing_date, chosen, since):
            click.echo(line)
    click.echo(f"materialized {listing_date} in {time.monotonic() - started:.1f}s")
    click.echo(summary(home, listing_date))


def fetched_lines(
    folder, listing_date: dt.date, sources: set[str], since: dt.datetime
) -> list[str]:
    """One line per source: what its fetch sidecar says it fetched at or after ``since``."""
    from transforms.fetch import SOURCES, read_sidecar

    lines = []
    for source in (s for s in SOURCES if s in sources):
        sidecar = read_sidecar(folder, source) or {}
        try:
            fetched = dt.datetime.fromisoformat(str(sidecar.get("fetched_at")))
        except ValueError:
            fetched = None
        if fetched is None or fetched < since:
            lines.append(f"fetched {source} {listing_date}: nothing (the fetch did not finish)")
            continue
        files = [f for f in sidecar.get("files") or [] if f.get("file")]
        status = sidecar.get("status")
        lines.append(
            f"fetched {source} {listing_date}: {sidecar.get('papers')} papers, {status} "
            f"({len(files)} file(s))" + (f": {sidecar.get('message')}" if status != "ok" else "")
        )
    return lines
