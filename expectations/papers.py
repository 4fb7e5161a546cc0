"""Suite for ``papers`` (main schema, one row per paper).

Frame = UNION ALL BY NAME of two row kinds, told apart by ``source_table``:

* ``papers`` rows of the window: papers that appeared (``paper_appearances``) on a
  listing date of the window — a paper first listed long ago and re-listed in the
  window is checked — plus papers whose first/last listing date is in the window (so a
  paper that lost its appearances is still seen).  One derived column,
  ``listed_span_days = last_listed - first_listed + 1``.  Window None: every paper.
* one ``summary`` row of whole-table invariants, cheap as one DuckDB aggregate and
  checked whatever the window holds: ``table_rows``.

Keys, nulls and uniqueness are dbt's: ``papers``' ``not_null_columns`` and ``unique``
tests (Dagster checks of the same step, which stop the build first). This suite checks
what dbt does not say well: shapes of ids and links, date ranges and orders, counts.
Expectations ignore nulls (the summary row's among them).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from expectations.gx import gx
from expectations.suite import WARN, StageSuite, new_suite, non_capturing, tag
from expectations.windows import window, window_params, windowed_count
from transforms.records import PAPER_ID_REGEX

if TYPE_CHECKING:  # pragma: no cover
    from great_expectations.core import ExpectationSuite

NAME = "papers"
REQUIRED_TABLES = ("papers",)
REQUIRED_COLUMNS = (
    "paper_id",
    "title",
    "abstract",
    "code_url",
    "first_listed",
    "last_listed",
    "times_listed",
)

_BODY = """
SELECT * FROM (
SELECT 'papers' AS source_table, *,
       date_diff('day', first_listed, last_listed) + 1 AS listed_span_days
FROM papers
{paper_filter}
UNION ALL BY NAME
SELECT 'summary' AS source_table,
       count(*) AS table_rows
FROM papers
{summary_filter}
)
ORDER BY source_table = 'summary', paper_id
"""
_WINDOW_FILTER = """WHERE paper_id IN (
    SELECT paper_id FROM paper_appearances WHERE listing_date BETWEEN $start AND $end
)
   OR first_listed BETWEEN $start AND $end
   OR last_listed BETWEEN $start AND $end"""
# papers no date window selects: no listing date at all (all history's first chunk)
_UNDATED = """
   OR (first_listed IS NULL AND last_listed IS NULL AND NOT EXISTS (
        SELECT 1 FROM paper_appearances AS a
        WHERE a.paper_id = papers.paper_id AND a.listing_date IS NOT NULL))"""
QUERY_ALL = _BODY.format(paper_filter="", summary_filter="")
QUERY = _BODY.format(paper_filter=_WINDOW_FILTER, summary_filter="")
#: papers per date (appearances, first and last listing), NULL: undated + the summary row
_COUNT = """
SELECT day, count(*) AS n FROM (
    SELECT paper_id, listing_date AS day FROM paper_appearances
    UNION SELECT paper_id, first_listed FROM papers
    UNION SELECT paper_id, last_listed FROM papers
) {where}
GROUP BY 1
UNION ALL
SELECT NULL, 1
"""

MIN_DATE = dt.datetime(2000, 1, 1)
# http(s) only, a host, no whitespace/quotes/angle brackets (the URL is put in an
# href of the digest e-mail; "javascript:" or a quote-breaking URL must not pass).
# Groups are (?:...): GE matches with pandas' str.contains, which warns about capture groups
CODE_URL_REGEX = r"""^https?://[A-Za-z0-9.-]+(?::[0-9]+)?(?:/[^\s"'<>]*)?$"""


def query(
    start: dt.date | None,
    end: dt.date | None = None,
    *,
    whole_table: bool = True,
    undated: bool = False,
) -> tuple[str, dict[str, dt.date]]:
    """The papers of the listing dates ``start..end`` (inclusive; None: all) + summary.

    ``whole_table=False``: without the summary row (its columns stay, all null: DuckDB
    drops the aggregate unevaluated), for the chunks after a window's first one.
    ``undated``: also the papers with no listing date at all."""
    start, end = window(start, end)
    if start is None:
        return QUERY_ALL, {}
    sql = _BODY.format(
        paper_filter=_WINDOW_FILTER + (_UNDATED if undated else ""),
        summary_filter="" if whole_table else "HAVING FALSE",
    )
    return sql, window_params(start, end)


def count_query(
    start: dt.date | None, end: dt.date | None = None
) -> tuple[str, dict[str, dt.date]]:
    """``(day, n)``: papers per listing date of the window (an upper bound: a paper listed
    on several dates of a chunk is one row); NULL: the summary row (+ undated papers)."""
    return windowed_count(_COUNT, start, end, column="day")


def build_suite(*, min_rows: int = 1, max_date: dt.date | None = None) -> ExpectationSuite:
    """``min_rows``: the whole table has at least this many papers."""
    gxe = gx().expectations
    latest = max_date or (dt.date.today() + dt.timedelta(days=1))
    latest_dt = dt.datetime.combine(latest, dt.time.max)
    e = [
        tag(
            gxe.ExpectTableColumnsToMatchSet(column_set=list(REQUIRED_COLUMNS), exact_match=False),
            why="model refactor dropped/renamed a column the digest and trends read",
        ),
        # whole table (the summary row)
        tag(
            gxe.ExpectColumnDistinctValuesToContainSet(
                column="source_table", value_set=["summary"]
            ),
            why=(
                "the whole-table summary row is missing (query changed): every whole-table "
                "gate below would pass without looking"
            ),
        ),
        tag(
            gxe.ExpectColumnValuesToBeBetween(column="table_rows", min_value=min_rows),
            why="an empty papers table means the dbt model built from an empty/failed upstream",
        ),
        # identity (null or duplicate ids: dbt's tests); the shared regex has capture groups
        tag(
            gxe.ExpectColumnValuesToMatchRegex(
                column="paper_id", regex=non_capturing(PAPER_ID_REGEX)
            ),
            why=(
                "id derivation changed (full sha, uppercase, whitespace in hash input): ids stop "
                "matching history"
            ),
        ),
        # text
        tag(
            gxe.ExpectColumnValuesToMatchRegex(column="title", regex=r"\S"),
            why="blank title: dedup picked an empty surface form",
        ),
        # dates
        tag(
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="last_listed", column_B="first_listed", or_equal=True
            ),
            why="min/max swapped in the aggregation (or an incremental merge kept the wrong side)",
        ),
        tag(
            gxe.ExpectColumnValuesToBeBetween(
                column="last_listed", min_value=MIN_DATE, max_value=latest_dt
            ),
            why="a future/epoch date from a mis-parsed listing leaks into the paper's lifetime",
        ),
        # counts
        tag(
            gxe.ExpectColumnValuesToBeBetween(column="times_listed", min_value=1),
            why="a paper exists only because it was listed: 0 means appearances were lost",
        ),
        # links
        tag(
            gxe.ExpectColumnValuesToMatchRegex(column="code_url", regex=CODE_URL_REGEX),
            why=(
                "code_url becomes a link in the digest: relative paths, 'javascript:' or quote-"
                "breaking URLs must not ship (null is fine)"
            ),
        ),
        # soft signals
        tag(
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="listed_span_days", column_B="times_listed", or_equal=True
            ),
            why=(
                "listed more times than days in its lifetime: appearances counted per card/file "
                "instead of per day"
            ),
            severity=WARN,
        ),
        tag(
            gxe.ExpectColumnValuesToMatchRegex(column="abstract", regex=r"\S"),
            why=(
                "a blank abstract yields no keyphrases (invisible to trends); a null one "
                "cannot ship: dbt's not_null test on papers stops it"
            ),
            severity=WARN,
        ),
    ]
    return new_suite(NAME, e, stage=NAME)


SUITE = StageSuite(NAME, REQUIRED_TABLES, build_suite, query, count_query)
