"""The daily job, its schedule, and the sensor that reacts to new files in landing/.

The schedule runs at ``PAPERTRENDS_SCHEDULE_CRON`` (UTC, read when the definitions load;
default ``30 6 * * *``, every day at 06:30). Both are on by default when the Dagster daemon
runs (``papertrends serve``, ``make dev``, the services in deploy/); turning one off in the
UI (or ``dagster schedule stop`` / ``dagster sensor stop``) is kept in the instance.
"""

import datetime as dt
import hashlib
import json
import os
from collections.abc import Iterable
from pathlib import Path

import dagster as dg

from orchestration import env
from orchestration.defs.fetch import fetch_run_config
from orchestration.defs.partitions import daily_partitions
from orchestration.resources import PapertrendsHome, reap_dead_runs
from transforms.errors import UserError
from transforms.landing import fetch_sidecars, listing_files, parse_date_folder

#: When the daily schedule runs (UTC) unless PAPERTRENDS_SCHEDULE_CRON says otherwise.
DEFAULT_CRON = "30 6 * * *"

daily_job = dg.define_asset_job(
    "papertrends_daily",
    selection=dg.AssetSelection.all(),  # daily partitions, inferred from the assets
    description="Ingest one listing date and rebuild everything downstream of it.",
    # Every step in the run's one process, as the CLI runs them: a run launched from the UI,
    # the schedule or the sensor imports Dagster, dbt and GE once, not once per step (a
    # 15-paper date: 89 s with a process per step, 13 s so). The steps take turns at the
    # warehouse lock anyway; the keyphrase step has its own process pool.
    executor_def=dg.in_process_executor,
    # the tag the daemon's run queue limits (orchestration.env.dagster_yaml): runs from the
    # UI, the schedule and the sensor wait in the queue rather than at the warehouse lock
    tags=env.WAREHOUSE_RUN_TAG,
)


def daily_run_request(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    """The partition of the tick's day (UTC)."""
    # Written out: build_schedule_from_partitioned_job calls a deprecated Dagster API per tick.
    when = context.scheduled_execution_time or dt.datetime.now(dt.UTC)
    return dg.RunRequest(partition_key=when.astimezone(dt.UTC).date().isoformat())


_cron = os.environ.get("PAPERTRENDS_SCHEDULE_CRON", "").strip() or DEFAULT_CRON
try:
    daily_schedule = dg.schedule(
        job=daily_job,
        cron_schedule=_cron,
        execution_timezone="UTC",
        name="papertrends_daily_schedule",
        description=f"At cron '{_cron}' (UTC), materialize the day's partition.",
        default_status=dg.DefaultScheduleStatus.RUNNING,
    )(daily_run_request)
except dg.DagsterInvalidDefinitionError:
    raise UserError(
        f"PAPERTRENDS_SCHEDULE_CRON={_cron!r} is not a 5-field cron schedule "
        f"(minute hour day month weekday, e.g. {DEFAULT_CRON!r})"
    ) from None


# ------------------------------------------------------------------ what landed, what was built

#: The ingest asset whose materialization of a date records the files it read.
BUILT_ASSET = dg.AssetKey(["raw", "listings"])
#: The metadata entry of that materialization: :func:`folder_fingerprint` of the date's folder.
FINGERPRINT_METADATA = "landing_fingerprint"


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


def folder_fingerprint(folder: Path) -> str | None:
    """Hash of a date folder's dropped files' names, sizes and mtimes; None without any.

    The sensor compares it with its cursor and with what the ingest step recorded when it
    read the folder (``landing_fingerprint`` on raw/listings), so a date the CLI built is
    not run again."""
    files = dropped_files(folder) if folder.is_dir() else []
    if not files:
        return None
    stat = [(p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in files]
    return hashlib.sha256(json.dumps(stat).encode()).hexdigest()[:16]


def landing_fingerprints(papertrends: PapertrendsHome) -> dict[str, str]:
    """Date folder name -> :func:`folder_fingerprint`, for the folders with dropped files."""
    out: dict[str, str] = {}
    landing = papertrends.landing
    if not landing.is_dir():
        return out
    for folder in sorted(landing.iterdir()):
        if not folder.is_dir() or parse_date_folder(folder.name) is None:
            continue
        fingerprint = folder_fingerprint(folder)
        if fingerprint is not None:
            out[folder.name] = fingerprint
    return out


def built_fingerprints(
    instance: dg.DagsterInstance, dates: Iterable[str], chunk: int = 500
) -> dict[str, dg.EventLogRecord]:
    """Date -> the latest materialization record of raw/listings for that partition, for the
    dates that have one: one query per ``chunk`` dates (newest first, the first per
    partition wins), not one per date."""
    latest: dict[str, dg.EventLogRecord] = {}
    wanted = sorted(set(dates))
    for start in range(0, len(wanted), chunk):
        part = wanted[start : start + chunk]
        records_filter = dg.AssetRecordsFilter(asset_key=BUILT_ASSET, asset_partitions=part)
        cursor = None
        while len(latest) < start + len(part):
            page = instance.fetch_materializations(records_filter, limit=1000, cursor=cursor)
            for record in page.records:
                if record.partition_key is not None:
                    latest.setdefault(record.partition_key, record)
            if not page.has_more:
                break
            cursor = page.cursor
    return latest


def is_built(record: dg.EventLogRecord | None, folder: Path, fingerprint: str) -> bool:
    """Whether that materialization read the folder as it is now. One from before the
    fingerprint was recorded counts when it is newer than every dropped file."""
    materialization = record.asset_materialization if record is not None else None
    if materialization is None:
        return False
    recorded = materialization.metadata.get(FINGERPRINT_METADATA)
    if recorded is not None:
        return recorded.value == fingerprint
    return all(p.stat().st_mtime < record.timestamp for p in dropped_files(folder))


_IN_PROGRESS = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]


def runs_in_progress(instance: dg.DagsterInstance, dates: Iterable[str]) -> dict[str, dg.RunRecord]:
    """Date -> a run in progress that builds it (one date, or a range holding it)."""
    wanted = set(dates)
    out: dict[str, dg.RunRecord] = {}
    for record in instance.get_run_records(dg.RunsFilter(statuses=_IN_PROGRESS)):
        tags = record.dagster_run.tags
        start = tags.get("dagster/asset_partition_range_start") or tags.get("dagster/partition")
        end = tags.get("dagster/asset_partition_range_end") or start
        if start is None:
            continue
        for date_key in wanted:
            if start <= date_key <= end:  # ISO dates order as strings
                out.setdefault(date_key, record)
    return out


def will_read(record: dg.RunRecord, folder: Path) -> bool:
    """Whether a run in progress was created after the folder's dropped files landed (their
    inode change time, which a copy that keeps modification times still sets): it has not
    got past its ingest, or its ingest read them as they are. A run created before is not
    trusted with them (nor is one stuck "started" since the process running it died)."""
    created = record.create_timestamp
    if created.tzinfo is None:
        created = created.replace(tzinfo=dt.UTC)
    landed = max((p.stat().st_ctime for p in dropped_files(folder)), default=0.0)
    return created.timestamp() >= landed


# ------------------------------------------------------------------------ the landing sensor


@dg.sensor(
    job=daily_job,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Requests a run for a listing date when files land in landing/<date>/ that "
    "its latest ingest did not read.",
)
def landing_sensor(context: dg.SensorEvaluationContext, papertrends: PapertrendsHome):
    """A date's folder that changed since the last tick is run unless the date's latest
    ingest already read it as it is (a ``papertrends run``, a backfill), or a run of that
    date created after the files landed is in progress (``papertrends run`` lands its files,
    then runs: the date is looked at again on the next tick). The first tick (an empty
    cursor) so starts from what is already materialized."""
    seen: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
    current = landing_fingerprints(papertrends)
    valid = set(daily_partitions.get_partition_keys())
    changed = {d: fp for d, fp in current.items() if seen.get(d) != fp}
    for date_key in sorted(set(changed) - valid):
        context.log.warning(f"landing/{date_key}: outside the partition range, skipped")
    changed = {d: fp for d, fp in changed.items() if d in valid}

    built = built_fingerprints(context.instance, changed) if changed else {}
    unbuilt = {
        d: fp
        for d, fp in changed.items()
        if not is_built(built.get(d), papertrends.landing / d, fp)
    }
    busy: dict[str, str] = {}
    if unbuilt:
        reap_dead_runs(context.instance, papertrends.home)  # a killed CLI run is not building
        busy = {
            date_key: record.dagster_run.run_id
            for date_key, record in runs_in_progress(context.instance, unbuilt).items()
            if will_read(record, papertrends.landing / date_key)
        }
    cursor = dict(current)
    requests = []
    for date_key, fingerprint in unbuilt.items():
        if date_key in busy:
            context.log.info(f"landing/{date_key}: run {busy[date_key]} is building it; waiting")
            if date_key in seen:
                cursor[date_key] = seen[date_key]
            else:
                cursor.pop(date_key)
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
    context.update_cursor(json.dumps(cursor))
    if not requests:
        already = len(changed) - len(unbuilt)
        return dg.SkipReason(
            "no new or changed listing files"
            + (f" ({already} date(s) already built from them)" if already else "")
            + (f" ({len(busy)} date(s) being built)" if busy else "")
        )
    return requests


defs = dg.Definitions(jobs=[daily_job], schedules=[daily_schedule], sensors=[landing_sensor])
