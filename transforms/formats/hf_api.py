"""Hugging Face Papers API JSON: ``/api/daily_papers``, ``/api/papers/search`` (arrays of
items with a nested ``paper``) and ``/api/papers/<id>`` (one paper object, no wrapper).

A damaged array keeps every complete item: items are decoded one by one, and after a
damaged item reading resumes at the next complete one; a file cut off inside an item
keeps everything before it.
"""

from __future__ import annotations

import json
import re

from transforms.formats._common import (
    EntrySink,
    int_field,
    iso_date,
    text_field,
    url_field,
)
from transforms.records import (
    ListingFileError,
    ListingRecord,
    ParseResult,
    Rejection,
    github_repo_url,
    split_arxiv_id,
)

__all__ = ["detect_hf_json", "parse_hf_api"]

_DECODER = json.JSONDecoder()
_WS = re.compile(r"[ \t\n\r]*")
# Where the next item of an array may start after a damaged one: "}," then "{".
_RESYNC = re.compile(r"\}[ \t\n\r]*,[ \t\n\r]*(?=\{)")
_SEARCH_KEYS = frozenset({"highlightedTitle", "highlightedSummary", "upvoted"})


def _paper_of(item: object) -> dict | None:
    """The paper object of an API item (wrapped or bare), or None if it is not one."""
    if not isinstance(item, dict):
        return None
    paper = item.get("paper")
    if isinstance(paper, dict):
        return paper
    if "id" in item and ("title" in item or "summary" in item):
        return item
    return None


def _compact(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _jsonpos(text: str, pos: int) -> str:
    line = text.count("\n", 0, pos) + 1
    col = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return f"line {line} column {col}"


def _json_error(text: str, exc: json.JSONDecodeError) -> str:
    """ "Expecting ',' delimiter at line 1 column 5" (json's own message, its position)."""
    where = _jsonpos(text, exc.pos)
    return f"{exc.msg} {where}" if exc.msg.endswith(" at") else f"{exc.msg} at {where}"


class _Damage:
    def __init__(self, start: int, reason: str, resume: int | None) -> None:
        self.start = start  # where the damaged text starts
        self.reason = reason
        self.resume = resume  # where reading went on, None if it stopped


def _scan_array(text: str, pos: int) -> list[object]:
    """Entries of the JSON array starting at ``text[pos] == "["``, decoded one by one:
    the complete items in order, with a ``_Damage`` where a stretch could not be read."""
    items: list[object] = []
    end_of_text = len(text.rstrip())
    pos = _WS.match(text, pos + 1).end()
    if text.startswith("]", pos):
        return items
    while True:
        start = pos
        if start >= end_of_text:
            reason = (
                f"file truncated after entry {len(items)}: the JSON array has no closing ']' "
                "(any entries after it are lost)"
            )
            items.append(_Damage(start, reason, None))
            return items
        try:
            item, pos = _DECODER.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            error = _json_error(text, exc)
        else:
            items.append(item)
            pos = _WS.match(text, pos).end()
            if pos < len(text) and text[pos] == "]":
                return items
            if pos < len(text) and text[pos] == ",":
                pos = _WS.match(text, pos + 1).end()
                continue
            if pos >= end_of_text:
                continue  # reported as truncation above
            items.pop()
            error = f"expected ',' or ']' after the entry at {_jsonpos(text, pos)}"
        # Damaged or cut off: go on at the next item that decodes to a paper, if any.
        resume = _resync(text, start + 1)
        if resume is not None:
            reason = f"not valid JSON ({error}): skipped to the next complete entry"
        elif not text.rstrip().endswith("]"):
            reason = (
                f"file truncated inside this entry ({error}; the JSON array ends after "
                f"{end_of_text:,} characters with no closing ']'): this entry was not read"
            )
        else:
            reason = (
                f"not valid JSON ({error}): this entry and the rest of the file "
                f"({end_of_text - start:,} characters) were not read"
            )
        items.append(_Damage(start, reason, resume))
        if resume is None:
            return items
        pos = resume


def _resync(text: str, pos: int) -> int | None:
    """Where the next complete paper item after a damaged one starts, or None."""
    for match in _RESYNC.finditer(text, pos):
        try:
            candidate, after = _DECODER.raw_decode(text, match.end())
        except json.JSONDecodeError:
            continue
        after = _WS.match(text, after).end()
        paper = _paper_of(candidate)
        if (
            paper is not None
            and split_arxiv_id(str(paper.get("id")))[0] is not None
            and after < len(text)
            and text[after] in ",]"
        ):
            return match.end()
    return None


def detect_hf_json(data: object, name: str) -> str:
    """The HF API format of decoded JSON, or ListingFileError saying what it is instead."""
    if isinstance(data, list):
        if not data:
            raise ListingFileError(f"{name}: empty JSON array, no papers")
        papers = [item for item in data if _paper_of(item) is not None]
        if not papers:
            raise ListingFileError(f"{name}: JSON {_describe_list(data)}, not Hugging Face papers")
        if any(isinstance(item, dict) and _SEARCH_KEYS & item.keys() for item in data):
            return "hf_api_search"
        return "hf_api_daily_papers"
    if isinstance(data, dict):
        if not data:
            raise ListingFileError(f"{name}: empty JSON object, no papers")
        if _paper_of(data) is not None:
            return "hf_api_paper"
        error = data.get("error") or data.get("message")
        if isinstance(error, str) and len(data) <= 3:
            raise ListingFileError(f"{name}: API error response ({error[:200]}), not a listing")
        keys = ", ".join(list(map(str, data))[:6])
        raise ListingFileError(
            f"{name}: JSON object with keys ({keys}), not a Hugging Face paper or paper list"
        )
    raise ListingFileError(f"{name}: JSON {type(data).__name__} value, not a listing")


def _describe_list(data: list) -> str:
    first = data[0]
    if isinstance(first, dict):
        keys = ", ".join(list(map(str, first))[:6])
        return f"array of objects with keys ({keys})"
    return f"array of {type(first).__name__} values"


def parse_hf_api(text: str, name: str = "<listing>") -> ParseResult:
    """Parse HF API JSON text (an array of items, or one paper object).

    Raises ListingFileError when the JSON is not one of the HF shapes at all.
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return _parse_damaged(text, name, exc)
    except RecursionError:
        raise ListingFileError(f"{name}: JSON nested too deeply, not a listing") from None
    fmt = detect_hf_json(data, name)
    sink = EntrySink(fmt)
    for index, item in enumerate(data if isinstance(data, list) else [data], start=1):
        _add_item(sink, index, item)
    return sink.result


def _parse_damaged(text: str, name: str, exc: json.JSONDecodeError) -> ParseResult:
    start = _WS.match(text).end()
    if not text.startswith("[", start):
        # One object, cut off or broken: nothing of it can be trusted.
        if any(f'"{key}"' in text for key in ("id", "title", "summary", "paper")):
            sink = EntrySink("hf_api_paper")
            sink.reject(1, text, f"not valid JSON ({_json_error(text, exc)})")
            return sink.result
        raise ListingFileError(f"{name}: not valid JSON ({_json_error(text, exc)})")
    entries = _scan_array(text, start)
    items = [e for e in entries if not isinstance(e, _Damage)]
    if items:
        fmt = detect_hf_json(items, name)
    elif text[_WS.match(text, start + 1).end() :].startswith("{"):
        # Cut off inside the first item of an array of objects.
        fmt = "hf_api_search" if '"highlightedTitle"' in text else "hf_api_daily_papers"
    else:
        raise ListingFileError(f"{name}: not valid JSON ({_json_error(text, exc)})")
    sink = EntrySink(fmt)
    for index, entry in enumerate(entries, start=1):
        if isinstance(entry, _Damage):
            stop = entry.resume if entry.resume is not None else len(text)
            sink.reject(index, text[entry.start : stop].strip(), entry.reason)
        else:
            _add_item(sink, index, entry)
    return sink.result


def _add_item(sink: EntrySink, index: int, item: object) -> ListingRecord | Rejection:
    raw = _compact(item)
    paper = _paper_of(item)
    if paper is None:
        what = "object" if isinstance(item, dict) else type(item).__name__
        return sink.reject(
            index, raw, f"not a Hugging Face paper item ({what} with no 'paper' object)"
        )
    wrapper = item if paper is not item else {}
    paper_id = paper.get("id")
    if not isinstance(paper_id, str) or not paper_id.strip():
        return sink.reject(index, raw, "no paper id")
    paper_id = paper_id.strip()
    title = text_field(paper.get("title")) or text_field(wrapper.get("title"))
    if not title:
        return sink.reject(index, raw, "no title")
    abstract = text_field(paper.get("summary")) or text_field(wrapper.get("summary"))
    summary_is_ai = False
    if not abstract:
        abstract = text_field(paper.get("ai_summary"))
        summary_is_ai = bool(abstract)
    if not abstract:
        return sink.reject(index, raw, "no abstract (summary)")
    arxiv_id, version = split_arxiv_id(paper_id)
    if arxiv_id is not None and version is None and len(arxiv_id) != len(paper_id):
        arxiv_id = None  # an id that merely contains something arXiv-like
    authors = paper.get("authors")
    names = tuple(
        name
        for author in (authors if isinstance(authors, list) else ())
        if isinstance(author, dict) and author.get("hidden") is not True
        for name in [text_field(author.get("name"))]
        if name
    )
    keywords = paper.get("ai_keywords")
    org = paper.get("organization")
    if not isinstance(org, dict):
        org = wrapper.get("organization")
    organization = None
    if isinstance(org, dict):
        organization = text_field(org.get("fullname")) or text_field(org.get("name")) or None
    return sink.add(
        index,
        raw,
        title,
        abstract,
        arxiv_id or paper_id,
        arxiv_id=arxiv_id,
        arxiv_version=version,
        authors=names,
        upvotes=int_field(paper.get("upvotes")),
        github_url=github_repo_url(paper.get("githubRepo"))
        if isinstance(paper.get("githubRepo"), str)
        else None,
        github_stars=int_field(paper.get("githubStars")),
        project_url=url_field(paper.get("projectPage")),
        url=f"https://huggingface.co/papers/{paper_id}",
        published=iso_date(paper.get("publishedAt")),
        organization=organization,
        ai_keywords=tuple(k for k in (text_field(k) for k in keywords if isinstance(k, str)) if k)
        if isinstance(keywords, list)
        else (),
        summary_is_ai=summary_is_ai,
    )
