"""Suite for ``raw.listings`` — the rows of a window of listing dates (all if None).

Per-date counts (``date_rows``, ``page_cards``) are window functions over the listing
date, so a many-date window is checked date by date in one pass; row keys include the
listing date (a file name such as ``page.txt`` lands on many dates).

Gates (severity "error") stop the listing from being published; "warn" are
soft signals.  Each expectation's ``why`` names the failure it is there for.

The row key's nulls and uniqueness (listing date, file, position) are dbt's tests on
``stg_raw__listings`` (Dagster checks of the step that builds the warehouse, which stop it
before any mart); this suite checks what dbt does not say well.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from expectations.gx import gx
from expectations.suite import WARN, StageSuite, new_suite, tag
from expectations.windows import in_window, window, window_params, windowed_count
from transforms.listing import CARD_ABSTRACT_CHARS, CARD_TITLE_CHARS

if TYPE_CHECKING:  # pragma: no cover
    from great_expectations.core import ExpectationSuite

NAME = "raw_listings"
REQUIRED_TABLES = ("raw.listings",)
REQUIRED_COLUMNS = (
    "listing_date",
    "source_file",
    "file_sha256",
    "position",
    "title",
    "abstract",
    "raw_text",
    "ingested_at",
)

# SELECT * on purpose: a dropped/renamed column reaches the frame and is named
# by expect_table_columns_to_match_set instead of failing inside DuckDB. ``page_cards``:
# the records of a date whose listing is only pasted or saved pages (null when an API or
# feed file is among them: those sources say how many papers there are, and a shrunken
# fetch is refused when it is fetched). ``date_rows``: the records of the row's date.
_SELECT = """
SELECT *,
       count(*) OVER (PARTITION BY listing_date) AS date_rows,
       CASE WHEN bool_and(coalesce(format, 'hf_page_text') LIKE 'hf_page%')
                 OVER (PARTITION BY listing_date)
            THEN count(*) OVER (PARTITION BY listing_date) END AS page_cards
FROM raw.listings
"""
_ORDER = "ORDER BY listing_date, source_file, position"
QUERY = _SELECT + "WHERE listing_date BETWEEN $start AND $end " + _ORDER
QUERY_ALL = _SELECT + _ORDER
#: rows per listing date (the runner sizes its chunks with it); NULL: undated rows
_COUNT = "SELECT listing_date AS day, count(*) AS n FROM raw.listings {where} GROUP BY 1"

MIN_DATE = dt.datetime(2000, 1, 1)


def query(
    start: dt.date | None,
    end: dt.date | None = None,
    *,
    whole_table: bool = True,
    undated: bool = False,
) -> tuple[str, dict[str, dt.date]]:
    """The rows of the listing dates ``start..end`` (inclusive; None: all).
    ``undated``: the rows without a listing date as well (the first chunk of all history
    carries them). No whole-table rows here (``whole_table`` is accepted for the runner)."""
    start, end = window(start, end)
    if start is None:
        return QUERY_ALL, {}
    sql = _SELECT + f"WHERE {in_window('listing_date', undated=undated)} " + _ORDER
    return sql, window_params(start, end)


def count_query(
    start: dt.date | None, end: dt.date | None = None
) -> tuple[str, dict[str, dt.date]]:
    """``(day, n)``: the frame's rows per listing date of the window (None: all dates)."""
    return windowed_count(_COUNT, start, end)


def build_suite(
    *,
    min_rows: int = 1,
    min_page_cards: int = 5,
    title_len: tuple[int, int] = CARD_TITLE_CHARS,
    abstract_len: tuple[int, int] = CARD_ABSTRACT_CHARS,
    max_date: dt.date | None = None,
) -> ExpectationSuite:
    """``min_rows``: a listing date with fewer records is broken (checked per date).
    ``min_page_cards``: a pasted page with fewer cards is a partial copy.
    ``max_date``: latest plausible listing date (default: today + 1 day)."""
    gxe = gx().expectations
    latest = max_date or (dt.date.today() + dt.timedelta(days=1))
    latest_dt = dt.datetime.combine(latest, dt.time.max)
    e = [
        tag(
            gxe.ExpectTableColumnsToMatchSet(column_set=list(REQUIRED_COLUMNS), exact_match=False),
            why=(
                "parser/loader schema drift: a renamed or dropped column silently nulls every "
                "downstream field"
            ),
        ),
        tag(
            gxe.ExpectTableRowCountToBeBetween(min_value=1),
            why="a window with no records reached the gate: nothing to publish",
        ),
        tag(
            gxe.ExpectColumnValuesToBeBetween(column="date_rows", min_value=min_rows),
            why="a listing date of the window with fewer records than a listing has is broken",
        ),
        tag(
            gxe.ExpectColumnValuesToBeBetween(column="page_cards", min_value=min_page_cards),
            why=(
                "partial page: the copy of a page stopped early (selection cut, layout change) "
                "and most papers are missing"
            ),
        ),
        # listing_date (null: dbt's test)
        tag(
            gxe.ExpectColumnValuesToBeBetween(
                column="listing_date", min_value=MIN_DATE, max_value=latest_dt
            ),
            why=(
                "mis-parsed date (epoch 1970, swapped day/month, year 2100) shifts papers into "
                "wrong windows"
            ),
        ),
        # file identity
        tag(
            gxe.ExpectColumnValuesToNotBeNull(column="source_file"),
            why="rows without provenance cannot be re-ingested idempotently or traced",
        ),
        tag(
            gxe.ExpectColumnValuesToNotBeNull(column="file_sha256"),
            why="missing content hash breaks idempotent re-ingestion (duplicates on re-run)",
        ),
        tag(
            gxe.ExpectColumnValuesToMatchRegex(column="file_sha256", regex=r"^[0-9a-f]{64}$"),
            why="hash truncated/uppercased/other algorithm: dedupe by hash stops matching",
        ),
        # position (null, or twice in a file: dbt's tests)
        tag(
            gxe.ExpectColumnValuesToBeBetween(column="position", min_value=1),
            why="0-based or negative positions: off-by-one in the card enumerator",
        ),
        # title
        tag(
            gxe.ExpectColumnValuesToNotBeNull(column="title"),
            why="card parsed without a title: cannot identify the paper",
        ),
        tag(
            gxe.ExpectColumnValuesToMatchRegex(column="title", regex=r"\S"),
            why="empty/whitespace-only title from a selector that no longer matches",
        ),
        tag(
            gxe.ExpectColumnValueLengthsToBeBetween(
                column="title", min_value=title_len[0], max_value=title_len[1]
            ),
            why="a title is not 1,500 characters (abstract bled into it) nor 2 (truncated)",
        ),
        # abstract
        tag(
            gxe.ExpectColumnValuesToNotBeNull(column="abstract"),
            why=(
                "keyphrases are extracted from the abstract; none means the paper is invisible to "
                "trends"
            ),
        ),
        tag(
            gxe.ExpectColumnValuesToMatchRegex(column="abstract", regex=r"\S"),
            why="empty/whitespace-only abstract from a selector that no longer matches",
        ),
        tag(
            gxe.ExpectColumnValueLengthsToBeBetween(
                column="abstract", min_value=abstract_len[0], max_value=abstract_len[1]
            ),
            why=(
                "an abstract is not 20 characters (truncated/placeholder) nor 50k (page text "
                "captured)"
            ),
        ),
        # soft signals
        tag(
            gxe.ExpectCompoundColumnsToBeUnique(
                column_list=["listing_date", "source_file", "title"]
            ),
            why="same card twice in one file: pagination overlap or a duplicated page block",
            severity=WARN,
        ),
        tag(
            gxe.ExpectColumnValuesToNotMatchRegex(
                column="title", regex=r"</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?>"
            ),
            why="HTML tags left in titles: markup stripping failed after a layout change",
            severity=WARN,
        ),
        tag(
            gxe.ExpectColumnValuesToNotBeNull(column="raw_text"),
            why="raw card text is what lets us re-parse after a parser fix",
            severity=WARN,
        ),
    ]
    return new_suite(NAME, e, stage=NAME, min_rows=min_rows)


SUITE = StageSuite(NAME, REQUIRED_TABLES, build_suite, query, count_query)
