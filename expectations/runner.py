"""Run the Great Expectations suites of ``expectations.*`` against pandas frames.

Design notes (GX Core 1.24.1):

* GX is imported lazily, once per process (``gx()``), because ``import
  great_expectations`` costs ~2.7 s.  ``GX_IMPORT_SECONDS`` records what it cost.
* One *ephemeral* Data Context per process (nothing is written to disk, no
  ``gx/`` folder): pandas data source -> dataframe asset -> whole-dataframe batch
  definition.  Every validation passes its frame as a batch parameter.
  Progress bars (tqdm "Calculating Metrics") are switched off on the context.
* Results use ``result_format=SUMMARY`` (20 partial values + their pandas
  index), from which up to 5 offending rows are picked for the report.
* Every expectation carries ``meta={"severity": "error"|"warn", "why": ...}``.
  ``error`` = gate (data must not be published), ``warn`` = soft signal.
  A suite result is successful iff no *error* expectation failed.
* Windows: every stage's ``query(start, end)`` selects the rows of the listing dates
  ``start..end`` (inclusive; both None = all history).  Whole-table invariants that
  are cheap as one SQL aggregate (e.g. the ``papers`` row count) are computed by DuckDB
  and arrive as columns of a ``summary`` row of the frame.  ``run_suite`` skips the
  window's empty dates (``transforms.warehouse.empty_day_reasons``) and validates the
  others.
* Chunks: a window (all history too) whose rows would exceed ``CHUNK_ROWS`` is split
  into consecutive date chunks (``plan_chunks``, sized by the stage's
  ``count_query`` of rows per date; a date is never split), each validated with the
  suite, and the chunk results are merged into ONE SuiteResult for the window
  (``_WindowMerge``): failed expectations merged per expectation (their dates, counts
  and up to 5 sample rows), rows and seconds summed.  The whole-table rows (``papers``
  summary, orphan keyphrases; with all history also the undated rows) come with the
  first chunk only (``query(..., whole_table=True, undated=...)``), so they are
  computed and reported once.  Expectations on a frame-wide aggregate (row count,
  distinct values) are re-evaluated on the window's totals / union of distinct
  values, not per chunk (``WINDOW_AGGREGATES``).  Frame-wide uniqueness stays per
  chunk: every uniqueness key of the suites contains the date or the paper, whose
  rows always land in one chunk together.  The GE HTML page is the one of the first
  failing chunk (else the first chunk), named by ``html_chunk`` in the JSON.
* Stage tables that do not exist yet: ``validate_stage`` returns a failed
  result (``error`` set, one ``FailedExpectation`` of type ``table_exists``)
  unless ``missing_ok=True`` is passed, in which case the result is
  ``skipped=True, success=True`` with nothing evaluated.  Strict by default so
  that a table vanishing after it was built is never silently green.

No Dagster imports here; the orchestration layer wraps these results.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import decimal
import importlib
import json
import logging
import math
import threading
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from transforms.files import atomic_write, one_line
from transforms.warehouse import empty_day_reasons

if TYPE_CHECKING:  # pragma: no cover
    import duckdb
    import pandas as pd
    from great_expectations.core import ExpectationSuite

log = logging.getLogger(__name__)

STAGES: tuple[str, ...] = ("raw_listings", "papers", "keyphrases", "trends")
ERROR = "error"
WARN = "warn"
SEVERITIES = (ERROR, WARN)

#: how many offending rows / values a FailedExpectation keeps
SAMPLE_ROWS = 5
PARTIAL_VALUES = 20
#: longest string kept inside a report (raw_text can be long)
MAX_STR = 500
#: columns that say which listing date a row belongs to (failures name these dates)
DATE_COLUMNS = ("listing_date", "summary_date", "as_of_date")
#: a window whose frame would exceed this many rows (estimated per date by the stage's
#: ``count_query``) is validated in consecutive date chunks below it (read at call time:
#: tests set it small)
CHUNK_ROWS = 300_000
#: expectations on a frame-wide aggregate: over chunks they are re-evaluated on the
#: window's total (rows) or on the union of the chunks' distinct values of the column
WINDOW_AGGREGATES = (
    "expect_table_row_count_to_be_between",
    "expect_column_unique_value_count_to_be_between",
    "expect_column_distinct_values_to_contain_set",
)
#: SUMMARY, not COMPLETE: on pandas SUMMARY already carries
#: ``partial_unexpected_index_list`` (enough to pick sample rows), while COMPLETE
#: also builds ``unexpected_index_list`` and an ``unexpected_index_query`` string
#: naming *every* failing row (megabytes for a 200k-row frame that fails wholesale).
RESULT_FORMAT = {"result_format": "SUMMARY", "partial_unexpected_count": PARTIAL_VALUES}

_lock = threading.RLock()
_gx_module: Any = None
_engine: _Engine | None = None
#: seconds the first ``import great_expectations`` took in this process (None until then)
GX_IMPORT_SECONDS: float | None = None


# --------------------------------------------------------------------------- GX access
def gx() -> Any:
    """Import ``great_expectations`` (and its expectation classes) once, lazily."""
    global _gx_module, GX_IMPORT_SECONDS
    if _gx_module is None:
        with _lock:
            if _gx_module is None:
                t0 = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    import great_expectations
                    import great_expectations.expectations
                    import great_expectations.expectations.row_conditions
                GX_IMPORT_SECONDS = time.perf_counter() - t0
                log.debug("import great_expectations took %.2fs", GX_IMPORT_SECONDS)
                _gx_module = great_expectations
    return _gx_module


def col(name: str) -> Any:
    """GX row-condition column (``col("n") > 0`` builds a Condition object)."""
    return gx().expectations.row_conditions.Column(name)


def expect(type_name: str, *, severity: str = ERROR, why: str, **kwargs: Any) -> Any:
    """Build one GX expectation by class name, tagged with severity and rationale.

    ``expect("ExpectColumnValuesToBeUnique", column="paper_id", why="...")``
    """
    if severity not in SEVERITIES:
        raise ValueError(f"severity must be one of {SEVERITIES}, got {severity!r}")
    cls = getattr(gx().expectations, type_name)
    meta = dict(kwargs.pop("meta", None) or {})
    meta.update(severity=severity, why=why)
    return cls(meta=meta, **kwargs)


def new_suite(name: str, expectations: list[Any], **meta: Any) -> ExpectationSuite:
    g = gx()
    # GX 1.24: ExpectationSuite.add_expectation() looks up an *active* Data
    # Context (DataContextRequiredError otherwise), so make sure ours exists.
    _get_engine()
    suite = g.ExpectationSuite(name=name, meta=meta or None)
    for e in expectations:
        suite.add_expectation(e)
    return suite


def severity_of(expectation_or_config: Any) -> str:
    meta = getattr(expectation_or_config, "meta", None) or {}
    sev = meta.get("severity", ERROR)
    return sev if sev in SEVERITIES else ERROR


def catalog(suite: ExpectationSuite) -> list[dict]:
    """Describe a suite: one dict per expectation (type, column(s), severity, why, kwargs).

    Meant for the orchestration layer to turn gates into blocking checks and the
    rest into WARN checks, and for documentation.
    """
    out = []
    for e in suite.expectations:
        cfg = e.configuration
        kwargs = {k: v for k, v in cfg.kwargs.items() if k != "batch_id"}
        out.append(
            {
                "expectation": cfg.type,
                "column": _column_of(kwargs),
                "severity": severity_of(cfg),
                "why": (cfg.meta or {}).get("why", ""),
                "kwargs": _json_safe(kwargs),
            }
        )
    return out


class _Engine:
    """The process-wide ephemeral context + reusable batch definition."""

    def __init__(self) -> None:
        g = gx()
        from great_expectations.data_context.types.base import (
            DataContextConfig,
            InMemoryStoreBackendDefaults,
            ProgressBarsConfig,
        )

        t0 = time.perf_counter()
        # In-memory stores, no Data Docs site (the default ephemeral config
        # reserves a temp directory for one), no tqdm progress bars.
        config = DataContextConfig(
            store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
            progress_bars=ProgressBarsConfig(globally=False),
        )
        self.context = g.get_context(mode="ephemeral", project_config=config)
        source = self.context.data_sources.add_pandas("papertrends_frames")
        asset = source.add_dataframe_asset("frame")
        self.batch_definition = asset.add_batch_definition_whole_dataframe("whole_frame")
        self.setup_seconds = time.perf_counter() - t0


def _get_engine() -> _Engine:
    global _engine
    if _engine is None:
        with _lock:
            if _engine is None:
                _engine = _Engine()
    return _engine


# --------------------------------------------------------------------------- results
@dataclass
class FailedExpectation:
    expectation: str  # GX type, e.g. "expect_column_values_to_be_unique"
    column: str | None  # the column; multi-column domains are comma-joined
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
            "kwargs": _json_safe(self.kwargs),
            "observed": _json_safe(self.observed),
            "sample_rows": _json_safe(self.sample_rows),
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
    #: None for all history (see ``window_label``)
    listing_date: str | None = None
    skipped: bool = False  # table missing and missing_ok=True
    error: str | None = None  # query-level problem (missing table/column), if any
    #: dates of the window that had nothing to validate -> why (run_suite)
    skipped_dates: dict[str, str] = field(default_factory=dict)
    #: the chunks the window was validated in: window, rows, seconds, failed (one entry
    #: for a one-pass validation)
    chunks: list[dict] = field(default_factory=list)
    #: the chunk whose GE page ``render_html`` renders (None: the page covers everything)
    html_chunk: str | None = None
    _gx_result: Any = field(default=None, repr=False, compare=False)

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
            "skipped": self.skipped,
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


class Skipped(str):
    """What ``run_suite`` returns when no date of the window has anything to validate.

    It is the reason itself (a ``str``: for one date exactly ``empty_day_reason``'s text,
    so ``isinstance(outcome, str)`` callers keep working), and it carries the window and
    each date's reason like a SuiteResult does (``success`` is True: nothing failed).
    """

    skipped = True
    success = True
    failed: tuple = ()
    errors: tuple = ()
    warnings: tuple = ()
    evaluated = 0
    row_count = 0
    seconds = 0.0
    error = None
    chunks: tuple = ()
    html_chunk = None

    suite: str
    listing_date: str | None
    skipped_dates: dict[str, str]

    def __new__(cls, suite: str, listing_date: str | None, skipped_dates: dict[str, str]):
        if len(skipped_dates) == 1:
            text = next(iter(skipped_dates.values()))
        else:
            text = f"nothing to validate in {listing_date}: " + "; ".join(skipped_dates.values())
        self = super().__new__(cls, text)
        self.suite = suite
        self.listing_date = listing_date
        self.skipped_dates = dict(skipped_dates)
        return self

    def to_json(self) -> dict:
        return {
            "suite": self.suite,
            "success": True,
            "skipped": True,
            "error": None,
            "listing_date": self.listing_date,
            "skipped_dates": dict(self.skipped_dates),
            "evaluated": 0,
            "n_failed_error": 0,
            "n_failed_warn": 0,
            "row_count": 0,
            "seconds": 0.0,
            "chunks": [],
            "html_chunk": None,
            "failed": [],
        }


# --------------------------------------------------------------------------- windows
def as_date(value: dt.date | str | None) -> dt.date | None:
    if value is None or (isinstance(value, dt.date) and not isinstance(value, dt.datetime)):
        return value
    if isinstance(value, dt.datetime):
        return value.date()
    return dt.date.fromisoformat(str(value))


def window(
    start: dt.date | str | None, end: dt.date | str | None = None
) -> tuple[dt.date | None, dt.date | None]:
    """``(start, end)`` as dates, inclusive: ``end`` defaults to ``start``; both None = all
    history. ValueError for an end without a start or an end before the start."""
    start, end = as_date(start), as_date(end)
    if start is None:
        if end is not None:
            raise ValueError("a window with an end needs a start")
        return None, None
    end = end or start
    if end < start:
        raise ValueError(f"window ends ({end}) before it starts ({start})")
    return start, end


def window_label(start: dt.date | str | None, end: dt.date | str | None = None) -> str | None:
    """ "2024-03-01" for one date, "2024-01-02..2024-03-01" for a range, None for all."""
    start, end = window(start, end)
    if start is None:
        return None
    return start.isoformat() if start == end else f"{start.isoformat()}..{end.isoformat()}"


def window_params(start: dt.date | None, end: dt.date | None) -> dict[str, dt.date]:
    """The named parameters ``$start`` / ``$end`` of a windowed query (none for all)."""
    return {} if start is None else {"start": start, "end": end}


def in_window(column: str, *, undated: bool = False) -> str:
    """SQL predicate ``column BETWEEN $start AND $end``; ``undated``: rows whose
    ``column`` is NULL as well (the first chunk of all history carries them)."""
    between = f"{column} BETWEEN $start AND $end"
    return f"({between} OR {column} IS NULL)" if undated else between


def days_of(start: dt.date, end: dt.date) -> list[dt.date]:
    return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]


def plan_chunks(
    counts: dict[dt.date | None, int], start: dt.date, end: dt.date, budget: int
) -> list[tuple[dt.date, dt.date]]:
    """Consecutive sub-windows covering ``start..end`` whose estimated rows stay within
    ``budget``.  ``counts``: rows per date (the key None: rows that travel with the first
    chunk, e.g. whole-table rows).  A date is never split: a date above the budget is a
    chunk of its own; every chunk has a date with rows (unless the window has none)."""
    bounds = [start]
    rows, dated = counts.get(None, 0), 0
    for day in sorted(d for d in counts if d is not None and start <= d <= end):
        n = counts[day]
        if n <= 0:
            continue
        if dated and rows + n > budget:
            bounds.append(day)
            rows = dated = 0
        rows += n
        dated += n
    ends = [b - dt.timedelta(days=1) for b in bounds[1:]] + [end]
    return list(zip(bounds, ends, strict=True))


# --------------------------------------------------------------------------- json safety
def _json_safe(obj: Any, _depth: int = 0) -> Any:
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
        return {str(k): _json_safe(v, _depth + 1) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set, frozenset)):
        return [_json_safe(v, _depth + 1) for v in obj]
    if isinstance(obj, decimal.Decimal):
        return _json_safe(float(obj))
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
            return _json_safe(item(), _depth + 1)
        except (TypeError, ValueError):
            pass
    to_json_dict = getattr(obj, "to_json_dict", None)  # GX objects
    if callable(to_json_dict):
        try:
            return _json_safe(to_json_dict(), _depth + 1)
        except Exception:
            pass
    if hasattr(obj, "tolist"):
        return _json_safe(obj.tolist(), _depth + 1)
    return str(obj)


def _is_midnight(ts: Any) -> bool:
    return (
        ts.hour == 0
        and ts.minute == 0
        and ts.second == 0
        and ts.microsecond == 0
        and ts.nanosecond == 0
    )


def _column_of(kwargs: dict) -> str | None:
    if "column" in kwargs:
        return kwargs["column"]
    if "column_A" in kwargs:
        return f"{kwargs['column_A']},{kwargs['column_B']}"
    if "column_list" in kwargs:
        return ",".join(kwargs["column_list"])
    return None


# --------------------------------------------------------------------------- validation
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
                value = _json_safe(value)
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
    return _json_safe(rows)


def validate_frame(
    suite: ExpectationSuite, df: pd.DataFrame, *, listing_date: Any = None
) -> SuiteResult:
    """Validate a pandas frame with a suite; return a JSON-friendly SuiteResult."""
    engine = _get_engine()
    frame = _prepare_frame(df)
    with _lock:  # one validation at a time: GX context + warnings filter are process-global
        t0 = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            batch = engine.batch_definition.get_batch(batch_parameters={"dataframe": frame})
            gx_result = batch.validate(suite, result_format=RESULT_FORMAT)
        seconds = time.perf_counter() - t0
    for w in {str(w.message) for w in caught}:
        log.debug("GX warning during %s: %s", suite.name, w)

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
                column=_column_of(kwargs),
                kwargs=_json_safe(kwargs),
                observed=_json_safe(_observed(res)),
                sample_rows=_sample_rows(positions, frame),
                severity=severity_of(cfg),
                why=(cfg.meta or {}).get("why", ""),
                dates=_dates_of(positions, frame),
            )
        )
    failed.sort(key=lambda f: (f.severity != ERROR, f.expectation, f.column or ""))
    return SuiteResult(
        suite=suite.name,
        success=not any(f.severity == ERROR for f in failed),
        evaluated=len(gx_result.results),
        failed=failed,
        row_count=len(frame),
        seconds=seconds,
        listing_date=_json_safe(listing_date),
        _gx_result=gx_result,
    )


def stage_module(stage: str) -> Any:
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}; expected one of {STAGES}")
    return importlib.import_module(f"expectations.{stage}")


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
    stage: str, listing_date: Any, message: str, expectation: str, *, skipped: bool, seconds: float
) -> SuiteResult:
    failed = (
        []
        if skipped
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
        success=skipped,
        evaluated=0,
        failed=failed,
        row_count=0,
        seconds=seconds,
        listing_date=_json_safe(listing_date),
        skipped=skipped,
        error=message,
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
    ``CHUNK_ROWS``), in consecutive date chunks merged into one result.

    ``params`` go to the module's ``build_suite``.  Missing tables give a failed
    result with a clear ``error`` (or ``skipped=True`` if ``missing_ok``); a query
    that fails for another DuckDB reason (e.g. a renamed column) gives a failed
    result of type ``query_succeeds``.
    """
    t0 = time.perf_counter()
    start, end = window(start, end)
    label = window_label(start, end)
    module = stage_module(stage)
    required = tuple(getattr(module, "REQUIRED_TABLES", ()))
    existing = _existing_tables(con)
    missing = [t for t in required if t.lower() not in existing]
    if missing:
        msg = f"stage {stage!r}: missing table(s) {', '.join(missing)}"
        return _problem_result(
            stage,
            label,
            msg,
            "table_exists",
            skipped=missing_ok,
            seconds=time.perf_counter() - t0,
        )

    suite = module.build_suite(**params)
    budget = CHUNK_ROWS if chunk_rows is None else chunk_rows
    chunks = _chunks(con, module, start, end, budget)
    if chunks is None:  # one pass
        df = _fetch(con, stage, module.query(start, end), label, missing_ok, t0)
        if isinstance(df, SuiteResult):
            return df
        result = validate_frame(suite, df, listing_date=label)
        result.chunks = [_chunk_entry(label, result)]
        return result

    merge = _WindowMerge(suite, label)
    for n, (lo, hi) in enumerate(chunks):
        first = n == 0
        sql = module.query(lo, hi, whole_table=first, undated=first and start is None)
        df = _fetch(con, stage, sql, window_label(lo, hi), missing_ok, t0)
        if isinstance(df, SuiteResult):
            df.listing_date = label
            return df
        merge.add(window_label(lo, hi), df, validate_frame(suite, df, listing_date=label))
        del df  # one chunk's frame in memory at a time
    return merge.result()


def _chunks(
    con: duckdb.DuckDBPyConnection,
    module: Any,
    start: dt.date | None,
    end: dt.date | None,
    budget: int,
) -> list[tuple[dt.date, dt.date]] | None:
    """The window's date chunks, or None for one pass: a single date, rows within the
    budget (estimated by the module's ``count_query``), or a count query that fails (the
    frame's query then fails the same way and reports it)."""
    import duckdb

    if start is not None and start == end:
        return None
    sql, params = module.count_query(start, end)
    try:
        rows = con.execute(sql, params).fetchall()
    except duckdb.Error as exc:
        log.debug("count query of %s failed (%s): one pass", module.NAME, exc)
        return None
    counts: dict[dt.date | None, int] = {}
    for day, n in rows:
        key = None if day is None else as_date(day)
        counts[key] = counts.get(key, 0) + int(n or 0)
    if sum(counts.values()) <= budget:
        return None
    if start is None:  # all history: the span of the stage's dates (undated rows: chunk 1)
        dated = [d for d in counts if d is not None]
        if not dated:
            return None
        start, end = min(dated), max(dated)
    chunks = plan_chunks(counts, start, end, budget)
    return chunks if len(chunks) > 1 else None


def _fetch(
    con: duckdb.DuckDBPyConnection,
    stage: str,
    query: tuple[str, dict],
    label: str | None,
    missing_ok: bool,
    t0: float,
) -> pd.DataFrame | SuiteResult:
    """The frame of one query, or the failed (or skipped) result saying why not."""
    import duckdb

    sql, sql_params = query
    try:
        return con.execute(sql, sql_params).df()
    except duckdb.CatalogException as exc:
        msg = f"stage {stage!r}: {one_line(exc, first=True) or type(exc).__name__}"
        return _problem_result(
            stage,
            label,
            msg,
            "table_exists",
            skipped=missing_ok,
            seconds=time.perf_counter() - t0,
        )
    except duckdb.Error as exc:
        msg = f"stage {stage!r}: query failed: {type(exc).__name__}: {one_line(exc, first=True)}"
        return _problem_result(
            stage,
            label,
            msg,
            "query_succeeds",
            skipped=False,
            seconds=time.perf_counter() - t0,
        )


def _chunk_entry(label: str | None, result: SuiteResult) -> dict:
    return {
        "window": label,
        "rows": result.row_count,
        "seconds": round(result.seconds, 4),
        "failed": len(result.failed),
    }


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


class _WindowMerge:
    """Chunk results of one window merged into one SuiteResult.

    Failures are merged per expectation (type, column, severity, kwargs): their dates
    joined, counts summed, sample rows of the first chunks kept (up to SAMPLE_ROWS, each
    with ``_chunk``: the chunk's window, as ``_row`` is a position in that chunk's frame).
    Expectations in ``WINDOW_AGGREGATES`` (without a row condition) are judged on the
    window: the summed rows, or the union of the chunks' distinct values.
    """

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
        self.chunks.append(_chunk_entry(chunk, part))
        for name, seen in self.values.items():
            if name in df.columns:
                seen.update(v for v in df[name].dropna().unique().tolist())
        if self.gx_result is None or (part.failed and not self.html_failed):
            self.gx_result, self.html_chunk = part._gx_result, chunk
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
            column=_column_of(kwargs),
            kwargs=_json_safe(kwargs),
            observed=_json_safe({**observed, "over": f"{len(self.chunks)} chunks"}),
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
        failed.sort(key=lambda f: (f.severity != ERROR, f.expectation, f.column or ""))
        return SuiteResult(
            suite=self.suite.name,
            success=not any(f.severity == ERROR for f in failed),
            evaluated=len(self.suite.expectations),
            failed=failed,
            row_count=self.rows,
            seconds=self.seconds,
            listing_date=_json_safe(self.label),
            chunks=self.chunks,
            html_chunk=self.html_chunk,
            _gx_result=self.gx_result,
        )


def _row_content(row: dict) -> str:
    return json.dumps(
        {k: v for k, v in row.items() if k not in ("_row", "_chunk")}, sort_keys=True, default=str
    )


# --------------------------------------------------------------------------- reports
def report_stem(result: SuiteResult) -> str:
    date_part = result.listing_date or "all"
    return f"{result.suite}__{date_part}"


def render_html(result: SuiteResult) -> str | None:
    """GX Data Docs page for the validation, rendered in memory (no site, no store).

    The page references Bootstrap/jQuery from public CDNs: offline it opens
    unstyled but complete.  None when there is no GX result (skipped/missing).
    """
    if result._gx_result is None:
        return None
    gx()
    from great_expectations.render.renderer import ValidationResultsPageRenderer
    from great_expectations.render.view import DefaultJinjaPageView

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        document = ValidationResultsPageRenderer().render(result._gx_result)
        return DefaultJinjaPageView().render(document)


def save_report(result: SuiteResult, directory: Path, *, html: bool = True) -> Path:
    """Write ``<suite>__<date>.json`` atomically (tmp + os.replace); return its path.

    With ``html=True`` (default) also write the GX Data Docs page next to it as
    ``<suite>__<date>.html`` (best effort: a rendering error is logged, not raised).
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    stem = report_stem(result)
    path = directory / f"{stem}.json"
    payload = result.to_json()
    atomic_write(path, json.dumps(payload, indent=2, sort_keys=False, allow_nan=False) + "\n")
    if html:
        try:
            page = render_html(result)
        except Exception as exc:
            log.warning("GX Data Docs rendering failed for %s: %s", stem, exc)
            page = None
        if page is not None:
            atomic_write(directory / f"{stem}.html", page)
    return path


# --------------------------------------------------------------------------- a window
def run_suite(
    con: duckdb.DuckDBPyConnection,
    stage: str,
    start: dt.date | str | None,
    end: dt.date | str | None = None,
    *,
    chunk_rows: int | None = None,
    **params: Any,
) -> SuiteResult | Skipped:
    """Validate one stage over the listing dates ``start..end`` (``end`` defaults to
    ``start``; ``start=None``: all history, nothing skipped) as one result: in one pass,
    or in date chunks of at most ``chunk_rows`` (default ``CHUNK_ROWS``) estimated rows.

    The window's empty dates (no listing landed, none published, no paper cards) are
    skipped: listed in ``skipped_dates`` with their reasons.  When every date is empty
    the outcome is a :class:`Skipped` (a ``str``, the reason) instead of a SuiteResult.
    """
    start, end = window(start, end)
    if start is None:
        return validate_stage(con, stage, None, chunk_rows=chunk_rows, **params)
    reasons = {d.isoformat(): why for d, why in empty_day_reasons(con, start, end).items()}
    label = window_label(start, end)
    if len(reasons) == (end - start).days + 1:
        return Skipped(stage, label, reasons)
    result = validate_stage(con, stage, start, end, chunk_rows=chunk_rows, **params)
    result.skipped_dates = reasons
    return result
