"""Read one listing date's landing folder into raw listing and quarantine frames."""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from transforms.listing import ListingFileError, parse_listing_file

DATE_FOLDER_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

LISTING_SCHEMA = {
    "listing_date": pl.Date,
    "source_file": pl.String,
    "file_sha256": pl.String,
    "position": pl.Int32,
    "title": pl.String,
    "abstract": pl.String,
    "raw_text": pl.String,
    "ingested_at": pl.Datetime("us"),
}
REJECTED_SCHEMA = {
    "listing_date": pl.Date,
    "source_file": pl.String,
    "file_sha256": pl.String,
    "position": pl.Int32,
    "raw_text": pl.String,
    "reason": pl.String,
    "ingested_at": pl.Datetime("us"),
}


@dataclass
class FileSummary:
    name: str
    sha256: str | None
    records: int
    rejected: int
    encoding: str | None = None
    error: str | None = None
    warnings: list[str] = field(default_factory=list)


@dataclass
class DayBatch:
    listing_date: dt.date
    listings: pl.DataFrame
    rejected: pl.DataFrame
    files: list[FileSummary]


def parse_date_folder(name: str) -> dt.date | None:
    """The listing date a landing folder stands for, or None if the name is not a date."""
    if not DATE_FOLDER_RE.match(name):
        return None
    try:
        return dt.date.fromisoformat(name)
    except ValueError:
        return None


def listing_files(folder: Path) -> list[Path]:
    """Regular, non-hidden files of a landing folder, in name order."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith((".", "~")))


def display_name(path: Path) -> str:
    """A file's name as valid UTF-8 text (for the warehouse and the logs).

    On POSIX a file name is bytes: one that is not UTF-8 comes back from the OS with
    surrogate escapes, which no UTF-8 column can hold. Its bad bytes are written as \\xNN, and
    control characters (a newline in a name) a visible escape, so the name stays one line.
    """
    name = os.fsencode(path.name).decode("utf-8", errors="backslashreplace")
    return re.sub(r"[\x00-\x1f\x7f]", lambda m: f"\\x{ord(m.group()):02x}", name)


def _no_cards_reason(name: str, chrome_lines: int) -> str:
    if chrome_lines:
        return f"{name}: no paper cards, only page chrome ({chrome_lines} line(s))"
    return f"{name}: empty file, no paper cards"


def _quarantine_file(
    rejected: list[dict],
    summaries: list[FileSummary],
    base: dict,
    reason: str,
    sha: str | None,
    encoding: str | None,
) -> None:
    """One quarantine row standing for a whole file (no card of it is kept)."""
    rejected.append(base | {"file_sha256": sha, "position": 0, "raw_text": "", "reason": reason})
    summaries.append(FileSummary(base["source_file"], sha, 0, 1, encoding=encoding, error=reason))


def read_landing_day(folder: Path, listing_date: dt.date, now: dt.datetime) -> DayBatch:
    """Parse every file of one landing folder. Never raises for a bad file.

    Each file's good records are kept; its unparseable parts, an unusable file, a file
    with nothing in it but blank lines and page chrome, or a file whose bytes equal an
    earlier file of the same day go to the quarantine frame: every file ends up with
    records or at least one quarantine row.
    """
    listings: list[dict] = []
    rejected: list[dict] = []
    summaries: list[FileSummary] = []
    seen_sha: dict[str, str] = {}
    for path in listing_files(folder):
        name = display_name(path)
        base = {"listing_date": listing_date, "source_file": name, "ingested_at": now}
        try:
            result, sha = parse_listing_file(path)
        except ListingFileError as exc:
            # The parser names the file as the OS gave it; report the printable name.
            reason = str(exc).replace(path.name, name, 1)
            _quarantine_file(rejected, summaries, base, reason, None, None)
            continue
        if sha in seen_sha:
            reason = f"{name}: same content as {seen_sha[sha]}, landed twice: skipped"
            _quarantine_file(rejected, summaries, base, reason, sha, None)
            continue
        seen_sha[sha] = name
        if not result.records and not result.rejections:
            reason = _no_cards_reason(name, len(result.chrome))
            _quarantine_file(rejected, summaries, base, reason, sha, result.encoding)
            continue
        for rec in result.records:
            listings.append(
                base
                | {
                    "file_sha256": sha,
                    "position": rec.position,
                    "title": rec.title,
                    "abstract": rec.abstract,
                    "raw_text": rec.raw_text,
                }
            )
        for rej in result.rejections:
            rejected.append(
                base
                | {
                    "file_sha256": sha,
                    "position": rej.line,
                    "raw_text": rej.raw_text,
                    "reason": rej.reason,
                }
            )
        summaries.append(
            FileSummary(
                name,
                sha,
                len(result.records),
                len(result.rejections),
                encoding=result.encoding,
                warnings=list(result.warnings),
            )
        )
    return DayBatch(
        listing_date,
        pl.DataFrame(listings, schema=LISTING_SCHEMA),
        pl.DataFrame(rejected, schema=REJECTED_SCHEMA),
        summaries,
    )
