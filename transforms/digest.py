"""The daily digest: data model, watchlists, renderings (Markdown, HTML, text, Atom), e-mail.

Everything here is a pure function over plain Python data (no DuckDB, no Dagster, no
plotting): the caller queries the warehouse, builds a :class:`DigestData` and asks for text.

One model, four renderings: :func:`digest_view` turns a :class:`DigestData` into the
:class:`DigestView` every template reads (sections, ranked top papers, the other papers
grouped by topic), and Jinja2 templates in ``transforms/templates/`` render it as Markdown,
HTML, plain text (the e-mail's text/plain part) and the Atom feed. Typical wiring::

    watchlists = load_watchlists(home.root / "watchlists.yaml")
    hits = match_watchlists(watchlists, papers, normalize=normalize_keyphrase)
    data = DigestData(listing_date=day, papers=papers, trends=trends, ...)
    charts = transforms.charts.digest_charts(data)          # PNGs: charts/<slug>.png
    md, html = render_markdown(data, charts), render_html(data, charts)
    text = render_text(data)
    msg = build_message(data, html, text, sender, recipients, charts=chart_map(charts))
    feed = render_feed(entries, "", now)                     # entries: FeedEntry list

Layout, to read in a minute: watchlist hits; the rising / new / bursting topics with counts
and their share over the last 28 listing days (a cold start: the day's top topics and when
trends begin); the top papers as full cards (by upvotes when the source has them, else by
their topics' trend strength); every other paper as one line under its topic.

Safety: every string that comes from a listing (titles, abstracts, keyphrases, topic labels,
URLs) is untrusted. The HTML and Atom templates autoescape; the Markdown template escapes
every value that is not explicitly marked safe (Markdown and HTML specials), the text
template strips control characters; only ``http``/``https`` URLs ever become links
(:func:`safe_url`). Abstracts are shown with their LaTeX decoded
(:func:`transforms.latex.decode_latex`) before they are cut and escaped.
"""

from __future__ import annotations

import datetime as dt
import email.policy
import email.utils
import functools
import hashlib
import re
import textwrap
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote_plus, urljoin, urlsplit

import jinja2
import yaml
from markupsafe import Markup

from transforms.files import one_line
from transforms.hashing import sha256_parts
from transforms.latex import decode_latex

__all__ = [
    "FEED_MAX_ENTRIES",
    "TAG_PREFIX",
    "DigestData",
    "DigestNumbers",
    "DigestPaper",
    "DigestView",
    "FeedEntry",
    "TopicCount",
    "TrendRow",
    "Watchlist",
    "build_message",
    "chart_topics",
    "cold_start_text",
    "digest_view",
    "feed_entry",
    "headline",
    "load_watchlists",
    "match_watchlists",
    "message_id",
    "paper_url",
    "render_feed",
    "render_html",
    "render_markdown",
    "render_text",
    "safe_url",
    "simple_normalize",
    "spark_blocks",
    "subject_line",
]

#: Stable prefix of Atom ids (RFC 4151 tag URI). Never change it: feed readers key on ids.
TAG_PREFIX = "tag:papertrends,2026:"
#: The feed keeps the most recent digests only.
FEED_MAX_ENTRIES = 30

#: The trend windows: the dbt vars of the same names (dbt_project.yml, where they are set),
#: read here to explain a cold start.
_DBT_VARS = yaml.safe_load(
    (Path(__file__).resolve().parent.parent / "dbt_project" / "dbt_project.yml").read_text(
        encoding="utf-8"
    )
)["vars"]
TREND_CURRENT_DAYS = int(_DBT_VARS["trend_current_days"])
TREND_REFERENCE_DAYS = int(_DBT_VARS["trend_reference_days"])
TREND_MIN_REFERENCE_DAYS = int(_DBT_VARS["trend_min_reference_days"])
#: Topics shown per trend section, papers shown as full cards, keyphrase chips per card.
MAX_TRENDS, TOP_PAPERS, MAX_KEYPHRASES, ABSTRACT_CHARS = 5, 15, 3, 280
#: A day with at most this many papers shows them all as cards; a cold start lists this
#: many top topics.
ALL_CARDS_UP_TO, MAX_TOP_TOPICS = 20, 10
#: Trend strength of a new topic (it has no reference to compare with) and a burst's bonus.
NEW_TOPIC_STRENGTH, BURST_BONUS = 3.0, 1.0


# --------------------------------------------------------------------------------------------
# Data model
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DigestPaper:
    """One paper of the day's listing.

    ``keyphrases`` are surface strings, best first; ``topics`` the topic key of each of them,
    in the same order (``""`` or missing: no topic). ``url`` is the link to the paper page
    (:func:`paper_url`; only ``http(s)`` URLs are linked; without one the title links to a
    title search). ``is_new``: first listed on this listing date. ``upvotes``: as the source
    showed them that day (None: the source has none). ``source``: where it was listed
    (``hf_page``, ``arxiv``...; picks the search a title without a page links to).
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
    upvotes: int | None = None
    source: str = ""

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
    ``sparkline``: the topic's share of each listing day (papers with the topic / papers
    listed that day, 0..1) over the last 28 listing days, oldest first: shares, not counts, so
    a short day does not look like a fall.
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
    sparkline: tuple[float, ...] = ()
    bursting_since: dt.date | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "sparkline", tuple(float(v or 0.0) for v in self.sparkline or ()))


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
    every paper is new and no paper gets a NEW badge. ``topic_labels``: how each topic key
    of the papers is shown (a key without a label is shown as is).
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
    topic_labels: Mapping[str, str] = field(default_factory=dict)

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
        detail = one_line(exc)
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
_ARXIV_ID = re.compile(r"^(?:\d{4}\.\d{4,5}|[a-z][a-z.-]*/\d{7})$", re.IGNORECASE)


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


def paper_url(
    paper_id: str, url: str | None = None, arxiv_id: str | None = None, source: str = ""
) -> str | None:
    """The paper's page: ``url`` when it is a safe http(s) URL, else the page its id implies
    (``arxiv:2401.01234`` or an arXiv id: the Hugging Face paper page when the source is
    Hugging Face, else the arXiv abstract), else None (a pasted title without an id)."""
    if safe_url(url):
        return safe_url(url)
    ident = arxiv_id or (paper_id[len("arxiv:") :] if paper_id.startswith("arxiv:") else "")
    ident = (ident or "").strip()
    if not _ARXIV_ID.match(ident):
        return None
    if source.startswith("hf"):
        return f"https://huggingface.co/papers/{ident}"
    return f"https://arxiv.org/abs/{ident}"


def _search_url(title: str, source: str) -> str:
    """A title search where the paper would be found (its page is not known)."""
    q = quote_plus(_clean(title)[:200])
    if source.startswith("arxiv"):
        return f"https://arxiv.org/search/?query={q}&searchtype=title"
    return f"https://huggingface.co/papers?q={q}"


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


def _pct(x: float | None) -> str:
    if x is None:
        return "–"
    v = 100.0 * float(x)
    return f"{v:.1f}%" if v < 10 else f"{v:.0f}%"


_SPARK_BLOCKS = "▁▂▃▄▅▆▇█"


def spark_blocks(series: Sequence[float]) -> str:
    """Unicode block sparkline from zero to the series' peak, e.g. ``▁▁▂▃▅▇``; empty string
    for an empty series."""
    if not series:
        return ""
    top = max(series)
    if top <= 0:
        return _SPARK_BLOCKS[0] * len(series)
    steps = len(_SPARK_BLOCKS) - 1
    return "".join(_SPARK_BLOCKS[round(max(v, 0) / top * steps)] for v in series)


# --------------------------------------------------------------------------------------------
# The view: one model for every rendering
# --------------------------------------------------------------------------------------------


class ChartLike(Protocol):
    """What a rendering needs of a chart (``transforms.charts.Chart`` is one)."""

    @property
    def src(self) -> str: ...

    width: int
    height: int
    alt: str


@dataclass(frozen=True)
class ImageView:
    src: str
    width: int
    height: int
    alt: str


@dataclass(frozen=True)
class TagView:
    text: str
    hot: bool


@dataclass(frozen=True)
class PaperView:
    """One paper as every rendering shows it (strings clean, URLs safe or None)."""

    rank: int
    anchor: str
    title: str
    url: str  # the paper's page, else a search for its title
    page: str | None  # the paper's page only (the text part spells out no search links)
    code_url: str | None
    new: bool
    upvotes: int | None
    tags: tuple[TagView, ...]
    snippet: str

    @property
    def url_is_search(self) -> bool:
        return self.page is None


@dataclass(frozen=True)
class TrendView:
    key: str
    label: str
    since: str | None
    papers_current: int
    papers_reference: int
    share: str
    share_was: str
    z: str | None
    spark: str
    chart: ImageView | None


@dataclass(frozen=True)
class TrendSection:
    id: str
    title: str
    rows: tuple[TrendView, ...]
    total: int

    @property
    def more(self) -> int:
        return self.total - len(self.rows)


@dataclass(frozen=True)
class TopicView:
    label: str
    papers: int
    share: str


@dataclass(frozen=True)
class WatchView:
    name: str
    papers: tuple[PaperView, ...]


@dataclass(frozen=True)
class GroupView:
    label: str
    papers: tuple[PaperView, ...]


@dataclass(frozen=True)
class DigestView:
    """Everything the templates show, in order."""

    day: str
    page_title: str
    headline: str
    papers: int
    new_papers: int
    keyphrases: int
    first_listing_day: bool
    empty: str | None
    watchlists: tuple[WatchView, ...]
    cold_start: str | None
    top_topics: tuple[TopicView, ...]
    trends: tuple[TrendSection, ...]
    overview: ImageView | None
    top_papers: tuple[PaperView, ...]
    top_basis: str
    groups: tuple[GroupView, ...]
    legend: str

    @property
    def more_papers(self) -> int:
        return sum(len(g.papers) for g in self.groups)


def _trend_sections(data: DigestData) -> list[tuple[str, str, list[TrendRow]]]:
    """The trend sections (id, title, rows), in order (none on a cold-start day)."""
    if data.cold_start:
        return []
    return [
        ("rising", "Rising topics", data.rising),
        ("new", "New topics", data.new),
        ("bursting", "Bursting topics", data.bursting),
    ]


def chart_topics(data: DigestData, max_trends: int = MAX_TRENDS) -> list[TrendRow]:
    """The trend rows the digest shows (each section's first ``max_trends``), each topic once,
    in section order: the topics that get a sparkline."""
    seen: dict[str, TrendRow] = {}
    for _, _, rows in _trend_sections(data):
        for t in rows[:max_trends]:
            seen.setdefault(t.key, t)
    return list(seen.values())


def _strength(t: TrendRow) -> float:
    """How strongly a topic trends: its z-score; a new topic counts as
    :data:`NEW_TOPIC_STRENGTH`, a burst adds :data:`BURST_BONUS`."""
    z = float(t.z_score) if t.z_score is not None else 0.0
    if t.status == "new":
        z = max(z, NEW_TOPIC_STRENGTH)
    if t.bursting_since is not None:
        z += BURST_BONUS
    return z


def _hot_strengths(data: DigestData) -> dict[str, float]:
    """Topics of the trend sections (their papers' tags are highlighted) and their strength."""
    out: dict[str, float] = {}
    for _, _, rows in _trend_sections(data):
        for t in rows:
            out[t.key] = max(out.get(t.key, float("-inf")), _strength(t))
    return out


def _topic_label(data: DigestData, key: str) -> str:
    if key in data.topic_labels:
        return _clean(data.topic_labels[key]) or key
    for t in data.trends:
        if t.key == key:
            return _clean(t.label) or key
    for t in data.top_topics:
        if t.key == key:
            return _clean(t.label) or key
    return _clean(key)


def _image(chart: ChartLike | None) -> ImageView | None:
    if chart is None:
        return None
    return ImageView(chart.src, int(chart.width), int(chart.height), _clean(chart.alt))


def _paper_view(
    p: DigestPaper, hot: Mapping[str, float], badge: bool, max_keyphrases: int, chars: int
) -> PaperView:
    url = safe_url(p.url)
    return PaperView(
        rank=int(p.rank),
        anchor=f"p-{int(p.rank)}",
        title=_clean(p.title) or "(untitled)",
        url=url or _search_url(p.title or "", p.source or ""),
        page=url,
        code_url=safe_url(p.code_url),
        new=bool(p.is_new and badge),
        upvotes=int(p.upvotes) if p.upvotes is not None else None,
        tags=tuple(TagView(_clean(k), t in hot) for k, t in p.tags(max_keyphrases)),
        snippet=_snippet(p.abstract, chars),
    )


def _rank_papers(data: DigestData, hot: Mapping[str, float]) -> tuple[list[DigestPaper], str]:
    """Papers best first and how they were ranked: by upvotes when the source has them, else
    by the strongest trend among their topics, else in listing order."""
    papers = list(data.papers)
    if any(p.upvotes is not None for p in papers):
        papers.sort(key=lambda p: (-(p.upvotes if p.upvotes is not None else -1), p.rank))
        return papers, "by upvotes"
    score = {
        p.paper_id: max((hot[t] for t in p.topics if t in hot), default=float("-inf"))
        for p in papers
    }
    if all(s == float("-inf") for s in score.values()):
        return sorted(papers, key=lambda p: p.rank), "in listing order"
    papers.sort(
        key=lambda p: (
            -score[p.paper_id],
            -len({t for t in p.topics if t in hot}),
            p.rank,
        )
    )
    return papers, "by the trend strength of their topics"


def _group_papers(
    data: DigestData, rest: Sequence[DigestPaper], hot: Mapping[str, float]
) -> list[tuple[str, list[DigestPaper]]]:
    """The papers without a card, one topic heading each: a paper with trending topics goes
    under its strongest one (those headings first, strongest first); the others under the
    topic most of them share, largest first (a topic of a single paper is not a heading);
    the rest under "Other papers". Papers in listing order under each heading."""
    groups: dict[str, list[DigestPaper]] = {}
    left: list[DigestPaper] = []
    for p in rest:
        trending = [t for t in dict.fromkeys(p.topics) if t in hot]
        if trending:
            groups.setdefault(max(trending, key=lambda t: (hot[t], t)), []).append(p)
        else:
            left.append(p)
    order = sorted(groups, key=lambda t: (-hot[t], t))
    while left:
        counts = Counter(t for p in left for t in dict.fromkeys(p.topics) if t)
        if not counts:
            break
        best, n = min(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        if n < 2:
            break
        groups[best] = [p for p in left if best in p.topics]
        order.append(best)
        left = [p for p in left if best not in p.topics]
    out = [(_topic_label(data, t), sorted(groups[t], key=lambda p: p.rank)) for t in order]
    if left:
        out.append(("Other papers", sorted(left, key=lambda p: p.rank)))
    return out


def digest_view(
    data: DigestData,
    charts: Mapping[str, ChartLike] | None = None,
    *,
    max_trends: int = MAX_TRENDS,
    top_papers: int = TOP_PAPERS,
    max_keyphrases: int = MAX_KEYPHRASES,
    abstract_chars: int = ABSTRACT_CHARS,
) -> DigestView:
    """The digest as every rendering shows it. ``charts``: images by topic key (and
    ``"overview"``), as ``transforms.charts.digest_charts`` makes them; none: no images."""
    charts = charts or {}
    hot = _hot_strengths(data)
    badge = not data.first_listing_day

    def view(p: DigestPaper, chars: int = abstract_chars) -> PaperView:
        return _paper_view(p, hot, badge, max_keyphrases, chars)

    sections = []
    for sid, title, rows in _trend_sections(data):
        if not rows:
            continue
        shown = tuple(
            TrendView(
                key=t.key,
                label=_clean(t.label or t.key),
                since=_date(t.bursting_since) if t.bursting_since else None,
                papers_current=int(t.papers_current),
                papers_reference=int(t.papers_reference),
                share=_pct(t.share_current),
                share_was=_pct(t.share_reference),
                z=f"{t.z_score:.1f}" if t.z_score is not None else None,
                spark=spark_blocks(t.sparkline),
                chart=_image(charts.get(t.key)),
            )
            for t in rows[:max_trends]
        )
        sections.append(TrendSection(sid, title, shown, len(rows)))

    ranked, basis = _rank_papers(data, hot)
    n_cards = len(ranked) if len(ranked) <= ALL_CARDS_UP_TO else top_papers
    cards, rest = ranked[:n_cards], ranked[n_cards:]
    groups = tuple(
        GroupView(label, tuple(view(p, 0) for p in papers))
        for label, papers in _group_papers(data, rest, hot)
    )
    watch = tuple(
        WatchView(_clean(name), tuple(view(p, 0) for p in papers))
        for name, papers in data.watch_hits.items()
    )
    legend = (
        "Counts are papers listed that day."
        if data.cold_start
        else "Highlighted tags belong to rising, new or bursting topics; counts are papers "
        f"this week / the reference window; charts show each topic's share of the papers "
        f"listed each day over the last {TREND_REFERENCE_DAYS} listing days."
    )
    day = _date(data.listing_date)
    return DigestView(
        day=day,
        page_title=f"papertrends · {day}",
        headline=headline(data),
        papers=int(data.numbers.papers or len(data.papers)),
        new_papers=int(data.numbers.new_papers),
        keyphrases=int(data.numbers.keyphrases),
        first_listing_day=data.first_listing_day,
        empty=_empty_text(data) if data.is_empty else None,
        watchlists=watch,
        cold_start=cold_start_text(data.days_to_trends) if data.cold_start else None,
        top_topics=tuple(
            TopicView(_clean(t.label or t.key), int(t.papers), _pct(t.share))
            for t in data.top_topics[:MAX_TOP_TOPICS]
        )
        if data.cold_start
        else (),
        trends=tuple(sections),
        overview=_image(charts.get("overview")) if not data.is_empty else None,
        top_papers=tuple(view(p) for p in cards),
        top_basis=basis,
        groups=groups,
        legend=legend,
    )


# --------------------------------------------------------------------------------------------
# Templates
# --------------------------------------------------------------------------------------------

TEMPLATES = Path(__file__).with_name("templates")
_MD_SPECIAL = re.compile(r"([\\`*_\[\]{}|~#!])")
_MD_LINE_START = re.compile(r"^([-+=>]|\d+[.)])")


def _md_escape(text: str) -> str:
    """Markdown and HTML specials escaped, control characters removed (spacing kept)."""
    text = _CONTROL.sub("", text)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", text)


def _md(text: Any) -> str:
    """Escape untrusted text for Markdown: no links, emphasis, tables or raw HTML can form."""
    return _md_escape(_clean(str(text) if text is not None else ""))


def _md_line(text: Any) -> str:
    """:func:`_md` for text that starts a line: no list, quote or heading can start either."""
    return _MD_LINE_START.sub(r"\\\1", _md(text))


def _md_url(url: str) -> str:
    return url.replace("(", "%28").replace(")", "%29").replace(" ", "%20")


def _md_code(text: str) -> str:
    """A keyphrase as a code span (literal in every renderer); backticks cannot break out and
    no raw ``<``/``>`` reaches naive renderers."""
    t = _clean(text).replace("`", "'").replace("<", "‹").replace(">", "›")
    return f"`{t}`" if t else ""


def _finalize_markup(value: Any) -> Any:
    """HTML/XML: strings lose control characters (not allowed in XML 1.0); then autoescape."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return _CONTROL.sub("", value)
    return "" if value is None else value


def _finalize_markdown(value: Any) -> Any:
    """Markdown's autoescape: every value not marked safe is Markdown-escaped."""
    if isinstance(value, Markup):
        return value
    return _md_escape("" if value is None else str(value))


def _finalize_text(value: Any) -> Any:
    """Text: control characters removed (the view's strings are single lines already; a
    line break a filter adds, e.g. ``wordwrap``, is kept)."""
    return _CONTROL.sub("", "" if value is None else str(value))


def _wrap(text: str, width: int = 76, indent: str = "") -> str:
    """Text filter ``wrap``: lines of at most ``width`` characters where words allow (a word
    is never cut, so a title or phrase stays searchable), continuation lines indented."""
    return textwrap.fill(
        str(text),
        width,
        subsequent_indent=indent,
        break_long_words=False,
        break_on_hyphens=False,
    )


@functools.cache
def _environment(kind: str) -> jinja2.Environment:
    common: dict[str, Any] = dict(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    if kind == "markup":
        env = jinja2.Environment(autoescape=True, finalize=_finalize_markup, **common)
    elif kind == "markdown":
        env = jinja2.Environment(autoescape=False, finalize=_finalize_markdown, **common)
        env.filters["md"] = lambda s: Markup(_md(s))
        env.filters["mdline"] = lambda s: Markup(_md_line(s))
        env.filters["mdurl"] = lambda s: Markup(_md_url(s))
        env.filters["mdcode"] = lambda s: Markup(_md_code(s))
    else:
        env = jinja2.Environment(autoescape=False, finalize=_finalize_text, **common)
        env.filters["wrap"] = _wrap
    env.filters["plural"] = _plural
    return env


def _render(kind: str, name: str, **context: Any) -> str:
    return _environment(kind).get_template(name).render(**context)


def render_markdown(
    data: DigestData, charts: Mapping[str, ChartLike] | None = None, **options: int
) -> str:
    """The digest as Markdown (``publish/<date>/digest.md``; charts linked as images)."""
    out = _render("markdown", "digest.md.j2", v=digest_view(data, charts, **options))
    return out.rstrip() + "\n"


def render_text(data: DigestData, **options: int) -> str:
    """The digest as plain text: the e-mail's text/plain part (no markup, links spelled out)."""
    out = _render("text", "digest.txt.j2", v=digest_view(data, None, **options))
    return out.rstrip() + "\n"


def render_html(
    data: DigestData, charts: Mapping[str, ChartLike] | None = None, **options: int
) -> str:
    """The digest as one self-contained HTML page and e-mail body: no scripts, no external
    resources but the chart images (``charts/<name>.png``, rewritten to ``cid:`` parts by
    :func:`build_message`), inline styles for mail clients, one column of at most 640 px."""
    return _render("markup", "digest.html.j2", v=digest_view(data, charts, **options))


# --------------------------------------------------------------------------------------------
# Atom feed
# --------------------------------------------------------------------------------------------

ATOM_NS = "http://www.w3.org/2005/Atom"


@dataclass(frozen=True)
class FeedEntry:
    """One digest in the feed: a summary and a link to it, not the digest itself.

    ``href``: the digest's HTML, relative to the feed base URL (or absolute). ``summary``:
    the numbers and top topics in one line; ``papers``: how many papers the digest lists.
    ``updated``: when the digest last changed (defaults to ``now``)."""

    listing_date: dt.date
    title: str
    summary: str
    href: str
    updated: dt.datetime | None = None
    papers: int = 0


def feed_entry(data: DigestData, href: str, updated: dt.datetime | None = None) -> FeedEntry:
    """A :class:`FeedEntry` for a digest: headline as title, numbers and top topics (rising
    ones, or the day's top topics on a cold start) as summary."""
    num = data.numbers
    if data.is_empty:
        summary = _empty_text(data)
    else:
        new = "all new: first listing day" if data.first_listing_day else f"{num.new_papers} new"
        summary = f"{_plural(num.papers, 'paper')} ({new}), {_plural(num.keyphrases, 'keyphrase')}."
        if data.cold_start:
            topics = [_clean(t.label or t.key) for t in data.top_topics[:5]]
            if topics:
                summary += " Top topics: " + ", ".join(topics) + "."
        else:
            topics = [_clean(t.label or t.key) for t in data.rising[:5]]
            if topics:
                summary += " Rising: " + ", ".join(topics) + "."
    return FeedEntry(
        listing_date=data.listing_date,
        title=headline(data),
        summary=summary,
        href=href,
        updated=updated,
        papers=int(num.papers or len(data.papers)),
    )


def _rfc3339(t: dt.datetime) -> str:
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.UTC)
    return t.astimezone(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


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
    ``feed_url_base + entry.href`` (an absolute href as is); the self link is
    ``feed_url_base + feed_name``. Ids are stable tag URIs
    (``tag:papertrends,2026:digest/2026-11-28``). One entry per listing date (the last one
    given wins). Each entry is a summary with a link, not the digest. Feed ``updated`` is
    ``now``.
    """
    by_date: dict[str, FeedEntry] = {}
    for e in entries:
        by_date[_date(e.listing_date)] = e
    chosen = [by_date[d] for d in sorted(by_date, reverse=True)[:max_entries]]
    rows = [
        {
            "id": f"{TAG_PREFIX}digest/{_date(e.listing_date)}",
            "day": _date(e.listing_date),
            "title": _clean(e.title) or f"papertrends digest {_date(e.listing_date)}",
            "updated": _rfc3339(e.updated or now),
            "link": urljoin(feed_url_base, e.href),
            "summary": _clean(e.summary),
            "papers": int(e.papers),
        }
        for e in chosen
    ]
    return _render(
        "markup",
        "feed.xml.j2",
        feed_id=TAG_PREFIX + "digest",
        title=title,
        author=author,
        updated=_rfc3339(now),
        self_link=urljoin(feed_url_base, feed_name),
        entries=rows,
    )


# --------------------------------------------------------------------------------------------
# E-mail message
# --------------------------------------------------------------------------------------------

_EMAIL_DOMAIN = "papertrends.local"


def _recipient_key(recipients: Iterable[str]) -> str:
    return ",".join(sorted({r.strip().lower() for r in recipients if r.strip()}))


def message_id(listing_date: dt.date | str, recipients: Iterable[str], content: str = "") -> str:
    """Stable Message-ID per listing date, recipient set (order/case-insensitive) and, when
    given, content: a changed digest of the same date gets a new id (mail clients drop a
    message whose id they have seen)."""
    h = hashlib.sha256(_recipient_key(recipients).encode()).hexdigest()[:12]
    tail = f"-{hashlib.sha256(content.encode()).hexdigest()[:8]}" if content else ""
    return f"<digest-{_date(listing_date)}-{h}{tail}@{_EMAIL_DOMAIN}>"


def _chart_bytes(value: bytes | str | Path) -> bytes:
    return value if isinstance(value, bytes) else Path(value).read_bytes()


def build_message(
    data: DigestData,
    html: str,
    text: str,
    sender: str,
    recipients: Sequence[str],
    subject: str | None = None,
    *,
    date: dt.datetime | None = None,
    charts: Mapping[str, bytes | str | Path] | None = None,
) -> EmailMessage:
    """The digest e-mail: multipart/alternative of text/plain and the HTML; with ``charts``
    (``{file name: PNG bytes or path}``) the HTML is a multipart/related whose images are
    ``cid:`` parts, and every ``src="charts/<name>"`` of the HTML points at its part (only the
    charts the HTML shows are attached).

    Headers: From, To, Subject (default :func:`subject_line`), Date (``date`` or now),
    Message-ID (:func:`message_id`, with the content), ``X-Papertrends-Digest: <date>``,
    ``Auto-Submitted: auto-generated``. MIME boundaries derive from the content, so the same
    content and Date give the same bytes. Raises ``ValueError`` on empty recipients or header
    values with line breaks.
    """
    rcpts = [r.strip() for r in recipients if r and r.strip()]
    if not rcpts:
        raise ValueError("build_message: no recipients")
    for value in (sender, *rcpts):
        if "\n" in value or "\r" in value or not _EMAIL.match(email.utils.parseaddr(value)[1]):
            raise ValueError(f"build_message: not an e-mail address: {value!r}")
    day = _date(data.listing_date)
    images: list[tuple[str, str, bytes]] = []
    for name in sorted(charts or {}):
        ref = f'src="charts/{name}"'
        if ref not in html:
            continue
        # Short ids: a Content-ID header that does not fold (some clients mishandle that).
        cid = f"chart-{hashlib.sha256(name.encode()).hexdigest()[:10]}.{day}@{_EMAIL_DOMAIN}"
        html = html.replace(ref, f'src="cid:{cid}"')
        images.append((name, cid, _chart_bytes(charts[name])))
    digest = sha256_parts([text, html, *(png for _, _, png in images)])

    msg = EmailMessage(policy=email.policy.SMTP)
    msg["From"] = sender
    msg["To"] = ", ".join(rcpts)
    msg["Subject"] = _clean(subject) if subject else subject_line(data)
    msg["Date"] = email.utils.format_datetime(date or dt.datetime.now(dt.UTC))
    msg["Message-ID"] = message_id(data.listing_date, rcpts, digest)
    msg["X-Papertrends-Digest"] = day
    msg["Auto-Submitted"] = "auto-generated"
    # Quoted-printable: mostly ASCII text stays readable and small (base64 adds a third).
    msg.set_content(text, cte="quoted-printable")
    msg.add_alternative(html, subtype="html", cte="quoted-printable")
    if images:
        html_part = msg.get_payload()[1]
        for name, cid, png in images:
            html_part.add_related(
                png, "image", "png", cid=f"<{cid}>", disposition="inline", filename=name
            )
    for i, part in enumerate(p for p in msg.walk() if p.is_multipart()):
        part.set_boundary(f"=_papertrends_{digest[:24]}_{i}")
    return msg
