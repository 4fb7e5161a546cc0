"""arXiv XML: the API's Atom (``export.arxiv.org/api/query``, old and new style) and the
announcement feeds (``rss.arxiv.org/rss/<cats>`` RSS 2.0, ``/atom/<cats>`` Atom).

Parsed with feedparser. Each ``<entry>``/``<item>`` element is also cut out of the text,
for its ``raw_text`` and so that one damaged entry costs only itself: a well-formed file
is parsed whole; a file that is not (cut off, a broken entry) is parsed entry by entry,
and an entry that is not well-formed XML, or has no closing tag, is a Rejection.
"""

from __future__ import annotations

import datetime as dt
import html
import re
import xml.sax

import feedparser

from transforms.formats._common import EntrySink, any_date, iso_date, text_field
from transforms.records import ListingRecord, ParseResult, Rejection, fold_ws, split_arxiv_id

__all__ = ["parse_arxiv_xml", "split_authors"]

# "arXiv:2609.26811v1 Announce Type: new \nAbstract: ..." (arxiv-feed's serializer)
_ANNOUNCE_RE = re.compile(
    r"^\s*arXiv:\s*(?P<id>\S+?)\s+Announce\s+Type:\s*(?P<type>[\w-]+)\s*(?:Abstract:\s*)?",
    re.IGNORECASE,
)
_XML_DECL_RE = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)
_BETWEEN_TAGS_RE = re.compile(r">\s+<")
_SUFFIXES = frozenset({"jr", "jr.", "sr", "sr.", "ii", "iii", "iv"})
_ANNOUNCE_TYPES = frozenset({"new", "cross", "replace", "replace-cross"})


def split_authors(text: str) -> list[str]:
    """Names of a feed's ``dc:creator`` string ("A. One, B. Two and C. Three")."""
    names: list[str] = []
    for part in re.split(r"\s*,\s*|\s+and\s+", fold_ws(text)):
        part = part.strip()
        if not part:
            continue
        if names and part.lower() in _SUFFIXES:
            names[-1] = f"{names[-1]}, {part}"
        else:
            names.append(part)
    return names


def _chunks(text: str, tag: str) -> tuple[str, list[tuple[str, bool]]]:
    """The text before the first entry, and every entry's text with whether it is
    complete (has its closing tag). An entry runs from its start tag to the next one."""
    starts = [m.start() for m in re.finditer(rf"<{tag}[\s>/]", text)]
    if not starts:
        return text, []
    close = f"</{tag}>"
    chunks = []
    for i, start in enumerate(starts):
        stop = starts[i + 1] if i + 1 < len(starts) else len(text)
        end = text.find(close, start, stop)
        if end < 0:
            chunks.append((text[start:stop].rstrip(), False))
        else:
            chunks.append((text[start : end + len(close)], True))
    return text[: starts[0]], chunks


def _feedparse(text: str):
    return feedparser.parse(
        ('<?xml version="1.0" encoding="utf-8"?>\n' + text).encode("utf-8"),
        sanitize_html=False,
        resolve_relative_uris=False,
    )


def _fatal(parsed) -> str | None:
    exc = parsed.get("bozo_exception") if parsed.get("bozo") else None
    if isinstance(exc, xml.sax.SAXException):
        return str(exc.getMessage() if hasattr(exc, "getMessage") else exc)
    return None


def parse_arxiv_xml(text: str, fmt: str) -> ParseResult:
    """Parse decoded arXiv API or feed XML; ``fmt`` is arxiv_api_atom, arxiv_rss or
    arxiv_feed_atom (see transforms.formats.detect). Never raises on content."""
    text = _XML_DECL_RE.sub("", text.replace("\r\n", "\n").replace("\r", "\n"), count=1)
    tag = "item" if fmt == "arxiv_rss" else "entry"
    preamble, chunks = _chunks(text, tag)
    sink = EntrySink(fmt)
    whole = _feedparse(text)
    feed_date = any_date(whole.feed.get("published") or whole.feed.get("updated"))
    complete = all(ok for _, ok in chunks)
    if complete and _fatal(whole) is None and len(whole.entries) == len(chunks):
        entries = [
            (raw, entry, None) for (raw, _), entry in zip(chunks, whole.entries, strict=True)
        ]
    else:
        # Entry by entry: each wrapped in the document's own opening (namespaces and all).
        root = re.search(r"<(rdf:RDF|rss|feed)\b[^>]*>(?:\s*<channel\b[^>]*>)?", preamble)
        opening = root.group(0) if root else ""
        closing = (
            ""
            if not root
            else {"feed": "</feed>", "rdf:RDF": "</rdf:RDF>"}.get(root.group(1), "</channel></rss>")
        )
        entries = []
        for raw, ok in chunks:
            if not ok:
                entries.append((raw, None, f"no closing </{tag}> (file truncated or damaged)"))
                continue
            one = _feedparse(opening + raw + closing)
            error = _fatal(one)
            if error is None and len(one.entries) != 1:
                error = f"{len(one.entries)} entries read from one <{tag}> element"
            if error is not None:
                entries.append((raw, None, f"not well-formed XML ({error})"))
            else:
                entries.append((raw, one.entries[0], None))
    for index, (raw, entry, error) in enumerate(entries, start=1):
        compact = _BETWEEN_TAGS_RE.sub("><", raw.strip())
        if entry is None:
            sink.reject(index, compact, error or "unreadable entry")
        else:
            _add_entry(sink, index, compact, entry, fmt, feed_date)
    if not chunks:
        total = whole.feed.get("opensearch_totalresults")
        sink.result.warnings.append(
            f"no entries (the query matched {total} papers)"
            if fmt == "arxiv_api_atom" and total is not None
            else "no entries"
        )
    return sink.result


def _add_entry(
    sink: EntrySink,
    index: int,
    raw: str,
    entry,
    fmt: str,
    feed_date: dt.date | None,
) -> ListingRecord | Rejection:
    entry_id = entry.get("id") or ""
    title = text_field(entry.get("title"))
    summary = entry.get("summary") or ""
    if isinstance(summary, str) and (entry.get("summary_detail") or {}).get("type") == "text/html":
        summary = html.unescape(summary)  # RSS description: feedparser keeps it HTML-escaped
    if "arxiv.org/api/errors" in entry_id or (title == "Error" and "/api/" in entry_id):
        error = text_field(summary) or text_field(entry_id.rpartition("#")[2].replace("_", " "))
        return sink.reject(index, raw, f"arXiv API error: {error or 'unknown error'}")
    announce = _ANNOUNCE_RE.match(summary) if isinstance(summary, str) else None
    abstract = text_field(summary[announce.end() :] if announce else summary)

    arxiv_id, version = split_arxiv_id(entry_id)
    if announce is not None:
        prefix_id, prefix_version = split_arxiv_id(announce.group("id"))
        arxiv_id = arxiv_id or prefix_id
        if version is None and prefix_id == arxiv_id:
            version = prefix_version
    if arxiv_id is None:
        arxiv_id, link_version = split_arxiv_id(entry.get("link"))
        version = version or link_version
    if arxiv_id is None:
        return sink.reject(index, raw, "no arXiv id")
    if not title:
        return sink.reject(index, raw, "no title")
    if not abstract:
        return sink.reject(index, raw, "no abstract")

    announce_type = entry.get("arxiv_announce_type") or (
        announce.group("type") if announce else None
    )
    announce_type = (fold_ws(announce_type).lower() or None) if announce_type else None
    if announce_type is not None and announce_type not in _ANNOUNCE_TYPES:
        sink.result.warnings.append(
            f"entry {index}: unknown announce type {announce_type!r} (kept as given)"
        )

    if fmt == "arxiv_api_atom":
        authors = tuple(
            name for a in entry.get("authors") or () if (name := text_field(a.get("name")))
        )
        published = iso_date(entry.get("published"))
    else:
        authors = tuple(
            name for a in entry.get("authors") or () for name in split_authors(a.get("name") or "")
        )
        # A feed tells the announcement day only: it is the v1 date for version 1 alone.
        announced = any_date(entry.get("published") or entry.get("updated")) or feed_date
        published = announced if version == 1 else None

    categories: list[str] = []
    primary = entry.get("arxiv_primary_category")
    if isinstance(primary, dict) and text_field(primary.get("term")):
        categories.append(text_field(primary.get("term")))
    for tag in entry.get("tags") or ():
        term = text_field(tag.get("term"))
        if term and term not in categories:
            categories.append(term)

    return sink.add(
        index,
        raw,
        title,
        abstract,
        arxiv_id,
        arxiv_id=arxiv_id,
        arxiv_version=version,
        authors=authors,
        categories=tuple(categories),
        url=f"https://arxiv.org/abs/{arxiv_id}",
        published=published,
        announce_type=announce_type,
    )
