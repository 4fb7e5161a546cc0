"""Incremental per-date marts: runs day by day (with a paper re-keyed by a later arXiv
listing, a re-run with fewer papers and a date whose file is removed) give exactly the
tables a full refresh of the range gives; a warehouse from before the incremental marts
upgrades itself."""

from __future__ import annotations

import datetime as dt
import functools
import json
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from orchestration import env
from orchestration.defs.dbt_models import partition_vars
from tests.conftest import SAMPLE_DATE, invoke, land, run_job, sample_cards

FORMATS = Path(__file__).resolve().parent / "fixtures" / "formats"
HF_DAILY = FORMATS / "hf_api_daily_papers_2026-06-12.json"
# Two consecutive listing days, then one after a day without a listing.
DAYS = [dt.date(2026, 11, 2), dt.date(2026, 11, 3), dt.date(2026, 11, 5)]
TABLES = {
    # ingested_at: the full refresh below re-ingests the raw rows
    "int_listings_keyed": "select * exclude (built_at, ingested_at) from int_listings_keyed",
    "papers": "select * exclude (built_at) from papers",
    "paper_keyphrases": "select * exclude (built_at, extracted_at) from paper_keyphrases",
    "paper_appearances": "select * exclude (built_at) from paper_appearances",
    "keyword_daily": "select * exclude (built_at) from keyword_daily",
    "keyword_trends": "select * exclude (built_at) from keyword_trends",
    "keywords": "select * from keywords",
    "keyphrase_topics": "select * exclude (built_at) from keyphrase_topics",
    "topics": "select * from topics",
    "paper_topics": "select * exclude (built_at) from paper_topics",
    "topic_daily": "select * exclude (built_at) from topic_daily",
    "topic_bursts": "select * exclude (built_at) from topic_bursts",
    "topic_trends": "select * exclude (built_at) from topic_trends",
}


@functools.cache
def _tables_job() -> dg.JobDefinition:
    """The daily job's steps that write the warehouse (ingest, keyphrases, the two dbt
    builds with their dbt tests), without the Great Expectations gates and the digest, which
    only read it; each dbt step whole, as in the daily job (its dbt tests are its asset
    checks)."""
    from orchestration.definitions import defs
    from orchestration.defs.fetch import FETCH_ASSET_KEYS
    from orchestration.defs.publish import DIGEST
    from orchestration.defs.quality import quality_checks

    selection = (
        dg.AssetSelection.all()
        - dg.AssetSelection.assets(*FETCH_ASSET_KEYS, DIGEST)
        - dg.AssetSelection.checks(*quality_checks)
    )
    job = dg.define_asset_job("tables_only", selection, executor_def=dg.in_process_executor)
    return dg.Definitions.merge(defs, dg.Definitions(jobs=[job])).resolve_job_def(job.name)


@pytest.mark.parametrize(
    "start,end,expected",
    [
        ("2026-11-02", "2026-11-03", ("2026-11-02", "2026-11-02")),
        ("2026-11-02", "2026-11-06", ("2026-11-02", "2026-11-05")),
        ("2026-12-31", "2027-01-01", ("2026-12-31", "2026-12-31")),
    ],
)
def test_partition_vars_are_inclusive_listing_dates(start, end, expected) -> None:
    window = dg.TimeWindow(
        dt.datetime.fromisoformat(start).replace(tzinfo=dt.UTC),
        dt.datetime.fromisoformat(end).replace(tzinfo=dt.UTC),
    )
    assert partition_vars(window) == {"window_start": expected[0], "window_end": expected[1]}


def snapshot(home: env.Home) -> dict[str, list[tuple]]:
    with duckdb.connect(str(home.warehouse), read_only=True) as con:
        con.execute("set search_path = 'main,intermediate'")
        return {name: sorted(con.execute(sql).fetchall()) for name, sql in TABLES.items()}


def built_at(home: env.Home, table: str) -> dict[dt.date, dt.datetime]:
    date = "as_of_date" if table == "keyword_trends" else "listing_date"
    with duckdb.connect(str(home.warehouse), read_only=True) as con:
        return dict(con.execute(f"select {date}, max(built_at) from {table} group by 1").fetchall())


@pytest.mark.slow
def test_day_by_day_runs_equal_a_full_refresh(home: env.Home) -> None:
    cards = sample_cards()
    hf_file = json.loads(HF_DAILY.read_text(encoding="utf-8"))
    hf = hf_file[0]["paper"]
    # Day 1 pastes the HF paper's title; day 2 lists it with its arXiv id (re-keyed).
    land(home, DAYS[0], "page.txt", [*cards[:20], (hf["title"], "A pasted blurb. " * 5)])
    land(home, DAYS[1], "page.txt", cards[15:40])
    (home.landing / DAYS[1].isoformat() / HF_DAILY.name).write_bytes(HF_DAILY.read_bytes())
    land(home, DAYS[2], "page.txt", cards[35:60])
    run_job(DAYS[0], job=_tables_job())
    first_run = built_at(home, "paper_appearances")
    for day in DAYS[1:]:
        run_job(day, job=_tables_job())
    # Day 2 re-run with fewer papers (cards 30-39 gone: 30-34 listed nowhere now, 35-39 first
    # listed on day 3): its rows and the trends after it change.
    land(home, DAYS[1], "page.txt", cards[15:30])
    run_job(DAYS[1], job=_tables_job())
    # Only what changed was rebuilt: day 1 by day 2 (which re-keyed it), not again by day 3
    # or the re-run of day 2; day 3 not by that re-run; trends from day 2 on rebuilt by that
    # re-run, day 1's not.
    appeared, trended = built_at(home, "paper_appearances"), built_at(home, "keyword_trends")
    assert first_run[DAYS[0]] < appeared[DAYS[0]] < appeared[DAYS[2]] < appeared[DAYS[1]]
    assert trended[DAYS[0]] < trended[DAYS[1]] <= trended[DAYS[2]]
    assert trended[DAYS[0]] < appeared[DAYS[1]] <= trended[DAYS[1]]
    # Day 3's file removed and the date re-run: it loses its rows everywhere.
    (home.landing / DAYS[2].isoformat() / "page.txt").unlink()
    run_job(DAYS[2], job=_tables_job())
    incremental = snapshot(home)
    with duckdb.connect(str(home.warehouse), read_only=True) as con:
        tables = con.execute("select table_name from information_schema.tables").fetchall()
    assert not [t for (t,) in tables if "__dbt_tmp" in t]  # no scratch table left behind

    result = invoke("backfill", "--from", str(DAYS[0]), "--to", str(DAYS[-1]), "--full-refresh")
    assert result.exit_code == 0, result.stderr
    full = snapshot(home)
    for name in TABLES:
        assert incremental[name] == full[name], name

    appearances = {(r[0], r[1]) for r in full["paper_appearances"]}
    assert (f"arxiv:{hf['id']}", DAYS[0]) in appearances  # the day-1 paste, re-keyed
    # the re-run's 15 cards and the HF file's papers
    assert sum(1 for _, day in appearances if day == DAYS[1]) == 15 + len(hf_file)
    assert {r[0] for r in full["keyword_trends"]} == set(DAYS[:2])
    assert {day for _, day in appearances} == set(DAYS[:2])


def test_incremental_models_come_from_the_manifest() -> None:
    from orchestration.defs.dbt_models import dbt_project_manifest, incremental_models

    models = incremental_models(dbt_project_manifest())
    assert sorted(models) == [
        "int_listings_keyed",
        "keyphrase_topics",
        "keyword_daily",
        "keyword_trends",
        "paper_appearances",
        "paper_keyphrases",
        "paper_topics",
        "papers",
        "topic_bursts",
        "topic_daily",
        "topic_trends",
    ]
    assert {"status", "status_reason", "z_score"} <= set(models["keyword_trends"])


def test_legacy_tables_are_views_and_tables_without_a_declared_column() -> None:
    from orchestration.defs.dbt_models import legacy_tables

    con = duckdb.connect()
    con.execute("create table keyword_trends (as_of_date date)")
    con.execute("create table keyword_daily (listing_date date, built_at timestamp)")
    con.execute("create table topic_trends (as_of_date date, built_at timestamp)")
    con.execute("create schema intermediate")
    con.execute("create view intermediate.int_listings_keyed as select now() as built_at")
    models = {
        "int_listings_keyed": [],
        "keyword_daily": ["listing_date"],
        "keyword_trends": [],
        "paper_appearances": [],
        "topic_trends": ["as_of_date", "status_reason"],
    }
    assert legacy_tables(con, models) == ["int_listings_keyed", "keyword_trends", "topic_trends"]


@pytest.mark.slow
def test_a_warehouse_from_before_incremental_marts_upgrades_itself(
    sample_home_copy: env.Home,
) -> None:
    home, next_day = sample_home_copy, SAMPLE_DATE + dt.timedelta(days=1)
    with duckdb.connect(str(home.warehouse)) as con:  # as the marts were: full tables
        for table in ("papers", "paper_appearances", "keyword_daily", "keyword_trends"):
            con.execute(f"alter table {table} drop column built_at")
        keyed = "intermediate.int_listings_keyed"  # a view then
        con.execute(f"create table keyed_rows as select * exclude (built_at) from {keyed}")
        con.execute(f"drop table {keyed}")
        con.execute(f"create view {keyed} as select * from keyed_rows")
    land(home, next_day, "page.txt", sample_cards()[30:80])
    run_job(next_day, job=_tables_job())
    with duckdb.connect(str(home.warehouse), read_only=True) as con:
        days = con.execute("select distinct as_of_date from keyword_trends").fetchall()
        stamped = con.execute("select count(*) from keyword_trends where built_at is null")
        assert sorted(days) == [(SAMPLE_DATE,), (next_day,)] and stamped.fetchone() == (0,)
        kind = "select table_type from information_schema.tables where table_name = $1"
        assert con.execute(kind, ["int_listings_keyed"]).fetchone() == ("BASE TABLE",)
