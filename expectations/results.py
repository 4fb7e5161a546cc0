"""What a validation returns: one ``SuiteResult`` per suite and window, JSON-ready.

* Every expectation carries ``meta={"severity": "error"|"warn", "why": ...}``.
  ``error`` = gate (data must not be published), ``warn`` = soft signal.
  A suite result is successful iff no *error* expectation failed.
* One type for every outcome: ``skipped`` is None when something was validated, else why
  nothing was: every date of the window is empty (``run_suite``; ``skipped_dates`` holds
  each date's reason), or the stage's table is missing and ``missing_ok`` was passed.
  A skipped result is successful and has nothing evaluated or failed.
* Values from GX, numpy and pandas are made plain JSON (``json_safe``) as they enter a
  result, so a report is always ``json.dumps(..., allow_nan=False)``-able.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
from dataclasses import dataclass, field
from typing import Any

ERROR = "error"
WARN = "warn"
SEVERITIES = (ERROR, WARN)

#: how many offending rows / values a FailedExpectation keeps
SAMPLE_ROWS = 5
PARTIAL_VALUES = 20
#: longest string kept inside a report (raw_text can be long)
MAX_STR = 500


@dataclass
class FailedExpectation:
    expectation: str  # GX type, e.g. "expect_column_values_to_be_unique"
    column: str | None  # the column; multi-column domains are comma-joined (column_of)
    kwargs: dict
    observed: Any
    sample_rows: list[dict]
    severity: str  # "error" | "warn"
    why: str = ""  # the real failure this expectation exists for (from meta)
    #: listing dates of the offending rows GX reported (up to PARTIAL_VALUES rows), sorted
    dates: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return {
            "expectation": self.expectation,
            "column": self.column,
            "kwargs": json_safe(self.kwargs),
            "observed": json_safe(self.observed),
            "sample_rows": json_safe(self.sample_rows),
            "dates": list(self.dates),
            "severity": self.severity,
            "why": self.why,
        }


@dataclass
class SuiteResult:
    suite: str
    success: bool  # True iff no error-severity expectation failed
    evaluated: int
    failed: list[FailedExpectation]
    row_count: int
    seconds: float
    #: the window: "2024-03-01" for one date, "2024-01-02..2024-03-01" for a range,
    #: None for all history (see ``windows.window_label``)
    listing_date: str | None = None
    #: why nothing was validated (None: the suite ran): every date of the window is empty
    #: (for one date exactly ``empty_day_reason``'s text), or the table is missing and
    #: ``missing_ok`` was passed
    skipped: str | None = None
    error: str | None = None  # query-level problem (missing table/column), if any
    #: dates of the window that had nothing to validate -> why (run_suite)
    skipped_dates: dict[str, str] = field(default_factory=dict)
    #: the chunks the window was validated in: window, rows, seconds, failed (one entry
    #: for a one-pass validation)
    chunks: list[dict] = field(default_factory=list)
    #: the chunk whose GE page ``reports.render_html`` renders (None: the page covers all)
    html_chunk: str | None = None
    #: GX's own validation result (what the HTML page is rendered from; None if skipped)
    gx_result: Any = field(default=None, repr=False, compare=False)

    @classmethod
    def nothing_to_validate(
        cls, suite: str, listing_date: str | None, skipped_dates: dict[str, str]
    ) -> SuiteResult:
        """The result of a window whose every date is empty: skipped, with each reason."""
        if len(skipped_dates) == 1:
            reason = next(iter(skipped_dates.values()))
        else:
            reason = f"nothing to validate in {listing_date}: " + "; ".join(skipped_dates.values())
        return cls(
            suite=suite,
            success=True,
            evaluated=0,
            failed=[],
            row_count=0,
            seconds=0.0,
            listing_date=listing_date,
            skipped=reason,
            skipped_dates=dict(skipped_dates),
        )

    @property
    def errors(self) -> list[FailedExpectation]:
        return [f for f in self.failed if f.severity == ERROR]

    @property
    def warnings(self) -> list[FailedExpectation]:
        return [f for f in self.failed if f.severity == WARN]

    def failed_types(self, severity: str | None = None) -> set[str]:
        return {f.expectation for f in self.failed if severity is None or f.severity == severity}

    def to_json(self) -> dict:
        return {
            "suite": self.suite,
            "success": self.success,
            "skipped": self.skipped is not None,
            "error": self.error,
            "listing_date": self.listing_date,
            "skipped_dates": dict(self.skipped_dates),
            "evaluated": self.evaluated,
            "n_failed_error": len(self.errors),
            "n_failed_warn": len(self.warnings),
            "row_count": self.row_count,
            "seconds": round(self.seconds, 4),
            "chunks": [dict(c) for c in self.chunks],
            "html_chunk": self.html_chunk,
            "failed": [f.to_json() for f in self.failed],
        }


def sort_failed(failed: list[FailedExpectation]) -> list[FailedExpectation]:
    """Gates first, then by expectation type and column (the order of every report)."""
    return sorted(failed, key=lambda f: (f.severity != ERROR, f.expectation, f.column or ""))


def column_of(kwargs: dict) -> str | None:
    """The column an expectation's kwargs name; multi-column domains comma-joined."""
    if "column" in kwargs:
        return kwargs["column"]
    if "column_A" in kwargs:
        return f"{kwargs['column_A']},{kwargs['column_B']}"
    if "column_list" in kwargs:
        return ",".join(kwargs["column_list"])
    return None


def json_safe(obj: Any, _depth: int = 0) -> Any:
    """Convert GX / numpy / pandas values into plain JSON types."""
    if _depth > 20:
        return str(obj)
    if obj is None or isinstance(obj, bool):
        return obj
    if isinstance(obj, int):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else (None if math.isnan(obj) else str(obj))
    if isinstance(obj, str):
        return obj if len(obj) <= MAX_STR else obj[:MAX_STR] + "…"
    if isinstance(obj, dict):
        return {str(k): json_safe(v, _depth + 1) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set, frozenset)):
        return [json_safe(v, _depth + 1) for v in obj]
    if isinstance(obj, decimal.Decimal):
        return json_safe(float(obj))
    if isinstance(obj, bytes):
        return obj.hex()
    try:  # pandas missing markers (NA, NaT) and numpy NaN
        import pandas as pd

        if obj is pd.NA or obj is pd.NaT:
            return None
        if isinstance(obj, pd.Timestamp):
            return obj.date().isoformat() if _is_midnight(obj) else obj.isoformat()
        if isinstance(obj, pd.Timedelta):
            return str(obj)
    except ImportError:  # pragma: no cover
        pass
    if isinstance(obj, dt.datetime):
        return obj.isoformat()
    if isinstance(obj, (dt.date, dt.time)):
        return obj.isoformat()
    item = getattr(obj, "item", None)  # numpy scalars (incl. datetime64 -> datetime/int)
    if callable(item):
        try:
            return json_safe(item(), _depth + 1)
        except (TypeError, ValueError):
            pass
    to_json_dict = getattr(obj, "to_json_dict", None)  # GX objects
    if callable(to_json_dict):
        try:
            return json_safe(to_json_dict(), _depth + 1)
        except Exception:
            pass
    if hasattr(obj, "tolist"):
        return json_safe(obj.tolist(), _depth + 1)
    return str(obj)


def _is_midnight(ts: Any) -> bool:
    return (
        ts.hour == 0
        and ts.minute == 0
        and ts.second == 0
        and ts.microsecond == 0
        and ts.nanosecond == 0
    )
