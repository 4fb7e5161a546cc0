"""The Dagster definitions load; the schedule and the landing sensor request the right runs."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg

from orchestration import env
from orchestration.definitions import defs
from orchestration.defs.automation import landing_sensor
from orchestration.resources import PapertrendsHome
from tests.conftest import land, sample_cards


def test_dg_check_defs_passes() -> None:
    dg_exe = Path(sys.executable).with_name("dg")
    proc = subprocess.run(
        [str(dg_exe), "check", "defs"],
        cwd=env.REPO_ROOT,
        capture_output=True,
        text=True,
        env=dict(os.environ, PATH=f"{dg_exe.parent}:{os.environ['PATH']}"),
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "All definitions loaded successfully" in proc.stdout + proc.stderr


def test_graph_has_ingest_and_dbt_assets_connected() -> None:
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert {"raw/listings", "raw/rejected_records", "papers", "paper_appearances"} <= keys
    # dbt's source raw.listings *is* the ingest asset: lineage connects without glue.
    upstream = graph.get(dg.AssetKey(["staging", "stg_raw__listings"])).parent_keys
    assert dg.AssetKey(["raw", "listings"]) in upstream
    checks = {c.name for c in graph.asset_check_keys}
    not_null = (
        "not_null_columns_papers_paper_id__title__abstract__first_listed__last_listed__times_listed"
    )
    assert {"unique_papers_paper_id", not_null} <= checks


def test_schedule_requests_the_days_partition() -> None:
    when = dt.datetime(2026, 11, 28, 6, 30, tzinfo=dt.UTC)
    context = dg.build_schedule_context(
        scheduled_execution_time=when, repository_def=defs.get_repository_def()
    )
    schedule = defs.resolve_schedule_def("papertrends_daily_schedule")
    result = schedule.evaluate_tick(context)
    assert [r.partition_key for r in result.run_requests] == ["2026-11-28"]


def _evaluate(home: env.Home, cursor: str | None):
    context = dg.build_sensor_context(
        cursor=cursor,
        resources={"papertrends": PapertrendsHome(path=str(home.root))},
        definitions=defs,
    )
    result = landing_sensor.evaluate_tick(context)
    return result, context.cursor


def test_landing_sensor_requests_runs_for_new_or_changed_dates(home: env.Home) -> None:
    cards = sample_cards()
    result, cursor = _evaluate(home, None)
    assert result.run_requests == [] and result.skip_message

    land(home, dt.date(2026, 11, 27), "a.txt", cards[:5])
    land(home, dt.date(2026, 11, 28), "a.txt", cards[5:10])
    (home.landing / "not-a-date").mkdir()
    (home.landing / "not-a-date" / "x.txt").write_text("x")
    result, cursor = _evaluate(home, cursor)
    assert sorted(r.partition_key for r in result.run_requests) == ["2026-11-27", "2026-11-28"]

    result, cursor = _evaluate(home, cursor)
    assert result.run_requests == []

    land(home, dt.date(2026, 11, 28), "b.txt", cards[10:15])
    result, cursor = _evaluate(home, cursor)
    assert [r.partition_key for r in result.run_requests] == ["2026-11-28"]
    assert result.run_requests[0].run_key.startswith("2026-11-28:")


def test_sensor_and_schedule_are_registered() -> None:
    assert defs.resolve_sensor_def("landing_sensor") is not None
    assert defs.resolve_schedule_def("papertrends_daily_schedule") is not None
    job = defs.resolve_job_def("papertrends_daily")
    assert job.partitions_def is not None


def test_landing_sensor_ignores_fetched_files_and_never_fetches(home: env.Home) -> None:
    import json

    from orchestration.defs.fetch import fetch_run_config

    day = dt.date(2026, 11, 27)
    folder = home.landing / day.isoformat()
    folder.mkdir(parents=True)
    (folder / "hf-daily-papers-2026-11-27-p0.json").write_text("[]")
    (folder / ".fetch-hf.json").write_text(
        json.dumps({"source": "hf", "files": [{"file": "hf-daily-papers-2026-11-27-p0.json"}]})
    )
    result, cursor = _evaluate(home, None)
    assert result.run_requests == []  # the run that fetched them ingests them

    land(home, day, "pasted.txt", sample_cards()[:5])
    result, cursor = _evaluate(home, cursor)
    (request,) = result.run_requests
    assert request.partition_key == "2026-11-27"
    assert request.run_config == fetch_run_config(set())


def definitions_outline() -> dict[str, list[str]]:
    """What the definitions hold, one line per thing, sorted: asset keys with their group
    and kinds, checks with their asset and whether they block, jobs, schedules with their
    cron, sensors. A change shows as a diff of the snapshot in review."""
    graph = defs.resolve_asset_graph()
    assets = []
    for key in sorted(graph.get_all_asset_keys()):
        node = graph.get(key)
        kinds = ",".join(sorted(node.kinds))
        partitioned = " daily" if node.partitions_def is not None else ""
        assets.append(f"{key.to_user_string()} [{node.group_name}] {kinds}{partitioned}")
    checks = []
    for check_key in sorted(graph.asset_check_keys, key=lambda k: (k.asset_key, k.name)):
        spec = graph.get_check_spec(check_key)
        blocking = " blocking" if spec.blocking else ""
        checks.append(f"{check_key.asset_key.to_user_string()}: {check_key.name}{blocking}")
    repo = defs.get_repository_def()
    return {
        "assets": assets,
        "checks": checks,
        "jobs": sorted(j.name for j in repo.get_all_jobs() if not j.name.startswith("__")),
        "schedules": sorted(f"{s.name} {s.cron_schedule}" for s in repo.schedule_defs),
        "sensors": sorted(s.name for s in repo.sensor_defs),
    }


def test_definitions_match_the_snapshot(snapshot) -> None:
    """Asset keys, groups, kinds, checks, jobs, schedules and sensors as reviewed. After an
    intended change: ``pytest tests/test_definitions.py --snapshot-update``."""
    assert definitions_outline() == snapshot
