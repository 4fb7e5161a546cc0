"""How fast parse_document reads each listing format, in MB/s.

    .venv/bin/python bench/parse_speed.py

Each format's documents are built in memory from the real samples in
tests/fixtures/formats (and data/samples/hf_papers_sequence.txt for page text),
replicated to a few MB: JSON arrays get their items concatenated into one array, feeds
their entries repeated inside one feed, the snapshot its lines repeated, page text its
cards repeated. Every copy gets its own arXiv id (and the page text its own title), so
the parser does the full work for it instead of rejecting a duplicate. The single-paper
JSON cannot grow, so it is parsed repeatedly. Time: best of three runs.
"""

from __future__ import annotations

import json
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from transforms.formats import iter_snapshot, parse_document  # noqa: E402
from transforms.listing import decode_listing, parse_listing  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures" / "formats"
SEQUENCE = ROOT / "data" / "samples" / "hf_papers_sequence.txt"
TARGET_BYTES = 4 * 1024 * 1024
ID_RE = re.compile(r"\d{4}\.\d{4,5}")


def fresh_id(n: int) -> str:
    return f"{2601 + n // 100_000 % 12:04d}.{n % 100_000:05d}"


def hf_array(names: list[str]) -> bytes:
    items = [item for name in names for item in json.loads((FIXTURES / name).read_text())]
    out, size, n = [], 2, 0
    while size < TARGET_BYTES:
        item = json.loads(json.dumps(items[n % len(items)]))
        item["paper"]["id"] = fresh_id(n)
        text = json.dumps(item, ensure_ascii=False, separators=(",", ":"))
        out.append(text)
        size += len(text.encode()) + 1
        n += 1
    return ("[" + ",".join(out) + "]").encode()


def feed(names: list[str], tag: str) -> bytes:
    texts = [(FIXTURES / name).read_text().replace("\r\n", "\n") for name in names]
    entries = [m.group() for t in texts for m in re.finditer(rf"<{tag}>.*?</{tag}>", t, re.S)]
    head = texts[0][: texts[0].index(f"<{tag}>")]
    tail = texts[0][texts[0].rindex(f"</{tag}>") + len(tag) + 3 :]
    out, size, n = [], len(head) + len(tail), 0
    while size < TARGET_BYTES:
        entry = entries[n % len(entries)]
        old = ID_RE.search(entry).group()
        entry = entry.replace(old, fresh_id(n))
        out.append(entry)
        size += len(entry.encode()) + 1
        n += 1
    return (head + "\n".join(out) + tail).encode()


def snapshot_lines(names: list[str]) -> bytes:
    lines = [line for name in names for line in (FIXTURES / name).read_text().splitlines()]
    out, size, n = [], 0, 0
    while size < TARGET_BYTES:
        line = lines[n % len(lines)]
        line = line.replace(json.loads(line)["id"], fresh_id(n), 1)
        out.append(line)
        size += len(line.encode()) + 1
        n += 1
    return ("\n".join(out) + "\n").encode()


def page_text() -> bytes:
    text, _, _ = decode_listing(SEQUENCE.read_bytes(), SEQUENCE.name)
    cards = [(r.title, r.abstract) for r in parse_listing(text).records]
    out, size, n = [], 0, 0
    while size < TARGET_BYTES:
        title, abstract = cards[n % len(cards)]
        card = f"{title}: Part {n // len(cards) + 1}\n{abstract}\n"
        out.append(card)
        size += len(card.encode())
        n += 1
    return "".join(out).encode()


def best_of_three(run: Callable[[], int]) -> tuple[float, int]:
    best, count = float("inf"), 0
    for _ in range(3):
        start = time.perf_counter()
        count = run()
        best = min(best, time.perf_counter() - start)
    return best, count


def main() -> None:
    paper = (FIXTURES / "hf_api_paper_2608.09888.json").read_bytes()
    paper_reps = TARGET_BYTES // len(paper)
    snapshot = snapshot_lines(
        [
            "kaggle_arxiv_snapshot_0704.0001-0704.0023.jsonl",
            "kaggle_arxiv_snapshot_0704.0024-0704.0034.jsonl",
        ]
    )
    docs: list[tuple[str, bytes, Callable[[bytes], int]]] = []

    def parsed(name: str, expect: str) -> Callable[[bytes], int]:
        def run(data: bytes) -> int:
            result = parse_document(data, name)
            assert result.format == expect, (result.format, expect)
            assert not result.rejections, result.rejections[:1]
            return len(result.records)

        return run

    docs.append(("hf_page_text", page_text(), parsed("page.txt", "hf_page_text")))
    docs.append(
        (
            "hf_api_daily_papers",
            hf_array(
                ["hf_api_daily_papers_2026-06-12.json", "hf_api_daily_papers_2026-07-31.json"]
            ),
            parsed("daily.json", "hf_api_daily_papers"),
        )
    )
    docs.append(
        (
            "hf_api_search",
            hf_array(["hf_api_papers_search_diffusion.json"]),
            parsed("search.json", "hf_api_search"),
        )
    )
    one = parsed("paper.json", "hf_api_paper")
    docs.append(
        (
            f"hf_api_paper (x{paper_reps} files)",
            paper * paper_reps,
            lambda data: sum(one(paper) for _ in range(paper_reps)),
        )
    )
    docs.append(
        (
            "arxiv_api_atom",
            feed(
                [
                    "arxiv_api_query_2026-02-12_ti-random.xml",
                    "arxiv_api_query_2026-03-26_attention-mechanism.xml",
                    "arxiv_api_query_2025-10-17_cs.RO-neural.xml",
                ],
                "entry",
            ),
            parsed("api.xml", "arxiv_api_atom"),
        )
    )
    docs.append(
        (
            "arxiv_rss",
            feed(
                [
                    "arxiv_rss2_2026-09-24_cs.LG+cs.AI+cs.CL+stat.ML.xml",
                    "arxiv_rss2_2026-04-27_cs.AI.xml",
                ],
                "item",
            ),
            parsed("rss.xml", "arxiv_rss"),
        )
    )
    docs.append(
        (
            "arxiv_feed_atom",
            feed(["arxiv_rss_atom_2026-09-25_cs.LG.xml"], "entry"),
            parsed("atom.xml", "arxiv_feed_atom"),
        )
    )
    docs.append(("arxiv_snapshot", snapshot, parsed("snapshot.jsonl", "arxiv_snapshot")))
    lines = snapshot.splitlines(keepends=True)
    docs.append(
        ("arxiv_snapshot iter_snapshot()", snapshot, lambda _: sum(1 for _ in iter_snapshot(lines)))
    )
    docs.append(
        (
            "arxiv_snapshot iter_snapshot({'math'})",
            snapshot,
            lambda _: sum(1 for _ in iter_snapshot(lines, {"math"})),
        )
    )

    print(f"{'format':<40} {'MB':>6} {'records':>8} {'seconds':>8} {'MB/s':>8}")
    for label, data, run in docs:
        seconds, count = best_of_three(lambda run=run, data=data: run(data))
        mb = len(data) / 1_000_000
        print(f"{label:<40} {mb:>6.2f} {count:>8,} {seconds:>8.3f} {mb / seconds:>8.1f}")


if __name__ == "__main__":
    main()
