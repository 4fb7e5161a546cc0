"""Files and locks, the same way everywhere: atomic writes, their leftovers swept, the
readers-writer lock, lock files that show their process is alive, and messages on one line.
The one module that imports ``fcntl``.

An atomic write goes to a temporary file in the target's folder, is fsynced, then renamed:
a reader (or a crash) sees the old file or the new one, never half of one. Temporary files
are named ``.<name>.<pid>.<random>.tmp`` so a later run can tell a dead writer's leftovers
from a live one's (:func:`sweep_stale_tmp`).
"""

from __future__ import annotations

import errno
import fcntl
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

FILE_MODE = 0o644  # readable output (mkstemp alone would leave 0600)
STALE_TMP_S = 3600.0  # a temporary file this old is abandoned, whoever wrote it


def _tmp_beside(path: Path) -> tuple[int, Path]:
    """A new, empty temporary file for ``path`` (its descriptor and path): in its folder
    (created if missing), named ``.<name>.<pid>.<random>.tmp``, mode 0600 until it is moved
    into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent
    )
    return fd, Path(tmp)


def new_tmp_file(path: Path) -> Path:
    """A new, empty temporary file for ``path``, to be written over time and then moved into
    place with :func:`move_into_place` (the two halves of :func:`atomic_write`, for a write
    that is not one call: the bulk import appends to many of them, renamed at the end)."""
    fd, tmp = _tmp_beside(Path(path))
    os.close(fd)
    return tmp


def move_into_place(tmp: Path, path: Path, mode: int = FILE_MODE) -> Path:
    """Give the temporary file ``tmp`` its ``mode`` and rename it to ``path``: a reader sees
    the old file or this one, never half of one."""
    os.chmod(tmp, mode)
    os.replace(tmp, path)
    return Path(path)


def link_into_place(tmp: Path, path: Path, mode: int = FILE_MODE) -> Path:
    """Like :func:`move_into_place`, but never replaces: ``path`` appears with the whole of
    ``tmp``, or FileExistsError when something has that name already (a hard link, which
    fails where a rename would overwrite). ``tmp`` is removed either way."""
    try:
        os.chmod(tmp, mode)
        os.link(tmp, path)
    finally:
        os.unlink(tmp)
    return Path(path)


def atomic_write(
    path: Path,
    content: bytes | str | Callable[[str], object],
    mode: int = FILE_MODE,
) -> Path:
    """Write bytes, UTF-8 text, or whatever ``content(tmp_path)`` writes, to ``path``."""
    path = Path(path)
    fd, tmp = _tmp_beside(path)
    try:
        if callable(content):
            os.close(fd)
            content(str(tmp))
        else:
            data = content.encode("utf-8") if isinstance(content, str) else content
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        return move_into_place(tmp, path, mode)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_stale_tmp(
    folder: Path, max_age_s: float = STALE_TMP_S, pattern: str = ".*.tmp"
) -> list[Path]:
    """Remove the temporary files (and folders) killed writers left in ``folder`` (not
    recursive). Returns what was removed.

    A ``.<name>.<pid>.<random>.tmp`` of a process that no longer exists is removed, and any
    match of ``pattern`` older than ``max_age_s``; a live writer's file is kept. ``pattern``:
    which names are temporary (``"tmp*"``: :class:`tempfile.TemporaryDirectory`'s own names,
    which say no pid, so only their age counts). A folder goes with everything in it.
    """
    removed: list[Path] = []
    if not folder.is_dir():
        return removed
    now = time.time()
    for tmp in folder.glob(pattern):
        parts = tmp.name.split(".")  # "", name..., pid, random, "tmp"
        pid = int(parts[-3]) if len(parts) >= 5 and parts[-3].isdigit() else None
        try:
            dead = pid is not None and pid != os.getpid() and not _pid_alive(pid)
            if dead or now - tmp.lstat().st_mtime > max_age_s:
                if tmp.is_dir() and not tmp.is_symlink():
                    shutil.rmtree(tmp, ignore_errors=True)
                else:
                    tmp.unlink()
                if not tmp.exists():
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


def _lock_now(fd: int, mode: int) -> bool:
    """Take ``fd``'s ``flock`` in ``mode`` if no other holder conflicts; whether it did."""
    try:
        fcntl.flock(fd, mode | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


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
        while not _lock_now(fd, mode):
            if not waited and on_wait is not None:
                on_wait()
            waited = True
            if deadline is not None and time.monotonic() >= deadline:
                raise LockTimeout(f"{lock_file} still held after {timeout_s:.0f}s")
            time.sleep(0.1)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


@contextmanager
def try_lock(path: Path) -> Iterator[bool]:
    """Try once, without waiting, to lock the existing file ``path`` exclusively; yields
    whether this process holds the lock while the block runs (False: another process holds
    it, or there is no such file). Never creates the file."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
    except FileNotFoundError:
        fd = None
    if fd is None:
        yield False
        return
    try:
        yield _lock_now(fd, fcntl.LOCK_EX)
    finally:
        os.close(fd)


@contextmanager
def locked_file(path: Path, content: bytes = b"") -> Iterator[None]:
    """Create ``path`` (holding ``content``) and hold its exclusive lock while the block runs;
    the file is removed when the block ends.

    The file appears already locked: it is written under a temporary name, locked, then
    renamed. The lock ends with its process, so a ``path`` whose lock :func:`try_lock` gets
    was left by a process that died (SIGKILL, OOM, power loss), and so was a temporary file
    (``.<name>.<pid>.<random>.tmp``) that nobody holds: killed before the rename.
    """
    path = Path(path)
    fd, tmp = _tmp_beside(path)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, content)
        move_into_place(tmp, path)  # a reaper never sees it unlocked
        try:
            yield
        finally:
            path.unlink(missing_ok=True)
    finally:
        tmp.unlink(missing_ok=True)
        os.close(fd)


_SAYS_SOMETHING = re.compile(r"\w")


def one_line(
    text: object, *, first: bool = False, last: bool = False, secret: str | None = None
) -> str:
    """``text`` on one line, whitespace collapsed: for messages shown to a user or kept in
    metadata. ``first``: its first line that says something (a letter or a digit), an
    error's summary without the details below it; ``last``: its last such line, the root
    cause at the end of a chained error (DuckDB ends its messages with a caret line, which
    says nothing). ``secret``: replaced by ``***`` (a password in a server's reply)."""
    value = str(text)
    if first or last:
        lines = [line for line in value.splitlines() if _SAYS_SOMETHING.search(line)]
        value = (lines[0] if first else lines[-1]) if lines else ""
    value = " ".join(value.split())
    if secret:
        value = value.replace(secret, "***")
    return value
