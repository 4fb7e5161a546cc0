"""The Dagster definitions load; the schedule and the landing sensor request the right runs."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import dagster as dg
import pytest

from orchestration import env
from orchestration.definitions import defs
from orchestration.defs.automation import (
    BUILT_ASSET,
    FINGERPRINT_METADATA,
    folder_fingerprint,
    landing_sensor,
)
from tests.conftest import SAMPLE_DATE, land, landing_sensor_tick, sample_cards, write_listing


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


def test_schedule_and_sensor_are_on_when_the_daemon_runs() -> None:
    schedule = defs.resolve_schedule_def("papertrends_daily_schedule")
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    assert landing_sensor.default_status == dg.DefaultSensorStatus.RUNNING


def test_landing_sensor_starts_from_what_the_cli_built(sample_home_copy: env.Home) -> None:
    """The home where ``papertrends run`` built SAMPLE_DATE: the sensor's first tick (an
    empty cursor, as when the daemon first starts) requests nothing; a changed file of that
    date is run."""
    home = sample_home_copy
    folder = home.landing / SAMPLE_DATE.isoformat()
    with dg.DagsterInstance.from_config(str(home.dagster_home)) as instance:
        records = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=BUILT_ASSET, asset_partitions=[folder.name]), limit=1
        ).records
    recorded = records[0].asset_materialization.metadata[FINGERPRINT_METADATA].value
    assert recorded == folder_fingerprint(folder)

    result, cursor = landing_sensor_tick(home, None)
    assert result.run_requests == []
    assert "1 date(s) already built" in result.skip_message
    assert json.loads(cursor) == {folder.name: recorded}

    (landed,) = folder.glob("*.txt")
    write_listing(landed, sample_cards()[:20])
    result, cursor = landing_sensor_tick(home, cursor)
    (request,) = result.run_requests
    assert request.partition_key == folder.name
    assert request.run_key == f"{folder.name}:{folder_fingerprint(folder)}"

    result, _ = landing_sensor_tick(home, None)  # a fresh cursor: still not what was built
    assert [r.partition_key for r in result.run_requests] == [folder.name]


def test_landing_sensor_trusts_older_materializations_by_time(home: env.Home) -> None:
    """A date built before ingest recorded fingerprints counts as built when every file of
    it is older than its latest materialization."""
    day = dt.date(2026, 11, 27)
    listing = land(home, day, "a.txt", sample_cards()[:5])
    os.utime(listing, (time.time() - 60, time.time() - 60))
    with dg.DagsterInstance.from_config(str(home.dagster_home)) as instance:
        instance.report_runless_asset_event(
            dg.AssetMaterialization(asset_key=BUILT_ASSET, partition=day.isoformat())
        )
    result, _ = landing_sensor_tick(home, None)
    assert result.run_requests == []

    os.utime(listing)  # touched after the build
    result, _ = landing_sensor_tick(home, None)
    assert [r.partition_key for r in result.run_requests] == [day.isoformat()]


def test_landing_sensor_waits_for_a_run_building_the_date(home: env.Home) -> None:
    """Files of a date whose run is in progress (a ``papertrends run`` that landed them
    and has not ingested them yet): no second run; the next tick looks again."""
    from orchestration.defs.fetch import fetch_run_config
    from orchestration.defs.ingest import RAW_LANDED_FILES, RAW_LISTINGS, RAW_REJECTED
    from transforms.warehouse import writing_warehouse

    day = dt.date(2026, 11, 27)
    land(home, day, "a.txt", sample_cards()[:5])
    job = defs.resolve_job_def("papertrends_daily")

    def ingest() -> bool:
        with dg.DagsterInstance.from_config(str(home.dagster_home)) as instance:
            return job.execute_in_process(
                instance=instance,
                partition_key=day.isoformat(),
                asset_selection=[RAW_LISTINGS, RAW_REJECTED, RAW_LANDED_FILES],
                run_config=fetch_run_config(set()),
                raise_on_error=False,
            ).success

    with (
        ThreadPoolExecutor(max_workers=1) as pool,
        dg.DagsterInstance.from_config(str(home.dagster_home)) as instance,
        writing_warehouse(home.warehouse),  # the run's ingest step waits for the lock
    ):
        instance.get_runs()  # the instance's storage created here, not by two threads at once
        run = pool.submit(ingest)  # its error, if any, is raised by run.result() below
        deadline = time.monotonic() + 120
        while not instance.get_runs(dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED])):
            if run.done():
                run.result()  # raises what went wrong in the run's thread
                pytest.fail("the run ended before the warehouse lock was released")
            assert time.monotonic() < deadline, "the run did not start within 120 s"
            time.sleep(0.2)
        result, cursor = landing_sensor_tick(home, None)
        assert result.run_requests == []
        assert "1 date(s) being built" in result.skip_message
        assert json.loads(cursor) == {}  # looked at again on the next tick
        # a file landed after the run began is not left to it (nor to a run stuck "started")
        later = land(home, day, "b.txt", sample_cards()[5:10])
        (request,) = landing_sensor_tick(home, cursor)[0].run_requests
        assert request.partition_key == day.isoformat()
        later.unlink()
    assert run.result(timeout=120)  # the lock is released: the run ingests and succeeds
    result, cursor = landing_sensor_tick(home, cursor)
    assert result.run_requests == []  # the run ingested the files as they are
    assert "1 date(s) already built" in result.skip_message


def test_landing_sensor_requests_runs_for_new_or_changed_dates(home: env.Home) -> None:
    cards = sample_cards()
    result, cursor = landing_sensor_tick(home, None)
    assert result.run_requests == [] and result.skip_message

    land(home, dt.date(2026, 11, 27), "a.txt", cards[:5])
    land(home, dt.date(2026, 11, 28), "a.txt", cards[5:10])
    (home.landing / "not-a-date").mkdir()
    (home.landing / "not-a-date" / "x.txt").write_text("x")
    result, cursor = landing_sensor_tick(home, cursor)
    assert sorted(r.partition_key for r in result.run_requests) == ["2026-11-27", "2026-11-28"]

    result, cursor = landing_sensor_tick(home, cursor)
    assert result.run_requests == []

    land(home, dt.date(2026, 11, 28), "b.txt", cards[10:15])
    result, cursor = landing_sensor_tick(home, cursor)
    assert [r.partition_key for r in result.run_requests] == ["2026-11-28"]
    assert result.run_requests[0].run_key.startswith("2026-11-28:")


def test_sensor_and_schedule_are_registered() -> None:
    assert defs.resolve_sensor_def("landing_sensor") is not None
    assert defs.resolve_schedule_def("papertrends_daily_schedule") is not None
    job = defs.resolve_job_def("papertrends_daily")
    assert job.partitions_def is not None


def test_landing_sensor_ignores_fetched_files_and_never_fetches(home: env.Home) -> None:
    from orchestration.defs.fetch import fetch_run_config

    day = dt.date(2026, 11, 27)
    folder = home.landing / day.isoformat()
    folder.mkdir(parents=True)
    (folder / "hf-daily-papers-2026-11-27-p0.json").write_text("[]")
    (folder / ".fetch-hf.json").write_text(
        json.dumps({"source": "hf", "files": [{"file": "hf-daily-papers-2026-11-27-p0.json"}]})
    )
    result, cursor = landing_sensor_tick(home, None)
    assert result.run_requests == []  # the run that fetched them ingests them

    land(home, day, "pasted.txt", sample_cards()[:5])
    result, cursor = landing_sensor_tick(home, cursor)
    (request,) = result.run_requests
    assert request.partition_key == "2026-11-27"
    assert request.run_config == fetch_run_config(set())


def definitions_outline() -> dict[str, list[str]]:
    """What the definitions hold, one line per thing, sorted: asset keys with their group
    and kinds, checks with their asset and whether they block, jobs, schedules with their
    cron and default status, sensors with theirs. A change shows as a diff of the snapshot
    in review."""
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
        "schedules": sorted(
            f"{s.name} {s.cron_schedule} {s.default_status.value}" for s in repo.schedule_defs
        ),
        "sensors": sorted(f"{s.name} {s.default_status.value}" for s in repo.sensor_defs),
    }


def test_definitions_match_the_snapshot(snapshot) -> None:
    """Asset keys, groups, kinds, checks, jobs, schedules and sensors as reviewed. After an
    intended change: ``pytest tests/test_definitions.py --snapshot-update``."""
    assert definitions_outline() == snapshot
