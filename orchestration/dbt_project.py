"""The dbt project, and its manifest prepared one way.

Dagster reads the dbt manifest (``dbt_project/target/manifest.json``) when it loads the
definitions. :func:`prepare_manifest` parses the project (``dbt parse``) whenever the
manifest is missing or older than a file of the project. Every entry point goes through it:
loading the definitions does it (the Dagster UI, the daemon, ``dg``, the ``papertrends``
CLI, the tests) and ``make`` runs this module (``python -m orchestration.dbt_project``).
With a fresh manifest it costs a few ``stat`` calls.
"""

from __future__ import annotations

from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject
from filelock import FileLock

from orchestration.env import DBT_EXECUTABLE, DBT_PROJECT_DIR
from transforms.errors import UserError

#: The files a manifest is parsed from.
PROJECT_FILES = ("*.yml", "models/**/*", "macros/**/*", "tests/**/*")


class ManifestError(UserError):
    """``dbt parse`` failed; the message is its first error, on one line."""


def manifest_is_stale(project: DbtProject) -> bool:
    """True when the manifest is missing or older than a file it is parsed from."""
    manifest = Path(project.manifest_path)
    if not manifest.exists():
        return True
    root = Path(project.project_dir)
    newest = max(
        (p.stat().st_mtime for pattern in PROJECT_FILES for p in root.glob(pattern) if p.is_file()),
        default=0.0,
    )
    return manifest.stat().st_mtime < newest


def _dbt_problem(error_text: str) -> str:
    """dbt's own words from dagster-dbt's error, on one line: the lines after "Errors parsed
    from dbt logs:" ("Compilation Error in model papers (models/marts/papers.sql);
    unexpected 'end of template'"), else its last line."""
    logged = error_text.rpartition("Errors parsed from dbt logs:")[2]
    lines = [line.strip() for line in logged.splitlines() if line.strip()]
    lines = [line for line in lines if line != "Encountered an error:"]
    return "; ".join(lines[:2]) if lines else "no output"


dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def prepare_manifest(project: DbtProject = dbt_project) -> Path:
    """The project's manifest, parsed first when it is stale (raises :class:`ManifestError`).

    The command is dagster-dbt's preparer's (``dbt parse --quiet`` through
    ``DbtCliResource``), run with the venv's dbt whatever ``PATH`` says, by one process at a
    time (a file lock beside the manifest: the others then find it fresh)."""
    manifest = Path(project.manifest_path)
    if manifest_is_stale(project):  # fresh: nothing written (a read-only install works)
        manifest.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(manifest.parent / ".prepare.lock"):
            if manifest_is_stale(project):  # another process may have parsed it meanwhile
                dbt = DbtCliResource(project_dir=project, dbt_executable=DBT_EXECUTABLE)
                invocation = dbt.cli(
                    ["parse", "--quiet"], target_path=project.target_path, raise_on_error=False
                )
                error = invocation.get_error()
                if error is not None:
                    raise ManifestError(f"dbt parse failed: {_dbt_problem(str(error))}")
    if not manifest.exists():
        raise ManifestError(f"dbt parse wrote no manifest at {manifest}")
    return manifest


if __name__ == "__main__":  # make: parse the project when its files changed
    prepare_manifest()
