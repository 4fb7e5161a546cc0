"""Keyphrase quality: the product extractor vs plain YAKE on a labelled JSONL file.

    .venv/bin/python bench/keyphrase_quality.py [--data PATH] [--workers N]

Default data: ../shared/bench/keyphrase/inspec/test.jsonl (resolved from the repo root; never
copied into the repo). The product side runs ``transforms.keyphrases.extract_jsonl`` - exactly
what the CLI/pipeline use, with corpus statistics taken from the input file itself - and plain
YAKE is ``yake.KeywordExtractor(lan="en", n=3, top=10)``. Scoring protocol: bench/_common.py.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import DEFAULT_TEST, evaluate, load_jsonl, resolve_data


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=None, help="labelled JSONL (default: Inspec test)")
    ap.add_argument("--workers", type=int, default=None)
    args = ap.parse_args(argv)
    path = resolve_data(args.data, DEFAULT_TEST)

    import yake

    from transforms.keyphrases import EXTRACTOR_CODE_VERSION, ExtractorConfig, extract_jsonl

    docs = load_jsonl(path)
    golds = [d["keyphrases"] for d in docs]

    with tempfile.TemporaryDirectory() as tmp:
        inp, out = Path(tmp) / "in.jsonl", Path(tmp) / "out.jsonl"
        with open(inp, "w", encoding="utf-8") as fh:
            for d in docs:
                fh.write(json.dumps({"id": d["id"], "text": d["text"]}) + "\n")
        t0 = time.perf_counter()
        extract_jsonl(inp, out, top=10, workers=args.workers)
        t_prod = time.perf_counter() - t0
        by_id = {}
        with open(out, encoding="utf-8") as fh:
            for line in fh:
                o = json.loads(line)
                by_id[o["id"]] = o["keyphrases"]
    product = [by_id[d["id"]] for d in docs]

    t0 = time.perf_counter()
    y = yake.KeywordExtractor(lan="en", n=3, top=10)
    plain = [[kw for kw, _ in y.extract_keywords(d["text"])] for d in docs]
    t_yake = time.perf_counter() - t0

    rows = [
        ("plain YAKE (n=3, top=10)", evaluate(plain, golds), t_yake),
        ("product extractor", evaluate(product, golds), t_prod),
    ]
    cfg = ExtractorConfig()
    print(f"data: {path} ({len(docs)} docs)")
    print(f"product: code {EXTRACTOR_CODE_VERSION}, config version {cfg.version()}")
    print(
        f"{'method':28s} {'P@5':>6s} {'R@5':>6s} {'F1@5':>6s} {'P@10':>6s} {'R@10':>6s} {'F1@10':>6s} {'secs':>6s}"
    )
    for name, r, secs in rows:
        print(
            f"{name:28s} " + " ".join(f"{v:6.1f}" for k in (5, 10) for v in r[k]) + f" {secs:6.1f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
