"""`dg dev` (what `make dev` starts) serves the UI with the whole graph and its checks."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from orchestration import env

QUERY = """
{ assetNodes { assetKey { path } groupName
    dependencyKeys { path }
    assetChecksOrError { ... on AssetChecks { checks { name blocking } } } } }
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _restore_signals() -> None:
    # A background `dagster dev` ignores SIGINT/SIGTERM unless the defaults are restored.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


@pytest.fixture
def ui(home: env.Home):
    port = _free_port()
    bin_dir = Path(sys.executable).parent
    log = open(home.root / "dg-dev.log", "w")  # noqa: SIM115 (closed below)
    proc = subprocess.Popen(
        [str(bin_dir / "dg"), "dev", "--host", "127.0.0.1", "--port", str(port)],
        cwd=env.REPO_ROOT,
        env=dict(os.environ, PATH=f"{bin_dir}:{os.environ['PATH']}"),
        stdout=log,
        stderr=subprocess.STDOUT,
        preexec_fn=_restore_signals,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            assert proc.poll() is None, (home.root / "dg-dev.log").read_text()[-3000:]
            try:
                with urllib.request.urlopen(f"{url}/server_info", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                time.sleep(1)
        else:
            pytest.fail("dg dev did not come up in 240 s")
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=20)
        log.close()


def graphql(url: str, query: str) -> dict:
    request = urllib.request.Request(
        f"{url}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"content-type": "application/json"},
    )
    deadline = time.monotonic() + 120
    while True:  # the code location may still be loading right after start-up
        with urllib.request.urlopen(request, timeout=30) as resp:
            data = json.load(resp)["data"]
        if data["assetNodes"] or time.monotonic() > deadline:
            return data
        time.sleep(2)


@pytest.mark.slow
def test_dg_dev_shows_lineage_groups_and_checks(ui: str) -> None:
    nodes = {"/".join(n["assetKey"]["path"]): n for n in graphql(ui, QUERY)["assetNodes"]}
    groups = {key: node["groupName"] for key, node in nodes.items()}
    assert groups["raw/listings"] == "ingest"
    assert groups["papers"] == "warehouse"
    assert groups["raw/paper_keyphrases"] == "keyphrases"
    assert groups["keyword_trends"] == "trends"
    assert groups["digest"] == "publish"
    # Lineage connects the Python ingest asset to dbt through the source, no glue code.
    assert ["raw", "listings"] in [
        d["path"] for d in nodes["staging/stg_raw__listings"]["dependencyKeys"]
    ]
    assert ["papers"] in [d["path"] for d in nodes["raw/paper_keyphrases"]["dependencyKeys"]]
    checks = {
        key: {c["name"]: c["blocking"] for c in node["assetChecksOrError"]["checks"]}
        for key, node in nodes.items()
    }
    assert checks["raw/listings"] == {"ge_raw_listings": True}
    assert checks["papers"]["ge_papers"] is True
    assert "unique_papers_paper_id" in checks["papers"]
    assert checks["raw/paper_keyphrases"] == {"ge_keyphrases": True}
    assert checks["keyword_trends"]["ge_trends"] is True
