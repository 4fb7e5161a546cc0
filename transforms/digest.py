"""The daily digest: data model, watchlists, Markdown/HTML rendering, Atom feed, e-mail message.

Everything here is a pure function over plain Python data (no DuckDB, no Dagster): the caller
queries the warehouse, builds a :class:`DigestData` and asks for text.

Typical wiring for one listing date::

    watchlists = load_watchlists(home.root / "watchlists.yaml")
    hits = match_watchlists(watchlists, papers, normalize=normalize_keyphrase)
    data = DigestData(listing_date=day, papers=papers, trends=trends,
                      numbers=DigestNumbers(papers=12, new_papers=5, keyphrases=140),
                      watch_hits=hits, top_topics=top, days_to_trends=None)
    md, html = render_markdown(data), render_html(data)
    feed = render_feed(entries, "file:///…/publish/", now)          # entries: FeedEntry list
    msg = build_message(data, html, md, sender, recipients)          # then mailer.send_once

Safety: every string that comes from a listing (titles, abstracts, keyphrases, URLs) is
untrusted. HTML output escapes it (``html.escape``), Markdown output escapes Markdown and HTML
specials, and only ``http``/``https`` URLs ever become links. Abstracts are shown with their
LaTeX decoded (:func:`transforms.latex.decode_latex`) before they are cut and escaped.
"""

from __future__ import annotations

import datetime as dt
import email.policy
import email.utils
import hashlib
import html
import re
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import yaml

from transforms.latex import decode_latex

__all__ = [
    "FEED_MAX_ENTRIES",
    "TAG_PREFIX",
    "DigestData",
    "DigestNumbers",
    "DigestPaper",
    "FeedEntry",
    "TopicCount",
    "TrendRow",
    "Watchlist",
    "build_message",
    "cold_start_text",
    "feed_entry",
    "headline",
    "load_watchlists",
    "match_watchlists",
    "message_id",
    "render_feed",
    "render_html",
    "render_html_fragment",
    "render_markdown",
    "safe_url",
    "simple_normalize",
    "subject_line",
]

#: Stable prefix of Atom ids (RFC 4151 tag URI). Never change it: feed readers key on ids.
TAG_PREFIX = "tag:papertrends,2026:"
#: The feed keeps the most recent digests only.
FEED_MAX_ENTRIES = 30

TREND_STATUSES = ("new", "rising", "falling", "steady", "cold_start")
#: The trend windows, as the dbt vars trend_current_days, trend_reference_days and
#: trend_min_reference_days set them (dbt_project.yml): only used to explain a cold start.
TREND_CURRENT_DAYS, TREND_REFERENCE_DAYS, TREND_MIN_REFERENCE_DAYS = 7, 28, 3


# --------------------------------------------------------------------------------------------
# Data model
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DigestPaper:
    """One paper of the day's listing.

    ``keyphrases`` are surface strings, best first; ``topics`` the topic key of each of them,
    in the same order (``""`` or missing: no topic). ``url`` is an optional link to the paper
    page (only ``http(s)`` URLs are linked). ``is_new``: first listed on this listing date.
    """

    rank: int
    paper_id: str
    title: str
    abstract: str = ""
    code_url: str | None = None
    keyphrases: tuple[str, ...] = ()
    is_new: bool = False
    url: str | None = None
    topics: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # Accept any sequence (lists from DuckDB) but store a tuple so the class stays hashable.
        object.__setattr__(self, "keyphrases", tuple(self.keyphrases or ()))
        object.__setattr__(self, "topics", tuple(t or "" for t in self.topics or ()))

    def tags(self, limit: int) -> list[tuple[str, str]]:
        """The first ``limit`` shown keyphrases with their topic keys (``""``: none)."""
        shown = self.keyphrases[:limit]
        topics = (self.topics + ("",) * len(shown))[: len(shown)]
        return [(k, t) for k, t in zip(shown, topics, strict=True) if _clean(k)]


@dataclass(frozen=True)
class TrendRow:
    """One ``topic_trends`` row for the listing date plus its sparkline series.

    ``key``: the topic (a normalised keyphrase); ``label``: how it is shown.
    ``sparkline``: papers per listing day over the last 28 listing days, oldest first.
    ``status`` is one of ``new``, ``rising``, ``falling``, ``steady``, ``cold_start``.
    ``bursting_since``: first listing day of the topic's current burst, None when not bursting.
    """

    key: str
    label: str
    papers_current: int
    papers_reference: int
    share_current: float
    share_reference: float
    z_score: float | None
    status: str
    sparkline: tuple[int, ...] = ()
    bursting_since: dt.date | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "sparkline", tuple(int(v or 0) for v in self.sparkline or ()))


@dataclass(frozen=True)
class TopicCount:
    """One of the day's topics: papers listed that day carrying it, and their share of the day."""

    key: str
    label: str
    papers: int
    share: float


@dataclass(frozen=True)
class Watchlist:
    """A named set of keyphrases a reader follows, with optional extra recipients."""

    name: str
    keyphrases: tuple[str, ...]
    recipients: tuple[str, ...] = ()


@dataclass(frozen=True)
class DigestNumbers:
    """The day's headline numbers."""

    papers: int = 0
    new_papers: int = 0
    keyphrases: int = 0


@dataclass(frozen=True)
class DigestData:
    """Everything one digest shows.

    ``papers`` in page order; ``trends`` the day's topic trend rows (the renderers pick the
    rising, new and bursting ones); ``watch_hits`` maps a watchlist name to its matching
    papers (output of :func:`match_watchlists`); ``empty_reason`` says why a day has no papers
    (``None`` on a normal day; a day with no papers and no reason renders a generic
    explanation).

    Cold start: ``days_to_trends`` is the number of listing days before trends are labelled
    (``None`` once they are); such a day shows ``top_topics`` (the day's topics, most papers
    first) instead of trend sections. ``first_listing_day``: no listing before this date, so
    every paper is new and no paper gets a NEW badge.
    """

    listing_date: dt.date
    papers: Sequence[DigestPaper] = ()
    trends: Sequence[TrendRow] = ()
    numbers: DigestNumbers = field(default_factory=DigestNumbers)
    watch_hits: Mapping[str, Sequence[DigestPaper]] = field(default_factory=dict)
    empty_reason: str | None = None
    top_topics: Sequence[TopicCount] = ()
    days_to_trends: int | None = None
    first_listing_day: bool = False

    @property
    def is_empty(self) -> bool:
        return not self.papers

    @property
    def cold_start(self) -> bool:
        return self.days_to_trends is not None

    @property
    def rising(self) -> list[TrendRow]:
        """Rising topics, strongest first (z-score, then papers this period)."""
        return _strongest_first(t for t in self.trends if t.status == "rising")

    @property
    def new(self) -> list[TrendRow]:
        """New topics, most papers first."""
        rows = [t for t in self.trends if t.status == "new"]
        return sorted(rows, key=lambda t: (-t.papers_current, t.key))

    @property
    def bursting(self) -> list[TrendRow]:
        """Topics in a burst on this date, strongest first."""
        return _strongest_first(t for t in self.trends if t.bursting_since is not None)


def _strongest_first(rows: Iterable[TrendRow]) -> list[TrendRow]:
    return sorted(
        rows,
        key=lambda t: (
            -(t.z_score if t.z_score is not None else float("-inf")),
            -t.papers_current,
            t.key,
        ),
    )


# --------------------------------------------------------------------------------------------
# Watchlists
# --------------------------------------------------------------------------------------------

_WORD = re.compile(r"\w+")
# Clause boundaries: a phrase match must not span them ("… diffusion. Models …").
_CLAUSE_BREAK = re.compile(r"[,;:!?()\[\]{}\"“”«»|]|\.(?=\s|$)|\n\s*\n")
_EMAIL = re.compile(r"^[^@\s,;<>\"']+@[^@\s,;<>\"']+$")


def simple_normalize(phrase: str) -> str:
    """Default keyphrase fold: lowercase, punctuation/hyphens to spaces, whitespace collapsed.

    >>> simple_normalize("  Flow-Matching  Models")
    'flow matching models'

    No plural folding; pass the pipeline's ``normalize_keyphrase`` for that.
    """
    return " ".join(_WORD.findall(unicodedata.normalize("NFKC", phrase).lower()))


def _str_list(value: Any, what: str, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{where}: {what} must be a list of strings, got {value!r}")
    out = tuple(v.strip() for v in value if v.strip())
    return out


def load_watchlists(path: str | Path) -> list[Watchlist]:
    """Read ``watchlists.yaml``: ``name: {keyphrases: [...], recipients: [...]}`` or the short
    form ``name: [keyphrase, ...]``.

    A missing or empty file gives ``[]``. Invalid YAML or a wrong shape raises ``ValueError``
    naming the file and the problem. Order follows the file.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: cannot read watchlists: {exc}") from exc
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        detail = " ".join(str(exc).split())
        raise ValueError(f"{path}: invalid YAML: {detail}") from exc
    if doc is None:
        return []
    if not isinstance(doc, dict):
        raise ValueError(
            f"{path}: expected a mapping of watchlist name -> keyphrases, got {type(doc).__name__}"
        )
    out: list[Watchlist] = []
    for name, spec in doc.items():
        if not isinstance(name, str) or not name.strip():
            raise ValueError(
                f"{path}: watchlist name {name!r} must be a non-empty string (quote it)"
            )
        where = f"{path}: watchlist {name!r}"
        recipients: tuple[str, ...] = ()
        if isinstance(spec, (list, str)):
            keyphrases = _str_list(spec, "keyphrases", where)
        elif isinstance(spec, dict):
            unknown = sorted(str(k) for k in spec if k not in ("keyphrases", "recipients"))
            if unknown:
                raise ValueError(
                    f"{where}: unknown key(s) {', '.join(unknown)} "
                    "(allowed: keyphrases, recipients)"
                )
            if "keyphrases" not in spec:
                raise ValueError(f"{where}: missing 'keyphrases'")
            keyphrases = _str_list(spec["keyphrases"], "keyphrases", where)
            if spec.get("recipients") is not None:
                recipients = _str_list(spec["recipients"], "recipients", where)
            bad = [r for r in recipients if not _EMAIL.match(r)]
            if bad:
                raise ValueError(f"{where}: not an e-mail address: {', '.join(map(repr, bad))}")
        else:
            raise ValueError(
                f"{where}: expected a list of keyphrases or a mapping with 'keyphrases', "
                f"got {type(spec).__name__}"
            )
        if not keyphrases:
            raise ValueError(f"{where}: no keyphrases")
        out.append(Watchlist(name=name.strip(), keyphrases=keyphrases, recipients=recipients))
    return out


def _text_segments(text: str, normalize: Callable[[str], str]) -> list[str]:
    """Normalised clauses of a free text, each padded with spaces for whole-word matching."""
    segs = []
    for part in _CLAUSE_BREAK.split(text or ""):
        norm = normalize(part)
        if norm:
            segs.append(f" {norm} ")
    return segs


def match_watchlists(
    watchlists: Iterable[Watchlist],
    papers: Sequence[DigestPaper],
    normalize: Callable[[str], str] = simple_normalize,
) -> dict[str, list[DigestPaper]]:
    """Papers matching each watchlist, in page order.

    A watch term matches a paper when its normal form occurs as a whole-word phrase in the
    normal form of one of the paper's keyphrases, or in its title or abstract (matches do not
    span sentence/clause punctuation). ``normalize`` is applied to both sides; pass the
    pipeline's keyphrase normaliser for hyphen/plural-insensitive matching.

    Only watchlists with at least one hit appear in the result (in watchlist order).
    """
    prepared = []
    for paper in papers:
        segs = [f" {n} " for n in (normalize(k) for k in paper.keyphrases) if n]
        segs += _text_segments(paper.title, normalize)
        segs += _text_segments(paper.abstract, normalize)
        prepared.append((paper, segs))
    hits: dict[str, list[DigestPaper]] = {}
    for wl in watchlists:
        terms = {f" {n} " for n in (normalize(k) for k in wl.keyphrases) if n.strip()}
        if not terms:
            continue
        matched = [p for p, segs in prepared if any(t in s for t in terms for s in segs)]
        if matched:
            seen = hits.setdefault(wl.name, [])
            # Duplicate watchlist names merge; keep page order.
            merged = {id(p) for p in seen} | {id(p) for p in matched}
            hits[wl.name] = [p for p in papers if id(p) in merged]
    return hits


# --------------------------------------------------------------------------------------------
# Shared text helpers
# --------------------------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")


def _clean(text: str | None) -> str:
    """Untrusted one-line text: control characters removed, whitespace collapsed."""
    return " ".join(_CONTROL.sub("", text or "").split())


def safe_url(url: str | None) -> str | None:
    """The URL if it is an absolute ``http``/``https`` URL safe to put in a link, else None."""
    if not url:
        return None
    url = url.strip()
    if _CONTROL.search(url) or any(c in url for c in " <>\"'`\\\n\r\t"):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return url


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else (plural or word + 's')}"


def _date(d: dt.date | dt.datetime | str) -> str:
    if isinstance(d, dt.datetime):
        return d.date().isoformat()
    if isinstance(d, dt.date):
        return d.isoformat()
    return str(d)


def _top_topic(data: DigestData) -> str:
    """ " · top topic: Large Language Models" on a cold-start day with topics, else ""."""
    if not data.top_topics:
        return ""
    top = data.top_topics[0]
    return f" · top topic: {_clean(top.label or top.key)}"


def headline(data: DigestData) -> str:
    """Headline: "12 papers on 2026-11-28 · 3 rising topics" (or "No papers on …" for an empty
    day; a cold-start day names its top topic instead: trends are not labelled yet)."""
    day = _date(data.listing_date)
    if data.is_empty:
        return f"No papers on {day}"
    n = data.numbers.papers or len(data.papers)
    out = f"{_plural(n, 'paper')} on {day}"
    if data.cold_start:
        return out + _top_topic(data)
    rising = len(data.rising)
    if rising:
        out += f" · {_plural(rising, 'rising topic')}"
    return out


def subject_line(data: DigestData) -> str:
    """E-mail subject: "papertrends · 2026-11-28 · 12 papers, 3 rising" (on a cold-start day
    "papertrends · 2026-12-01 · 200 papers · top topic: Large Language Models")."""
    day = _date(data.listing_date)
    if data.is_empty:
        return f"papertrends · {day} · no papers"
    n = data.numbers.papers or len(data.papers)
    if data.cold_start:
        return f"papertrends · {day} · {_plural(n, 'paper')}{_top_topic(data)}"
    return f"papertrends · {day} · {_plural(n, 'paper')}, {len(data.rising)} rising"


def cold_start_text(days_to_trends: int) -> str:
    """Why a day shows no trends, and for how long."""
    return (
        f"Trends start in {_plural(days_to_trends, 'listing day')}: they compare the last "
        f"{TREND_CURRENT_DAYS} listing days with the {TREND_REFERENCE_DAYS} before, and need "
        f"{TREND_MIN_REFERENCE_DAYS} of those."
    )


def _empty_text(data: DigestData) -> str:
    reason = _clean(data.empty_reason)
    return reason or "The listing for this date contained no papers."


def _snippet(abstract: str, limit: int) -> str:
    """An abstract as shown: LaTeX decoded, one line, cut at a word before ``limit``."""
    text = _clean(decode_latex(abstract or ""))
    if limit <= 0 or len(text) <= limit:
        return text if limit > 0 else ""
    cut = text[:limit].rsplit(" ", 1)[0].rstrip(",;:.-")
    return cut + "…"


def _trend_sections(data: DigestData) -> list[tuple[str, list[TrendRow]]]:
    """The trend sections shown, in order (none on a cold-start day)."""
    if data.cold_start:
        return []
    return [
        ("Rising topics", data.rising),
        ("New topics", data.new),
        ("Bursting topics", data.bursting),
    ]


def _hot_topics(data: DigestData) -> set[str]:
    """Keys of the topics shown in the trend sections: their papers' tags are highlighted."""
    return {t.key for _, rows in _trend_sections(data) for t in rows}


def _label(t: TrendRow) -> str:
    """The topic's label, and since when it bursts."""
    since = f" · bursting since {_date(t.bursting_since)}" if t.bursting_since else ""
    return (t.label or t.key) + since


def _pct(x: float | None) -> str:
    if x is None:
        return "–"
    v = 100.0 * float(x)
    return f"{v:.1f}%" if v < 10 else f"{v:.0f}%"


# --------------------------------------------------------------------------------------------
# Markdown
# --------------------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_\[\]{}|~#!])")
_SPARK_BLOCKS = "▁▂▃▄▅▆▇█"


def _md(text: str | None) -> str:
    """Escape untrusted text for Markdown: no links, emphasis, tables or raw HTML can form."""
    text = _clean(text)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", text)


def _md_url(url: str) -> str:
    return url.replace("(", "%28").replace(")", "%29")


def _md_code(text: str) -> str:
    """A keyphrase as a code span (literal in every renderer); backticks cannot break out and
    no raw ``<``/``>`` reaches naive renderers."""
    t = _clean(text).replace("`", "'").replace("<", "‹").replace(">", "›")
    return f"`{t}`" if t else ""


def spark_blocks(series: Sequence[int]) -> str:
    """Unicode block sparkline, e.g. ``▁▁▂▃▅▇``; empty string for an empty series."""
    if not series:
        return ""
    top = max(series)
    if top <= 0:
        return _SPARK_BLOCKS[0] * len(series)
    steps = len(_SPARK_BLOCKS) - 1
    return "".join(_SPARK_BLOCKS[round(max(v, 0) / top * steps)] for v in series)


def _md_trend_table(rows: Sequence[TrendRow]) -> list[str]:
    lines = [
        "| Topic | Last 28 days | This week | Reference | Share (was) |",
        "|---|---|---:|---:|---:|",
    ]
    for t in rows:
        lines.append(
            f"| {_md(_label(t))} | {spark_blocks(t.sparkline)} "
            f"| {t.papers_current} | {t.papers_reference} "
            f"| {_pct(t.share_current)} ({_pct(t.share_reference)}) |"
        )
    return lines


def render_markdown(
    data: DigestData, *, max_trends: int = 10, max_keyphrases: int = 5, abstract_chars: int = 220
) -> str:
    """The digest as Markdown (also fine as the text/plain part of the e-mail)."""
    out: list[str] = [f"# {_md(headline(data))}", ""]
    num = data.numbers
    new = "all new (first listing day)" if data.first_listing_day else f"**{num.new_papers}** new"
    out += [f"**{num.papers}** papers · {new} · **{num.keyphrases}** keyphrases", ""]
    if data.is_empty:
        out += [f"> {_md(_empty_text(data))}", ""]

    if data.watch_hits:
        out += ["## Your watchlists", ""]
        for name, papers in data.watch_hits.items():
            items = "; ".join(f"#{p.rank} {_md(p.title)}" for p in papers)
            out.append(f"- **{_md(name)}** ({len(papers)}): {items}")
        out.append("")

    if data.cold_start:
        if data.top_topics:
            out += [
                "## Top topics today",
                "",
                "| Topic | Papers | Share of the day |",
                "|---|---:|---:|",
                *(
                    f"| {_md(t.label or t.key)} | {t.papers} | {_pct(t.share)} |"
                    for t in data.top_topics[:max_trends]
                ),
                "",
            ]
        out += [cold_start_text(data.days_to_trends), ""]
    for title, rows in _trend_sections(data):
        if not rows:
            continue
        shown = rows[:max_trends]
        more = f" (top {len(shown)} of {len(rows)})" if len(rows) > len(shown) else ""
        out += [f"## {title}{more}", "", *_md_trend_table(shown), ""]

    if data.papers:
        out += ["## Papers", ""]
        for p in data.papers:
            title = _md(p.title) or "(untitled)"
            url = safe_url(p.url)
            line = f"{p.rank}. **{f'[{title}]({_md_url(url)})' if url else title}**"
            if p.is_new and not data.first_listing_day:
                line += " · new"
            code = safe_url(p.code_url)
            if code:
                line += f" · [code]({_md_url(code)})"
            item = [line]
            tags = [_md_code(k) for k, _ in p.tags(max_keyphrases)]
            if tags:
                item.append("   " + " · ".join(tags))
            snippet = _md(_snippet(p.abstract, abstract_chars))
            if snippet:
                item.append(f"   {snippet}")
            # Hard line breaks (two trailing spaces) inside the list item.
            out += [f"{x}  " for x in item[:-1]] + [item[-1], ""]
    out.append("— papertrends")
    return "\n".join(out).rstrip() + "\n"


# --------------------------------------------------------------------------------------------
# HTML (e-mail safe: tables, inline styles, no scripts, no external resources)
# --------------------------------------------------------------------------------------------

_FONT = "-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,'Helvetica Neue',Arial,sans-serif"
_INK = "#1f2328"
_MUTED = "#656d76"
_RULE = "#d8dee4"
_GREEN = "#1a7f37"
_BLUE = "#0969da"
_ORANGE = "#bc4c00"


def _h(text: str | None) -> str:
    """Escape untrusted text for HTML element content and attribute values."""
    return html.escape(_clean(text), quote=True)


def spark_svg(
    series: Sequence[int], *, color: str = _GREEN, width: int = 96, height: int = 20
) -> str:
    """A small inline SVG sparkline (polyline + end dot); empty string for an empty series."""
    if not series:
        return ""
    vals = [max(int(v), 0) for v in series]
    top = max(vals) or 1
    pad = 2.0
    w, h = width - 2 * pad, height - 2 * pad
    n = len(vals)
    pts = []
    for i, v in enumerate(vals):
        x = pad + (w * i / (n - 1) if n > 1 else w / 2)
        y = pad + h - h * v / top
        pts.append((round(x, 1), round(y, 1)))
    poly = " ".join(f"{x},{y}" for x, y in pts)
    lx, ly = pts[-1]
    label = html.escape(f"papers per listing day, last {n} days: " + ", ".join(map(str, vals)))
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{label}" '
        f'style="vertical-align:middle">'
        f'<polyline fill="none" stroke="{color}" stroke-width="1.5" stroke-linejoin="round" '
        f'stroke-linecap="round" points="{poly}"/>'
        f'<circle cx="{lx}" cy="{ly}" r="2" fill="{color}"/></svg>'
    )


def _tag(text: str, hot: bool) -> str:
    bg, fg = ("#dafbe1", "#116329") if hot else ("#eef1f5", "#424a53")
    return (
        f'<span style="display:inline-block;margin:0 4px 4px 0;padding:1px 8px;'
        f"border-radius:10px;background:{bg};color:{fg};font-size:12px;line-height:18px;"
        f'white-space:nowrap">{_h(text)}</span>'
    )


def _section_title(text: str, note: str = "") -> str:
    note_html = (
        f' <span style="font-weight:normal;color:{_MUTED};font-size:13px">{note}</span>'
        if note
        else ""
    )
    return (
        f'<h2 style="margin:28px 0 8px;font-size:17px;line-height:22px;color:{_INK};'
        f'border-bottom:1px solid {_RULE};padding-bottom:6px">{text}{note_html}</h2>'
    )


def _html_trends(title: str, rows: Sequence[TrendRow], total: int, color: str) -> str:
    note = f"top {len(rows)} of {total}" if total > len(rows) else ""
    cell = f"padding:6px 8px;border-bottom:1px solid #eef1f5;font-size:14px;color:{_INK}"
    head = f"padding:4px 8px;font-size:11px;color:{_MUTED};text-transform:uppercase;text-align:"
    out = [
        _section_title(title, note),
        '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" '
        'style="border-collapse:collapse">',
        f'<tr><th style="{head}left">Topic</th><th style="{head}left">Last 28 days</th>'
        f'<th style="{head}right">Papers · week / ref.</th>'
        f'<th style="{head}right">Share</th></tr>',
    ]
    for t in rows:
        z = f" · z {t.z_score:.1f}" if t.z_score is not None else ""
        out.append(
            f'<tr><td style="{cell};font-weight:600">{_h(_label(t))}</td>'
            f'<td style="{cell}">{spark_svg(t.sparkline, color=color)}</td>'
            f'<td style="{cell};text-align:right;white-space:nowrap">'
            f"<strong>{int(t.papers_current)}</strong>"
            f' <span style="color:{_MUTED}">/ {int(t.papers_reference)}</span></td>'
            f'<td style="{cell};text-align:right;white-space:nowrap">{_pct(t.share_current)}'
            f' <span style="color:{_MUTED};font-size:12px">was {_pct(t.share_reference)}{z}'
            f"</span></td></tr>"
        )
    out.append("</table>")
    return "\n".join(out)


def _html_top_topics(rows: Sequence[TopicCount]) -> str:
    cell = f"padding:6px 8px;border-bottom:1px solid #eef1f5;font-size:14px;color:{_INK}"
    head = f"padding:4px 8px;font-size:11px;color:{_MUTED};text-transform:uppercase;text-align:"
    out = [
        _section_title("Top topics today"),
        '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" '
        'style="border-collapse:collapse">',
        f'<tr><th style="{head}left">Topic</th><th style="{head}right">Papers</th>'
        f'<th style="{head}right">Share of the day</th></tr>',
    ]
    for t in rows:
        out.append(
            f'<tr><td style="{cell};font-weight:600">{_h(t.label or t.key)}</td>'
            f'<td style="{cell};text-align:right"><strong>{int(t.papers)}</strong></td>'
            f'<td style="{cell};text-align:right">{_pct(t.share)}</td></tr>'
        )
    out.append("</table>")
    return "\n".join(out)


def _html_paper(
    p: DigestPaper, hot: set[str], max_keyphrases: int, abstract_chars: int, badge: bool
) -> str:
    title = _h(p.title) or "(untitled)"
    url = safe_url(p.url)
    if url:
        title = f'<a href="{html.escape(url, quote=True)}" style="color:{_INK};text-decoration:none">{title}</a>'
    meta = []
    if p.is_new and badge:
        meta.append(
            f'<span style="display:inline-block;padding:0 6px;border-radius:3px;'
            f"background:{_BLUE};color:#ffffff;font-size:11px;line-height:16px;"
            f'font-weight:600">NEW</span>'
        )
    code = safe_url(p.code_url)
    if code:
        meta.append(
            f'<a href="{html.escape(code, quote=True)}" style="color:{_BLUE};font-size:13px;'
            f'text-decoration:none">code ↗</a>'
        )
    tags = "".join(_tag(k, topic in hot) for k, topic in p.tags(max_keyphrases))
    snippet = _h(_snippet(p.abstract, abstract_chars))
    parts = [
        f'<tr id="p-{int(p.rank)}">'
        f'<td valign="top" style="padding:12px 10px 12px 0;width:28px;color:{_MUTED};'
        f'font-size:14px;text-align:right">{int(p.rank)}</td>'
        f'<td valign="top" style="padding:12px 0;border-bottom:1px solid #eef1f5">'
        f'<div style="font-size:15px;line-height:21px;font-weight:600;color:{_INK}">{title}</div>'
    ]
    if meta:
        parts.append(f'<div style="margin-top:3px">{" &nbsp; ".join(meta)}</div>')
    if tags:
        parts.append(f'<div style="margin-top:6px">{tags}</div>')
    if snippet:
        parts.append(
            f'<div style="margin-top:4px;font-size:13px;line-height:19px;color:{_MUTED}">'
            f"{snippet}</div>"
        )
    parts.append("</td></tr>")
    return "".join(parts)


def render_html_fragment(
    data: DigestData, *, max_trends: int = 10, max_keyphrases: int = 5, abstract_chars: int = 220
) -> str:
    """The digest body as one self-contained ``<table>`` (inline styles only): used inside
    :func:`render_html` and as the Atom entry content."""
    num = data.numbers
    out: list[str] = [
        f'<table role="presentation" width="100%" cellpadding="0" cellspacing="0" '
        f'style="max-width:700px;margin:0 auto;background:#ffffff;border:1px solid {_RULE};'
        f'border-radius:8px;font-family:{_FONT};color:{_INK}">',
        '<tr><td style="padding:24px 28px">',
        f'<div style="font-size:12px;letter-spacing:.06em;text-transform:uppercase;'
        f'color:{_MUTED}">papertrends · daily digest · {_h(_date(data.listing_date))}</div>',
        f'<h1 style="margin:6px 0 12px;font-size:23px;line-height:30px;color:{_INK}">'
        f"{_h(headline(data))}</h1>",
    ]
    stat = (
        '<td style="padding:8px 12px;background:#f6f8fa;border-radius:6px;text-align:center">'
        '<div style="font-size:20px;font-weight:700;color:{ink}">{n}</div>'
        '<div style="font-size:12px;color:{muted}">{label}</div></td>'
    )
    cells = [
        stat.format(ink=_INK, muted=_MUTED, n=int(num.papers), label="papers"),
        stat.format(
            ink=_INK,
            muted=_MUTED,
            n=int(num.new_papers),
            label="all new (first listing day)" if data.first_listing_day else "new papers",
        ),
        stat.format(ink=_INK, muted=_MUTED, n=int(num.keyphrases), label="keyphrases"),
    ]
    gap = '<td style="width:8px"></td>'
    out.append(
        '<table role="presentation" width="100%" cellpadding="0" cellspacing="0"><tr>'
        + gap.join(cells)
        + "</tr></table>"
    )
    if data.is_empty:
        out.append(
            f'<div style="margin:20px 0 0;padding:14px 16px;border-left:4px solid {_RULE};'
            f'background:#f6f8fa;font-size:15px;line-height:22px">'
            f"<strong>No papers today.</strong> {_h(_empty_text(data))}</div>"
        )

    if data.watch_hits:
        items = []
        for name, papers in data.watch_hits.items():
            links = "".join(
                f'<li style="margin:2px 0"><a href="#p-{int(p.rank)}" style="color:{_INK};'
                f'text-decoration:none"><span style="color:{_MUTED}">#{int(p.rank)}</span> '
                f"{_h(p.title)}</a></li>"
                for p in papers
            )
            items.append(
                f'<div style="margin:6px 0 0"><strong>{_h(name)}</strong> '
                f'<span style="color:{_MUTED}">· {_plural(len(papers), "paper")}</span>'
                f'<ul style="margin:4px 0 0;padding-left:20px;font-size:14px;line-height:20px">'
                f"{links}</ul></div>"
            )
        out.append(
            f'<div style="margin:20px 0 0;padding:12px 16px;border-left:4px solid #bf8700;'
            f'background:#fff8c5;border-radius:4px">'
            f'<div style="font-size:13px;font-weight:700;text-transform:uppercase;'
            f'letter-spacing:.04em;color:#7d4e00">Your watchlists</div>{"".join(items)}</div>'
        )

    if data.cold_start:
        if data.top_topics:
            out.append(_html_top_topics(data.top_topics[:max_trends]))
        out.append(
            f'<p style="margin:10px 0 0;font-size:13px;line-height:19px;color:{_MUTED}">'
            f"{_h(cold_start_text(data.days_to_trends))}</p>"
        )
    colors = {"Rising topics": _GREEN, "New topics": _BLUE, "Bursting topics": _ORANGE}
    for title, rows in _trend_sections(data):
        if rows:
            out.append(_html_trends(title, rows[:max_trends], len(rows), colors[title]))

    if data.papers:
        hot = _hot_topics(data)
        badge = not data.first_listing_day
        out.append(_section_title("Papers", "in page order"))
        out.append('<table role="presentation" width="100%" cellpadding="0" cellspacing="0">')
        out.extend(_html_paper(p, hot, max_keyphrases, abstract_chars, badge) for p in data.papers)
        out.append("</table>")

    legend = (
        "Counts are papers listed that day."
        if data.cold_start
        else "Green tags belong to rising, new or bursting topics; "
        "counts are papers this week / reference window."
    )
    out.append(
        f'<p style="margin:24px 0 0;font-size:12px;color:{_MUTED}">Generated by papertrends. '
        f"{legend}</p>"
    )
    out.append("</td></tr></table>")
    return "\n".join(out)


def render_html(data: DigestData, **options: int) -> str:
    """The digest as a complete, self-contained HTML e-mail/page (no scripts, no fetches)."""
    title = _h(f"papertrends · {headline(data)}")
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{title}</title></head>\n"
        '<body style="margin:0;padding:0;background:#f4f5f7">\n'
        '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" '
        'style="background:#f4f5f7"><tr><td style="padding:24px 12px">\n'
        f"{render_html_fragment(data, **options)}\n"
        "</td></tr></table>\n</body></html>\n"
    )


# --------------------------------------------------------------------------------------------
# Atom feed
# --------------------------------------------------------------------------------------------

ATOM_NS = "http://www.w3.org/2005/Atom"


@dataclass(frozen=True)
class FeedEntry:
    """One digest in the feed. ``href``: the digest's HTML, relative to the feed base URL
    (or absolute). ``updated``: when the digest was (re)generated (defaults to ``now``)."""

    listing_date: dt.date
    title: str
    summary: str
    content_html: str
    href: str
    updated: dt.datetime | None = None


def feed_entry(
    data: DigestData, href: str, updated: dt.datetime | None = None, **options: int
) -> FeedEntry:
    """A :class:`FeedEntry` for a digest: headline as title, numbers as summary, the HTML
    fragment as content."""
    num = data.numbers
    if data.is_empty:
        summary = _empty_text(data)
    else:
        new = "all new: first listing day" if data.first_listing_day else f"{num.new_papers} new"
        summary = f"{_plural(num.papers, 'paper')} ({new}), {_plural(num.keyphrases, 'keyphrase')}."
        if data.cold_start:
            top = [_clean(t.label or t.key) for t in data.top_topics[:5]]
            if top:
                summary += " Top topics: " + ", ".join(top) + "."
        else:
            top = [_clean(t.label or t.key) for t in data.rising[:5]]
            if top:
                summary += " Rising: " + ", ".join(top) + "."
    return FeedEntry(
        listing_date=data.listing_date,
        title=headline(data),
        summary=summary,
        content_html=render_html_fragment(data, **options),
        href=href,
        updated=updated,
    )


def _rfc3339(t: dt.datetime) -> str:
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.UTC)
    return t.astimezone(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _xml_text(s: str | None) -> str:
    """Text safe for XML 1.0 (control characters are not allowed at all)."""
    return _CONTROL.sub("", s or "")


def render_feed(
    entries: Iterable[FeedEntry],
    feed_url_base: str,
    now: dt.datetime,
    *,
    feed_name: str = "feed.xml",
    max_entries: int = FEED_MAX_ENTRIES,
    title: str = "papertrends daily digest",
    author: str = "papertrends",
) -> str:
    """An Atom 1.0 feed (RFC 4287) of the most recent ``max_entries`` digests, newest first.

    ``feed_url_base`` is the URL of the folder holding the feed and the digests (``https://…/``
    or ``file:///…/publish/``; may be ``""`` for relative links). Entry links are
    ``urljoin(feed_url_base, entry.href)``; the self link is ``urljoin(feed_url_base,
    feed_name)``. Ids are stable tag URIs (``tag:papertrends,2026:digest/2026-11-28``). One
    entry per listing date (the last one given wins). Feed ``updated`` is ``now``.
    """
    by_date: dict[str, FeedEntry] = {}
    for e in entries:
        by_date[_date(e.listing_date)] = e
    chosen = [by_date[d] for d in sorted(by_date, reverse=True)[:max_entries]]

    def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        el = ET.SubElement(parent, tag, attrs)
        if text is not None:
            el.text = _xml_text(text)
        return el

    feed = ET.Element("feed", xmlns=ATOM_NS)
    sub(feed, "id", TAG_PREFIX + "digest")
    sub(feed, "title", title)
    sub(feed, "subtitle", "Trending research papers and keyphrases, one digest per listing day")
    sub(feed, "updated", _rfc3339(now))
    sub(sub(feed, "author"), "name", author)
    sub(
        feed,
        "link",
        rel="self",
        type="application/atom+xml",
        href=urljoin(feed_url_base, feed_name),
    )
    sub(feed, "generator", "papertrends")
    for e in chosen:
        day = _date(e.listing_date)
        entry = sub(feed, "entry")
        sub(entry, "id", f"{TAG_PREFIX}digest/{day}")
        sub(entry, "title", _clean(e.title) or f"papertrends digest {day}")
        sub(entry, "updated", _rfc3339(e.updated or now))
        sub(entry, "link", rel="alternate", type="text/html", href=urljoin(feed_url_base, e.href))
        sub(entry, "summary", _clean(e.summary))
        sub(entry, "content", e.content_html, type="html")
    ET.indent(feed, space="  ")
    body = ET.tostring(feed, encoding="unicode")
    return '<?xml version="1.0" encoding="utf-8"?>\n' + body + "\n"


# --------------------------------------------------------------------------------------------
# E-mail message
# --------------------------------------------------------------------------------------------


def _recipient_key(recipients: Iterable[str]) -> str:
    return ",".join(sorted({r.strip().lower() for r in recipients if r.strip()}))


def message_id(listing_date: dt.date | str, recipients: Iterable[str]) -> str:
    """Stable Message-ID per listing date and recipient set (order/case-insensitive)."""
    h = hashlib.sha256(_recipient_key(recipients).encode()).hexdigest()[:12]
    return f"<digest-{_date(listing_date)}-{h}@papertrends.local>"


def build_message(
    data: DigestData,
    html: str,
    text: str,
    sender: str,
    recipients: Sequence[str],
    subject: str | None = None,
    *,
    date: dt.datetime | None = None,
) -> EmailMessage:
    """A multipart/alternative digest e-mail (text/plain + text/html).

    Headers: From, To, Subject (default :func:`subject_line`), Date (``date`` or now),
    Message-ID (:func:`message_id`), ``X-Papertrends-Digest: <date>``,
    ``Auto-Submitted: auto-generated``. Raises ``ValueError`` on empty recipients or header
    values with line breaks.
    """
    rcpts = [r.strip() for r in recipients if r and r.strip()]
    if not rcpts:
        raise ValueError("build_message: no recipients")
    for value in (sender, *rcpts):
        if "\n" in value or "\r" in value or not _EMAIL.match(email.utils.parseaddr(value)[1]):
            raise ValueError(f"build_message: not an e-mail address: {value!r}")
    msg = EmailMessage(policy=email.policy.SMTP)
    msg["From"] = sender
    msg["To"] = ", ".join(rcpts)
    msg["Subject"] = _clean(subject) if subject else subject_line(data)
    msg["Date"] = email.utils.format_datetime(date or dt.datetime.now(dt.UTC))
    msg["Message-ID"] = message_id(data.listing_date, rcpts)
    msg["X-Papertrends-Digest"] = _date(data.listing_date)
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    return msg
