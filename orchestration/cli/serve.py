"""``papertrends serve``: the Dagster webserver and daemon for the home, as child processes."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

import click

from orchestration import env
from orchestration.cli._common import prepare_home

#: The code location as ``dg dev`` names it (the schedule's and sensor's state is kept by name).
WORKSPACE = env.REPO_ROOT / "deploy" / "workspace.yaml"
#: How long the children get to stop after SIGTERM before they are killed.
STOP_TIMEOUT_S = 30.0


def executable(name: str) -> str:
    """A command of this interpreter's environment (the venv), else from PATH."""
    beside = Path(sys.executable).with_name(name)
    return str(beside) if beside.exists() else (shutil.which(name) or name)


def prepare_instance(root: str | None = None) -> env.Home:
    """The home (``root``, else PAPERTRENDS_HOME) with its folders, its dagster.yaml as the
    environment asks for (SQLite or PostgreSQL, see orchestration.env.dagster_yaml) and the
    instance's tables, created once under a file lock: a webserver and a daemon started
    together on a new home would both create the tables, and one of them would fail
    (``table alembic_version already exists``). What the services run before starting."""
    from dagster import DagsterInstance
    from filelock import FileLock

    home = env.home(root).ensure()
    with FileLock(str(home.dagster_home / ".prepare.lock")):
        DagsterInstance.from_config(str(home.dagster_home)).dispose()
    return home


def _default_signals() -> None:
    # A process started in the background (``cmd &``, a service manager) may inherit SIGINT
    # and SIGTERM ignored, and Dagster's processes then ignore them too: restore the defaults.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _signal_group(pgid: int, signum: int) -> bool:
    """``signum`` to a child's process group (the group it leads, ``start_new_session``:
    the child and its code servers); whether any process of it was left."""
    try:
        os.killpg(pgid, signum)
    except ProcessLookupError:
        return False
    return True


def spawn(command: list[str], cwd: Path, output: IO | None = None) -> subprocess.Popen:
    """``command`` started as serve starts its children: this environment with the venv's
    commands first on PATH (the runs the daemon launches call ``dagster``), default signal
    handlers, and a session of its own (a terminal's Ctrl-C reaches serve only: it forwards;
    :func:`stop` stops the process group). Its output goes to ``output`` when given, else
    where this process's goes."""
    bin_dir = str(Path(sys.executable).parent)
    child_env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    return subprocess.Popen(
        command,
        env=child_env,
        cwd=cwd,
        stdout=output,
        stderr=subprocess.STDOUT if output is not None else None,
        preexec_fn=_default_signals,
        start_new_session=True,
    )


def daemon_command() -> list[str]:
    """``dagster-daemon run`` on the code location (the home is DAGSTER_HOME's)."""
    return [executable("dagster-daemon"), "run", "-w", str(WORKSPACE)]


def stop(children: dict[str, subprocess.Popen]) -> None:
    """SIGTERM to each child still running, by PID (it stops its code server), then to
    what is left of its process group once it exited (a code server outlives its parent
    by up to its heartbeat timeout, 45 s); SIGKILL to the groups still there after
    STOP_TIMEOUT_S."""
    for proc in children.values():
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_S
    for name, proc in children.items():
        try:
            proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            click.echo(f"papertrends serve: {name} did not stop; killing it", err=True)
            _signal_group(proc.pid, signal.SIGKILL)
            proc.wait()
    left = [p.pid for p in children.values() if _signal_group(p.pid, signal.SIGTERM)]
    while left and time.monotonic() < deadline:
        time.sleep(0.1)
        left = [pgid for pgid in left if _signal_group(pgid, 0)]
    for pgid in left:
        _signal_group(pgid, signal.SIGKILL)


@click.command(short_help="run the Dagster webserver and daemon for the home")
@click.option("--host", default="127.0.0.1", show_default=True, help="the webserver's address")
@click.option("--port", default=3000, show_default=True, type=int, help="the webserver's port")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int) -> None:
    """Start ``dagster-webserver`` and ``dagster-daemon run`` on the home (DAGSTER_HOME =
    <home>/dagster, the code location of ``make dev``) and wait. SIGTERM or SIGINT (Ctrl-C)
    stops both (exit 0); if either exits by itself, the other is stopped and serve exits 1."""
    home = prepare_home(ctx)  # exports PAPERTRENDS_HOME and DAGSTER_HOME to the children
    prepare_instance(str(home.root))
    commands = {
        "dagster-webserver": [
            executable("dagster-webserver"),
            *("-w", str(WORKSPACE), "--host", host, "--port", str(port)),
        ],
        "dagster-daemon": daemon_command(),
    }
    stop_requested: list[int] = []

    def request_stop(signum, _frame) -> None:
        stop_requested.append(signum)

    previous = {s: signal.signal(s, request_stop) for s in (signal.SIGTERM, signal.SIGINT)}
    children: dict[str, subprocess.Popen] = {}
    try:
        for name, command in commands.items():
            children[name] = spawn(command, home.root)
        pids = ", ".join(f"{name} {proc.pid}" for name, proc in children.items())
        click.echo(f"papertrends serve: {pids}; home {home.root}; http://{host}:{port}")
        exited = None
        while not stop_requested and exited is None:
            exited = next((n for n, p in children.items() if p.poll() is not None), None)
            if exited is None:
                time.sleep(0.5)
    finally:
        stop(children)
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if exited is not None and not stop_requested:
        code = children[exited].returncode
        click.echo(f"papertrends serve: {exited} exited (code {code}); stopped the rest", err=True)
        ctx.exit(1)
    click.echo("papertrends serve: stopped")
