"""Dagster resources: the papertrends home with its DuckDB warehouse."""

from __future__ import annotations

import fcntl
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
from pydantic import Field

from orchestration import env


class WarehouseBusyError(RuntimeError):
    """Another process holds the warehouse write lock for too long."""


@contextmanager
def write_lock(home: env.Home, timeout_s: float = 600.0) -> Iterator[None]:
    """Serialise writers across processes (DuckDB allows one read-write process per file)."""
    home.root.mkdir(parents=True, exist_ok=True)
    with open(home.root / "warehouse.lock", "a+") as handle:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise WarehouseBusyError(
                        f"the warehouse {home.warehouse} is being written by another run "
                        f"for more than {timeout_s:.0f}s"
                    ) from None
                time.sleep(0.2)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class PapertrendsHome(dg.ConfigurableResource):
    """The home folder (``PAPERTRENDS_HOME``): warehouse, landing, publish.

    Open a connection per step with :meth:`connect` and let it close: DuckDB allows a
    single read-write process per file, so writers also hold a cross-process lock.
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
        if read_only:
            if not home.warehouse.exists():
                raise FileNotFoundError(f"no warehouse yet at {home.warehouse}")
            con = duckdb.connect(str(home.warehouse), read_only=True)
            try:
                yield con
            finally:
                con.close()
            return
        with write_lock(home):
            con = duckdb.connect(str(home.warehouse))
            try:
                yield con
            finally:
                con.close()

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Hold the write lock while a subprocess (dbt) writes the warehouse."""
        with write_lock(self.home.ensure()):
            yield
