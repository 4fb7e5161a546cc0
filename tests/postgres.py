"""A throwaway PostgreSQL cluster for the tests: Debian's server binaries, ``initdb`` into a
temporary folder, ``pg_ctl`` on a free loopback port, stopped by the postmaster's PID.

As root (CI, this machine), initdb refuses to run, so the cluster belongs to the ``postgres``
user and its commands run through ``runuser -u postgres --``. Trust authentication on
127.0.0.1 only: nothing outside the machine can reach it.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg2


def server_binaries() -> Path | None:
    """The newest ``/usr/lib/postgresql/<major>/bin`` with initdb, else None."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    return found[-1].parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_owner(argv: list[str]) -> list[str]:
    """``argv`` as the postgres user when this process is root (initdb refuses root)."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *argv]
    return argv


@dataclass
class PostgresCluster:
    data_dir: Path
    port: int
    bin_dir: Path

    @property
    def pid(self) -> int | None:
        pidfile = self.data_dir / "postmaster.pid"
        try:
            return int(pidfile.read_text().splitlines()[0])
        except (OSError, ValueError, IndexError):
            return None

    def conninfo(self, dbname: str = "postgres") -> str:
        """A libpq key/value string (what DuckDB's ``ducklake:postgres:`` takes)."""
        return f"dbname={dbname} host=127.0.0.1 port={self.port} user=postgres"

    def url(self, dbname: str = "postgres") -> str:
        """A ``postgresql://`` URL (what ``PAPERTRENDS_DAGSTER_PG_URL`` takes)."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def connect(self, dbname: str = "postgres"):
        con = psycopg2.connect(self.conninfo(dbname))
        con.autocommit = True
        return con

    def create_database(self, name: str) -> str:
        """Create database ``name`` (dropped first if it exists); its conninfo."""
        con = self.connect()
        try:
            with con.cursor() as cur:
                cur.execute(f'drop database if exists "{name}" with (force)')
                cur.execute(f'create database "{name}"')
        finally:
            con.close()
        return self.conninfo(name)

    def stop(self) -> None:
        """Fast shutdown by the postmaster's PID; waits until it is gone."""
        pid = self.pid
        if pid is None:
            return
        try:
            os.kill(pid, signal.SIGINT)  # "fast" shutdown: roll back sessions, exit
        except ProcessLookupError:
            return
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)
        os.kill(pid, signal.SIGKILL)

    def remove(self) -> None:
        """Stop the server and delete its folder."""
        self.stop()
        shutil.rmtree(self.data_dir.parent, ignore_errors=True)


def start_cluster() -> PostgresCluster:
    """initdb into a new temporary folder and start the server on a free port of
    127.0.0.1. The folder is outside pytest's (0700, root's): the postgres user owns it."""
    bin_dir = server_binaries()
    if bin_dir is None:
        raise RuntimeError("PostgreSQL server binaries not found (apt-get install postgresql)")
    root = Path(tempfile.mkdtemp(prefix="papertrends-pg-"))
    data, sock, log = root / "data", root / "sock", root / "server.log"
    sock.mkdir()
    log.touch()
    if os.geteuid() == 0:
        for path in (root, sock, log):
            shutil.chown(path, "postgres", "postgres")
    initdb = [str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust"]
    subprocess.run(
        _as_owner([*initdb, "-E", "UTF8", "--no-locale"]),
        check=True,
        capture_output=True,
    )
    port = _free_port()
    options = f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off"
    pg_ctl = [str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(log)]
    subprocess.run(
        _as_owner([*pg_ctl, "-w", "start"]),
        check=True,
        capture_output=True,
    )
    return PostgresCluster(data_dir=data, port=port, bin_dir=bin_dir)
