"""A daily run's keyphrase step at 100k papers: 300 new papers into a warehouse of 100,000.

    .venv/bin/python bench/keyphrase_incremental.py [--papers N] [--new N] [--days N] [--workers N]

Builds a temporary warehouse of ``--papers`` papers (deterministic: titles and sentences of the
bundled sample data/samples/hf_papers_sequence.txt and of the Inspec abstracts, read from
../shared/bench/keyphrase/ at run time, recombined with a seeded generator), with keyphrase rows
of the current extractor version (10 per paper) and the corpus statistics tables filled as
earlier runs would have left them. Then, for each of ``--days`` days, ``--new`` new papers are
added and the keyphrase step's work is timed as the asset does it: open the warehouse, plan
(pending papers, statistics changes, the frequencies of their words), extract on every core,
open it again and write keyphrases + statistics in one transaction. Target: <= 2 s per day
(worst day). It also checks that the day's keyphrases equal those extracted with the whole
stored statistics, and that the statistics grew by the new papers only.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import DEFAULT_ALL, REPO_ROOT, load_jsonl, resolve_data, split_text

SAMPLE = REPO_ROOT / "data" / "samples" / "hf_papers_sequence.txt"
TARGET_S = 2.0
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


def text_pools(inspec: Path) -> tuple[list[str], list[str]]:
    """Titles and sentences to recombine (sample listing + Inspec abstracts)."""
    from transforms.listing import parse_listing_file

    result, _ = parse_listing_file(SAMPLE)
    pairs = [(r.title, r.abstract) for r in result.records]
    pairs += [split_text(d["text"]) for d in load_jsonl(inspec)]
    titles = sorted({t.strip() for t, _ in pairs if t.strip()})
    sentences = sorted(
        {s.strip() for _, a in pairs for s in _SENTENCE_END.split(a) if len(s.strip()) > 20}
    )
    return titles, sentences


def make_papers(rng: random.Random, titles, sentences, start: int, n: int) -> list[tuple]:
    out = []
    for i in range(start, start + n):
        title = rng.choice(titles)
        abstract = " ".join(rng.choice(sentences) for _ in range(rng.randint(5, 8)))
        out.append((f"arxiv:{2601 + i // 100_000}.{i % 100_000:05d}", title, abstract))
    return out


def build_warehouse(path: Path, papers: list[tuple], version: str) -> None:
    """papers + 10 keyphrase rows each + the statistics tables as earlier runs left them."""
    import duckdb
    import polars as pl

    from transforms.keyphrase_store import TEXT_HASH, paper_text
    from transforms.keyphrases import document_terms
    from transforms.warehouse import ensure_raw_schema

    # Terms of a paper = union of its pieces' terms (pieces are joined at whitespace, which
    # no term spans); checked against document_terms on a sample below.
    piece_terms: dict[str, frozenset[str]] = {}

    def terms_of(title: str, abstract: str) -> set[str]:
        out: set[str] = set()
        for piece in (title, *_SENTENCE_END.split(abstract)):
            t = piece_terms.get(piece)
            if t is None:
                t = piece_terms[piece] = frozenset(document_terms(piece))
            out |= t
        return out

    terms = [sorted(terms_of(t, a)) for _, t, a in papers]
    for k in range(0, len(papers), max(1, len(papers) // 200)):
        _, t, a = papers[k]
        assert set(terms[k]) == document_terms(paper_text(t, a)), papers[k][0]
    df = Counter(term for ts in terms for term in ts)

    con = duckdb.connect(str(path))
    ensure_raw_schema(con)
    frame = pl.DataFrame(
        {
            "paper_id": [p[0] for p in papers],
            "title": [p[1] for p in papers],
            "abstract": [p[2] for p in papers],
            "terms": terms,
        }
    )
    con.register("generated", frame.to_arrow())
    con.execute(
        "create table papers as select paper_id, title, abstract from generated order by paper_id"
    )
    con.execute(
        "insert into raw.keyphrase_counted_papers select p.paper_id, "
        f"{TEXT_HASH}, p.terms "
        "from generated p"
    )
    con.unregister("generated")
    stats = pl.DataFrame({"term": list(df), "docs": list(df.values())})
    con.register("stats", stats.to_arrow())
    con.execute("insert into raw.keyphrase_doc_freq select term, docs from stats")
    con.unregister("stats")
    con.execute(
        "insert into raw.paper_keyphrases (paper_id, rank, keyphrase, keyphrase_norm, score, "
        "extractor_version) select paper_id, r, 'phrase ' || r, 'phrase ' || r, 1.0 / (1 + r), ? "
        "from papers, range(1, 11) t(r)",
        [version],
    )
    con.execute("checkpoint")
    con.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--papers", type=int, default=100_000)
    ap.add_argument("--new", type=int, default=300)
    ap.add_argument("--days", type=int, default=3)
    ap.add_argument("--workers", type=int, default=None, help="default: os.cpu_count()")
    ap.add_argument("--data", default=None, help="Inspec JSONL (default: all_union)")
    args = ap.parse_args(argv)
    inspec = resolve_data(args.data, DEFAULT_ALL)
    workers = args.workers or os.cpu_count() or 1

    from transforms.keyphrase_store import plan_keyphrases, stored_corpus_stats, write_keyphrases
    from transforms.keyphrases import ExtractorConfig, KeyphraseExtractor, extract_many
    from transforms.warehouse import connect_warehouse

    config = ExtractorConfig()
    rng = random.Random(20261201)
    titles, sentences = text_pools(inspec)
    t0 = time.perf_counter()
    papers = make_papers(rng, titles, sentences, 0, args.papers)
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        warehouse = Path(tmp) / "warehouse.duckdb"
        build_warehouse(warehouse, papers, config.version())
        size = warehouse.stat().st_size / 1e6
        print(
            f"warehouse: {args.papers} papers, {args.papers * 10} keyphrase rows, statistics "
            f"filled ({size:.0f} MB, built in {time.perf_counter() - t0:.1f} s); "
            f"cores: {os.cpu_count()}, workers: {workers}"
        )
        print(
            f"{'day':>4s} {'new':>5s} {'plan':>7s} {'extract':>8s} {'write':>7s} {'step':>7s}"
            f" {'corpus':>8s} {'terms read':>10s}"
        )
        worst = 0.0
        start = args.papers
        for day in range(1, args.days + 1):
            new = make_papers(rng, titles, sentences, start, args.new)
            start += args.new
            import duckdb

            with duckdb.connect(str(warehouse)) as con:
                con.executemany("insert into papers values (?, ?, ?)", new)

            t_start = time.perf_counter()
            with connect_warehouse(warehouse, read_only=False) as con:
                plan = plan_keyphrases(con, config)
            t_plan = time.perf_counter()
            results = extract_many(plan.pending, config, plan.corpus, workers=workers)
            t_extract = time.perf_counter()
            with connect_warehouse(warehouse, read_only=False) as con:
                write_keyphrases(con, plan, results)
            t_end = time.perf_counter()
            step = t_end - t_start
            worst = max(worst, step)
            print(
                f"{day:4d} {len(plan.pending):5d} {t_plan - t_start:7.2f} "
                f"{t_extract - t_plan:8.2f} {t_end - t_extract:7.2f} {step:7.2f} "
                f"{plan.corpus.n_docs:8d} {len(plan.corpus.df):10d}",
                flush=True,
            )
            if sorted(plan.paper_ids) != sorted(p[0] for p in new):
                failures.append(f"day {day}: pending is not exactly the new papers")
            if len(plan.counted) != len(new):
                failures.append(f"day {day}: counted {len(plan.counted)} papers, not the new ones")
            with connect_warehouse(warehouse, read_only=True) as con:
                full = stored_corpus_stats(con)
            if full.n_docs != start:
                failures.append(f"day {day}: {full.n_docs} papers counted, expected {start}")
            check = KeyphraseExtractor(config, full)
            if any(results[pid] != check.extract(t, a) for pid, t, a in new[:50]):
                failures.append(f"day {day}: keyphrases differ from the whole statistics'")
    ok = worst <= TARGET_S
    print(
        f"worst day: {worst:.2f} s for {args.new} new papers at {args.papers:,}+ papers "
        f"(target <= {TARGET_S:.0f} s: {'met' if ok else 'MISSED'})"
    )
    if failures:
        print("checks failed:\n  " + "\n  ".join(failures))
    else:
        print("checks: pending = the new papers, statistics grew by them only, keyphrases equal")
    return 0 if ok and not failures else 1


if __name__ == "__main__":
    sys.exit(main())
