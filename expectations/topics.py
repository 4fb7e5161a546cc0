"""Suite for the topic marts: ``keyphrase_topics``, ``paper_topics`` and ``topics``.

Frame = UNION ALL BY NAME of four row kinds, told apart by ``source_table``:

* ``paper`` rows, one per paper of the window that has keyphrases (``paper_keyphrases``):
  ``n_keyphrases`` (its normalised keyphrases), ``n_with_topic`` (those with a row in
  ``keyphrase_topics``), ``n_topics`` (the distinct topics of its keyphrases) and
  ``topic_rows`` (its rows in ``paper_topics``).
* ``keyphrase`` rows, one per keyphrase of those papers that has a topic:
  ``keyphrase_norm``, ``keyphrase_topic``, their word counts, and ``topic_of_topic`` (the
  topic's own topic in ``keyphrase_topics``).
* ``topic`` rows, one per topic of those papers (``topics``): ``label``, ``keyphrases``,
  ``member_count`` (length of ``member_keyphrases``), ``mapped_keyphrases`` (its rows in
  ``keyphrase_topics``), ``papers``, ``topic_papers`` (its rows in ``paper_topics``),
  first/last listing, and ``paper_share`` (its share of all papers with a topic; null
  while fewer than ``share_min_papers`` papers have one).
* one ``summary`` row of whole-table counts: ``table_topics`` and
  ``papers_with_keyphrases``.

Keys, nulls, uniqueness and relationships are dbt's (``_topics__models.yml``, Dagster checks
of the step that builds the marts); this suite says what those tests cannot: that the three
marts agree with each other and with ``paper_keyphrases`` (every keyphrase has a topic, a
topic is its own topic, a paper's topic rows are its keyphrases' topics, a topic's counts
are its members' and papers'), lengths, a row-count floor, and how papers spread over topics.

With a window ``start..end``: the papers that appeared (``paper_appearances``) on a date of
the window, their keyphrases and topics. Window None: every paper with keyphrases.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from expectations.gx import gx
from expectations.suite import WARN, StageSuite, col, new_suite, tag
from expectations.windows import window, window_params, windowed_count

if TYPE_CHECKING:  # pragma: no cover
    from great_expectations.core import ExpectationSuite

NAME = "topics"
REQUIRED_TABLES = (
    "topics",
    "paper_topics",
    "keyphrase_topics",
    "paper_keyphrases",
    "paper_appearances",
)

_BODY = """
WITH p AS (SELECT DISTINCT paper_id FROM paper_keyphrases {paper_filter}),
kp AS (
    SELECT pk.paper_id, pk.keyphrase_norm, kt.topic
    FROM paper_keyphrases AS pk SEMI JOIN p ON pk.paper_id = p.paper_id
    LEFT JOIN keyphrase_topics AS kt ON kt.keyphrase_norm = pk.keyphrase_norm
),
per_paper AS (
    SELECT paper_id, count(*) AS n_keyphrases, count(topic) AS n_with_topic,
           count(DISTINCT topic) AS n_topics
    FROM kp GROUP BY paper_id
),
pt AS (
    SELECT pt.paper_id, pt.topic FROM paper_topics AS pt SEMI JOIN p ON pt.paper_id = p.paper_id
),
with_topic AS (
    SELECT count(DISTINCT paper_id) AS n FROM paper_topics
)
SELECT * FROM (
SELECT 'paper' AS source_table, pp.paper_id, pp.n_keyphrases, pp.n_with_topic, pp.n_topics,
       coalesce(r.n, 0) AS topic_rows
FROM per_paper AS pp
LEFT JOIN (SELECT paper_id, count(*) AS n FROM pt GROUP BY paper_id) AS r
       ON r.paper_id = pp.paper_id
UNION ALL BY NAME
SELECT 'keyphrase' AS source_table, kw.keyphrase_norm, kw.topic AS keyphrase_topic,
       len(string_split(kw.keyphrase_norm, ' ')) AS keyphrase_words,
       len(string_split(kw.topic, ' ')) AS topic_words,
       own.topic AS topic_of_topic
FROM (SELECT DISTINCT keyphrase_norm, topic FROM kp WHERE topic IS NOT NULL) AS kw
LEFT JOIN keyphrase_topics AS own ON own.keyphrase_norm = kw.topic
UNION ALL BY NAME
SELECT 'topic' AS source_table, t.topic, t.label, t.keyphrases,
       len(t.member_keyphrases) AS member_count,
       coalesce(m.n, 0) AS mapped_keyphrases,
       t.papers, coalesce(u.n, 0) AS topic_papers, t.first_listed, t.last_listed,
       CASE WHEN w.n >= {min_papers} THEN t.papers / w.n END AS paper_share
FROM topics AS t
CROSS JOIN with_topic AS w
LEFT JOIN (SELECT topic, count(*) AS n FROM keyphrase_topics GROUP BY topic) AS m
       ON m.topic = t.topic
LEFT JOIN (SELECT topic, count(*) AS n FROM paper_topics GROUP BY topic) AS u
       ON u.topic = t.topic
WHERE t.topic IN (SELECT topic FROM pt)
UNION ALL BY NAME
SELECT 'summary' AS source_table,
       (SELECT count(*) FROM topics) AS table_topics,
       (SELECT count(DISTINCT paper_id) FROM paper_keyphrases) AS papers_with_keyphrases
{summary_filter}
)
ORDER BY CASE source_table WHEN 'summary' THEN 3 WHEN 'topic' THEN 2
         WHEN 'keyphrase' THEN 1 ELSE 0 END, paper_id, keyphrase_norm, topic
"""
_WINDOW_FILTER = (
    "WHERE paper_id IN ("
    "SELECT paper_id FROM paper_appearances WHERE listing_date BETWEEN $start AND $end)"
)
# papers no date window selects: never listed on a date (all history's first chunk)
_UNDATED = """
    OR NOT EXISTS (SELECT 1 FROM paper_appearances AS a
                   WHERE a.paper_id = paper_keyphrases.paper_id AND a.listing_date IS NOT NULL)"""
#: frame rows per listing date, an upper bound: a paper row and two per keyphrase (its
#: keyphrase row, its topic row) for each paper listed that day; NULL: the summary row
#: (+ with all history, the papers never listed on a date)
_COUNT = """
WITH n AS (SELECT paper_id, count(*) AS n FROM paper_keyphrases GROUP BY 1)
SELECT a.listing_date AS day, sum(1 + 2 * n.n) AS n
FROM (SELECT DISTINCT paper_id, listing_date FROM paper_appearances {where}) AS a
JOIN n ON n.paper_id = a.paper_id
GROUP BY 1
UNION ALL
SELECT NULL, 1
{undated}
"""
_COUNT_UNDATED = """UNION ALL
SELECT NULL, sum(1 + 2 * n.n) FROM n
WHERE NOT EXISTS (SELECT 1 FROM paper_appearances AS a
                  WHERE a.paper_id = n.paper_id AND a.listing_date IS NOT NULL)"""

#: a topic with more than this share of the papers is a soft signal, once SHARE_MIN_PAPERS
#: papers have a topic (fewer: a few papers on one subject are not a collapse)
MAX_TOPIC_SHARE = 0.5
SHARE_MIN_PAPERS = 50


def query(
    start: dt.date | None,
    end: dt.date | None = None,
    *,
    whole_table: bool = True,
    undated: bool = False,
) -> tuple[str, dict[str, dt.date]]:
    """The papers of the listing dates ``start..end`` (inclusive; None: all) with their
    keyphrases and topics, + the summary row.

    ``whole_table=False``: without the summary row (its columns stay, all null), for the
    chunks after a window's first one. ``undated``: also the papers never listed on a date."""
    start, end = window(start, end)
    if start is None:
        return _BODY.format(paper_filter="", summary_filter="", min_papers=SHARE_MIN_PAPERS), {}
    sql = _BODY.format(
        paper_filter=_WINDOW_FILTER + (_UNDATED if undated else ""),
        summary_filter="" if whole_table else "WHERE FALSE",
        min_papers=SHARE_MIN_PAPERS,
    )
    return sql, window_params(start, end)


def count_query(
    start: dt.date | None, end: dt.date | None = None
) -> tuple[str, dict[str, dt.date]]:
    """``(day, n)``: frame rows per listing date of the window (an upper bound; a paper
    listed on several dates of a chunk is there once); NULL: summary (+ undated papers)."""
    return windowed_count(_COUNT, start, end, undated=_COUNT_UNDATED)


def build_suite(*, max_len: int = 100, max_share: float = MAX_TOPIC_SHARE) -> ExpectationSuite:
    """``max_len``: longest label (a keyphrase's longest surface form); ``max_share``: the
    share of the papers one topic may hold before it is a soft signal."""
    gxe = gx().expectations
    e = [
        tag(
            gxe.ExpectColumnDistinctValuesToContainSet(
                column="source_table", value_set=["summary"]
            ),
            why=(
                "the whole-table summary row is missing (query changed): the row-count floor "
                "below would pass without looking"
            ),
        ),
        # row-count floor (whole table)
        tag(
            gxe.ExpectColumnValuesToBeBetween(
                column="table_topics",
                min_value=1,
                row_condition=col("papers_with_keyphrases") > 0,
            ),
            why="papers have keyphrases but topics is empty: the topic models built from nothing",
        ),
        # papers: their topic rows are their keyphrases' topics
        tag(
            gxe.ExpectColumnPairValuesToBeEqual(column_A="n_with_topic", column_B="n_keyphrases"),
            why=(
                "a keyphrase of the paper has no row in keyphrase_topics (dropped by its "
                "incremental run): the paper vanishes from that topic's trend"
            ),
        ),
        tag(
            gxe.ExpectColumnPairValuesToBeEqual(column_A="topic_rows", column_B="n_topics"),
            why=(
                "paper_topics disagrees with the topics of the paper's keyphrases: its "
                "incremental run missed a paper whose keyphrases or topics changed"
            ),
        ),
        # keyphrases: the chain of heads ends at a topic, which is shorter
        tag(
            gxe.ExpectColumnPairValuesToBeEqual(
                column_A="topic_of_topic", column_B="keyphrase_topic"
            ),
            why=(
                "the keyphrase's topic is itself grouped under another topic (the chain of "
                "heads stopped early): one topic's papers are split in two"
            ),
        ),
        tag(
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="keyphrase_words", column_B="topic_words", or_equal=True
            ),
            why="a topic longer than its keyphrase: heads are shorter suffixes, the join ran backwards",
        ),
        # topics: counts agree with their members and papers
        tag(
            gxe.ExpectColumnValuesToBeBetween(column="papers", min_value=1),
            why="a topic without papers: the digest would list a topic nobody wrote about",
        ),
        tag(
            gxe.ExpectColumnPairValuesToBeEqual(column_A="papers", column_B="topic_papers"),
            why="topics was built from a stale paper_topics: its paper counts are not the papers'",
        ),
        tag(
            gxe.ExpectColumnPairValuesToBeEqual(column_A="keyphrases", column_B="member_count"),
            why="a topic's keyphrase count disagrees with its member list (aggregation fans out)",
        ),
        tag(
            gxe.ExpectColumnPairValuesToBeEqual(
                column_A="keyphrases", column_B="mapped_keyphrases"
            ),
            why="topics was built from a stale keyphrase_topics: members were lost or added",
        ),
        tag(
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="last_listed", column_B="first_listed", or_equal=True
            ),
            why="min/max swapped in the topic's listing dates",
        ),
        tag(
            gxe.ExpectColumnValuesToMatchRegex(column="label", regex=r"\S"),
            why="blank label: the digest shows a topic without a name",
        ),
        tag(
            gxe.ExpectColumnValueLengthsToBeBetween(column="label", min_value=1, max_value=max_len),
            why="a sentence-long label: a keyphrase's longest surface form is far shorter",
        ),
        # soft signal
        tag(
            gxe.ExpectColumnValuesToBeBetween(column="paper_share", max_value=max_share),
            why=(
                "one topic holds most papers: a generic head ('model') swallowed them and "
                "topics stop telling papers apart"
            ),
            severity=WARN,
        ),
    ]
    return new_suite(NAME, e, stage=NAME)


SUITE = StageSuite(NAME, REQUIRED_TABLES, build_suite, query, count_query)
