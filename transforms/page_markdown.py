"""Markdown saves of Hugging Face Papers pages, turned back into the page's text.

Browser extensions, crawlers and "save page as" write a page as Markdown: titles become
headings with links (``### [Title](https://huggingface.co/papers/2410.05434)``), a wrapped
title can be split across the link text, buttons become links (``[Upvote 117](...)``),
images appear as ``![...](...)`` and arXiv's line breaks can show as a trailing ``\\``.

``normalize_markdown`` maps every physical line to one ``MarkdownLine``: its text with the
syntax stripped, the link targets it carried, and whether it is a heading or goes on at the
next line. Line numbers are kept one to one, so that the parser can still account for
every input line.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

__all__ = ["MarkdownLine", "looks_like_markdown", "normalize_markdown"]

_HEADING_RE = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)(?:\s+#+)?\s*$")
_SETEXT_RE = re.compile(r"^\s{0,3}(=+|-{3,}|\*{3,}|_{3,})\s*$")
_BULLET_RE = re.compile(r"^\s*(?:[*+]|-(?=\s+\S))\s+")
_QUOTE_RE = re.compile(r"^\s*(?:>\s?)+")
_TRAILING_BREAK_RE = re.compile(r"\s*\\{1,2}\s*$")
_IMAGE_RE = re.compile(
    r"!\[(?:[^\[\]\\]|\\.)*\](?:\((?:[^()\s]|\([^()\s]*\))*(?:\s+\"[^\"]*\")?\)|\[[^\]]*\])?"
)
_URL = r"(?P<url><?(?:[^()\s<>]|\([^()\s]*\))*>?)"
# A link's text and what follows it: "text](url)" or "text](url "title")".
_LINK_END = r"(?P<text>(?:[^\[\]\\]|\\.)*)\]\(\s*" + _URL + r"(?:\s+[\"'][^\"']*[\"'])?\s*\)"
_LINK_RE = re.compile(r"\[" + _LINK_END)
# The end of a link whose text began on an earlier line: "PagedAttention](https://...)".
_LINK_TAIL_RE = re.compile(r"^" + _LINK_END)
_AUTOLINK_RE = re.compile(r"<(https?://[^\s<>]+)>")
_EMPHASIS_RE = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
# The characters Markdown writers escape (turndown, markdownify): "\_", "\*", "\[", ...
# TeX in an abstract ("\(", "\mathbb") keeps its backslash.
_ESCAPE_RE = re.compile(r"\\([\\*_\[\]#`~+\-=>.|])")
_ENTITY_RE = re.compile(r"&(?:[a-zA-Z]{2,8}|#\d{2,6}|#x[0-9a-fA-F]{2,5});")
# Lines that only Markdown has: a heading, a link to a web page, an image, a "\\" break.
_MARKDOWN_LINE_RE = re.compile(
    r"^\s{0,3}#{1,6}\s+\S|\]\((?:https?://|/)|!\[[^\]]*\]\(|\\\\?\s*$|^\s{0,3}={3,}\s*$"
)


@dataclass
class MarkdownLine:
    text: str  # the line without Markdown syntax (not yet whitespace-folded)
    links: tuple[str, ...] = ()  # targets of the links on the line (images left out)
    heading: bool = False
    join_next: bool = False  # the line goes on at the next one (a "\\" break, a split link)
    link_only: bool = False  # the line's text is all link text ("[Title](url)")


def _may_be_markdown(line: str) -> bool:
    """A cheap test before the regular expression (most lines of a page are prose)."""
    head = line.lstrip()[:1]
    return "](" in line or "![" in line or head in ("#", "=") or line.rstrip().endswith("\\")


def looks_like_markdown(lines: list[str]) -> bool:
    """Markdown syntax on at least two lines (a heading, a web link, an image, a ``\\``).

    One line is not enough: a pasted abstract may quote a link, and a plain-text page
    keeps "[Click here](javascript:...)" verbatim.
    """
    hits = 0
    for line in lines:
        if len(line) >= 2000 or not _may_be_markdown(line):
            continue
        if _MARKDOWN_LINE_RE.search(line):
            hits += 1
            if hits >= 2:
                return True
    return False


def _strip_inline(text: str, links: list[str]) -> str:
    text = _IMAGE_RE.sub(" ", text)
    for _ in range(3):  # nested links: "[[x](a)](b)"
        new = _LINK_RE.sub(lambda m: _keep_link(m, links), text)
        if new == text:
            break
        text = new
    text = _AUTOLINK_RE.sub(lambda m: _keep_url(m.group(1), links), text)
    text = _EMPHASIS_RE.sub(r"\2", text)
    text = _ESCAPE_RE.sub(r"\1", text)
    if "&" in text and _ENTITY_RE.search(text):
        text = html.unescape(text)
    return text


def _keep_url(url: str, links: list[str]) -> str:
    links.append(url)
    return url


def _keep_link(match: re.Match[str], links: list[str]) -> str:
    url = match.group("url").strip("<>")
    if url:
        links.append(url)
    return match.group("text")


def _open_bracket(text: str) -> int:
    """Index of a "[" that no "]" closes on the line (a link text going on), else -1."""
    depth_at: list[int] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "[":
            depth_at.append(i)
        elif ch == "]" and depth_at:
            depth_at.pop()
        i += 1
    return depth_at[0] if depth_at else -1


def normalize_markdown(lines: list[str]) -> list[MarkdownLine]:
    """One ``MarkdownLine`` per input line, in order."""
    pre: list[tuple[str, bool, bool]] = []  # (text, heading, trailing break)
    for raw in lines:
        text = raw
        heading = False
        if _SETEXT_RE.match(text):
            pre.append(("", False, False))
            continue
        text = _QUOTE_RE.sub("", text)
        match = _HEADING_RE.match(text)
        if match:
            heading = True
            text = match.group(2)
        text = _BULLET_RE.sub("", text)
        brk = bool(_TRAILING_BREAK_RE.search(text)) and not text.rstrip().endswith("\\\\\\")
        if brk:
            text = _TRAILING_BREAK_RE.sub("", text)
        pre.append((_IMAGE_RE.sub(" ", text), heading, brk))

    texts = [p[0] for p in pre]
    extra_links: list[list[str]] = [[] for _ in pre]
    joined = [False] * len(pre)
    _join_split_links(texts, extra_links, joined)

    out: list[MarkdownLine] = []
    for i, (_, heading, brk) in enumerate(pre):
        links: list[str] = list(extra_links[i])
        body = texts[i]
        stripped = _strip_inline(body, links)
        link_only = bool(links) and not _LINK_RE.sub("", body).strip(" \t·|*_")
        out.append(
            MarkdownLine(
                text=stripped,
                links=tuple(links),
                heading=heading,
                join_next=brk or joined[i],
                link_only=link_only or (joined[i] and bool(extra_links[i])),
            )
        )
    return out


def _join_split_links(texts: list[str], links: list[list[str]], joined: list[bool]) -> None:
    """A link whose text runs over two or three lines: "### [Efficient ... with" then
    "PagedAttention](https://huggingface.co/papers/2309.06180)". The brackets are taken
    out, the target is given to every line of the link, and the lines are marked joined."""
    i = 0
    n = len(texts)
    while i < n:
        text = texts[i]
        start = _open_bracket(text) if "[" in text else -1
        if start < 0:
            i += 1
            continue
        for j in range(i + 1, min(i + 3, n)):
            if not texts[j].strip():
                break
            tail = _LINK_TAIL_RE.match(texts[j])
            if tail:
                url = tail.group("url").strip("<>")
                texts[i] = text[:start] + text[start + 1 :]
                texts[j] = tail.group("text") + texts[j][tail.end() :]
                for k in range(i, j + 1):
                    if url:
                        links[k].append(url)
                    if k < j:
                        joined[k] = True
                i = j
                break
            if "[" in texts[j] or "]" in texts[j]:
                break
        i += 1
