"""Ingest: landing/<date>/ listing files -> raw.listings, raw.rejected_records and
raw.landed_files."""

import datetime as dt

import dagster as dg
import polars as pl

from orchestration.defs.automation import FINGERPRINT_METADATA, folder_fingerprint
from orchestration.defs.fetch import FETCH_ASSET_KEYS
from orchestration.defs.partitions import daily_partitions, single_run_backfill
from orchestration.metadata import markdown_table
from orchestration.resources import PapertrendsHome
from transforms.landing import DayBatch, read_landing_day
from transforms.warehouse import replace_date_partitions

RAW_LISTINGS = dg.AssetKey(["raw", "listings"])
RAW_REJECTED = dg.AssetKey(["raw", "rejected_records"])
RAW_LANDED_FILES = dg.AssetKey(["raw", "landed_files"])


def no_paper_failure(batches: list[DayBatch]) -> str | None:
    """One line when files landed but none of them gave a paper, else None.

    Publishing an empty digest for a day whose only listing is a PDF would hide the
    mistake; a day with no file at all (or a fetch that found nothing published) is an
    empty day, not a failure. In a backfill, one bad day among good ones is logged, not
    fatal: the run fails only when no date of it gives a paper.
    """
    if any(b.papers for b in batches):
        return None
    landed = [(b.listing_date, f) for b in batches for f in b.files]
    if not landed:
        return None
    days = sorted({str(day) for day, _ in landed})
    reasons = "; ".join(f.error or f"{f.name}: no paper records" for _, f in landed[:3])
    more = f" (and {len(landed) - 3} more)" if len(landed) > 3 else ""
    return f"no file landed for {', '.join(days)} gives a paper: {reasons}{more}"


def _ingest_table(key: dg.AssetKey, description: str) -> dg.AssetSpec:
    """A table the ingest step writes: Python into DuckDB, after the date's fetch."""
    return dg.AssetSpec(
        key,
        description=description,
        group_name="ingest",
        kinds={"python", "duckdb"},
        deps=FETCH_ASSET_KEYS,
    )


@dg.multi_asset(
    specs=[
        _ingest_table(RAW_LISTINGS, "One row per paper card of each listing file of the date."),
        _ingest_table(RAW_REJECTED, "Quarantine: input that is not a paper card, with the reason."),
        _ingest_table(
            RAW_LANDED_FILES,
            "One row per landed file (format, records, rejected, fetch provenance), and per "
            "fetch that found no listing published.",
        ),
    ],
    partitions_def=daily_partitions,
    backfill_policy=single_run_backfill,
)
def raw_listings(context: dg.AssetExecutionContext, papertrends: PapertrendsHome):
    """Parse every file in ``landing/<date>/`` (any format, detected from its content) and
    replace that date's raw rows.

    Delete-and-insert runs in one transaction (for every date of a backfill at once), so
    re-running a date gives exactly the same rows. A bad file or a bad record goes to
    raw.rejected_records with the reason; the good records of the same file, and the other
    files of the day, are kept. When files landed but none gives a paper (a PDF as the
    day's only listing), the rows are written and the step fails with one line saying so,
    so no empty digest is published.
    """
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    keys = context.partition_keys  # one date, or a range in a backfill
    batches, empty = [], []
    fingerprints: dict[str, str] = {}
    step = max(1, len(keys) // 10)
    for i, key in enumerate(keys, 1):
        folder = papertrends.landing / key
        # what the landing sensor compares with: taken before reading, so a file that
        # changes while the step reads is seen as changed
        fingerprint = folder_fingerprint(folder)
        if fingerprint is not None:
            fingerprints[key] = fingerprint
        batch = read_landing_day(folder, dt.date.fromisoformat(key), now)
        for summary in batch.files:
            if summary.error:
                context.log.warning(summary.error)
            for warning in summary.warnings:
                context.log.warning(f"{summary.name}: {warning}")
        if not batch.files:
            empty.append(key)
        batches.append(batch)

        for source, message in batch.no_listing:
            context.log.info(f"{key}: {source} published no listing ({message})")
        if len(keys) > 1 and (i % step == 0 or i == len(keys)):
            records = sum(b.listings.height for b in batches)
            context.log.info(f"read {i:,}/{len(keys):,} listing dates: {records:,} records")
    if len(empty) == 1:
        folder = papertrends.landing / empty[0]
        context.log.warning(f"no listing files in {folder}: the date will be empty")
    elif empty:
        shown = ", ".join(empty[:3]) + (", …" if len(empty) > 3 else "")
        context.log.warning(
            f"no listing files for {len(empty)} of {len(keys)} dates ({shown}): they will be empty"
        )

    listings = pl.concat([b.listings for b in batches])
    rejected = pl.concat([b.rejected for b in batches])
    landed = pl.concat([b.landed for b in batches])
    with papertrends.connect() as con:
        replace_date_partitions(
            con,
            [b.listing_date for b in batches],
            {"listings": listings, "rejected_records": rejected, "landed_files": landed},
        )
    failure = no_paper_failure(batches)
    if failure:
        raise dg.Failure(description=failure)

    for key, fingerprint in fingerprints.items():  # per date, on the date's materialization
        context.add_asset_metadata(
            {FINGERPRINT_METADATA: fingerprint}, asset_key=RAW_LISTINGS, partition_key=key
        )

    files = [(b.listing_date, f) for b in batches for f in b.files]
    files_md = markdown_table(
        [
            (day, f.name, f.format or "-", f.records, f.rejected, f.encoding or "-", f.error or "")
            for day, f in files
        ],
        ["date", "file", "format", "records", "rejected", "encoding", "error"],
    )
    preview = listings.select("listing_date", "position", "title").head(10)
    yield dg.MaterializeResult(
        asset_key=RAW_LISTINGS,
        metadata={
            "dagster/row_count": listings.height,
            "dates": len(batches),
            "files": len(files),
            "landing": dg.MetadataValue.path(str(papertrends.landing)),
            "file_summary": dg.MetadataValue.md(files_md),
            "preview": dg.MetadataValue.md(
                markdown_table(preview.rows(), ["listing_date", "position", "title"])
            ),
        },
    )
    reasons = rejected.group_by("reason").len().sort("len", descending=True).head(10)
    yield dg.MaterializeResult(
        asset_key=RAW_REJECTED,
        metadata={
            "dagster/row_count": rejected.height,
            "reasons": dg.MetadataValue.md(markdown_table(reasons.rows(), ["reason", "rows"])),
        },
    )
    yield dg.MaterializeResult(
        asset_key=RAW_LANDED_FILES,
        metadata={
            "dagster/row_count": landed.height,
            "formats": dg.MetadataValue.md(
                markdown_table(
                    landed.group_by("format", "source")
                    .agg(pl.len().alias("files"), pl.col("records").sum())
                    .sort("files", descending=True)
                    .rows(),
                    ["format", "source", "files", "records"],
                )
            ),
        },
    )


defs = dg.Definitions(assets=[raw_listings])
