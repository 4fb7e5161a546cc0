"""The daily graph on a temporary home: a re-run date gives identical tables, papers across
dates, quarantine, and an empty date's digest.

The whole run is the point of the re-run (as the CLI runs it, recorded in the home's
Dagster instance) and of the empty date (the whole job, tests.conftest.run_job); papers
across dates and quarantine are asserted in raw.listings, raw.rejected_records, papers and
paper_appearances, so they run the ingest step and the warehouse models only."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from orchestration import env
from orchestration.definitions import defs
from orchestration.defs.ingest import raw_listings
from orchestration.runs import materialize
from tests.conftest import SAMPLE_DATE, land, run_job, sample_cards

D1, D2 = dt.date(2026, 11, 2), dt.date(2026, 11, 3)
#: The ingest step and the dbt models of papers and paper_appearances (with their checks).
WAREHOUSE = sorted(raw_listings.keys) + sorted(defs.resolve_assets_def("papers").keys)

TABLES = {
    "raw.listings": "select * exclude (ingested_at) from raw.listings",
    "raw.rejected_records": "select * exclude (ingested_at) from raw.rejected_records",
    "papers": "select * exclude (built_at) from papers",
    "paper_appearances": "select * exclude (built_at) from paper_appearances",
}


def snapshot(home: env.Home) -> dict[str, list[tuple]]:
    with duckdb.connect(str(home.warehouse), read_only=True) as con:
        return {name: sorted(con.execute(sql).fetchall()) for name, sql in TABLES.items()}


@pytest.mark.slow
def test_rerunning_a_date_leaves_identical_tables(
    sample_home: env.Home, sample_home_copy: env.Home
) -> None:
    """The whole graph again on the session's sample date (200 papers, built once by
    ``papertrends run``): the tables come out the same."""
    first = snapshot(sample_home)
    materialize(sample_home_copy, SAMPLE_DATE)
    assert snapshot(sample_home_copy) == first
    assert len(first["raw.listings"]) == 200
    assert len(first["papers"]) == 200


@pytest.mark.slow
def test_two_dates_sharing_papers_give_one_row_per_paper(sample_home_copy: env.Home) -> None:
    """The sample's 200 papers on its date; the next day lists papers 80..200, re-ordered,
    one of them re-cased."""
    home, day1, day2_date = sample_home_copy, SAMPLE_DATE, SAMPLE_DATE + dt.timedelta(days=1)
    cards = sample_cards()
    day2 = cards[80:][::-1]
    day2[0] = (day2[0][0].upper() + "  ", day2[0][1])
    land(home, day2_date, "page.txt", day2)
    run_job(day2_date, selection=WAREHOUSE)
    with duckdb.connect(str(home.warehouse), read_only=True) as con:
        papers = con.execute("select count(*), count(distinct paper_id) from papers").fetchone()
        shared = con.execute(
            "select count(*) from papers where times_listed = 2 "
            "and first_listed = ? and last_listed = ?",
            [day1, day2_date],
        ).fetchone()[0]
        appearances = con.execute("select count(*) from paper_appearances").fetchone()[0]
        recased = con.execute(
            "select times_listed, title from papers where lower(title) = lower(?)",
            [cards[-1][0]],
        ).fetchone()
        ranks = con.execute(
            "select best_rank from paper_appearances a join papers p using (paper_id) "
            "where p.title = ? order by listing_date",
            [cards[100][0]],
        ).fetchall()
    assert papers == (200, 200)
    assert shared == 120
    assert appearances == 200 + 120
    # The re-cased title is the same paper as the first day's; the latest listing's title wins.
    assert recased == (2, cards[-1][0].upper())
    assert ranks == [(101,), (len(day2) - 100 + 80,)]


@pytest.mark.slow
def test_bad_file_and_bad_cards_are_quarantined_and_good_records_kept(home: env.Home) -> None:
    cards = sample_cards()
    folder = land(home, D1, "good.txt", cards[:30]).parent
    (folder / "binary.bin").write_bytes(bytes(range(256)) * 8)
    text = "\n".join([cards[40][0], cards[40][1], cards[41][1], cards[42][0], cards[42][1]])
    (folder / "mixed.txt").write_text(text + "\n" + cards[43][0])
    (folder / "z-again.txt").write_bytes((folder / "good.txt").read_bytes())
    run_job(D1, selection=WAREHOUSE)
    with duckdb.connect(str(home.warehouse), read_only=True) as con:
        kept = con.execute(
            "select source_file, count(*) from raw.listings group by 1 order by 1"
        ).fetchall()
        reasons = con.execute(
            "select source_file, reason from raw.rejected_records order by source_file, position"
        ).fetchall()
        papers = con.execute("select count(*) from papers").fetchone()[0]
    assert kept == [("good.txt", 30), ("mixed.txt", 2)]
    assert papers == 32
    assert reasons == [
        ("binary.bin", "binary.bin: binary data, not a text listing"),
        ("mixed.txt", "abstract without title"),
        ("mixed.txt", "title without abstract at end of file"),
        ("z-again.txt", "z-again.txt: same content as good.txt, landed twice: skipped"),
    ]


@pytest.mark.slow
def test_a_date_with_no_files_materializes_empty_with_a_digest_saying_why(
    home: env.Home,
) -> None:
    run_job(D1)  # the whole job
    with duckdb.connect(str(home.warehouse), read_only=True) as con:
        assert con.execute("select count(*) from raw.listings").fetchone() == (0,)
        assert con.execute("select count(*) from papers").fetchone() == (0,)
    digest = (home.publish / D1.isoformat() / "digest.md").read_text()
    assert f"no listing landed for {D1}" in digest
    assert "No papers" in digest
