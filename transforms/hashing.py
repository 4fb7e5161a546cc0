"""One content hash for the publish path (feed entries, Message-IDs, the send ledger)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable


def sha256_parts(parts: Iterable[str | bytes]) -> str:
    """Hex SHA-256 of ``parts`` in order, each length-prefixed (8 bytes, big-endian) so the
    boundaries count: ``("ab", "c")`` and ``("a", "bc")`` differ. Text is hashed as UTF-8."""
    h = hashlib.sha256()
    for part in parts:
        chunk = part.encode() if isinstance(part, str) else part
        h.update(len(chunk).to_bytes(8, "big") + chunk)
    return h.hexdigest()
