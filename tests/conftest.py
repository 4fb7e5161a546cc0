"""Shared fixtures: a temporary papertrends home and listing files built from the sample."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import logging
import os
import shutil
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import click.testing
import pytest
from filelock import FileLock

from orchestration import env
from tests.postgres import PostgresCluster, server_binaries, start_cluster

SAMPLE = env.SAMPLE_LISTING
#: The listing date of the session's sample run (:func:`sample_home`).
SAMPLE_DATE = dt.date(2026, 11, 28)


@pytest.fixture(scope="session", autouse=True)
def dbt_manifest() -> Path:
    """Tests load the Dagster definitions, which read dbt's manifest: parse it once when
    stale, before any test (the same preparer as every other entry point)."""
    from orchestration.dbt_project import prepare_manifest

    return prepare_manifest()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresCluster]:
    """A throwaway PostgreSQL server for this test process (:mod:`tests.postgres`). Without
    Debian's server binaries the tests using it skip, unless CI is set (.ci/run installs
    them)."""
    if server_binaries() is None:
        reason = "PostgreSQL server is not installed (apt-get install postgresql; .ci/run does)"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}, and CI is set")
        pytest.skip(reason)
    cluster = start_cluster()
    try:
        yield cluster
    finally:
        cluster.remove()


@pytest.fixture(scope="session")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    """The launcher real CLI runs are forked from (tests/_runs.py), one per test process."""
    from tests import _runs

    with _runs.launcher(tmp_path_factory.mktemp("launcher")) as launcher:
        yield launcher


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> env.Home:
    """An empty papertrends home; this process and its subprocesses point at it."""
    h = env.home(tmp_path / "home").ensure()
    monkeypatch.setenv("PAPERTRENDS_HOME", str(h.root))
    monkeypatch.setenv("DAGSTER_HOME", str(h.dagster_home))
    return h


@pytest.fixture(scope="session")
def sample_home(tmp_path_factory: pytest.TempPathFactory) -> env.Home:
    """The bundled sample (200 papers) built by one real ``papertrends run`` for
    :data:`SAMPLE_DATE`, once for the whole session: the first test process (xdist worker)
    that needs it builds it under a file lock, the others wait and share it. READ IT ONLY
    (DuckDB ``read_only=True``, ``papertrends query``); a test that writes takes
    :func:`sample_home_copy`."""
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent  # the folder every worker's base temp lives in
    root = shared / "sample_home"
    done = root / ".built"
    with FileLock(str(shared / "sample_home.lock")):
        if not done.exists():
            shutil.rmtree(root, ignore_errors=True)
            built = env.home(root).ensure()
            with pytest.MonkeyPatch.context() as patch:
                patch.setenv("PAPERTRENDS_HOME", str(built.root))
                patch.setenv("DAGSTER_HOME", str(built.dagster_home))
                args = ["--home", str(built.root), "run", "--listing", str(SAMPLE)]
                result = invoke(*args, "--date", SAMPLE_DATE.isoformat())
            assert result.exit_code == 0, result.stderr[-3000:]
            assert "200 papers parsed" in result.stdout
            done.write_text(result.stdout, encoding="utf-8")
    return env.home(root)


@pytest.fixture
def sample_home_copy(
    sample_home: env.Home, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> env.Home:
    """A writable copy of :func:`sample_home` (warehouse, landing, digest and the Dagster
    instance with its one run); this process and its subprocesses point at it."""
    shutil.copytree(sample_home.root, tmp_path / "home", ignore=shutil.ignore_patterns(".built"))
    h = env.home(tmp_path / "home").ensure()
    monkeypatch.setenv("PAPERTRENDS_HOME", str(h.root))
    monkeypatch.setenv("DAGSTER_HOME", str(h.dagster_home))
    return h


def run_job(
    first: dt.date,
    until: dt.date | None = None,
    selection: list | None = None,
    job=None,
) -> None:
    """The daily job (or ``job``) for ``first``, or with ``until`` for every date from
    ``first`` to ``until`` in one backfill run, on the home the environment names
    (PAPERTRENDS_HOME): the assets of ``selection`` with their checks (default: all but the
    fetch assets, as ``materialize(..., fetch=False)`` runs it). A failed run fails the test
    with its first failed step.

    The run is recorded in an ephemeral Dagster instance, not the home's, and Dagster's
    console log is off: the tests that use it read the warehouse and the published files. The
    recorded path (``orchestration.runs.materialize``, as the CLI runs it) is in test_cli,
    test_pipeline's re-run, test_delivery, test_hostile_inputs, test_import, test_concurrency
    and test_faults."""
    import dagster as dg

    from orchestration.definitions import defs
    from orchestration.defs.fetch import FETCH_ASSET_KEYS
    from orchestration.runs import first_failure, partition_args

    if job is None:
        job = defs.resolve_job_def("papertrends_daily")
        if selection is None:
            selection = [k for k in defs.resolve_all_asset_keys() if k not in FETCH_ASSET_KEYS]
    with dg.DagsterInstance.ephemeral() as instance:
        result = job.execute_in_process(
            instance=instance,
            asset_selection=selection,
            run_config={"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}},
            raise_on_error=False,
            **partition_args(first, until),
        )
    assert result.success, first_failure(result)


def landing_sensor_tick(
    home: env.Home, cursor: str | None = None, log_handler: logging.Handler | None = None
):
    """One tick of the landing sensor on ``home`` (with the home's Dagster instance, where
    it reads what is materialized): its result and the cursor it leaves. ``log_handler``
    receives what the sensor logs."""
    import dagster as dg

    from orchestration.definitions import defs
    from orchestration.defs.automation import landing_sensor
    from orchestration.resources import PapertrendsHome

    with dg.DagsterInstance.from_config(str(home.dagster_home)) as instance:
        context = dg.build_sensor_context(
            instance=instance,
            cursor=cursor,
            resources={"papertrends": PapertrendsHome(path=str(home.root))},
            definitions=defs,
        )
        if log_handler is not None:
            context.log.addHandler(log_handler)
        try:
            result = landing_sensor.evaluate_tick(context)
        finally:
            if log_handler is not None:
                context.log.removeHandler(log_handler)
        return result, context.cursor


def invoke(*args: str) -> click.testing.Result:
    """``papertrends ARGS`` in this process (click's ``CliRunner``): its exit code, stdout and
    stderr. An exception the CLI does not turn into a message is raised, not kept in the
    result."""
    from orchestration.cli import main

    # The commands point this process's environment at their home (for dbt and Dagster):
    # CliRunner restores the variables named in ``env`` afterwards.
    kept = {name: os.environ.get(name) for name in ("PAPERTRENDS_HOME", "DAGSTER_HOME")}
    return click.testing.CliRunner().invoke(main, list(args), env=kept, catch_exceptions=False)


def sample_cards() -> list[tuple[str, str]]:
    """The sample's (title, abstract) pairs, as the page lists them."""
    from transforms.listing import parse_listing_file

    result, _ = parse_listing_file(SAMPLE)
    return [(r.title, r.abstract) for r in result.records]


def write_listing(path: Path, cards: list[tuple[str, str]], header: bool = True) -> Path:
    """A listing file in the pasted-page format."""
    lines = []
    if header:
        lines += ["Get trending papers in your email inbox once a day!", "Subscribe"]
    for title, abstract in cards:
        lines += [title, abstract]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def land(home: env.Home, day: dt.date, name: str, cards: list[tuple[str, str]]) -> Path:
    return write_listing(home.landing / day.isoformat() / name, cards)


# ---------------------------------------------------------------------------- SMTP


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: email.message.EmailMessage


@dataclass
class Capture:
    """aiosmtpd handler keeping every delivered message (recipients @refused.example are
    refused with a 550)."""

    messages: list[Received] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope) -> str:
        msg = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), msg))
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        if address.endswith("@refused.example"):
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp() -> Iterator[tuple[Capture, int]]:
    """A real SMTP server (aiosmtpd) on 127.0.0.1, no AUTH: (its handler, its port)."""
    from aiosmtpd.controller import Controller

    handler = Capture()
    port = free_port()
    ctl = Controller(handler, hostname="127.0.0.1", port=port)
    ctl.start()
    try:
        yield handler, port
    finally:
        ctl.stop()
