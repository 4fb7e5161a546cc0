"""``run_suite``: one stage validated over a window of listing dates, as one result.

The window's empty dates (no listing landed, none published, no paper cards:
``transforms.warehouse.empty_day_reasons``) are skipped and the others validated
(``validate.validate_stage``: in one pass, or in row-bounded date chunks merged into one
result). No Dagster imports here; the orchestration layer wraps the results.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from expectations.results import SuiteResult
from expectations.validate import validate_stage
from expectations.windows import window, window_label
from transforms.warehouse import empty_day_reasons

if TYPE_CHECKING:  # pragma: no cover
    import duckdb


def run_suite(
    con: duckdb.DuckDBPyConnection,
    stage: str,
    start: dt.date | str | None,
    end: dt.date | str | None = None,
    *,
    chunk_rows: int | None = None,
    **params: Any,
) -> SuiteResult:
    """Validate one stage over the listing dates ``start..end`` (``end`` defaults to
    ``start``; ``start=None``: all history, nothing skipped) as one result: in one pass,
    or in date chunks of at most ``chunk_rows`` (default ``windows.CHUNK_ROWS``)
    estimated rows.

    The window's empty dates are listed in ``skipped_dates`` with their reasons. When
    every date is empty nothing is validated: the result's ``skipped`` is the reason (for
    one date, exactly ``empty_day_reason``'s text).
    """
    start, end = window(start, end)
    if start is None or end is None:
        return validate_stage(con, stage, None, chunk_rows=chunk_rows, **params)
    reasons = {d.isoformat(): why for d, why in empty_day_reasons(con, start, end).items()}
    label = window_label(start, end)
    if len(reasons) == (end - start).days + 1:
        return SuiteResult.nothing_to_validate(stage, label, reasons)
    result = validate_stage(con, stage, start, end, chunk_rows=chunk_rows, **params)
    result.skipped_dates = reasons
    return result
