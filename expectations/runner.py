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
  ``start..end`` (inclusive; both None = all history), so a backfill validates its
  range in one pass per suite.  Whole-table invariants that are cheap as one SQL
  aggregate (e.g. ``papers`` id uniqueness) are computed by DuckDB and arrive as
  columns of a ``summary`` row of the frame.  ``run_suite`` skips the window's empty
  dates (``transforms.warehouse.empty_day_reasons``) and validates the others.
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

from transforms.files import atomic_write
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
    **params: Any,
) -> SuiteResult:
    """Query the stage's frame for the window ``start..end`` (inclusive; ``end`` defaults
    to ``start``, both None = all history) from DuckDB and validate it with the stage's
    suite, in one pass.

    ``params`` go to the module's ``build_suite``.  Missing tables give a failed
    result with a clear ``error`` (or ``skipped=True`` if ``missing_ok``); a query
    that fails for another DuckDB reason (e.g. a renamed column) gives a failed
    result of type ``query_succeeds``.
    """
    import duckdb

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
    sql, sql_params = module.query(start, end)
    try:
        df = con.execute(sql, sql_params).df()
    except duckdb.CatalogException as exc:
        msg = f"stage {stage!r}: {str(exc).splitlines()[0]}"
        return _problem_result(
            stage,
            label,
            msg,
            "table_exists",
            skipped=missing_ok,
            seconds=time.perf_counter() - t0,
        )
    except duckdb.Error as exc:
        msg = f"stage {stage!r}: query failed: {type(exc).__name__}: {str(exc).splitlines()[0]}"
        return _problem_result(
            stage,
            label,
            msg,
            "query_succeeds",
            skipped=False,
            seconds=time.perf_counter() - t0,
        )
    return validate_frame(suite, df, listing_date=label)


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
    **params: Any,
) -> SuiteResult | Skipped:
    """Validate one stage over the listing dates ``start..end`` (``end`` defaults to
    ``start``; ``start=None``: all history, nothing skipped) in one pass.

    The window's empty dates (no listing landed, none published, no paper cards) are
    skipped: listed in ``skipped_dates`` with their reasons.  When every date is empty
    the outcome is a :class:`Skipped` (a ``str``, the reason) instead of a SuiteResult.
    """
    start, end = window(start, end)
    if start is None:
        return validate_stage(con, stage, None, **params)
    reasons = {d.isoformat(): why for d, why in empty_day_reasons(con, start, end).items()}
    label = window_label(start, end)
    if len(reasons) == (end - start).days + 1:
        return Skipped(stage, label, reasons)
    result = validate_stage(con, stage, start, end, **params)
    result.skipped_dates = reasons
    return result
