"""Topics and their trends on real runs: the sample's first day (the session's sample run)
carries no trend label and says why; on a generated history (the scale benchmark's
generator) built in one backfill, a topic made to rise comes out rising or bursting, in the
tables and in the digest, and an evenly spread one does not."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import duckdb
import pytest

from orchestration import env
from tests.conftest import run_job

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import scale  # bench/scale.py: the history generator

RISING = "quantum error correction"
EVEN = "protein structure prediction"


def _rows(home: env.Home, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(home.warehouse), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


@pytest.mark.slow  # its fixture: one sample run per session
def test_the_first_listing_day_carries_no_trend_label_and_says_why(
    sample_home: env.Home,
) -> None:
    home = sample_home  # the bundled sample's papers, one run of its one listing day
    for table in ("keyword_trends", "topic_trends"):
        rows = _rows(
            home,
            f"select status, reference_days, listing_days_to_trends, status_reason, count(*) "
            f"from {table} group by all",
        )
        assert rows == [
            (
                "cold_start",
                0,
                9,  # labels start on listing day 7 + 3
                "cold start: the reference window holds 0 of the 3 listing days trends need",
                rows[0][-1],
            )
        ], table
    # Topics group a paper's phrasings: the sample's flow-matching papers are one topic.
    (flow,) = _rows(home, "select papers, keyphrases from topics where topic = 'flow matching'")
    assert flow[0] >= 4 and flow[1] >= 3
    grouped = _rows(
        home,
        "select count(*) from keyphrase_topics "
        "where topic = 'flow matching' and keyphrase_norm like '%flow matching%'",
    )[0][0]
    assert grouped == flow[1]


@pytest.mark.slow
def test_a_topic_made_to_rise_rises_and_an_even_one_does_not(home: env.Home) -> None:
    n_days, per_day = 45, 30  # 9 weeks of weekdays: bursts need 8 weeks of history
    # the bundled sample's papers only: the same history wherever the suite runs
    gen = scale.Generator(scale.load_sources([]), seed=7)
    plants = [
        scale.Plant(RISING, scale.rising_from(0.85, share=0.3)),
        scale.Plant(EVEN, scale.even(0.08)),
    ]
    history = scale.History(gen, per_day, plants, days=n_days)
    days = scale.weekdays(dt.date(2026, 1, 5), n_days)
    for day in days:
        scale.write_day(home.landing, day, history.day())
    run_job(days[0], days[-1])  # one backfill run, its digest of the last date

    def trend(term: str) -> tuple:
        (topic,) = _rows(
            home, "select topic from keyphrase_topics where keyphrase_norm = ?", [term]
        )[0]
        rows = _rows(
            home,
            "select t.status, t.z_score, t.papers_current, t.bursting_since, p.label "
            "from topic_trends as t join topics as p using (topic) "
            "where t.as_of_date = ? and t.topic = ?",
            [days[-1], topic],
        )
        assert len(rows) == 1, (term, topic)
        return rows[0]

    # The digest's trend sections (rising, new, bursting: "## <title>" and a table each),
    # before its papers.
    digest = (home.publish / days[-1].isoformat() / "digest.md").read_text(encoding="utf-8")
    sections = [s.splitlines() for s in digest.split("\n## Top papers")[0].split("\n## ")[1:]]
    trend_rows = {lines[0]: [r for r in lines if r.startswith("| ")] for lines in sections}
    status, _, papers, bursting_since, label = trend(RISING)
    assert papers >= 20
    assert status in ("rising", "new") or bursting_since is not None
    assert bursting_since is not None and bursting_since >= days[-9]
    (bursting,) = [rows for title, rows in trend_rows.items() if title.startswith("Bursting")]
    assert any(row.startswith(f"| {label} · bursting since {bursting_since} |") for row in bursting)
    status, _, papers, bursting_since, label = trend(EVEN)
    assert papers >= 5
    assert status == "steady" and bursting_since is None
    shown = [row for rows in trend_rows.values() for row in rows]
    assert not [row for row in shown if row.startswith((f"| {label} |", f"| {label} · "))]
    # Labels start once the reference window holds 3 listing days: the 10th listing day.
    labelled = _rows(
        home,
        "select min(as_of_date) from topic_trends where status != 'cold_start'",
    )[0][0]
    assert labelled == days[9]
