"""deploy/k8s: the Helm values, the Dockerfile and .dockerignore, checked the cheap way.

The slow check (the Dockerfile's steps replayed in a venv, pip from PyPI) is
deploy/k8s/check_dockerfile.py, run by hand; these tests use its parser."""

from __future__ import annotations

import importlib.util
import os
import re
import runpy
from pathlib import Path

import pytest
import yaml
from dagster import AssetKey

from orchestration import env

ROOT = Path(__file__).resolve().parent.parent
VALUES = ROOT / "deploy" / "k8s" / "values.yaml"


def _load_check():
    spec = importlib.util.spec_from_file_location(
        "check_dockerfile", ROOT / "deploy" / "k8s" / "check_dockerfile.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


check = _load_check()


@pytest.fixture(scope="module")
def values() -> dict:
    return yaml.safe_load(VALUES.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def dockerfile() -> list[tuple[str, str]]:
    return check.instructions((ROOT / "Dockerfile").read_text(encoding="utf-8"))


def the_deployment(values: dict) -> dict:
    (deployment,) = values["dagster-user-deployments"]["deployments"]
    return deployment


def test_values_configure_the_chart(values: dict) -> None:
    assert values["telemetry"] == {"enabled": False}
    # the chart writes the instance's PostgreSQL storage itself, from an external server
    assert values["postgresql"]["enabled"] is False
    assert values["generatePostgresqlPasswordSecret"] is False
    assert values["postgresql"]["postgresqlHost"]
    assert values["global"]["postgresqlSecretName"]

    users = values["dagster-user-deployments"]
    assert users["enabled"] is True
    deployment = the_deployment(values)
    assert deployment["name"] == "papertrends"
    assert deployment["dagsterApiGrpcArgs"] == ["-m", "orchestration.definitions"]
    assert deployment["port"] == 3030
    assert deployment["image"]["repository"] and deployment["image"]["tag"]
    assert deployment["includeConfigInLaunchedRuns"] == {"enabled": True}
    assert deployment["envSecrets"] and all(s["name"] for s in deployment["envSecrets"])
    mounts = {m["name"]: m["mountPath"] for m in deployment["volumeMounts"]}
    assert mounts == {"papertrends-home": "/var/lib/papertrends"}
    assert deployment["env"]["PAPERTRENDS_HOME"] == "/var/lib/papertrends"
    # copied into every run pod, where it would replace the run launcher's resources
    assert "resources" not in deployment


def test_values_point_the_warehouse_at_ducklake(values: dict) -> None:
    variables = the_deployment(values)["env"]
    assert variables["PAPERTRENDS_WAREHOUSE"].startswith("ducklake:postgres:")
    assert "dbname=" in variables["PAPERTRENDS_WAREHOUSE"]
    assert "password=" not in variables["PAPERTRENDS_WAREHOUSE"]  # PGPASSWORD, a Secret
    assert re.fullmatch(r"s3://[\w.-]+/(\S+/)?", variables["PAPERTRENDS_DATA_PATH"])
    # the chart configures the instance's storage: the URL would only rewrite an unused file
    assert "PAPERTRENDS_DAGSTER_PG_URL" not in variables


def test_runs_are_k8s_jobs_with_the_keyphrase_cpus(values: dict) -> None:
    launcher = values["runLauncher"]
    assert launcher["type"] == "K8sRunLauncher"
    resources = launcher["config"]["k8sRunLauncher"]["resources"]
    assert resources["requests"]["cpu"] == resources["limits"]["cpu"] == "2"
    assert resources["requests"]["memory"] and resources["limits"]["memory"]
    assert launcher["config"]["k8sRunLauncher"]["runK8sConfig"]["jobSpecConfig"] == {
        "backoffLimit": 0
    }


def test_the_daemon_queues_and_monitors_runs(values: dict, monkeypatch) -> None:
    daemon = values["dagsterDaemon"]
    coordinator = daemon["runCoordinator"]
    assert coordinator["enabled"] is True and coordinator["type"] == "QueuedRunCoordinator"
    limits = coordinator["config"]["queuedRunCoordinator"]["tagConcurrencyLimits"]
    # the same limits as papertrends' own dagster.yaml for this warehouse
    monkeypatch.setenv(
        "PAPERTRENDS_WAREHOUSE", the_deployment(values)["env"]["PAPERTRENDS_WAREHOUSE"]
    )
    monkeypatch.delenv("PAPERTRENDS_MAX_WAREHOUSE_RUNS", raising=False)
    monkeypatch.delenv("PAPERTRENDS_DAGSTER_PG_URL", raising=False)
    rendered = yaml.safe_load(env.dagster_yaml()[0])
    assert limits == rendered["run_coordinator"]["config"]["tag_concurrency_limits"]
    assert limits == [{"key": "papertrends/warehouse", "value": "write", "limit": 2}]
    assert daemon["runMonitoring"]["enabled"] is True
    assert daemon["runMonitoring"]["maxResumeRunAttempts"] == 0


def test_every_papertrends_variable_named_is_read_by_the_code() -> None:
    named = set(re.findall(r"\bPAPERTRENDS_[A-Z0-9_]+", VALUES.read_text(encoding="utf-8")))
    assert {"PAPERTRENDS_WAREHOUSE", "PAPERTRENDS_DATA_PATH", "PAPERTRENDS_HOME"} <= named
    source = "\n".join(
        p.read_text(encoding="utf-8")
        for package in ("orchestration", "transforms")
        for p in (ROOT / package).rglob("*.py")
    )
    read = set(re.findall(r"\bPAPERTRENDS_[A-Z0-9_]+", source))
    assert sorted(named - read) == []


def test_the_instruction_parser_joins_lines_and_drops_comments() -> None:
    text = "# c\nFROM python:3.11-slim\n\nRUN a \\\n    # inner\n    && b\nENV A=1 \\\n  B=2\n"
    assert check.instructions(text) == [
        ("FROM", "python:3.11-slim"),
        ("RUN", "a && b"),
        ("ENV", "A=1 B=2"),
    ]


def test_every_copy_source_exists_and_is_not_ignored(dockerfile) -> None:
    patterns = check.dockerignore_patterns(ROOT)
    sources = [s for k, a in dockerfile if k == "COPY" for s in check.copy_sources(a)[0]]
    assert {"pyproject.toml", "requirements.lock", "orchestration/", "dbt_project/"} <= set(sources)
    assert [s for s in sources if not (ROOT / s).exists()] == []
    assert [s for s in sources if check.ignored(s, patterns)] == []


def test_the_dockerfile_builds_the_code_location(dockerfile) -> None:
    keywords = [k for k, _ in dockerfile]
    assert dockerfile[0] == ("FROM", "python:3.11-slim")
    runs = [a for k, a in dockerfile if k == "RUN"]
    install = next(i for i, a in enumerate(runs) if "--constraint requirements.lock" in a)
    manifest = next(i for i, a in enumerate(runs) if "python -m orchestration.dbt_project" in a)
    assert install < manifest
    assert "dagster-k8s==0.29.27" in runs[install]
    assert "duckdb-extension-httpfs==1.5.5" in runs[install]
    envs = " ".join(a for k, a in dockerfile if k == "ENV")
    assert "PAPERTRENDS_HOME=/var/lib/papertrends" in envs and "DAGSTER_HOME=" in envs
    users = [a for k, a in dockerfile if k == "USER"]
    assert users and users[-1] not in {"root", "0"}
    assert keywords.index("USER") > max(i for i, k in enumerate(keywords) if k == "RUN")
    assert ("VOLUME", '["/var/lib/papertrends"]') in dockerfile
    assert (
        "CMD",
        '["dagster", "api", "grpc", "-m", "orchestration.definitions", '
        '"--host", "0.0.0.0", "--port", "3030"]',
    ) in dockerfile


def test_dockerignore_excludes_local_state() -> None:
    patterns = check.dockerignore_patterns(ROOT)
    for path in (
        ".venv",
        ".venv/bin/python",
        ".papertrends",
        "dbt_project/target/manifest.json",
        "orchestration/__pycache__/env.cpython-311.pyc",
    ):
        assert check.ignored(path, patterns), path
    for path in ("orchestration/definitions.py", "dbt_project/models", "requirements.lock"):
        assert not check.ignored(path, patterns), path


def test_the_definitions_load_with_the_pods_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As in a pod: the home on its volume (empty), DAGSTER_HOME elsewhere, no warehouse
    variables (a DuckDB file in the home), started from another folder than the code's.
    The definitions module runs again in this process (its packages are imported already:
    a subprocess would take ~10 s); deploy/k8s/check_dockerfile.py does it in the image's
    venv."""
    for name in [n for n in os.environ if n.startswith("PAPERTRENDS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("PAPERTRENDS_HOME", str(tmp_path / "var-lib-papertrends"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    (tmp_path / "dagster_home").mkdir()
    monkeypatch.chdir(tmp_path)
    module = runpy.run_module("orchestration.definitions", run_name="pod")
    keys = module["defs"].resolve_asset_graph().get_all_asset_keys()
    assert AssetKey(["raw", "paper_keyphrases"]) in keys and len(keys) > 10
    assert env.DBT_PROJECT_DIR == ROOT / "dbt_project"
    assert (env.DBT_PROJECT_DIR / "target" / "manifest.json").exists()
