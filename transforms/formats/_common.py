"""What the structured-format parsers share: turning candidate entries into records or
rejections (bounds, duplicates, positions) and small type-safe field readers."""

from __future__ import annotations

import datetime as dt
import email.utils
import re

from transforms.records import (
    ListingRecord,
    ParseResult,
    Rejection,
    card_out_of_bounds,
    fold_ws,
)

# raw_text of a record or rejection is capped: enough to see what the entry was.
RAW_TEXT_CHARS = 20_000


def cap(text: str) -> str:
    return text if len(text) <= RAW_TEXT_CHARS else text[:RAW_TEXT_CHARS]


class EntrySink:
    """Collects the entries of one file in order.

    ``label`` names an entry in reasons ("entry 3", "line 7"). A kept record gets the next
    1-based position; a record outside the card bounds or repeating an earlier arXiv id
    becomes a Rejection instead. ``add`` and ``reject`` return what they made, so a
    streaming reader can yield it.
    """

    def __init__(self, fmt: str, label: str = "entry", dedupe: bool = True) -> None:
        self.result = ParseResult(format=fmt)
        self.label = label
        self.dedupe = dedupe
        self._seen: dict[str, int] = {}
        self._kept = 0

    def reject(
        self, index: int, raw: str, reason: str, lines: tuple[int, ...] = (), *, store: bool = True
    ) -> Rejection:
        rejection = Rejection(index, cap(raw), f"{self.label} {index}: {reason}", lines)
        if store:
            self.result.rejections.append(rejection)
        return rejection

    def add(
        self,
        index: int,
        raw: str,
        title: str,
        abstract: str,
        key: str | None,
        lines: tuple[int, ...] = (),
        *,
        store: bool = True,
        **fields,
    ) -> ListingRecord | Rejection:
        """A record for one entry, or a Rejection if it cannot be kept. ``key`` is the
        entry's identity within the file (its arXiv id) for duplicate detection."""
        out_of_bounds = card_out_of_bounds(title, abstract)
        if out_of_bounds:
            rejection = Rejection(
                index, cap(raw), f"{self.label} {index} not kept: {out_of_bounds}", lines
            )
        elif self.dedupe and key is not None and key in self._seen:
            rejection = Rejection(
                index,
                cap(raw),
                f"duplicate entry: same arXiv id as position {self._seen[key]} "
                f"({self.label} {index}, {key})",
                lines,
            )
        else:
            self._kept += 1
            if self.dedupe and key is not None:
                self._seen[key] = self._kept
            record = ListingRecord(self._kept, title, abstract, cap(raw), index, lines, **fields)
            if store:
                self.result.records.append(record)
            return record
        if store:
            self.result.rejections.append(rejection)
        return rejection


def text_field(value: object) -> str:
    """Folded text of a string field; "" for a missing or non-string value."""
    return fold_ws(value) if isinstance(value, str) else ""


def int_field(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def url_field(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value if re.match(r"https?://\S+$", value) else None


def iso_date(value: object) -> dt.date | None:
    """The calendar date of an ISO 8601 stamp, in the stamp's own offset."""
    if not isinstance(value, str) or not value.strip():
        return None
    value = value.strip()
    try:
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).date()
    except ValueError:
        pass
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None


def rfc2822_date(value: object) -> dt.date | None:
    """The calendar date of an RFC 822/2822 stamp ("Mon, 2 Apr 2007 19:18:42 GMT")."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return email.utils.parsedate_to_datetime(value.strip()).date()
    except (TypeError, ValueError, IndexError):
        return None


def any_date(value: object) -> dt.date | None:
    return iso_date(value) or rfc2822_date(value)
