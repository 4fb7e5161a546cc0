"""What the commands share: the home option, the date type, tables, the run summary."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Sequence

import click

from orchestration import env
from transforms.errors import UserError


class IsoDate(click.ParamType):
    """A ``YYYY-MM-DD`` date."""

    name = "YYYY-MM-DD"

    def convert(self, value, param, ctx) -> dt.date:
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            self.fail(f"not a YYYY-MM-DD date: {value!r}", param, ctx)


DATE = IsoDate()

#: ``--verbose`` of the commands that run the job.
verbose_option = click.option("--verbose", is_flag=True, help="show Dagster's run log")


def today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def home_of(ctx: click.Context) -> env.Home:
    """The home of ``papertrends --home`` (else ``PAPERTRENDS_HOME``, else ./.papertrends)."""
    return env.home(ctx.find_root().params.get("home"))


def prepare_home(ctx: click.Context) -> env.Home:
    """The home, created if needed, exported to dbt and Dagster (one-line error if unusable)."""
    home = home_of(ctx)
    try:
        home.ensure()
    except OSError as exc:  # e.g. a file where publish/ or landing/ should be
        raise UserError(
            f"cannot prepare the home folder {home.root}: {exc.strerror or exc}"
            + (f" ({exc.filename})" if exc.filename else "")
        ) from None
    env.export_for_subprocesses(home)
    return home


def check_listing_date(listing_date: dt.date) -> None:
    """A date the pipeline has a partition for (the first listing date to today, UTC)."""
    from orchestration.defs.partitions import daily_partitions

    if not daily_partitions.has_partition_key(listing_date.isoformat()):
        raise UserError(
            f"listing date {listing_date} is outside the pipeline's dates "
            f"({daily_partitions.start:%Y-%m-%d} to today, UTC)"
        )


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def format_rows(columns: list[str], rows: list[tuple], fmt: str, max_width: int = 80) -> str:
    """Rows as an aligned text table (cells cut at ``max_width``), CSV or JSON."""
    if fmt == "json":
        return json.dumps(
            [dict(zip(columns, row, strict=True)) for row in rows],
            default=str,
            ensure_ascii=False,
            indent=1,
        )
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([[_cell(v) for v in row] for row in rows])
        return buffer.getvalue().rstrip("\n")
    cells = [[_cell(v).replace("\n", " ") for v in row] for row in rows]
    widths = [
        min(max_width, max([len(c)] + [len(r[i]) for r in cells])) for i, c in enumerate(columns)
    ]

    def line(values: Sequence[str]) -> str:
        return " | ".join(v[:w].ljust(w) for v, w in zip(values, widths, strict=True)).rstrip()

    out = [line(columns), "-+-".join("-" * w for w in widths)]
    out += [line(r) for r in cells]
    out.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(out)


def summary(home: env.Home, listing_date: dt.date) -> str:
    """What a run left for a date: listed and quarantined papers, the warehouse, the digest
    and its e-mail, and how to look further."""
    from orchestration.query import run_query
    from orchestration.runs import digest_email_outcome

    day = listing_date.isoformat()
    _, rows = run_query(
        home,
        "select (select count(*) from raw.listings where listing_date = $1),"
        " (select count(*) from raw.rejected_records where listing_date = $1),"
        " (select count(*) from papers)",
        [listing_date],
    )
    listed, rejected, papers = rows[0]
    lines = [
        f"listing {day}: {listed} papers parsed, {rejected} quarantined"
        + (" (see raw.rejected_records)" if rejected else ""),
        f"warehouse: {home.describe_warehouse()} ({papers} papers in total)",
        f"digest: {home.publish / day / 'digest.html'} (and digest.md, feed.xml, outbox/)",
        f"e-mail: {digest_email_outcome(home, listing_date)}",
        f"dagster home: {home.dagster_home} (runs show in `make dev`)",
        'query it:  papertrends query "select title, code_url from papers limit 5"',
    ]
    return "\n".join(lines)
