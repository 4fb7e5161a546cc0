"""A small warehouse for the expectation tests, built in DuckDB with the documented
schemas: two listing dates (``D0``, ``D``), six papers, their keyphrases and trends
(``populate``, ``memory_db``); ``long_db`` lists ``D``'s papers again up to ``LAST``."""

from __future__ import annotations

import datetime as dt

import duckdb

D0 = dt.date(2024, 2, 29)
D = dt.date(2024, 3, 1)
POOL = [
    "Large Language Models",
    "Diffusion Models",
    "Reinforcement Learning",
    "Graph Neural Networks",
    "Retrieval-Augmented Generation",
    "Vision Transformers",
]

SCHEMA = """
CREATE SCHEMA IF NOT EXISTS raw;
CREATE TABLE raw.listings (
    listing_date DATE, source_file VARCHAR, file_sha256 VARCHAR, "position" INTEGER,
    title VARCHAR, abstract VARCHAR, raw_text VARCHAR, ingested_at TIMESTAMP, format VARCHAR);
CREATE TABLE raw.rejected_records (
    listing_date DATE, source_file VARCHAR, file_sha256 VARCHAR, "position" INTEGER,
    raw_text VARCHAR, reason VARCHAR, ingested_at TIMESTAMP);
CREATE TABLE papers (
    paper_id VARCHAR, title VARCHAR, abstract VARCHAR, code_url VARCHAR,
    first_listed DATE, last_listed DATE, times_listed INTEGER);
CREATE TABLE paper_appearances (paper_id VARCHAR, listing_date DATE, best_rank INTEGER);
CREATE TABLE raw.paper_keyphrases (
    paper_id VARCHAR, rank INTEGER, keyphrase VARCHAR, keyphrase_norm VARCHAR,
    score DOUBLE, extractor_version VARCHAR);
CREATE TABLE keyword_daily (
    listing_date DATE, keyphrase_norm VARCHAR, papers INTEGER, papers_listed INTEGER);
CREATE TABLE keyword_trends (
    as_of_date DATE, keyphrase_norm VARCHAR, papers_current INTEGER, papers_reference INTEGER,
    share_current DOUBLE, share_reference DOUBLE, z_score DOUBLE, status VARCHAR);
CREATE TABLE paper_keyphrases (
    paper_id VARCHAR, keyphrase_norm VARCHAR, keyphrase VARCHAR, keyphrase_rank INTEGER,
    score DOUBLE);
CREATE TABLE keyphrase_topics (keyphrase_norm VARCHAR, topic VARCHAR);
CREATE TABLE paper_topics (paper_id VARCHAR, topic VARCHAR, topic_rank INTEGER);
CREATE TABLE topics (
    topic VARCHAR, label VARCHAR, member_keyphrases VARCHAR[], keyphrases INTEGER,
    papers INTEGER, first_listed DATE, last_listed DATE);
"""
#: the one keyphrase grouped under another topic (every other keyphrase is its own topic)
GROUPED = ("vision transformers", "diffusion models")

# papers 1..5 listed on D0, papers 1..6 listed on D (paper 6 is outside a D0 window)
LISTED = {D0: [1, 2, 3, 4, 5], D: [1, 2, 3, 4, 5, 6]}


def _title(i: int) -> str:
    return f"Paper number {i}: a study of {POOL[i % len(POOL)].lower()}"


def _abstract(i: int) -> str:
    return (
        f"We study {POOL[i % len(POOL)].lower()} and {POOL[(i + 1) % len(POOL)].lower()}. "
        "Our experiments on several benchmarks show consistent improvements over strong baselines."
    )


def populate(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(SCHEMA)
    ts = dt.datetime(2024, 3, 1, 6, 0, 0)
    for day, ids in LISTED.items():
        sha = f"{day:%Y%m%d}".ljust(64, "a")
        for pos, i in enumerate(ids, start=1):
            con.execute(
                "INSERT INTO raw.listings VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'hf_page_text')",
                [
                    day,
                    f"listing_{day}.html",
                    sha,
                    pos,
                    _title(i),
                    _abstract(i),
                    f"{_title(i)}\n{_abstract(i)}",
                    ts,
                ],
            )
            con.execute(
                "INSERT INTO paper_appearances VALUES (md5('paper-' || ?)[1:16], ?, ?)",
                [i, day, pos],
            )
    con.execute(
        """
        INSERT INTO papers
        SELECT a.paper_id, l.title, l.abstract,
               CASE WHEN a.paper_id < '8'
                    THEN 'https://github.com/example/' || a.paper_id END,
               min(a.listing_date), max(a.listing_date), count(DISTINCT a.listing_date)::INTEGER
        FROM paper_appearances a
        JOIN raw.listings l ON l.listing_date = a.listing_date AND l."position" = a.best_rank
        GROUP BY ALL
        """
    )
    for i in range(1, 7):
        for rank in (1, 2, 3):
            phrase = POOL[(i + rank - 1) % len(POOL)]
            con.execute(
                "INSERT INTO raw.paper_keyphrases "
                "VALUES (md5('paper-' || ?)[1:16], ?, ?, lower(?), ?, 'yake-0.7.3')",
                [i, rank, phrase, phrase, round(0.9 - 0.2 * rank, 2)],
            )
    con.execute(
        """
        INSERT INTO keyword_daily
        SELECT a.listing_date, k.keyphrase_norm, count(DISTINCT a.paper_id)::INTEGER,
               (SELECT count(DISTINCT paper_id) FROM paper_appearances b
                 WHERE b.listing_date = a.listing_date)::INTEGER
        FROM paper_appearances a JOIN raw.paper_keyphrases k USING (paper_id)
        GROUP BY ALL
        """
    )
    con.execute(
        """
        INSERT INTO keyword_trends
        SELECT c.listing_date, c.keyphrase_norm, c.papers, coalesce(r.papers, 0),
               c.papers / c.papers_listed, coalesce(r.papers / r.papers_listed, 0),
               (c.papers - coalesce(r.papers, 0)) / 1.5,
               CASE WHEN r.papers IS NULL THEN 'new' WHEN c.papers > r.papers THEN 'rising'
                    WHEN c.papers < r.papers THEN 'falling' ELSE 'steady' END
        FROM keyword_daily c
        LEFT JOIN keyword_daily r
               ON r.keyphrase_norm = c.keyphrase_norm AND r.listing_date = c.listing_date - 1
        WHERE c.listing_date IN (?, ?)
        """,
        [D0, D],
    )
    con.execute(
        """
        INSERT INTO paper_keyphrases
        SELECT paper_id, keyphrase_norm, keyphrase, rank, score FROM raw.paper_keyphrases
        """
    )
    con.execute(
        "INSERT INTO keyphrase_topics SELECT DISTINCT keyphrase_norm, "
        "CASE keyphrase_norm WHEN $kp THEN $topic ELSE keyphrase_norm END FROM paper_keyphrases",
        {"kp": GROUPED[0], "topic": GROUPED[1]},
    )
    con.execute(
        """
        INSERT INTO paper_topics
        SELECT pk.paper_id, kt.topic, min(pk.keyphrase_rank)::INTEGER
        FROM paper_keyphrases AS pk JOIN keyphrase_topics AS kt USING (keyphrase_norm)
        GROUP BY ALL;
        INSERT INTO topics
        SELECT m.topic, m.label, m.members, m.n, u.papers, u.first_listed, u.last_listed
        FROM (
            SELECT kt.topic,
                   max(pk.keyphrase) FILTER (WHERE pk.keyphrase_norm = kt.topic) AS label,
                   list(DISTINCT pk.keyphrase) AS members,
                   count(DISTINCT kt.keyphrase_norm)::INTEGER AS n
            FROM keyphrase_topics AS kt JOIN paper_keyphrases AS pk USING (keyphrase_norm)
            GROUP BY 1
        ) AS m
        JOIN (
            SELECT pt.topic, count(*)::INTEGER AS papers, min(p.first_listed) AS first_listed,
                   max(p.last_listed) AS last_listed
            FROM paper_topics AS pt JOIN papers AS p USING (paper_id)
            GROUP BY 1
        ) AS u USING (topic);
        """
    )


def memory_db() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    populate(con)
    return con


LAST = D + dt.timedelta(days=3)  # the long warehouse lists D's papers again up to LAST


def long_db() -> duckdb.DuckDBPyConnection:
    """``populate`` + D's listing, daily and trend rows copied to D+1..LAST (papers'
    last_listed and times_listed follow): five listing dates, 5-18 frame rows each."""
    con = memory_db()
    copies = [
        ("raw.listings", "listing_date"),
        ("paper_appearances", "listing_date"),
        ("keyword_daily", "listing_date"),
        ("keyword_trends", "as_of_date"),
    ]
    for k in (1, 2, 3):
        for table, column in copies:
            con.execute(
                f"INSERT INTO {table} SELECT * REPLACE ({column} + $k AS {column}) "
                f"FROM {table} WHERE {column} = $d",
                {"k": k, "d": D},
            )
    con.execute(
        "UPDATE papers SET last_listed = m.last, times_listed = m.n FROM ("
        "SELECT paper_id, max(listing_date) AS last, count(DISTINCT listing_date)::INTEGER AS n "
        "FROM paper_appearances GROUP BY 1) AS m WHERE papers.paper_id = m.paper_id"
    )
    return con


def paper_id(i: int) -> str:
    return duckdb.sql(f"SELECT md5('paper-{i}')[1:16]").fetchone()[0]
