"""Validate a pandas frame with a suite, or a stage's window of the warehouse.

* Results use ``result_format=SUMMARY`` (20 partial values + their pandas index), from
  which up to 5 offending rows are picked for the report, with the listing dates of the
  offending rows (``DATE_COLUMNS``).
* A window is validated in one pass, or, when its frame would exceed the row budget, in
  the date chunks ``windows.window_chunks`` plans, one chunk's frame in memory at a time,
  merged into one result (``merge.WindowMerge``).
* Stage tables that do not exist yet: ``validate_stage`` returns a failed result
  (``error`` set, one ``FailedExpectation`` of type ``table_exists``) unless
  ``missing_ok=True`` is passed, in which case the result is skipped (``skipped`` says
  why), successful, with nothing evaluated. Strict by default so that a table vanishing
  after it was built is never silently green. A query that fails for another DuckDB
  reason (e.g. a renamed column) gives a failed result of type ``query_succeeds``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from typing import TYPE_CHECKING, Any

from expectations.gx import LOCK, engine
from expectations.merge import WindowMerge, chunk_entry
from expectations.registry import stage_suite
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
from expectations.windows import window, window_chunks, window_label
from transforms.files import one_line

if TYPE_CHECKING:  # pragma: no cover
    import duckdb
    import pandas as pd
    from great_expectations.core import ExpectationSuite

#: columns that say which listing date a row belongs to (failures name these dates)
DATE_COLUMNS = ("listing_date", "summary_date", "as_of_date")
#: SUMMARY, not COMPLETE: on pandas SUMMARY already carries
#: ``partial_unexpected_index_list`` (enough to pick sample rows), while COMPLETE
#: also builds ``unexpected_index_list`` and an ``unexpected_index_query`` string
#: naming *every* failing row (megabytes for a 200k-row frame that fails wholesale).
RESULT_FORMAT = {"result_format": "SUMMARY", "partial_unexpected_count": PARTIAL_VALUES}


def validate_frame(
    suite: ExpectationSuite, df: pd.DataFrame, *, listing_date: Any = None
) -> SuiteResult:
    """Validate a pandas frame with a suite; return a JSON-friendly SuiteResult."""
    batch_definition = engine().batch_definition
    frame = _prepare_frame(df)
    with LOCK:  # one validation at a time: the GX context is process-global
        t0 = time.perf_counter()
        batch = batch_definition.get_batch(batch_parameters={"dataframe": frame})
        gx_result = batch.validate(suite, result_format=RESULT_FORMAT)
        seconds = time.perf_counter() - t0

    failed: list[FailedExpectation] = []
    for res in gx_result.results:
        if res.success:
            continue
        cfg = res.expectation_config
        kwargs = {k: v for k, v in cfg.kwargs.items() if k != "batch_id"}
        positions = _unexpected_positions(res, frame)
        failed.append(
            FailedExpectation(
                expectation=cfg.type,
                column=column_of(kwargs),
                kwargs=json_safe(kwargs),
                observed=json_safe(_observed(res)),
                sample_rows=_sample_rows(positions, frame),
                severity=severity_of(cfg),
                why=(cfg.meta or {}).get("why", ""),
                dates=_dates_of(positions, frame),
            )
        )
    failed = sort_failed(failed)
    return SuiteResult(
        suite=suite.name,
        success=not any(f.severity == ERROR for f in failed),
        evaluated=len(gx_result.results),
        failed=failed,
        row_count=len(frame),
        seconds=seconds,
        listing_date=json_safe(listing_date),
        gx_result=gx_result,
    )


def validate_stage(
    con: duckdb.DuckDBPyConnection,
    stage: str,
    start: dt.date | str | None = None,
    end: dt.date | str | None = None,
    *,
    missing_ok: bool = False,
    chunk_rows: int | None = None,
    **params: Any,
) -> SuiteResult:
    """Query the stage's frame for the window ``start..end`` (inclusive; ``end`` defaults
    to ``start``, both None = all history) from DuckDB and validate it with the stage's
    suite: in one pass, or, when the window's rows would exceed ``chunk_rows`` (default
    ``windows.CHUNK_ROWS``), in consecutive date chunks merged into one result.

    ``params`` go to the stage's ``build``.  Missing tables give a failed result with a
    clear ``error`` (or a skipped one if ``missing_ok``); a query that fails for another
    DuckDB reason gives a failed result of type ``query_succeeds``.
    """
    t0 = time.perf_counter()
    start, end = window(start, end)
    label = window_label(start, end)
    spec = stage_suite(stage)
    existing = _existing_tables(con)
    missing = [t for t in spec.tables if t.lower() not in existing]
    if missing:
        msg = f"stage {stage!r}: missing table(s) {', '.join(missing)}"
        return _problem_result(stage, label, msg, "table_exists", missing_ok, t0)

    suite = spec.build(**params)
    chunks = window_chunks(con, spec, start, end, chunk_rows)
    try:
        if chunks is None:  # one pass
            df = _fetch(con, stage, spec.query(start, end), label, missing_ok, t0)
            result = validate_frame(suite, df, listing_date=label)
            result.chunks = [chunk_entry(label, result)]
            return result
        merge = WindowMerge(suite, label)
        for n, (lo, hi) in enumerate(chunks):
            first = n == 0
            sql = spec.query(lo, hi, whole_table=first, undated=first and start is None)
            df = _fetch(con, stage, sql, label, missing_ok, t0)
            merge.add(window_label(lo, hi), df, validate_frame(suite, df, listing_date=label))
            del df  # one chunk's frame in memory at a time
        return merge.result()
    except _QueryProblem as problem:
        return problem.result


class _QueryProblem(Exception):
    """A frame's query failed: ``result`` says why (failed, or skipped if missing_ok)."""

    def __init__(self, result: SuiteResult) -> None:
        super().__init__(result.error)
        self.result = result


def _fetch(
    con: duckdb.DuckDBPyConnection,
    stage: str,
    query: tuple[str, dict],
    label: str | None,
    missing_ok: bool,
    t0: float,
) -> pd.DataFrame:
    """The frame of one query; ``_QueryProblem`` with the result saying why not."""
    import duckdb

    sql, sql_params = query
    try:
        return con.execute(sql, sql_params).df()
    except duckdb.CatalogException as exc:
        msg = f"stage {stage!r}: {one_line(exc, first=True) or type(exc).__name__}"
        raise _QueryProblem(
            _problem_result(stage, label, msg, "table_exists", missing_ok, t0)
        ) from exc
    except duckdb.Error as exc:
        msg = f"stage {stage!r}: query failed: {type(exc).__name__}: {one_line(exc, first=True)}"
        raise _QueryProblem(
            _problem_result(stage, label, msg, "query_succeeds", False, t0)
        ) from exc


def _existing_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute(
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_catalog = current_database()"
    ).fetchall()
    names = set()
    for schema, name in rows:
        names.add(f"{schema}.{name}".lower())
        if schema == "main":
            names.add(name.lower())
    return names


def _problem_result(
    stage: str, label: str | None, message: str, expectation: str, skip: bool, t0: float
) -> SuiteResult:
    """The stage could not be queried: a failed result of type ``expectation``, or (with
    ``skip``: a missing table and ``missing_ok``) a skipped one."""
    failed = (
        []
        if skip
        else [
            FailedExpectation(
                expectation=expectation,
                column=None,
                kwargs={},
                observed={"error": message},
                sample_rows=[],
                severity=ERROR,
                why="the stage's table must exist and be queryable before its data can be trusted",
            )
        ]
    )
    return SuiteResult(
        suite=stage,
        success=skip,
        evaluated=0,
        failed=failed,
        row_count=0,
        seconds=time.perf_counter() - t0,
        listing_date=label,
        skipped=message if skip else None,
        error=message,
    )


# --------------------------------------------------------------------------- GX's result
def _prepare_frame(df: pd.DataFrame) -> pd.DataFrame:
    """RangeIndex (so GX's unexpected_index_list are row positions) and
    datetime.date object columns -> datetime64 (GX's between() cannot compare a
    pandas Timestamp with a date, and DuckDB DATE already arrives as datetime64)."""
    import pandas as pd

    out = df.reset_index(drop=True)
    for name in out.columns:
        s = out[name]
        if s.dtype == object:
            non_null = s.dropna()
            if len(non_null) and all(
                isinstance(v, dt.date) and not isinstance(v, dt.datetime)
                for v in non_null.iloc[:50]
            ):
                with contextlib.suppress(TypeError, ValueError):
                    out[name] = pd.to_datetime(s)
    return out


def _observed(res: Any) -> Any:
    exc = _exception_message(res)
    result = dict(res.result or {})
    if exc is not None:
        return {"exception": exc}
    if "observed_value" in result:
        return {
            "observed_value": result["observed_value"],
            **({"details": result["details"]} if "details" in result else {}),
        }
    keys = ("element_count", "unexpected_count", "unexpected_percent", "missing_count")
    obs = {k: result[k] for k in keys if k in result}
    if "partial_unexpected_list" in result:
        obs["partial_unexpected_list"] = list(result["partial_unexpected_list"])[:PARTIAL_VALUES]
    return obs or result


def _exception_message(res: Any) -> str | None:
    info = res.exception_info or {}
    if info.get("raised_exception"):
        return info.get("exception_message") or "exception"
    # GX 1.x nests per-metric exception infos keyed by metric id
    for v in info.values():
        if isinstance(v, dict) and v.get("raised_exception"):
            return v.get("exception_message") or "exception"
    return None


def _unexpected_positions(res: Any, df: pd.DataFrame) -> list[int]:
    """Row positions of the offending rows GX reported (up to PARTIAL_VALUES)."""
    result = res.result or {}
    idx = result.get("partial_unexpected_index_list") or result.get("unexpected_index_list") or []
    positions: list[int] = []
    for i in idx:
        if isinstance(i, dict):  # when unexpected_index_column_names are configured
            continue
        try:
            i = int(i)
        except (TypeError, ValueError):
            continue
        if 0 <= i < len(df) and i not in positions:
            positions.append(i)
    return positions


def _dates_of(positions: list[int], df: pd.DataFrame) -> list[str]:
    """The listing dates (DATE_COLUMNS) of the offending rows, sorted, as ISO strings."""
    found: set[str] = set()
    for name in DATE_COLUMNS:
        if name in df.columns and positions:
            for value in df[name].iloc[positions]:
                value = json_safe(value)
                if isinstance(value, str):
                    found.add(value[:10])
    return sorted(found)


def _sample_rows(positions: list[int], df: pd.DataFrame) -> list[dict]:
    positions = positions[:SAMPLE_ROWS]
    if not positions:
        return []
    rows = df.iloc[positions].to_dict(orient="records")
    for pos, row in zip(positions, rows, strict=True):
        row["_row"] = pos
    return json_safe(rows)
