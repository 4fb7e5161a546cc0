"""Windows of listing dates, the SQL that selects them, and their chunks.

* Windows: every stage's ``query(start, end)`` selects the rows of the listing dates
  ``start..end`` (inclusive; both None = all history). Whole-table invariants that are
  cheap as one SQL aggregate (e.g. the ``papers`` row count) are computed by DuckDB and
  arrive as columns of a ``summary`` row of the frame.
* Chunks: a window (all history too) whose rows would exceed ``CHUNK_ROWS`` is split into
  consecutive date chunks (``plan_chunks``, sized by the stage's ``count_query`` of rows
  per date; a date is never split). The whole-table rows (``papers`` summary, orphan
  keyphrases; with all history also the undated rows) come with the first chunk only
  (``query(..., whole_table=True, undated=...)``), so they are computed and reported once.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import duckdb

    from expectations.suite import StageSuite

log = logging.getLogger(__name__)

#: a window whose frame would exceed this many rows (estimated per date by the stage's
#: ``count_query``) is validated in consecutive date chunks below it (read at call time:
#: tests set it small)
CHUNK_ROWS = 300_000

Window = tuple[dt.date | None, dt.date | None]


def as_date(value: dt.date | str | None) -> dt.date | None:
    if value is None or (isinstance(value, dt.date) and not isinstance(value, dt.datetime)):
        return value
    if isinstance(value, dt.datetime):
        return value.date()
    return dt.date.fromisoformat(str(value))


def window(start: dt.date | str | None, end: dt.date | str | None = None) -> Window:
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
    if start is None or end is None:
        return None
    return start.isoformat() if start == end else f"{start.isoformat()}..{end.isoformat()}"


def window_params(start: dt.date | None, end: dt.date | None) -> dict[str, dt.date]:
    """The named parameters ``$start`` / ``$end`` of a windowed query (none for all)."""
    return {} if start is None or end is None else {"start": start, "end": end}


def windowed_count(
    template: str,
    start: dt.date | str | None,
    end: dt.date | str | None = None,
    *,
    column: str = "listing_date",
    undated: str = "",
) -> tuple[str, dict[str, dt.date]]:
    """A stage's ``count_query``: ``template`` with ``{where}`` (``column`` in the window;
    nothing for all history) and ``{undated}`` (the ``undated`` SQL, all history only)."""
    start, end = window(start, end)
    if start is None:
        return template.format(where="", undated=undated), {}
    where = f"WHERE {column} BETWEEN $start AND $end"
    return template.format(where=where, undated=""), window_params(start, end)


def in_window(column: str, *, undated: bool = False) -> str:
    """SQL predicate ``column BETWEEN $start AND $end``; ``undated``: rows whose
    ``column`` is NULL as well (the first chunk of all history carries them)."""
    between = f"{column} BETWEEN $start AND $end"
    return f"({between} OR {column} IS NULL)" if undated else between


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


def window_chunks(
    con: duckdb.DuckDBPyConnection,
    stage: StageSuite,
    start: dt.date | None,
    end: dt.date | None,
    budget: int | None = None,
) -> list[tuple[dt.date, dt.date]] | None:
    """The window's date chunks, or None for one pass: a single date, rows within the
    budget (default ``CHUNK_ROWS``, estimated by the stage's ``count_query``), or a count
    query that fails (the frame's query then fails the same way and reports it)."""
    import duckdb

    if start is not None and start == end:
        return None
    budget = CHUNK_ROWS if budget is None else budget
    sql, params = stage.count_query(start, end)
    try:
        rows = con.execute(sql, params).fetchall()
    except duckdb.Error as exc:
        log.debug("count query of %s failed (%s): one pass", stage.name, exc)
        return None
    counts: dict[dt.date | None, int] = {}
    for day, n in rows:
        key = None if day is None else as_date(day)
        counts[key] = counts.get(key, 0) + int(n or 0)
    if sum(counts.values()) <= budget:
        return None
    if start is None or end is None:  # all history: the span of the stage's dates
        dated = [d for d in counts if d is not None]  # (undated rows: chunk 1)
        if not dated:
            return None
        start, end = min(dated), max(dated)
    chunks = plan_chunks(counts, start, end, budget)
    return chunks if len(chunks) > 1 else None
