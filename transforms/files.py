"""Atomic file writes: a temporary file in the target's folder, fsync, then rename.

A reader (or a crash) sees the old file or the new one, never half of one. Temporary
files are named ``.<name>.<pid>.<random>.tmp`` so a later run can tell a dead writer's
leftovers from a live one's (see ``transforms.publish.sweep_stale_tmp``).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

FILE_MODE = 0o644  # readable output (mkstemp alone would leave 0600)


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
