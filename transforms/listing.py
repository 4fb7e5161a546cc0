"""Parse the text of a Hugging Face Papers page (pasted or saved) into paper records.

A page is a stream of lines: page chrome ("Get trending papers in your email inbox!",
"Subscribe", "Daily Papers", navigation), then paper cards. A card has a title and a blurb
(the abstract, or a one-sentence AI summary), and on most layouts card metadata around
them, in an order that differs between the daily, trending and search pages: "Submitted
by" and the submitter, "· 4 authors", "Kandinsky Lab · Published on Oct 4, 2026", "Upvote"
and a count (the daily page puts the count, or "-", before the title), "GitHub 3.29k",
"arXiv Page". The trending page shows every card twice (desktop and mobile layouts).
Pages saved as Markdown are first turned back into text (``transforms.page_markdown``);
their links still tell the arXiv id, the paper's page and the GitHub repository.

The parser never raises on content. Every non-blank input line ends up in exactly one of
three places: a ``ListingRecord`` (its title and abstract lines), a ``Rejection``
(quarantine, with a reason) or the ``chrome`` list (page UI text and card metadata, which
is dropped on purpose, its facts kept in the record it belongs to; the second copies of
a page that shows every card twice). Only an unusable *file* (binary data, unreadable,
larger than ``MAX_FILE_BYTES``) raises ``ListingFileError`` with a one-line message
naming it. A card whose title or abstract is outside the bounds the raw-listings gate
checks (``CARD_TITLE_CHARS``, ``CARD_ABSTRACT_CHARS``) is quarantined rather than kept.

How wrapped lines are rejoined: wrapping is judged per paragraph, not per file. Runs of
adjacent text lines (no blank, chrome or metadata line between) are looked at one by
one: a run is hard-wrapped at width W when the breaks of at least two successive lines
are *soft* at W, i.e. the next line's first word would not have fitted on the line before
(every line of the run that fits W then shares it; a page wrapped at W everywhere lends W
to its short runs). Other breaks are real breaks between a title and an abstract. A run
of soft-joined lines that ends at a real break without finishing a sentence cannot be the
end of an abstract, so after a sentence end such a short run is read as a title. A
Markdown ``\\`` line end or a link whose text goes on at the next line always joins.

How cards are read: a title (a heading or a paper link in Markdown, else a short line not
ending like a sentence) followed by abstract text; a title wrapped onto a second line
before its abstract is joined when the break is plainly inside it; abstract text that
goes on after a line break (a sentence left open, a lowercase start, or any prose before
the card's metadata on a page that has card metadata) stays one abstract. Metadata lines
go to the card they stand in; between two cards, kinds seen before the first card's
title start the next card, the rest end the previous one. On a page with card metadata a
short line that is no part of a card ("Featured") is a UI label: chrome.

Chrome patterns match whole lines only. In a wrapped paragraph a chrome-looking line that
finishes a sentence left open on the line before ("Hugging Face.") is text. Lines made
only of invisible or control characters are listed with the chrome.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import hashlib
import itertools
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from transforms.page_markdown import looks_like_markdown, normalize_markdown
from transforms.records import (
    CARD_ABSTRACT_CHARS,
    CARD_TITLE_CHARS,
    ListingFileError,
    ListingRecord,
    ParseResult,
    Rejection,
    card_out_of_bounds,
    github_repo_url,
    split_arxiv_id,
)

__all__ = [
    "CARD_ABSTRACT_CHARS",
    "CARD_TITLE_CHARS",
    "MAX_FILE_BYTES",
    "MAX_LINE_CHARS",
    "ListingFileError",
    "ListingRecord",
    "ParseResult",
    "Rejection",
    "clean_line",
    "decode_listing",
    "file_sha256",
    "parse_listing",
    "parse_listing_file",
    "read_listing_file",
]

# A file larger than this is not a pasted page (a day's page is well under 1 MB): it is
# quarantined unread, so that one huge file cannot exhaust the ingest's memory.
MAX_FILE_BYTES = 128 * 1024 * 1024
# A line longer than this cannot be a title or an abstract: it is quarantined whole.
MAX_LINE_CHARS = 20_000
# A title is at most this long; anything longer is read as abstract text.
MAX_TITLE_CHARS = 300
# Text ending with a full stop is an abstract from this length on (titles rarely end so).
MIN_ABSTRACT_CHARS = 60
# A title-like line this long after a title is taken as its (one-sentence) abstract.
LONG_TITLE_CHARS = 150
# Hard wraps are looked for at widths up to this; longer lines are never wrapped lines.
MAX_WRAP_WIDTH = 200
# A one-sentence blurb up to this long is an AI summary rather than an abstract.
AI_SUMMARY_CHARS = 320

_MONTH = r"(?P<mon>jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
_DATE = (
    r"(\d{4}-\d{2}-\d{2}"
    r"|(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.? \d{1,2}(, \d{4})?)"
)
_NAV = (
    r"(models|datasets|spaces|posts|docs|enterprise|pricing|papers|collections|community"
    r"|solutions|website|company|about|jobs|careers|blog|learn|discord|forum|twitter"
    r"|linkedin|tos|privacy|status|changelog|hub|resources)"
)
_CHROME_PATTERNS = [
    # Every pattern matches a whole line: a pattern ending in ".*" would also swallow
    # real text that merely starts with the same word ("Search-R1: ...", or a wrapped
    # abstract line beginning "search. To demonstrate ...").
    r"get trending papers in your email inbox( once a day)?",
    r"subscribe",
    r"(daily|trending) papers( - hugging ?face)?",
    r"papers - hugging ?face",
    r"(trending|new|top|most upvoted)( papers)?",
    r"by ak and the research community",
    r"submit( a)? paper( to daily papers)?",
    r"search( any| all)?( papers?)?( by arxiv id or title)?( \.\.\.|\.\.\.|…)?",
    r"((previous|next)( day| week| month)? ?)+",
    r"(daily|weekly|monthly)( (daily|weekly|monthly))*",
    r"(load|show|view|see) (more|all)( papers)?",
    r"(sign up|log in|login|sign in|join the community)",
    r"hugging ?face",
    rf"{_NAV}( {_NAV})*",
    r"system theme|inference (providers|endpoints)",
    r"(models|datasets|spaces|collections) (citing|including) this paper( \d+)?",
    r"(cite|share|bookmark|add to collection|view pdf|view arxiv page)",
    r"(ai[- ]generated )?(summary|abstract)",
    r"\d+(\.\d+)?k?( upvotes?| comments?| authors?)?",
    r"(upvote|comment|share|copy link)s?",
    rf"(published|submitted|updated) on {_DATE}",
    r"submitted by @?[\w.-]+",
    r"·+|[-–—•|]+|[=*_]{3,}",
    r"(arxiv|pdf|project page)( page)?",
    rf"((mon|tue|wed|thu|fri|sat|sun)[a-z]*,? )?{_DATE}",
]
_CHROME_RE = re.compile(r"^(?:" + "|".join(_CHROME_PATTERNS) + r")[!.:]?$", re.IGNORECASE)
# The header lines of a page saved through a reader service ("Title: Daily Papers -
# Hugging Face", "URL Source: https://huggingface.co/papers", "Markdown Content:").
_SAVED_HEADER_RE = re.compile(
    r"^(title: .*hugging ?face|url source: \S+|published time: \S+|markdown content:)$",
    re.IGNORECASE,
)
# "Subscribe" glued to the first title of the page: "SubscribeMulti-Objective-Guided ..."
_GLUED_SUBSCRIBE_RE = re.compile(r"^Subscribe(?=[A-Z0-9\"'(\[])")
_BARE_URL_RE = re.compile(
    r"^<?(?:https?://|www\.)\S+>?$|^(?:huggingface\.co|hf\.co|arxiv\.org|github\.com)/\S+$",
    re.IGNORECASE,
)
_PAPER_URL_RE = re.compile(
    r"^<?(?:https?://)?(?:www\.)?(?P<host>huggingface\.co|hf\.co|(?:export\.)?arxiv\.org)"
    r"/(?:papers|abs|pdf)/(?P<id>[^?#\s>]+)",
    re.IGNORECASE,
)
# Words that end a title line that is not the end of the title ("... Serving with").
_OPEN_ENDINGS = frozenset(
    [
        "a",
        "an",
        "and",
        "as",
        "at",
        "by",
        "for",
        "from",
        "in",
        "into",
        "of",
        "on",
        "or",
        "over",
        "the",
        "through",
        "to",
        "towards",
        "toward",
        "under",
        "using",
        "via",
        "vs",
        "versus",
        "with",
        "without",
        "beyond",
        "between",
        "is",
        "are:",
        "&",
        "-",
    ]
)

# Words that start sentences of an abstract but rarely a title.
_SENTENCE_STARTERS = frozenset(
    [
        "we",
        "our",
        "this",
        "these",
        "here",
        "however",
        "specifically",
        "moreover",
        "furthermore",
        "additionally",
        "finally",
        "it",
        "its",
        "they",
        "their",
        "such",
        "while",
        "although",
        "thus",
        "hence",
        "therefore",
        "unlike",
        "compared",
        "extensive",
        "experiments",
        "experimental",
        "results",
        "code",
        "in",
        "to",
        "as",
        "by",
        "when",
    ]
)

# Zero-width and bidi control characters that render as nothing but break matching.
_INVISIBLE_RE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff\u00ad]")
# Control characters that are not whitespace: removed ("Ti\x00tle" is "Title"). The
# whitespace-like ones (tab, vertical tab, form feed, the \x1c-\x1f separators, NEL)
# separate words and are folded into a space by str.split().
_CONTROL_RE = re.compile("[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f]")


def _looks_binary(data: bytes) -> bool:
    head = data[:8192]
    if not head:
        return False
    # Binary formats have runs of NUL bytes (or many of them); a stray NUL in a pasted
    # page is a control character like any other (clean_line removes it).
    if b"\x00\x00" in head or head.count(0) * 100 > len(head):
        return True
    # Lots of control bytes (other than whitespace) means this is not text.
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13))
    return controls / len(head) > 0.05


def decode_listing(data: bytes, name: str = "<listing>") -> tuple[str, str, list[str]]:
    """Decode listing bytes into text. Returns (text, encoding, warnings).

    Handles UTF-8 with or without BOM, UTF-16 with a BOM (or the tell-tale NUL pattern of
    ASCII text in UTF-16), and falls back to cp1252/Latin-1 when the bytes are not UTF-8.
    Stray invalid bytes inside otherwise valid UTF-8 become U+FFFD and a warning.
    """
    warnings: list[str] = []
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16", warnings
        except UnicodeDecodeError as exc:
            raise ListingFileError(f"{name}: not valid UTF-16 text ({exc.reason})") from None
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    head = data[:4096]
    if len(head) >= 4 and head.count(b"\x00") * 3 >= len(head):
        # UTF-16 without a BOM: every other byte of ASCII text is NUL.
        enc = "utf-16-le" if head[1::2].count(0) > head[0::2].count(0) else "utf-16-be"
        try:
            return data.decode(enc), enc, warnings
        except UnicodeDecodeError:
            pass
    if _looks_binary(data):
        raise ListingFileError(f"{name}: binary data, not a text listing")
    try:
        return data.decode("utf-8"), "utf-8", warnings
    except UnicodeDecodeError:
        pass
    text = data.decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    # Mostly-valid UTF-8 with a few broken bytes: keep it, mark the damage.
    # Otherwise the file is in a single-byte encoding (Latin-1/cp1252 exports), if its
    # high bytes read as text there; if they do not, they are damage in UTF-8 text.
    high_bytes = sum(1 for b in data if b >= 0x80)
    if bad * 4 >= high_bytes and _reads_as_cp1252(data):
        try:
            return data.decode("cp1252"), "cp1252", warnings
        except UnicodeDecodeError:
            return data.decode("latin-1"), "latin-1", warnings
    warnings.append(f"{bad} invalid UTF-8 byte sequence(s) replaced with U+FFFD")
    return text, "utf-8", warnings


# Non-letters that single-byte (cp1252) text commonly carries: quotes, dashes, the
# ellipsis, bullets, currency and a few symbols, the no-break space.
_CP1252_SYMBOLS = frozenset("‘’‚“”„–—…•€™©®°±µ·«»§¶¿¡£¥×÷\xa0")


def _reads_as_cp1252(data: bytes) -> bool:
    """Do the runs of high bytes read as cp1252 text (accented letters inside words,
    typographic punctuation), rather than as stray bytes of broken UTF-8?"""
    runs = plausible = 0
    for match in re.finditer(rb"[\x80-\xff]+", data):
        runs += 1
        chars = match.group().decode("cp1252", errors="replace")
        if len(chars) > 3 or "\ufffd" in chars:
            continue
        if all(c in _CP1252_SYMBOLS for c in chars):
            plausible += 1
            continue
        if not all(c.isalpha() or c in _CP1252_SYMBOLS for c in chars):
            continue
        start, end = match.span()
        before, after = data[start - 1 : start], data[end : end + 1]
        # An accented letter sits inside a word (next to an ASCII letter), or is a
        # one-letter word of its own ("à").
        in_word = before.isalpha() or after.isalpha()
        alone = len(chars) == 1 and before in b" \n\r" and after in b" \n\r"
        plausible += in_word or alone
    return runs > 0 and plausible * 10 >= runs * 9


def clean_line(line: str) -> str:
    """NFC-normalise, drop invisible and control characters, fold whitespace runs."""
    line = unicodedata.normalize("NFC", line)
    line = _INVISIBLE_RE.sub("", line)
    line = _CONTROL_RE.sub("", line)
    return " ".join(line.split())


# ------------------------------------------------------------------- card metadata

_END = r"(?=$|[\s|,;])"
_NUM = r"\d+(?:[.,]\d+)*(?:\s?[kKmM](?![a-zA-Z]))?"
_ATOM_DATE = rf"(?:(?P<iso>\d{{4}}-\d{{2}}-\d{{2}})|{_MONTH}\s+(?P<day>\d{{1,2}})(?:,?\s+(?P<year>\d{{4}}))?)"
# One piece of card metadata each; a metadata line is made of nothing else (and of an
# organisation name before a "·"): "GitHub 131 arXiv Page", "Kandinsky Lab · Published
# on Oct 4, 2026", "Submitted by akhaliq · 4 authors".
_ATOMS = [
    (kind, re.compile(pattern + _END, re.IGNORECASE))
    for kind, pattern in [
        ("upvotes", rf"upvotes?\s*(?P<n>{_NUM}|-)"),
        ("upvotes", rf"(?P<n>{_NUM})\s+upvotes?"),
        ("upvote", r"upvoted?"),
        ("stars", rf"github\s*(?P<n>{_NUM})"),
        ("github", r"github"),
        ("authors", r"(?P<n>\d[\d,]*)\s+authors?"),
        ("published", rf"published\s+on\s+{_ATOM_DATE}"),
        ("dated", rf"(?:submitted|updated)\s+on\s+{_ATOM_DATE}"),
        ("submitted", r"submitted\s+by(?:\s+@?(?P<u>[\w.-]+(?:\s+[\w.-]+){0,2}))?"),
        ("comments", rf"(?P<n>{_NUM})\s+comments?"),
        ("arxiv", r"(?:view\s+)?arxiv(?:\s+page)?"),
        (
            "label",
            r"(?:view\s+)?pdf|project\s+page|paper\s+page|code|demo|collections?|comments?"
            r"|share|copy\s+link|discuss|add\s+to\s+collection|cite(?:\s+this\s+paper)?",
        ),
        ("date", _ATOM_DATE),
        ("count", rf"(?P<n>{_NUM}|[-–—])"),
    ]
]
_SEPARATORS_RE = re.compile(r"[\s|,;]*")
# How a metadata line can start (a cheap test before trying every atom on prose lines).
_META_START_RE = re.compile(
    r"[\s|,;]*(?:upvote|github|published|submitted|updated|arxiv|view|pdf|project|paper"
    r"|code|demo|collection|comment|share|copy|discuss|add|cite|\d|[-–—]"
    r"|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)",
    re.IGNORECASE,
)
_MONTHS = {
    m: i
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1
    )
}
_USERNAME_RE = re.compile(r"@?[A-Za-z0-9][\w.-]{1,39}")
_ORG_RE = re.compile(r"[^\W\d_]")


def _count_value(text: str) -> int:
    """117, "3.29k" -> 3290, "1,234" -> 1234, "1.2M", "-" (no upvotes) -> 0."""
    text = text.strip().replace(" ", "")
    if text in ("-", "–", "—"):
        return 0
    scale = 1
    if text[-1] in "kKmM":
        scale = 1000 if text[-1] in "kK" else 1_000_000
        text = text[:-1]
        text = text.replace(",", ".")
    else:
        text = text.replace(",", "")
    try:
        return round(float(text) * scale)
    except ValueError:
        return 0


def _date_value(match: re.Match[str]) -> tuple[int | None, int, int] | None:
    """(year or None, month, day) of an atom's date, None if it is no real date."""
    iso = match.group("iso")
    if iso:
        year, month, day = (int(x) for x in iso.split("-"))
    else:
        year = int(match.group("year")) if match.group("year") else None
        month, day = _MONTHS[match.group("mon").lower()[:3]], int(match.group("day"))
    try:
        dt.date(year or 2000, month, day)  # 2000 is a leap year: Feb 29 stays valid
    except ValueError:
        return None
    return year, month, day


def _match_atom(part: str, pos: int) -> tuple[str, re.Match[str] | None]:
    for kind, regex in _ATOMS:
        match = regex.match(part, pos)
        if match:
            return kind, match
    return "", None


def _atoms(part: str) -> list[tuple[str, object]] | None:
    """The metadata atoms a part of a line is made of, or None if it has other text."""
    facts: list[tuple[str, object]] = []
    pos = _SEPARATORS_RE.match(part).end()
    while pos < len(part):
        kind, match = _match_atom(part, pos)
        if match is None:
            return None
        value: object = None
        groups = match.groupdict()
        if groups.get("n") is not None:
            value = _count_value(groups["n"])
        elif kind in ("published", "dated", "date"):
            value = _date_value(match)
            if value is None:
                return None
        elif kind == "submitted":
            value = groups.get("u")
        facts.append((kind, value))
        pos = _SEPARATORS_RE.match(part, match.end()).end()
    return facts


def _parse_meta(text: str) -> list[tuple[str, object]] | None:
    """The facts of a card-metadata line, or None if the line is not card metadata.

    A date alone ("Oct 4", the daily page's date line) is page chrome, not metadata; after
    a "·" ("· Dec 28, 2024") it is the paper's date.
    """
    if len(text) > 160:
        return None
    has_dot = "·" in text
    if not has_dot and not _META_START_RE.match(text):
        return _letterless(text)
    facts: list[tuple[str, object]] = []
    org: str | None = None
    for part in text.split("·") if has_dot else [text]:
        part = part.strip()
        if not part:
            continue
        got = _atoms(part)
        if got is None:
            if not has_dot or org is not None:
                return _letterless(text)
            org = part
            continue
        facts.extend(got)
    if not facts:
        return _letterless(text)
    if org is not None:
        if len(org) > 80 or len(org.split()) > 8 or org.endswith(".") or not _ORG_RE.search(org):
            return None
        facts.append(("org", org))
    if has_dot:
        facts = [("published", v) if k == "date" else (k, v) for k, v in facts]
    elif all(k in ("date", "dated") for k, _ in facts):
        return None  # the page's own date: chrome
    return facts


def _letterless(text: str) -> list[tuple[str, object]] | None:
    """A short line with digits and no letter ("[-] 1", "12 | 3") is card UI text."""
    if len(text) > 40:
        return None
    if any(c.isdigit() for c in text) and not any(c.isalpha() for c in text):
        return [("other", None)]
    return None


def _paper_url(url: str) -> tuple[str, str, int | None] | None:
    """(page URL, arXiv id, version) of a link to a paper's HF or arXiv page."""
    match = _PAPER_URL_RE.match(url)
    if not match:
        return None
    path = match.group("id").removesuffix(".pdf")
    arxiv_id, version = split_arxiv_id(path)
    if arxiv_id is None or not path.startswith(arxiv_id):
        return None
    if match.group("host").lower() in ("huggingface.co", "hf.co"):
        return f"https://huggingface.co/papers/{arxiv_id}", arxiv_id, version
    suffix = f"v{version}" if version else ""
    return f"https://arxiv.org/abs/{arxiv_id}{suffix}", arxiv_id, version


def _link_facts(links: tuple[str, ...], text: str) -> list[tuple[str, object]]:
    facts: list[tuple[str, object]] = []
    for url in links:
        paper = _paper_url(url)
        if paper:
            facts.append(("paper_url", paper))
        elif re.match(r"^<?(https?://)?(www\.)?github\.com/", url, re.IGNORECASE):
            repo = github_repo_url(url)
            if repo:
                facts.append(("github_url", repo))
        elif (
            re.match(r"^https?://", url)
            and re.search(r"project|website|homepage|demo", text, re.IGNORECASE)
            and not re.search(r"huggingface\.co|hf\.co|arxiv\.org", url, re.IGNORECASE)
        ):
            facts.append(("project_url", url))
    return facts


# --------------------------------------------------------------------------- lines


@dataclass(eq=False)
class _Line:
    number: int
    raw: str
    text: str  # cleaned, Markdown syntax and glued "Subscribe" removed
    wrap_text: str  # cleaned, as long as the wrapper saw it
    kind: str = "content"  # or "chrome", "meta"
    facts: list[tuple[str, object]] = field(default_factory=list)
    links: tuple[str, ...] = ()
    title_hint: bool = False  # a Markdown heading or paper link: a title
    join_next: bool = False  # Markdown: the line goes on at the next one
    paired: bool = False  # the username line after "Submitted by"
    heading: bool = False  # a Markdown heading
    width: int | None = None  # the hard-wrap width of its paragraph


def _is_chrome(text: str) -> bool:
    if len(text) <= 80 and _CHROME_RE.match(text):
        return True
    return len(text) <= 300 and bool(_SAVED_HEADER_RE.match(text))


def _read_lines(text: str, result: ParseResult) -> list[_Line]:
    """Every non-blank line, cleaned and sorted into content, chrome and metadata."""
    physical = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    markdown = looks_like_markdown(physical)
    result.format = "hf_page_markdown" if markdown else "hf_page_text"
    marked = normalize_markdown(physical) if markdown else None
    lines: list[_Line] = []
    for number, raw in enumerate(physical, start=1):
        md = marked[number - 1] if marked is not None else None
        cleaned = clean_line(md.text if md is not None else raw)
        if not cleaned:
            if raw.strip():  # only invisible/control characters or Markdown syntax: chrome
                result.chrome.append(number)
            continue
        if len(cleaned) > MAX_LINE_CHARS:
            result.rejections.append(
                Rejection(
                    number,
                    raw[:2000],
                    f"line of {len(cleaned):,} characters is longer than "
                    f"{MAX_LINE_CHARS:,}: not a title or an abstract",
                    (number,),
                )
            )
            continue
        wrapped = cleaned
        glued = _GLUED_SUBSCRIBE_RE.match(cleaned)
        if glued:
            cleaned = cleaned[glued.end() :]
        line = _Line(number, raw, cleaned, wrapped)
        if md is not None:
            line.links = md.links
            line.join_next = md.join_next
            hint = md.heading or (md.link_only and any(_paper_url(u) for u in md.links))
            line.title_hint = hint
            line.heading = md.heading
        _classify(line)
        lines.append(line)
    _pair_submitters(lines)
    if markdown:
        _section_headings_are_chrome(lines)
    return lines


def _section_headings_are_chrome(lines: list[_Line]) -> None:
    """Where paper titles are headings linking to the paper, a heading without such a
    link is a section of the page ("# Search results"), not a card."""
    linked = [x for x in lines if x.heading and x.kind == "content" and _paper_links(x)]
    if len(linked) < 2:
        return
    for line in lines:
        if (
            line.heading
            and line.kind == "content"
            and not _paper_links(line)
            and not line.join_next
        ):
            line.kind, line.title_hint = "chrome", False


def _paper_links(line: _Line) -> list[tuple[str, str, int | None]]:
    return [p for u in line.links if (p := _paper_url(u))]


def _classify(line: _Line) -> None:
    text = line.text
    facts = _parse_meta(text)
    if facts:
        line.kind, line.facts = "meta", facts + _link_facts(line.links, text)
    elif _is_chrome(text):
        line.kind = "chrome"
    elif _BARE_URL_RE.match(text):  # a paper's URL on its own line
        line.kind = "meta"
        line.links = line.links or (text.strip("<>"),)
        line.facts = _link_facts(line.links, text) or [("other", None)]
    if line.kind != "content":
        line.title_hint = False


def _pair_submitters(lines: list[_Line]) -> None:
    """ "Submitted by" on its own line: the username on the next line is metadata too."""
    for i, line in enumerate(lines):
        if line.kind != "meta" or line.facts[:1] != [("submitted", None)] or len(line.facts) > 1:
            continue
        for nxt in lines[i + 1 : i + 3]:
            if nxt.kind == "chrome":
                continue
            if _is_username(nxt):
                nxt.kind, nxt.facts, nxt.paired = "meta", [("submitter", nxt.text)], True
            break


def _is_username(line: _Line) -> bool:
    """A username ("akhaliq") or a short display name ("Adina Yakefu") on its own line."""
    if line.kind != "content" or line.title_hint or line.text.isdigit():
        return False
    if _USERNAME_RE.fullmatch(line.text):
        return True
    words = line.text.split()
    return len(line.text) <= 40 and len(words) <= 4 and not re.search(r"[:;.!?]", line.text)


def _is_paper_link_line(line: _Line) -> bool:
    return any(k == "paper_url" for k, _ in line.facts) and bool(_BARE_URL_RE.match(line.text))


# ------------------------------------------------------------------------ wrapping


def _soft_break(prev: _Line, nxt: _Line) -> bool:
    """True when the wrapper, not the author, broke the line between prev and nxt."""
    width = prev.width
    if width is None or nxt.width != width or nxt.number != prev.number + 1:
        return False
    if len(prev.wrap_text) > width or len(nxt.wrap_text) > width:
        return False
    first_word = nxt.wrap_text.split(" ", 1)[0]
    if _ends_with_hyphen(prev.wrap_text):  # broken after a hyphen: no space lost
        return len(prev.wrap_text) + len(first_word) > width
    return len(prev.wrap_text) + 1 + len(first_word) > width


def _soft_range(prev: _Line, nxt: _Line) -> tuple[int, int]:
    """The widths W at which the break between prev and nxt is soft: [low, high]."""
    lp, ln = len(prev.wrap_text), len(nxt.wrap_text)
    first = len(nxt.wrap_text.split(" ", 1)[0])
    high = lp + first - 1 if _ends_with_hyphen(prev.wrap_text) else lp + first
    return max(lp, ln), min(high, MAX_WRAP_WIDTH)


def _runs(content: list[_Line]) -> list[list[_Line]]:
    """Paragraphs that may be hard-wrapped: adjacent lines up to MAX_WRAP_WIDTH long."""
    runs: list[list[_Line]] = []
    run: list[_Line] = []
    for line in content:
        fits = len(line.wrap_text) <= MAX_WRAP_WIDTH and not line.title_hint
        if run and fits and line.number == run[-1].number + 1:
            run.append(line)
            continue
        if len(run) >= 2:
            runs.append(run)
        run = [line] if fits else []
    if len(run) >= 2:
        runs.append(run)
    return runs


def _run_width(run: list[_Line]) -> tuple[int | None, bool]:
    """(W, evidenced): the width at which most breaks of the run are soft, and whether two
    successive breaks are soft at it (a paragraph of three or more wrapped lines)."""
    counts = [0] * (MAX_WRAP_WIDTH + 2)
    ranges = [_soft_range(a, b) for a, b in itertools.pairwise(run)]
    for low, high in ranges:
        if low <= high:
            counts[low] += 1
            counts[high + 1] -= 1
    best, best_count, running = None, 0, 0
    for width in range(MAX_WRAP_WIDTH + 1):
        running += counts[width]
        if running > best_count:
            best, best_count = width, running
    if best is None:
        return None, False
    soft = [low <= best <= high for low, high in ranges]
    evidenced = any(a and b for a, b in itertools.pairwise(soft))
    return best, evidenced


def _assign_widths(content: list[_Line]) -> None:
    for line in content:
        line.width = None
    pending: list[tuple[list[_Line], int | None]] = []
    widths: dict[int, int] = {}
    for run in _runs(content):
        if len(run) < 3:
            pending.append((run, None))
            continue
        width, evidenced = _run_width(run)
        if evidenced and width is not None:
            for line in run:
                line.width = width
            widths[width] = widths.get(width, 0) + len(run)
        else:
            pending.append((run, width))
    if not widths:
        return
    # A page wrapped at W lends W to its short paragraphs (a two-line AI summary).
    page_width = max(widths, key=lambda w: widths[w])
    for run, _ in pending:
        if any(
            low <= page_width <= high
            for low, high in (_soft_range(a, b) for a, b in itertools.pairwise(run))
        ):
            for line in run:
                line.width = page_width


def _rescue_wrapped_tails(lines: list[_Line]) -> bool:
    """In a wrapped paragraph the last line of a sentence can look like chrome or
    metadata ("Hugging Face.", "42.") when the line before left the sentence open."""
    by_number = {line.number: line for line in lines}
    rescued = False
    for line in lines:
        if line.kind == "content" or line.paired or _is_paper_link_line(line):
            continue
        prev = by_number.get(line.number - 1)
        if prev is None or prev.kind != "content" or prev.width is None or prev.title_hint:
            continue
        line.width = prev.width
        if not _ends_sentence(prev.text) and _soft_break(prev, line):
            line.kind, line.facts = "content", []
            rescued = True
        else:
            line.width = None
    return rescued


_ENDS_SENTENCE_RE = re.compile(r"[.!?][\"')\]}]*$|\bhttps?://\S+$|\S+\.(git|html?|io|com|org)/?$")
_WORD_CHAR_RE = re.compile(r"\w")


def _ends_sentence(text: str) -> bool:
    """Ends with a full stop (or ! or ?), or with a link, as abstracts often do."""
    return bool(_ENDS_SENTENCE_RE.search(text[-400:]))


def _ends_with_hyphen(text: str) -> bool:
    """Ends with a hyphen after a word ("Multi-", "changes--"): a word cut at the break."""
    if not text.endswith("-"):
        return False
    token = text.rsplit(None, 1)[-1]
    return bool(_WORD_CHAR_RE.search(token[:-1]))


def _is_title_case(text: str, strict: bool = False) -> bool:
    """Most longer words capitalised, as in a title (abstract prose is mostly lowercase)."""
    words = [w for w in re.findall(r"[^\W\d_][\w'-]*", text) if len(w) >= 4]
    if not words:
        return len(text) <= 60
    share = sum(w[0].isupper() for w in words) / len(words)
    return share >= (0.75 if strict else 0.5)


def _join(lines: list[_Line]) -> str:
    """Rejoin the physical lines of one logical line.

    No space is put back after a word-internal hyphen ("Multi-" + "Objective"), nor
    inside a word longer than the wrap width that the wrapper had to cut (a URL): such
    a cut leaves the line exactly as long as the width.
    """
    out = ""
    prev: _Line | None = None
    for line in lines:
        if prev is None:
            out = line.text
        elif _glued_break(prev, line):
            out += line.text
        else:
            out += " " + line.text
        prev = line
    return out


def _glued_break(prev: _Line, line: _Line) -> bool:
    """True when prev and line are parts of one word: no space between them."""
    if _ends_with_hyphen(prev.text):  # "Multi-" + "Objective", "changes--" + ...
        return True
    width = prev.width
    if width is None or len(prev.wrap_text) != width or line.number != prev.number + 1:
        return False
    last = prev.wrap_text.rsplit(" ", 1)[-1]
    first = line.wrap_text.split(" ", 1)[0]
    return len(last) + len(first) > width


def _is_title_like(text: str) -> bool:
    """Short, not ending like a sentence, and not several sentences of prose."""
    if len(text) > MAX_TITLE_CHARS:
        return False
    if text.endswith(".") and len(text) >= MIN_ABSTRACT_CHARS:
        return False
    return not re.search(r"[a-z]{2,}\. [A-Z]", text)


def _is_abstract_like(text: str) -> bool:
    """Prose, or at least too long to be anything but an abstract."""
    return not _is_title_like(text) or len(text) >= LONG_TITLE_CHARS


def _breaks(content: list[_Line]) -> tuple[list[bool], list[bool], list[bool]]:
    """(soft, forced, hint) per line: does the line go on at the next one (a wrap or a
    Markdown join), must it (Markdown), and is it a title by its Markdown."""
    n = len(content)
    forced = [False] * n
    soft = [False] * n
    hint = [line.title_hint for line in content]
    for i in range(n - 1):
        line, nxt = content[i], content[i + 1]
        adjacent = nxt.number == line.number + 1
        forced[i] = line.join_next and adjacent and (not nxt.title_hint or line.title_hint)
        soft[i] = forced[i] or (not hint[i] and not hint[i + 1] and _soft_break(line, nxt))
    return soft, forced, hint


def _logical_lines(content: list[_Line]) -> list[list[_Line]]:
    """Group physical lines into logical lines: a title, or an abstract (rewrapped)."""
    lines = content
    n = len(lines)
    soft_after, forced, hint = _breaks(content)

    def soft(i: int) -> bool:  # is the break between line i and line i + 1 soft?
        return soft_after[i]

    def whole_title(i: int) -> int | None:
        """Last line k when lines i..k are a whole title: a short run of lines that
        ends with a hard break (or the file) without ending a sentence anywhere."""
        if hint[i]:
            k = i
            while k + 1 < n and forced[k]:
                k += 1
            return k
        for k in range(i, min(i + 3, n)):
            text = lines[k].text
            if _ends_sentence(text) and (soft(k) or not text.endswith("?")):
                return None
            if not soft(k):
                return k if _is_title_like(_join(lines[i : k + 1])) else None
        return None

    def starts_title(i: int) -> bool:
        if i > 0 and forced[i - 1]:
            return False
        if hint[i]:
            return True
        text = lines[i].text
        if text.endswith("."):
            return False
        if i == 0 or not soft(i - 1):
            return True
        # A wrapped line that ends a sentence, then a title-looking line: either a new
        # card or the abstract going on. A run of lines ending at a hard break without
        # finishing a sentence cannot be the end of an abstract, so it is a title;
        # otherwise only a clearly title-cased line counts.
        if not _ends_sentence(lines[i - 1].text) or _glued_break(lines[i - 1], lines[i]):
            return False
        if whole_title(i) is not None:
            return True
        first = text.split(" ", 1)[0].lower().strip("(\"'")
        return _is_title_case(text, strict=True) and first not in _SENTENCE_STARTERS

    def continues_title(j: int) -> bool:  # does title line j go on at line j + 1?
        if forced[j]:
            return True
        if not soft(j) or _ends_sentence(lines[j].text):
            return False
        if not soft(j + 1):
            return True
        # The title runs on into its abstract: only a title-cased title can be told
        # apart from the prose after it. An abstract starts with a capital, so a line
        # that runs on into a lowercase word is already prose.
        if lines[j + 2].text[:1].islower():
            return False
        return _is_title_case(lines[j].text, strict=True) and _is_title_case(
            lines[j + 1].text, strict=True
        )

    groups: list[list[_Line]] = []
    i = 0
    after_title = False
    while i < n:
        j = i
        if (not after_title or hint[i]) and starts_title(i):
            after_title = True
            end = whole_title(i)
            if end is not None:
                j = end
            else:
                while j - i < 2 and continues_title(j):
                    j += 1
        else:
            after_title = False
            while soft(j) and not starts_title(j + 1):
                j += 1
        groups.append(lines[i : j + 1])
        i = j + 1
    return groups


_NON_WORD_RE = re.compile(r"\W+")


@functools.lru_cache(maxsize=8192)
def _norm_key(text: str) -> str:
    return _NON_WORD_RE.sub(" ", text.casefold()).strip()


# --------------------------------------------------------------------------- cards


@dataclass(eq=False)
class _Card:
    title: list[_Line]
    abstract: list[_Line]
    title_text: str = ""
    abstract_text: str = ""
    reason: str | None = None
    copy_of: _Card | None = None
    facts: list[tuple[str, object, int]] = field(default_factory=list)  # (kind, value, line)
    kinds: set[str] = field(default_factory=set)

    @property
    def lines(self) -> list[_Line]:
        return sorted(self.title + self.abstract, key=lambda x: x.number)

    @property
    def first(self) -> int:
        return min(x.number for x in self.title + self.abstract)

    @property
    def last(self) -> int:
        return max(x.number for x in self.title + self.abstract)

    @property
    def title_line(self) -> int:
        return self.title[0].number if self.title else self.first


def _title_goes_on(first: str, second: str) -> bool:
    """Is "first" / "second" one title broken over two lines (not two titles)?"""
    words = first.split()
    if not words:
        return False
    if words[-1].lower() in _OPEN_ENDINGS or first.endswith((":", "-", "–", "—", ",")):
        return True
    return second[:1].islower() or len(second.split()) <= 2


def _read_cards(groups: list[list[_Line]], noncontent: list[int], structured: bool) -> list[_Card]:
    """Pair titles with abstracts; what cannot be paired becomes a rejected card."""
    n = len(groups)
    texts = [_join(g) for g in groups]
    hint = [g[0].title_hint for g in groups]

    def boundary(a: int, b: int) -> bool:  # a chrome or metadata line between groups a, b?
        lo, hi = groups[a][-1].number, groups[b][0].number
        k = bisect.bisect_right(noncontent, lo)
        return k < len(noncontent) and noncontent[k] < hi

    def is_title(k: int) -> bool:
        return hint[k] or _is_title_like(texts[k])

    def is_abstract(k: int) -> bool:
        return not hint[k] and _is_abstract_like(texts[k])

    seen_titles: set[str] = set()
    seen_abstracts: set[str] = set()

    def goes_on(j: int, abstract: str) -> bool:
        """Is group j more of the abstract before it (a line break inside it)?"""
        if hint[j] or boundary(j - 1, j):
            return False
        text = texts[j]
        title = is_title(j)
        if title and j + 1 < n and is_abstract(j + 1):
            return False  # the next card
        key = _norm_key(text)
        if key in seen_abstracts or key in seen_titles or key == _norm_key(abstract):
            return False
        if text[:1].islower():
            return True
        if not _ends_sentence(abstract) and (not title or not _is_title_case(text, strict=True)):
            return True
        if not structured or (title and len(text.split()) <= 2):
            return False  # on a card page a short label ("Featured") is page UI
        return not title or j + 1 == n or boundary(j, j + 1) or hint[j + 1]

    def opens_abstract(k: int) -> bool:
        """A short first part of an abstract broken mid-sentence: "...multiple, often" /
        "conflicting, functional and ..." (the part after it starts in lowercase)."""
        return (
            k + 1 < n
            and not hint[k]
            and not hint[k + 1]
            and not _ends_sentence(texts[k])
            and texts[k + 1][:1].islower()
            and is_abstract(k + 1)
            and not boundary(k, k + 1)
        )

    cards: list[_Card] = []
    i = 0
    while i < n:
        if not is_title(i):
            cards.append(_Card([], groups[i], "", texts[i], reason="abstract without title"))
            i += 1
            continue
        end = i
        if (
            i + 2 < n
            and not hint[i + 1]
            and is_title(i + 1)
            and is_abstract(i + 2)
            and not boundary(i, i + 1)
            and _norm_key(texts[i]) not in seen_titles
            and _norm_key(texts[i + 1]) not in seen_titles
            and (
                _title_goes_on(texts[i], texts[i + 1])
                # Cards are set apart by their metadata: two title lines before one blurb
                # are one wrapped title (unless the first is a short label).
                or (structured and len(texts[i].split()) >= 4)
            )
        ):
            end = i + 1
        if end > i and len(texts[i]) + len(texts[end]) + 1 > MAX_TITLE_CHARS:
            end = i
        title_lines = [x for g in groups[i : end + 1] for x in g]
        title = _join(title_lines) if end > i else texts[i]
        seen_titles.add(_norm_key(title))
        if end + 1 < n and (is_abstract(end + 1) or opens_abstract(end + 1)):
            abstract_lines = list(groups[end + 1])
            abstract = texts[end + 1]
            j = end + 2
            while j < n and goes_on(j, abstract):
                abstract = _join_groups([abstract, _join(groups[j])])
                abstract_lines += groups[j]
                j += 1
            seen_abstracts.add(_norm_key(abstract))
            cards.append(_Card(title_lines, abstract_lines, title, abstract))
            i = j
            continue
        reason = (
            "title without abstract at end of file"
            if i + 1 >= n
            else "title without abstract: the next line is another title"
        )
        cards.append(_Card(title_lines[: len(groups[i])], [], title, "", reason=reason))
        i += 1
    return cards


def _join_groups(parts: list[str]) -> str:
    """The text of logical lines that make one abstract (paragraphs joined by a space,
    a word split by a hyphen at the break put back together)."""
    out = ""
    for k, text in enumerate(parts):
        if k == 0:
            out = text
        elif _ends_with_hyphen(out):
            out += text
        else:
            out += " " + text
    return out


def _is_ui_label(card: _Card) -> bool:
    """A short line that is neither a card nor a known part of one ("Featured"): on a page
    of cards with metadata, a UI label rather than a paper that lost its blurb."""
    return (
        not card.abstract
        and len(card.title) == 1
        and not card.title[0].title_hint
        and len(card.title_text) <= 24
        and len(card.title_text.split()) <= 2
    )


def _sort_cards(cards: list[_Card], result: ParseResult, structured: bool) -> list[_Card]:
    """Decide which cards are records, rejections, or layout copies (chrome).

    A page that shows its cards twice (the trending page's desktop and mobile layouts:
    most titles come back) is read once: every repeated card is chrome. Elsewhere a
    repeated card is quarantined as a duplicate.
    """
    keys = [_norm_key(c.title_text) for c in cards if c.title]
    repeated = len(keys) - len(set(keys))
    layout = repeated >= 2 and repeated * 2 >= len(set(keys))
    first_by_title: dict[str, _Card] = {}
    first_by_abstract: dict[str, _Card] = {}
    kept: dict[tuple[str, str], int] = {}
    records: list[_Card] = []
    for card in cards:
        tkey = _norm_key(card.title_text) if card.title else None
        akey = _norm_key(card.abstract_text) if card.abstract else None
        if layout:
            original = first_by_title.get(tkey) if tkey is not None else None
            if original is None and tkey is None:
                original = first_by_abstract.get(akey)
            if original is not None:
                card.copy_of = original
                continue
        if tkey is not None:
            first_by_title.setdefault(tkey, card)
        if akey is not None:
            first_by_abstract.setdefault(akey, card)
        if structured and _is_ui_label(card):
            result.chrome.extend(line.number for line in card.lines)
            continue
        if card.reason is None:
            out_of_bounds = card_out_of_bounds(card.title_text, card.abstract_text)
            if out_of_bounds:
                card.reason = f"card not kept: {out_of_bounds}"
            elif (tkey, akey) in kept:
                card.reason = (
                    f"duplicate card: same title and abstract as position {kept[(tkey, akey)]}"
                )
            else:
                kept[(tkey, akey)] = len(records) + 1
                records.append(card)
                continue
        raw = "\n".join(line.raw for line in card.lines)
        if card.reason.startswith("card not kept"):
            raw = raw[:MAX_LINE_CHARS]
        lines = tuple(line.number for line in card.lines)
        result.rejections.append(Rejection(lines[0], raw, card.reason, lines))
    return records


_UNCOUNTED_KINDS = frozenset(["label", "other", "paper_url", "github_url", "project_url"])


@dataclass(eq=False)
class _Item:
    """One piece of card metadata, on one line or two ("Upvote" / "117")."""

    lines: list[_Line]
    facts: list[tuple[str, object]]

    @property
    def number(self) -> int:
        return self.lines[0].number

    @property
    def kind(self) -> str:
        return self.facts[0][0]

    @property
    def kinds(self) -> set[str]:
        # What a link tells (the paper's page, a repository) can come on several lines of
        # one card ("[· 4 authors](.../papers/<id>#authors)"): not a sign of a new card.
        return {k for k, _ in self.facts if k not in _UNCOUNTED_KINDS}


def _items(lines: list[_Line]) -> list[_Item]:
    """Metadata lines as items: a label and the count on the next line are one item."""
    items: list[_Item] = []
    last: _Item | None = None
    for line in lines:
        if line.kind == "content":
            last = None
            continue
        if line.kind != "meta":
            continue
        facts = line.facts
        if last is not None:
            head = [k for k, _ in last.facts if k not in ("paper_url", "github_url")]
            own = [k for k, _ in facts if k not in ("paper_url", "github_url")]
            if head in (["upvote"], ["github"]) and own == ["count"]:
                kind = "upvotes" if head == ["upvote"] else "stars"
                value = next(v for k, v in facts if k == "count")
                rest = [f for f in last.facts + facts if f[0] not in ("upvote", "github", "count")]
                last.facts = [(kind, value), *rest]
                last.lines.append(line)
                continue
            if head == ["count"] and own == ["upvote"]:
                value = next(v for k, v in last.facts if k == "count")
                rest = [f for f in last.facts + facts if f[0] not in ("upvote", "count")]
                last.facts = [("upvotes", value), *rest]
                last.lines.append(line)
                continue
            if line.paired and head == ["submitted"]:
                last.facts = [("submitted", facts[0][1])]
                last.lines.append(line)
                continue
        last = _Item([line], list(facts))
        items.append(last)
    return items


def _assign_items(items: list[_Item], cards: list[_Card]) -> None:
    """Give each metadata item to the card it belongs to.

    Inside a card's span (between its title and the end of its abstract) it is that
    card's. Between two cards, the kinds that stand before the first card's title (the
    daily page's upvote count) start the next card; any other item ends the previous
    one, until a kind comes back that the previous card already has.
    """
    if not cards or not items:
        return
    firsts = [c.first for c in cards]
    lead = {it.kind for it in items if it.number < firsts[0]}
    trail = {it.kind for it in items if it.number > cards[-1].last}
    gap: list[_Item] = []
    gap_after: int | None = None

    def flush() -> None:
        if not gap:
            return
        assert gap_after is not None
        if gap_after < 0:
            for it in gap:
                _give(cards[0], it)
        elif gap_after + 1 >= len(cards):
            for it in gap:
                _give(cards[-1], it)
        else:
            prev, nxt = cards[gap_after], cards[gap_after + 1]
            have = set(prev.kinds)
            split = len(gap)
            for idx, it in enumerate(gap):
                if (it.kind in lead and it.kind not in trail) or (it.kinds & have):
                    split = idx
                    break
                have |= it.kinds
            for it in gap[:split]:
                _give(prev, it)
            for it in gap[split:]:
                _give(nxt, it)
        gap.clear()

    for it in items:
        k = bisect.bisect_right(firsts, it.number) - 1
        if k >= 0 and it.number <= cards[k].last:
            flush()
            _give(cards[k], it)
            continue
        if gap and gap_after != k:
            flush()
        gap_after = k
        gap.append(it)
    flush()


def _give(card: _Card, item: _Item) -> None:
    card.kinds |= item.kinds
    for kind, value in item.facts:
        card.facts.append((kind, value, item.number))


def _page_year(lines: list[_Line], before: int) -> int | None:
    """The year of the page's own date (a header date line, a /papers/date/ URL)."""
    for line in lines:
        if line.number >= before:
            break
        for text in (line.text, *line.links):
            match = re.search(r"\b(20\d{2})-\d{2}-\d{2}\b", text) or re.search(
                r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.? \d{1,2},? (\d{4})\b",
                text,
                re.IGNORECASE,
            )
            if match:
                return int(match.group(1))
    return None


def _published(
    value: tuple[int | None, int, int], arxiv_id: str | None, page_year: int | None
) -> dt.date | None:
    year, month, day = value
    if year is None:
        # The page drops the year of the current year: take it from the arXiv id's
        # yymm (the paper's month), else from the page's own date, else today.
        if arxiv_id and re.match(r"\d{4}\.", arxiv_id):
            id_year, id_month = 2000 + int(arxiv_id[:2]), int(arxiv_id[2:4])
            year = min(
                (id_year - 1, id_year, id_year + 1),
                key=lambda y: abs((y - id_year) * 12 + month - id_month),
            )
        elif page_year is not None:
            year = page_year
        else:
            today = dt.date.today()
            year = today.year if (month, day) <= (today.month, today.day + 1) else today.year - 1
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _is_ai_summary(text: str) -> bool:
    """One sentence, and short: the AI summary some cards show instead of the abstract."""
    return (
        len(text) <= AI_SUMMARY_CHARS
        and _ends_sentence(text)
        and not re.search(r"[.!?][\"')\]]*\s+[A-Z(\"]", text[:-1])
    )


def _record(position: int, card: _Card, page_year: int | None) -> ListingRecord:
    facts = card.facts
    values: dict[str, object] = {}
    for kind, value, _ in facts:
        if value is not None:
            values.setdefault(kind, value)
    title_line = card.title_line
    upvotes = values.get("upvotes")
    if upvotes is None:  # the daily page: the count stands before the title
        counts = [(n, v) for k, v, n in facts if k == "count" and n < title_line]
        upvotes = max(counts, key=lambda c: c[0])[1] if counts else None
    papers = [p for line in card.title for u in line.links if (p := _paper_url(u))]
    papers += [v for k, v, _ in facts if k == "paper_url"]  # type: ignore[misc]
    url = arxiv_id = version = None
    if papers:
        hf = [p for p in papers if "huggingface.co" in p[0]]
        url = (hf or papers)[0][0]
        arxiv_id = papers[0][1]
        version = next((p[2] for p in papers if p[1] == arxiv_id and p[2]), None)
    published = values.get("published")
    lines = card.lines
    return ListingRecord(
        position,
        card.title_text,
        card.abstract_text,
        "\n".join(line.raw for line in lines),
        lines[0].number,
        tuple(line.number for line in lines),
        arxiv_id=arxiv_id,
        arxiv_version=version,
        author_count=values.get("authors"),  # type: ignore[arg-type]
        upvotes=upvotes,  # type: ignore[arg-type]
        github_url=values.get("github_url"),  # type: ignore[arg-type]
        github_stars=values.get("stars"),  # type: ignore[arg-type]
        project_url=values.get("project_url"),  # type: ignore[arg-type]
        url=url,
        published=_published(published, arxiv_id, page_year) if published else None,  # type: ignore[arg-type]
        organization=values.get("org"),  # type: ignore[arg-type]
        summary_is_ai=_is_ai_summary(card.abstract_text),
    )


def parse_listing(text: str) -> ParseResult:
    """Parse decoded listing text (page text or its Markdown). Never raises on content."""
    try:
        return _parse(text)
    finally:
        _norm_key.cache_clear()  # the keys of this page's abstracts: not kept after it


def _parse(text: str) -> ParseResult:
    result = ParseResult()
    lines = _read_lines(text, result)
    content = [line for line in lines if line.kind == "content"]
    _assign_widths(content)
    if _rescue_wrapped_tails(lines):
        content = [line for line in lines if line.kind == "content"]
        _assign_widths(content)
    noncontent = [line.number for line in lines if line.kind != "content"]
    metadata = sum(1 for line in lines if line.kind == "meta")
    structured = metadata >= 2 or any(line.title_hint for line in content)
    groups = _logical_lines(content)
    cards = _read_cards(groups, noncontent, structured)
    records = _sort_cards(cards, result, structured)
    # Metadata goes to cards that have both a title and a blurb (or repeat one): a lone
    # title is as likely a line of unknown page text as a card without a blurb.
    anchors = [c for c in cards if (c.title and c.abstract) or c.copy_of is not None]
    _assign_items(_items(lines), anchors)
    for card in cards:  # a layout copy tells what its original may have left out
        if card.copy_of is not None:
            card.copy_of.facts.extend(card.facts)
    page_year = _page_year(lines, cards[0].first if cards else 1 << 62)
    result.records = [_record(i, card, page_year) for i, card in enumerate(records, start=1)]
    result.chrome.extend(line.number for line in lines if line.kind != "content")
    result.chrome.extend(line.number for card in cards if card.copy_of for line in card.lines)
    result.chrome.sort()
    result.rejections.sort(key=lambda r: r.line)
    return result


def file_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_listing_file(path: Path) -> bytes:
    """The bytes of a listing file; ListingFileError (one line, naming the file) when it
    cannot be read or is larger than ``MAX_FILE_BYTES`` (refused unread)."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES and path.is_file():
            raise ListingFileError(
                f"{path.name}: {size:,} bytes is larger than the {MAX_FILE_BYTES:,} bytes "
                "a listing may have"
            )
        return path.read_bytes()
    except OSError as exc:
        raise ListingFileError(f"{path.name}: cannot read ({exc.strerror or exc})") from None


def parse_listing_file(path: Path) -> tuple[ParseResult, str]:
    """Read and parse one page-text listing file. Returns (result, sha256 of the bytes).

    Raises ListingFileError (one line, naming the file) when the file cannot be used.
    """
    path = Path(path)
    data = read_listing_file(path)
    text, encoding, warnings = decode_listing(data, path.name)
    result = parse_listing(text)
    result.encoding = encoding
    result.warnings.extend(warnings)
    return result, file_sha256(data)
