"""The chunk results of one window merged into ONE ``SuiteResult`` for the window.

* Failed expectations are merged per expectation (type, column, severity, kwargs): their
  dates joined, counts summed, up to ``SAMPLE_ROWS`` sample rows of the first chunks kept
  (each with ``_chunk``: the chunk's window, as ``_row`` is a position in that chunk's
  frame); rows and seconds summed.
* Expectations on a frame-wide aggregate (row count, distinct values) are re-evaluated on
  the window's totals / union of distinct values, not per chunk (``WINDOW_AGGREGATES``).
  Frame-wide uniqueness stays per chunk: every uniqueness key of the suites contains the
  date or the paper, whose rows always land in one chunk together.
* The GE HTML page is the one of the first failing chunk (else the first chunk), named by
  ``html_chunk`` in the JSON.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from expectations.results import (
    ERROR,
    PARTIAL_VALUES,
    SAMPLE_ROWS,
    FailedExpectation,
    SuiteResult,
    column_of,
    json_safe,
    sort_failed,
)
from expectations.suite import severity_of

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from great_expectations.core import ExpectationSuite

#: expectations on a frame-wide aggregate: over chunks they are re-evaluated on the
#: window's total (rows) or on the union of the chunks' distinct values of the column
WINDOW_AGGREGATES = (
    "expect_table_row_count_to_be_between",
    "expect_column_unique_value_count_to_be_between",
    "expect_column_distinct_values_to_contain_set",
)


def chunk_entry(label: str | None, result: SuiteResult) -> dict:
    """One entry of ``SuiteResult.chunks``."""
    return {
        "window": label,
        "rows": result.row_count,
        "seconds": round(result.seconds, 4),
        "failed": len(result.failed),
    }


class WindowMerge:
    """Chunk results of one window merged into one SuiteResult (see the module's notes)."""

    def __init__(self, suite: ExpectationSuite, label: str | None) -> None:
        self.suite = suite
        self.label = label
        self.failed: dict[tuple, FailedExpectation] = {}
        self.rows = 0
        self.seconds = 0.0
        self.chunks: list[dict] = []
        self.gx_result: Any = None
        self.html_chunk: str | None = None
        self.html_failed = False
        self.aggregates: list[tuple[Any, dict]] = []
        self.values: dict[str, set] = {}
        for e in suite.expectations:
            cfg = e.configuration
            kwargs = {k: v for k, v in cfg.kwargs.items() if k != "batch_id"}
            if cfg.type in WINDOW_AGGREGATES and not kwargs.get("row_condition"):
                self.aggregates.append((cfg, kwargs))
                if "column" in kwargs:
                    self.values.setdefault(kwargs["column"], set())

    def add(self, chunk: str | None, df: pd.DataFrame, part: SuiteResult) -> None:
        self.rows += part.row_count
        self.seconds += part.seconds
        self.chunks.append(chunk_entry(chunk, part))
        for name, seen in self.values.items():
            if name in df.columns:
                seen.update(v for v in df[name].dropna().unique().tolist())
        if self.gx_result is None or (part.failed and not self.html_failed):
            self.gx_result, self.html_chunk = part.gx_result, chunk
            self.html_failed = bool(part.failed)
        aggregate_types = {cfg.type for cfg, _ in self.aggregates}
        for f in part.failed:
            if f.expectation in aggregate_types and not f.kwargs.get("row_condition"):
                continue  # judged on the whole window in result()
            rows = [{**r, "_chunk": chunk} for r in f.sample_rows]
            key = _merge_key(f)
            have = self.failed.get(key)
            if have is None:
                f.sample_rows = rows[:SAMPLE_ROWS]
                self.failed[key] = f
                continue
            have.dates = sorted(set(have.dates) | set(f.dates))
            have.observed = _merge_observed(have.observed, f.observed)
            known = {_row_content(r) for r in have.sample_rows}
            for r in rows:
                if len(have.sample_rows) >= SAMPLE_ROWS:
                    break
                if _row_content(r) not in known:
                    have.sample_rows.append(r)
                    known.add(_row_content(r))

    def _aggregate_failure(self, cfg: Any, kwargs: dict) -> FailedExpectation | None:
        if cfg.type == "expect_table_row_count_to_be_between":
            if _bounds_met(self.rows, kwargs):
                return None
            observed: dict = {"observed_value": self.rows}
        elif cfg.type == "expect_column_unique_value_count_to_be_between":
            values = self.values.get(kwargs["column"], set())
            if _bounds_met(len(values), kwargs):
                return None
            observed = {
                "observed_value": len(values),
                "details": {"values": sorted(map(str, values))[:PARTIAL_VALUES]},
            }
        else:  # expect_column_distinct_values_to_contain_set
            values = self.values.get(kwargs["column"], set())
            absent = [v for v in kwargs.get("value_set") or [] if v not in values]
            if not absent:
                return None
            observed = {
                "observed_value": sorted(map(str, values))[:PARTIAL_VALUES],
                "details": {"missing": absent},
            }
        return FailedExpectation(
            expectation=cfg.type,
            column=column_of(kwargs),
            kwargs=json_safe(kwargs),
            observed=json_safe({**observed, "over": f"{len(self.chunks)} chunks"}),
            sample_rows=[],
            severity=severity_of(cfg),
            why=(cfg.meta or {}).get("why", ""),
        )

    def result(self) -> SuiteResult:
        failed = list(self.failed.values())
        for cfg, kwargs in self.aggregates:
            hit = self._aggregate_failure(cfg, kwargs)
            if hit is not None:
                failed.append(hit)
        failed = sort_failed(failed)
        return SuiteResult(
            suite=self.suite.name,
            success=not any(f.severity == ERROR for f in failed),
            evaluated=len(self.suite.expectations),
            failed=failed,
            row_count=self.rows,
            seconds=self.seconds,
            listing_date=json_safe(self.label),
            chunks=self.chunks,
            html_chunk=self.html_chunk,
            gx_result=self.gx_result,
        )


def _merge_key(f: FailedExpectation) -> tuple:
    return (
        f.expectation,
        f.column,
        f.severity,
        json.dumps(f.kwargs, sort_keys=True, default=str),
    )


def _merge_observed(a: Any, b: Any) -> Any:
    """Counts of two chunks' observations summed (the unexpected share recomputed), their
    partial value lists joined; other observations: the first chunk's."""
    counts = ("element_count", "unexpected_count", "missing_count")
    if not (isinstance(a, dict) and isinstance(b, dict) and "unexpected_count" in a):
        return a
    out = dict(a)
    for k in counts:
        if isinstance(a.get(k), int) and isinstance(b.get(k), int):
            out[k] = a[k] + b[k]
    if "unexpected_percent" in out:
        base = out.get("element_count", 0) - out.get("missing_count", 0)
        out["unexpected_percent"] = 100 * out["unexpected_count"] / base if base > 0 else None
    if "partial_unexpected_list" in a or "partial_unexpected_list" in b:
        joined = list(a.get("partial_unexpected_list") or [])
        joined += list(b.get("partial_unexpected_list") or [])
        out["partial_unexpected_list"] = joined[:PARTIAL_VALUES]
    return out


def _bounds_met(value: float, kwargs: dict) -> bool:
    lo, hi = kwargs.get("min_value"), kwargs.get("max_value")
    if lo is not None and (value <= lo if kwargs.get("strict_min") else value < lo):
        return False
    return not (hi is not None and (value >= hi if kwargs.get("strict_max") else value > hi))


def _row_content(row: dict) -> str:
    return json.dumps(
        {k: v for k, v in row.items() if k not in ("_row", "_chunk")}, sort_keys=True, default=str
    )
