"""Bulk history: an arXiv snapshot lands one file per v1 date and builds in one backfill."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import re
from collections import Counter
from pathlib import Path

import duckdb
import pytest

from orchestration import env
from tests.conftest import invoke
from transforms.bulk_import import split_snapshot

SNAPSHOT = (
    Path(__file__).resolve().parent
    / "fixtures"
    / "formats"
    / "kaggle_arxiv_snapshot_0704.0001-0704.0023.jsonl"
)


def moved_snapshot(tmp_path: Path, broken_line: bool = False) -> tuple[Path, list[dict]]:
    """The real snapshot lines with their 2007 dates moved to 2026 (inside the partitions)."""
    lines = [line.replace(" 2007 ", " 2026 ") for line in SNAPSHOT.read_text().splitlines()]
    if broken_line:
        lines.insert(3, '{"id": "0704.9999", "title": ')
    path = tmp_path / "arxiv-metadata-oai-snapshot.json"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, [json.loads(line) for line in lines if line.endswith("}")]


def v1_date(record: dict) -> dt.date:
    day, month = re.search(r"(\d+) (Mar|Apr) 2026", record["versions"][0]["created"]).groups()
    return dt.date(2026, 3 if month == "Mar" else 4, int(day))


def test_snapshot_splits_by_v1_date_keeping_the_lines(tmp_path: Path) -> None:
    path, records = moved_snapshot(tmp_path, broken_line=True)
    summary = split_snapshot(path, tmp_path / "landing")
    expected = Counter(v1_date(r) for r in records)
    assert summary.per_date == dict(expected) and summary.papers == 23
    assert summary.bytes_read == path.stat().st_size  # what a progress bar shows
    assert len(summary.rejected) == 1 and "not valid JSON" in summary.rejected[0].reason
    for day in expected:
        folder = tmp_path / "landing" / day.isoformat()
        (landed,) = folder.iterdir()  # no temporary file left
        assert landed.name == "arxiv-snapshot-arxiv-metadata-oai-snapshot.json.jsonl"
        ids = [json.loads(line)["id"] for line in landed.read_text().splitlines()]
        assert ids == [r["id"] for r in records if v1_date(r) == day]
    # The landed lines are the snapshot's own bytes.
    original = set(path.read_text().splitlines())
    for file in summary.files.values():
        assert set(file.read_text().splitlines()) <= original


def test_snapshot_filters_by_category_date_range_and_reads_gzip(tmp_path: Path) -> None:
    path, records = moved_snapshot(tmp_path)
    gz = tmp_path / "snapshot.jsonl.gz"
    gz.write_bytes(gzip.compress(path.read_bytes()))
    summary = split_snapshot(
        gz,
        tmp_path / "landing",
        categories={"math"},
        date_from=dt.date(2026, 4, 1),
    )
    math = [r for r in records if any(c.startswith("math.") for c in r["categories"].split())]
    kept = [r for r in math if v1_date(r) >= dt.date(2026, 4, 1)]
    assert summary.papers == len(kept) > 0
    assert summary.out_of_range == len(math) - len(kept)
    assert set(summary.files) == {v1_date(r) for r in kept}
    assert summary.bytes_read == gz.stat().st_size  # compressed bytes, as stored


def test_import_of_a_file_with_nothing_in_range_fails_in_one_line(tmp_path: Path) -> None:
    result = invoke("--home", str(tmp_path / "home"), "import", "--arxiv-snapshot", str(SNAPSHOT))
    assert result.exit_code == 1
    err = result.stderr.strip()
    assert "\n" not in err and "no paper of" in err  # 2007 dates precede the partitions


@pytest.mark.slow
def test_import_builds_the_history_in_one_backfill(home: env.Home, tmp_path: Path) -> None:
    path, records = moved_snapshot(tmp_path)
    result = invoke("import", "--arxiv-snapshot", str(path), "--categories", "math")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    math = [r for r in records if any(c.startswith("math.") for c in r["categories"].split())]
    assert f"landed {len(math)} papers" in out
    with duckdb.connect(str(home.warehouse), read_only=True) as con:
        papers = dict(con.execute("select arxiv_id, published from papers").fetchall())
        days = dict(
            con.execute(
                "select listing_date, count(*) from paper_appearances group by all"
            ).fetchall()
        )
        sources = con.execute("select distinct source from paper_appearances").fetchall()
    assert papers == {r["id"]: v1_date(r) for r in math}
    assert days == dict(Counter(v1_date(r) for r in math))
    assert sources == [("arxiv_snapshot",)]
    # The backfill publishes its last date's digest, not one (and an e-mail) per date.
    published = {p.parent.name for p in home.publish.glob("*/digest.html")}
    assert published == {max(days).isoformat()}
    # The run's log shows the backfill's progress (one line per ~10 % of the dates).
    from dagster import DagsterInstance

    with DagsterInstance.from_config(str(home.dagster_home)) as instance:
        (run,) = instance.get_runs(limit=1)
        messages = [r.user_message for r in instance.all_logs(run.run_id) if r.step_key]
    n = (max(days) - min(days)).days + 1
    progress = [m for m in messages if m.startswith("read ") and "listing dates" in m]
    assert progress and progress[-1].startswith(f"read {n:,}/{n:,} listing dates")
