"""Dagster's SQLite instance storage (the default: run and event logs in ``<home>/dagster``),
tuned for a backfill's many events.

Dagster opens a new SQLite connection per event. It means its databases to be in WAL mode,
but sets ``journal_mode=WAL`` inside the transaction that creates the tables, where SQLite
ignores it: the files stay in rollback-journal mode, where every commit creates, fsyncs and
deletes a journal. A backfill of a year writes ~12,000 events (a "planned" event and a
materialization per asset and daily partition): ~20-30 ms each here, minutes in all. With
``journal_mode=WAL`` and ``synchronous=NORMAL`` (what SQLite recommends with WAL: the file
cannot be corrupted; only the last commits before a power cut may roll back, a run's last
events) the same events cost a few ms. PostgreSQL storage is not affected.

WAL alone still synced the disk about 1,800 times in a day's run: SQLite checkpoints the WAL
into the database (two ``fdatasync``) whenever the *last* connection to a file closes, and
Dagster's connection per event is always the last. So the process keeps one idle connection
open to each storage file it has used (:func:`_keep_open`, at most ``KEPT_FILES``): an event's
connection then closes without a checkpoint, and SQLite checkpoints every 1,000 pages as it
does for a long-lived connection. An idle connection holds no lock (no open transaction):
other processes read, write and checkpoint as before.
"""

import sqlite3
import threading
from collections import OrderedDict

from sqlalchemy import event
from sqlalchemy.pool import Pool

_installed = False

#: Storage files kept open (runs.db, the event index, schedules, a run's own event file...).
KEPT_FILES = 32
_kept: OrderedDict[str, sqlite3.Connection] = OrderedDict()
_kept_lock = threading.Lock()


def _keep_open(dbapi_connection: sqlite3.Connection) -> None:
    """One idle connection kept open to the file of ``dbapi_connection`` (the least recently
    used one closed beyond ``KEPT_FILES``)."""
    row = dbapi_connection.execute("PRAGMA database_list").fetchone()
    path = row[2] if row else ""
    if not path:  # an in-memory database
        return
    with _kept_lock:
        if path in _kept:
            _kept.move_to_end(path)
            return
        kept = sqlite3.connect(path, check_same_thread=False)
        # a connection counts as open to the WAL once it has read: until then, SQLite would
        # still checkpoint when the event's connection closes
        kept.execute("SELECT count(*) FROM sqlite_master").fetchall()
        _kept[path] = kept
        while len(_kept) > KEPT_FILES:
            _kept.popitem(last=False)[1].close()


def _wal_normal_sync(dbapi_connection, _record) -> None:
    if isinstance(dbapi_connection, sqlite3.Connection):
        # journal_mode is persistent (a no-op once set); outside any transaction here
        dbapi_connection.execute("PRAGMA journal_mode=WAL")
        dbapi_connection.execute("PRAGMA synchronous=NORMAL")
        _keep_open(dbapi_connection)


def use_wal() -> None:
    """WAL with ``synchronous=NORMAL`` on every SQLite connection SQLAlchemy opens in this
    process (Dagster's storage is the only SQLite user here), each file kept open by one idle
    connection. Idempotent."""
    global _installed
    if not _installed:
        event.listen(Pool, "connect", _wal_normal_sync)
        _installed = True
