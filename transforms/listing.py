"""Parse the text of a pasted Hugging Face Papers page into paper records.

A pasted page is a stream of lines: page chrome ("Get trending papers in your email
inbox!", "Subscribe", upvote counts...), then for every paper card a title followed by
its abstract. Titles and abstracts may be hard-wrapped over several lines, cards may be
repeated, and the bytes may carry a BOM, CRLF line ends or invalid UTF-8.

The parser never raises on content. Every non-blank input line ends up in exactly one of
three places: a ``ListingRecord``, a ``Rejection`` (quarantine, with a reason) or the
``chrome`` list (page UI text that is dropped on purpose). Only an unusable *file*
(binary data, unreadable) raises ``ListingFileError`` with a one-line message naming it.

How wrapped lines are rejoined: if most lines of a file are no longer than some width W
and many come close to it, the file is hard-wrapped at W. A break between two lines is
then *soft* (made by the wrapper) when the next line's first word would not have fitted
on the line before; otherwise it is a real break between a title and an abstract. Files
that are not wrapped have one title line and one abstract line per card.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "ListingFileError",
    "ListingRecord",
    "Rejection",
    "ParseResult",
    "decode_listing",
    "parse_listing",
    "parse_listing_file",
    "MAX_LINE_CHARS",
]

# A line longer than this cannot be a title or an abstract: it is quarantined whole.
MAX_LINE_CHARS = 20_000
# A title is at most this long; anything longer is read as abstract text.
MAX_TITLE_CHARS = 300
# Text ending with a full stop is an abstract from this length on (titles rarely end so).
MIN_ABSTRACT_CHARS = 60
# A title-like line this long after a title is taken as its (one-sentence) abstract.
LONG_TITLE_CHARS = 150

_CHROME_PATTERNS = [
    r"get trending papers in your email inbox.*",
    r"subscribe",
    r"daily papers",
    r"trending papers",
    r"(trending|new|top|most upvoted)( papers)?",
    r"by ak and the research community",
    r"submit( a)? paper.*",
    r"search( papers| by arxiv id or title)?.*",
    r"(previous|next)( day| week| month)?",
    r"(load|show|view) (more|all).*",
    r"(sign up|log in|login|sign in)",
    r"hugging ?face",
    r"(models|datasets|spaces|posts|docs|enterprise|pricing)( (models|datasets|spaces|posts|docs|enterprise|pricing))+",
    r"(enterprise|pricing)",
    r"\d+(\.\d+)?k?( upvotes?| comments?| authors?)?",
    r"(upvote|comment|share|copy link)s?",
    r"(published|submitted|updated) (on|by)\b.*",
    r"·+|[-–—•|]+",
    r"(arxiv|pdf|project page)( page)?",
    r"\d{4}-\d{2}-\d{2}",
    r"(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]* \d{1,2}(, \d{4})?",
]
_CHROME_RE = re.compile(
    r"^(?:" + "|".join(_CHROME_PATTERNS) + r")[!.:]?$", re.IGNORECASE
)
# "Subscribe" glued to the first title of the page: "SubscribeMulti-Objective-Guided ..."
_GLUED_SUBSCRIBE_RE = re.compile(r"^Subscribe(?=[A-Z0-9\"'(\[])")

# Words that start sentences of an abstract but rarely a title.
_SENTENCE_STARTERS = frozenset(
    "we our this these here however specifically moreover furthermore additionally "
    "finally it its they their such while although thus hence therefore unlike compared "
    "extensive experiments experimental results code in to as by when".split()
)

# Zero-width and bidi control characters that render as nothing but break matching.
_INVISIBLE_RE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff\u00ad]")
# Control characters other than tab and newline.
_CONTROL_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


class ListingFileError(Exception):
    """A listing file that cannot be read at all (its message is one line, naming the file)."""


@dataclass(frozen=True)
class ListingRecord:
    position: int  # 1-based rank of the card on the page (repeated cards not counted)
    title: str
    abstract: str
    raw_text: str  # the lines the record was read from, as they were
    first_line: int  # 1-based line number in the file


@dataclass(frozen=True)
class Rejection:
    line: int  # 1-based line number of the first quarantined line
    raw_text: str
    reason: str


@dataclass
class ParseResult:
    records: list[ListingRecord] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    chrome: list[int] = field(
        default_factory=list
    )  # line numbers of dropped page chrome
    encoding: str = "utf-8"
    warnings: list[str] = field(default_factory=list)


@dataclass
class _Line:
    number: int
    raw: str
    text: str  # cleaned, page chrome removed
    wrap_text: str  # cleaned, as long as the wrapper saw it


def _looks_binary(data: bytes) -> bool:
    head = data[:8192]
    if not head:
        return False
    if b"\x00" in head:
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
            raise ListingFileError(
                f"{name}: not valid UTF-16 text ({exc.reason})"
            ) from None
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
    # Otherwise the file is in a single-byte encoding (Latin-1/cp1252 exports).
    high_bytes = sum(1 for b in data if b >= 0x80)
    if bad * 4 < high_bytes:
        warnings.append(f"{bad} invalid UTF-8 byte sequence(s) replaced with U+FFFD")
        return text, "utf-8", warnings
    try:
        return data.decode("cp1252"), "cp1252", warnings
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1", warnings


def clean_line(line: str) -> str:
    """NFC-normalise, drop invisible and control characters, fold whitespace runs."""
    line = unicodedata.normalize("NFC", line)
    line = _INVISIBLE_RE.sub("", line)
    line = _CONTROL_RE.sub(" ", line)
    return " ".join(line.split())


def _is_chrome(text: str) -> bool:
    return len(text) <= 80 and bool(_CHROME_RE.match(text))


def _wrap_width(lines: list[_Line]) -> int | None:
    """The width a file was hard-wrapped at, or None if it is not wrapped."""
    lengths = sorted(len(x.wrap_text) for x in lines)
    if len(lengths) < 6:
        return None
    width = lengths[-1]
    if width > 200:
        return None
    near = sum(1 for n in lengths if n >= width - 20)
    return width if near * 3 >= len(lengths) else None


def _soft_break(prev: _Line, nxt: _Line, width: int | None) -> bool:
    """True when the wrapper, not the author, broke the line between prev and nxt."""
    if width is None or nxt.number != prev.number + 1:
        return False
    first_word = nxt.wrap_text.split(" ", 1)[0]
    if prev.wrap_text.endswith("-"):  # broken after a hyphen: no space was lost
        return len(prev.wrap_text) + len(first_word) > width
    return len(prev.wrap_text) + 1 + len(first_word) > width


def _ends_sentence(text: str) -> bool:
    """Ends with a full stop (or ! or ?), or with a link, as abstracts often do."""
    return bool(
        re.search(
            r"[.!?][\"')\]]*$|\bhttps?://\S+$|\S+\.(git|html?|io|com|org)/?$", text
        )
    )


def _is_title_case(text: str, strict: bool = False) -> bool:
    """Most longer words capitalised, as in a title (abstract prose is mostly lowercase)."""
    words = [w for w in re.findall(r"[^\W\d_][\w'-]*", text) if len(w) >= 4]
    if not words:
        return len(text) <= 60
    share = sum(w[0].isupper() for w in words) / len(words)
    return share >= (0.75 if strict else 0.5)


def _join(lines: list[_Line]) -> str:
    out = ""
    for line in lines:
        if not out:
            out = line.text
        elif out.endswith("-") and not out.endswith(" -"):
            out += line.text
        else:
            out += " " + line.text
    return out


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


def _logical_lines(lines: list[_Line], width: int | None) -> list[list[_Line]]:
    """Group physical lines into logical lines: a title, or an abstract (rewrapped)."""
    if width is None:
        return [[line] for line in lines]

    def soft(i: int) -> bool:  # is the break between line i and line i + 1 soft?
        return i + 1 < len(lines) and _soft_break(lines[i], lines[i + 1], width)

    def starts_title(i: int) -> bool:
        text = lines[i].text
        if text.endswith("."):
            return False
        if i == 0 or not soft(i - 1):
            return True
        # A wrapped line that ends a sentence, then a title-looking line: either a new
        # card or the abstract going on. Only a clearly title-cased line counts.
        if not _ends_sentence(lines[i - 1].text):
            return False
        first = text.split(" ", 1)[0].lower().strip("(\"'")
        return _is_title_case(text, strict=True) and first not in _SENTENCE_STARTERS

    def continues_title(j: int) -> bool:  # does title line j go on at line j + 1?
        if not soft(j) or _ends_sentence(lines[j].text):
            return False
        return _is_title_case(lines[j + 1].text) or not soft(j + 1)

    groups: list[list[_Line]] = []
    i = 0
    after_title = False
    while i < len(lines):
        j = i
        if not after_title and starts_title(i):
            after_title = True
            while j - i < 2 and continues_title(j):
                j += 1
        else:
            after_title = False
            while soft(j) and not starts_title(j + 1):
                j += 1
        groups.append(lines[i : j + 1])
        i = j + 1
    return groups


def _norm_key(text: str) -> str:
    return re.sub(r"\W+", " ", text.casefold()).strip()


def parse_listing(text: str) -> ParseResult:
    """Parse decoded listing text. Never raises on content."""
    result = ParseResult()
    content: list[_Line] = []
    physical = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for number, raw in enumerate(physical, start=1):
        cleaned = clean_line(raw)
        if not cleaned:
            continue
        if len(cleaned) > MAX_LINE_CHARS:
            result.rejections.append(
                Rejection(
                    number,
                    raw[:2000],
                    f"line of {len(cleaned):,} characters is longer than "
                    f"{MAX_LINE_CHARS:,}: not a title or an abstract",
                )
            )
            continue
        wrapped = cleaned
        glued = _GLUED_SUBSCRIBE_RE.match(cleaned)
        if glued:
            cleaned = cleaned[glued.end() :]
        if _is_chrome(cleaned):
            result.chrome.append(number)
            continue
        content.append(_Line(number, raw, cleaned, wrapped))

    width = _wrap_width(content)
    groups = _logical_lines(content, width)
    seen: dict[tuple[str, str], int] = {}

    def raw_of(*gs: list[_Line]) -> str:
        return "\n".join(line.raw.rstrip("\r") for g in gs for line in g)

    text_of = _join

    i = 0
    while i < len(groups):
        group = groups[i]
        head = text_of(group)
        nxt = text_of(groups[i + 1]) if i + 1 < len(groups) else None
        if _is_title_like(head) and nxt is not None and _is_abstract_like(nxt):
            key = (_norm_key(head), _norm_key(nxt))
            first = group[0].number
            if key in seen:
                result.rejections.append(
                    Rejection(
                        first,
                        raw_of(group, groups[i + 1]),
                        f"duplicate card: same title and abstract as position {seen[key]}",
                    )
                )
            else:
                position = len(result.records) + 1
                seen[key] = position
                result.records.append(
                    ListingRecord(
                        position, head, nxt, raw_of(group, groups[i + 1]), first
                    )
                )
            i += 2
            continue
        if _is_title_like(head):
            reason = (
                "title without abstract at end of file"
                if nxt is None
                else "title without abstract: the next line is another title"
            )
        else:
            reason = "abstract without title"
        result.rejections.append(Rejection(group[0].number, raw_of(group), reason))
        i += 1
    return result


def file_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def parse_listing_file(path: Path) -> tuple[ParseResult, str]:
    """Read and parse one listing file. Returns (result, sha256 of the bytes).

    Raises ListingFileError (one line, naming the file) when the file cannot be used.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ListingFileError(
            f"{path.name}: cannot read ({exc.strerror or exc})"
        ) from None
    text, encoding, warnings = decode_listing(data, path.name)
    result = parse_listing(text)
    result.encoding = encoding
    result.warnings.extend(warnings)
    return result, file_sha256(data)
