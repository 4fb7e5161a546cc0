"""Ingest: landing/<date>/ listing files -> raw.listings and raw.rejected_records."""

import datetime as dt

import dagster as dg
import polars as pl

from orchestration.defs.partitions import daily_partitions
from orchestration.env import DUCKDB_POOL
from orchestration.metadata import markdown_table
from orchestration.resources import PapertrendsHome
from transforms.landing import read_landing_day
from transforms.warehouse import replace_date_partitions

RAW_LISTINGS = dg.AssetKey(["raw", "listings"])
RAW_REJECTED = dg.AssetKey(["raw", "rejected_records"])


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            RAW_LISTINGS,
            description="One row per paper card of each listing file of the date.",
            group_name="ingest",
            kinds={"python", "duckdb"},
        ),
        dg.AssetSpec(
            RAW_REJECTED,
            description="Quarantine: input that is not a paper card, with the reason.",
            group_name="ingest",
            kinds={"python", "duckdb"},
        ),
    ],
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    pool=DUCKDB_POOL,
)
def raw_listings(context: dg.AssetExecutionContext, papertrends: PapertrendsHome):
    """Parse every file in ``landing/<date>/`` and replace that date's raw rows.

    Delete-and-insert runs in one transaction (for every date of a backfill at once), so
    re-running a date gives exactly the same rows. A bad file or a bad card goes to raw.rejected_records; the good cards of
    the same file, and the other files of the day, are kept.
    """
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    batches = []
    for key in context.partition_keys:  # one date, or a range in a backfill
        folder = papertrends.landing / key
        batch = read_landing_day(folder, dt.date.fromisoformat(key), now)
        for summary in batch.files:
            if summary.error:
                context.log.warning(summary.error)
            for warning in summary.warnings:
                context.log.warning(f"{summary.name}: {warning}")
        if not batch.files:
            context.log.warning(f"no listing files in {folder}: the date will be empty")
        batches.append(batch)

    listings = pl.concat([b.listings for b in batches])
    rejected = pl.concat([b.rejected for b in batches])
    with papertrends.connect() as con:
        replace_date_partitions(
            con,
            [b.listing_date for b in batches],
            {"listings": listings, "rejected_records": rejected},
        )

    files = [(b.listing_date, f) for b in batches for f in b.files]
    files_md = markdown_table(
        [
            (day, f.name, f.records, f.rejected, f.encoding or "-", f.error or "")
            for day, f in files
        ],
        ["date", "file", "records", "rejected", "encoding", "error"],
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


defs = dg.Definitions(assets=[raw_listings])
