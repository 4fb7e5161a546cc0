"""papertrends-dbt: dbt's command line, with a `--version` that does not import dbt."""

from __future__ import annotations

import re
import subprocess
import sys
from importlib.metadata import version

from orchestration import env


def test_the_pipeline_runs_papertrends_dbt() -> None:
    from orchestration.definitions import defs

    assert defs.resources["dbt"].dbt_executable == env.PIPELINE_DBT_EXECUTABLE
    assert env.PIPELINE_DBT_EXECUTABLE.endswith("papertrends-dbt")


def test_version_comes_from_the_metadata_without_importing_dbt() -> None:
    code = (
        "import sys; from orchestration import dbt_entry; sys.argv[1:] = ['--version']; "
        "dbt_entry.main(); print(sorted(m for m in sys.modules if m.split('.')[0] == 'dbt'))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.rstrip().endswith("[]"), out  # no dbt module imported
    # what dagster-dbt reads: the first X.Y.Z, dbt Core's (major 1: not Fusion)
    assert re.search(r"(\d+\.\d+\.\d+)", out)[1] == version("dbt-core")
    real = subprocess.run([env.DBT_EXECUTABLE, "--version"], capture_output=True, text=True).stdout
    assert (
        f"installed: {version('dbt-core')}" in real and f"installed: {version('dbt-core')}" in out
    )


def test_every_other_command_is_dbt_with_its_exit_status() -> None:
    ok = subprocess.run(
        [env.PIPELINE_DBT_EXECUTABLE, "parse", "--help"], capture_output=True, text=True
    )
    assert ok.returncode == 0 and "--profiles-dir" in ok.stdout
    bad = subprocess.run(
        [env.PIPELINE_DBT_EXECUTABLE, "parse", "--no-such-option"], capture_output=True, text=True
    )
    assert bad.returncode == 2 and "No such option" in bad.stderr
