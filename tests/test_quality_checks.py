"""The Dagster checks of ``orchestration.defs.quality``: one pass per suite over the run's
partition range, one report for the range, and what the metadata says."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from expectations import STAGES, run_suite, windows
from orchestration.defs import quality
from orchestration.defs.partitions import daily_partitions
from orchestration.resources import PapertrendsHome
from orchestration.runs import partition_args
from tests.expectations_warehouse import D0, D, populate

EMPTY = dt.date(2024, 2, 28)  # nothing landed


@pytest.fixture
def home(tmp_path: Path) -> Path:
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    populate(con)
    con.execute("DELETE FROM keyword_trends WHERE as_of_date = ?", [D0])  # D0 fails trends
    con.close()
    return tmp_path


def _run_checks(home: Path, start: dt.date, end: dt.date) -> dict[str, dg.AssetCheckEvaluation]:
    """Materialize stubs of the checked assets over start..end with the real checks."""
    stubs = [_stub(key) for key in quality.STAGE_ASSETS.values()]
    result = dg.materialize(
        [*stubs, *quality.quality_checks],
        resources={"papertrends": PapertrendsHome(path=str(home))},
        raise_on_error=False,
        **partition_args(start, end),  # the range as one run, even of one date
    )
    return {e.check_name: e for e in result.get_asset_check_evaluations()}


def _stub(key: dg.AssetKey) -> dg.AssetsDefinition:
    @dg.asset(key=key, partitions_def=daily_partitions)
    def _asset() -> None:
        return None

    return _asset


def test_range_is_one_pass_with_one_report(home: Path) -> None:
    checks = _run_checks(home, EMPTY, D)  # 2024-02-28 (empty), D0, D
    assert set(checks) == {f"ge_{s}" for s in STAGES}
    folder = home / "publish" / "validation" / f"{EMPTY}..{D}"
    assert sorted(p.name for p in folder.glob("*.json")) == sorted(
        f"{s}__{EMPTY}..{D}.json" for s in STAGES
    )
    for stage in ("raw_listings", "papers", "keyphrases", "topics"):
        check = checks[f"ge_{stage}"]
        assert check.passed, check.metadata
        meta = {k: v.value for k, v in check.metadata.items()}
        assert meta["window"] == f"{EMPTY}..{D}"
        assert meta["validated_dates"] == 2 and meta["skipped_dates"] == 1
        assert meta["skipped"] == f"no listing landed for {EMPTY}"
        assert meta["report"] == str(folder / f"{stage}__{EMPTY}..{D}.json")
    trends = checks["ge_trends"]
    assert not trends.passed and trends.severity == dg.AssetCheckSeverity.ERROR
    table = trends.metadata["failed_expectations"].value
    assert f"| {D0} | error | expect_column_values_to_be_between | trend_rows |" in table
    report = json.loads((folder / f"trends__{EMPTY}..{D}.json").read_text())
    assert report["skipped_dates"] == {str(EMPTY): f"no listing landed for {EMPTY}"}
    assert [f["dates"] for f in report["failed"]] == [[str(D0)]]


def test_single_date_keeps_the_date_folder(home: Path) -> None:
    checks = _run_checks(home, D, D)
    assert all(c.passed for c in checks.values()), {k: c.metadata for k, c in checks.items()}
    folder = home / "publish" / "validation" / str(D)
    assert (folder / f"papers__{D}.json").exists()
    assert json.loads((folder / f"papers__{D}.json").read_text())["listing_date"] == str(D)


def test_empty_date_is_skipped_without_a_report(home: Path) -> None:
    checks = _run_checks(home, EMPTY, EMPTY)
    for check in checks.values():
        assert check.passed
        assert check.metadata["skipped"].value == f"no listing landed for {EMPTY}"
        assert check.metadata["validated_dates"].value == 0
        assert "report" not in check.metadata
    assert not (home / "publish" / "validation").exists()


def test_check_result_of_a_window(home: Path) -> None:
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        outcome = run_suite(con, "trends", D0, D)
    check = quality.check_result("trends", outcome, None, days=2)
    meta = {k: v.value for k, v in check.metadata.items()}
    assert not check.passed and meta["failed_errors"] == 1 and meta["validated_dates"] == 2
    assert meta["window"] == f"{D0}..{D}" and "skipped" not in meta
    assert list(meta["sample_rows"]) == ["expect_column_values_to_be_between(trend_rows)"]


def test_range_in_chunks_reports_like_one_pass(home: Path, monkeypatch) -> None:
    """A tiny row budget: every suite validates the range date by date, one check and one
    report each, with the same verdicts and failures as one pass."""
    one_pass = {k: c.passed for k, c in _run_checks(home, EMPTY, D).items()}
    monkeypatch.setattr(windows, "CHUNK_ROWS", 1)
    checks = _run_checks(home, EMPTY, D)
    assert {k: c.passed for k, c in checks.items()} == one_pass
    folder = home / "publish" / "validation" / f"{EMPTY}..{D}"
    for stage in STAGES:
        meta = {k: v.value for k, v in checks[f"ge_{stage}"].metadata.items()}
        assert meta["chunks"] == 2 and meta["validated_dates"] == 2, meta
        report = json.loads((folder / f"{stage}__{EMPTY}..{D}.json").read_text())
        # the empty date has no rows: it goes with the chunk of the next date
        assert [c["window"] for c in report["chunks"]] == [f"{EMPTY}..{D0}", str(D)]
    trends = checks["ge_trends"]
    assert not trends.passed and trends.severity == dg.AssetCheckSeverity.ERROR
    table = trends.metadata["failed_expectations"].value
    assert f"| {D0} | error | expect_column_values_to_be_between | trend_rows |" in table
    report = json.loads((folder / f"trends__{EMPTY}..{D}.json").read_text())
    assert [f["dates"] for f in report["failed"]] == [[str(D0)]]
    assert report["html_chunk"] == f"{EMPTY}..{D0}"  # the failing chunk's GE page
    assert (folder / f"trends__{EMPTY}..{D}.html").exists()
