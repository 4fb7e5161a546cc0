"""Kaggle ``Cornell-University/arxiv`` metadata snapshot
(``arxiv-metadata-oai-snapshot.json``): JSON Lines, one paper per line.

``parse_snapshot`` reads a listing-sized file; ``iter_snapshot`` streams the multi-GB
dump line by line for bulk import (optionally keeping some categories only), never
holding more than one line and the set of arXiv ids kept so far.
"""

from __future__ import annotations

import gzip
import json
import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from transforms.formats._common import EntrySink, int_field, iso_date, rfc2822_date, text_field
from transforms.formats.arxiv import split_authors
from transforms.records import ListingRecord, ParseResult, Rejection, fold_ws, split_arxiv_id

__all__ = ["DATE_FIELDS", "is_snapshot_record", "iter_snapshot", "parse_snapshot"]

DATE_FIELDS = ("v1", "update_date")
# The categories of a line, read without decoding the JSON (to skip unwanted lines fast).
_CATEGORIES_RE = re.compile(r'"categories"\s*:\s*"([^"\\]*)"')
_CATEGORIES_RE_B = re.compile(rb'"categories"\s*:\s*"([^"\\]*)"')
_SNAPSHOT_KEYS = frozenset({"versions", "authors_parsed", "update_date"})


def is_snapshot_record(value: object) -> bool:
    """Does a decoded JSON value look like one line of the snapshot?"""
    return (
        isinstance(value, dict)
        and "id" in value
        and "abstract" in value
        and bool(_SNAPSHOT_KEYS & value.keys())
    )


def _wanted(categories: str, wanted: frozenset[str]) -> bool:
    """A category matches itself or its archive ("cs" keeps "cs.LG")."""
    return any(c in wanted or c.partition(".")[0] in wanted for c in categories.split())


def _open_lines(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as head:
        gz = head.read(2) == b"\x1f\x8b"
    with gzip.open(path, "rb") if gz else open(path, "rb") as handle:
        yield from handle


def iter_snapshot(
    path_or_lines: str | os.PathLike | Iterable[str | bytes],
    categories: set[str] | None = None,
    date_field: str = "v1",
    *,
    dedupe: bool = True,
) -> Iterator[ListingRecord | Rejection]:
    """Records (and rejections of bad lines) of a snapshot file or of its lines.

    ``categories``: keep a paper if any of its categories is in the set (an archive name
    such as "cs" or "math" keeps all of its categories); lines of other papers are
    skipped without decoding. ``date_field``: "v1" sets ``published`` to the first
    version's date, "update_date" to that column. ``dedupe``: reject a repeated arXiv id
    (costs memory for every kept id; turn off for a dump known to be unique).
    A gzip-compressed file is read as such.
    """
    if date_field not in DATE_FIELDS:
        raise ValueError(f"date_field must be one of {DATE_FIELDS}, not {date_field!r}")
    if isinstance(path_or_lines, str | os.PathLike):
        lines: Iterable[str | bytes] = _open_lines(Path(path_or_lines))
    else:
        lines = path_or_lines
    sink = EntrySink("arxiv_snapshot", label="line", dedupe=dedupe)
    wanted = frozenset(categories) if categories is not None else None
    for number, line in enumerate(lines, start=1):
        out = _read_line(sink, number, line, wanted, date_field, store=False)
        if out is not None:
            yield out


def parse_snapshot(text: str) -> ParseResult:
    """Parse decoded snapshot text (JSON Lines). Never raises on content."""
    sink = EntrySink("arxiv_snapshot", label="line")
    for number, line in enumerate(text.split("\n"), start=1):
        _read_line(sink, number, line, None, "v1", store=True)
    return sink.result


def _read_line(
    sink: EntrySink,
    number: int,
    line: str | bytes,
    wanted: frozenset[str] | None,
    date_field: str,
    *,
    store: bool,
) -> ListingRecord | Rejection | None:
    lines = (number,)
    if wanted is not None:
        pattern = _CATEGORIES_RE_B if isinstance(line, bytes) else _CATEGORIES_RE
        match = pattern.search(line)  # type: ignore[arg-type]
        if match is not None:
            cats = match.group(1)
            if not _wanted(
                cats.decode("ascii", "replace") if isinstance(cats, bytes) else cats, wanted
            ):
                return None
    if isinstance(line, bytes):
        try:
            line = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            raw = line.decode("utf-8", errors="replace").strip()
            return sink.reject(number, raw, f"not UTF-8 text ({exc.reason})", lines, store=store)
    line = line.strip()
    if not line:
        return None
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        return sink.reject(number, line, f"not valid JSON ({exc.msg})", lines, store=store)
    except RecursionError:
        return sink.reject(number, line, "not valid JSON (nested too deeply)", lines, store=store)
    if not isinstance(data, dict):
        what = type(data).__name__
        return sink.reject(number, line, f"not a JSON object (a {what})", lines, store=store)
    raw_id = data.get("id")
    if not isinstance(raw_id, str) or not raw_id.strip():
        return sink.reject(number, line, "no id", lines, store=store)
    arxiv_id, id_version = split_arxiv_id(raw_id)
    if arxiv_id is None:
        return sink.reject(
            number, line, f"id {raw_id[:60]!r} is not an arXiv id", lines, store=store
        )
    cats = tuple(data["categories"].split()) if isinstance(data.get("categories"), str) else ()
    if wanted is not None and not _wanted(" ".join(cats), wanted):
        return None
    title = text_field(data.get("title"))
    if not title:
        return sink.reject(number, line, "no title", lines, store=store)
    abstract = text_field(data.get("abstract"))
    if not abstract:
        return sink.reject(number, line, "no abstract", lines, store=store)

    versions = data.get("versions")
    versions = [v for v in versions if isinstance(v, dict)] if isinstance(versions, list) else []
    if date_field == "v1":
        published = rfc2822_date(versions[0].get("created")) if versions else None
    else:
        published = iso_date(data.get("update_date"))
    version = id_version
    if versions:
        last = versions[-1].get("version")
        version = int_field(last.lstrip("vV")) if isinstance(last, str) else version

    return sink.add(
        number,
        line,
        title,
        abstract,
        arxiv_id,
        lines,
        store=store,
        arxiv_id=arxiv_id,
        arxiv_version=version,
        authors=_authors(data),
        categories=cats,
        url=f"https://arxiv.org/abs/{arxiv_id}",
        published=published,
    )


def _authors(data: dict) -> tuple[str, ...]:
    parsed = data.get("authors_parsed")
    if isinstance(parsed, list) and parsed:
        names = []
        for item in parsed:
            if not isinstance(item, list) or not item:
                continue
            # [last, first, suffix]; a 4th item (an affiliation) is ignored.
            last, first, suffix = [*item, "", "", ""][:3]
            name = fold_ws(" ".join(p for p in (first, last, suffix) if isinstance(p, str) and p))
            if name:
                names.append(name)
        if names:
            return tuple(names)
    authors = data.get("authors")
    return tuple(split_authors(authors)) if isinstance(authors, str) else ()
