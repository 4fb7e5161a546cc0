"""Every listing format the pipeline reads, detected from the file's content.

``parse_document(bytes, name)`` sniffs the bytes (documents, images and archives are
refused by their magic bytes), decodes them (any encoding ``transforms.listing`` can
read), detects the format and hands the text to its parser: Hugging Face API JSON,
arXiv API Atom, arXiv announcement feeds (RSS 2.0 and Atom), the Kaggle arXiv snapshot
(JSON Lines), and for any other text the pasted-page parser of ``transforms.listing``.

The result's ``format`` is one of ``FORMATS``. Content never raises: a bad entry is a
Rejection with its reason and the good entries beside it are kept. Only an unusable file
raises ``ListingFileError`` with one line naming the file and saying what it is.
"""

from __future__ import annotations

import os
from pathlib import Path

from transforms.formats.arxiv import parse_arxiv_xml
from transforms.formats.detect import declared_xml_encoding, detect_text, sniff_binary
from transforms.formats.hf_api import parse_hf_api
from transforms.formats.snapshot import iter_snapshot, parse_snapshot
from transforms.listing import (
    decode_listing,
    file_sha256,
    parse_listing,
    read_listing_file,
)
from transforms.records import ListingFileError, ParseResult

__all__ = [
    "FORMATS",
    "ListingFileError",
    "iter_snapshot",
    "parse_document",
    "parse_file",
]

FORMATS: dict[str, str] = {
    "hf_page_text": "Hugging Face Papers page copied as plain text (select all, paste)",
    "hf_page_markdown": "Hugging Face Papers page saved as Markdown (save-as, crawler, extension)",
    "hf_api_daily_papers": "Hugging Face API /api/daily_papers JSON: items with a nested paper",
    "hf_api_paper": "Hugging Face API /api/papers/<id> JSON: one paper object, no wrapper",
    "hf_api_search": "Hugging Face API /api/papers/search JSON: items with search highlights",
    "arxiv_api_atom": "arXiv API Atom response (export.arxiv.org/api/query), old or new style",
    "arxiv_rss": "arXiv announcement feed, RSS 2.0 (rss.arxiv.org/rss/<categories>)",
    "arxiv_feed_atom": "arXiv announcement feed, Atom (rss.arxiv.org/atom/<categories>)",
    "arxiv_snapshot": "Kaggle arXiv metadata snapshot (arxiv-metadata-oai-snapshot.json), JSON Lines",
}


def _decode(data: bytes, name: str) -> tuple[str, str, list[str]]:
    encoding = declared_xml_encoding(data)
    if encoding is not None:
        try:
            return data.decode(encoding), encoding, []
        except (LookupError, UnicodeDecodeError):
            pass  # a declaration that lies: read the bytes as any other text
    return decode_listing(data, name)


def parse_document(data: bytes, name: str = "<listing>") -> ParseResult:
    """Parse the bytes of one listing file of any supported format.

    Raises ListingFileError (one line, naming ``name``) when the file is not a listing.
    """
    sniff_binary(data, name)
    text, encoding, warnings = _decode(data, name)
    kind = detect_text(text, name)
    if kind == "text":
        result = parse_listing(text)
    elif kind == "hf_json":
        result = parse_hf_api(text, name)
    elif kind == "arxiv_snapshot":
        result = parse_snapshot(text)
    else:
        result = parse_arxiv_xml(text, kind)
    result.encoding = encoding
    result.warnings[:0] = warnings
    return result


def parse_file(path: str | os.PathLike) -> tuple[ParseResult, str]:
    """Read and parse one listing file. Returns (result, sha256 hex of the bytes).

    A file larger than ``MAX_FILE_BYTES`` is refused unread (for the multi-GB arXiv
    snapshot use ``iter_snapshot``). Raises ListingFileError when the file cannot be used.
    """
    path = Path(path)
    data = read_listing_file(path)
    return parse_document(data, path.name), file_sha256(data)
