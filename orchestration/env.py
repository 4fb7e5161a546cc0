"""The one place that reads papertrends' environment.

All state lives under one home folder, ``PAPERTRENDS_HOME`` (default ``./.papertrends``):

    warehouse.duckdb     the DuckDB warehouse (raw.* written by Python, the rest by dbt)
    landing/YYYY-MM-DD/  incoming listing files, one folder per listing date
    publish/             digests, trend files, validation reports, outbox
    dagster/             the Dagster instance (DAGSTER_HOME), so CLI runs show in the UI

Nothing here writes to ``os.environ``; entry points that start subprocesses (the CLI)
call :func:`export_for_subprocesses` at run time.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from transforms.files import atomic_write

REPO_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
SAMPLE_LISTING = REPO_ROOT / "data" / "samples" / "hf_papers_sequence.txt"

# dbt from this interpreter's environment, even when the venv is not activated.
_VENV_DBT = Path(sys.executable).with_name("dbt")
DBT_EXECUTABLE = str(_VENV_DBT) if _VENV_DBT.exists() else (shutil.which("dbt") or "dbt")

# Writers take turns through the warehouse lock (transforms.warehouse.warehouse_lock), in
# every kind of run: no Dagster concurrency pool is needed beside it.
_DAGSTER_YAML = """\
# Written by papertrends.
telemetry:
  enabled: false
"""


@dataclass(frozen=True)
class Home:
    root: Path

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse.duckdb"

    @property
    def landing(self) -> Path:
        return self.root / "landing"

    @property
    def publish(self) -> Path:
        return self.root / "publish"

    @property
    def dagster_home(self) -> Path:
        return self.root / "dagster"

    def ensure(self) -> Home:
        """Create the folders and the Dagster instance config if missing."""
        for path in (self.root, self.landing, self.publish, self.dagster_home):
            path.mkdir(parents=True, exist_ok=True)
        config = self.dagster_home / "dagster.yaml"
        if not config.exists():  # two first runs on a new home may both get here
            atomic_write(config, _DAGSTER_YAML)
        return self


def home(root: str | os.PathLike[str] | None = None) -> Home:
    """The papertrends home: the argument, else PAPERTRENDS_HOME, else ./.papertrends."""
    raw = root if root is not None else os.environ.get("PAPERTRENDS_HOME") or ".papertrends"
    return Home(Path(raw).expanduser().resolve())


def smtp_settings():
    """SMTP settings from PAPERTRENDS_SMTP_* and PAPERTRENDS_DIGEST_TO, or None (no e-mail)."""
    from transforms.mailer import SmtpSettings

    return SmtpSettings.from_env(os.environ)


def send_empty() -> bool:
    """PAPERTRENDS_SEND_EMPTY: e-mail the "no papers" digest of an empty day too (default no).

    ``1/true/yes/on`` or ``0/false/no/off``/unset; anything else raises ``ValueError``."""
    raw = os.environ.get("PAPERTRENDS_SEND_EMPTY", "").strip().lower()
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"", "0", "false", "no", "off"}:
        return False
    raise ValueError(f"PAPERTRENDS_SEND_EMPTY must be 1 or 0, got {raw!r}")


def listing_sources() -> dict[str, object]:
    """Settings of the listing fetch (orchestration.defs.fetch.ListingSources), only those set:

    PAPERTRENDS_SOURCES (``hf,arxiv``; unset or empty: fetch nothing), PAPERTRENDS_HF_BASE_URL,
    PAPERTRENDS_ARXIV_API_URL, PAPERTRENDS_ARXIV_CATEGORIES (``cs.LG,cs.CL``),
    PAPERTRENDS_FETCH_TIMEOUT_S, PAPERTRENDS_FETCH_ATTEMPTS, PAPERTRENDS_FETCH_BACKOFF_S,
    PAPERTRENDS_ARXIV_MIN_INTERVAL_S and PAPERTRENDS_CONTACT (for the User-Agent).
    """
    from transforms.fetch import SOURCES

    def names(var: str) -> list[str]:
        return [n for n in re.split(r"[,\s]+", os.environ.get(var, "")) if n]

    def number(var: str, kind: type):
        raw = os.environ.get(var, "").strip()
        try:
            return kind(raw)
        except ValueError:
            raise ValueError(f"{var}={raw!r} is not a {kind.__name__}") from None

    out: dict[str, object] = {}
    sources = [n.lower() for n in names("PAPERTRENDS_SOURCES")]
    unknown = sorted(set(sources) - set(SOURCES))
    if unknown:
        raise ValueError(
            f"PAPERTRENDS_SOURCES: unknown source(s) {', '.join(unknown)} "
            f"(known: {', '.join(SOURCES)})"
        )
    out["sources"] = list(dict.fromkeys(sources))
    for var, key in (
        ("PAPERTRENDS_HF_BASE_URL", "hf_base_url"),
        ("PAPERTRENDS_ARXIV_API_URL", "arxiv_api_url"),
        ("PAPERTRENDS_CONTACT", "contact"),
    ):
        if os.environ.get(var, "").strip():
            out[key] = os.environ[var].strip()
    if names("PAPERTRENDS_ARXIV_CATEGORIES"):
        out["arxiv_categories"] = names("PAPERTRENDS_ARXIV_CATEGORIES")
    for var, key, kind in (
        ("PAPERTRENDS_FETCH_TIMEOUT_S", "timeout_s", float),
        ("PAPERTRENDS_FETCH_ATTEMPTS", "attempts", int),
        ("PAPERTRENDS_FETCH_BACKOFF_S", "backoff_s", float),
        ("PAPERTRENDS_ARXIV_MIN_INTERVAL_S", "arxiv_min_interval_s", float),
    ):
        if os.environ.get(var, "").strip():
            out[key] = number(var, kind)
    return out


def export_for_subprocesses(h: Home) -> None:
    """Point this process and its children (dbt, Dagster) at the home, as absolute paths."""
    os.environ["PAPERTRENDS_HOME"] = str(h.root)
    os.environ["DAGSTER_HOME"] = str(h.dagster_home)
