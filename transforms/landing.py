"""Read one listing date's landing folder into raw listing, quarantine and file frames.

Every file is parsed by format (detected from its content, see transforms.formats). The
hidden sidecars that fetching writes beside the files (``.fetch-<source>.json``) say
where a file came from, and record a fetch that found no listing published that day.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from transforms.errors import UserError
from transforms.files import link_into_place, new_tmp_file
from transforms.formats import parse_file
from transforms.listing import file_sha256
from transforms.records import ListingFileError, ListingRecord

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
    "format": pl.String,
    "source": pl.String,
    "arxiv_id": pl.String,
    "arxiv_version": pl.Int32,
    "authors": pl.List(pl.String),
    "author_count": pl.Int32,
    "categories": pl.List(pl.String),
    "upvotes": pl.Int32,
    "github_url": pl.String,
    "github_stars": pl.Int32,
    "project_url": pl.String,
    "url": pl.String,
    "published": pl.Date,
    "announce_type": pl.String,
    "organization": pl.String,
    "ai_keywords": pl.List(pl.String),
    "summary_is_ai": pl.Boolean,
}
# The record fields stored as they are (the rest of LISTING_SCHEMA is the file's).
_RECORD_METADATA = tuple(list(LISTING_SCHEMA)[10:])
LANDED_FILES_SCHEMA = {
    "listing_date": pl.Date,
    "source_file": pl.String,
    "file_sha256": pl.String,
    "format": pl.String,
    "source": pl.String,
    "records": pl.Int32,
    "rejected": pl.Int32,
    "note": pl.String,
    "fetched_url": pl.String,
    "http_status": pl.Int32,
    "fetched_at": pl.Datetime("us"),
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
    format: str | None = None


@dataclass
class DayBatch:
    listing_date: dt.date
    listings: pl.DataFrame
    rejected: pl.DataFrame
    files: list[FileSummary]
    landed: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=LANDED_FILES_SCHEMA))
    # Fetches that found no listing published for the date: (source, message).
    no_listing: list[tuple[str, str]] = field(default_factory=list)

    @property
    def papers(self) -> int:
        return self.listings.height


def source_of(fmt: str | None) -> str | None:
    """The source a format belongs to: hf_page (pasted or saved pages), hf_api, arxiv
    (API and announcement feeds) or arxiv_snapshot (bulk history)."""
    if fmt is None:
        return None
    for prefix in ("hf_page", "hf_api", "arxiv_snapshot"):
        if fmt.startswith(prefix):
            return prefix
    return "arxiv"


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


def fetch_sidecars(folder: Path) -> list[dict]:
    """The fetch sidecars of a landing folder (``.fetch-<source>.json``), unreadable ones
    skipped: a sidecar only describes files, it never decides what is ingested."""
    out = []
    for path in sorted(folder.glob(".fetch-*.json")) if folder.is_dir() else []:
        try:
            sidecar = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(sidecar, dict):
            out.append(sidecar | {"_name": path.name})
    return out


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


def _record_row(rec: ListingRecord, fmt: str) -> dict:
    row = {name: getattr(rec, name) for name in _RECORD_METADATA if hasattr(rec, name)}
    for name in ("authors", "categories", "ai_keywords"):
        row[name] = list(row.get(name) or ()) or None
    return row | {"format": fmt, "source": source_of(fmt)}


def _parse_ts(value: object) -> dt.datetime | None:
    try:
        stamp = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return stamp.astimezone(dt.UTC).replace(tzinfo=None) if stamp.tzinfo else stamp


def read_landing_day(folder: Path, listing_date: dt.date, now: dt.datetime) -> DayBatch:
    """Parse every file of one landing folder. Never raises for a bad file.

    Each file's good records are kept; its unparseable parts, an unusable file (named for
    what it is: "PDF document, not a listing"), a file with nothing in it but blank lines
    and page chrome, or a file whose bytes equal an earlier file of the same day go to
    the quarantine frame: every file ends up with records or at least one quarantine row,
    and one row in the landed-files frame.
    """
    listings: list[dict] = []
    rejected: list[dict] = []
    summaries: list[FileSummary] = []
    seen_sha: dict[str, str] = {}
    for path in listing_files(folder):
        name = display_name(path)
        base = {"listing_date": listing_date, "source_file": name, "ingested_at": now}
        try:
            result, sha = parse_file(path)
        except ListingFileError as exc:
            # The parser names the file as the OS gave it; report the printable name.
            reason = str(exc).replace(path.name, name, 1)
            rejected.append(
                base | {"file_sha256": None, "position": 0, "raw_text": "", "reason": reason}
            )
            summaries.append(FileSummary(name, None, 0, 1, error=reason))
            continue
        if sha in seen_sha:
            reason = f"{name}: same content as {seen_sha[sha]}, landed twice: skipped"
        elif not result.records and not result.rejections:
            reason = _no_cards_reason(name, len(result.chrome))
        else:
            reason = None
        if reason is not None:
            rejected.append(
                base | {"file_sha256": sha, "position": 0, "raw_text": "", "reason": reason}
            )
            summaries.append(
                FileSummary(name, sha, 0, 1, result.encoding, reason, format=result.format)
            )
            continue
        seen_sha[sha] = name
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
                | _record_row(rec, result.format)
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
                format=result.format,
            )
        )
    landed, no_listing = _landed_files(folder, listing_date, now, summaries)
    return DayBatch(
        listing_date,
        pl.DataFrame(listings, schema=LISTING_SCHEMA),
        pl.DataFrame(rejected, schema=REJECTED_SCHEMA),
        summaries,
        landed,
        no_listing,
    )


def _landed_files(
    folder: Path, listing_date: dt.date, now: dt.datetime, summaries: list[FileSummary]
) -> tuple[pl.DataFrame, list[tuple[str, str]]]:
    """One row per file (with its fetch provenance when a sidecar names it), plus one per
    fetch that found no listing published for the date."""
    fetched: dict[str, dict] = {}
    rows: list[dict] = []
    no_listing: list[tuple[str, str]] = []
    base = {"listing_date": listing_date, "ingested_at": now}
    for sidecar in fetch_sidecars(folder):
        source = str(sidecar.get("source") or sidecar["_name"])
        when = _parse_ts(sidecar.get("fetched_at"))
        for entry in sidecar.get("files") or []:
            if isinstance(entry, dict) and entry.get("file"):
                fetched[str(entry["file"])] = {
                    "source": source,
                    "fetched_url": entry.get("url"),
                    "http_status": entry.get("http_status"),
                    "fetched_at": when,
                }
        if sidecar.get("status") == "no_listing":
            message = str(sidecar.get("message") or f"{source} published no listing")
            no_listing.append((source, message))
            rows.append(
                base
                | {
                    "source_file": sidecar["_name"],
                    "source": source,
                    "records": 0,
                    "rejected": 0,
                    "note": f"no listing published: {message}",
                    "fetched_url": next(
                        (f.get("url") for f in sidecar.get("files") or [] if isinstance(f, dict)),
                        None,
                    ),
                    "fetched_at": when,
                }
            )
    for f in summaries:
        provenance = fetched.get(f.name, {})
        rows.append(
            base
            | {
                "source_file": f.name,
                "file_sha256": f.sha256,
                "format": f.format,
                "records": f.records,
                "rejected": f.rejected,
                "note": f.error,
            }
            | provenance
            | {"source": provenance.get("source") or source_of(f.format)}
        )
    return pl.DataFrame(rows, schema=LANDED_FILES_SCHEMA), no_listing


# --------------------------------------------------------------------------------------------
# Landing files given by a user (``papertrends run --listing FILE``)
# --------------------------------------------------------------------------------------------


class LandingError(UserError):
    """A listing file that cannot land (missing, unreadable, or the folder is not writable)."""


def safe_name(name: str) -> str:
    """A listing's file name as a plain name inside landing/<date>/ (never a path).

    Only the last path component is kept ("../../x.txt" and "..\\..\\x.txt" are "x.txt").
    Bytes that are not UTF-8 become U+FFFD and control characters are dropped; leading
    dots, tildes and spaces are stripped (the landing reader skips hidden and backup
    files); a long name is shortened so that a numbered suffix and the ".tmp" of the copy
    still fit the file system's 255 bytes.
    """
    max_bytes = 200
    name = os.fsencode(name).decode("utf-8", errors="replace")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = re.sub(r"[\x00-\x1f\x7f]", "", name).strip().lstrip(".~ ").strip()
    if len(name.encode()) > max_bytes:
        suffix = Path(name).suffix
        if len(suffix.encode()) > 16:
            suffix = ""
        stem = name[: len(name) - len(suffix)]
        budget = max_bytes - len(suffix.encode())
        name = stem.encode()[:budget].decode("utf-8", errors="ignore").rstrip() + suffix
    return name if name.strip(".") else "listing.txt"


def land_files(folder: Path, files: Sequence[Path]) -> list[Path]:
    """Copy listing files into ``folder`` (a date's landing/<date>/), atomically (copy, then
    link in); the landed paths, in order.

    A file already landed with the same name and bytes is left as it is; a different file
    with a taken name gets a numbered suffix, so nothing that landed before is overwritten.
    Every file lands under a plain, safe name inside the folder (see :func:`safe_name`).
    Nothing lands unless every file is readable (:class:`LandingError` otherwise).
    """
    for source in files:
        if not source.is_file():
            raise LandingError(f"listing file not found: {source}")
        if not os.access(source, os.R_OK):
            raise LandingError(f"listing file not readable: {source}")
    landed = []
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for source in files:
            source_sha = file_sha256(source.read_bytes())
            name = safe_name(source.name)
            target = folder / name
            stem, suffix = Path(name).stem, Path(name).suffix
            counter = 2
            while True:
                if target.exists():
                    if target.is_file() and file_sha256(target.read_bytes()) == source_sha:
                        break  # landed before
                    target = folder / f"{stem}-{counter}{suffix}"
                    counter += 1
                    continue
                # Copied to a hidden temporary name, then linked in: that fails instead of
                # overwriting when a concurrent run landed the same name meanwhile.
                tmp = new_tmp_file(target)
                try:
                    shutil.copyfile(source, tmp)
                    link_into_place(tmp, target)
                    break
                except FileExistsError:
                    continue
                finally:
                    tmp.unlink(missing_ok=True)
            landed.append(target)
    except OSError as exc:
        where = f" ({exc.filename})" if exc.filename else ""
        raise LandingError(
            f"cannot land listing files in {folder}: {exc.strerror or exc}{where}"
        ) from None
    return landed
