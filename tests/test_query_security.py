"""`papertrends query` is read-only and sandboxed, on a small warehouse made by hand: the CLI
in this process (click's CliRunner), and the installed executable where the process is the
point (the fingerprint, a refused write, a plain query).

Every write, config change, extension or file access is refused with one line on stderr
("papertrends: refused ..."), exit 1 and no traceback; the warehouse file is byte-for-byte
unchanged and no file is created. Plain queries work.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from orchestration import env
from tests.conftest import invoke

DAY = dt.date(2026, 11, 22)
PAPERS = 10


def papertrends_process(home: env.Home, *args: str) -> subprocess.CompletedProcess:
    """The installed ``papertrends`` executable, pointed at ``home``."""
    exe = Path(sys.executable).with_name("papertrends")
    environ = dict(os.environ, PAPERTRENDS_HOME=str(home.root))
    environ.pop("DAGSTER_HOME", None)
    return subprocess.run(
        [str(exe), *args], capture_output=True, text=True, env=environ, timeout=600
    )


def papertrends(home: env.Home, *args: str) -> subprocess.CompletedProcess:
    """``papertrends --home HOME ARGS`` in this process, as a finished process."""
    result = invoke("--home", str(home.root), *args)
    return subprocess.CompletedProcess(args, result.exit_code, result.stdout, result.stderr)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fingerprint(home: env.Home) -> str:
    """Every table with its row count, through the CLI itself."""
    proc = papertrends_process(
        home,
        "query",
        "select schema_name, table_name, estimated_size, column_count"
        " from duckdb_tables() order by all",
        "--format",
        "csv",
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def make_warehouse(home: env.Home) -> None:
    """A small warehouse made by hand: the tables and schemas the queries below name
    (``main.papers``, ``raw.listings``), ``PAPERS`` rows each, one title with a quote. What
    is under test is the query sandbox, not how the tables were built."""
    home.landing.joinpath(DAY.isoformat()).mkdir(parents=True)
    home.landing.joinpath(DAY.isoformat(), "page.txt").write_text("a listing\n")
    with duckdb.connect(str(home.warehouse)) as con:
        con.execute("create schema raw")
        con.execute(
            "create table raw.listings as select 'hf:p' || i as paper_id, ? as listing_date,"
            " 'Paper ' || i as title from range(?) t(i)",
            [DAY, PAPERS],
        )
        con.execute(
            "create table papers as select paper_id, title || case when paper_id = 'hf:p0'"
            " then ' (it''s quoted)' else '' end as title, 1 as times_listed,"
            " listing_date as first_listed from raw.listings"
        )
    home.root.joinpath("warehouse.lock").touch()


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The hand-made warehouse, shared by every query below (none may change it)."""
    root = tmp_path_factory.mktemp("query_security")
    home = env.home(root / "home")
    home.root.mkdir()
    make_warehouse(home)
    outside = root / "outside"  # where a write would try to put files
    outside.mkdir()
    (outside / "secret.csv").write_text("user,password\nroot,hunter2\n")
    return {
        "home": home,
        "outside": outside,
        "sha": sha256(home.warehouse),
        "fingerprint": fingerprint(home),
    }


def assert_refused(proc: subprocess.CompletedProcess, prefix: str = "papertrends: refused") -> None:
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(prefix), lines[0]
    assert proc.stdout == ""


# {out}: a folder outside the home; {home}: the home.
WRITES = [
    "drop table papers",
    "drop schema raw cascade",
    "insert into papers (paper_id) values ('x')",
    "update papers set title = 'pwned'",
    "delete from raw.listings",
    "create table t as select 1",
    "create temp table t as select 1",
    "create or replace view papers as select 1 as x",
    "create macro m(x) as x",
    "create secret (type s3, key_id 'a', secret 'b')",
    "alter table papers rename to p2",
    "attach '{out}/other.duckdb' as other",
    "attach ':memory:' as scratch",
    "detach warehouse",
    "use memory",
    "copy papers to '{out}/papers.csv'",
    "copy (select * from raw.listings) to '{out}/listings.parquet' (format parquet)",
    "copy papers from '{out}/secret.csv'",
    "install httpfs",
    "force install fts",
    "load httpfs",
    "load fts",
    "set enable_external_access = true",
    "set lock_configuration = false",
    "set threads = 1",
    "reset memory_limit",
    "pragma enable_profiling",
    "pragma profiling_output = '{out}/profile.json'",
    "export database '{out}/export'",
    "vacuum",
    "checkpoint",
    "begin transaction",
    "select 1; drop table papers",
    "explain analyze delete from papers",
    "-- a comment first\ninsert into papers (paper_id) values ('y')",
]


@pytest.mark.parametrize("sql", WRITES)
def test_query_cannot_modify_the_warehouse(warehouse: dict, sql: str) -> None:
    home, outside = warehouse["home"], warehouse["outside"]
    sql = sql.format(out=outside, home=home.root)
    assert_refused(papertrends(home, "query", sql))
    assert sha256(home.warehouse) == warehouse["sha"]
    assert sorted(p.name for p in outside.iterdir()) == ["secret.csv"]


READS_OUTSIDE = [
    "select * from read_csv('/etc/passwd')",
    "select * from read_csv_auto('{out}/secret.csv')",
    "select * from read_text('/etc/passwd')",
    "select * from read_blob('/etc/passwd')",
    "select * from read_parquet('{out}/secret.csv')",
    "select * from read_json('{out}/secret.csv')",
    "select * from read_text('{home}/landing/{day}/page.txt')",
    "select * from glob('/*')",
    "select * from sniff_csv('/etc/passwd')",
    "select * from read_csv('https://example.com/x.csv')",
    "select * from (select 1) where exists (select * from read_text('/etc/shadow'))",
    "explain analyze select * from read_text('/etc/passwd')",
]


@pytest.mark.parametrize("sql", READS_OUTSIDE)
def test_query_cannot_read_files(warehouse: dict, sql: str) -> None:
    home, outside = warehouse["home"], warehouse["outside"]
    proc = papertrends(home, "query", sql.format(out=outside, home=home.root, day=DAY.isoformat()))
    assert_refused(proc)
    assert "root:" not in proc.stderr and "hunter2" not in proc.stderr


@pytest.mark.parametrize("sql", ["drop table papers", "copy papers to '{out}/papers.csv'"])
def test_the_installed_command_refuses_writes_too(warehouse: dict, sql: str) -> None:
    home, outside = warehouse["home"], warehouse["outside"]
    assert_refused(papertrends_process(home, "query", sql.format(out=outside)))
    assert sha256(home.warehouse) == warehouse["sha"]
    assert sorted(p.name for p in outside.iterdir()) == ["secret.csv"]
    proc = papertrends_process(home, "query", "select count(*) as n from papers", "--format", "csv")
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, f"n\n{PAPERS}\n", "")


def test_a_path_as_a_table_name_is_not_read(warehouse: dict) -> None:
    """DuckDB's replacement scan (`from 'file.csv'`) is off with external access."""
    proc = papertrends(warehouse["home"], "query", "select * from '/etc/passwd'")
    assert_refused(proc, prefix="papertrends: query failed")


@pytest.mark.parametrize(
    "sql",
    ["selec 1", "select * from no_such_table", "select 1/0::int, 'a'::int", "", "  ;  "],
)
def test_bad_sql_is_a_one_line_query_failure(warehouse: dict, sql: str) -> None:
    assert_refused(papertrends(warehouse["home"], "query", sql), "papertrends: query failed")


@pytest.mark.parametrize(
    ("sql", "expect"),
    [
        ("select count(*) as n from papers", f"n\n{PAPERS}"),
        ("with t as (select count(*) as n from raw.listings) select n from t", f"n\n{PAPERS}"),
        ("from papers select count(distinct paper_id) as n", f"n\n{PAPERS}"),
        ("describe papers", "paper_id"),
        ("show tables", "papers"),
        ("show all tables", "listings"),
        ("summarize papers", "title"),
        ("pragma table_info('papers')", "paper_id"),
        ("explain select * from papers", "physical_plan"),
        ("/* plan */ explain analyze select count(*) from papers", "analyzed_plan"),
        ("select title from papers where title like '%''%' or true limit 1", "title"),
        ("select 1 as a; select 2 as b", "b\n2"),
    ],
)
def test_read_only_queries_work(warehouse: dict, sql: str, expect: str) -> None:
    proc = papertrends(warehouse["home"], "query", sql, "--format", "csv")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert expect in proc.stdout


def test_warehouse_is_unchanged_after_everything(warehouse: dict) -> None:
    home = warehouse["home"]
    assert sha256(home.warehouse) == warehouse["sha"]
    assert fingerprint(home) == warehouse["fingerprint"]
    assert sorted(p.name for p in warehouse["outside"].iterdir()) == ["secret.csv"]
    # No stray files next to the warehouse (a WAL, an export, an attached database).
    assert sorted(p.name for p in home.root.iterdir() if p.is_file()) == [
        "warehouse.duckdb",
        "warehouse.lock",
    ]
