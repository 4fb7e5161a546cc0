"""Topics and their trends on real runs: the sample's first day carries no trend label and
says why; on a generated history (the scale benchmark's generator) a topic made to rise
comes out rising or bursting, and an evenly spread one does not."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import duckdb
import pytest

from orchestration import env
from orchestration.runs import materialize
from tests.conftest import invoke, land, sample_cards

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import scale  # bench/scale.py: the history generator

RISING = "quantum error correction"
EVEN = "protein structure prediction"


def _rows(home: env.Home, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(home.warehouse), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


@pytest.mark.slow
def test_the_first_listing_day_carries_no_trend_label_and_says_why(home: env.Home) -> None:
    day = dt.date(2026, 11, 2)
    land(home, day, "page.txt", sample_cards())
    materialize(home, day)
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
    result = invoke("backfill", "--from", str(days[0]), "--to", str(days[-1]))
    assert result.exit_code == 0, result.stderr

    def trend(term: str) -> tuple:
        (topic,) = _rows(
            home, "select topic from keyphrase_topics where keyphrase_norm = ?", [term]
        )[0]
        rows = _rows(
            home,
            "select status, z_score, papers_current, bursting_since from topic_trends "
            "where as_of_date = ? and topic = ?",
            [days[-1], topic],
        )
        assert len(rows) == 1, (term, topic)
        return rows[0]

    status, _, papers, bursting_since = trend(RISING)
    assert papers >= 20
    assert status in ("rising", "new") or bursting_since is not None
    assert bursting_since is not None and bursting_since >= days[-9]
    status, _, papers, bursting_since = trend(EVEN)
    assert papers >= 5
    assert status == "steady" and bursting_since is None
    # Labels start once the reference window holds 3 listing days: the 10th listing day.
    labelled = _rows(
        home,
        "select min(as_of_date) from topic_trends where status != 'cold_start'",
    )[0][0]
    assert labelled == days[9]
