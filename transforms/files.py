"""Files and locks, the same way everywhere: atomic writes, their leftovers swept, the
readers-writer lock, and messages on one line.

An atomic write goes to a temporary file in the target's folder, is fsynced, then renamed:
a reader (or a crash) sees the old file or the new one, never half of one. Temporary files
are named ``.<name>.<pid>.<random>.tmp`` so a later run can tell a dead writer's leftovers
from a live one's (:func:`sweep_stale_tmp`).
"""

from __future__ import annotations

import errno
import fcntl
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

FILE_MODE = 0o644  # readable output (mkstemp alone would leave 0600)
STALE_TMP_S = 3600.0  # a temporary file this old is abandoned, whoever wrote it


def atomic_write(
    path: Path,
    content: bytes | str | Callable[[str], object],
    mode: int = FILE_MODE,
) -> Path:
    """Write bytes, UTF-8 text, or whatever ``content(tmp_path)`` writes, to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent
    )
    try:
        if callable(content):
            os.close(fd)
            content(tmp)
        else:
            data = content.encode("utf-8") if isinstance(content, str) else content
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_stale_tmp(folder: Path, max_age_s: float = STALE_TMP_S) -> list[Path]:
    """Remove the temporary files killed writers left in ``folder`` (not recursive).

    A ``.<name>.<pid>.<random>.tmp`` of a process that no longer exists is removed, and any
    ``.*.tmp`` older than ``max_age_s``; a live writer's file is kept. Returns what was removed.
    """
    removed: list[Path] = []
    if not folder.is_dir():
        return removed
    now = time.time()
    for tmp in folder.glob(".*.tmp"):
        parts = tmp.name.split(".")  # "", name..., pid, random, "tmp"
        pid = int(parts[-3]) if len(parts) >= 5 and parts[-3].isdigit() else None
        try:
            dead = pid is not None and pid != os.getpid() and not _pid_alive(pid)
            if dead or now - tmp.lstat().st_mtime > max_age_s:
                tmp.unlink()
                removed.append(tmp)
        except OSError:
            continue  # gone already, or not ours to remove: never fail a publish over it
    return removed


class LockTimeout(TimeoutError):
    """A lock was not obtained in the time given."""


def _open_lock_file(path: Path, shared: bool) -> int | None:
    """The lock file's descriptor; None for a reader when it cannot exist (a read-only
    folder: nobody can write there, so there is nothing to wait for)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        if not shared or exc.errno not in (errno.EACCES, errno.EPERM, errno.EROFS):
            raise
    try:
        return os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None


@contextmanager
def readers_writer_lock(
    lock_file: Path,
    *,
    shared: bool,
    timeout_s: float | None = None,
    on_wait: Callable[[], None] | None = None,
) -> Iterator[None]:
    """Hold ``lock_file``'s lock, ``shared`` by readers, else exclusive (one writer, no reader).

    An ``flock`` of the open file: it ends with the process, so a killed holder never leaves
    a stale lock. Waits while a conflicting lock is held, calling ``on_wait()`` once when it
    starts waiting, and raises :class:`LockTimeout` after ``timeout_s`` (None: for as long
    as the holder holds it). A reader whose lock file cannot be created (read-only folder)
    goes ahead unlocked. (filelock's ReadWriteLock is SQLite-based: its readers need write
    access to the lock, which a read-only install of the warehouse does not give them.)
    """
    fd = _open_lock_file(Path(lock_file), shared)
    if fd is None:
        yield
        return
    try:
        mode = fcntl.LOCK_SH if shared else fcntl.LOCK_EX
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        waited = False
        while True:
            try:
                fcntl.flock(fd, mode | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not waited and on_wait is not None:
                    on_wait()
                waited = True
                if deadline is not None and time.monotonic() >= deadline:
                    raise LockTimeout(f"{lock_file} still held after {timeout_s:.0f}s") from None
                time.sleep(0.1)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def one_line(text: object, *, first: bool = False, secret: str | None = None) -> str:
    """``text`` on one line, whitespace collapsed: for messages shown to a user or kept in
    metadata. ``first``: its first non-empty line only (an error's summary, without the
    details below it). ``secret``: replaced by ``***`` (a password in a server's reply)."""
    value = str(text)
    if first:
        value = next((line for line in value.splitlines() if line.strip()), "")
    value = " ".join(value.split())
    if secret:
        value = value.replace(secret, "***")
    return value
