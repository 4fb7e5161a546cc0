"""The one place that reads papertrends' environment.

All state lives under one home folder, ``PAPERTRENDS_HOME`` (default ``./.papertrends``):

    warehouse.duckdb     the DuckDB warehouse (raw.* written by Python, the rest by dbt),
                         unless PAPERTRENDS_WAREHOUSE names a DuckLake (:func:`warehouse_lake`)
    lake/                a DuckLake's data files, unless PAPERTRENDS_DATA_PATH puts them elsewhere
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

from transforms.ducklake import REMOTE_SCHEMES, DuckLake
from transforms.errors import UserError
from transforms.files import FILE_MODE, atomic_write

REPO_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
SAMPLE_LISTING = REPO_ROOT / "data" / "samples" / "hf_papers_sequence.txt"

# dbt from this interpreter's environment, even when the venv is not activated.
_VENV_DBT = Path(sys.executable).with_name("dbt")
DBT_EXECUTABLE = str(_VENV_DBT) if _VENV_DBT.exists() else (shutil.which("dbt") or "dbt")

#: How the dagster.yaml papertrends writes begins (one without it is the user's, kept as is).
WRITTEN_BY = "# Written by papertrends"
#: The tag every run of the daily job carries (orchestration.defs.automation), which the run
#: queue of :func:`dagster_yaml` limits.
WAREHOUSE_RUN_TAG = {"papertrends/warehouse": "write"}
#: What PAPERTRENDS_WAREHOUSE starts with for a DuckLake warehouse (the catalog's conninfo follows).
DUCKLAKE_PREFIX = "ducklake:postgres:"


def _dagster_storage() -> dict | None:
    """dagster-postgres storage (runs, event log, schedules) from PAPERTRENDS_DAGSTER_PG_URL
    (``postgresql://user[:password]@host[:port]/db[?sslmode=...]``), None when unset (Dagster's
    SQLite files in the home).

    ``scheme: postgresql+psycopg2`` because SQLAlchemy 2.1 maps ``postgresql://`` to psycopg 3,
    which binds the parameter of Dagster's ``NOTIFY`` server-side and PostgreSQL refuses it.
    """
    from urllib.parse import parse_qsl, unquote, urlsplit

    raw = os.environ.get("PAPERTRENDS_DAGSTER_PG_URL", "").strip()
    if not raw:
        return None
    problem = None
    try:
        url = urlsplit(raw)
        port = url.port or 5432
    except ValueError as exc:  # a port that is not a number
        url, port, problem = None, None, str(exc)
    if url is not None:
        db_name = unquote(url.path.lstrip("/"))
        if url.scheme not in {"postgresql", "postgres"}:
            problem = "it must start with postgresql://"
        elif not url.hostname or not url.username:
            problem = "it needs a user and a host"
        elif not db_name or "/" in db_name:
            problem = "it needs one database name after the host"
    if problem:
        raise UserError(
            "PAPERTRENDS_DAGSTER_PG_URL is not a postgresql://user[:password]@host[:port]/db "
            f"URL: {problem}"
        )
    postgres_db = {
        "hostname": url.hostname,
        "port": port,
        "username": unquote(url.username),
        "db_name": db_name,
        "scheme": "postgresql+psycopg2",
    }
    if url.password:
        postgres_db["password"] = unquote(url.password)
    if url.query:
        postgres_db["params"] = dict(parse_qsl(url.query))
    return {"postgres": {"postgres_db": postgres_db}}


def _warehouse_run_limit() -> int:
    """How many queued runs of the daily job the daemon runs at once: 1 on a DuckDB file
    warehouse (it has one writer at a time: runs beyond it would only wait at the warehouse
    lock, each holding a process), PAPERTRENDS_MAX_WAREHOUSE_RUNS (default 2) on a DuckLake
    one (``PAPERTRENDS_WAREHOUSE=ducklake:...``: runs of different dates proceed together,
    their dbt steps taking turns at an advisory lock; kept small, as every writer retries its
    commit when another committed first)."""
    if not os.environ.get("PAPERTRENDS_WAREHOUSE", "").strip().startswith(DUCKLAKE_PREFIX):
        return 1
    raw = os.environ.get("PAPERTRENDS_MAX_WAREHOUSE_RUNS", "").strip() or "2"
    if not raw.isdigit() or int(raw) < 1:
        raise UserError(f"PAPERTRENDS_MAX_WAREHOUSE_RUNS must be a whole number >= 1, got {raw!r}")
    return int(raw)


def dagster_yaml() -> tuple[str, int]:
    """The Dagster instance config (``<home>/dagster/dagster.yaml``) the environment asks for,
    and its file mode (owner only when it holds the URL's password):
    storage on PostgreSQL or SQLite (:func:`_dagster_storage`), and the daemon's run queue
    (``QueuedRunCoordinator``: runs from the UI, the schedule and the sensor wait in the
    queue while :data:`WAREHOUSE_RUN_TAG` runs are at their limit, :func:`_warehouse_run_limit`).
    ``papertrends run`` and the other commands run in their own process, outside the queue;
    the warehouse locks serialise them with the queued runs."""
    import yaml

    key, value = next(iter(WAREHOUSE_RUN_TAG.items()))
    config: dict = {"telemetry": {"enabled": False}}
    storage = _dagster_storage()
    if storage is not None:
        config["storage"] = storage
    config["run_coordinator"] = {
        "module": "dagster.core.run_coordinator",
        "class": "QueuedRunCoordinator",
        "config": {
            "tag_concurrency_limits": [
                {"key": key, "value": value, "limit": _warehouse_run_limit()}
            ]
        },
    }
    header = (
        f"{WRITTEN_BY} from PAPERTRENDS_DAGSTER_PG_URL, PAPERTRENDS_WAREHOUSE and\n"
        "# PAPERTRENDS_MAX_WAREHOUSE_RUNS; rewritten whenever they ask for something else\n"
        "# (delete these three lines to keep your own edits).\n"
    )
    secret = storage is not None and "password" in storage["postgres"]["postgres_db"]
    return header + yaml.safe_dump(config, sort_keys=False), 0o600 if secret else FILE_MODE


def warehouse_lake(root: Path) -> DuckLake | None:
    """The DuckLake warehouse PAPERTRENDS_WAREHOUSE names (``ducklake:postgres:<conninfo>``,
    e.g. ``ducklake:postgres:dbname=lake host=db user=papertrends``; the password in
    PGPASSWORD or ~/.pgpass rather than here), with its data under PAPERTRENDS_DATA_PATH
    (a directory, or an ``s3://`` URL; default ``<home>/lake/``). None when unset or
    ``duckdb``: the DuckDB file in the home."""
    raw = os.environ.get("PAPERTRENDS_WAREHOUSE", "").strip()
    if raw in {"", "duckdb"}:
        return None
    catalog = raw.removeprefix(DUCKLAKE_PREFIX).strip()
    if not raw.startswith(DUCKLAKE_PREFIX) or not catalog:
        raise UserError(
            f"PAPERTRENDS_WAREHOUSE={raw!r} is not 'duckdb' or "
            f"'{DUCKLAKE_PREFIX}<conninfo>' (e.g. {DUCKLAKE_PREFIX}dbname=lake host=127.0.0.1)"
        )
    data = os.environ.get("PAPERTRENDS_DATA_PATH", "").strip() or str(root / "lake")
    if not data.startswith(REMOTE_SCHEMES):
        data = str(Path(data).expanduser().resolve())
    return DuckLake(catalog, data.rstrip("/") + "/")


@dataclass(frozen=True)
class Home:
    root: Path
    #: The DuckLake warehouse, when PAPERTRENDS_WAREHOUSE names one (else the DuckDB file).
    lake: DuckLake | None = None

    @property
    def warehouse(self) -> Path:
        """The DuckDB file warehouse (what the home holds unless :attr:`lake` is set)."""
        return self.root / "warehouse.duckdb"

    @property
    def target(self) -> Path | DuckLake:
        """Where the warehouse is: the DuckLake, else the DuckDB file."""
        return self.lake if self.lake is not None else self.warehouse

    def describe_warehouse(self) -> str:
        return self.lake.describe() if self.lake is not None else str(self.warehouse)

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
        """Create the folders, and write the Dagster instance config when it is missing or
        papertrends wrote it (:data:`WRITTEN_BY`) and it is not what the environment asks for
        (:func:`dagster_yaml`), so turning PostgreSQL on or off takes effect on the next
        command or service start; a file someone wrote by hand is theirs. Written whole
        (atomic_write): two processes racing leave one of their files, each valid. Only the
        owner reads it when it holds a password (leave it out of the URL and libpq reads
        PGPASSWORD or ~/.pgpass instead)."""
        for path in (self.root, self.landing, self.publish, self.dagster_home):
            path.mkdir(parents=True, exist_ok=True)
        if self.lake is not None and not self.lake.remote:
            Path(self.lake.data_path).mkdir(parents=True, exist_ok=True)
        config = self.dagster_home / "dagster.yaml"
        wanted, mode = dagster_yaml()
        try:
            current = config.read_text(encoding="utf-8")
        except FileNotFoundError:
            current = None
        if current is None or (current != wanted and current.startswith(WRITTEN_BY)):
            atomic_write(config, wanted, mode)
        return self


def home(root: str | os.PathLike[str] | None = None) -> Home:
    """The papertrends home: the argument, else PAPERTRENDS_HOME, else ./.papertrends."""
    raw = root if root is not None else os.environ.get("PAPERTRENDS_HOME") or ".papertrends"
    path = Path(raw).expanduser().resolve()
    return Home(path, warehouse_lake(path))


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
