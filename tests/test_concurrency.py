"""Concurrency: the warehouse's readers-writer lock, runs started at once (CLI runs and a
run launched as the UI launches one), queries during them, and a backfill of several dates
in one Dagster run.

DuckDB allows one read-write process per file, and a read-only open fails while another
process has the file read-write (and the other way round): every process that opens the
warehouse takes ``flock`` on ``warehouse.lock`` first, shared to read, exclusive to write.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from orchestration import env
from tests._runs import (
    Launcher,
    check_published_files,
    cli_env,
    count,
    killing_leftovers,
    listing,
    run_cli,
    start_cli,
    tmp_files,
)
from tests.conftest import land, sample_cards
from transforms.files import LockTimeout
from transforms.warehouse import (
    OPEN_TIMEOUT_S,
    WarehouseBusyError,
    _open_timeout,
    connect_warehouse,
    lock_path,
    warehouse_lock,
)

D1 = dt.date(2026, 11, 9)


# Holds the warehouse open read-write under the exclusive lock, says so, then sleeps.
HOLD_WRITER = """
import sys, time
from pathlib import Path
from transforms.warehouse import connect_warehouse
with connect_warehouse(Path(sys.argv[1]), read_only=False) as con:
    con.execute("create table if not exists t as select 1 as x")
    print("holding", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def hold_writer(warehouse: Path, seconds: float) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD_WRITER, str(warehouse), str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=env.REPO_ROOT,
    )
    assert proc.stdout.readline().strip() == "holding"
    return proc


# ---------------------------------------------------------------------------- the lock


def test_readers_share_the_lock_and_a_writer_waits_for_them(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    waits: list[str] = []
    with (
        warehouse_lock(warehouse, shared=False),
        pytest.raises(WarehouseBusyError) as info,
        warehouse_lock(warehouse, shared=True, timeout_s=0.3, on_wait=waits.append),
    ):
        pass
    message = str(info.value)
    assert message.startswith(f"the warehouse {warehouse} is busy (a run is writing it)")
    assert "gave up after waiting 0s" in message and "\n" not in message
    assert len(waits) == 1 and "waiting for the warehouse" in waits[0]
    with (
        warehouse_lock(warehouse, shared=True, timeout_s=0),
        warehouse_lock(warehouse, shared=True, timeout_s=0),  # readers share
        pytest.raises(WarehouseBusyError, match="another run or a query is using it"),
        warehouse_lock(warehouse, shared=False, timeout_s=0.2),
    ):
        pass
    with warehouse_lock(warehouse, shared=False, timeout_s=0):  # all released
        pass


def test_only_taking_the_lock_is_translated(tmp_path: Path) -> None:
    """A LockTimeout raised inside the block (some other lock) is not the warehouse's."""
    with (
        pytest.raises(LockTimeout, match="another lock"),
        warehouse_lock(tmp_path / "warehouse.duckdb", shared=True, timeout_s=0),
    ):
        raise LockTimeout("another lock")


def test_the_open_gets_its_own_time_after_a_lock_wait_without_timeout() -> None:
    long_ago = time.monotonic() - 3600  # an hour spent waiting for the lock
    assert _open_timeout(None, long_ago) == OPEN_TIMEOUT_S
    left = _open_timeout(10.0, time.monotonic() - 4.0)
    assert 5.0 < left <= 6.0
    assert _open_timeout(1.0, long_ago) == 0.0


def test_a_killed_writer_leaves_no_stale_lock(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    proc = hold_writer(warehouse, 600)
    with pytest.raises(WarehouseBusyError), warehouse_lock(warehouse, shared=True, timeout_s=0.2):
        pass
    proc.kill()  # SIGKILL: no cleanup runs
    proc.wait()
    started = time.monotonic()
    with connect_warehouse(warehouse, read_only=False, timeout_s=5) as con:
        assert con.execute("select x from t").fetchall() == [(1,)]
    assert time.monotonic() - started < 2


def test_duckdb_refuses_a_reader_beside_a_writer_and_the_lock_makes_it_wait(
    tmp_path: Path,
) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    proc = hold_writer(warehouse, 2)
    try:
        # Without the lock: DuckDB's own file lock refuses the read-only open at once.
        with pytest.raises(duckdb.IOException, match="lock"):
            duckdb.connect(str(warehouse), read_only=True)
        # With it: the reader waits for the writer, then reads what it committed.
        waits: list[str] = []
        started = time.monotonic()
        with connect_warehouse(
            warehouse, read_only=True, timeout_s=60, on_wait=waits.append
        ) as con:
            assert con.execute("select x from t").fetchall() == [(1,)]
        assert waits and time.monotonic() - started > 0.5
    finally:
        proc.kill()
        proc.wait()


# ---------------------------------------------------------------------------- runs at once

#: The instance config of a home whose runs are launched the way the UI launches them: the
#: run coordinator hands a submitted run straight to the run launcher (the daemon's queue
#: hands it to the same launcher later).
LAUNCHING_DAGSTER_YAML = """\
run_coordinator:
  module: dagster.core.run_coordinator
  class: DefaultRunCoordinator
telemetry:
  enabled: false
"""


def groups_with_open(path: Path, pgids: set[int]) -> set[int]:
    """The process groups (of ``pgids``) that have a process with ``path`` open."""
    found, target = set(), str(path.resolve())
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            pgid = int(stat.read_text().rsplit(")", 1)[1].split()[2])
            if pgid in pgids and any(
                os.readlink(fd) == target for fd in (stat.parent / "fd").iterdir()
            ):
                found.add(pgid)
        except (OSError, IndexError, ValueError):
            continue  # ended meanwhile
    return found


@contextlib.contextmanager
def launching(home: env.Home, day: dt.date) -> Iterator[subprocess.Popen]:
    """`dagster job launch` of the daily job for ``day`` in its own process group (with the
    code server it starts and the run worker that server starts): stopped by that group's id
    when the block ends."""
    environ = dict(cli_env(home), DAGSTER_HOME=str(home.dagster_home))
    environ.pop("PAPERTRENDS_SOURCES", None)  # nothing fetched
    tags = f'{{"dagster/partition": "{day}"}}'
    command = [str(Path(sys.executable).with_name("dagster")), "job", "launch"]
    command += ["-m", "orchestration.definitions", "-j", "papertrends_daily", "--tags", tags]
    launch = subprocess.Popen(
        command,
        env=environ,
        cwd=env.REPO_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        yield launch
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(launch.pid, signal.SIGKILL)
        launch.wait()


@pytest.mark.slow
def test_runs_started_at_once_take_turns_at_the_warehouse_and_queries_during_them_answer(
    home: env.Home, tmp_path: Path, runs: Launcher
) -> None:
    """Three runs at once: two `papertrends run` of the same date, each landing its own
    file, and a run of another date launched through the instance's run launcher (its own
    process, as runs from the UI, the schedule and the sensor are), while `papertrends
    query` runs in a loop. The test holds the warehouse lock until each run waits for it at its first write,
    so they contend for it; nothing but the warehouse lock orders their writes. Then all
    three succeed, every query answers or says in one line that it waits or gives up, and
    the tables of both dates are exactly right (the last ingest of the date sees both
    files)."""
    from dagster import DagsterInstance, DagsterRunStatus

    cards = sample_cards()
    launched_day = D1 + dt.timedelta(days=1)
    land(home, launched_day, "page.txt", cards[10:16])  # 2 papers on both dates
    (home.dagster_home / "dagster.yaml").write_text(LAUNCHING_DAGSTER_YAML)
    page = listing(tmp_path, "page.txt", cards[:8])
    more = listing(tmp_path, "more.txt", cards[4:12])  # 4 papers on both pages
    queries: list[tuple[int, str, str]] = []

    def query() -> None:
        sql = "select count(*) from raw.listings"
        queries.append(run_cli(home, "query", sql, "--format", "csv", name="query"))
        time.sleep(0.5)  # a user's pace; leave the CPU to the runs

    def ingest_started(instance) -> set[str]:
        """The runs whose ingest step (their first write) has started."""
        return {
            run.run_id
            for run in instance.get_runs()
            for step in instance.get_run_step_stats(run.run_id, step_keys=["raw_listings"])
            if step.start_time
        }

    deadline = time.monotonic() + 300
    with (
        DagsterInstance.from_config(str(home.dagster_home)) as instance,
        killing_leftovers() as started,
        launching(home, launched_day) as launch,
    ):
        with warehouse_lock(home.warehouse, shared=False):  # each waits at its first write
            # Forked one right after the other, both land their file at once, well before
            # either reads the date's folder (at its ingest step, before the lock).
            for name, listed in (("a", page), ("b", more)):
                args = ("run", "--listing", str(listed), "--date", D1.isoformat())
                started.append(start_cli(home, *args, name=name))
            assert launch.wait(timeout=120) == 0, launch.stderr.read()[-3000:]
            groups = {launch.pid, *(p.pgid for p in started)}
            # A run with the lock file open while the test holds the lock waits for it.
            while (
                len(ingest_started(instance)) < 3
                or groups_with_open(lock_path(home.warehouse), groups) != groups
            ):
                assert time.monotonic() < deadline, "the runs did not reach their ingest"
                for p in started:
                    assert p.popen.poll() is None, p.err.read_text()[-3000:]
                query()
            released = time.time()
        while True:
            query()
            runs_now = instance.get_runs()
            if all(p.popen.poll() is not None for p in started) and all(
                r.is_finished for r in runs_now
            ):
                break
            assert time.monotonic() < deadline + 300, [r.status for r in runs_now]
        results = [p.finish() for p in started]
        ingests = [
            instance.get_run_step_stats(r.run_id, step_keys=["raw_listings"])[0] for r in runs_now
        ]

    for code, _, err in results:
        assert "Could not set lock" not in err, (
            "a reader opened the warehouse without the shared warehouse lock (the CLI's "
            "connect_read_only must hold transforms.warehouse.warehouse_lock(shared=True) "
            "while its connection is open): " + err[-2000:]
        )
        assert code == 0, err[-3000:]
        assert "Traceback" not in err
    assert [r.status for r in runs_now] == [DagsterRunStatus.SUCCESS] * 3
    assert sorted(r.tags["dagster/partition"] for r in runs_now) == [str(D1)] * 2 + [
        str(launched_day)
    ]
    assert all(step.end_time > released for step in ingests)  # each waited for the lock
    answered = 0
    for code, out, err in queries:
        assert "Traceback" not in err, err
        if code == 0:
            answered += 1
            assert out.splitlines()[0] == "count_star()"
        else:  # no warehouse or table yet, or gave up waiting: one line saying so
            lines = [line for line in err.splitlines() if not line.startswith("waiting")]
            assert len(lines) == 1 and lines[0].startswith("papertrends: "), err
    assert answered, queries

    w = home.warehouse
    per_file = (
        "select listing_date, source_file, count(*), count(distinct position) "
        "from raw.listings group by all"
    )
    with duckdb.connect(str(w), read_only=True) as con:
        assert sorted(con.execute(per_file).fetchall()) == [
            (D1, "more.txt", 8, 8),
            (D1, "page.txt", 8, 8),
            (launched_day, "page.txt", 6, 6),
        ], (
            "the date's last ingest missed a file: the ingest step reads landing/<date>/ "
            "before it waits for the warehouse lock, so a run that read the folder before "
            "the other run's file landed drops that file's rows when it writes last"
        )
    assert count(w, "select count(*) from raw.listings") == 22
    assert count(w, "select count(*) from papers") == 16
    assert count(w, "select count(distinct paper_id) from papers") == 16
    appearances = "select listing_date, count(*) from paper_appearances group by 1 order by 1"
    with duckdb.connect(str(w), read_only=True) as con:
        assert con.execute(appearances).fetchall() == [(D1, 12), (launched_day, 6)]
    assert count(w, "select count(*) from papers where times_listed = 2") == 2
    assert count(w, "select max(times_listed) from papers") == 2
    assert count(w, "select count(distinct paper_id) from raw.paper_keyphrases") == 16
    duplicates = "select count(*) - count(distinct (paper_id, rank)) from raw.paper_keyphrases"
    assert count(w, duplicates) == 0
    landed = sorted(p.name for p in (home.landing / D1.isoformat()).iterdir())
    assert landed == ["more.txt", "page.txt"]
    for day, papers in ((D1, 12), (launched_day, 6)):
        digest = (home.publish / day.isoformat() / "digest.md").read_text()
        assert digest.startswith(f"# {papers} papers on {day}"), digest[:80]
    check_published_files(home.publish)
    assert not tmp_files(home.root)


# ---------------------------------------------------------------------------- backfill

#: Dates of the backfill: enough for every date to share papers with the one before and the
#: one after (what a longer backfill has more of).
BACKFILL_DAYS = 5


@pytest.mark.slow
def test_a_backfill_of_several_dates_in_one_run_builds_every_date(
    home: env.Home, runs: Launcher
) -> None:
    """5 dates of 5 cards, consecutive dates sharing 2 papers, one `papertrends backfill`."""
    cards = sample_cards()
    first = dt.date(2026, 10, 1)
    days = [first + dt.timedelta(days=i) for i in range(BACKFILL_DAYS)]
    listed: dict[str, list[dt.date]] = {}
    for i, day in enumerate(days):
        todays = cards[3 * i : 3 * i + 5]
        land(home, day, "page.txt", todays)
        for title, _ in todays:
            listed.setdefault(title, []).append(day)

    code, out, err = run_cli(
        home, "backfill", "--from", days[0].isoformat(), "--to", days[-1].isoformat()
    )
    assert code == 0, err[-3000:]
    assert f"backfilled {len(days)} date(s) {days[0]}..{days[-1]}" in out

    with duckdb.connect(str(home.warehouse), read_only=True) as con:
        per_day = con.execute(
            "select listing_date, count(*) from raw.listings group by 1 order by 1"
        ).fetchall()
        appearances = con.execute(
            "select listing_date, count(*) from paper_appearances group by 1 order by 1"
        ).fetchall()
        papers = con.execute(
            "select title, times_listed, first_listed, last_listed from papers"
        ).fetchall()
        trend_dates = con.execute(
            "select as_of_date from keyword_trends group by 1 order by 1"
        ).fetchall()
    assert per_day == [(day, 5) for day in days]
    assert appearances == [(day, 5) for day in days]
    assert len(papers) == len(listed) == 3 * len(days) + 2
    assert {t: (n, f, last) for t, n, f, last in papers} == {
        t: (len(ds), min(ds), max(ds)) for t, ds in listed.items()
    }
    assert sum(len(ds) == 2 for ds in listed.values()) == 2 * (len(days) - 1)
    assert trend_dates == [(day,) for day in days]
    # One digest, of the last date (a backfill does not publish, nor e-mail, every date).
    assert {p.parent.name for p in home.publish.glob("*/digest.md")} == {days[-1].isoformat()}
    digest = (home.publish / days[-1].isoformat() / "digest.md").read_text()
    assert digest.startswith(f"# 5 papers on {days[-1]}"), digest[:80]
    assert cards[3 * (len(days) - 1)][0] in digest
    check_published_files(home.publish)

    from dagster import DagsterInstance, DagsterRunStatus

    with DagsterInstance.from_config(str(home.dagster_home)) as instance:
        (run,) = instance.get_runs()
    assert run.status == DagsterRunStatus.SUCCESS
    assert run.tags["dagster/asset_partition_range_start"] == days[0].isoformat()
    assert run.tags["dagster/asset_partition_range_end"] == days[-1].isoformat()
