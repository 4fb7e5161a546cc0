"""What a listing file is, from its content alone (never its name).

``sniff_binary`` looks at the magic bytes of documents, images and archives that are
not listings; ``detect_text`` tells the structured formats apart once the bytes are
decoded, and sends everything else to the page-text parser.
"""

from __future__ import annotations

import json
import re

from transforms.formats.snapshot import is_snapshot_record
from transforms.records import ListingFileError

__all__ = ["declared_xml_encoding", "detect_text", "sniff_binary"]

# (test on the first bytes, what the file is)
_MAGIC: list[tuple[object, str]] = [
    (lambda b: b.startswith(b"%PDF-"), "PDF document"),
    (lambda b: b.startswith(b"\x89PNG\r\n\x1a\n"), "PNG image"),
    (lambda b: b.startswith(b"\xff\xd8\xff"), "JPEG image"),
    (lambda b: b.startswith((b"GIF87a", b"GIF89a")), "GIF image"),
    (lambda b: b.startswith(b"RIFF") and b[8:12] == b"WEBP", "WebP image"),
    (lambda b: b.startswith((b"II*\x00", b"MM\x00*")), "TIFF image"),
    (lambda b: b.startswith((b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")), "ZIP archive"),
    (lambda b: b.startswith(b"\x1f\x8b"), "gzip-compressed data"),
    (lambda b: b[257:262] == b"ustar", "tar archive"),
    (lambda b: b.startswith(b"7z\xbc\xaf\x27\x1c"), "7z archive"),
    (lambda b: b.startswith(b"BZh") and b[3:4].isdigit(), "bzip2-compressed data"),
    (lambda b: b.startswith(b"\xfd7zXZ\x00"), "xz-compressed data"),
    (lambda b: b.startswith(b"\x28\xb5\x2f\xfd"), "zstd-compressed data"),
    (lambda b: b.startswith(b"Rar!\x1a\x07"), "RAR archive"),
    (lambda b: b.startswith(b"SQLite format 3\x00"), "SQLite database"),
    (lambda b: b.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"), "Microsoft Office document"),
]
_HINTS = {
    "ZIP archive": ": unpack it and land the files inside",
    "gzip-compressed data": ": decompress it first",
    "bzip2-compressed data": ": decompress it first",
    "xz-compressed data": ": decompress it first",
    "zstd-compressed data": ": decompress it first",
}

_PROLOG_RE = re.compile(
    r"\A(?:\s+|<\?.*?\?>|<!--.*?-->|<!DOCTYPE(?:[^>\[]|\[.*?\])*>)*", re.S | re.I
)
_ROOT_RE = re.compile(r"<([A-Za-z_][\w:.-]*)(?=[\s>/])")
_DOCTYPE_HTML_RE = re.compile(r"<!DOCTYPE\s+html", re.I)
_HTML_TAGS = frozenset(
    {"html", "head", "body", "div", "table", "p", "span", "section", "article", "main"}
    | {"header", "nav", "form", "ul", "ol", "script", "style", "meta", "link", "title"}
)
_ENCODING_RE = re.compile(
    rb"""\A(?:\xef\xbb\xbf)?\s*<\?xml[^>]*?encoding\s*=\s*["']([\w.:-]+)["']"""
)
HTML_MESSAGE = "HTML page source, not a listing: save the page as text or Markdown"


def sniff_binary(data: bytes, name: str) -> None:
    """Raise ListingFileError for a document, image or archive (by magic bytes)."""
    head = data[:512]
    for test, what in _MAGIC:
        if test(head):  # type: ignore[operator]
            raise ListingFileError(f"{name}: {what}, not a listing{_HINTS.get(what, '')}")


def declared_xml_encoding(data: bytes) -> str | None:
    """The encoding an XML declaration names, if it is not UTF-8/UTF-16 (or None)."""
    match = _ENCODING_RE.match(data[:200])
    if not match:
        return None
    encoding = match.group(1).decode("ascii").lower()
    return None if encoding.replace("-", "").replace("_", "") in {"utf8", "utf16"} else encoding


def _root_element(text: str) -> tuple[str | None, int]:
    """The name of the first element after the XML prolog, and where it starts."""
    prolog = _PROLOG_RE.match(text)
    start = prolog.end() if prolog else 0
    match = _ROOT_RE.match(text, start)
    return (match.group(1), start) if match else (None, start)


def _json_start(body: str) -> bool:
    """Does the text start like a JSON array or object (not like Markdown "[link](...)")?"""
    if not body or body[0] not in "[{":
        return False
    rest = body[1:200].lstrip()
    if body[0] == "[":
        return rest[:1] in ("{", "[", "]", "")
    return rest[:1] in ('"', "}")


def _snapshot_lines(body: str) -> bool:
    lines = [line for line in body.split("\n", 6)[:6] if line.strip()]
    for line in lines[:5]:
        try:
            value = json.loads(line)
        except (ValueError, RecursionError):
            continue
        return is_snapshot_record(value)
    return False


def detect_text(text: str, name: str) -> str:
    """The format of decoded listing text: "hf_json" (one of the HF API shapes, decided
    by its parser), "arxiv_snapshot", "arxiv_api_atom", "arxiv_rss", "arxiv_feed_atom",
    or "text" for everything else (pasted pages). Raises ListingFileError for HTML page
    source and XML that is not a listing feed."""
    body = text.lstrip("\ufeff \t\r\n")
    if _json_start(body):
        if body[0] == "{" and _snapshot_lines(body):
            return "arxiv_snapshot"
        return "hf_json"
    if body and body[0] in "[{":
        try:
            json.loads(body)
        except (ValueError, RecursionError):
            return "text"
        return "hf_json"
    if not body.startswith("<"):
        return "text"
    head = body[:4096]
    if _DOCTYPE_HTML_RE.search(head[:1024]):
        raise ListingFileError(f"{name}: {HTML_MESSAGE}")
    root, _ = _root_element(body)
    if root is None:
        return "text"
    local = root.rpartition(":")[2].lower()
    if local == "html":
        raise ListingFileError(f"{name}: {HTML_MESSAGE}")
    if local == "rss" or root == "rdf:RDF":
        return "arxiv_rss"
    if local == "feed":
        return _atom_kind(body)
    tail = body.rstrip()[-200:]
    looks_xml = body.startswith("<?xml") or re.search(rf"</{re.escape(root)}\s*>\s*\Z", tail)
    if local in _HTML_TAGS and (looks_xml or tail.endswith(">")):
        raise ListingFileError(f"{name}: {HTML_MESSAGE}")
    if looks_xml:
        raise ListingFileError(f"{name}: XML document (<{root}>), not a listing feed")
    return "text"


def _atom_kind(body: str) -> str:
    """arXiv API results or an announcement feed, from the feed's own marks."""
    first = body.find("<entry")
    head = body[: first if first >= 0 else 8192][:8192]
    if "opensearch" in head or re.search(r"<id>\s*https?://(?:export\.)?arxiv\.org/api/", head):
        return "arxiv_api_atom"
    if "rss.arxiv.org" in head or "announce_type" in body[:65536]:
        return "arxiv_feed_atom"
    if re.search(r"Announce\s+Type:", body[:65536]):
        return "arxiv_feed_atom"
    return "arxiv_api_atom"
