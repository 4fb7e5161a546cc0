"""Files written once, the same way everywhere: atomic writes, their leftovers swept, and
messages on one line.

An atomic write goes to a temporary file in the target's folder, is fsynced, then renamed:
a reader (or a crash) sees the old file or the new one, never half of one. Temporary files
are named ``.<name>.<pid>.<random>.tmp`` so a later run can tell a dead writer's leftovers
from a live one's (:func:`sweep_stale_tmp`).
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
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
