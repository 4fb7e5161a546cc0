"""Real ``papertrends`` runs in processes of their own, for the fault and concurrency tests.

Each run is a process in its own process group (``os.killpg(pgid, SIGKILL)`` kills it with
its keyphrase workers, as a crash, the OOM killer or a power cut would), its output in
files (no pipe to fill up).

A fresh interpreter spends ~5 s of CPU importing Dagster, dbt, Great Expectations, pandas,
scipy and matplotlib before and during a run, a third of a small run. So by default a run
is forked from a *launcher*: a process started once (per test process) that has imported
those, and forks a child per run (``os.fork``, then ``os.setsid``; the child points its
stdin/stdout/stderr at its files, takes the run's environment and calls the CLI's ``main``
as the console script does). The child is a process like any other: killed, it dies with
its group; its exit code and output are its own. The launcher only imports (no run, no
connection, no database of its own; DuckDB, polars and the Dagster definitions are imported
by each run, in its own environment), and preloading is an optimisation only: a module
that fails to import there is imported, and fails, in the run. ``fresh=True`` starts the
installed console script instead.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl
import pytest

from orchestration import env
from tests.conftest import write_listing

PAPERTRENDS = Path(sys.executable).with_name("papertrends")
RUN_TIMEOUT_S = 300
MAIL_ENV = (
    "PAPERTRENDS_SMTP_HOST",
    "PAPERTRENDS_SMTP_PORT",
    "PAPERTRENDS_SMTP_USER",
    "PAPERTRENDS_SMTP_PASSWORD",
    "PAPERTRENDS_SMTP_STARTTLS",
    "PAPERTRENDS_DIGEST_FROM",
    "PAPERTRENDS_DIGEST_TO",
)


def cli_env(home: env.Home, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a CLI process: this home, no SMTP settings unless given."""
    environ = {k: v for k, v in os.environ.items() if k not in MAIL_ENV}
    environ.pop("DAGSTER_HOME", None)  # the CLI derives it from the home
    environ["PAPERTRENDS_HOME"] = str(home.root)
    environ.update(extra or {})
    return environ


# ---------------------------------------------------------------------------- the launcher

# Runs as `python -c LAUNCHER`: preloads, then reads one JSON request a line on stdin and
# answers on stdout with {"started": pid}, and later {"exited": pid, "code": ...} (the
# exit code as subprocess gives it: -9 for SIGKILL). Ends when stdin closes.
LAUNCHER = r"""
import gc, importlib, json, os, select, sys

# Replies go to the pipe that was stdout; what an import prints goes to the log instead.
PROTOCOL = os.dup(1)
os.dup2(2, 1)

import orchestration.cli

# What a run imports, less DuckDB and polars (and all that import them: the definitions,
# most of transforms/): `import duckdb` starts a DuckDB thread, and a child forked after it
# aborts when that database is torn down at its exit; polars starts threads too. So every
# DuckDB and polars object of a run is the run's own, as in a fresh process.
PRELOAD = (
    "dagster", "dagster_dbt", "dagster_dbt.core.dbt_cli_event", "dbt.cli.main",
    "dbt_common.events.functions", "dbt.adapters.factory", "great_expectations",
    "great_expectations.core", "great_expectations.expectations",
    "great_expectations.expectations.row_conditions", "great_expectations.render.renderer",
    "great_expectations.render.view", "great_expectations.data_context.types.base",
    "pandas", "scipy.stats", "matplotlib.backends.backend_agg", "matplotlib.figure",
    "PIL.Image", "altair", "yake_rust", "tqdm", "jinja2", "sqlalchemy", "alembic",
    "transforms.keyphrases", "transforms.digest", "transforms.charts",
)
for name in PRELOAD:
    try:
        importlib.import_module(name)
    except Exception:
        pass
kept_out = sorted({"duckdb", "polars"} & set(sys.modules))
if kept_out:
    sys.exit(f"the launcher imported {kept_out}: take what imports them out of PRELOAD")

# A child's garbage collections then skip what it inherited (constant time): else each full
# collection walks the launcher's objects and copies their pages (copy-on-write).
gc.freeze()

def reply(message):
    os.write(PROTOCOL, (json.dumps(message) + "\n").encode())

def child(request):
    os.setsid()
    os.close(PROTOCOL)
    for fd, path, flags in (
        (0, os.devnull, os.O_RDONLY),
        (1, request["out"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC),
        (2, request["err"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC),
    ):
        opened = os.open(path, flags, 0o644)
        os.dup2(opened, fd)
        os.close(opened)
    os.environ.clear()
    os.environ.update(request["env"])
    os.chdir(request["cwd"])
    if request["code"] is not None:  # as `python -c CODE ARGS...`
        sys.argv = ["-c", *request["args"]]
        exec(compile(request["code"], "<string>", "exec"), {"__name__": "__main__"})
        sys.exit(0)
    sys.argv = ["papertrends", *request["args"]]
    orchestration.cli.main(request["args"], prog_name="papertrends")  # exits

reply({"ready": os.getpid()})
children, pending = set(), b""
while True:
    if select.select([0], [], [], 0.05)[0]:
        chunk = os.read(0, 1 << 16)
        if not chunk:
            break
        pending += chunk
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            sys.stdout.flush()
            sys.stderr.flush()
            pid = os.fork()
            if pid == 0:
                child(json.loads(line))  # SystemExit ends the child as it ends any process
            children.add(pid)
            reply({"started": pid})
    while children:
        pid, status = os.waitpid(-1, os.WNOHANG)
        if pid == 0:
            break
        children.discard(pid)
        reply({"exited": pid, "code": os.waitstatus_to_exitcode(status)})
"""


class Forked:
    """A run forked by the :class:`Launcher`, with the part of ``subprocess.Popen``'s
    interface the tests use."""

    def __init__(self, launcher: Launcher, pid: int) -> None:
        self.launcher, self.pid = launcher, pid

    def poll(self) -> int | None:
        return self.launcher.exit_code(self.pid)

    def wait(self, timeout: float | None = None) -> int:
        code = self.launcher.exit_code(self.pid, wait=timeout if timeout is not None else 1e9)
        if code is None:
            raise subprocess.TimeoutExpired(f"run {self.pid}", timeout)
        return code


class Launcher:
    """The process that forks the runs (see the module's docstring). Stop it with
    :meth:`close`."""

    def __init__(self, log: Path) -> None:
        # no home (each run gets its own environment), no mail settings (nor their secrets)
        unset = {*MAIL_ENV, "PAPERTRENDS_HOME", "DAGSTER_HOME"}
        environ = {k: v for k, v in os.environ.items() if k not in unset}
        with open(log, "w") as log_f:
            self.popen = subprocess.Popen(
                [sys.executable, "-c", LAUNCHER],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log_f,
                env=environ,
                cwd=env.REPO_ROOT,
                start_new_session=True,  # a Ctrl-C of pytest is not sent to it
            )
        self.log = log
        self._started: queue.Queue[int] = queue.Queue()
        self._exits: dict[int, int] = {}
        self._changed = threading.Condition()
        self._request = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.popen.stdout:
            message = json.loads(line)
            if "started" in message:
                self._started.put(message["started"])
            elif "exited" in message:
                with self._changed:
                    self._exits[message["exited"]] = message["code"]
                    self._changed.notify_all()
        self._started.put(-1)  # the launcher ended

    def exit_code(self, pid: int, wait: float = 0.0) -> int | None:
        deadline = time.monotonic() + wait
        with self._changed:
            while pid not in self._exits and (left := deadline - time.monotonic()) > 0:
                self._changed.wait(left)
            return self._exits.get(pid)

    def spawn(
        self, args: list[str], environ: dict[str, str], out: Path, err: Path, code: str | None
    ) -> Forked:
        request = {
            "args": list(args),
            "env": environ,
            "out": str(out),
            "err": str(err),
            "cwd": str(env.REPO_ROOT),
            "code": code,
        }
        with self._request:
            self.popen.stdin.write((json.dumps(request) + "\n").encode())
            self.popen.stdin.flush()
            try:
                pid = self._started.get(timeout=120)  # the first waits for the preloading
            except queue.Empty:
                pid = -1
        assert pid > 0, f"the launcher did not start the run:\n{self.log.read_text()[-3000:]}"
        return Forked(self, pid)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.popen.stdin.close()
        try:
            self.popen.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()
        self._reader.join(timeout=10)


_launcher: Launcher | None = None
_launcher_users = 0


@contextlib.contextmanager
def launcher(log_dir: Path) -> Iterator[Launcher]:
    """The process's launcher, started on first use and stopped when its last user ends
    (the test modules share it through a session fixture each)."""
    global _launcher, _launcher_users
    if _launcher is None:
        log_dir.mkdir(parents=True, exist_ok=True)
        _launcher = Launcher(log_dir / "launcher.log")
    _launcher_users += 1
    try:
        yield _launcher
    finally:
        _launcher_users -= 1
        if _launcher_users == 0:
            _launcher.close()
            _launcher = None


def current_launcher() -> Launcher:
    assert _launcher is not None, "the test needs the `runs` fixture"
    return _launcher


# ---------------------------------------------------------------------------- processes


def _group_alive(pgid: int) -> bool:
    """Whether a process of the group is still running (zombies do not count)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


@dataclass
class Proc:
    """A CLI process in its own process group, its output in files."""

    popen: subprocess.Popen | Forked
    out: Path
    err: Path

    @property
    def pgid(self) -> int:
        return self.popen.pid

    def kill_group(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pgid, signal.SIGKILL)
        self.popen.wait(timeout=30)
        deadline = time.monotonic() + 30
        while _group_alive(self.pgid):
            assert time.monotonic() < deadline, "the killed run's processes are still alive"
            time.sleep(0.1)

    def finish(self, timeout: float = RUN_TIMEOUT_S) -> tuple[int, str, str]:
        try:
            code = self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill_group()
            pytest.fail(f"run did not finish in {timeout}s:\n{self.err.read_text()[-3000:]}")
        return code, self.out.read_text(), self.err.read_text()


def start_cli(
    home: env.Home,
    *args: str,
    extra_env: dict[str, str] | None = None,
    code: str | None = None,
    name: str = "cli",
    fresh: bool = False,
) -> Proc:
    """``papertrends ARGS`` (or ``python -c CODE ARGS``) in its own process group, forked
    from the launcher, or with ``fresh`` a new interpreter (the installed console script)."""
    logs = home.root.parent / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    out = logs / f"{name}-{uuid.uuid4().hex[:6]}.out"
    err = out.with_suffix(".err")
    environ = cli_env(home, extra_env)
    if not fresh:
        return Proc(current_launcher().spawn(list(args), environ, out, err, code), out, err)
    cmd = [sys.executable, "-c", code, *args] if code else [str(PAPERTRENDS), *args]
    with open(out, "w") as out_f, open(err, "w") as err_f:
        popen = subprocess.Popen(
            cmd,
            env=environ,
            stdout=out_f,
            stderr=err_f,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            cwd=env.REPO_ROOT,
        )
    return Proc(popen, out, err)


def run_cli(home: env.Home, *args: str, **kw) -> tuple[int, str, str]:
    return start_cli(home, *args, **kw).finish()


@contextlib.contextmanager
def killing_leftovers() -> Iterator[list[Proc]]:
    """Processes started in the block are killed (group and all) if the test fails."""
    started: list[Proc] = []
    try:
        yield started
    finally:
        for proc in started:
            if proc.popen.poll() is None or _group_alive(proc.pgid):
                proc.kill_group()


class RunWatcher:
    """Reads the Dagster instance of a home while a CLI process runs in it."""

    def __init__(self, home: env.Home) -> None:
        from dagster import DagsterInstance

        self.instance = DagsterInstance.from_config(str(home.dagster_home))

    def close(self) -> None:
        self.instance.dispose()

    def run_ids(self) -> set[str]:
        return {r.run_id for r in self.instance.get_runs()}

    def wait_for(
        self,
        proc: Proc,
        matches: Callable[[object], bool],
        known_runs: set[str],
        what: str,
        timeout: float = RUN_TIMEOUT_S,
    ) -> str:
        """Wait for an event of the process's new run; its run id."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for run_id in self.run_ids() - known_runs:
                if any(matches(e) for e in self.instance.all_logs(run_id)):
                    return run_id
            if proc.popen.poll() is not None:
                pytest.fail(f"run ended before {what}:\n{proc.err.read_text()[-3000:]}")
            time.sleep(0.2)
        proc.kill_group()
        pytest.fail(f"timed out waiting for {what}")


def materialized_in(step_key: str) -> Callable[[object], bool]:
    """Matches an asset materialization of the step ``step_key`` (for RunWatcher.wait_for)."""

    def matches(event) -> bool:
        de = event.dagster_event
        return (
            de is not None
            and de.event_type_value == "ASSET_MATERIALIZATION"
            and (event.step_key == step_key)
        )

    return matches


# ---------------------------------------------------------------------------- what a run left


def listing(tmp: Path, name: str, cards: list[tuple[str, str]]) -> Path:
    return write_listing(tmp / "inbox" / name, cards)


def count(warehouse: Path, sql: str, *params) -> int:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql, list(params)).fetchone()[0]


WRITE_TIMES = {"ingested_at", "built_at", "extracted_at"}


def table_snapshot(warehouse: Path | duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    """Every raw and mart table of a warehouse file (or an open connection's database),
    rows sorted (with duplicates), without the times rows were written (ingested_at,
    built_at, extracted_at)."""
    if isinstance(warehouse, Path):
        with duckdb.connect(str(warehouse), read_only=True) as con:
            return table_snapshot(con)
    con = warehouse
    tables = con.execute(
        "select table_schema || '.' || table_name from information_schema.tables "
        "where table_type = 'BASE TABLE' and table_catalog = current_database() order by 1"
    ).fetchall()
    out = {}
    for (table,) in tables:
        columns = [
            c for c, *_ in con.execute(f"describe {table}").fetchall() if c not in WRITE_TIMES
        ]
        rows = con.execute(f"select {', '.join(columns)} from {table}").fetchall()
        out[table] = sorted(
            (tuple(round(v, 9) if isinstance(v, float) else v for v in r) for r in rows),
            key=repr,
        )
    return out


def tmp_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.name.endswith(".tmp")]


def check_published_files(publish: Path) -> None:
    """Every published file is complete: it parses as what its name says."""
    assert not tmp_files(publish), tmp_files(publish)
    for path in publish.rglob("*"):
        if not path.is_file() or path.suffix == ".lock":  # the send ledger's lock file
            continue
        data = path.read_bytes()
        assert data, f"empty published file {path}"
        if path.suffix == ".json":
            json.loads(data)
        elif path.suffix == ".xml":
            ET.fromstring(data)
        elif path.suffix == ".parquet":
            pl.read_parquet(path)
        elif path.suffix == ".csv":
            assert pl.read_csv(path).width > 0
        elif path.suffix == ".html":
            assert data.rstrip().lower().endswith(b"</html>"), path
        elif path.suffix == ".md":
            assert data.startswith(b"# ") and data.endswith(b"\n"), path
        elif path.suffix == ".eml":
            message = email.message_from_bytes(data, policy=email.policy.default)
            assert message["Subject"] and message.get_body(("plain",)) is not None, path
