"""Bulk history: split an arXiv metadata snapshot into one landing file per listing date.

Each kept paper is listed on its v1 date (or the ``update_date`` column), so a year of
history lands as ``landing/<date>/arxiv-snapshot-<name>.jsonl`` files holding the
snapshot's own lines, which ingest then parses like any other snapshot file. The dump is
streamed (multi-GB files, gzip too): lines are buffered per date and appended to hidden
temporary files when the buffer grows (:func:`transforms.files.new_tmp_file`), and every
date's file is renamed into place at the end, so an interrupted import leaves no partial
landing file.
"""

from __future__ import annotations

import datetime as dt
import gzip
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from transforms.files import move_into_place, new_tmp_file
from transforms.formats.snapshot import iter_snapshot
from transforms.records import ListingRecord, Rejection

FLUSH_BYTES = 32 * 1024 * 1024


@dataclass
class ImportSummary:
    lines: int = 0
    bytes_read: int = 0  # of the file as stored (compressed bytes for a .gz)
    papers: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    undated: int = 0
    out_of_range: int = 0
    files: dict[dt.date, Path] = field(default_factory=dict)
    per_date: dict[dt.date, int] = field(default_factory=dict)

    @property
    def dates(self) -> tuple[dt.date, dt.date] | None:
        return (min(self.per_date), max(self.per_date)) if self.per_date else None


def _lines(path: Path, summary: ImportSummary) -> Iterator[bytes]:
    with open(path, "rb") as head:
        gz = head.read(2) == b"\x1f\x8b"
    with open(path, "rb") as raw:
        if gz:
            with gzip.GzipFile(fileobj=raw) as handle:
                for line in handle:
                    summary.lines += 1
                    summary.bytes_read = raw.tell()
                    yield line
        else:
            for line in raw:
                summary.lines += 1
                summary.bytes_read += len(line)
                yield line


def split_snapshot(
    snapshot: Path,
    landing: Path,
    *,
    categories: set[str] | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    date_field: str = "v1",
    progress: Callable[[ImportSummary], None] | None = None,
) -> ImportSummary:
    """Write the snapshot's papers into ``landing/<date>/``; what was kept, per date.

    ``progress`` is called every 10,000 lines read.
    """
    snapshot = Path(snapshot)
    name = f"arxiv-snapshot-{snapshot.name.removesuffix('.gz').removesuffix('.jsonl')}.jsonl"
    summary = ImportSummary()
    buffers: dict[dt.date, list[bytes]] = defaultdict(list)
    buffered = 0
    temps: dict[dt.date, Path] = {}

    def flush() -> None:
        nonlocal buffered
        for day, chunk in buffers.items():
            if day not in temps:
                temps[day] = new_tmp_file(landing / day.isoformat() / name)
            with open(temps[day], "ab") as handle:
                handle.writelines(chunk)
        buffers.clear()
        buffered = 0

    # iter_snapshot reads the tee'd lines one at a time, so when it yields a record the
    # last line read is that record's line: it is written as it was, not re-serialised.
    last: list[bytes] = [b""]

    def tee() -> Iterator[bytes]:
        for line in _lines(snapshot, summary):
            last[0] = line
            if progress is not None and summary.lines % 10_000 == 0:
                progress(summary)
            yield line

    try:
        for out in iter_snapshot(tee(), categories, date_field):
            if not isinstance(out, ListingRecord):
                summary.rejected.append(out)
                continue
            day = out.published
            if day is None:
                summary.undated += 1
                continue
            if (date_from and day < date_from) or (date_to and day > date_to):
                summary.out_of_range += 1
                continue
            line = last[0] if last[0].endswith(b"\n") else last[0] + b"\n"
            buffers[day].append(line)
            buffered += len(line)
            summary.papers += 1
            summary.per_date[day] = summary.per_date.get(day, 0) + 1
            if buffered >= FLUSH_BYTES:
                flush()
        flush()
        for day, tmp in temps.items():
            summary.files[day] = move_into_place(tmp, tmp.with_name(name))
    finally:
        for tmp in temps.values():
            tmp.unlink(missing_ok=True)
    if progress is not None:
        progress(summary)
    return summary
