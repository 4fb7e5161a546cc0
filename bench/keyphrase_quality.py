"""Keyphrase quality: plain YAKE, the compiled scorer alone and the product extractor, F1 at 5
and 10 on every labelled file.

    .venv/bin/python bench/keyphrase_quality.py [--data PATH ...] [--workers N]

Default data: every ``*/*.jsonl`` under ../shared/bench/keyphrase/ (resolved from the repo
root and read there at run time; never copied into the repo). Methods:

* plain YAKE: ``yake.KeywordExtractor(lan="en", n=3, top=10)`` (yake 0.7.3);
* compiled scorer: ``yake_rust.Yake(language="en", ngrams=3)``, ``get_n_best(text, n=10)``;
* product: ``transforms.keyphrases.extract_jsonl`` - exactly what ``papertrends keyphrases``
  runs, corpus statistics from the input file itself.

Targets: Inspec test F1@10 >= 38, and on every file F1@5 and F1@10 no lower than the
extractor this one replaced (code 2026.11.1, on yake 0.7.3; its figures below were measured
with this protocol before the change). Exit status 1 when a target is missed.
Scoring protocol: bench/_common.py.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import (
    SHARED_KEYPHRASE,
    compiled_yake,
    evaluate,
    labelled_files,
    load_jsonl,
    plain_yake,
    resolve_data,
)

#: F1@5, F1@10 of the previous product extractor (code 2026.11.1: yake 0.7.3 + the same
#: cleaning), this protocol, per file relative to ../shared/bench/keyphrase/.
PREVIOUS = {
    "inspec/test.jsonl": (31.3, 38.1),
    "inspec/all_union.jsonl": (24.5, 31.8),
    "semeval2017/all.jsonl": (21.6, 30.6),
}
INSPEC_TEST_F1_10 = 38.0


def product_predictions(docs: list[dict], workers: int | None) -> tuple[list[list[str]], float]:
    from transforms.keyphrases import extract_jsonl

    with tempfile.TemporaryDirectory() as tmp:
        inp, out = Path(tmp) / "in.jsonl", Path(tmp) / "out.jsonl"
        with open(inp, "w", encoding="utf-8") as fh:
            for i, d in enumerate(docs):
                fh.write(json.dumps({"id": f"{i}", "text": d["text"]}) + "\n")
        t0 = time.perf_counter()
        extract_jsonl(inp, out, top=10, workers=workers)
        secs = time.perf_counter() - t0
        with open(out, encoding="utf-8") as fh:
            by_id = {o["id"]: o["keyphrases"] for o in map(json.loads, fh)}
    return [by_id[f"{i}"] for i in range(len(docs))], secs


def timed(extract, docs: list[dict]) -> tuple[list[list[str]], float]:
    t0 = time.perf_counter()
    preds = [extract(d["text"]) for d in docs]
    return preds, time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", action="append", help="labelled JSONL (default: every file)")
    ap.add_argument("--workers", type=int, default=None)
    args = ap.parse_args(argv)
    paths = [resolve_data(p, Path(p)) for p in args.data] if args.data else labelled_files()
    if not paths:
        resolve_data(None, SHARED_KEYPHRASE / "inspec" / "test.jsonl")  # exits with the hint

    from transforms.keyphrases import EXTRACTOR_CODE_VERSION, ExtractorConfig

    print(f"product: code {EXTRACTOR_CODE_VERSION}, config version {ExtractorConfig().version()}")
    header = f"{'method':34s} {'P@5':>6s} {'R@5':>6s} {'F1@5':>6s} {'P@10':>6s} {'R@10':>6s} {'F1@10':>6s} {'secs':>6s}"
    failures = []
    summary = []
    root = SHARED_KEYPHRASE.resolve()
    for path in paths:
        docs = load_jsonl(path)
        golds = [d["keyphrases"] for d in docs]
        name = path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)
        product, t_prod = product_predictions(docs, args.workers)
        rows = [
            ("plain YAKE (yake, n=3, top=10)", *timed(plain_yake(), docs)),
            ("compiled scorer (yake-rust, n=3)", *timed(compiled_yake(), docs)),
            ("product extractor", product, t_prod),
        ]
        print(f"\n{name} ({len(docs)} docs)")
        print(header)
        for method, preds, secs in rows:
            r = evaluate(preds, golds)
            print(
                f"{method:34s} "
                + " ".join(f"{v:6.1f}" for k in (5, 10) for v in r[k])
                + f" {secs:6.1f}"
            )
        r = evaluate(product, golds)
        f5, f10 = round(r[5][2], 1), round(r[10][2], 1)
        prev = PREVIOUS.get(name)
        if prev is not None:
            print(
                f"{'previous extractor (2026.11.1)':34s} {'':13s} {prev[0]:6.1f} {'':13s} {prev[1]:6.1f}"
            )
            if f5 < prev[0] or f10 < prev[1]:
                failures.append(f"{name}: F1@5/F1@10 {f5}/{f10} below the previous {prev}")
        if name == "inspec/test.jsonl" and f10 < INSPEC_TEST_F1_10:
            failures.append(f"{name}: F1@10 {f10} < {INSPEC_TEST_F1_10}")
        summary.append((name, f5, f10, prev))

    print("\ntargets: Inspec test F1@10 >= 38; every file no lower than the previous extractor")
    for name, f5, f10, prev in summary:
        was = f" (previous {prev[0]:.1f} / {prev[1]:.1f})" if prev else ""
        print(f"  {name:28s} product F1@5 {f5:.1f}  F1@10 {f10:.1f}{was}")
    print("targets met" if not failures else "targets MISSED:\n  " + "\n  ".join(failures))
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
