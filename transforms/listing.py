"""Parse the text of a pasted Hugging Face Papers page into paper records.

A pasted page is a stream of lines: page chrome ("Get trending papers in your email
inbox!", "Subscribe", upvote counts...), then for every paper card a title followed by
its abstract. Titles and abstracts may be hard-wrapped over several lines, cards may be
repeated, and the bytes may carry a BOM, CRLF line ends or invalid UTF-8.

The parser never raises on content. Every non-blank input line ends up in exactly one of
three places: a ``ListingRecord``, a ``Rejection`` (quarantine, with a reason) or the
``chrome`` list (page UI text that is dropped on purpose). Only an unusable *file*
(binary data, unreadable, larger than ``MAX_FILE_BYTES``) raises ``ListingFileError``
with a one-line message naming it. A card whose title or abstract is outside the
bounds the raw-listings gate checks (``CARD_TITLE_CHARS``, ``CARD_ABSTRACT_CHARS``) is
quarantined rather than kept.

How wrapped lines are rejoined: if most lines of a file are no longer than some width W
and many come close to it, the file is hard-wrapped at W. A break between two lines is
then *soft* (made by the wrapper) when the next line's first word would not have fitted
on the line before; otherwise it is a real break between a title and an abstract. A
run of soft-joined lines that ends at a real break without finishing a sentence cannot
be the end of an abstract, so after a sentence end such a short run is read as a title.
Files that are not wrapped have one title line and one abstract line per card.

Chrome patterns match whole lines only. In a wrapped file a chrome-looking line that
finishes a sentence left open on the line before ("Hugging Face.") is text. Lines made
only of invisible or control characters are listed with the chrome.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from transforms.records import (
    CARD_ABSTRACT_CHARS,
    CARD_TITLE_CHARS,
    ListingFileError,
    ListingRecord,
    ParseResult,
    Rejection,
    card_out_of_bounds,
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
_DATE = (
    r"(\d{4}-\d{2}-\d{2}"
    r"|(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.? \d{1,2}(, \d{4})?)"
)
_NAV = r"(models|datasets|spaces|posts|docs|enterprise|pricing)"
_CHROME_PATTERNS = [
    # Every pattern matches a whole line: a pattern ending in ".*" would also swallow
    # real text that merely starts with the same word ("Search-R1: ...", or a wrapped
    # abstract line beginning "search. To demonstrate ...").
    r"get trending papers in your email inbox( once a day)?",
    r"subscribe",
    r"daily papers",
    r"trending papers",
    r"(trending|new|top|most upvoted)( papers)?",
    r"by ak and the research community",
    r"submit( a)? paper( to daily papers)?",
    r"search( papers)?( by arxiv id or title)?( \.\.\.|\.\.\.|…)?",
    r"(previous|next)( day| week| month)?",
    r"(load|show|view) (more|all)( papers)?",
    r"(sign up|log in|login|sign in)",
    r"hugging ?face",
    rf"{_NAV}( {_NAV})+",
    r"(enterprise|pricing)",
    r"\d+(\.\d+)?k?( upvotes?| comments?| authors?)?",
    r"(upvote|comment|share|copy link)s?",
    rf"(published|submitted|updated) on {_DATE}",
    r"submitted by @?[\w.-]+",
    r"·+|[-–—•|]+",
    r"(arxiv|pdf|project page)( page)?",
    _DATE,
]
_CHROME_RE = re.compile(r"^(?:" + "|".join(_CHROME_PATTERNS) + r")[!.:]?$", re.IGNORECASE)
# "Subscribe" glued to the first title of the page: "SubscribeMulti-Objective-Guided ..."
_GLUED_SUBSCRIBE_RE = re.compile(r"^Subscribe(?=[A-Z0-9\"'(\[])")

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
    if re.search(r"\w\S*-$", prev.wrap_text):  # broken after a hyphen: no space lost
        return len(prev.wrap_text) + len(first_word) > width
    return len(prev.wrap_text) + 1 + len(first_word) > width


def _finishes_wrapped_sentence(prev: _Line, line: _Line, width: int) -> bool:
    """A chrome-looking line that is the wrapped tail of the sentence on prev."""
    return not _ends_sentence(prev.text) and _soft_break(prev, line, width)


def _ends_sentence(text: str) -> bool:
    """Ends with a full stop (or ! or ?), or with a link, as abstracts often do."""
    return bool(re.search(r"[.!?][\"')\]}]*$|\bhttps?://\S+$|\S+\.(git|html?|io|com|org)/?$", text))


def _is_title_case(text: str, strict: bool = False) -> bool:
    """Most longer words capitalised, as in a title (abstract prose is mostly lowercase)."""
    words = [w for w in re.findall(r"[^\W\d_][\w'-]*", text) if len(w) >= 4]
    if not words:
        return len(text) <= 60
    share = sum(w[0].isupper() for w in words) / len(words)
    return share >= (0.75 if strict else 0.5)


def _join(lines: list[_Line], width: int | None = None) -> str:
    """Rejoin the physical lines of one logical line.

    No space is put back after a word-internal hyphen ("Multi-" + "Objective"), nor
    inside a word longer than the wrap width that the wrapper had to cut (a URL): such
    a cut leaves the line exactly ``width`` long.
    """
    out = ""
    prev: _Line | None = None
    for line in lines:
        if prev is None:
            out = line.text
        elif _glued_break(prev, line, width):
            out += line.text
        else:
            out += " " + line.text
        prev = line
    return out


def _glued_break(prev: _Line, line: _Line, width: int | None) -> bool:
    """True when prev and line are parts of one word: no space between them."""
    if re.search(r"\w\S*-$", prev.text):  # "Multi-" + "Objective", "changes--" + ...
        return True
    if width is None or len(prev.wrap_text) != width:
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


def _logical_lines(lines: list[_Line], width: int | None) -> list[list[_Line]]:
    """Group physical lines into logical lines: a title, or an abstract (rewrapped)."""
    if width is None:
        return [[line] for line in lines]

    n = len(lines)
    soft_after = [i + 1 < n and _soft_break(lines[i], lines[i + 1], width) for i in range(n)]

    def soft(i: int) -> bool:  # is the break between line i and line i + 1 soft?
        return soft_after[i]

    def whole_title(i: int) -> int | None:
        """Last line k when lines i..k are a whole title: a short run of lines that
        ends with a hard break (or the file) without ending a sentence anywhere."""
        for k in range(i, min(i + 3, n)):
            text = lines[k].text
            if _ends_sentence(text) and (soft(k) or not text.endswith("?")):
                return None
            if not soft(k):
                return k if _is_title_like(_join(lines[i : k + 1], width)) else None
        return None

    def starts_title(i: int) -> bool:
        text = lines[i].text
        if text.endswith("."):
            return False
        if i == 0 or not soft(i - 1):
            return True
        # A wrapped line that ends a sentence, then a title-looking line: either a new
        # card or the abstract going on. A run of lines ending at a hard break without
        # finishing a sentence cannot be the end of an abstract, so it is a title;
        # otherwise only a clearly title-cased line counts.
        if not _ends_sentence(lines[i - 1].text) or _glued_break(lines[i - 1], lines[i], width):
            return False
        if whole_title(i) is not None:
            return True
        first = text.split(" ", 1)[0].lower().strip("(\"'")
        return _is_title_case(text, strict=True) and first not in _SENTENCE_STARTERS

    def continues_title(j: int) -> bool:  # does title line j go on at line j + 1?
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
    while i < len(lines):
        j = i
        if not after_title and starts_title(i):
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


def _norm_key(text: str) -> str:
    return re.sub(r"\W+", " ", text.casefold()).strip()


def parse_listing(text: str) -> ParseResult:
    """Parse decoded listing text. Never raises on content."""
    result = ParseResult()
    content: list[_Line] = []
    chrome: list[_Line] = []
    physical = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for number, raw in enumerate(physical, start=1):
        cleaned = clean_line(raw)
        if not cleaned:
            if raw.strip():  # only invisible/control characters: accounted as chrome
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
        (chrome if _is_chrome(cleaned) else content).append(line)

    width = _wrap_width(content)
    if width is not None and chrome:
        # In a hard-wrapped file the last line of a sentence can look like chrome
        # ("Hugging Face.", "42.") when the line before left the sentence open.
        by_number = {line.number: line for line in content}
        kept: list[_Line] = []
        for line in chrome:
            prev = by_number.get(line.number - 1)
            if prev is not None and _finishes_wrapped_sentence(prev, line, width):
                by_number[line.number] = line
            else:
                kept.append(line)
        chrome = kept
        content = sorted(by_number.values(), key=lambda x: x.number)
    result.chrome.extend(line.number for line in chrome)
    result.chrome.sort()
    groups = _logical_lines(content, width)
    seen: dict[tuple[str, str], int] = {}

    def raw_of(*gs: list[_Line]) -> str:
        return "\n".join(line.raw.rstrip("\r") for g in gs for line in g)

    def lines_of(*gs: list[_Line]) -> tuple[int, ...]:
        return tuple(line.number for g in gs for line in g)

    def text_of(group: list[_Line]) -> str:
        return _join(group, width)

    i = 0
    while i < len(groups):
        group = groups[i]
        head = text_of(group)
        nxt = text_of(groups[i + 1]) if i + 1 < len(groups) else None
        if _is_title_like(head) and nxt is not None and _is_abstract_like(nxt):
            key = (_norm_key(head), _norm_key(nxt))
            first = group[0].number
            out_of_bounds = card_out_of_bounds(head, nxt)
            if out_of_bounds:
                result.rejections.append(
                    Rejection(
                        first,
                        raw_of(group, groups[i + 1])[:MAX_LINE_CHARS],
                        f"card not kept: {out_of_bounds}",
                        lines_of(group, groups[i + 1]),
                    )
                )
            elif key in seen:
                result.rejections.append(
                    Rejection(
                        first,
                        raw_of(group, groups[i + 1]),
                        f"duplicate card: same title and abstract as position {seen[key]}",
                        lines_of(group, groups[i + 1]),
                    )
                )
            else:
                position = len(result.records) + 1
                seen[key] = position
                result.records.append(
                    ListingRecord(
                        position,
                        head,
                        nxt,
                        raw_of(group, groups[i + 1]),
                        first,
                        lines_of(group, groups[i + 1]),
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
        result.rejections.append(Rejection(group[0].number, raw_of(group), reason, lines_of(group)))
        i += 1
    result.rejections.sort(key=lambda r: r.line)
    return result


def file_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def parse_listing_file(path: Path) -> tuple[ParseResult, str]:
    """Read and parse one listing file. Returns (result, sha256 of the bytes).

    Raises ListingFileError (one line, naming the file) when the file cannot be used.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES and path.is_file():
            raise ListingFileError(
                f"{path.name}: {size:,} bytes is larger than the {MAX_FILE_BYTES:,} bytes "
                "a listing may have"
            )
        data = path.read_bytes()
    except OSError as exc:
        raise ListingFileError(f"{path.name}: cannot read ({exc.strerror or exc})") from None
    text, encoding, warnings = decode_listing(data, path.name)
    result = parse_listing(text)
    result.encoding = encoding
    result.warnings.extend(warnings)
    return result, file_sha256(data)
