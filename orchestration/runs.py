"""Run the daily job in this process, as the ``papertrends`` commands do, and read back what
a run did. The run is recorded in the home's Dagster instance, so it shows in the UI."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import logging
import sys
import uuid

from orchestration import env
from transforms.errors import UserError
from transforms.files import one_line


class RunFailed(UserError):
    """The run failed; the message is its first failed step and that step's error."""


def first_failure(result) -> str:
    """One line: the first failed step and the last line of its error (its root cause when
    Dagster wrapped the error, without the exception's module path; a ``dg.Failure`` shows
    its description only), else the run's own failure message."""
    for event in result.all_events:
        if event.is_step_failure:
            error = event.step_failure_data.error
            wrapper = "DagsterExecutionStepExecutionError"
            while error is not None and error.cause is not None and error.cls_name == wrapper:
                error = error.cause
            # the last line that says something (DuckDB ends its messages with a caret line)
            message = (one_line(error.message, last=True) if error else "") or "unknown error"
            if error is not None and error.cls_name:
                head, sep, rest = message.partition(": ")
                if sep and head.rsplit(".", 1)[-1] == error.cls_name:
                    message = rest if error.cls_name == "Failure" else f"{error.cls_name}: {rest}"
            return f"step {event.step_key} failed: {message}"
    for event in result.all_events:
        if event.is_failure and event.message:
            return f"the run failed: {one_line(event.message, last=True)}"
    return "the run failed"


def partition_args(first: dt.date, until: dt.date | None = None) -> dict:
    """``execute_in_process``'s partition arguments: the date ``first``, or with ``until``
    the range ``first..until`` as one run (a single-run backfill)."""
    if until is None:
        return {"partition_key": first.isoformat()}
    return {
        "tags": {
            "dagster/asset_partition_range_start": first.isoformat(),
            "dagster/asset_partition_range_end": until.isoformat(),
        }
    }


def materialize(
    home: env.Home,
    listing_date: dt.date,
    verbose: bool = False,
    until: dt.date | None = None,
    run_config: dict | None = None,
    fetch: bool = True,
) -> None:
    """Run the daily job through the Dagster instance in the home (:class:`RunFailed` when
    it fails).

    ``run_config`` is merged into the run's config (e.g. which sources the fetch assets
    download: orchestration.defs.fetch.fetch_run_config).

    One date, or with ``until`` every date from ``listing_date`` to ``until`` in a single
    run (a backfill: each asset handles the whole range at once).

    ``fetch=False`` leaves the fetch assets out of the run (a backfill of what is already in
    landing/): Dagster records two events per asset and daily partition, ~1,400 for a year
    of two fetch assets that would fetch nothing.

    The warehouse lock serialises the writers, of this run and of any other (a step that
    writes waits for it). The run is marked alive (a file lock) while it executes; runs
    whose process was killed are first reported failed (see
    orchestration.resources.reap_dead_runs).
    """
    from dagster import DagsterInstance

    # loading the definitions prepares the dbt manifest when stale (orchestration.dbt_project)
    from orchestration.definitions import defs
    from orchestration.resources import reap_dead_runs, run_liveness

    job = defs.resolve_job_def("papertrends_daily")
    selection = None
    if not fetch:
        from orchestration.defs.fetch import FETCH_ASSET_KEYS

        selection = [k for k in defs.resolve_all_asset_keys() if k not in FETCH_ASSET_KEYS]
        fetch_ops = {k.to_python_identifier() for k in FETCH_ASSET_KEYS}
        ops = {k: v for k, v in (run_config or {}).get("ops", {}).items() if k not in fetch_ops}
        run_config = {**(run_config or {}), "ops": ops}
    partition = partition_args(listing_date, until)
    # Without --verbose, Dagster's console log is off (a failed step would print its whole
    # stack trace): after a successful run the steps' warnings are printed, one line each;
    # a failure is the one line of RunFailed. dbt's own log lines go to stdout: kept for
    # --verbose only (the run's event log in the Dagster instance has everything).
    level = "INFO" if verbose else "CRITICAL"
    quiet = contextlib.nullcontext() if verbose else contextlib.redirect_stdout(io.StringIO())
    run_id = str(uuid.uuid4())  # Dagster's run ids are uuid4 strings
    dagster_home = str(home.ensure().dagster_home)
    with (
        DagsterInstance.from_config(dagster_home) as instance,
        run_liveness(home, run_id),
        quiet,
    ):
        reaped = reap_dead_runs(instance, home)
        if reaped and verbose:
            print(f"cleaned up {len(reaped)} run(s) killed before they finished: {reaped}")
        result = job.execute_in_process(
            instance=instance,
            raise_on_error=False,
            run_id=run_id,
            asset_selection=selection,
            run_config=(run_config or {})
            | {"loggers": {"console": {"config": {"log_level": level}}}},
            **partition,
        )
        if result.success and not verbose:
            for record in instance.all_logs(run_id):
                if record.dagster_event is None and record.level >= logging.WARNING:
                    message = one_line(record.user_message)
                    print(f"warning: {record.step_key or 'run'}: {message}", file=sys.stderr)
    if not result.success:
        raise RunFailed(first_failure(result))


def digest_email_outcome(home: env.Home, listing_date: dt.date) -> str:
    """What the run did with the date's digest e-mail ("sent to 2", "already sent", "not
    configured (...)"): the ``email_outcome`` of the digest's latest materialization of that
    date in the home's Dagster instance (the run just finished: it succeeded, and every CLI
    run materializes the digest of its last date)."""
    from dagster import AssetKey, AssetRecordsFilter, DagsterInstance

    records_filter = AssetRecordsFilter(
        asset_key=AssetKey(["digest"]), asset_partitions=[listing_date.isoformat()]
    )
    with DagsterInstance.from_config(str(home.dagster_home)) as instance:
        records = instance.fetch_materializations(records_filter, limit=1).records
    if not records or records[0].asset_materialization is None:
        return "unknown (no digest was published)"
    outcome = records[0].asset_materialization.metadata.get("email_outcome")
    return str(outcome.value) if outcome is not None else "unknown"
