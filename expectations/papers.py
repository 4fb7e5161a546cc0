"""Suite for ``papers`` (main schema, one row per paper).

The frame is the whole table (it is small: one row per distinct paper) plus
one derived column, ``listed_span_days = last_listed - first_listed + 1``.
``listing_date`` is accepted for interface symmetry and ignored: a corrupt
paper row is wrong whatever day triggered the check.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from expectations.runner import WARN, expect, new_suite
from transforms.records import PAPER_ID_REGEX

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

QUERY = """
SELECT *,
       date_diff('day', first_listed, last_listed) + 1 AS listed_span_days
FROM papers
ORDER BY paper_id
"""

MIN_DATE = dt.datetime(2000, 1, 1)
# http(s) only, a host, no whitespace/quotes/angle brackets (the URL is put in an
# href of the digest e-mail; "javascript:" or a quote-breaking URL must not pass)
CODE_URL_REGEX = r"""^https?://[A-Za-z0-9.-]+(:[0-9]+)?(/[^\s"'<>]*)?$"""


def query(listing_date: dt.date | None) -> tuple[str, list[Any]]:
    return QUERY, []


def build_suite(*, min_rows: int = 1, max_date: dt.date | None = None) -> Any:
    latest = max_date or (dt.date.today() + dt.timedelta(days=1))
    latest_dt = dt.datetime.combine(latest, dt.time.max)
    e = [
        expect(
            "ExpectTableColumnsToMatchSet",
            column_set=list(REQUIRED_COLUMNS),
            exact_match=False,
            why="model refactor dropped/renamed a column the digest and trends read",
        ),
        expect(
            "ExpectTableRowCountToBeBetween",
            min_value=min_rows,
            why="an empty papers table means the dbt model built from an empty/failed upstream",
        ),
        # identity
        expect(
            "ExpectColumnValuesToNotBeNull",
            column="paper_id",
            why="a paper without an id cannot be joined to keyphrases/appearances",
        ),
        expect(
            "ExpectColumnValuesToBeUnique",
            column="paper_id",
            why=(
                "fan-out: the same paper twice (unstable id hashing or a bad join) double-counts "
                "it everywhere"
            ),
        ),
        expect(
            "ExpectColumnValuesToMatchRegex",
            column="paper_id",
            regex=PAPER_ID_REGEX,
            why=(
                "id derivation changed (full sha, uppercase, whitespace in hash input): ids stop "
                "matching history"
            ),
        ),
        # text
        expect(
            "ExpectColumnValuesToNotBeNull",
            column="title",
            why="the digest lists papers by title",
        ),
        expect(
            "ExpectColumnValuesToMatchRegex",
            column="title",
            regex=r"\S",
            why="blank title: dedup picked an empty surface form",
        ),
        # dates
        expect(
            "ExpectColumnValuesToNotBeNull",
            column="first_listed",
            why="first_listed drives the 'new paper' logic",
        ),
        expect(
            "ExpectColumnValuesToNotBeNull",
            column="last_listed",
            why="last_listed drives recency in the digest",
        ),
        expect(
            "ExpectColumnPairValuesAToBeGreaterThanB",
            column_A="last_listed",
            column_B="first_listed",
            or_equal=True,
            why="min/max swapped in the aggregation (or an incremental merge kept the wrong side)",
        ),
        expect(
            "ExpectColumnValuesToBeBetween",
            column="last_listed",
            min_value=MIN_DATE,
            max_value=latest_dt,
            why="a future/epoch date from a mis-parsed listing leaks into the paper's lifetime",
        ),
        # counts
        expect(
            "ExpectColumnValuesToNotBeNull",
            column="times_listed",
            why="a null count means the appearance join dropped the paper",
        ),
        expect(
            "ExpectColumnValuesToBeBetween",
            column="times_listed",
            min_value=1,
            why="a paper exists only because it was listed: 0 means appearances were lost",
        ),
        # links
        expect(
            "ExpectColumnValuesToMatchRegex",
            column="code_url",
            regex=CODE_URL_REGEX,
            why=(
                "code_url becomes a link in the digest: relative paths, 'javascript:' or quote-"
                "breaking URLs must not ship (null is fine)"
            ),
        ),
        # soft signals
        expect(
            "ExpectColumnPairValuesAToBeGreaterThanB",
            column_A="listed_span_days",
            column_B="times_listed",
            or_equal=True,
            severity=WARN,
            why=(
                "listed more times than days in its lifetime: appearances counted per card/file "
                "instead of per day"
            ),
        ),
        expect(
            "ExpectColumnValuesToNotBeNull",
            column="abstract",
            severity=WARN,
            why="paper without abstract yields no keyphrases (invisible to trends)",
        ),
    ]
    return new_suite(NAME, e, stage=NAME)
