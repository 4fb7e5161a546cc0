"""The warehouse on DuckLake (``PAPERTRENDS_WAREHOUSE=ducklake:postgres:...``) with the
Dagster instance on PostgreSQL too: what a team runs. Real ``papertrends`` processes
(tests/_runs.py) on a real PostgreSQL server (tests/postgres.py) and DuckLake's data files
in a temporary folder.

The module's tests share one lake, in order: a run of the bundled sample killed during dbt,
its re-run with queries beside it (the tables equal the session's sample home, built on a
DuckDB file), then two runs of other dates at once. The cheap things (the variable's
parsing, the sandbox) are tested on the same lake."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import psycopg2
import pytest

from orchestration import env
from orchestration.query import QueryError, run_query
from tests._runs import (
    Launcher,
    Proc,
    RunWatcher,
    check_published_files,
    killing_leftovers,
    listing,
    materialized_in,
    start_cli,
    table_snapshot,
)
from tests.conftest import SAMPLE, SAMPLE_DATE, sample_cards
from tests.postgres import PostgresCluster
from transforms.ducklake import WRITER_LOCK_KEY, s3_secret_sql
from transforms.errors import UserError
from transforms.warehouse import connect_warehouse

pytestmark = pytest.mark.slow
#: Two more dates, run at once after the sample's.
D2, D3 = dt.date(2026, 11, 24), dt.date(2026, 11, 25)
#: The longest a query beside a run may take (the issue: "answers at once").
QUERY_MAX_S = 1.0


@dataclass
class Lake:
    home: env.Home  # with .lake set
    extra_env: dict[str, str]
    catalog: str


@pytest.fixture(scope="module")
def lake(postgres: PostgresCluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lake]:
    postgres.create_database("lake")
    postgres.create_database("dagster_lake")
    extra = {
        "PAPERTRENDS_WAREHOUSE": env.DUCKLAKE_PREFIX + postgres.conninfo("lake"),
        "PAPERTRENDS_DAGSTER_PG_URL": postgres.url("dagster_lake"),
    }
    root = tmp_path_factory.mktemp("ducklake") / "home"
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("PAPERTRENDS_DATA_PATH", raising=False)
        for name, value in extra.items():
            patch.setenv(name, value)
        home = env.home(root).ensure()  # its dagster.yaml names PostgreSQL
        yield Lake(home, extra, postgres.conninfo("lake"))


def _start(lake: Lake, day: dt.date, path: Path, name: str) -> Proc:
    args = ("run", "--listing", str(path), "--date", day.isoformat())
    return start_cli(lake.home, *args, extra_env=lake.extra_env, name=name)


def _writer_lock_is_free(catalog: str, wait_s: float = 10.0) -> bool:
    """Whether the writers' advisory lock can be taken (then let go) within ``wait_s``:
    PostgreSQL ends a killed client's session, and its locks, once it sees the socket close."""
    deadline = time.monotonic() + wait_s
    with psycopg2.connect(catalog) as con, con.cursor() as cur:
        con.autocommit = True
        while True:
            cur.execute("select pg_try_advisory_lock(%s)", (WRITER_LOCK_KEY,))
            if cur.fetchone()[0]:
                cur.execute("select pg_advisory_unlock(%s)", (WRITER_LOCK_KEY,))
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.2)


def _count(home: env.Home, sql: str) -> int:
    return run_query(home, sql)[1][0][0]


def test_the_sample_on_ducklake_killed_during_dbt_then_rerun_equals_the_file_warehouse(
    runs: Launcher, lake: Lake, sample_home: env.Home
) -> None:
    """A run of the sample killed (SIGKILL, its whole process group) while dbt writes the
    lake: the ingest's commit stays, the writer lock is free at once. The re-run completes
    while a loop of queries reads the lake, none waiting: it sees the keyphrases go from
    none to all. The tables, row for row, and the digest equal the sample home's (the same
    listing and date on a DuckDB file), and both runs are recorded in PostgreSQL."""
    home = lake.home
    watcher = RunWatcher(home)
    with killing_leftovers() as started:
        proc = _start(lake, SAMPLE_DATE, SAMPLE, "killed")
        started.append(proc)
        killed = watcher.wait_for(
            proc, materialized_in("warehouse_models"), set(), "the first dbt model"
        )
        proc.kill_group()
        assert _writer_lock_is_free(lake.catalog), "the killed run's writer lock is still held"
        assert _count(home, "select count(*) from raw.listings") == 200

        proc = _start(lake, SAMPLE_DATE, SAMPLE, "rerun")
        started.append(proc)
        waits, seen = [], []
        while proc.popen.poll() is None:
            began = time.monotonic()
            seen.append(_count(home, "select count(*) from raw.paper_keyphrases"))
            waits.append(time.monotonic() - began)
            time.sleep(0.1)
        code, out, err = proc.finish()
    assert code == 0, err[-3000:]
    assert "200 papers parsed" in out and "ducklake:postgres:" in out
    assert len(waits) > 20 and max(waits) < QUERY_MAX_S, (len(waits), max(waits))
    final = _count(home, "select count(*) from raw.paper_keyphrases")
    assert seen[0] == 0 and final > 0 and final in seen  # the loop read while the run wrote

    statuses = {r.run_id: r.status for r in watcher.instance.get_runs()}
    watcher.close()
    assert statuses[killed] == dg.DagsterRunStatus.FAILURE
    assert sorted(s.value for s in statuses.values()) == ["FAILURE", "SUCCESS"]
    assert not list(home.dagster_home.rglob("*.db"))  # the instance is on PostgreSQL

    with connect_warehouse(home.target, read_only=True) as con:
        on_lake = table_snapshot(con)
    assert on_lake == table_snapshot(sample_home.warehouse)
    day = SAMPLE_DATE.isoformat()
    assert (home.publish / day / "digest.md").read_text() == (
        sample_home.publish / day / "digest.md"
    ).read_text()
    check_published_files(home.publish)
    assert list(Path(home.lake.data_path).rglob("*.parquet"))  # the data is in the lake


def test_two_runs_of_different_dates_proceed_together(
    runs: Launcher, lake: Lake, tmp_path: Path
) -> None:
    """Two CLI runs of other dates started at once both succeed, and each was running while
    the other was (their writes take turns at the lake's writer lock; the rest overlaps)."""
    cards = sample_cards()
    files = {
        D2: listing(tmp_path, "d2.txt", cards[:12]),
        D3: listing(tmp_path, "d3.txt", cards[12:24]),
    }
    with killing_leftovers() as started:
        procs = {day: _start(lake, day, path, day.isoformat()) for day, path in files.items()}
        started += procs.values()
        for proc in procs.values():
            code, out, err = proc.finish()
            assert code == 0, err[-3000:]
            assert "12 papers parsed" in out

    with dg.DagsterInstance.from_config(str(lake.home.dagster_home)) as instance:
        spans = {}
        for record in instance.get_run_records():
            partition = record.dagster_run.tags.get("dagster/partition")
            if partition in {D2.isoformat(), D3.isoformat()}:
                assert record.dagster_run.status == dg.DagsterRunStatus.SUCCESS
                spans[partition] = (record.start_time, record.end_time)
    (a_start, a_end), (b_start, b_end) = spans.values()
    assert a_start < b_end and b_start < a_end, spans  # the runs overlapped

    _, rows = run_query(
        lake.home,
        "select listing_date, count(*) from raw.listings group by 1 order by 1",
    )
    assert rows == [(D2, 12), (D3, 12), (SAMPLE_DATE, 200)]
    for day in files:
        assert (lake.home.publish / day.isoformat() / "digest.html").is_file()


def test_the_query_sandbox_stays_read_only_on_the_lake(lake: Lake) -> None:
    home = lake.home
    assert _count(home, "select count(*) from papers") > 0
    for sql, refused in (
        ("insert into raw.listings select * from raw.listings limit 1", "refused"),
        ("select * from read_csv('/etc/passwd')", "refused: no access outside"),
        ("attach ':memory:' as other", "refused"),
        ("set enable_external_access = true", "refused"),
    ):
        with pytest.raises(QueryError, match=refused):
            run_query(home, sql)
    # The catalog's own session is read-only too: DDL through it is refused by PostgreSQL.
    ddl = "select * from postgres_execute('__ducklake_metadata_lake', 'create table x(i int)')"
    with pytest.raises(QueryError, match="refused: the warehouse is read-only"):
        run_query(home, ddl)


def test_a_malformed_warehouse_variable_is_one_line(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PAPERTRENDS_WAREHOUSE", "ducklake:sqlite:meta.sqlite")
    with pytest.raises(UserError, match=r"PAPERTRENDS_WAREHOUSE=.*is not 'duckdb' or"):
        env.home(tmp_path)
    monkeypatch.setenv("PAPERTRENDS_WAREHOUSE", "duckdb")
    assert env.home(tmp_path).lake is None
    monkeypatch.setenv("PAPERTRENDS_WAREHOUSE", "ducklake:postgres:dbname=lake host=db")
    monkeypatch.setenv("PAPERTRENDS_DATA_PATH", "s3://bucket/lake")
    lake = env.home(tmp_path).lake
    assert lake is not None and lake.remote and lake.data_path == "s3://bucket/lake/"
    monkeypatch.delenv("PAPERTRENDS_DATA_PATH")
    assert env.home(tmp_path).lake.data_path == f"{tmp_path.resolve()}/lake/"


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, "CREATE OR REPLACE SECRET papertrends_lake (TYPE s3)"),
        (
            {"AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s'q", "AWS_REGION": "eu-west-1"},
            "CREATE OR REPLACE SECRET papertrends_lake "
            "(TYPE s3, KEY_ID 'k', SECRET 's''q', REGION 'eu-west-1')",
        ),
        (
            {"AWS_ENDPOINT_URL": "http://minio:9000/"},
            "CREATE OR REPLACE SECRET papertrends_lake "
            "(TYPE s3, ENDPOINT 'minio:9000', URL_STYLE 'path', USE_SSL false)",
        ),
    ],
)
def test_the_s3_secret_comes_from_the_aws_variables(environ, expected) -> None:
    assert s3_secret_sql(environ) == expected
