"""A DuckLake warehouse: the catalog in PostgreSQL, the data as Parquet files under a
directory or an object-store URL (``PAPERTRENDS_WAREHOUSE=ducklake:postgres:<conninfo>``,
``PAPERTRENDS_DATA_PATH``; parsed by ``orchestration.env``).

(duckdb is imported when a lake is opened: ``orchestration.env`` imports this module, and
what only reads the environment should not start DuckDB.)

Every connection is an in-memory DuckDB that loads the ducklake and postgres_scanner
extensions from their PyPI wheels (by file path: nothing is downloaded), attaches the lake
as ``lake`` and makes it the default database, so ``raw.listings`` and the marts mean the
same tables as in a DuckDB file.

Readers never wait: each query reads the last committed snapshot. Writers (a step's Python
writes, a dbt build) take turns at a PostgreSQL advisory lock on the catalog database
(:func:`writer_lock`), held by the writer's own database session, so it ends with the
process, killed or not. A writer outside papertrends (maintenance, a notebook) still races
for the next snapshot id: DuckLake retries such commits, ``ducklake_max_retry_count`` times.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from transforms.files import one_line

if TYPE_CHECKING:
    import duckdb

#: The attached lake's name; dbt's profile uses the same (``database: lake``).
ALIAS = "lake"
#: Key of the writers' advisory lock (pg_advisory_lock(bigint)): "papertrends" as a number.
WRITER_LOCK_KEY = int.from_bytes(b"ptrends", "big")
#: DuckLake retries a commit that lost the race for the next snapshot id (default 10).
MAX_RETRY_COUNT = 100
#: Connect-time config that skips the extensions' signature check: ~0.3 s of hashing 80 MB
#: per connection (twice the time of a query on an idle machine; 1.8 s under load). The
#: files come from pip-installed wheels, as DuckDB's own library does, and nothing loads
#: any other: no autoloading, and ``papertrends query`` refuses LOAD statements.
UNSIGNED = {"allow_unsigned_extensions": True}
#: URL schemes DuckDB reads through its httpfs extension.
REMOTE_SCHEMES = ("s3://", "gs://", "gcs://", "r2://", "az://", "abfss://", "http://", "https://")


class LakeError(RuntimeError):
    """The lake cannot be reached or used (one line: what, and the catalog's description)."""


@dataclass(frozen=True)
class DuckLake:
    """Where a DuckLake warehouse lives: its catalog (a libpq conninfo string,
    ``dbname=... host=... user=...``) and its data path (a directory ending in ``/``, or a URL)."""

    catalog: str
    data_path: str

    @property
    def remote(self) -> bool:
        return self.data_path.startswith(REMOTE_SCHEMES)

    def describe(self) -> str:
        """The catalog without its password, for messages."""
        words = [w for w in self.catalog.split() if not w.startswith("password=")]
        return f"ducklake:postgres:{' '.join(words)} (data {self.data_path})"

    def attach_sql(self, *, read_only: bool) -> str:
        options = [f"DATA_PATH {_literal(self.data_path)}"]
        if read_only:
            options.append("READ_ONLY")
        target = _literal(f"ducklake:postgres:{self.catalog}")
        return f"ATTACH {target} AS {ALIAS} ({', '.join(options)})"


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def extension_path(name: str) -> str:
    """The ``<name>.duckdb_extension`` file shipped by the ``duckdb-extension-<name>`` wheel
    for this DuckDB version."""
    import duckdb

    package = f"duckdb_extension_{name}"
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise LakeError(
            f"the DuckDB extension {name} is not installed "
            f"(pip install duckdb-extension-{name.replace('_', '-')}=={duckdb.__version__})"
        )
    root = Path(next(iter(spec.submodule_search_locations)))
    path = root / "extensions" / f"v{duckdb.__version__}" / f"{name}.duckdb_extension"
    if not path.is_file():
        raise LakeError(f"no {name} extension for DuckDB {duckdb.__version__} at {path}")
    return str(path)


def extensions(lake: DuckLake) -> list[str]:
    """The extension files a connection to ``lake`` loads (httpfs for a remote data path)."""
    names = ["ducklake", "postgres_scanner", *(["httpfs"] if lake.remote else [])]
    return [extension_path(name) for name in names]


def open_lake(
    lake: DuckLake,
    *,
    read_only: bool,
    config: Mapping[str, object] | None = None,
    settings: Mapping[str, object] | None = None,
) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with ``lake`` attached (read-only or not) and in use.

    ``config`` is DuckDB's connect-time config; ``settings`` are SET once the lake is
    attached (what a sandbox locks down afterwards: external access, the configuration)."""
    import duckdb

    con = duckdb.connect(config={**UNSIGNED, **(config or {})})
    try:
        for path in extensions(lake):
            con.execute(f"LOAD {_literal(path)}")
        if not read_only:
            con.execute(f"SET ducklake_max_retry_count = {MAX_RETRY_COUNT}")
        if lake.remote:
            con.execute(s3_secret_sql(os.environ))
        con.execute(lake.attach_sql(read_only=read_only))
        con.execute(f"USE {ALIAS}")
        for name, value in (settings or {}).items():
            con.execute(f"SET {name} = {_setting(value)}")
    except duckdb.Error as exc:
        con.close()
        raise LakeError(f"cannot open {lake.describe()}: {one_line(exc, first=True)}") from None
    except BaseException:
        con.close()
        raise
    return con


#: The S3 secret's parameters and the variables they come from (the AWS SDKs' names, and
#: AWS_ENDPOINT_URL for MinIO, R2 and other S3-compatible stores).
S3_SECRET_VARIABLES = {
    "KEY_ID": "AWS_ACCESS_KEY_ID",
    "SECRET": "AWS_SECRET_ACCESS_KEY",
    "SESSION_TOKEN": "AWS_SESSION_TOKEN",
    "REGION": "AWS_REGION",
    "ENDPOINT": "AWS_ENDPOINT_URL",
}


def s3_secret_sql(environ: Mapping[str, str]) -> str:
    """``CREATE SECRET`` for a data path on S3 (or a compatible store) from the AWS_*
    variables that are set; an endpoint given as a URL keeps its host (and http:// turns
    SSL off), with path-style URLs as MinIO wants them."""
    params = ["TYPE s3"]
    for param, variable in S3_SECRET_VARIABLES.items():
        value = environ.get(variable, "").strip()
        if not value:
            continue
        if param == "ENDPOINT":
            host = value.split("://", 1)[-1].rstrip("/")
            params += [f"ENDPOINT {_literal(host)}", "URL_STYLE 'path'"]
            if value.startswith("http://"):
                params.append("USE_SSL false")
            continue
        params.append(f"{param} {_literal(value)}")
    return f"CREATE OR REPLACE SECRET papertrends_lake ({', '.join(params)})"


def _setting(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_literal(str(v)) for v in value) + "]"
    if isinstance(value, (int, float)):
        return str(value)
    return _literal(str(value))


def _catalog_connection(lake: DuckLake):
    import psycopg2

    try:
        con = psycopg2.connect(lake.catalog)
    except psycopg2.Error as exc:
        raise LakeError(
            f"cannot reach the catalog of {lake.describe()}: {one_line(str(exc), first=True)}"
        ) from None
    con.autocommit = True
    return con


def lake_exists(lake: DuckLake) -> bool:
    """Whether the catalog database holds a DuckLake (its ``ducklake_metadata`` table)."""
    con = _catalog_connection(lake)
    try:
        with con.cursor() as cur:
            cur.execute("select to_regclass('ducklake_metadata') is not null")
            return bool(cur.fetchone()[0])
    finally:
        con.close()


@contextmanager
def writer_lock(lake: DuckLake, on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold the writers' advisory lock for the block: wait while another writer has it,
    calling ``on_wait(message)`` once. The lock belongs to this session of the catalog
    database: it is released when the block ends, or when the process dies (the server
    sees the connection drop)."""
    con = _catalog_connection(lake)
    try:
        with con.cursor() as cur:
            cur.execute("select pg_try_advisory_lock(%s)", (WRITER_LOCK_KEY,))
            if not cur.fetchone()[0]:
                if on_wait is not None:
                    on_wait(
                        f"waiting for the warehouse {lake.describe()}: another run writes it..."
                    )
                cur.execute("select pg_advisory_lock(%s)", (WRITER_LOCK_KEY,))
        yield
    finally:
        con.close()  # ends the session, and the lock with it
