"""``papertrends import``: land a bulk arXiv history and build it in one backfill."""

from __future__ import annotations

import datetime as dt
import re
import sys
import time
from pathlib import Path

import click

from orchestration.cli._common import DATE, prepare_home, summary, verbose_option
from transforms.errors import UserError


@click.command("import", short_help="land a bulk arXiv history and build it in one backfill")
@click.option("--arxiv-snapshot", "snapshot", required=True, metavar="FILE", type=Path)
@click.option(
    "--categories", help="comma-separated, e.g. cs.LG,cs.CL (an archive such as cs keeps all)"
)
@click.option("--from", "start", type=DATE, help="first date to keep")
@click.option("--to", "end", type=DATE, help="last date to keep")
@click.option(
    "--date-column", type=click.Choice(["v1", "update_date"]), default="v1", show_default=True
)
@click.option("--no-build", is_flag=True, help="only land the files")
@verbose_option
@click.pass_context
def import_snapshot(
    ctx: click.Context,
    snapshot: Path,
    categories: str | None,
    start: dt.date | None,
    end: dt.date | None,
    date_column: str,
    no_build: bool,
    verbose: bool,
) -> None:
    """Split an arXiv metadata snapshot (arxiv-metadata-oai-snapshot.json, JSON Lines,
    gzip too) into landing/<date>/ by each paper's v1 date (or --date-column update_date),
    keeping --categories, then build every date of it in one Dagster run."""
    from orchestration.defs.partitions import daily_partitions
    from orchestration.runs import materialize
    from transforms.bulk_import import split_snapshot

    if not snapshot.is_file():
        raise UserError(f"snapshot file not found: {snapshot}")
    home = prepare_home(ctx)
    first = dt.date.fromisoformat(daily_partitions.get_first_partition_key())
    last = dt.date.fromisoformat(daily_partitions.get_last_partition_key())
    date_from = max(start or first, first)
    date_to = min(end or last, last)
    kept = {c for c in re.split(r"[,\s]+", categories or "") if c} or None

    bar = None
    if sys.stderr.isatty():
        from tqdm import tqdm

        bar = tqdm(total=snapshot.stat().st_size, unit="B", unit_scale=True, desc="reading")

    def progress(s) -> None:
        if bar is not None:
            bar.update(s.bytes_read - bar.n)
            bar.set_postfix_str(f"{s.lines:,} lines, kept {s.papers:,} papers", refresh=False)

    started = time.monotonic()
    try:
        imported = split_snapshot(
            snapshot,
            home.landing,
            categories=kept,
            date_from=date_from,
            date_to=date_to,
            date_field=date_column,
            progress=progress,
        )
    except OSError as exc:
        raise UserError(f"cannot import {snapshot}: {exc.strerror or exc}") from None
    if bar is not None:
        bar.close()
    click.echo(
        f"landed {imported.papers:,} papers of {imported.lines:,} lines on "
        f"{len(imported.files):,} listing date(s) in {time.monotonic() - started:.1f}s"
        f" ({imported.out_of_range:,} outside {date_from}..{date_to}, "
        f"{imported.undated:,} without a date, {len(imported.rejected):,} rejected)"
    )
    for rejection in imported.rejected[:5]:
        click.echo(f"rejected: {rejection.reason}", err=True)
    if imported.dates is None:
        raise UserError(f"no paper of {snapshot} falls in {date_from}..{date_to}")
    if no_build:
        return
    first_day, last_day = imported.dates
    materialize(home, first_day, verbose=verbose, until=last_day, fetch=False)
    click.echo(f"built {first_day}..{last_day} in {time.monotonic() - started:.1f}s in all")
    click.echo(summary(home, last_day))
