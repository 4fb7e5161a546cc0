"""DDL of the tables Python writes into the warehouse, and the atomic write helpers.

dbt owns every other table; these are its sources (schema ``raw``).
"""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl

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
    "paper_keyphrases": """
        create table if not exists raw.paper_keyphrases (
            paper_id varchar not null,
            rank integer not null,
            keyphrase varchar not null,
            keyphrase_norm varchar not null,
            score double not null,
            extractor_version varchar not null
        )""",
}


def ensure_raw_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema if not exists raw")
    for ddl in RAW_DDL.values():
        con.execute(ddl)


def table_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    schema, name = table.split(".")
    rows = con.execute(
        "select column_name from information_schema.columns "
        "where table_schema = ? and table_name = ? order by ordinal_position",
        [schema, name],
    ).fetchall()
    return [r[0] for r in rows]


def _insert_frame(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> None:
    """Insert a polars frame by column name (extra frame columns are an error)."""
    if not frame.height:
        return
    columns = table_columns(con, table)
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
) -> None:
    """In one transaction, delete the rows whose ``key`` is in ``keys`` and insert ``frame``."""
    con.execute("begin transaction")
    try:
        con.register("replaced_keys", pl.DataFrame({key: keys}).to_arrow())
        con.execute(f"delete from {table} where {key} in (select {key} from replaced_keys)")
        con.unregister("replaced_keys")
        _insert_frame(con, table, frame)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
