"""Dagster's SQLite storage as papertrends tunes it (orchestration/sqlite_storage.py): WAL,
and one idle connection per file so that a connection per event does not checkpoint (and
sync the disk) every time it closes."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from orchestration import sqlite_storage


def write_event(path: Path, n: int) -> None:
    """What Dagster does per event: a new engine and connection (NullPool), one commit."""
    engine = sa.create_engine(f"sqlite:///{path}", poolclass=NullPool)
    with engine.begin() as con:
        con.execute(sa.text("create table if not exists events (n integer)"))
        con.execute(sa.text("insert into events values (:n)"), {"n": n})
    engine.dispose()


def test_a_connection_per_event_keeps_the_wal_and_the_rows(tmp_path: Path) -> None:
    sqlite_storage.use_wal()
    db = tmp_path / "events.db"
    for n in range(3):
        write_event(db, n)
        # the event's connection closed without a checkpoint: the WAL is still there
        assert db.with_name("events.db-wal").exists()
    other = sqlite3.connect(db)  # another process's view: every committed row
    assert other.execute("pragma journal_mode").fetchone() == ("wal",)
    assert other.execute("select n from events order by n").fetchall() == [(0,), (1,), (2,)]
    other.close()
    assert str(db) in sqlite_storage._kept


def test_the_kept_connections_are_bounded(tmp_path: Path, monkeypatch) -> None:
    sqlite_storage.use_wal()
    monkeypatch.setattr(sqlite_storage, "KEPT_FILES", 2)
    paths = [tmp_path / f"run{i}.db" for i in range(4)]
    for p in paths:
        write_event(p, 1)
    kept = [k for k in sqlite_storage._kept if k.startswith(str(tmp_path))]
    assert kept == [str(p) for p in paths[-2:]]  # the least recently used closed
    # a file whose kept connection was closed checkpointed then: its rows are in the file
    assert not paths[0].with_name("run0.db-wal").exists()
    assert sqlite3.connect(paths[0]).execute("select n from events").fetchall() == [(1,)]
