"""Dagster resources: the papertrends home with its DuckDB warehouse.

Also the bookkeeping of a killed ``papertrends run``: the warehouse lock dies with its
process, so nothing blocks the next run; the next run reports the killed one failed, so the
UI does not show it as started forever (:func:`run_liveness`, :func:`reap_dead_runs`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
from pydantic import Field

from orchestration import env
from transforms.files import locked_file, try_lock
from transforms.warehouse import (
    WarehouseBusyError,
    connect_warehouse,
    writing_warehouse,
)

__all__ = [
    "PapertrendsHome",
    "WarehouseBusyError",
    "reap_dead_runs",
    "run_liveness",
]


class PapertrendsHome(dg.ConfigurableResource):
    """The home folder (``PAPERTRENDS_HOME``): warehouse, landing, publish. The warehouse is
    its DuckDB file, or the DuckLake PAPERTRENDS_WAREHOUSE names (orchestration.env).

    Open a connection per step with :meth:`connect` and let it close: DuckDB allows a
    single read-write process per file, and no read-only one beside it, so writers hold
    the warehouse lock exclusively and readers hold it shared while connected.
    """

    path: str | None = Field(
        default=None,
        description="Home folder; unset means PAPERTRENDS_HOME (else ./.papertrends), "
        "read when the resource is used.",
    )

    @property
    def home(self) -> env.Home:
        return env.home(self.path)

    @property
    def landing(self) -> Path:
        return self.home.landing

    @property
    def publish(self) -> Path:
        return self.home.publish

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        home = self.home.ensure()
        with connect_warehouse(home.target, read_only=read_only) as con:
            yield con

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Hold the write lock while a subprocess (dbt) writes the warehouse."""
        with writing_warehouse(self.home.ensure().target):
            yield


# ------------------------------------------------------------------ runs killed mid-way


def _liveness_dir(home: env.Home) -> Path:
    return home.dagster_home / "papertrends-runs"


@contextmanager
def run_liveness(home: env.Home, run_id: str) -> Iterator[None]:
    """Mark the in-process run ``run_id`` as alive while the block runs.

    An exclusively ``flock``-ed file ``dagster/papertrends-runs/<run_id>.lock``
    (:func:`transforms.files.locked_file`): the lock lasts exactly as long as this process,
    so a file whose lock can be taken belongs to a run whose process died (SIGKILL, OOM,
    power loss) without telling Dagster.
    """
    with locked_file(_liveness_dir(home) / f"{run_id}.lock", f"{os.getpid()}\n".encode()):
        yield


def reap_dead_runs(instance: dg.DagsterInstance, home: env.Home) -> list[str]:
    """Close the books of in-process runs whose process died; their run ids.

    For each liveness file nobody holds, the run is reported failed: it shows as such in
    the UI instead of "started" forever. Runs of other processes that are alive, and runs
    launched from the UI or by the daemon (no liveness file), are left alone.
    """
    reaped: list[str] = []
    folder = _liveness_dir(home)
    for path in sorted(folder.glob(".*.tmp")) if folder.is_dir() else []:
        with try_lock(path) as unheld:  # a run killed while creating its liveness file
            if unheld:
                path.unlink(missing_ok=True)
    for path in sorted(folder.glob("*.lock")) if folder.is_dir() else []:
        with try_lock(path) as unheld:
            if not unheld:
                continue  # its process is alive (or the file is gone)
            run_id = path.stem
            run = instance.get_run_by_id(run_id)
            if run is not None and not run.is_finished:
                instance.report_run_failed(
                    run,
                    "the process running this run died (killed?) before it finished; "
                    "cleaned up by a later papertrends run",
                )
            path.unlink(missing_ok=True)
            reaped.append(run_id)
    return reaped
