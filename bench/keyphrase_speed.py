"""Keyphrase speed: plain serial YAKE vs the product extractor (serial and process pool).

    .venv/bin/python bench/keyphrase_speed.py [--data PATH] [--workers N] [--limit N]

Default data: ../shared/bench/keyphrase/inspec/all_union.jsonl (2,000 abstracts). Prints
papers/s for plain YAKE (``KeywordExtractor(lan="en", n=3, top=10)``, serial), the product
extractor serial and in parallel (``extract_many``), checks parallel == serial output, and
times the incremental re-run against a temporary DuckDB table ``paper_keyphrases``:
first run = select_pending + extract_many + write; second run = read existing + select_pending
(finds nothing to do).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import DEFAULT_ALL, load_jsonl, resolve_data


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=None, help="JSONL with id/text (default: Inspec all_union)")
    ap.add_argument("--workers", type=int, default=None, help="default: os.cpu_count()")
    ap.add_argument("--limit", type=int, default=None)
    args = ap.parse_args(argv)
    path = resolve_data(args.data, DEFAULT_ALL)

    import duckdb
    import polars as pl
    import yake

    from transforms.keyphrases import (
        KEYPHRASE_SCHEMA,
        ExtractorConfig,
        build_corpus_stats,
        extract_many,
        keyphrases_frame,
        select_pending,
    )

    raw = load_jsonl(path)[: args.limit]
    docs = []
    for i, d in enumerate(raw):
        title, _, abstract = d["text"].partition("\n")
        docs.append((f"{d['id']}#{i}", title, abstract))
    n = len(docs)
    workers = args.workers or os.cpu_count() or 1
    cfg = ExtractorConfig()
    version = cfg.version()
    print(f"data: {path} ({n} docs), cores: {os.cpu_count()}, workers: {workers}")

    t0 = time.perf_counter()
    corpus = build_corpus_stats(f"{t}\n{a}" for _, t, a in docs)
    t_corpus = time.perf_counter() - t0

    y = yake.KeywordExtractor(lan="en", n=3, top=10)
    t0 = time.perf_counter()
    for _, t, a in docs:
        y.extract_keywords(f"{t}\n{a}")
    t_yake = time.perf_counter() - t0

    t0 = time.perf_counter()
    serial = extract_many(docs, cfg, corpus, workers=1)
    t_serial = time.perf_counter() - t0

    t0 = time.perf_counter()
    parallel = extract_many(docs, cfg, corpus, workers=workers)
    t_par = time.perf_counter() - t0
    identical = parallel == serial and list(parallel) == list(serial)

    print(f"corpus stats build:             {t_corpus:7.2f} s")
    print(f"plain YAKE, serial:             {n / t_yake:7.1f} papers/s")
    print(
        f"product extractor, serial:      {n / t_serial:7.1f} papers/s  ({t_yake / t_serial:.2f}x plain YAKE)"
    )
    print(
        f"product extractor, {workers} workers:   {n / t_par:7.1f} papers/s  ({t_yake / t_par:.2f}x plain YAKE serial)"
    )
    print(f"parallel output == serial output: {identical}")

    papers = pl.DataFrame(
        {
            "paper_id": [d[0] for d in docs],
            "title": [d[1] for d in docs],
            "abstract": [d[2] for d in docs],
        }
    )
    with tempfile.TemporaryDirectory() as tmp:
        con = duckdb.connect(str(Path(tmp) / "bench.duckdb"))
        con.execute(
            "CREATE TABLE paper_keyphrases (paper_id VARCHAR, rank INTEGER, keyphrase VARCHAR, "
            "keyphrase_norm VARCHAR, score DOUBLE, extractor_version VARCHAR)"
        )
        empty = pl.DataFrame(schema=KEYPHRASE_SCHEMA)

        t0 = time.perf_counter()
        pending = select_pending(papers, empty, version)
        results = extract_many(
            list(pending.select("paper_id", "title", "abstract").iter_rows()),
            cfg,
            corpus,
            workers=workers,
        )
        frame = keyphrases_frame(results, version)
        con.register("new_rows", frame.to_arrow())
        con.execute("INSERT INTO paper_keyphrases SELECT * FROM new_rows")
        con.unregister("new_rows")
        t_first = time.perf_counter() - t0

        t0 = time.perf_counter()
        existing = con.execute("SELECT * FROM paper_keyphrases").pl()
        pending2 = select_pending(papers, existing, version)
        t_second = time.perf_counter() - t0
        rows = con.execute("SELECT count(*) FROM paper_keyphrases").fetchone()[0]
        con.close()

    print(
        f"incremental, first run:  {pending.height} pending, {rows} rows written in {t_first:.2f} s"
    )
    print(f"incremental, second run: {pending2.height} pending in {t_second * 1000:.1f} ms")
    print(f"first/second ratio: {t_first / t_second:.0f}x")
    ok = identical and pending2.height == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
