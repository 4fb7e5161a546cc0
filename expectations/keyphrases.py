"""Suite for ``raw.paper_keyphrases`` checked against ``papers``.

Frame: papers FULL OUTER JOIN keyphrase rows, one row per (paper, keyphrase);
a paper with no keyphrases yields one row with null keyphrase columns and
``n_keyphrases = 0``; a keyphrase row whose paper is not in ``papers`` has
``paper_exists = false``.  Per-paper aggregates are repeated on every row:

    n_keyphrases  count of keyphrase rows of the paper (0 if none)
    min_rank      min(rank) of the paper (null if none)
    max_rank      max(rank) of the paper (0 if none)
    keyphrase_norm_lower  lower(keyphrase_norm), computed by DuckDB (Unicode-aware)

Ranks are contiguous 1..k  <=>  min_rank = 1, max_rank = n_keyphrases (two expectations
below) and (paper_id, rank) unique. That key's nulls and uniqueness are dbt's tests on
``stg_raw__paper_keyphrases`` (Dagster checks of the step that builds the keyphrase marts).

With a window ``start..end``: only papers that appeared on a date of the window
(``paper_appearances``) and their keyphrase rows, plus orphan keyphrase rows (paper not
in ``papers`` at all, found by an anti-join in DuckDB).  Window None: every paper.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from expectations.gx import gx
from expectations.suite import WARN, StageSuite, col, new_suite, tag
from expectations.windows import window, window_params, windowed_count

if TYPE_CHECKING:  # pragma: no cover
    from great_expectations.core import ExpectationSuite

NAME = "keyphrases"
REQUIRED_TABLES = ("papers", "raw.paper_keyphrases")

_BODY = """
WITH p AS (SELECT paper_id FROM papers {paper_filter}),
k AS (
    SELECT kp.* FROM raw.paper_keyphrases AS kp SEMI JOIN p ON kp.paper_id = p.paper_id
    {orphans}
),
per_paper AS (
    SELECT paper_id, count(*) AS n_keyphrases, min(rank) AS min_rank, max(rank) AS max_rank
    FROM k GROUP BY paper_id
)
SELECT
    coalesce(p.paper_id, k.paper_id)      AS paper_id,
    p.paper_id IS NOT NULL                AS paper_exists,
    k.rank,
    k.keyphrase,
    k.keyphrase_norm,
    lower(k.keyphrase_norm)               AS keyphrase_norm_lower,
    k.score,
    k.extractor_version,
    coalesce(pp.n_keyphrases, 0)          AS n_keyphrases,
    pp.min_rank,
    coalesce(pp.max_rank, 0)              AS max_rank
FROM p
FULL OUTER JOIN k ON k.paper_id = p.paper_id
LEFT JOIN per_paper AS pp ON pp.paper_id = coalesce(p.paper_id, k.paper_id)
ORDER BY 1, k.rank
"""
#: keyphrase rows whose paper is not in ``papers`` at all (whole table)
_ORPHANS = """UNION ALL BY NAME
    SELECT kp.* FROM raw.paper_keyphrases AS kp ANTI JOIN papers ON kp.paper_id = papers.paper_id"""
_WINDOW_FILTER = (
    "WHERE paper_id IN ("
    "SELECT paper_id FROM paper_appearances WHERE listing_date BETWEEN $start AND $end)"
)
# papers no date window selects: never listed on a date (all history's first chunk)
_UNDATED = """
    OR NOT EXISTS (SELECT 1 FROM paper_appearances AS a
                   WHERE a.paper_id = papers.paper_id AND a.listing_date IS NOT NULL)"""
QUERY_ALL = _BODY.format(paper_filter="", orphans=_ORPHANS)
QUERY = _BODY.format(paper_filter=_WINDOW_FILTER, orphans=_ORPHANS)
#: frame rows per listing date: the keyphrase rows (at least one) of its papers; NULL:
#: the orphan rows (+ with all history, the papers never listed on a date)
_COUNT = """
WITH n AS (SELECT paper_id, count(*) AS n FROM raw.paper_keyphrases GROUP BY 1)
SELECT a.listing_date AS day, sum(coalesce(n.n, 1)) AS n
FROM (SELECT DISTINCT paper_id, listing_date FROM paper_appearances {where}) AS a
LEFT JOIN n ON n.paper_id = a.paper_id
GROUP BY 1
UNION ALL
SELECT NULL, count(*) FROM raw.paper_keyphrases AS kp ANTI JOIN papers ON kp.paper_id = papers.paper_id
{undated}
"""
_COUNT_UNDATED = """UNION ALL
SELECT NULL, sum(coalesce(n.n, 1)) FROM papers LEFT JOIN n ON n.paper_id = papers.paper_id
WHERE NOT EXISTS (SELECT 1 FROM paper_appearances AS a
                  WHERE a.paper_id = papers.paper_id AND a.listing_date IS NOT NULL)"""


def query(
    start: dt.date | None,
    end: dt.date | None = None,
    *,
    whole_table: bool = True,
    undated: bool = False,
) -> tuple[str, dict[str, dt.date]]:
    """Papers of the listing dates ``start..end`` (inclusive; None: all) x keyphrases.

    ``whole_table=False``: without the orphan keyphrase rows (the window's first chunk
    carries them). ``undated``: also the papers never listed on a date."""
    start, end = window(start, end)
    if start is None:
        return QUERY_ALL, {}
    sql = _BODY.format(
        paper_filter=_WINDOW_FILTER + (_UNDATED if undated else ""),
        orphans=_ORPHANS if whole_table else "",
    )
    return sql, window_params(start, end)


def count_query(
    start: dt.date | None, end: dt.date | None = None
) -> tuple[str, dict[str, dt.date]]:
    """``(day, n)``: frame rows per listing date of the window (an upper bound: a paper
    listed on several dates of a chunk is there once); NULL: orphans (+ undated papers)."""
    return windowed_count(_COUNT, start, end, undated=_COUNT_UNDATED)


def build_suite(
    *,
    min_keyphrases: int = 1,
    max_keyphrases: int | None = 50,
    max_len: int = 100,
) -> ExpectationSuite:
    gxe = gx().expectations
    has_kp = col("n_keyphrases") > 0  # rows that carry a keyphrase (row_condition)
    e = [
        tag(
            gxe.ExpectTableRowCountToBeBetween(min_value=1),
            why="no papers at all in the window: the extraction ran on an empty input",
        ),
        tag(
            gxe.ExpectColumnValuesToBeInSet(column="paper_exists", value_set=[True]),
            why=(
                "orphan keyphrases (paper re-keyed or deleted) inflate keyword counts for papers "
                "that do not exist"
            ),
        ),
        tag(
            gxe.ExpectColumnValuesToBeBetween(column="n_keyphrases", min_value=min_keyphrases),
            why=(
                "extractor silently skipped papers (crash, empty abstract, filter too strict): "
                "they vanish from trends"
            ),
        ),
        # contiguous ranks 1..k
        tag(
            gxe.ExpectColumnValuesToBeInSet(column="min_rank", value_set=[1]),
            why="ranks start at 0 or 2: off-by-one in the extractor writer",
        ),
        tag(
            gxe.ExpectColumnPairValuesToBeEqual(column_A="max_rank", column_B="n_keyphrases"),
            why="gaps in ranks: rows were dropped after ranking (e.g. a filter after top-k)",
        ),
        # values
        tag(
            gxe.ExpectColumnValuesToNotBeNull(column="score", row_condition=has_kp),
            why="NaN/null score (division by zero in the scorer) breaks ranking",
        ),
        tag(
            gxe.ExpectColumnValuesToBeBetween(column="score", min_value=0, max_value=1),
            why="un-normalised raw YAKE scores (lower-is-better, unbounded) leaked through",
        ),
        tag(
            gxe.ExpectColumnValuesToNotBeNull(column="keyphrase", row_condition=has_kp),
            why="null surface form: the digest has nothing to show",
        ),
        tag(
            gxe.ExpectColumnValueLengthsToBeBetween(
                column="keyphrase", min_value=1, max_value=max_len
            ),
            why=(
                "empty phrase, or a whole sentence emitted as a 'keyphrase' (n-gram limit "
                "misconfigured)"
            ),
        ),
        tag(
            gxe.ExpectColumnValuesToNotBeNull(column="keyphrase_norm", row_condition=has_kp),
            why="null normal form drops the keyphrase from every trend",
        ),
        tag(
            gxe.ExpectColumnValueLengthsToBeBetween(
                column="keyphrase_norm", min_value=1, max_value=max_len
            ),
            why="empty or sentence-long normal forms",
        ),
        tag(
            gxe.ExpectColumnValuesToMatchRegex(column="keyphrase_norm", regex=r"\S"),
            why="whitespace-only normal form groups unrelated phrases together",
        ),
        tag(
            gxe.ExpectColumnPairValuesToBeEqual(
                column_A="keyphrase_norm", column_B="keyphrase_norm_lower"
            ),
            why="normal form not lowercased: 'LLM' and 'llm' split one trend in two",
        ),
        tag(
            gxe.ExpectColumnValuesToNotMatchRegex(column="keyphrase_norm", regex=r"^\s|\s$|\s\s"),
            why="untrimmed/double spaces in the normal form split one trend in two",
        ),
        # soft signals
        tag(
            gxe.ExpectCompoundColumnsToBeUnique(column_list=["paper_id", "keyphrase_norm"]),
            why=(
                "two surface forms of one paper normalise to the same phrase: the paper may be "
                "counted twice"
            ),
            severity=WARN,
        ),
        tag(
            gxe.ExpectColumnUniqueValueCountToBeBetween(column="extractor_version", max_value=1),
            why="mixed extractor versions: a partial re-extraction makes windows incomparable",
            severity=WARN,
        ),
        tag(
            gxe.ExpectColumnValuesToNotBeNull(column="extractor_version", row_condition=has_kp),
            why="untraceable rows: cannot tell which extractor produced them",
            severity=WARN,
        ),
    ]
    if max_keyphrases is not None:
        e.append(
            tag(
                gxe.ExpectColumnValuesToBeBetween(column="n_keyphrases", max_value=max_keyphrases),
                why="far more keyphrases than top-k: re-extraction appended with continued ranks",
                severity=WARN,
            )
        )
    return new_suite(NAME, e, stage=NAME)


SUITE = StageSuite(NAME, REQUIRED_TABLES, build_suite, query, count_query)
