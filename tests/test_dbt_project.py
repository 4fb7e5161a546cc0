"""The dbt project on its own: its unit tests, and what its data tests read.

dbt's unit tests (the `unit_tests:` of the model YAML) run here, not in the pipeline.

The pipeline's `dbt build` excludes them (they test SQL logic on fixed rows, not the day's
data, and cost ~1.5 s of every run); this runs them all against an empty warehouse with the
models' relations in place (`dbt build --empty`), as dbt's docs advise for CI. dbt runs in
this process (``dbtRunner``, as the pipeline's steps run it); the empty warehouse is built
once per module and copied into each test's home.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pytest

from orchestration import env
from transforms.warehouse import ensure_raw_schema


@dataclass
class Dbt:
    """What one dbt invocation did: success, each node's status ("pass", "fail", "error"...),
    and the name and message of every event."""

    success: bool
    statuses: list[str] = field(default_factory=list)
    events: list[tuple[str, str]] = field(default_factory=list)

    @property
    def test_passed(self) -> bool:
        """For ``dbt test``: True when its tests passed, False when one failed on the data;
        an error (the test could not run) fails the calling test instead."""
        assert self.statuses and "error" not in self.statuses, self.log
        return self.success

    @property
    def log(self) -> str:
        return "\n".join(message for _, message in self.events)[-3000:]


def _dbt(*args: str, target: str) -> Dbt:
    from dbt.cli.main import dbtRunner

    from orchestration.dbt_build import close_warehouse

    events: list[tuple[str, str]] = []
    project = str(env.DBT_PROJECT_DIR)
    options = ["--project-dir", project, "--profiles-dir", project, "--target-path", target]
    options += ["--log-path", target, "--log-level", "none", "--log-level-file", "none"]
    runner = dbtRunner(callbacks=[lambda e: events.append((e.info.name, e.info.msg))])
    try:
        result = runner.invoke([*args, *options])
    finally:
        close_warehouse()  # dbt-duckdb keeps the file open otherwise
    results = getattr(result.result, "results", None) or []
    return Dbt(result.success, [str(r.status) for r in results], events)


@pytest.fixture(scope="module")
def empty_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse with every model's relation and no rows (``dbt build --empty``)."""
    home = env.home(tmp_path_factory.mktemp("empty") / "home").ensure()
    with duckdb.connect(str(home.warehouse)) as con:
        ensure_raw_schema(con)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PAPERTRENDS_HOME", str(home.root))
        target = str(home.root / "target")
        args = ("build", "--empty", "--exclude-resource-type", "test", "unit_test")
        built = _dbt(*args, target=target)
    assert built.success, built.log
    return home.warehouse


@pytest.fixture
def built(empty_build: Path, home: env.Home, tmp_path: Path) -> str:
    """The empty build copied into this test's home; the dbt target folder to use."""
    shutil.copyfile(empty_build, home.warehouse)
    return str(tmp_path / "target")


def test_every_dbt_unit_test_passes(built: str, tmp_path, dbt_manifest):
    target = built

    tested = _dbt("test", "--select", "test_type:unit", target=target)
    assert tested.success, tested.log
    results = json.loads((Path(target) / "run_results.json").read_text())["results"]
    manifest = json.loads(dbt_manifest.read_text())
    expected = {key for key in manifest["unit_tests"]}
    assert expected, "the dbt project has unit tests"
    assert {r["unique_id"] for r in results} == expected
    assert {r["status"] for r in results} == {"pass"}


def test_the_pipeline_build_leaves_unit_tests_out():
    from orchestration.defs.dbt_models import build_args

    args = build_args(full_refresh=False)
    assert args[0] == "build" and args[1:3] == ["--exclude-resource-type", "unit_test"]
    assert build_args(full_refresh=True)[:2] == ["build", "--full-refresh"]


def test_data_tests_of_per_date_models_read_the_dates_a_run_rebuilt(
    built: str, home: env.Home, monkeypatch
):
    """keyword_trends' uniqueness test: an old date's duplicate is not this run's business,
    a duplicate beside the rows this run built is (a row that survived the rebuild)."""
    target = built

    def insert(day: str, phrase: str, built_at: str) -> None:
        with duckdb.connect(str(home.warehouse)) as con:
            con.execute(
                "insert into keyword_trends (as_of_date, keyphrase_norm, built_at) values (?, ?, ?)",
                [day, phrase, built_at],
            )

    def unique_test_passes() -> bool:
        select = "keyword_trends,test_name:unique_combination_of_columns"
        return _dbt("test", "--select", select, target=target).test_passed

    insert("2026-11-02", "flow matching", "2026-11-02 07:00")
    insert("2026-11-02", "flow matching", "2026-11-02 07:00")  # an old date's duplicate
    insert("2026-11-03", "diffusion", "2026-11-03 07:00")  # this run's rows
    assert not unique_test_passes()  # no window (dbt by hand): every row
    monkeypatch.setenv("PAPERTRENDS_WINDOW_START", "2026-11-03")
    monkeypatch.setenv("PAPERTRENDS_WINDOW_END", "2026-11-03")
    assert unique_test_passes()
    insert("2026-11-03", "diffusion", "2026-11-02 07:00")  # survived this run's rebuild
    assert not unique_test_passes()


def test_not_null_columns_fails_on_a_null_in_any_listed_column(built: str, home: env.Home):
    """One not_null_columns test per model stands for a not_null test per column: a clean
    row passes, a null in any listed column fails, a null elsewhere does not."""
    target = built

    def passes(z_score: float | None, status: str | None, share: float | None) -> bool:
        with duckdb.connect(str(home.warehouse)) as con:
            con.execute("delete from keyword_trends")
            con.execute(
                "insert into keyword_trends (as_of_date, keyphrase_norm, z_score, status, "
                "share_current, built_at) values ('2026-11-03', 'diffusion', ?, ?, ?, now())",
                [z_score, status, share],
            )
        select = "keyword_trends,test_name:not_null_columns"
        return _dbt("test", "--select", select, target=target).test_passed

    assert passes(1.5, "steady", 0.1)
    assert not passes(None, "steady", 0.1)
    assert not passes(1.5, None, 0.1)
    assert passes(1.5, "steady", None)  # share_current is not declared not null


def test_the_status_test_accepts_the_labels_the_project_declares(built: str, home: env.Home):
    """keyword_trends' and topic_trends' accepted_values read one list, the dbt var
    trend_statuses: every declared label passes, any other fails."""
    import yaml

    statuses = yaml.safe_load((env.DBT_PROJECT_DIR / "dbt_project.yml").read_text())["vars"][
        "trend_statuses"
    ]
    assert "rising" in statuses and "cold_start" in statuses
    target = built

    def passes(table: str, key: str, labels: list[str]) -> bool:
        with duckdb.connect(str(home.warehouse)) as con:
            con.execute(f"delete from {table}")
            for i, label in enumerate(labels):
                con.execute(
                    f"insert into {table} (as_of_date, {key}, status, built_at) "
                    "values ('2026-11-03', ?, ?, now())",
                    [f"phrase {i}", label],
                )
        select = f"{table},test_name:accepted_values"
        return _dbt("test", "--select", select, target=target).test_passed

    for table, key in (("keyword_trends", "keyphrase_norm"), ("topic_trends", "topic")):
        assert passes(table, key, statuses), table
        assert not passes(table, key, [*statuses, "exploding"]), table


def test_the_project_parses_without_deprecations(tmp_path):
    """A deprecation is dbt saying it reads the YAML differently from how it is written
    (a second `data_tests:` key of a model silently replaced the first)."""
    parsed = _dbt("parse", "--no-partial-parse", target=str(tmp_path / "target"))
    assert parsed.success, parsed.log
    assert not [e for e in parsed.events if "Deprecat" in e[0] + e[1]], parsed.log


def _project_copy(tmp_path):
    from dagster_dbt import DbtProject

    root = tmp_path / "dbt_project"
    shutil.copytree(
        env.DBT_PROJECT_DIR, root, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages")
    )
    return root, DbtProject(project_dir=root, profiles_dir=root)


def test_the_manifest_is_parsed_when_missing_or_stale_and_only_then(tmp_path):
    """The preparer every entry point uses (make, the definitions, the CLI, the tests)."""
    import os

    from orchestration.dbt_project import manifest_is_stale, prepare_manifest

    root, project = _project_copy(tmp_path)
    manifest = Path(project.manifest_path)
    assert manifest_is_stale(project) and not manifest.exists()
    prepare_manifest(project)
    assert manifest.exists() and not manifest_is_stale(project)
    assert "model.papertrends.papers" in json.loads(manifest.read_text())["nodes"]

    parsed_at = manifest.stat().st_mtime_ns
    prepare_manifest(project)  # fresh: not parsed again
    assert manifest.stat().st_mtime_ns == parsed_at

    model = root / "models" / "marts" / "papers.sql"
    later = manifest.stat().st_mtime + 5
    os.utime(model, (later, later))  # a model edited after the parse
    assert manifest_is_stale(project)
    prepare_manifest(project)
    assert not manifest_is_stale(project) and manifest.stat().st_mtime_ns != parsed_at


def test_a_broken_project_is_one_line_naming_the_problem(tmp_path):
    from orchestration.dbt_project import ManifestError, prepare_manifest

    root, project = _project_copy(tmp_path)
    (root / "models" / "marts" / "papers.sql").write_text("select {{ unclosed(\n")
    with pytest.raises(ManifestError) as caught:
        prepare_manifest(project)
    message = str(caught.value)
    assert message.startswith("dbt parse failed: ") and "\n" not in message
    assert "model papers (models/marts/papers.sql)" in message, message
