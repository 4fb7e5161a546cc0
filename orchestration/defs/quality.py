"""Quality gates: each Great Expectations suite runs as a blocking check on its asset.

A failed *error* expectation fails the check with ERROR severity, which stops the assets
downstream (and so the digest); failed *warn* expectations fail it with WARN severity
and let the run go on. Each run's report is saved as JSON (and GE's HTML) under
``publish/validation/<date>/``.
"""

import datetime as dt
import json

import dagster as dg

from expectations.runner import SuiteResult, run_suite, save_report
from orchestration.defs.partitions import daily_partitions
from orchestration.resources import PapertrendsHome

STAGE_ASSETS = {
    "raw_listings": dg.AssetKey(["raw", "listings"]),
    "papers": dg.AssetKey(["papers"]),
    "keyphrases": dg.AssetKey(["raw", "paper_keyphrases"]),
    "trends": dg.AssetKey(["keyword_trends"]),
}


def check_result(stage: str, outcome: SuiteResult | str, report: str | None) -> dg.AssetCheckResult:
    """A GE suite result as a Dagster check result, failing expectations in the metadata."""
    if isinstance(outcome, str):
        return dg.AssetCheckResult(passed=True, metadata={"skipped": outcome, "suite": stage})
    failed = [f.to_json() for f in outcome.failed]
    table = "\n".join(
        f"| {f['severity']} | {f['expectation']} | {f['column'] or ''} | "
        f"{json.dumps(f['observed'], default=str)[:120]} |"
        for f in failed
    )
    metadata = {
        "suite": stage,
        "evaluated": outcome.evaluated,
        "rows": outcome.row_count,
        "failed_errors": len(outcome.errors),
        "failed_warnings": len(outcome.warnings),
        "seconds": round(outcome.seconds, 3),
        "failed_expectations": dg.MetadataValue.md(
            "| severity | expectation | column | observed |\n|---|---|---|---|\n" + table
            if failed
            else "all expectations met"
        ),
        "sample_rows": dg.MetadataValue.json(
            {f["expectation"]: f["sample_rows"] for f in failed if f["sample_rows"]}
        ),
    }
    if outcome.error:
        metadata["error"] = outcome.error
    if report:
        metadata["report"] = dg.MetadataValue.path(report)
    return dg.AssetCheckResult(
        passed=not outcome.failed,
        severity=dg.AssetCheckSeverity.ERROR if outcome.errors else dg.AssetCheckSeverity.WARN,
        metadata=metadata,
    )


def _make_check(stage: str, asset_key: dg.AssetKey) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=asset_key,
        name=f"ge_{stage}",
        blocking=True,
        partitions_def=daily_partitions,
        description=f"Great Expectations suite `expectations/{stage}.py` (gate).",
    )
    def _check(context: dg.AssetCheckExecutionContext, papertrends: PapertrendsHome):
        listing_date = dt.date.fromisoformat(context.partition_key)
        with papertrends.connect(read_only=True) as con:
            outcome = run_suite(con, stage, listing_date)
        report = None
        if not isinstance(outcome, str):
            folder = papertrends.publish / "validation" / listing_date.isoformat()
            report = str(save_report(outcome, folder))
        return check_result(stage, outcome, report)

    return _check


quality_checks = [_make_check(stage, key) for stage, key in STAGE_ASSETS.items()]

defs = dg.Definitions(asset_checks=quality_checks)
