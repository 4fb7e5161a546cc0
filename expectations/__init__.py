"""Great Expectations suites (as code) for each pipeline stage, and their runner.

Import is cheap: GX itself is only imported the first time a suite is built or
validated (``expectations.gx.gx``).

Modules, one job each::

    gx          the lazy GX import and the process's one ephemeral context
    results     SuiteResult / FailedExpectation: what every validation returns
    suite       the expectation tag, the suite builder, StageSuite (a stage's shape)
    windows     date windows, their SQL, chunk planning
    validate    a frame or a stage's window validated
    merge       chunk results merged into one result for the window
    reports     the JSON report and GX's HTML page, written atomically
    registry    SUITES: stage name -> StageSuite
    runner      run_suite: a window, its empty dates skipped
    raw_listings, papers, keyphrases, trends    the stage suites

Public API::

    from expectations import STAGES, validate_stage, validate_frame, save_report
    result = validate_stage(con, "raw_listings", date(2024, 3, 1), min_rows=5)
    result.success            # False iff an error-severity (gate) expectation failed
    save_report(result, Path("reports/"))
    # a window as one result, its empty dates skipped (``skipped`` set if all are empty),
    # validated in date chunks of at most ~windows.CHUNK_ROWS rows when it is larger
    outcome = run_suite(con, "trends", date(2024, 1, 2), date(2024, 3, 1))
"""

from expectations.registry import STAGES, SUITES, stage_suite
from expectations.reports import save_report
from expectations.results import ERROR, WARN, FailedExpectation, SuiteResult
from expectations.runner import run_suite
from expectations.suite import StageSuite, catalog
from expectations.validate import validate_frame, validate_stage

__all__ = [
    "ERROR",
    "STAGES",
    "SUITES",
    "WARN",
    "FailedExpectation",
    "StageSuite",
    "SuiteResult",
    "catalog",
    "run_suite",
    "save_report",
    "stage_suite",
    "validate_frame",
    "validate_stage",
]
