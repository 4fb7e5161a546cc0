"""`papertrends serve` runs the Dagster webserver and daemon on the home and stops them; the
systemd units in deploy/systemd/ start commands that exist, on the same home."""

from __future__ import annotations

import configparser
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from orchestration import env
from tests.conftest import free_port

BIN = Path(sys.executable).parent
UNITS = env.REPO_ROOT / "deploy" / "systemd"
#: Where the units expect the checkout (with its venv in .venv/).
INSTALL_DIR = "/opt/papertrends"
STARTED = re.compile(r"dagster-webserver (\d+), dagster-daemon (\d+)")


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, exited but not yet waited for, does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _group(pgid: int) -> set[int]:
    """The running processes of a process group (a child of serve and its code server)."""
    members = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if fields[0] != "Z" and int(fields[2]) == pgid:
            members.add(int(stat.parent.name))
    return members


def _wait_until(predicate, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} within {timeout_s:.0f} s")
        time.sleep(0.2)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.status == 200 and b"dagster_webserver_version" in resp.read()
    except (urllib.error.URLError, OSError):
        return False


def _serve(
    home: env.Home, port: int, answering: bool = True
) -> tuple[subprocess.Popen, int, int, Path]:
    """``papertrends serve`` started as a user would (its own process), its children
    started (and with ``answering``, the webserver answering HTTP): the process, the
    webserver's and the daemon's PIDs, its log."""
    log_path = home.root / "serve.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [str(BIN / "papertrends"), "--home", str(home.root), "serve", "--port", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def started() -> bool:
        assert proc.poll() is None, log_path.read_text()[-3000:]
        return STARTED.search(log_path.read_text()) is not None

    try:
        _wait_until(started, 30, "serve did not start its children")
        webserver, daemon = map(int, STARTED.search(log_path.read_text()).groups())
        url = f"http://127.0.0.1:{port}/server_info"
        if answering:
            _wait_until(lambda: started() and _answers(url), 90, f"{url} did not answer")
        assert _alive(webserver) and _alive(daemon)
        assert "dagster-daemon" in Path(f"/proc/{daemon}/cmdline").read_text()
    except BaseException:
        proc.kill()
        proc.wait(timeout=30)
        raise
    return proc, webserver, daemon, log_path


def _finish(proc: subprocess.Popen, *pids: int) -> None:
    """Stop what a failed test left running, by PID."""
    for pid in pids:
        if _alive(pid):
            os.killpg(pid, signal.SIGKILL)  # each child leads its own process group
    if proc.poll() is None:
        proc.kill()
    proc.wait(timeout=30)


@pytest.mark.timeout(150)
def test_serve_runs_webserver_and_daemon_and_sigterm_stops_both(home: env.Home) -> None:
    port = free_port()
    proc, webserver, daemon, log = _serve(home, port)
    try:
        # the daemon runs on the home's instance: it starts the landing sensor there
        _wait_until(
            lambda: "Checking for new runs for sensor: landing_sensor" in log.read_text(),
            90,
            f"the daemon did not tick the landing sensor ({log.read_text()[-2000:]})",
        )
        # each child with its code server, in the process group it leads
        started = _group(webserver) | _group(daemon)
        assert len(started) >= 4, started
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=45) == 0, log.read_text()[-3000:]
        assert not _alive(webserver) and not _alive(daemon)
        left = {pid for pid in started if _alive(pid)}
        assert left == set(), [Path(f"/proc/{p}/cmdline").read_bytes()[:150] for p in left]
        assert "papertrends serve: stopped" in log.read_text()
    finally:
        _finish(proc, webserver, daemon)


@pytest.mark.timeout(150)
def test_serve_exits_nonzero_when_a_child_dies(home: env.Home) -> None:
    proc, webserver, daemon, log = _serve(home, free_port(), answering=False)
    try:
        started = _group(webserver) | _group(daemon)
        os.kill(daemon, signal.SIGKILL)
        assert proc.wait(timeout=45) == 1
        assert not _alive(webserver)
        _wait_until(  # the daemon's code server too, though its daemon died
            lambda: not any(_alive(pid) for pid in started), 10, "processes were left"
        )
        assert "dagster-daemon exited (code -9)" in log.read_text()
    finally:
        _finish(proc, webserver, daemon)


# ---------------------------------------------------------------------------- systemd units


def _unit(name: str) -> configparser.ConfigParser:
    unit = configparser.ConfigParser(interpolation=None, strict=True)
    unit.optionxform = str  # systemd's keys are case-sensitive
    unit.read_string((UNITS / name).read_text(encoding="utf-8"))
    return unit


def _local(path: str) -> Path:
    """A path of the installed checkout, in this checkout."""
    assert path.startswith(f"{INSTALL_DIR}/"), path
    return env.REPO_ROOT / path.removeprefix(f"{INSTALL_DIR}/")


@pytest.mark.parametrize(
    ("name", "command"),
    [
        ("papertrends-webserver.service", "dagster-webserver"),
        ("papertrends-daemon.service", "dagster-daemon"),
    ],
)
def test_systemd_unit_starts_a_venv_command_on_the_home(name: str, command: str) -> None:
    service = _unit(name)["Service"]
    start = shlex.split(service["ExecStart"])
    executable = _local(start[0])
    assert executable.name == command
    assert executable == BIN / command and os.access(executable, os.X_OK)
    assert _local(start[start.index("-w") + 1]) == env.REPO_ROOT / "deploy" / "workspace.yaml"
    environment = dict(a.split("=", 1) for a in shlex.split(service["Environment"]))
    assert environment["DAGSTER_HOME"] == f"{environment['PAPERTRENDS_HOME']}/dagster"
    assert service["WorkingDirectory"] == environment["PAPERTRENDS_HOME"]
    pre = shlex.split(service["ExecStartPre"])
    assert _local(pre[0]) == BIN / "python"
    assert _unit(name)["Install"]["WantedBy"] == "multi-user.target"


def test_systemd_units_prepare_the_home(tmp_path: Path) -> None:
    pre = shlex.split(_unit("papertrends-daemon.service")["Service"]["ExecStartPre"])
    root = tmp_path / "home"
    subprocess.run(
        [str(_local(pre[0])), *pre[1:]],
        env=dict(os.environ, PAPERTRENDS_HOME=str(root)),
        cwd=tmp_path,
        check=True,
        timeout=60,
    )
    assert (root / "dagster" / "dagster.yaml").is_file() and (root / "landing").is_dir()
    # the instance's databases, which the webserver and the daemon would both create
    for db in ("history/runs.db", "history/runs/index.db", "schedules/schedules.db"):
        assert (root / "dagster" / db).is_file(), db


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze")
def test_systemd_units_verify(tmp_path: Path) -> None:
    """systemd's own check (every key known, every command executable), on the units with
    this checkout in place of the install folder."""
    for unit in UNITS.glob("*.service"):
        text = unit.read_text(encoding="utf-8").replace(INSTALL_DIR, str(env.REPO_ROOT))
        (tmp_path / unit.name).write_text(text, encoding="utf-8")
    units = sorted(str(p) for p in tmp_path.glob("*.service"))
    assert len(units) == 2
    proc = subprocess.run(
        ["systemd-analyze", "verify", *units], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
