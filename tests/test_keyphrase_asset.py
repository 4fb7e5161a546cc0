"""The keyphrase asset on a temporary warehouse: incremental, config-aware, complete."""

from __future__ import annotations

import dagster as dg
import duckdb
import pytest

from orchestration import env
from orchestration.defs.keyphrases import paper_keyphrases
from orchestration.resources import PapertrendsHome
from tests.conftest import sample_cards

DAY = "2026-11-28"


@pytest.fixture
def warehouse(home: env.Home) -> env.Home:
    cards = sample_cards()[:24]
    with duckdb.connect(str(home.warehouse)) as con:
        con.execute("create table papers (paper_id varchar, title varchar, abstract varchar)")
        con.executemany(
            "insert into papers values (?, ?, ?)",
            [(f"p{i:03d}", title, abstract) for i, (title, abstract) in enumerate(cards)],
        )
    return home


def extract(home: env.Home, **config) -> dict:
    result = dg.materialize(
        [paper_keyphrases],
        partition_key=DAY,
        resources={"papertrends": PapertrendsHome(path=str(home.root))},
        run_config={"ops": {"raw__paper_keyphrases": {"config": config}}} if config else None,
    )
    assert result.success
    (materialization,) = result.asset_materializations_for_node("raw__paper_keyphrases")
    return {k: v.value for k, v in materialization.metadata.items()}


def rows(home: env.Home) -> list[tuple]:
    with duckdb.connect(str(home.warehouse), read_only=True) as con:
        return con.execute(
            "select paper_id, rank, keyphrase, keyphrase_norm, score, extractor_version "
            "from raw.paper_keyphrases order by paper_id, rank"
        ).fetchall()


def test_second_run_extracts_nothing_and_keeps_rows(warehouse: env.Home) -> None:
    first = extract(warehouse, workers=2)
    before = rows(warehouse)
    assert first["papers_extracted"] == 24 and first["papers_skipped"] == 0
    assert first["keyphrases_written"] == len(before)
    assert {r[0] for r in before} == {f"p{i:03d}" for i in range(24)}
    per_paper = {}
    for paper_id, rank, *_ in before:
        per_paper.setdefault(paper_id, []).append(rank)
    assert all(ranks == list(range(1, len(ranks) + 1)) for ranks in per_paper.values())
    assert min(len(r) for r in per_paper.values()) >= 5

    second = extract(warehouse, workers=2)
    assert second["papers_extracted"] == 0 and second["papers_skipped"] == 24
    assert rows(warehouse) == before


def test_new_papers_only_are_extracted(warehouse: env.Home) -> None:
    extract(warehouse)
    title, abstract = sample_cards()[30]
    with duckdb.connect(str(warehouse.warehouse)) as con:
        con.execute("insert into papers values ('p999', ?, ?)", [title, abstract])
    again = extract(warehouse)
    assert again["papers_extracted"] == 1 and again["papers_skipped"] == 24


def test_config_change_re_extracts_everything(warehouse: env.Home) -> None:
    extract(warehouse)
    versions = {r[5] for r in rows(warehouse)}
    changed = extract(warehouse, top=5)
    assert changed["papers_extracted"] == 24
    after = rows(warehouse)
    assert {r[5] for r in after} != versions and len({r[5] for r in after}) == 1
    assert max(r[1] for r in after) == 5


def test_parallel_equals_serial(warehouse: env.Home) -> None:
    extract(warehouse, workers=1)
    serial = rows(warehouse)
    with duckdb.connect(str(warehouse.warehouse)) as con:
        con.execute("delete from raw.paper_keyphrases")
    extract(warehouse, workers=2)
    assert rows(warehouse) == serial
