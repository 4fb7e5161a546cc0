"""Faults: runs killed mid-way, an unusable publish folder, and the SMTP password.

Runs are real ``papertrends run`` processes, each in its own process group (tests/_runs.py),
so that ``os.killpg(pgid, SIGKILL)`` kills the run with its keyphrase workers, as a crash,
the OOM killer or a power cut would. The phase is found from the outside (the run's
Dagster event log, read from the instance in the home) or, to kill inside a write
transaction, by a bootstrap that wraps ``transforms.warehouse._insert_frame`` in the run's
process only (no test hook in the product code).

The killed runs' home is compared with the session's sample home (tests/conftest.py), built
by one uninterrupted run of the same listing for the same date.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from orchestration import env
from tests._runs import (
    RUN_TIMEOUT_S,
    Launcher,
    Proc,
    RunWatcher,
    check_published_files,
    count,
    killing_leftovers,
    listing,
    materialized_in,
    run_cli,
    start_cli,
    table_snapshot,
    tmp_files,
)
from tests.conftest import SAMPLE, SAMPLE_DATE, free_port, sample_cards
from transforms.warehouse import connect_warehouse, warehouse_lock

D1 = dt.date(2026, 11, 2)
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
SECRET = f"s3cr3t-{uuid.uuid4().hex}"
STARTED = time.time()

# Runs `papertrends ARGS...` with raw.<table>'s insert pausing inside its transaction
# (after the rows are inserted, before the commit) and a flag file written when it does.
PAUSE_IN_TRANSACTION = r"""
import os, sys, time
from pathlib import Path
import transforms.warehouse as warehouse
table, flag = os.environ["FAULT_PAUSE_TABLE"], Path(os.environ["FAULT_PAUSE_FLAG"])
insert = warehouse._insert_frame
def pausing_insert(con, name, frame):
    insert(con, name, frame)
    if name == table:
        flag.write_text(str(os.getpid()))
        time.sleep(600)
warehouse._insert_frame = pausing_insert
from orchestration.cli import main
main(sys.argv[1:], prog_name="papertrends")
"""


# ---------------------------------------------------------------------------- helpers


def wait_for_file(proc: Proc, flag: Path, what: str, timeout: float = RUN_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout
    while not flag.exists():
        if proc.popen.poll() is not None:
            pytest.fail(f"run ended before {what}:\n{proc.err.read_text()[-3000:]}")
        if time.monotonic() > deadline:
            proc.kill_group()
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.1)


def copy_home(source: env.Home, target_root: Path) -> env.Home:
    shutil.copytree(source.root, target_root, ignore=shutil.ignore_patterns(".built"))
    return env.home(target_root)


def find_secret(secret: str, *roots: Path, since: float = 0.0) -> list[Path]:
    """Files under ``roots`` (modified at or after ``since``) whose bytes contain ``secret``."""
    needle = secret.encode()
    hits = []
    for root in roots:
        for path in [root] if root.is_file() else root.rglob("*"):
            if path.is_file() and path.stat().st_mtime >= since and needle in path.read_bytes():
                hits.append(path)
    return hits


def event_log_text(home: env.Home) -> str:
    """Every event of every run in the home's Dagster instance, serialized (messages,
    metadata, errors with their stack traces, run config and tags)."""
    from dagster import DagsterInstance, serialize_value

    parts = []
    with DagsterInstance.from_config(str(home.dagster_home)) as instance:
        for run in instance.get_runs():
            parts.append(serialize_value(run))
            parts += [serialize_value(e) for e in instance.all_logs(run.run_id)]
    return "\n".join(parts)


# ---------------------------------------------------------------------------- SMTP


@dataclass
class MailServer:
    port: int
    messages: list
    logins: list


@contextlib.contextmanager
def smtp_server(accept_password: str | None) -> Iterator[MailServer]:
    """aiosmtpd on 127.0.0.1 requiring AUTH: accepts ``accept_password`` (None: refuses all)."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    server = MailServer(free_port(), [], [])

    class Handler:
        async def handle_DATA(self, srv, session, envelope) -> str:
            server.messages.append(envelope.original_content)
            return "250 OK"

    def authenticator(srv, session, envelope, mechanism, auth_data) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and accept_password is not None
        ok = ok and auth_data.password == accept_password.encode()
        server.logins.append(ok)
        return AuthResult(success=ok, handled=False)

    controller = Controller(
        Handler(),
        hostname="127.0.0.1",
        port=server.port,
        authenticator=authenticator,
        auth_require_tls=False,
        auth_required=True,
    )
    controller.start()
    try:
        yield server
    finally:
        controller.stop()


def smtp_env(port: int) -> dict[str, str]:
    return {
        "PAPERTRENDS_SMTP_HOST": "127.0.0.1",
        "PAPERTRENDS_SMTP_PORT": str(port),
        "PAPERTRENDS_SMTP_USER": "digest-bot",
        "PAPERTRENDS_SMTP_PASSWORD": SECRET,
        "PAPERTRENDS_DIGEST_TO": "team@example.org",
    }


# ---------------------------------------------------------------------------- 1. kills


@pytest.mark.slow
def test_runs_killed_in_ingest_dbt_and_keyphrases_leave_a_consistent_home(
    runs: Launcher, home: env.Home, sample_home: env.Home, tmp_path: Path
) -> None:
    """SIGKILL (whole process group) inside the ingest transaction, during dbt and inside
    the keyphrase write; after each kill the warehouse opens, holds no partial partition,
    the lock is free and the next run gets past the killed phase; a last uninterrupted run
    gives exactly the tables and digest of the sample home (the same listing and date,
    built by one run). Every run here has no SMTP settings at all."""
    from dagster import DagsterRunStatus

    args = ("run", "--listing", str(SAMPLE), "--date", SAMPLE_DATE.isoformat())
    listed = count(sample_home.warehouse, "select count(*) from raw.listings")
    papers = count(sample_home.warehouse, "select count(*) from papers")
    warehouse = home.warehouse
    watcher = RunWatcher(home)
    killed: list[str] = []

    def after_kill(proc: Proc) -> None:
        proc.kill_group()
        # flock locks die with their process: the warehouse lock is free at once.
        with warehouse_lock(warehouse, shared=False, timeout_s=0):
            pass
        assert not tmp_files(home.root)

    def pause(table: str) -> tuple[dict[str, str], Path]:
        flag = tmp_path / f"paused-{table}"
        return {"FAULT_PAUSE_TABLE": table, "FAULT_PAUSE_FLAG": str(flag)}, flag

    with killing_leftovers() as started:
        # a. Inside the ingest transaction: raw.listings rows inserted, not committed.
        extra, flag = pause("raw.listings")
        known = watcher.run_ids()
        proc = start_cli(home, *args, extra_env=extra, code=PAUSE_IN_TRANSACTION, name="a")
        started.append(proc)
        wait_for_file(proc, flag, "the pause in the ingest transaction")
        after_kill(proc)
        killed += watcher.run_ids() - known
        assert count(warehouse, "select count(*) from raw.listings") == 0

        # b. During dbt: some warehouse models rebuilt, others not yet.
        known = watcher.run_ids()
        proc = start_cli(home, *args, name="b")
        started.append(proc)
        run_b = watcher.wait_for(
            proc, materialized_in("warehouse_models"), known, "the first dbt model"
        )
        after_kill(proc)
        killed.append(run_b)
        # The killed ingest was rolled back and this run's ingest committed: all, once.
        assert count(warehouse, "select count(*) from raw.listings") == listed
        assert count(warehouse, "select count(distinct position) from raw.listings") == listed

        # c. Inside the keyphrase write (after extraction in the worker processes).
        extra, flag = pause("raw.paper_keyphrases")
        known = watcher.run_ids()
        proc = start_cli(home, *args, extra_env=extra, code=PAUSE_IN_TRANSACTION, name="c")
        started.append(proc)
        wait_for_file(proc, flag, "the pause in the keyphrase transaction")
        after_kill(proc)
        killed += watcher.run_ids() - known
        # dbt finished in this run (papers exist); the keyphrase rows were rolled back.
        assert count(warehouse, "select count(*) from papers") == papers
        assert count(warehouse, "select count(*) from raw.paper_keyphrases") == 0

        # d. The next run completes, without SMTP settings (outbox only).
        known = watcher.run_ids()
        code, out, err = run_cli(home, *args, name="d")
        assert code == 0, err[-3000:]
        assert "Traceback" not in err
        assert f"{papers} papers parsed" in out

    # The killed runs were closed as failed.
    statuses = {r.run_id: r.status for r in watcher.instance.get_runs()}
    assert len(killed) == 3
    assert all(statuses[run_id] == DagsterRunStatus.FAILURE for run_id in killed), statuses
    (last,) = watcher.run_ids() - known
    assert statuses[last] == DagsterRunStatus.SUCCESS
    watcher.close()

    assert table_snapshot(warehouse) == table_snapshot(sample_home.warehouse)
    check_published_files(home.publish)
    day = SAMPLE_DATE.isoformat()
    assert (home.publish / day / "digest.md").read_text() == (
        sample_home.publish / day / "digest.md"
    ).read_text()
    assert (home.publish / "outbox" / f"{day}.eml").is_file()
    assert not (home.publish / "outbox" / "sent.json").exists()
    assert not list((home.dagster_home / "papertrends-runs").iterdir())


# ---------------------------------------------------------------------------- 4. publish


@pytest.mark.slow
def test_an_unusable_publish_folder_fails_the_run_clearly_and_keeps_the_warehouse(
    runs: Launcher, sample_home_copy: env.Home
) -> None:
    home = sample_home_copy
    before = table_snapshot(home.warehouse)
    papers = count(home.warehouse, "select count(*) from papers")
    feed = (home.publish / "feed.xml").read_bytes()
    day = home.publish / SAMPLE_DATE.isoformat()
    shutil.rmtree(day)
    day.write_text("a file where the date's folder should be\n")

    code, out, err = run_cli(
        home, "run", "--listing", str(SAMPLE), "--date", SAMPLE_DATE.isoformat()
    )

    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("papertrends: step digest failed: publishing failed:"), lines
    assert str(day) in lines[0] and "a file is where a folder should be" in lines[0]
    assert table_snapshot(home.warehouse) == before
    code, out, err = run_cli(home, "query", "select count(*) from papers", "--format", "csv")
    assert (code, out.split()) == (0, ["count_star()", str(papers)]), err
    assert day.read_text() == "a file where the date's folder should be\n"
    assert (home.publish / "feed.xml").read_bytes() == feed
    day.unlink()  # the rest must be complete files
    check_published_files(home.publish)


def test_a_file_in_place_of_the_publish_folder_is_refused_before_anything_runs(
    home: env.Home, tmp_path: Path
) -> None:
    shutil.rmtree(home.publish)
    home.publish.write_text("not a folder\n")
    page = listing(tmp_path, "page.txt", sample_cards()[:5])
    args = ("run", "--listing", str(page), "--date", D1.isoformat())
    code, _, err = run_cli(home, *args, fresh=True)  # the installed command
    assert code == 1
    assert err.strip().splitlines() == [
        f"papertrends: cannot prepare the home folder {home.root}: File exists ({home.publish})"
    ]
    assert not any(home.landing.iterdir())
    assert not home.warehouse.exists()


@pytest.mark.slow
def test_disk_full_while_publishing_leaves_complete_files_and_no_temp_files(
    sample_home: env.Home, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from transforms import publish as publish_mod

    publish = tmp_path / "publish"
    first = dt.datetime.combine(SAMPLE_DATE, dt.time(7, 0), tzinfo=dt.UTC)
    later = first + dt.timedelta(hours=1)

    def enospc(*_args, **_kw):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "<disk>")

    with connect_warehouse(sample_home.warehouse, read_only=True) as con:
        # Disk full on the very first write: nothing published, nothing left over.
        with monkeypatch.context() as m:
            m.setattr(os, "fsync", enospc)  # the os module publishing writes through
            with pytest.raises(publish_mod.PublishError) as info:
                publish_mod.publish_day(con, publish, SAMPLE_DATE, first)
        assert "No space left on device" in str(info.value)
        assert "\n" not in str(info.value)
        assert not tmp_files(publish)
        assert not [p for p in publish.rglob("*") if p.is_file()]

        publish_mod.publish_day(con, publish, SAMPLE_DATE, first)
        old = {p: p.read_bytes() for p in publish.rglob("*") if p.is_file()}

        # Disk full at the third rename (trends.csv): the files before it are new, the
        # ones after it old; every one complete, no temporary file.
        real_replace, calls = os.replace, []

        def third_fails(src, dst):
            calls.append(dst)
            if len(calls) == 3:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(dst))
            return real_replace(src, dst)

        with monkeypatch.context() as m:
            m.setattr(os, "replace", third_fails)
            with pytest.raises(publish_mod.PublishError, match="No space left on device"):
                publish_mod.publish_day(con, publish, SAMPLE_DATE, later)
        assert not tmp_files(publish)
        check_published_files(publish)
        entry = json.loads((publish / SAMPLE_DATE.isoformat() / "entry.json").read_text())
        assert entry["updated"] == first.isoformat()  # written after the failure: old
        assert set(old) == {p for p in publish.rglob("*") if p.is_file()}

        # A temporary file of a killed writer (dead pid) is swept by the next publish; a
        # live writer's is kept.
        day = publish / SAMPLE_DATE.isoformat()
        gone = subprocess.run(
            [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
        )
        orphan = day / f".digest.md.{gone.stdout.strip()}.abcdefgh.tmp"
        orphan.write_text("half a dig")
        live = day / f".digest.md.{os.getpid()}.abcdefgh.tmp"
        live.write_text("being written")
        publish_mod.publish_day(con, publish, SAMPLE_DATE, later)
        assert not orphan.exists() and live.exists()
        live.unlink()
        check_published_files(publish)


# ---------------------------------------------------------------------------- 5. secrets


@pytest.mark.slow
def test_the_smtp_password_is_never_written_anywhere(
    runs: Launcher, sample_home: env.Home, tmp_path: Path
) -> None:
    """Two homes with the sample built, a run of the next date in each, at once: one logs in
    with the password and sends its digest, the other's login is refused and it fails with
    one line. Neither shows the password: not in the Dagster event log, its compute logs,
    stdout/stderr, the .eml files, published files, the warehouse or dbt's logs."""
    pytest.importorskip("aiosmtpd")
    homes = [copy_home(sample_home, tmp_path / name) for name in ("accepting", "refusing")]
    day = SAMPLE_DATE + dt.timedelta(days=1)
    page = listing(tmp_path, "page.txt", sample_cards()[:8])
    args = ("run", "--listing", str(page), "--date", day.isoformat())
    with (
        smtp_server(accept_password=SECRET) as accepting,
        smtp_server(accept_password=None) as refusing,
        killing_leftovers() as started,
    ):
        for home, server in zip(homes, (accepting, refusing), strict=True):
            started.append(start_cli(home, *args, extra_env=smtp_env(server.port)))
        (code, out, err), (code2, out2, err2) = [p.finish() for p in started]

    home = homes[0]
    assert code == 0, err[-3000:]
    assert accepting.logins == [True]
    assert len(accepting.messages) == 1
    ledger = json.loads((home.publish / "outbox" / "sent.json").read_text())
    (key,) = ledger["sent"]  # date | recipients | content hash (transforms.mailer.ledger_key)
    assert key.startswith(f"{day}|team@example.org|sha256:")

    refused = homes[1]
    assert refusing.logins and not any(refusing.logins) and not refusing.messages
    assert code2 == 1
    lines = err2.strip().splitlines()
    assert len(lines) == 1, err2
    assert "step digest failed" in lines[0] and "535" in lines[0], lines[0]
    assert (refused.publish / "outbox" / f"{day}.eml").is_file()  # written before sending

    events = event_log_text(refused)
    assert "535" in events  # the failure and its stack trace are in there
    for text in (out, err, out2, err2, event_log_text(home), events):
        assert SECRET not in text
    assert find_secret(SECRET, home.root, refused.root) == []
    dbt_output = [p for p in (env.DBT_PROJECT_DIR / "logs", env.DBT_PROJECT_DIR / "target")]
    assert find_secret(SECRET, *[p for p in dbt_output if p.exists()], since=STARTED) == []
