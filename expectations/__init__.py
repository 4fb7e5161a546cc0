"""Great Expectations suites (as code) for each pipeline stage.

Import is cheap: GX itself is only imported the first time a suite is built or
validated (see ``expectations.runner.gx``).

Public API::

    from expectations import STAGES, validate_stage, validate_frame, save_report
    result = validate_stage(con, "raw_listings", date(2024, 3, 1), min_rows=5)
    result.success            # False iff an error-severity (gate) expectation failed
    save_report(result, Path("reports/"))
    # a window as one result, its empty dates skipped (a Skipped str if all are empty),
    # validated in date chunks of at most ~runner.CHUNK_ROWS rows when it is larger
    outcome = run_suite(con, "trends", date(2024, 1, 2), date(2024, 3, 1))

Stage modules (``raw_listings``, ``papers``, ``keyphrases``, ``trends``) each
expose ``build_suite(**params)``, ``query(start, end=None, *, whole_table=True,
undated=False) -> (sql, params)`` (the window's rows, inclusive; None = all history;
``whole_table``: with the whole-table rows, ``undated``: with the rows of no date —
both for a window's first chunk), ``count_query(start, end=None)`` (the frame's rows
per date, to size the chunks), ``QUERY`` and ``REQUIRED_TABLES``.
"""

from expectations.runner import (
    ERROR,
    STAGES,
    WARN,
    FailedExpectation,
    Skipped,
    SuiteResult,
    catalog,
    run_suite,
    save_report,
    stage_module,
    validate_frame,
    validate_stage,
)

__all__ = [
    "ERROR",
    "STAGES",
    "WARN",
    "FailedExpectation",
    "Skipped",
    "SuiteResult",
    "catalog",
    "run_suite",
    "save_report",
    "stage_module",
    "validate_frame",
    "validate_stage",
]
