"""The `papertrends` command line, end to end, as a user runs it (real subprocesses)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from orchestration import env
from tests.conftest import SAMPLE

DAY = "2026-11-28"


def papertrends(home: env.Home, *args: str) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("papertrends")
    environ = dict(os.environ, PAPERTRENDS_HOME=str(home.root))
    environ.pop("DAGSTER_HOME", None)
    return subprocess.run(
        [str(exe), *args], capture_output=True, text=True, env=environ, timeout=600
    )


@pytest.fixture(scope="module")
def built_home(tmp_path_factory: pytest.TempPathFactory) -> env.Home:
    """One real `papertrends run` on the bundled sample, shared by the tests below."""
    home = env.home(tmp_path_factory.mktemp("cli") / "home")
    proc = papertrends(home, "run", "--listing", str(SAMPLE), "--date", DAY)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "200 papers parsed" in proc.stdout
    return home


@pytest.mark.slow
def test_run_then_query_sees_the_200_sample_papers(built_home: env.Home) -> None:
    proc = papertrends(built_home, "query", "select count(*) as n from papers", "--format", "csv")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["n", "200"]
    assert (built_home.landing / DAY / SAMPLE.name).read_bytes() == SAMPLE.read_bytes()


@pytest.mark.slow
def test_run_is_recorded_in_the_dagster_instance_of_the_home(built_home: env.Home) -> None:
    from dagster import DagsterInstance, DagsterRunStatus

    with DagsterInstance.from_config(str(built_home.dagster_home)) as instance:
        runs = instance.get_runs()
    assert [r.job_name for r in runs] == ["papertrends_daily"]
    assert runs[0].status == DagsterRunStatus.SUCCESS
    assert runs[0].tags["dagster/partition"] == DAY


@pytest.mark.slow
def test_query_formats(built_home: env.Home) -> None:
    sql = "select paper_id, times_listed from papers order by paper_id limit 2"
    as_json = json.loads(papertrends(built_home, "query", sql, "--format", "json").stdout)
    assert len(as_json) == 2 and set(as_json[0]) == {"paper_id", "times_listed"}
    table = papertrends(built_home, "query", sql).stdout.splitlines()
    assert table[0].split(" | ")[0].strip() == "paper_id"
    assert table[-1] == "(2 rows)"


@pytest.mark.slow
@pytest.mark.parametrize(
    "sql",
    [
        "drop table papers",
        "insert into papers (paper_id) values ('x')",
        "create table t as select 1",
    ],
)
def test_query_cannot_modify_the_warehouse(built_home: env.Home, sql: str) -> None:
    proc = papertrends(built_home, "query", sql)
    assert proc.returncode == 1
    assert proc.stderr.startswith("papertrends: refused")
    assert "Traceback" not in proc.stderr
    after = papertrends(built_home, "query", "select count(*) from papers", "--format", "csv")
    assert after.stdout.splitlines()[1] == "200"


@pytest.mark.slow
def test_query_cannot_read_files_outside_the_warehouse(built_home: env.Home) -> None:
    proc = papertrends(built_home, "query", f"select * from read_text('{SAMPLE}')")
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr


def test_missing_listing_is_a_one_line_error(home: env.Home, tmp_path: Path) -> None:
    proc = papertrends(home, "run", "--listing", str(tmp_path / "nope.txt"), "--date", DAY)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        f"papertrends: listing file not found: {tmp_path / 'nope.txt'}"
    ]


def test_bad_date_is_refused(home: env.Home) -> None:
    proc = papertrends(home, "run", "--listing", str(SAMPLE), "--date", "2026-13-01")
    assert proc.returncode == 2
    assert "not a YYYY-MM-DD date" in proc.stderr


def test_query_without_a_warehouse_says_so(home: env.Home) -> None:
    proc = papertrends(home, "query", "select 1")
    assert proc.returncode == 1
    assert "no warehouse" in proc.stderr


@pytest.mark.parametrize("command", [[], ["run"], ["query"]])
def test_every_command_has_help(command: list[str]) -> None:
    exe = Path(sys.executable).with_name("papertrends")
    proc = subprocess.run([str(exe), *command, "--help"], capture_output=True, text=True)
    assert proc.returncode == 0
    assert "usage: papertrends" in proc.stdout
    assert len(proc.stdout.splitlines()) > 3
