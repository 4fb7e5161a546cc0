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
from orchestration.metadata import markdown_table
from orchestration.resources import PapertrendsHome

STAGE_ASSETS = {
    "raw_listings": dg.AssetKey(["raw", "listings"]),
    "papers": dg.AssetKey(["papers"]),
    "keyphrases": dg.AssetKey(["raw", "paper_keyphrases"]),
    "trends": dg.AssetKey(["keyword_trends"]),
}


def check_result(
    stage: str, outcomes: dict[str, SuiteResult | str], reports: dict[str, str]
) -> dg.AssetCheckResult:
    """GE results (one per date) as one Dagster check result.

    The failing expectations, their observed values and sample rows go in the metadata;
    a date with nothing to validate (empty day) is listed under ``skipped``.
    """
    results = {k: o for k, o in outcomes.items() if not isinstance(o, str)}
    skipped = {k: o for k, o in outcomes.items() if isinstance(o, str)}
    failed = [(key, f.to_json()) for key, r in results.items() for f in r.failed]
    table = markdown_table(
        [
            (
                key,
                f["severity"],
                f["expectation"],
                f["column"] or "",
                json.dumps(f["observed"], default=str),
            )
            for key, f in failed
        ],
        ["date", "severity", "expectation", "column", "observed"],
    )
    metadata = {
        "suite": stage,
        "dates": len(outcomes),
        "evaluated": sum(r.evaluated for r in results.values()),
        "rows": sum(r.row_count for r in results.values()),
        "failed_errors": sum(len(r.errors) for r in results.values()),
        "failed_warnings": sum(len(r.warnings) for r in results.values()),
        "seconds": round(sum(r.seconds for r in results.values()), 3),
        "failed_expectations": dg.MetadataValue.md(table if failed else "all expectations met"),
        "sample_rows": dg.MetadataValue.json(
            {f"{key} {f['expectation']}": f["sample_rows"] for key, f in failed if f["sample_rows"]}
        ),
    }
    errors = [r.error for r in results.values() if r.error]
    if errors:
        metadata["error"] = "; ".join(errors)
    if skipped:
        metadata["skipped"] = "; ".join(skipped.values())
    if len(reports) == 1:
        metadata["report"] = dg.MetadataValue.path(next(iter(reports.values())))
    elif reports:
        metadata["reports"] = dg.MetadataValue.json(reports)
    any_error = any(r.errors for r in results.values())
    return dg.AssetCheckResult(
        passed=not failed,
        severity=dg.AssetCheckSeverity.ERROR if any_error else dg.AssetCheckSeverity.WARN,
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
        outcomes = {}
        with papertrends.connect(read_only=True) as con:
            for key in context.partition_keys:  # one date, or a range in a backfill
                outcomes[key] = run_suite(con, stage, dt.date.fromisoformat(key))
        reports = {}
        for key, outcome in outcomes.items():
            if not isinstance(outcome, str):
                folder = papertrends.publish / "validation" / key
                reports[key] = str(save_report(outcome, folder))
        return check_result(stage, outcomes, reports)

    return _check


quality_checks = [_make_check(stage, key) for stage, key in STAGE_ASSETS.items()]

defs = dg.Definitions(asset_checks=quality_checks)
