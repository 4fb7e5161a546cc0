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


# ------------------------------------------------------------ incremental corpus statistics


def _run_step(con: duckdb.DuckDBPyConnection, workers: int = 1):
    from transforms.keyphrase_store import plan_keyphrases, write_keyphrases
    from transforms.keyphrases import ExtractorConfig, extract_many

    config = ExtractorConfig()
    plan = plan_keyphrases(con, config)
    results = extract_many(plan.pending, config=config, corpus=plan.corpus, workers=workers)
    write_keyphrases(con, plan, results)
    return plan, results


def _rebuilt(con: duckdb.DuckDBPyConnection):
    """The statistics rebuilt from scratch over the current papers."""
    from transforms.keyphrase_store import paper_text
    from transforms.keyphrases import build_corpus_stats

    rows = con.execute("select title, abstract from papers").fetchall()
    return build_corpus_stats(paper_text(t, a) for t, a in rows)


def _stored_rows(con: duckdb.DuckDBPyConnection, paper_ids) -> dict[str, list[tuple]]:
    rows = con.execute(
        "select paper_id, rank, keyphrase, keyphrase_norm, score from raw.paper_keyphrases "
        "where paper_id in (select unnest(?)) order by paper_id, rank",
        [list(paper_ids)],
    ).fetchall()
    out: dict[str, list[tuple]] = {}
    for paper_id, *rest in rows:
        out.setdefault(paper_id, []).append(tuple(rest))
    return out


def test_incremental_statistics_equal_rebuilt_over_days(tmp_path) -> None:
    """Day by day: new papers, a pasted title re-keyed to its arXiv id, a corrected
    abstract, a paper gone. After every run the stored statistics equal statistics rebuilt
    from all papers, and each run's keyphrases equal those extracted with the rebuilt ones."""
    from transforms.keyphrase_store import stored_corpus_stats
    from transforms.keyphrases import KeyphraseExtractor

    cards = sample_cards()
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    con.execute("create table papers (paper_id varchar, title varchar, abstract varchar)")

    def add(first: int, last: int) -> None:
        con.executemany(
            "insert into papers values (?, ?, ?)",
            [(f"p{i:03d}", *cards[i]) for i in range(first, last)],
        )

    def check(expect_pending: set[str]) -> dict:
        rebuilt = _rebuilt(con)
        plan, results = _run_step(con)
        assert set(plan.paper_ids) == expect_pending
        assert stored_corpus_stats(con) == rebuilt
        scratch = KeyphraseExtractor(corpus=rebuilt)
        texts = dict((pid, (t, a)) for pid, t, a in con.execute("select * from papers").fetchall())
        for pid in plan.paper_ids:
            assert results[pid] == scratch.extract(*texts[pid]), pid
        return _stored_rows(con, texts)

    add(0, 12)
    day1 = check({f"p{i:03d}" for i in range(12)})

    add(12, 24)
    con.execute("update papers set paper_id = 'arxiv:2601.00003' where paper_id = 'p003'")
    con.execute("update papers set abstract = abstract || ' Corrected.' where paper_id = 'p005'")
    day2 = check({f"p{i:03d}" for i in range(12, 24)} | {"arxiv:2601.00003"})
    assert "p003" not in day2  # the re-keyed paper's old rows are gone
    assert day2["p005"] == day1["p005"]  # new statistics or text alone re-extract nothing

    con.execute("delete from papers where paper_id = 'p007'")
    add(24, 30)
    day3 = check({f"p{i:03d}" for i in range(24, 30)})
    assert "p007" not in day3
    (ledger,) = con.execute("select count(*) from raw.keyphrase_counted_papers").fetchone()
    assert ledger == 29
    # nothing to do: the statistics stay as they are
    plan, _ = _run_step(con)
    assert plan.pending == [] and plan.counted == [] and plan.df_delta == {}
    assert stored_corpus_stats(con) == _rebuilt(con)


def test_daily_run_reads_only_new_papers(tmp_path) -> None:
    """Papers already counted are not tokenised again; only the new ones' words are read."""
    import transforms.keyphrase_store as store

    cards = sample_cards()
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    con.execute("create table papers (paper_id varchar, title varchar, abstract varchar)")
    con.executemany(
        "insert into papers values (?, ?, ?)", [(f"p{i:03d}", *cards[i]) for i in range(20)]
    )
    _run_step(con)
    con.execute("insert into papers values ('new', ?, ?)", list(cards[40]))
    seen: list[str] = []
    real = store.document_terms
    try:
        store.document_terms = lambda text: seen.append(text) or real(text)
        plan, _ = _run_step(con)
    finally:
        store.document_terms = real
    assert seen == [store.paper_text(*cards[40])]
    assert plan.paper_ids == ["new"] and plan.corpus.n_docs == 21
    assert set(plan.corpus.df) <= real(store.paper_text(*cards[40]))


def test_asset_keeps_statistics(warehouse: env.Home) -> None:
    first = extract(warehouse, workers=2)
    assert first["corpus_papers"] == 24 and first["corpus_papers_counted"] == 24
    with duckdb.connect(str(warehouse.warehouse)) as con:
        (terms,) = con.execute("select count(*) from raw.keyphrase_doc_freq").fetchone()
        (ledger,) = con.execute("select count(*) from raw.keyphrase_counted_papers").fetchone()
    assert terms > 100 and ledger == 24
    again = extract(warehouse, workers=2)
    assert again["corpus_papers"] == 24 and again["corpus_papers_counted"] == 0
