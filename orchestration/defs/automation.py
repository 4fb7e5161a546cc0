"""The daily job, its schedule, and the sensor that reacts to new files in landing/."""

import datetime as dt
import hashlib
import json
from pathlib import Path

import dagster as dg

from orchestration.defs.fetch import fetch_run_config
from orchestration.defs.partitions import daily_partitions
from orchestration.resources import PapertrendsHome
from transforms.landing import fetch_sidecars, listing_files, parse_date_folder

daily_job = dg.define_asset_job(
    "papertrends_daily",
    selection=dg.AssetSelection.all(),  # daily partitions, inferred from the assets
    description="Ingest one listing date and rebuild everything downstream of it.",
    # Every step in the run's one process, as the CLI runs them: a run launched from the UI,
    # the schedule or the sensor imports Dagster, dbt and GE once, not once per step (a
    # 15-paper date: 89 s with a process per step, 13 s so). The steps take turns at the
    # warehouse lock anyway; the keyphrase step has its own process pool.
    executor_def=dg.in_process_executor,
)


@dg.schedule(
    job=daily_job,
    cron_schedule="30 6 * * *",
    execution_timezone="UTC",
    name="papertrends_daily_schedule",
    description="Every day at 06:30 UTC, materialize the day's partition.",
)
def daily_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    # Written out: build_schedule_from_partitioned_job calls a deprecated Dagster API per tick.
    when = context.scheduled_execution_time or dt.datetime.now(dt.UTC)
    return dg.RunRequest(partition_key=when.astimezone(dt.UTC).date().isoformat())


def dropped_files(folder: Path) -> list[Path]:
    """The listing files of a date folder that were dropped there, not fetched: a fetched
    file (named by a ``.fetch-*.json`` sidecar) is ingested by the run that fetched it."""
    fetched = {
        str(entry.get("file"))
        for sidecar in fetch_sidecars(folder)
        for entry in sidecar.get("files") or []
        if isinstance(entry, dict)
    }
    return [p for p in listing_files(folder) if p.name not in fetched]


def landing_fingerprints(papertrends: PapertrendsHome) -> dict[str, str]:
    """Date folder name -> hash of its dropped files' names, sizes and mtimes."""
    out: dict[str, str] = {}
    landing = papertrends.landing
    if not landing.is_dir():
        return out
    for folder in sorted(landing.iterdir()):
        if not folder.is_dir() or parse_date_folder(folder.name) is None:
            continue
        files = dropped_files(folder)
        if not files:
            continue
        stat = [(p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in files]
        out[folder.name] = hashlib.sha256(json.dumps(stat).encode()).hexdigest()[:16]
    return out


@dg.sensor(
    job=daily_job,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Requests a run for a listing date when files land in landing/<date>/.",
)
def landing_sensor(context: dg.SensorEvaluationContext, papertrends: PapertrendsHome):
    seen: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
    current = landing_fingerprints(papertrends)
    valid = set(daily_partitions.get_partition_keys())
    requests = []
    for date_key, fingerprint in current.items():
        if seen.get(date_key) == fingerprint:
            continue
        if date_key not in valid:
            context.log.warning(f"landing/{date_key}: outside the partition range, skipped")
            continue
        # Dropped files are the date's listing: the run ingests them and fetches nothing.
        requests.append(
            dg.RunRequest(
                run_key=f"{date_key}:{fingerprint}",
                partition_key=date_key,
                run_config=fetch_run_config(set()),
            )
        )
    skipped = [
        p.name
        for p in (papertrends.landing.iterdir() if papertrends.landing.is_dir() else [])
        if p.is_dir() and parse_date_folder(p.name) is None
    ]
    for name in skipped:
        context.log.warning(f"landing/{name}: not a YYYY-MM-DD folder name, ignored")
    context.update_cursor(json.dumps(current))
    if not requests:
        return dg.SkipReason("no new or changed listing files")
    return requests


defs = dg.Definitions(jobs=[daily_job], schedules=[daily_schedule], sensors=[landing_sensor])
