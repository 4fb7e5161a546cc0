"""Quality gates: each Great Expectations suite runs as a blocking check on its asset.

A failed *error* expectation fails the check with ERROR severity, which stops the assets
downstream (and so the digest); failed *warn* expectations fail it with WARN severity
and let the run go on. A run validates its partition range as one window per suite (a
backfill too; the range's empty dates are skipped, with their reasons): in one pass, or,
when the window's frame would exceed ``expectations.windows.CHUNK_ROWS`` rows, in
consecutive date chunks merged into one result, so memory stays bounded however long the
backfill. It saves one report as JSON (and GE's HTML page: with chunks, the page of the
first failing chunk, named by ``html_chunk`` in the JSON) under
``publish/validation/<date>/`` for one date, or ``publish/validation/<start>..<end>/``
for a range.
"""

import datetime as dt
import json
from pathlib import Path

import dagster as dg

from expectations import SuiteResult, run_suite, save_report
from expectations.windows import window_label
from orchestration.metadata import markdown_table
from orchestration.resources import PapertrendsHome

STAGE_ASSETS = {
    "raw_listings": dg.AssetKey(["raw", "listings"]),
    "papers": dg.AssetKey(["papers"]),
    "keyphrases": dg.AssetKey(["raw", "paper_keyphrases"]),
    "trends": dg.AssetKey(["keyword_trends"]),
    "topics": dg.AssetKey(["topics"]),  # the three topic marts, checked together
}

#: dates named in one cell of the failed-expectations table
MAX_DATES_SHOWN = 5


def report_folder(publish: Path, start: dt.date | None, end: dt.date | None) -> Path:
    """``publish/validation/<date>/`` for one date, ``.../<start>..<end>/`` for a range,
    ``.../all/`` for every date."""
    return Path(publish) / "validation" / (window_label(start, end) or "all")


def save_window_report(
    outcome: SuiteResult, publish: Path, start: dt.date | None, end: dt.date | None
) -> str | None:
    """The window's report, saved; None when every date was empty (nothing validated)."""
    if outcome.skipped:
        return None
    return str(save_report(outcome, report_folder(publish, start, end)))


def _dates_cell(dates: list[str]) -> str:
    shown = ", ".join(dates[:MAX_DATES_SHOWN])
    return shown + (f" (+{len(dates) - MAX_DATES_SHOWN})" if len(dates) > MAX_DATES_SHOWN else "")


def check_result(
    stage: str, outcome: SuiteResult, report: str | None = None, *, days: int | None = 1
) -> dg.AssetCheckResult:
    """A suite's result over the run's window as one Dagster check result.

    The failing expectations (with the dates of their offending rows), their observed
    values and sample rows go in the metadata; the window's dates with nothing to
    validate (empty days) are listed under ``skipped``. ``days``: dates in the window (None:
    every date of the warehouse).
    """
    failed = [f.to_json() for f in outcome.failed]
    table = markdown_table(
        [
            (
                _dates_cell(f["dates"]),
                f["severity"],
                f["expectation"],
                f["column"] or "",
                json.dumps(f["observed"], default=str),
            )
            for f in failed
        ],
        ["dates", "severity", "expectation", "column", "observed"],
    )
    skipped = outcome.skipped_dates
    metadata = {
        "suite": stage,
        "window": outcome.listing_date or "all",
        "validated_dates": "all" if days is None else days - len(skipped),
        "skipped_dates": len(skipped),
        "evaluated": outcome.evaluated,
        "rows": outcome.row_count,
        "chunks": len(outcome.chunks),
        "failed_errors": len(outcome.errors),
        "failed_warnings": len(outcome.warnings),
        "seconds": round(outcome.seconds, 3),
        "failed_expectations": dg.MetadataValue.md(table if failed else "all expectations met"),
        "sample_rows": dg.MetadataValue.json(
            {
                f"{f['expectation']}({f['column'] or ''})": f["sample_rows"]
                for f in failed
                if f["sample_rows"]
            }
        ),
    }
    if outcome.error:
        metadata["error"] = outcome.error
    if skipped:
        metadata["skipped"] = "; ".join(skipped.values())
    if report:
        metadata["report"] = dg.MetadataValue.path(report)
    return dg.AssetCheckResult(
        passed=not failed,
        severity=dg.AssetCheckSeverity.ERROR if outcome.errors else dg.AssetCheckSeverity.WARN,
        metadata=metadata,
    )


def run_window(context: dg.OpExecutionContext) -> tuple[dt.date | None, dt.date | None]:
    """The dates the check's run materialized: one date, or a backfill's whole range;
    (None, None) for a check run on its own (from the UI), which validates every date.

    The checks are not partitioned themselves (a partitions_def on a check is a Preview API
    in Dagster 1.13): they read the window from the run, as the assets they gate do.
    """
    if not (context.has_partition_key or context.has_partition_key_range):
        return None, None
    keys = context.partition_key_range
    return dt.date.fromisoformat(keys.start), dt.date.fromisoformat(keys.end)


def _make_check(stage: str, asset_key: dg.AssetKey) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=asset_key,
        name=f"ge_{stage}",
        blocking=True,
        description=f"Great Expectations suite `expectations/{stage}.py` (gate).",
    )
    def _check(context: dg.AssetCheckExecutionContext, papertrends: PapertrendsHome):
        start, end = run_window(context.op_execution_context)
        with papertrends.connect(read_only=True) as con:
            outcome = run_suite(con, stage, start, end)  # the window, in row-bounded chunks
        report = save_window_report(outcome, papertrends.publish, start, end)
        days = (end - start).days + 1 if start and end else None
        return check_result(stage, outcome, report, days=days)

    return _check


quality_checks = [_make_check(stage, key) for stage, key in STAGE_ASSETS.items()]

defs = dg.Definitions(asset_checks=quality_checks)
