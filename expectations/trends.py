"""Suite for ``keyword_daily`` + ``keyword_trends`` (one stage, one frame).

Frame = UNION ALL BY NAME of three row kinds, told apart by ``source_table``:

* ``summary`` (exactly one row per date of the window, so "is the day empty?" is
  checkable date by date even when both tables have no rows for a day):
  ``summary_date`` (every date of the window; with no window, every date of
  ``paper_appearances``, or one null date when it is empty), ``listed_papers``
  (papers that appeared that day), ``daily_rows``, ``trend_rows`` (rows of each
  table for that date).
* ``keyword_daily`` rows: ``listing_date, keyphrase_norm, papers, papers_listed``
  plus ``appearances_listed`` (papers in ``paper_appearances`` that day).
* ``keyword_trends`` rows: ``as_of_date, keyphrase_norm, papers_current,
  papers_reference, share_current, share_reference, z_score, status``.

Keys, nulls, uniqueness and the accepted statuses are dbt's tests
(``_trends__models.yml``, Dagster checks of their own); this suite says what dbt's tests
cannot say well: days that should have rows, counts and shares in range, z-scores bounded,
the denominators agreeing with ``paper_appearances``.

Column-map expectations ignore nulls, so columns that only exist for one row
kind need no row condition; where nulls matter a ``row_condition`` on
``source_table`` is used.  With a window ``start..end`` the daily rows of its
listing dates and the trend rows ``as_of`` its dates are checked; with None, all.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from expectations.gx import gx
from expectations.suite import WARN, StageSuite, col, new_suite, tag
from expectations.windows import in_window, window, window_params

if TYPE_CHECKING:  # pragma: no cover
    from great_expectations.core import ExpectationSuite

NAME = "trends"
REQUIRED_TABLES = ("keyword_daily", "keyword_trends", "paper_appearances")

_BODY = """
WITH days AS (
    {days}
),
listed AS (
    SELECT listing_date, count(DISTINCT paper_id) AS n
    FROM paper_appearances {appearances_filter}
    GROUP BY listing_date
),
daily_n AS (
    SELECT listing_date, count(*) AS n FROM keyword_daily AS kd {daily_filter} GROUP BY 1
),
trend_n AS (
    SELECT as_of_date, count(*) AS n FROM keyword_trends AS kt {trends_filter} GROUP BY 1
)
SELECT * FROM (
SELECT 'summary' AS source_table,
       days.day AS summary_date,
       coalesce(listed.n, 0) AS listed_papers,
       coalesce(daily_n.n, 0) AS daily_rows,
       coalesce(trend_n.n, 0) AS trend_rows
FROM days
LEFT JOIN listed ON listed.listing_date = days.day
LEFT JOIN daily_n ON daily_n.listing_date = days.day
LEFT JOIN trend_n ON trend_n.as_of_date = days.day
UNION ALL BY NAME
SELECT 'keyword_daily' AS source_table,
       kd.listing_date, kd.keyphrase_norm, kd.papers, kd.papers_listed,
       coalesce(listed.n, 0) AS appearances_listed
FROM keyword_daily AS kd
LEFT JOIN listed ON listed.listing_date = kd.listing_date
{daily_filter}
UNION ALL BY NAME
SELECT 'keyword_trends' AS source_table,
       kt.as_of_date, kt.keyphrase_norm, kt.papers_current, kt.papers_reference,
       kt.share_current, kt.share_reference, kt.z_score, kt.status
FROM keyword_trends AS kt
{trends_filter}
)
ORDER BY CASE source_table WHEN 'summary' THEN 0 WHEN 'keyword_daily' THEN 1 ELSE 2 END,
         coalesce(summary_date, listing_date, as_of_date), keyphrase_norm
"""
_ALL_DAYS = """SELECT DISTINCT listing_date AS day FROM paper_appearances
    UNION ALL
    SELECT CAST(NULL AS DATE) AS day WHERE NOT EXISTS (SELECT 1 FROM paper_appearances)"""
_WINDOW_DAYS = """SELECT CAST(unnest(generate_series(
        CAST($start AS DATE), CAST($end AS DATE), INTERVAL 1 DAY)) AS DATE) AS day"""
QUERY_ALL = _BODY.format(days=_ALL_DAYS, appearances_filter="", daily_filter="", trends_filter="")
QUERY = _BODY.format(
    days=_WINDOW_DAYS,
    appearances_filter="WHERE listing_date BETWEEN $start AND $end",
    daily_filter="WHERE kd.listing_date BETWEEN $start AND $end",
    trends_filter="WHERE kt.as_of_date BETWEEN $start AND $end",
)
#: frame rows per date: daily + trend rows + the summary row of a listed date; NULL:
#: daily/trend rows without a date
_COUNT = """
SELECT day, sum(n)::BIGINT AS n FROM (
    SELECT listing_date AS day, count(*) AS n FROM keyword_daily {daily} GROUP BY 1
    UNION ALL
    SELECT as_of_date, count(*) FROM keyword_trends {trends} GROUP BY 1
    UNION ALL
    SELECT DISTINCT listing_date, 1 FROM paper_appearances {appearances}
) GROUP BY 1
"""


def query(
    start: dt.date | None,
    end: dt.date | None = None,
    *,
    whole_table: bool = True,
    undated: bool = False,
) -> tuple[str, dict[str, dt.date]]:
    """Summary rows (one per date) + daily and trend rows of ``start..end`` (None: all).
    ``undated``: also the daily and trend rows without a date (all history's first
    chunk). No whole-table rows here (``whole_table`` is accepted for the runner)."""
    start, end = window(start, end)
    if start is None:
        return QUERY_ALL, {}
    sql = _BODY.format(
        days=_WINDOW_DAYS,
        appearances_filter="WHERE listing_date BETWEEN $start AND $end",
        daily_filter=f"WHERE {in_window('kd.listing_date', undated=undated)}",
        trends_filter=f"WHERE {in_window('kt.as_of_date', undated=undated)}",
    )
    return sql, window_params(start, end)


def count_query(
    start: dt.date | None, end: dt.date | None = None
) -> tuple[str, dict[str, dt.date]]:
    """``(day, n)``: frame rows per date of the window (None: every date of the tables)."""
    start, end = window(start, end)
    if start is None:
        return _COUNT.format(daily="", trends="", appearances=""), {}
    return _COUNT.format(
        daily="WHERE listing_date BETWEEN $start AND $end",
        trends="WHERE as_of_date BETWEEN $start AND $end",
        appearances="WHERE listing_date BETWEEN $start AND $end",
    ), window_params(start, end)


def build_suite(*, max_abs_z: float = 1_000.0) -> ExpectationSuite:
    gxe = gx().expectations
    day_has_listing = col("listed_papers") > 0  # only the summary row has listed_papers
    e = [
        tag(
            gxe.ExpectColumnDistinctValuesToContainSet(
                column="source_table", value_set=["summary"]
            ),
            why=(
                "the per-date summary rows are missing (query changed): the empty-window gates "
                "below would pass without looking"
            ),
        ),
        # windows non-empty when there was a listing (one summary row per date)
        tag(
            gxe.ExpectColumnValuesToBeBetween(
                column="daily_rows", min_value=1, row_condition=day_has_listing
            ),
            why=(
                "papers were listed that day but keyword_daily has no rows: the daily model ran "
                "before keyphrases landed"
            ),
        ),
        tag(
            gxe.ExpectColumnValuesToBeBetween(
                column="trend_rows", min_value=1, row_condition=day_has_listing
            ),
            why=(
                "papers were listed that day but keyword_trends is empty: the digest would be blank"
            ),
        ),
        # keyword_daily
        tag(
            gxe.ExpectColumnValuesToBeBetween(column="papers", min_value=1),
            why="zero-count rows mean the aggregation emitted keyphrases with no paper (bad join)",
        ),
        tag(
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="papers_listed",
                column_B="papers",
                or_equal=True,
                ignore_row_if="either_value_is_missing",
            ),
            why=(
                "more papers with a keyphrase than papers listed: the keyphrase join fans out "
                "(counts rows, not papers)"
            ),
        ),
        # keyword_trends
        tag(
            gxe.ExpectColumnValuesToBeBetween(column="share_current", min_value=0, max_value=1),
            why="share > 1: numerator and denominator come from different windows",
        ),
        tag(
            gxe.ExpectColumnValuesToBeBetween(column="share_reference", min_value=0, max_value=1),
            why="share > 1 or < 0 in the reference window: window arithmetic is off",
        ),
        tag(
            gxe.ExpectColumnValuesToBeBetween(column="papers_current", min_value=0),
            why="negative counts: a difference was stored instead of a count",
        ),
        tag(
            gxe.ExpectColumnValuesToBeBetween(column="papers_reference", min_value=0),
            why="negative counts in the reference window",
        ),
        tag(
            gxe.ExpectColumnValuesToBeBetween(
                column="z_score", min_value=-max_abs_z, max_value=max_abs_z
            ),
            why=(
                "±inf or absurd z-scores (a variance of zero) would top the 'rising' ranking; "
                "dbt's not_null test already rules out nulls"
            ),
        ),
        # soft signals
        tag(
            gxe.ExpectColumnPairValuesToBeEqual(
                column_A="papers_listed",
                column_B="appearances_listed",
                ignore_row_if="either_value_is_missing",
            ),
            why=(
                "keyword_daily's denominator disagrees with paper_appearances: built from a stale "
                "snapshot"
            ),
            severity=WARN,
        ),
        tag(
            gxe.ExpectColumnValuesToBeBetween(
                column="papers_reference", max_value=0, row_condition=col("status") == "new"
            ),
            why="'new' keyword that already had papers in the reference window: status logic bug",
            severity=WARN,
        ),
    ]
    return new_suite(NAME, e, stage=NAME)


SUITE = StageSuite(NAME, REQUIRED_TABLES, build_suite, query, count_query)
