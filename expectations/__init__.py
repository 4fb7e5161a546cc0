"""Great Expectations suites (as code) for each pipeline stage.

Import is cheap: GX itself is only imported the first time a suite is built or
validated (see ``expectations.runner.gx``).

Public API::

    from expectations import STAGES, validate_stage, validate_frame, save_report
    result = validate_stage(con, "raw_listings", date(2024, 3, 1), min_rows=5)
    result.success            # False iff an error-severity (gate) expectation failed
    save_report(result, Path("reports/"))

Stage modules (``raw_listings``, ``papers``, ``keyphrases``, ``trends``) each
expose ``build_suite(**params)``, ``query(listing_date) -> (sql, params)``,
``QUERY`` and ``REQUIRED_TABLES``.
"""

from expectations.runner import (
    ERROR,
    STAGES,
    WARN,
    FailedExpectation,
    SuiteResult,
    catalog,
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
    "SuiteResult",
    "catalog",
    "save_report",
    "stage_module",
    "validate_frame",
    "validate_stage",
]
