"""The `papertrends` command line as a user runs it: in this process through click's
CliRunner, and as the installed executable where the process itself is the point (the
entry point, a closed pipe)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click.testing
import pytest

from orchestration import env
from tests.conftest import SAMPLE, SAMPLE_DATE, invoke

DAY = SAMPLE_DATE.isoformat()


def papertrends(home: env.Home, *args: str) -> click.testing.Result:
    return invoke("--home", str(home.root), *args)


@pytest.fixture
def built_home(sample_home: env.Home) -> env.Home:
    """The session's one real `papertrends run` on the bundled sample (read only)."""
    return sample_home


@pytest.mark.slow
def test_run_then_query_sees_the_200_sample_papers(built_home: env.Home) -> None:
    proc = papertrends(built_home, "query", "select count(*) as n from papers", "--format", "csv")
    assert proc.exit_code == 0, proc.stderr
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
    assert proc.exit_code == 1
    assert proc.stderr.startswith("papertrends: refused")
    assert "Traceback" not in proc.stderr
    after = papertrends(built_home, "query", "select count(*) from papers", "--format", "csv")
    assert after.stdout.splitlines()[1] == "200"


@pytest.mark.slow
def test_query_cannot_read_files_outside_the_warehouse(built_home: env.Home) -> None:
    proc = papertrends(built_home, "query", f"select * from read_text('{SAMPLE}')")
    assert proc.exit_code == 1
    assert "Traceback" not in proc.stderr


def test_missing_listing_is_a_one_line_error(home: env.Home, tmp_path: Path) -> None:
    proc = papertrends(home, "run", "--listing", str(tmp_path / "nope.txt"), "--date", DAY)
    assert proc.exit_code == 1
    assert proc.stderr.strip().splitlines() == [
        f"papertrends: listing file not found: {tmp_path / 'nope.txt'}"
    ]


def test_bad_date_is_refused(home: env.Home) -> None:
    proc = papertrends(home, "run", "--listing", str(SAMPLE), "--date", "2026-13-01")
    assert proc.exit_code == 2
    assert "not a YYYY-MM-DD date" in proc.stderr


def test_query_without_a_warehouse_says_so(home: env.Home) -> None:
    proc = papertrends(home, "query", "select 1")
    assert proc.exit_code == 1
    assert "no warehouse" in proc.stderr


@pytest.mark.parametrize(
    "command", [[], ["run"], ["backfill"], ["query"], ["validate"], ["keyphrases"]]
)
def test_every_command_has_help(command: list[str]) -> None:
    result = invoke(*command, "--help")
    assert result.exit_code == 0
    assert result.stdout.startswith(f"Usage: papertrends {' '.join(command)}".rstrip())
    assert len(result.stdout.splitlines()) > 3


def test_the_installed_command_runs() -> None:
    exe = Path(sys.executable).with_name("papertrends")
    proc = subprocess.run([str(exe), "--help"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("Usage: papertrends [OPTIONS] COMMAND")
    for command in ("run", "backfill", "fetch", "query", "validate", "import", "parse"):
        assert f"  {command} " in proc.stdout


@pytest.mark.slow
def test_validate_passes_then_names_the_broken_expectation(
    sample_home_copy: env.Home, tmp_path: Path
) -> None:
    built_home = sample_home_copy  # validate writes its reports into the home
    import shutil

    import duckdb

    ok = papertrends(built_home, "validate")
    assert ok.exit_code == 0, ok.stdout + ok.stderr
    assert [line.split(" | ")[1].strip() for line in ok.stdout.splitlines()[3:8]] == ["pass"] * 5

    broken = env.home(tmp_path / "broken")
    shutil.copytree(built_home.root, broken.root)
    with duckdb.connect(str(broken.warehouse)) as con:
        con.execute(
            "update papers set first_listed = last_listed + 1"
            " where paper_id = (select min(paper_id) from papers)"
        )
        victim = con.execute("select paper_id from papers order by paper_id limit 1").fetchone()
        con.execute("delete from raw.paper_keyphrases where paper_id = ?", [victim[0]])
    proc = papertrends(broken, "validate", "--date", DAY)
    assert proc.exit_code == 1
    lines = {line.split(" | ")[0].strip(): line for line in proc.stdout.splitlines()}
    assert (
        "FAIL" in lines["papers"]
        and "expect_column_pair_values_a_to_be_greater_than_b" in lines["papers"]
    )
    assert "FAIL" in lines["keyphrases"]
    assert "expect_column_values_to_be_between(n_keyphrases)" in lines["keyphrases"]


def test_keyphrases_command_uses_the_pipeline_extractor(home: env.Home, tmp_path: Path) -> None:
    from tests.conftest import sample_cards

    source = tmp_path / "in.jsonl"
    cards = sample_cards()[:3]
    source.write_text(
        "\n".join(
            json.dumps({"id": f"d{i}", "text": f"{t}\n{a}"}) for i, (t, a) in enumerate(cards)
        )
    )
    out = tmp_path / "out.jsonl"
    proc = papertrends(
        home, "keyphrases", "--input", str(source), "--output", str(out), "--top", "4"
    )
    assert proc.exit_code == 0, proc.stderr
    docs = [json.loads(line) for line in out.read_text().splitlines()]
    assert [d["id"] for d in docs] == ["d0", "d1", "d2"]
    assert all(1 <= len(d["keyphrases"]) <= 4 for d in docs)
    assert any("flow matching" in k.lower() for k in docs[0]["keyphrases"])

    (tmp_path / "bad.jsonl").write_text('{"id": 1, "text": "ok"}\nnot json\n')
    bad = papertrends(
        home, "keyphrases", "--input", str(tmp_path / "bad.jsonl"), "--output", str(out)
    )
    assert bad.exit_code == 1
    assert "line 2" in bad.stderr and "Traceback" not in bad.stderr


def test_a_closed_pipe_ends_the_output_quietly() -> None:
    exe = Path(sys.executable).with_name("papertrends")
    # ~250 KB of JSON: more than a pipe holds, so the writer meets the closed pipe.
    proc = subprocess.run(
        f"'{exe}' parse '{SAMPLE}' --format json | head -1",
        shell=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.stdout == "{\n"
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr
