"""The keyphrase step against the warehouse: pending papers, incremental corpus statistics and
one write (no Dagster here; the asset in orchestration/defs/keyphrases.py and the benchmarks
call it).

Corpus statistics
-----------------
The extractor re-ranks with document frequencies of normalised words
(:func:`transforms.keyphrases.document_terms`) over every paper in ``papers``. They are kept in
the warehouse instead of being rebuilt from every paper on each run:

* ``raw.keyphrase_doc_freq(term, docs)``: number of counted papers whose text has the term;
* ``raw.keyphrase_counted_papers(paper_id, text_hash, terms)``: the ledger of counted paper
  texts (:data:`TEXT_HASH`) with their sorted terms.

A run (:func:`plan_keyphrases`) counts the papers missing from the ledger, re-counts a paper
whose text changed (its old terms out, the new ones in) and takes out the papers no longer in
``papers`` (a pasted title re-keyed to its arXiv id), using the terms in the ledger: the
statistics always equal :func:`transforms.keyphrases.build_corpus_stats` over the current
``papers``, and nothing re-tokenises papers already counted. Only the frequencies of the words
of the papers to extract are read. :func:`write_keyphrases` stores the keyphrases and the
statistics in one transaction (with the removal of keyphrase rows whose paper is gone).

The extractor version alone decides what is extracted (:func:`plan_keyphrases`: papers with
no rows for the version): statistics that changed do not re-extract old papers.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import duckdb
import polars as pl

from transforms import warehouse
from transforms.keyphrases import (
    CorpusStats,
    ExtractorConfig,
    Keyphrase,
    document_terms,
    keyphrases_frame,
)
from transforms.warehouse import ensure_raw_schema

DOC_FREQ = "raw.keyphrase_doc_freq"
COUNTED = "raw.keyphrase_counted_papers"
KEYPHRASES = "raw.paper_keyphrases"
#: Above this many distinct terms, the whole frequency table is read (one scan) instead of
#: a join on the terms.
_READ_ALL_TERMS = 50_000

#: A paper text's fingerprint in the ledger: DuckDB's 64-bit ``hash`` (a fifth of ``md5``'s
#: cost over 100k abstracts). Should a DuckDB upgrade change it, the next run re-counts every
#: paper once (old terms out, new in): the statistics stay right.
TEXT_HASH = "hash(coalesce(p.title, ''), coalesce(p.abstract, ''))::varchar"


def paper_text(title: str | None, abstract: str | None) -> str:
    """The text a paper is counted (and extracted) by: ``title\\nabstract``."""
    return f"{title or ''}\n{abstract or ''}"


@dataclass
class KeyphrasePlan:
    """What a run does: the papers to extract, the corpus to extract them with, and the
    changes to the statistics that :func:`write_keyphrases` stores."""

    version: str
    papers_total: int
    #: (paper_id, title, abstract) without rows for ``version``, by paper_id.
    pending: list[tuple[str, str, str]]
    #: Statistics after this run's changes, ``df`` restricted to the pending papers' terms.
    corpus: CorpusStats
    #: Ledger rows to add (papers counted now: new, or with a changed text).
    counted: list[tuple[str, str, list[str]]] = field(default_factory=list)
    #: Ledger rows to remove (papers gone, or counted with an older text).
    uncounted: list[str] = field(default_factory=list)
    #: term -> change of its document frequency.
    df_delta: dict[str, int] = field(default_factory=dict)
    papers_removed: int = 0

    @property
    def paper_ids(self) -> list[str]:
        return [pid for pid, _, _ in self.pending]


def plan_keyphrases(con: duckdb.DuckDBPyConnection, config: ExtractorConfig) -> KeyphrasePlan:
    """Read what a run needs (see the module docstring); writes nothing."""
    ensure_raw_schema(con)
    version = config.version()
    (papers_total,) = con.execute("select count(*) from papers").fetchone()
    # Ranks are 1..k: a paper has rows for the version iff it has its rank-1 row.
    pending_ids = con.execute(
        f"select paper_id from papers anti join (select paper_id from {KEYPHRASES} "
        "where extractor_version = ? and rank = 1) using (paper_id)",
        [version],
    ).fetchall()
    pending = _with_ids(
        con,
        [r[0] for r in pending_ids],
        "select p.paper_id, coalesce(p.title, ''), coalesce(p.abstract, '') "
        "from papers p join ids using (paper_id) order by p.paper_id",
    )

    # Ledger changes: papers not counted yet or counted with another text, papers gone.
    changed = con.execute(
        f"select p.paper_id from papers p left join {COUNTED} c using (paper_id) "
        f"where c.paper_id is null or c.text_hash <> {TEXT_HASH}"
    ).fetchall()
    to_count = _with_ids(
        con,
        [r[0] for r in changed],
        f"select p.paper_id, p.title, p.abstract, {TEXT_HASH}, c.terms from papers p "
        f"join ids using (paper_id) left join {COUNTED} c using (paper_id) order by p.paper_id",
    )
    gone_ids = con.execute(
        f"select paper_id from {COUNTED} anti join papers using (paper_id)"
    ).fetchall()
    gone = _with_ids(
        con,
        [r[0] for r in gone_ids],
        f"select c.paper_id, c.terms from {COUNTED} c join ids using (paper_id) "
        "order by c.paper_id",
    )
    (ledger_size,) = con.execute(f"select count(*) from {COUNTED}").fetchone()

    delta: Counter[str] = Counter()
    counted: list[tuple[str, str, list[str]]] = []
    uncounted: list[str] = []
    terms_of: dict[str, set[str]] = {}
    for paper_id, title, abstract, text_hash, old_terms in to_count:
        terms = document_terms(paper_text(title, abstract))
        terms_of[paper_id] = terms
        delta.update(terms)
        counted.append((paper_id, text_hash, sorted(terms)))
        if old_terms is not None:
            delta.subtract(old_terms)
            uncounted.append(paper_id)
    for paper_id, old_terms in gone:
        delta.subtract(old_terms)
        uncounted.append(paper_id)
    df_delta = {t: d for t, d in sorted(delta.items()) if d}
    n_docs = ledger_size - len(uncounted) + len(counted)

    needed: set[str] = set()
    for paper_id, title, abstract in pending:
        terms = terms_of.get(paper_id)
        needed |= terms if terms is not None else document_terms(paper_text(title, abstract))
    df = _read_doc_freq(con, needed)
    for term in needed:
        d = df.get(term, 0) + df_delta.get(term, 0)
        if d > 0:
            df[term] = d
        else:
            df.pop(term, None)
    corpus = CorpusStats(n_docs=n_docs, df=dict(sorted(df.items())))
    return KeyphrasePlan(
        version=version,
        papers_total=papers_total,
        pending=[(str(pid), t, a) for pid, t, a in pending],
        corpus=corpus,
        counted=counted,
        uncounted=uncounted,
        df_delta=df_delta,
        papers_removed=len(gone),
    )


def _with_ids(con: duckdb.DuckDBPyConnection, ids: list, query: str) -> list[tuple]:
    """Run ``query`` with the table ``ids(paper_id)`` registered (nothing when empty)."""
    if not ids:
        return []
    con.register("ids", pl.DataFrame({"paper_id": ids}, schema={"paper_id": pl.String}).to_arrow())
    try:
        return con.execute(query).fetchall()
    finally:
        con.unregister("ids")


def _read_doc_freq(con: duckdb.DuckDBPyConnection, terms: set[str]) -> dict[str, int]:
    if not terms:
        return {}
    if len(terms) > _READ_ALL_TERMS:
        rows = con.execute(f"select term, docs from {DOC_FREQ}").fetchall()
        return {t: d for t, d in rows if t in terms}
    con.register("needed_terms", pl.DataFrame({"term": sorted(terms)}).to_arrow())
    try:
        rows = con.execute(
            f"select f.term, f.docs from {DOC_FREQ} f join needed_terms n on n.term = f.term"
        ).fetchall()
    finally:
        con.unregister("needed_terms")
    return dict(rows)


def write_keyphrases(
    con: duckdb.DuckDBPyConnection, plan: KeyphrasePlan, results: dict[str, list[Keyphrase]]
) -> pl.DataFrame:
    """In one transaction: replace the keyphrase rows of the pending papers, delete those of
    papers no longer in ``papers``, and store the statistics changes. Returns the rows
    written."""
    ensure_raw_schema(con)
    frame = keyphrases_frame(results, plan.version)
    con.execute("begin transaction")
    try:
        con.register("replaced_papers", pl.DataFrame({"paper_id": plan.paper_ids}).to_arrow())
        con.execute(
            f"delete from {KEYPHRASES} where paper_id in (select paper_id from replaced_papers)"
        )
        con.unregister("replaced_papers")
        con.execute(
            f"delete from {KEYPHRASES} k "
            "where not exists (select 1 from papers p where p.paper_id = k.paper_id)"
        )
        # The warehouse's insert helper (by column name; extracted_at takes its default),
        # looked up at call time: the fault tests pause inside it.
        warehouse._insert_frame(con, KEYPHRASES, frame)
        _store_statistics(con, plan)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return frame


def _store_statistics(con: duckdb.DuckDBPyConnection, plan: KeyphrasePlan) -> None:
    if plan.uncounted:
        con.register("uncounted", pl.DataFrame({"paper_id": plan.uncounted}).to_arrow())
        con.execute(f"delete from {COUNTED} where paper_id in (select paper_id from uncounted)")
        con.unregister("uncounted")
    if plan.counted:
        ledger = pl.DataFrame(
            {
                "paper_id": [r[0] for r in plan.counted],
                "text_hash": [r[1] for r in plan.counted],
                "terms": [r[2] for r in plan.counted],
            },
            schema={"paper_id": pl.String, "text_hash": pl.String, "terms": pl.List(pl.String)},
        )
        con.register("counted", ledger.to_arrow())
        con.execute(
            f"insert into {COUNTED} (paper_id, text_hash, terms) "
            "select paper_id, text_hash, terms from counted"
        )
        con.unregister("counted")
    if plan.df_delta:
        delta = pl.DataFrame(
            {"term": list(plan.df_delta), "d": list(plan.df_delta.values())},
            schema={"term": pl.String, "d": pl.Int64},
        )
        con.register("df_delta", delta.to_arrow())
        con.execute(
            f"update {DOC_FREQ} f set docs = f.docs + x.d from df_delta x where x.term = f.term"
        )
        con.execute(
            f"insert into {DOC_FREQ} (term, docs) select x.term, x.d from df_delta x "
            f"where x.d > 0 and not exists (select 1 from {DOC_FREQ} f where f.term = x.term)"
        )
        con.unregister("df_delta")
        con.execute(f"delete from {DOC_FREQ} where docs <= 0")


def stored_corpus_stats(con: duckdb.DuckDBPyConnection) -> CorpusStats:
    """The whole statistics in the warehouse (for tests and checks)."""
    (n_docs,) = con.execute(f"select count(*) from {COUNTED}").fetchone()
    rows = con.execute(f"select term, docs from {DOC_FREQ} where docs > 0 order by term").fetchall()
    return CorpusStats(n_docs=n_docs, df=dict(rows))
