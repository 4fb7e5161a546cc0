"""DDL of the tables Python writes into the warehouse, the atomic write helpers, and the
warehouse lock.

dbt owns every other table; these are its sources (schema ``raw``).

DuckDB lets one process open a file read-write, and a read-only open fails while another
process has it read-write (and the other way round). Everything that opens the warehouse
therefore takes a readers-writer lock on ``<warehouse>.lock`` next to it first
(:func:`warehouse_lock`: shared for readers, exclusive for writers), and holds it while the
connection is open. This lock is the one thing that serialises writers, whoever runs them:
a CLI run, a run launched in the UI, the daemon's. A writer waits for as long as the lock is
held; a reader (``papertrends query``) gives up after its timeout with
:class:`WarehouseBusyError` and a one-line message. The lock ends with its process, so a
killed process never leaves a stale lock behind. No Dagster here, so the CLI can use the same
helpers.

A DuckLake warehouse (:mod:`transforms.ducklake`) takes the same calls: readers take no lock
and never wait, writers take turns at the catalog's advisory lock.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from pathlib import Path

import duckdb
import polars as pl

from transforms.ducklake import DuckLake, lake_exists, open_lake, writer_lock
from transforms.files import LockTimeout, one_line, readers_writer_lock

#: Where a warehouse is: a DuckDB file, or a DuckLake.
Warehouse = Path | DuckLake

#: How long an open waits for a process that has the file open without taking the lock (the
#: DuckDB CLI, a notebook). The lock itself is waited for as long as it is held.
OPEN_TIMEOUT_S = 600.0


class WarehouseBusyError(RuntimeError):
    """The warehouse lock was not obtained in time: another process writes (or reads) it."""


def lock_path(warehouse: Path) -> Path:
    """``<home>/warehouse.lock`` for ``<home>/warehouse.duckdb``."""
    return warehouse.with_name(warehouse.stem + ".lock")


@contextmanager
def warehouse_lock(
    warehouse: Path,
    *,
    shared: bool,
    timeout_s: float | None = None,
    on_wait: Callable[[str], None] | None = None,
) -> Iterator[None]:
    """Hold the warehouse's readers-writer lock (:func:`transforms.files.readers_writer_lock`):
    ``shared`` for readers, else exclusive.

    Waits while another process holds a conflicting lock, calling ``on_wait(message)`` once
    when it starts waiting; :class:`WarehouseBusyError` after ``timeout_s`` (None: as long
    as the holder writes; every holder is a live process, so the wait ends).
    """
    warehouse = Path(warehouse)
    holder = "a run is writing it" if shared else "another run or a query is using it"

    def waiting() -> None:
        if on_wait is not None:
            on_wait(f"waiting for the warehouse {warehouse}: {holder}...")

    with ExitStack() as stack:
        try:  # only taking the lock is translated; errors of the caller's block pass through
            stack.enter_context(
                readers_writer_lock(
                    lock_path(warehouse), shared=shared, timeout_s=timeout_s, on_wait=waiting
                )
            )
        except LockTimeout:
            raise WarehouseBusyError(
                f"the warehouse {warehouse} is busy ({holder}); "
                f"gave up after waiting {timeout_s:.0f}s"
            ) from None
        yield


def _open_timeout(timeout_s: float | None, started: float) -> float:
    """What is left for opening the file once the lock is held: the rest of ``timeout_s``
    (counted from ``started``), or :data:`OPEN_TIMEOUT_S` when the lock had no timeout."""
    if timeout_s is None:
        return OPEN_TIMEOUT_S
    return max(0.0, timeout_s - (time.monotonic() - started))


def _is_lock_conflict(exc: duckdb.Error) -> bool:
    return isinstance(exc, duckdb.IOException) and "lock" in str(exc).lower()


#: DuckDB's default is 80 % of the machine's memory; with a limit it spills to disk instead
#: (dbt's profile sets the same, PAPERTRENDS_DUCKDB_MEMORY_LIMIT there).
MEMORY_LIMIT = "2GB"


def open_duckdb(
    warehouse: Path,
    *,
    read_only: bool,
    config: Mapping[str, object] | None = None,
    timeout_s: float = OPEN_TIMEOUT_S,
    on_wait: Callable[[str], None] | None = None,
) -> duckdb.DuckDBPyConnection:
    """``duckdb.connect``, retried while DuckDB reports that another process holds the
    file (one that does not take the warehouse lock: the DuckDB CLI, a notebook...);
    WarehouseBusyError after ``timeout_s``. Call it with the warehouse lock held."""
    deadline = time.monotonic() + timeout_s
    told = False
    settings = {"memory_limit": MEMORY_LIMIT, **(config or {})}
    while True:
        try:
            return duckdb.connect(str(warehouse), read_only=read_only, config=settings)
        except duckdb.Error as exc:
            if not _is_lock_conflict(exc):
                raise
            first = one_line(str(exc).split(". ")[0])
            if time.monotonic() >= deadline:
                raise WarehouseBusyError(
                    f"the warehouse {warehouse} is open in another process that does not "
                    f"take its lock; gave up after waiting {timeout_s:.0f}s ({first})"
                ) from None
            if not told and on_wait is not None:
                on_wait(f"waiting for the warehouse {warehouse}: another process has it open")
            told = True
            time.sleep(0.2)


def warehouse_exists(warehouse: Warehouse) -> bool:
    """Whether the warehouse was created (the file, or the lake's catalog)."""
    if isinstance(warehouse, DuckLake):
        return lake_exists(warehouse)
    return Path(warehouse).exists()


@contextmanager
def connect_warehouse(
    warehouse: Warehouse,
    *,
    read_only: bool,
    config: Mapping[str, object] | None = None,
    timeout_s: float | None = None,
    on_wait: Callable[[str], None] | None = None,
    settings: Mapping[str, object] | None = None,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A DuckDB connection to the warehouse, opened and used under :func:`warehouse_lock`
    (shared when ``read_only``), closed on exit. A read-only open of a missing warehouse
    raises FileNotFoundError (DuckDB would create nothing and fail less clearly).

    On a DuckLake: a reader takes no lock (it reads the last committed snapshot), a writer
    holds the lake's :func:`transforms.ducklake.writer_lock` while connected; ``config`` is
    applied when connecting and ``settings`` once the lake is attached (``settings`` are
    what a file warehouse takes in ``config``, e.g. a sandbox's ``enable_external_access``)."""
    if isinstance(warehouse, DuckLake):
        with _connect_lake(warehouse, read_only, config, settings, on_wait) as con:
            yield con
        return
    warehouse = Path(warehouse)
    config = {**(config or {}), **(settings or {})}
    if read_only and not warehouse.exists():
        raise FileNotFoundError(f"no warehouse yet at {warehouse}")
    started = time.monotonic()
    with warehouse_lock(warehouse, shared=read_only, timeout_s=timeout_s, on_wait=on_wait):
        con = open_duckdb(
            warehouse,
            read_only=read_only,
            config=config,
            timeout_s=_open_timeout(timeout_s, started),
            on_wait=on_wait,
        )
        try:
            yield con
        finally:
            con.close()


@contextmanager
def _connect_lake(
    lake: DuckLake,
    read_only: bool,
    config: Mapping[str, object] | None,
    settings: Mapping[str, object] | None,
    on_wait: Callable[[str], None] | None,
) -> Iterator[duckdb.DuckDBPyConnection]:
    if read_only and not lake_exists(lake):
        raise FileNotFoundError(f"no warehouse yet at {lake.describe()}")
    config = {"memory_limit": MEMORY_LIMIT, **(config or {})}
    with ExitStack() as stack:
        if not read_only:
            stack.enter_context(writer_lock(lake, on_wait=on_wait))
        con = open_lake(lake, read_only=read_only, config=config, settings=settings)
        stack.callback(con.close)
        yield con


@contextmanager
def writing_warehouse(
    warehouse: Warehouse,
    *,
    timeout_s: float | None = None,
    on_wait: Callable[[str], None] | None = None,
) -> Iterator[None]:
    """The exclusive lock for another process that writes the warehouse (dbt): held for
    the block, once DuckDB can open the file read-write (no lock-less reader has it); on a
    DuckLake, the lake's writer lock."""
    if isinstance(warehouse, DuckLake):
        with writer_lock(warehouse, on_wait=on_wait):
            yield
        return
    warehouse = Path(warehouse)
    started = time.monotonic()
    with warehouse_lock(warehouse, shared=False, timeout_s=timeout_s, on_wait=on_wait):
        if warehouse.exists():
            remaining = _open_timeout(timeout_s, started)
            open_duckdb(warehouse, read_only=False, timeout_s=remaining, on_wait=on_wait).close()
        yield


# Columns of raw.listings beyond the card text: what the listing's format tells about the
# paper (null when it does not). Added to an existing warehouse by ensure_raw_schema, so a
# warehouse built before these columns keeps working.
LISTING_METADATA_COLUMNS = {
    "format": "varchar",
    "source": "varchar",
    "arxiv_id": "varchar",
    "arxiv_version": "integer",
    "authors": "varchar[]",
    "author_count": "integer",
    "categories": "varchar[]",
    "upvotes": "integer",
    "github_url": "varchar",
    "github_stars": "integer",
    "project_url": "varchar",
    "url": "varchar",
    "published": "date",
    "announce_type": "varchar",
    "organization": "varchar",
    "ai_keywords": "varchar[]",
    "summary_is_ai": "boolean",
}

RAW_DDL = {
    "listings": """
        create table if not exists raw.listings (
            listing_date date not null,
            source_file varchar not null,
            file_sha256 varchar not null,
            position integer not null,
            title varchar not null,
            abstract varchar not null,
            raw_text varchar not null,
            ingested_at timestamp not null
        )""",
    "rejected_records": """
        create table if not exists raw.rejected_records (
            listing_date date not null,
            source_file varchar not null,
            file_sha256 varchar,
            position integer not null,
            raw_text varchar not null,
            reason varchar not null,
            ingested_at timestamp not null
        )""",
    # One row per landed file of a date (and per fetch that found no listing published):
    # what it was, what came of it, and where it came from.
    "landed_files": """
        create table if not exists raw.landed_files (
            listing_date date not null,
            source_file varchar not null,
            file_sha256 varchar,
            format varchar,
            source varchar,
            records integer not null,
            rejected integer not null,
            note varchar,
            fetched_url varchar,
            http_status integer,
            fetched_at timestamp,
            ingested_at timestamp not null
        )""",
    "paper_keyphrases": """
        create table if not exists raw.paper_keyphrases (
            paper_id varchar not null,
            rank integer not null,
            keyphrase varchar not null,
            keyphrase_norm varchar not null,
            score double not null,
            extractor_version varchar not null,
            extracted_at timestamp default (current_timestamp at time zone 'UTC')
        )""",
    # Corpus statistics of the keyphrase extractor, kept incrementally (keyphrase_store):
    # document frequency per normalised word, and which paper texts are counted in it.
    "keyphrase_doc_freq": """
        create table if not exists raw.keyphrase_doc_freq (
            term varchar not null,
            docs integer not null
        )""",
    "keyphrase_counted_papers": """
        create table if not exists raw.keyphrase_counted_papers (
            paper_id varchar not null,
            text_hash varchar not null,
            terms varchar[] not null
        )""",
}


def ensure_raw_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema if not exists raw")
    for ddl in RAW_DDL.values():
        con.execute(ddl)
    for column, kind in LISTING_METADATA_COLUMNS.items():
        con.execute(f"alter table raw.listings add column if not exists {column} {kind}")
    # When a paper's keyphrases were written: incremental trend marts rebuild its dates.
    con.execute(
        "alter table raw.paper_keyphrases add column if not exists extracted_at timestamp "
        "default (current_timestamp at time zone 'UTC')"
    )


def table_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    schema, name = table.split(".")
    rows = con.execute(
        "select column_name from information_schema.columns where table_catalog ="
        " current_database() and table_schema = ? and table_name = ? order by ordinal_position",
        [schema, name],
    ).fetchall()
    return [r[0] for r in rows]


def _insert_frame(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> None:
    """Insert a polars frame by column name; table columns the frame lacks take their
    default (``extracted_at``), frame columns the table lacks are ignored."""
    if not frame.height:
        return
    columns = [c for c in table_columns(con, table) if c in frame.columns]
    con.register("incoming_frame", frame.select(columns).to_arrow())
    try:
        con.execute(
            f"insert into {table} ({', '.join(columns)}) "
            f"select {', '.join(columns)} from incoming_frame"
        )
    finally:
        con.unregister("incoming_frame")


def replace_date_partitions(
    con: duckdb.DuckDBPyConnection,
    listing_dates: list[dt.date],
    frames: dict[str, pl.DataFrame],
) -> None:
    """In one transaction, replace the rows of ``listing_dates`` in each raw table.

    Re-running a date therefore leaves exactly the rows of the last run, and a crash
    leaves the previous rows: never a half-written partition.
    """
    ensure_raw_schema(con)
    con.execute("begin transaction")
    try:
        for table, frame in frames.items():
            con.execute(
                f"delete from raw.{table} where listing_date in (select unnest(?))",
                [listing_dates],
            )
            _insert_frame(con, f"raw.{table}", frame)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise


def replace_rows(
    con: duckdb.DuckDBPyConnection,
    table: str,
    key: str,
    keys: pl.Series,
    frame: pl.DataFrame,
    *,
    keep: str | None = None,
) -> None:
    """In one transaction, delete the rows whose ``key`` is in ``keys`` (and, with ``keep``,
    a query of the keys still valid, every row whose key is not in it) and insert ``frame``."""
    con.execute("begin transaction")
    try:
        con.register("replaced_keys", pl.DataFrame({key: keys}).to_arrow())
        con.execute(f"delete from {table} where {key} in (select {key} from replaced_keys)")
        con.unregister("replaced_keys")
        if keep is not None:
            con.execute(f"delete from {table} where {key} not in ({keep})")
        _insert_frame(con, table, frame)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise


def empty_day_reason(con: duckdb.DuckDBPyConnection, listing_date: dt.date) -> str | None:
    """Why a date has nothing to validate (no listing, none published, or no papers in
    it), else None."""
    listed, rejected = con.execute(
        "select (select count(*) from raw.listings where listing_date = $1),"
        " (select count(*) from raw.rejected_records where listing_date = $1)",
        [listing_date],
    ).fetchone()
    if listed:
        return None
    if rejected:
        return f"the listing of {listing_date} had no paper cards ({rejected} quarantined)"
    if not table_columns(con, "raw.landed_files"):  # a warehouse from before fetching
        return f"no listing landed for {listing_date}"
    unpublished = con.execute(
        "select note from raw.landed_files where listing_date = $1 and format is null"
        " and note like 'no listing published: %' order by source",
        [listing_date],
    ).fetchall()
    if unpublished:
        why = "; ".join(note.removeprefix("no listing published: ") for (note,) in unpublished)
        return f"no listing was published for {listing_date} ({why})"
    return f"no listing landed for {listing_date}"


def empty_day_reasons(
    con: duckdb.DuckDBPyConnection, start: dt.date, end: dt.date
) -> dict[dt.date, str]:
    """The dates of ``start..end`` (inclusive) that have nothing to validate, each with
    :func:`empty_day_reason`'s text; the dates with listing rows are found in one query."""
    listed = {
        day
        for (day,) in con.execute(
            "select distinct listing_date from raw.listings where listing_date between $1 and $2",
            [start, end],
        ).fetchall()
    }
    days = (start + dt.timedelta(days=i) for i in range((end - start).days + 1))
    reasons = {day: empty_day_reason(con, day) for day in days if day not in listed}
    return {day: why for day, why in reasons.items() if why}
