"""dbt build in the step's process (orchestration/dbt_build.py): a subset builds only what
was selected, the warehouse is closed after every build, and a failing dbt test stops the
step with dbt's own error while the results of what ran are kept."""

from __future__ import annotations

import dagster as dg
import duckdb
import pytest

from orchestration import env
from orchestration.dbt_build import BuildProblems
from orchestration.definitions import defs
from orchestration.runs import first_failure
from tests.conftest import SAMPLE_DATE

D = SAMPLE_DATE


def run(selection: list[dg.AssetKey]) -> dg.ExecuteInProcessResult:
    job = defs.resolve_job_def("papertrends_daily")
    with dg.DagsterInstance.get() as instance:
        return job.execute_in_process(
            partition_key=D.isoformat(),
            instance=instance,
            asset_selection=selection,
            raise_on_error=False,
        )


@pytest.fixture
def built(sample_home_copy: env.Home) -> env.Home:
    """A home with the sample's date built (a copy of the session's sample run)."""
    return sample_home_copy


def built_at(home: env.Home, table: str):
    with duckdb.connect(str(home.warehouse), read_only=True) as con:
        return con.execute(f"select max(built_at) from {table}").fetchone()[0]


def test_a_subset_builds_the_selected_model_and_its_tests_only(built: env.Home) -> None:
    before = {t: built_at(built, t) for t in ("keyword_trends", "keyword_daily", "papers")}
    result = run([dg.AssetKey("keyword_trends")])
    assert result.success
    materialized = {e.asset_key for e in result.get_asset_materialization_events()}
    assert materialized == {dg.AssetKey("keyword_trends")}
    checks = result.get_asset_check_evaluations()
    assert checks and {c.asset_key for c in checks} == {dg.AssetKey("keyword_trends")}
    assert all(c.passed for c in checks)
    assert built_at(built, "keyword_trends") > before["keyword_trends"]
    assert built_at(built, "keyword_daily") == before["keyword_daily"]  # not selected
    assert built_at(built, "papers") == before["papers"]
    # the build closed the database: this process can open it read-write at once
    with duckdb.connect(str(built.warehouse)) as con:
        assert con.execute("select count(*) from keyword_trends").fetchone()[0] > 0


def test_a_failing_dbt_test_stops_the_step_with_dbts_error(built: env.Home) -> None:
    with duckdb.connect(str(built.warehouse)) as con:  # dirty: a keyphrase rank twice
        con.execute(
            "insert into raw.paper_keyphrases select * from raw.paper_keyphrases "
            "where rank = 1 limit 1"
        )
    # The GE gate of raw/paper_keyphrases stops this in a daily run; the dbt step alone
    # (as the UI can run it) meets it in dbt's test of the staging model.
    result = run(sorted(defs.resolve_assets_def("keyword_daily").keys))
    assert not result.success
    assert first_failure(result) == (
        "step keyphrase_models failed: dbt build failed: Failure in test "
        "unique_combination_of_columns_stg_raw__paper_keyphrases_paper_id__keyphrase_rank "
        "(models/staging/_staging__models.yml): Got 1 result, configured to fail if != 0"
    )
    failed_checks = [c for c in result.get_asset_check_evaluations() if not c.passed]
    assert [c.asset_check_key.name for c in failed_checks] == [
        "unique_combination_of_columns_stg_raw__paper_keyphrases_paper_id__keyphrase_rank"
    ]
    # what ran before the failed test is kept; nothing downstream of it was built
    built_models = {e.asset_key for e in result.get_asset_materialization_events()}
    assert built_models == {dg.AssetKey(["staging", "stg_raw__paper_keyphrases"])}
    with duckdb.connect(str(built.warehouse)) as con:
        con.execute("delete from raw.paper_keyphrases")  # writable: the build let go


@pytest.mark.parametrize(
    "events,expected",
    [
        ([], ""),
        (
            [
                ("RunResultFailure", "Failure in test t (models/x.yml)"),
                ("RunResultError", "  Got 2 results, configured to fail if != 0"),
            ],
            "Failure in test t (models/x.yml): Got 2 results, configured to fail if != 0",
        ),
        (
            [
                ("RunResultError", "Runtime Error in model m (models/m.sql)\n  Binder Error: x"),
                ("RunResultFailure", "Failure in test t (models/x.yml)"),
                ("RunResultError", "Got 1 result, configured to fail if != 0"),
                ("LogTestResult", "1 of 2 FAIL 1 t"),
            ],
            "Runtime Error in model m (models/m.sql) Binder Error: x (and 1 more)",
        ),
    ],
)
def test_the_failure_names_dbts_first_problem_on_one_line(events, expected) -> None:
    problems = BuildProblems()
    for name, msg in events:
        problems.add({"name": name, "msg": msg, "level": "error"})
    assert problems.describe() == expected
