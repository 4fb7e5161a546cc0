"""``papertrends-dbt``: the dbt executable the pipeline's dbt steps run.

It is dbt's own command line (``dbt.cli.main.cli``, what the ``dbt`` script runs) with one
exception: ``--version`` alone is answered from the installed packages' metadata. dagster-dbt
runs ``<dbt_executable> --version`` in the first dbt step of every process, to tell dbt Core
from dbt Fusion, and dbt answers it only after importing all of dbt: 2.3 s of every daily
run here, for a version that ``requirements.lock`` pins anyway. The output keeps dbt's
shape ("Core: ... installed: X.Y.Z"), which is all dagster-dbt reads.
"""

from __future__ import annotations

import sys
from importlib.metadata import version


def version_text() -> str:
    return (
        "Core:\n"
        f"  - installed: {version('dbt-core')}\n"
        "\n"
        "Plugins:\n"
        f"  - duckdb: {version('dbt-duckdb')}\n"
    )


def main() -> int:
    if sys.argv[1:] == ["--version"]:
        sys.stdout.write(version_text())
        return 0
    from dbt.cli.main import cli

    return cli()


if __name__ == "__main__":
    sys.exit(main())
