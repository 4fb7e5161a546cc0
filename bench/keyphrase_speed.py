"""Keyphrase speed, in one run: plain serial YAKE, the compiled scorer alone, the product
extractor (serial and on every core) and `papertrends keyphrases` end to end.

    .venv/bin/python bench/keyphrase_speed.py [--data PATH] [--workers N] [--limit N] [--runs N]

Default data: ../shared/bench/keyphrase/inspec/all_union.jsonl (2,000 abstracts, read there).
Per run it times, on the same documents:

* plain YAKE, serial: ``yake.KeywordExtractor(lan="en", n=3, top=10)`` (yake 0.7.3);
* the compiled scorer alone, serial: ``yake_rust.Yake(language="en", ngrams=3)``, top 10;
* the product extractor in-process (``extract_many``), serial and with one worker per core,
  each including the corpus statistics of the documents (serial: ``build_corpus_stats``
  first; on every core: ``corpus="auto"``, counted by the parent while the workers score),
  each starting with empty word/phrase caches;
* ``papertrends keyphrases --input ... --output ...`` as a subprocess (interpreter start-up,
  imports, reading, statistics, extraction on every core, writing).

It checks that the parallel output equals the serial one and that the command's output equals
the in-process one. With ``--runs N`` everything is run N times and each speed-up is reported
for the worst run. One warm-up run comes first (``--warmup 1``; its figures are printed, not
counted): the first run of a session pays for the page cache and lazy imports (the command's
first start took 1.2 s longer than the next ones here). Targets (against plain serial YAKE of the same run): the command >= 5x, the
extractor in-process on every core >= 8x. Exit status 1 when a check or a target fails.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import (
    DEFAULT_ALL,
    compiled_yake,
    load_jsonl,
    plain_yake,
    resolve_data,
    split_text,
)

TARGET_COMMAND = 5.0
TARGET_IN_PROCESS = 8.0


def _papertrends() -> str:
    exe = Path(sys.executable).with_name("papertrends")
    return str(exe) if exe.exists() else "papertrends"


def one_run(texts: list[str], ids: list[str], workers: int, tmp: Path) -> dict:
    from transforms.keyphrases import build_corpus_stats, clear_caches, extract_many

    docs = [(i, *split_text(t)) for i, t in zip(ids, texts, strict=True)]
    out: dict = {}

    extract = plain_yake()
    t0 = time.perf_counter()
    for t in texts:
        extract(t)
    out["plain"] = time.perf_counter() - t0

    extract = compiled_yake()
    t0 = time.perf_counter()
    for t in texts:
        extract(t)
    out["compiled"] = time.perf_counter() - t0

    # Each product run starts with empty word/phrase caches, as a fresh process would.
    clear_caches()
    t0 = time.perf_counter()
    corpus = build_corpus_stats(texts)
    out["stats"] = time.perf_counter() - t0
    serial = extract_many(docs, corpus=corpus, workers=1)
    out["serial"] = time.perf_counter() - t0

    clear_caches()
    t0 = time.perf_counter()
    parallel = extract_many(docs, corpus="auto", workers=workers)  # statistics of the docs
    out["parallel"] = time.perf_counter() - t0
    out["parallel_equal"] = parallel == serial and list(parallel) == list(serial)

    inp, res = tmp / "in.jsonl", tmp / "out.jsonl"
    with open(inp, "w", encoding="utf-8") as fh:
        for i, t in zip(ids, texts, strict=True):
            fh.write(json.dumps({"id": i, "text": t}) + "\n")
    cmd = [_papertrends(), "keyphrases", "--input", str(inp), "--output", str(res)]
    cmd += ["--workers", str(workers)]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    out["command"] = time.perf_counter() - t0
    with open(res, encoding="utf-8") as fh:
        got = {o["id"]: o["keyphrases"] for o in map(json.loads, fh)}
    out["command_equal"] = got == {i: [k.keyphrase for k in kps] for i, kps in serial.items()}
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=None, help="JSONL with id/text (default: Inspec all_union)")
    ap.add_argument("--workers", type=int, default=None, help="default: os.cpu_count()")
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--runs", type=int, default=1, help="repeat, report the worst speed-ups")
    ap.add_argument("--warmup", type=int, default=1, help="untimed runs first (printed)")
    args = ap.parse_args(argv)
    path = resolve_data(args.data, DEFAULT_ALL)
    raw = load_jsonl(path)[: args.limit]
    texts = [d["text"] for d in raw]
    ids = [f"{d['id']}#{i}" for i, d in enumerate(raw)]
    n = len(texts)
    workers = args.workers or os.cpu_count() or 1
    print(f"data: {path} ({n} docs), cores: {os.cpu_count()}, workers: {workers}")

    runs, checked = [], []  # checked: the warm-up too
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(-args.warmup, args.runs):
            load = os.getloadavg()[0]
            x = one_run(texts, ids, workers, Path(tmp))
            checked.append(x)
            if r >= 0:
                runs.append(x)
            print(
                f"{'warm-up' if r < 0 else f'run {r + 1}'}: "
                f"plain {x['plain']:.2f} s, compiled {x['compiled']:.2f} s, "
                f"statistics {x['stats']:.2f} s, serial {x['serial']:.2f} s, "
                f"parallel {x['parallel']:.2f} s, "
                f"command {x['command']:.2f} s "
                f"(1-min load average {load:.2f} before, {os.getloadavg()[0]:.2f} after, "
                "this run included; other work slows the runs on every core most)",
                flush=True,
            )

    def worst(key: str) -> dict:
        return min(runs, key=lambda x: x["plain"] / x[key])

    rows = [
        ("plain YAKE (yake 0.7.3), serial", "plain", None),
        ("compiled scorer alone (yake-rust), serial", "compiled", None),
        ("product extractor, serial", "serial", None),
        (f"product extractor, {workers} workers", "parallel", TARGET_IN_PROCESS),
        (f"`papertrends keyphrases`, {workers} workers", "command", TARGET_COMMAND),
    ]
    print(
        f"\n{'(worst run of ' + str(len(runs)) + ')':44s} {'secs':>7s} {'docs/s':>8s} {'vs plain':>9s}"
    )
    failures = []
    for label, key, target in rows:
        x = worst(key)
        ratio = x["plain"] / x[key]
        mark = ""
        if target is not None:
            ok = ratio >= target
            mark = f"  target >= {target:.0f}x: {'met' if ok else 'MISSED'}"
            if not ok:
                failures.append(f"{label}: {ratio:.2f}x < {target}x")
        print(f"{label:44s} {x[key]:7.2f} {n / x[key]:8.1f} {ratio:8.2f}x{mark}")
    same = all(x["parallel_equal"] for x in checked)
    same_cmd = all(x["command_equal"] for x in checked)
    print(f"parallel output == serial output: {same}")
    print(f"command output == in-process output: {same_cmd}")
    if not (same and same_cmd):
        failures.append("outputs differ")
    print("targets met" if not failures else "MISSED: " + "; ".join(failures))
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
