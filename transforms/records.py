"""What every listing parser returns: paper records, quarantined rejections, and helpers
for the identifiers and text that several formats share.

A parser never raises on content: every entry of a file ends up in a ``ListingRecord``,
a ``Rejection`` (with a reason a person can act on) or, for page text, the ``chrome`` list
(page UI text dropped on purpose). Only an unusable *file* raises ``ListingFileError``
with a one-line message naming it and saying what it is ("x.pdf: PDF document, not a
listing").
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field

__all__ = [
    "CARD_ABSTRACT_CHARS",
    "CARD_TITLE_CHARS",
    "PAPER_ID_REGEX",
    "ListingFileError",
    "ListingRecord",
    "ParseResult",
    "Rejection",
    "card_out_of_bounds",
    "fold_ws",
    "github_repo_url",
    "split_arxiv_id",
]

# Bounds of a card's title and abstract, as the raw-listings quality gate checks them
# (expectations/raw_listings.py): a record outside them is quarantined, so that one odd
# record does not stop the whole day's listing at the gate.
CARD_TITLE_CHARS = (5, 400)
CARD_ABSTRACT_CHARS = (50, 10_000)
# papers.paper_id: "arxiv:<id>" when the arXiv id is known, else 16 hex digits of md5 over
# the folded title (dbt macro paper_id).
PAPER_ID_REGEX = r"^(arxiv:(\d{4}\.\d{4,5}|[a-z][a-z.-]*[a-z](\.[A-Z]{2})?/\d{7})|[0-9a-f]{16})$"


class ListingFileError(Exception):
    """A listing file that cannot be used at all (its message is one line, naming the file)."""


@dataclass(frozen=True)
class ListingRecord:
    """One paper of a listing, with whatever the format tells about it.

    ``position`` is the 1-based rank in the file (repeated cards not counted). Fields a
    format does not carry stay None / empty.
    """

    position: int
    title: str
    abstract: str
    raw_text: str  # the lines (or the JSON/XML entry) the record was read from
    first_line: int  # 1-based line number in the file (entry index for JSON)
    lines: tuple[int, ...] = ()  # 1-based numbers of every line the record was read from
    arxiv_id: str | None = None  # without version: "2401.01234", "hep-th/9901001"
    arxiv_version: int | None = None  # 2 for "2401.01234v2"
    authors: tuple[str, ...] = ()
    author_count: int | None = None  # when only a count is shown ("· 5 authors")
    categories: tuple[str, ...] = ()  # arXiv categories, primary first when known
    upvotes: int | None = None  # HF upvotes as seen in this listing
    github_url: str | None = None  # https://github.com/<owner>/<repo>
    github_stars: int | None = None
    project_url: str | None = None
    url: str | None = None  # the paper's page (arxiv.org/abs/<id> or hf.co/papers/<id>)
    published: dt.date | None = None  # arXiv v1 date
    announce_type: str | None = None  # arXiv feeds: new, cross, replace, replace-cross
    organization: str | None = None  # HF: the submitting organisation
    ai_keywords: tuple[str, ...] = ()  # HF API ai_keywords
    summary_is_ai: bool = False  # the abstract is an AI one-sentence summary, not the abstract


@dataclass(frozen=True)
class Rejection:
    line: int  # 1-based line number (or entry index) of the first quarantined line
    raw_text: str
    reason: str
    lines: tuple[int, ...] = ()  # 1-based numbers of every quarantined line


@dataclass
class ParseResult:
    records: list[ListingRecord] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    # Page text only: line numbers of dropped page chrome and card metadata lines, and of
    # lines made only of invisible or control characters.
    chrome: list[int] = field(default_factory=list)
    encoding: str = "utf-8"
    warnings: list[str] = field(default_factory=list)
    format: str = "hf_page_text"  # see transforms.formats.FORMATS


def fold_ws(text: str | None) -> str:
    """NFC, whitespace runs (hard wraps included) folded to one space, trimmed."""
    if not text:
        return ""
    return " ".join(unicodedata.normalize("NFC", text).split())


# New scheme "2401.01234" / "0704.0001" (+ "v2"), old scheme "hep-th/9901001" / "math.CO/0501001".
_ARXIV_ID_RE = re.compile(
    r"(?P<id>\d{4}\.\d{4,5}|[a-z][a-z.-]*[a-z](?:\.[A-Z]{2})?/\d{7})(?:v(?P<v>\d+))?",
    re.IGNORECASE,
)


def split_arxiv_id(text: str | None) -> tuple[str | None, int | None]:
    """("2401.01234", 2) from "2401.01234v2", "arXiv:2401.01234v2", "oai:arXiv.org:...",
    "https://arxiv.org/abs/2401.01234v2", "hf.co/papers/2401.01234"; (None, None) if none."""
    if not text:
        return None, None
    match = _ARXIV_ID_RE.search(text.strip())
    if not match:
        return None, None
    version = match.group("v")
    return match.group("id"), int(version) if version else None


_GITHUB_RE = re.compile(r"(?:https?://)?(?:www\.)?github\.com/([\w.-]+)/([\w.-]+)", re.IGNORECASE)


def github_repo_url(text: str | None) -> str | None:
    """``https://github.com/<owner>/<repo>`` of the first GitHub repository link, else None."""
    if not text:
        return None
    match = _GITHUB_RE.search(text)
    if not match:
        return None
    owner, repo = match.group(1), match.group(2).removesuffix(".git").rstrip(".")
    if not repo or owner.lower() in {"orgs", "topics", "features", "about"}:
        return None
    return f"https://github.com/{owner}/{repo}"


def card_out_of_bounds(title: str, abstract: str) -> str | None:
    """Why a title/abstract pair cannot be kept as a record, or None if it can."""
    for what, text, (low, high) in (
        ("title", title, CARD_TITLE_CHARS),
        ("abstract", abstract, CARD_ABSTRACT_CHARS),
    ):
        if len(text) < low:
            return f"{what} of {len(text):,} characters is shorter than {low:,}"
        if len(text) > high:
            return f"{what} of {len(text):,} characters is longer than {high:,}"
    return None
