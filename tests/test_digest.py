"""Digest model, renderings (HTML, Markdown, text, Atom), watchlists and the e-mail message
(pure functions, no warehouse)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import email
import email.policy
import random
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from typing import ClassVar

import pytest

from transforms.digest import (
    FEED_MAX_ENTRIES,
    DigestData,
    DigestNumbers,
    DigestPaper,
    FeedEntry,
    TopicCount,
    TrendRow,
    Watchlist,
    build_message,
    cold_start_text,
    digest_view,
    feed_entry,
    headline,
    load_watchlists,
    match_watchlists,
    message_id,
    paper_url,
    render_feed,
    render_html,
    render_markdown,
    render_text,
    safe_url,
    spark_blocks,
    subject_line,
)

DAY = dt.date(2026, 11, 28)
ATOM = "{http://www.w3.org/2005/Atom}"

XSS_SCRIPT = "Attention Is <script>alert(1)</script> All You Need"
XSS_IMG = "Vision <img src=x onerror=alert(1)> Transformers ](javascript:alert(1)) [x](javascript:alert(2))"


def _papers() -> list[DigestPaper]:
    return [
        DigestPaper(
            rank=1,
            paper_id="arxiv:2611.01234",
            title="Discrete Flow-Matching for Protein Design",
            abstract="We extend flow matching to discrete sequences. Results on peptides.",
            code_url="https://github.com/example/dfm",
            keyphrases=("discrete flow matching", "protein design", "peptide generation"),
            is_new=True,
            url="https://arxiv.org/abs/2611.01234",
            topics=("flow matching", "protein design", "peptide generation"),
        ),
        DigestPaper(
            rank=2,
            paper_id="p2",
            title="Scaling Latent Diffusion Models to Video",
            abstract="Latent diffusion models generate long videos.",
            code_url=None,
            keyphrases=("latent diffusion models", "video generation"),
            url="https://huggingface.co/papers/2611.00002",
            topics=("diffusion model", "video generation"),
        ),
        DigestPaper(
            rank=3,
            paper_id="p3",
            title=XSS_SCRIPT,
            abstract="A <b>bold</b> claim about state-space models.",
            code_url="javascript:alert(1)",
            keyphrases=("attention <script>", "sequence parallelism"),
            is_new=True,
            url="javascript:alert(3)",
        ),
        DigestPaper(
            rank=4,
            paper_id="p4",
            title=XSS_IMG,
            abstract="Nothing to see.",
            code_url="https://example.org/code?a=1&b=2",
            keyphrases=("vision transformer",),
            url='https://x.org/"onmouseover=alert(4)',
        ),
    ]


def _share_series(start: float, end: float, days: int = 14) -> tuple[float, ...]:
    return tuple(start + (end - start) * i / (days - 1) for i in range(days))


def _trends() -> list[TrendRow]:
    spark = _share_series(0.01, 0.05)
    burst = dt.date(2026, 11, 20)
    return [
        TrendRow("flow matching", "Flow Matching", 7, 2, 0.05, 0.012, 3.4, "rising", spark),
        TrendRow("video generation", "video generation", 5, 2, 0.03, 0.011, 2.1, "rising", spark),
        TrendRow("state space model", "state space models", 4, 1, 0.02, 0.01, 2.8, "rising", spark),
        TrendRow("peptide generation", "peptide generation", 3, 0, 0.02, 0.0, None, "new", spark),
        TrendRow("gan", "GAN", 1, 6, 0.005, 0.04, -2.5, "falling", spark),
        TrendRow("transformer", "Transformers", 9, 9, 0.06, 0.06, 0.1, "steady", spark, burst),
    ]


def _data(**overrides: object) -> DigestData:
    papers = _papers()
    watchlists = [
        Watchlist("diffusion", ("diffusion model", "flow matching"), ("alice@example.org",)),
        Watchlist("long-context", ("state space model", "sequence parallelism")),
        Watchlist("nothing", ("quantum chromodynamics",)),
    ]
    fields: dict[str, object] = dict(
        listing_date=DAY,
        papers=papers,
        trends=_trends(),
        numbers=DigestNumbers(papers=4, new_papers=2, keyphrases=37),
        watch_hits=match_watchlists(watchlists, papers, normalize=_plural_fold),
    )
    fields.update(overrides)
    return DigestData(**fields)  # type: ignore[arg-type]


# A realistic day: topics, trends, long titles and abstracts (the sample's are 70 and 1250
# characters on average, 135 at most).
_WORDS = [
    "adaptive",
    "attention",
    "benchmark",
    "causal",
    "contrastive",
    "diffusion",
    "efficient",
    "embedding",
    "federated",
    "generative",
    "graph",
    "hierarchical",
    "inference",
    "language",
    "latent",
    "learning",
    "multimodal",
    "neural",
    "optimization",
    "policy",
    "pretraining",
    "quantization",
    "reasoning",
    "reinforcement",
    "retrieval",
    "robust",
    "scalable",
    "segmentation",
    "sparse",
    "temporal",
    "transformer",
    "uncertainty",
    "video",
    "vision",
    "zero-shot",
]
RICH_TOPICS = [
    ("flow matching", "Flow Matching"),
    ("large language model", "Large Language Models"),
    ("video generation", "video generation"),
    ("state space model", "state space models"),
    ("reward model", "reward models"),
    ("graph neural network", "graph neural networks"),
    ("speech recognition", "speech recognition"),
    ("protein design", "protein design"),
    ("code generation", "code generation"),
    ("robot learning", "robot learning"),
    ("image editing", "image editing"),
    ("retrieval augmented generation", "retrieval-augmented generation"),
]


def rich_data(
    n: int = 200,
    *,
    seed: int = 7,
    upvotes: bool = False,
    cold_start: bool = False,
    day: dt.date = DAY,
) -> DigestData:
    """``n`` papers with realistic title/abstract lengths, five keyphrases each with topics,
    every third with code; trends (rising, new, bursting) or, on a cold start, top topics."""
    rnd = random.Random(seed)
    papers = []
    for i in range(1, n + 1):
        words = rnd.choices(_WORDS, k=rnd.choice((4, 5, 6, 7, 8, 9, 10, 14)))
        title = " ".join(w.capitalize() for w in words)[:130].rstrip() + f" {i}"
        abstract = " ".join(rnd.choices(_WORDS, k=rnd.randint(110, 160))).capitalize() + "."
        chosen = rnd.sample(RICH_TOPICS, 3)
        keyphrases = [label.lower() for _, label in chosen] + [
            " ".join(rnd.choices(_WORDS, k=2)) for _ in range(2)
        ]
        papers.append(
            DigestPaper(
                rank=i,
                paper_id=f"arxiv:2611.{i:05d}",
                title=title,
                abstract=abstract,
                code_url=f"https://github.com/lab{i}/repo-{i}" if i % 3 == 0 else None,
                keyphrases=keyphrases,
                is_new=i % 4 != 0,
                url=f"https://arxiv.org/abs/2611.{i:05d}",
                topics=[key for key, _ in chosen] + ["", ""],
                upvotes=rnd.randint(0, 300) if upvotes else None,
                source="hf_api" if upvotes else "arxiv",
            )
        )
    labels = dict(RICH_TOPICS)
    if cold_start:
        top = [
            TopicCount(k, labels[k], 40 - 3 * j, (40 - 3 * j) / n)
            for j, (k, _) in enumerate(RICH_TOPICS[:10])
        ]
        return DigestData(
            day,
            papers,
            [],
            DigestNumbers(n, n, 5 * n),
            top_topics=top,
            days_to_trends=9,
            first_listing_day=True,
            topic_labels=labels,
        )
    rows = []
    for j, (key, label) in enumerate(RICH_TOPICS[:8]):
        status = ("rising", "rising", "rising", "new", "steady", "rising", "falling", "new")[j]
        z = None if status == "new" else (4.0 - j * 0.4 if status != "falling" else -2.0)
        series = _share_series(0.02 + 0.01 * j, 0.06 + 0.02 * j, 28)
        since = dt.date(2026, 11, 20) if j in (1, 4) else None
        rows.append(TrendRow(key, label, 10 + j, 4, 0.06, 0.02, z, status, series, since))
    return DigestData(
        day,
        papers,
        rows,
        DigestNumbers(n, sum(p.is_new for p in papers), 5 * n),
        top_topics=(),
        topic_labels=labels,
    )


def _plural_fold(s: str) -> str:
    """A stand-in for the pipeline normaliser: case, hyphens and trailing-s plurals."""
    words = re.findall(r"\w+", s.lower())
    return " ".join(
        w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w for w in words
    )


class _Collect(HTMLParser):
    """Tags and attributes of an HTML document, as a browser would see them, and the
    open-element path of each tag (``section#trends > section#rising > table ...``)."""

    VOID: ClassVar[set[str]] = {"meta", "img", "br", "link", "hr", "input"}

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.paths: list[tuple[str, ...]] = []
        self.text: list[str] = []
        self._open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags.append((tag, a))
        name = (
            tag
            + (f"#{a['id']}" if a.get("id") else "")
            + (f".{a['class']}" if a.get("class") else "")
        )
        self.paths.append((*self._open, name))
        if tag not in self.VOID:
            self._open.append(name)

    def handle_endtag(self, tag: str) -> None:
        while self._open:
            if self._open.pop().split("#")[0].split(".")[0] == tag:
                break

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(html: str) -> _Collect:
    p = _Collect()
    p.feed(html)
    p.close()
    return p


class _FakeChart:
    """What the renderings need of a chart (transforms.charts.Chart has the same)."""

    def __init__(self, name: str, width: int = 120, height: int = 28, alt: str = "") -> None:
        self.name, self.width, self.height, self.alt = name, width, height, alt or name
        self.src = f"charts/{name}"


def _charts(data: DigestData) -> dict[str, _FakeChart]:
    out = {t.key: _FakeChart(f"{t.key.replace(' ', '-')}.png") for t in data.trends}
    out["overview"] = _FakeChart("overview.png", 560, 200, "overview <of> shares")
    return out


# ------------------------------------------------------------------------------ rendering


def test_headline() -> None:
    assert headline(_data()) == "4 papers on 2026-11-28 · 3 rising topics"
    one = _data(numbers=DigestNumbers(1, 0, 3), papers=_papers()[:1], trends=_trends()[:1])
    assert headline(one) == "1 paper on 2026-11-28 · 1 rising topic"


@pytest.mark.parametrize("render", [render_html, render_markdown, render_text])
def test_digest_content(render) -> None:
    out = render(_data())
    assert "4 papers on 2026-11-28 · 3 rising topics" in out
    # day numbers
    for n in ("4", "2", "37"):
        assert n in out
    # a day of 4 papers shows them all as cards; those with trending topics first
    positions = [out.rindex(t) for t in ("Discrete Flow-Matching", "Scaling Latent Diffusion")]
    assert positions == sorted(positions)
    assert out.rindex("Scaling Latent Diffusion") < out.rindex("Attention Is") < out.index("Vision")
    # keyphrases shown
    for kp in ("protein design", "video generation", "vision transformer"):
        assert kp in out

    # watchlists come before trends and papers
    def at(title: str) -> int:
        return out.index(title) if title in out else out.index(title.upper())

    assert at("Your watchlists") < at("Rising topics") < at("New topics")
    papers = at("Top papers")
    assert at("New topics") < at("Bursting topics") < papers
    # rising section: topic labels, strongest first; falling/steady not listed as rising
    rising = out[at("Rising topics") : at("New topics")]
    assert (
        rising.index("Flow Matching")
        < rising.index("state space models")
        < rising.index("video generation")
    )
    assert "GAN" not in rising and "peptide generation" not in rising
    new = out[at("New topics") : at("Bursting topics")]
    assert "peptide generation" in new and "Flow Matching" not in new
    # bursting section: the steady topic in a burst, with its start
    bursting = out[at("Bursting topics") : papers]
    assert "Transformers · bursting since 2026-11-20" in bursting
    assert "Flow Matching" not in bursting
    lower = out.lower()
    assert "top topics today" not in lower and "Trends start in" not in out
    # the counts and shares of a trend
    assert "5.0%" in rising and "1.2%" in rising and "7" in rising
    # code link only for the http(s) URL; titles link to the paper
    assert "https://github.com/example/dfm" in out
    assert "https://arxiv.org/abs/2611.01234" in out
    assert "https://huggingface.co/papers/2611.00002" in out


def _rich_sections(html: str) -> _Collect:
    return _parse(html)


def test_html_contract_on_a_rich_day() -> None:
    """The structure the browser tests rely on (see tests/test_browser.py)."""
    data = rich_data(60)
    hits = match_watchlists([Watchlist("flows", ("flow matching",))], data.papers)
    data = dataclasses.replace(data, watch_hits=hits)
    html = render_html(data, _charts(data))
    parsed = _parse(html)
    assert re.search(r"<title>papertrends · 2026-11-28</title>", html)
    ids = [a.get("id") for _, a in parsed.tags if a.get("id")]
    for sid in ("watchlists", "trends", "rising", "new", "bursting", "top-papers", "more-papers"):
        assert ids.count(sid) == 1, sid
    assert "cold-start" not in ids and "empty" not in ids
    assert ids.index("watchlists") < ids.index("trends") < ids.index("top-papers")
    assert ids.index("top-papers") < ids.index("more-papers")
    sections = {p[-1]: p for p in parsed.paths if p[-1].startswith("section#")}
    for sub in ("section#rising", "section#new", "section#bursting"):
        assert "section#trends" in sections[sub], sections[sub]

    # top papers: 15 full cards, each titled by a link; the other 45 one line each
    cards = [p for p in parsed.paths if p[-1].startswith("article") and p[-1].endswith(".paper")]
    assert len(cards) == 15 and all("section#top-papers" in p for p in cards)
    card_links = [
        p
        for p in parsed.paths
        if p[-1] == "a" and any(x.endswith(".paper") for x in p) and "h3" in p
    ]
    assert len(card_links) == 15
    lines = [p for p in parsed.paths if p[-1].startswith("li#")]
    more = [p for p in lines if "section#more-papers" in p]
    assert len(more) == 45
    # under topic headings: each list follows an h3 inside the section
    more_html = html[html.index('<section id="more-papers"') :]
    assert more_html.count("<ul") == more_html.count("<h3") >= 2
    # every paper shown once as a card or a line, linked to its page
    shown = re.findall(r'id="p-(\d+)"', html)
    assert sorted(map(int, shown)) == list(range(1, 61))
    for p in data.papers:
        assert f'href="{p.url}"' in html
    # charts: the overview and one sparkline per shown topic, each an <img> with size and alt
    imgs = [a for t, a in parsed.tags if t == "img"]
    srcs = [a["src"] for a in imgs]
    assert "charts/overview.png" in srcs and "charts/flow-matching.png" in srcs
    for a in imgs:
        assert a["src"].startswith("charts/") and a["width"] and a["height"] and a["alt"]
        assert "max-width:100%" in a["style"]
    assert 'alt="overview &lt;of&gt; shares"' in html


def test_html_fits_a_600px_mail_client() -> None:
    data = rich_data(40)
    html = render_html(data, _charts(data))
    parsed = _parse(html)
    container = next(a for t, a in parsed.tags if a.get("class") == "digest")
    style = container["style"]
    for rule in ("max-width:640px", "width:100%", "overflow-wrap:anywhere"):
        assert rule in style, rule
    # no fixed width over 600 px anywhere; tables are 100% wide
    for tag, attrs in parsed.tags:
        widths = re.findall(r"(?<![-\w])width:\s*(\d+)px", attrs.get("style") or "")
        if attrs.get("width", "").isdigit():
            widths.append(attrs["width"])
        assert all(int(w) <= 600 for w in widths), (tag, attrs)
        if tag == "table":
            assert attrs.get("width") == "100%" and "width:100%" in attrs["style"]
    # the e-mail must not rely on the <style> block: key styles are inline too
    assert all("style" in a for t, a in parsed.tags if t in ("h1", "h2", "img", "ul", "table"))


def test_html_is_self_contained_and_safe() -> None:
    out = render_html(_data())
    parsed = _parse(out)
    tags = [t for t, _ in parsed.tags]
    # no scripts, no external resources; without charts no images either
    assert "script" not in tags and "link" not in tags and "img" not in tags and "svg" not in tags
    for tag, attrs in parsed.tags:
        assert not any(k.startswith("on") for k in attrs), (tag, attrs)
        assert attrs.get("src") is None, (tag, attrs)
    hrefs = [a["href"] for t, a in parsed.tags if t == "a"]
    assert all(h.startswith(("https://", "http://", "#")) for h in hrefs), hrefs
    # watchlist hits link to the paper and to its card
    assert "#p-1" in hrefs and any(a.get("id") == "p-1" for _, a in parsed.tags)
    # URL with & is attribute-escaped
    assert 'href="https://example.org/code?a=1&amp;b=2"' in out


@pytest.mark.parametrize("render", [render_html, render_markdown, render_text])
def test_hostile_titles_and_urls_never_become_markup_or_links(render) -> None:
    out = render(_data())
    # the hostile page URLs are never used: those titles link to a title search instead
    assert "onmouseover" not in out and "x.org/" not in out
    assert "javascript:alert(3)" not in out
    if render is render_html:
        parsed = _parse(out)
        tags = {t for t, _ in parsed.tags}
        assert not {"script", "img", "b"} & tags
        assert "<script>" not in out and "<img" not in out
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out
        assert "&lt;img src=x onerror=alert(1)&gt;" in out
        assert "<script>alert(1)</script>" in "".join(parsed.text)  # shown as text
        hrefs = " ".join(str(a.get("href")) for _, a in parsed.tags)
        assert "javascript:" not in hrefs
    elif render is render_markdown:
        assert "<script>" not in out and "<img" not in out and "<b>" not in out
    else:  # plain text: shown as is, but no link to anything but http(s)
        assert XSS_SCRIPT in out
        links = re.findall(r"<([a-z]+:[^>]*)>", out)
        assert links and all(u.startswith(("https://", "http://")) for u in links), links


def test_markdown_escapes_listing_text() -> None:
    md = render_markdown(_data())
    assert "<script>" not in md and "<img" not in md and "<b>" not in md
    # every "](" that comes from a title is escaped, so no link can form
    assert not re.search(r"(?<!\\)\]\(javascript", md)
    assert "\\](javascript:alert(1))" in md
    # whatever renderer the reader uses, no link or raw HTML forms
    markdown = pytest.importorskip("markdown")
    html = markdown.markdown(md, extensions=["tables"])
    parsed = _parse(html)
    hrefs = [a.get("href") for t, a in parsed.tags if t == "a"]
    assert "https://github.com/example/dfm" in hrefs
    assert "https://example.org/code?a=1&b=2" in hrefs
    assert all(h.startswith("https://") for h in hrefs), hrefs
    assert not any(h.lower().startswith("javascript") or "onmouseover" in h for h in hrefs)
    assert not {"script", "img", "b"} & {t for t, _ in parsed.tags}
    assert "<script>alert(1)</script>" in "".join(parsed.text)
    # the hostile title is one link's text (to a title search), not a link of its own
    titles = [
        a.get("href") for t, a in parsed.tags if t == "a" and "search" in (a.get("href") or "")
    ]
    assert all(h.startswith("https://huggingface.co/papers?q=") for h in titles)


def test_markdown_sparklines_charts_and_tables() -> None:
    data = _data()
    md = render_markdown(data)
    assert spark_blocks(_trends()[0].sparkline) in md
    assert spark_blocks([0, 1, 2, 4]) == "▁▃▅█"
    assert spark_blocks([0.0, 0.0, 0.3]) == "▁▁█"
    assert spark_blocks([0, 0]) == "▁▁" and spark_blocks([]) == ""
    assert "| Flow Matching | " in md and "| 7 | 2 |" in md
    # with charts, images instead of blocks, the overview above the sections
    md = render_markdown(data, _charts(data))
    assert "![overview &lt;of&gt; shares](charts/overview.png)" in md
    assert "](charts/flow-matching.png)" in md
    assert md.index("charts/overview.png") < md.index("## Rising topics")


def test_text_part_reads_alone() -> None:
    """The e-mail's text/plain part: topics, titles and their links, no markup at all."""
    data = rich_data(40)
    text = render_text(data)
    assert not re.search(r"<(?!https?://)[^>]*>", text), "no HTML in the text part"
    assert "**" not in text and "](" not in text and "&lt;" not in text and "&amp;" not in text
    for section in ("RISING TOPICS", "NEW TOPICS", "BURSTING TOPICS", "TOP PAPERS", "MORE PAPERS"):
        assert section in text
    assert "Flow Matching" in text and "reward models" in text
    flat = " ".join(text.split())  # a card's long title wraps
    for p in data.papers:
        # every title, on the line of its link or followed by it
        i = flat.index(p.title)
        assert f"<{p.url}>" in flat[i : i + len(p.title) + 80], p.title
    assert "<https://github.com/lab3/repo-3>" in text
    # one line per paper without a card, under its topic, with its link on that line
    view = digest_view(data)
    lines = text.splitlines()
    for g in view.groups:
        start = lines.index(f"{g.label} ({len(g.papers)})")
        assert lines[start + 1 : start + 1 + len(g.papers)] == [
            f"  - {p.title} <{p.url}>" for p in g.papers
        ]
    # without a page, a line has no link (a search URL spelled out is noise in plain text)
    bare = dataclasses.replace(data, papers=[dataclasses.replace(p, url=None) for p in data.papers])
    bare_lines = render_text(bare).splitlines()
    more = bare_lines[bare_lines.index("MORE PAPERS (25, by topic)") :]
    assert sum(line.startswith("  - ") for line in more) == 25
    assert not any("<http" in line for line in more if line.startswith("  - "))
    assert all(len(line) <= 160 for line in text.splitlines() if "<http" not in line)


def test_text_part_strips_control_characters() -> None:
    bad = DigestPaper(1, "x", "Bad\x00title\x1b[31m red", "abs\x07tract", None, ())
    text = render_text(_data(papers=[bad], watch_hits={}))
    assert "\x00" not in text and "\x1b" not in text and "\x07" not in text
    assert "Badtitle[31m red" in text


def _cold_start(**overrides: object) -> DigestData:
    """Day one of a fresh install: every paper is new, every trend row is cold_start."""
    papers = [dataclasses.replace(p, is_new=True) for p in _papers()]
    cold = [dataclasses.replace(t, status="cold_start", z_score=0.0) for t in _trends()]
    fields: dict[str, object] = dict(
        papers=papers,
        trends=cold,
        numbers=DigestNumbers(papers=4, new_papers=4, keyphrases=37),
        top_topics=[
            TopicCount("large language model", "Large Language Models", 40, 0.2),
            TopicCount("flow matching", "Flow Matching", 23, 0.115),
        ],
        days_to_trends=9,
        first_listing_day=True,
    )
    fields.update(overrides)
    return _data(**fields)


@pytest.mark.parametrize("render", [render_html, render_markdown, render_text])
def test_cold_start_day_shows_top_topics_and_when_trends_start(render) -> None:
    out = render(_cold_start())
    assert "4 papers on 2026-11-28 · top topic: Large Language Models" in out
    lower = out.lower()
    top = out[lower.index("top topics today") : out.rindex("Discrete Flow-Matching")]
    assert top.index("Large Language Models") < top.index("Flow Matching")
    assert "40" in top and "20%" in top and "23" in top and "12%" in top
    line = (
        "Trends start in 9 listing days: they compare the last 7 listing days with "
        "the 28 before, and need 3 of those."
    )
    assert line in " ".join(top.split())  # the text part wraps it
    # no trend label, no NEW badge: every paper is new on the first day, said once
    for word in ("rising", "falling", "steady", "bursting", "new topics"):
        assert word not in lower, word
    assert ">NEW<" not in out and " · new" not in out
    assert lower.count("all new") == 1 and "first listing day" in lower
    assert "in listing order" in lower


def test_cold_start_html_sections() -> None:
    data = _cold_start()
    parsed = _parse(render_html(data, {"overview": _FakeChart("overview.png", 560, 56)}))
    ids = [a.get("id") for _, a in parsed.tags if a.get("id")]
    assert "cold-start" in ids and "top-papers" in ids
    assert not {"trends", "rising", "new", "bursting", "empty"} & set(ids)
    (img,) = [a for t, a in parsed.tags if t == "img"]
    assert img["src"] == "charts/overview.png"
    assert next(p for p in parsed.paths if p[-1] == "img").count("section#cold-start") == 1


def test_cold_start_after_the_first_day_keeps_new_badges() -> None:
    data = _cold_start(first_listing_day=False, days_to_trends=1)
    html, md = render_html(data), render_markdown(data)
    assert html.count(">NEW<") == 4 and md.count(" · new") == 4
    assert "rising" not in (html + md).lower()
    assert cold_start_text(1).startswith("Trends start in 1 listing day:")
    assert cold_start_text(1) in md and cold_start_text(1) in html


def test_cold_start_subject_headline_and_feed_summary() -> None:
    data = _cold_start()
    assert subject_line(data) == (
        "papertrends · 2026-11-28 · 4 papers · top topic: Large Language Models"
    )
    assert headline(data) == "4 papers on 2026-11-28 · top topic: Large Language Models"
    entry = feed_entry(data, "d.html")
    assert entry.summary == (
        "4 papers (all new: first listing day), 37 keyphrases. "
        "Top topics: Large Language Models, Flow Matching."
    )
    assert entry.papers == 4
    # a cold-start day without topics says nothing about topics
    bare = _cold_start(top_topics=())
    assert subject_line(bare) == "papertrends · 2026-11-28 · 4 papers"
    assert "Top topics today" not in render_markdown(bare)
    assert cold_start_text(9) in render_markdown(bare)
    # a labelled day keeps the rising count
    assert subject_line(_data()) == "papertrends · 2026-11-28 · 4 papers, 3 rising"


def _tag_colours(html: str) -> dict[str, str]:
    """Each paper tag's text and background colour."""
    found = re.findall(
        r'<span style="[^"]*background:(#[0-9a-f]{6})[^"]*white-space:nowrap">([^<]*)<', html
    )
    return {text: bg for bg, text in found}


def test_paper_tags_of_rising_new_and_bursting_topics_are_highlighted() -> None:
    papers = [
        *_papers(),
        DigestPaper(
            5, "p5", "Bursting", "", None, ("vision transformers",), topics=("transformer",)
        ),
    ]
    tags = _tag_colours(render_html(_data(papers=papers)))
    hot, plain = "#dafbe1", "#eef1f5"
    assert tags["discrete flow matching"] == hot  # topic flow matching, rising
    assert tags["peptide generation"] == hot  # new topic
    assert tags["video generation"] == hot  # rising
    assert tags["vision transformers"] == hot  # topic transformer, steady but bursting
    assert tags["protein design"] == plain  # its topic has no trend
    assert tags["latent diffusion models"] == plain
    assert tags["vision transformer"] == plain  # same words, but no topic given
    # on a cold-start day nothing is hot
    cold = _tag_colours(render_html(_cold_start(papers=papers)))
    assert set(cold.values()) == {plain}


def test_top_papers_by_upvotes_when_the_source_has_them() -> None:
    data = rich_data(50, upvotes=True)
    view = digest_view(data)
    assert view.top_basis == "by upvotes" and len(view.top_papers) == 15
    votes = [p.upvotes for p in view.top_papers]
    assert votes == sorted(votes, reverse=True)
    best = sorted(data.papers, key=lambda p: (-p.upvotes, p.rank))[:15]
    assert [p.rank for p in view.top_papers] == [p.rank for p in best]
    html = render_html(data)
    assert f"▲ {votes[0]}" in html and f"▲ {votes[0]}" in render_markdown(data)


def test_top_papers_by_trend_strength_otherwise() -> None:
    data = rich_data(50)
    view = digest_view(data)
    assert view.top_basis == "by the trend strength of their topics"
    # the strongest trend is Large Language Models (rising, z 3.6, and bursting: +1), then
    # Flow Matching (z 4.0): their papers come first, each in listing order
    # (ties: more trending topics first, then listing order)
    hot = {t.key for t in data.trends if t.status in ("rising", "new") or t.bursting_since}

    def tie(p: DigestPaper) -> tuple[int, int]:
        return (-len(hot & set(p.topics)), p.rank)

    llm = sorted((p for p in data.papers if "large language model" in p.topics), key=tie)
    flow = sorted((p for p in data.papers if "flow matching" in p.topics and p not in llm), key=tie)
    assert [p.rank for p in view.top_papers] == [p.rank for p in (llm + flow)[:15]]
    # grouped: every other paper once, under a topic heading; trending topics first
    labels = [g.label for g in view.groups]
    assert labels[0] in {"Flow Matching", "Large Language Models", "video generation"}
    ranks = [p.rank for g in view.groups for p in g.papers]
    assert len(ranks) == len(set(ranks)) == 35
    assert set(ranks) | {p.rank for p in view.top_papers} == set(range(1, 51))
    for g in view.groups:
        assert [p.rank for p in g.papers] == sorted(p.rank for p in g.papers)


def test_small_and_cold_start_days_rank_in_listing_order() -> None:
    view = digest_view(rich_data(30, cold_start=True))
    assert view.top_basis == "in listing order"
    assert [p.rank for p in view.top_papers] == list(range(1, 16))
    # up to 20 papers: all of them as cards, no one-line list
    small = digest_view(rich_data(20, cold_start=True))
    assert len(small.top_papers) == 20 and not small.groups


def test_paper_url_from_the_warehouse_or_the_id() -> None:
    assert paper_url("arxiv:2401.01234", "https://huggingface.co/papers/2401.01234") == (
        "https://huggingface.co/papers/2401.01234"
    )
    assert paper_url("arxiv:2401.01234") == "https://arxiv.org/abs/2401.01234"
    assert paper_url("arxiv:2401.01234", source="hf_page") == (
        "https://huggingface.co/papers/2401.01234"
    )
    assert paper_url("0e715c313197d9d9", arxiv_id="hep-th/9901001") == (
        "https://arxiv.org/abs/hep-th/9901001"
    )
    assert paper_url("0e715c313197d9d9") is None  # a pasted title without an id
    assert paper_url("arxiv:2401.01234", "javascript:alert(1)") == (
        "https://arxiv.org/abs/2401.01234"
    )
    assert paper_url("arxiv:../../etc") is None
    # without a page, the title links to a search for it
    view = digest_view(_data(papers=[DigestPaper(1, "abc", "A & B (2)", "", None, ())]))
    (p,) = view.top_papers
    assert p.url_is_search and p.url == "https://huggingface.co/papers?q=A+%26+B+%282%29"


def test_shown_abstracts_have_their_latex_decoded() -> None:
    latex = DigestPaper(
        1,
        "p1",
        "Linear attention",
        r"We show that na\"ive attention costs $O(n^2)$ and \emph{ours} does not.",
        None,
        ("linear attention",),
    )
    data = _data(papers=[latex], watch_hits={})
    for out in (render_html(data), render_markdown(data), render_text(data)):
        assert "We show that naïve attention costs O(n^2) and ours does not." in out
        assert "$" not in out and "\\emph" not in out and 'na\\"ive' not in out


def test_safe_url() -> None:
    assert safe_url("https://github.com/a/b") == "https://github.com/a/b"
    assert safe_url("HTTP://x.org") == "HTTP://x.org"
    for bad in (
        "javascript:alert(1)",
        " javascript:alert(1)",
        "data:text/html,x",
        "//x.org",
        'https://x.org/"onmouseover=1',
        "ftp://x.org",
        "",
        None,
        "https:///nohost",
    ):
        assert safe_url(bad) is None, bad


@pytest.mark.parametrize("reason", ["No listing file for 2026-11-29 (weekend).", None])
def test_empty_day(reason: str | None) -> None:
    data = DigestData(listing_date=dt.date(2026, 11, 29), empty_reason=reason)
    html, md, text = render_html(data), render_markdown(data), render_text(data)
    expected = reason or "The listing for this date contained no papers."
    for out in (html, md, text):
        assert "No papers on 2026-11-29" in out
    assert expected in html and expected in text
    assert expected.rstrip(".").replace("(", "").split()[0] in md
    ids = [a.get("id") for _, a in _parse(html).tags if a.get("id")]
    assert ids == ["empty"]
    assert "papertrends · 2026-11-29</title>" in html


def test_empty_reason_is_escaped() -> None:
    data = DigestData(listing_date=DAY, empty_reason="parse failed: <img src=x onerror=alert(1)>")
    assert "<img" not in render_html(data)
    assert "<img" not in render_markdown(data)


# ------------------------------------------------------------------------------ watchlists


def test_load_watchlists(tmp_path: Path) -> None:
    path = tmp_path / "watchlists.yaml"
    path.write_text(
        "diffusion:\n"
        "  keyphrases: [diffusion model, flow matching]\n"
        "  recipients: [alice@example.org]\n"
        "long-context: [state space model, sequence parallelism]   # short form\n"
        "single: just one phrase\n"
    )
    assert load_watchlists(path) == [
        Watchlist("diffusion", ("diffusion model", "flow matching"), ("alice@example.org",)),
        Watchlist("long-context", ("state space model", "sequence parallelism")),
        Watchlist("single", ("just one phrase",)),
    ]


def test_load_watchlists_missing_or_empty(tmp_path: Path) -> None:
    assert load_watchlists(tmp_path / "nope.yaml") == []
    empty = tmp_path / "empty.yaml"
    empty.write_text("# nothing yet\n")
    assert load_watchlists(empty) == []


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("diffusion: [unclosed\n", "invalid YAML"),
        ("- a\n- b\n", "expected a mapping"),
        ("w: 42\n", "expected a list of keyphrases"),
        ("w: {keyphrases: [a], recipient: [x@y.z]}\n", "unknown key(s) recipient"),
        ("w: {recipients: [x@y.z]}\n", "missing 'keyphrases'"),
        ("w: {keyphrases: [a, 3]}\n", "keyphrases must be a list of strings"),
        ("w: {keyphrases: [a], recipients: [not-an-address]}\n", "not an e-mail address"),
        ("w: []\n", "no keyphrases"),
        ("1: [a]\n", "must be a non-empty string"),
    ],
)
def test_load_watchlists_bad(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "watchlists.yaml"
    path.write_text(text)
    with pytest.raises(ValueError) as err:
        load_watchlists(path)
    assert str(path) in str(err.value)
    assert problem in str(err.value)


def test_match_watchlists_plural_case_hyphen() -> None:
    papers = _papers()
    lists = [
        Watchlist("diffusion", ("Diffusion Model",)),
        Watchlist("flow", ("FLOW-MATCHING",)),
        Watchlist("ssm", ("state space model",)),
        Watchlist("none", ("quantum chromodynamics",)),
    ]
    hits = match_watchlists(lists, papers, normalize=_plural_fold)
    assert list(hits) == ["diffusion", "flow", "ssm"]  # no empty lists, watchlist order
    assert [p.rank for p in hits["diffusion"]] == [2]  # "latent diffusion models" (plural)
    assert [p.rank for p in hits["flow"]] == [1]  # title "Flow-Matching", abstract
    assert [p.rank for p in hits["ssm"]] == [3]  # abstract "state-space models"


def test_match_watchlists_whole_words_and_default_normalizer() -> None:
    papers = [
        DigestPaper(1, "a", "Transformers for graphs", "A GAN-based approach.", None, ()),
        DigestPaper(2, "b", "Organic chemistry", "We organize data.", None, ("organ donation",)),
        DigestPaper(3, "c", "Flow. Matching is hard", "", None, ()),
    ]
    hits = match_watchlists(
        [
            Watchlist("gan", ("gan",)),
            Watchlist("org", ("organ",)),
            Watchlist("fm", ("flow matching",)),
        ],
        papers,
    )
    assert [p.rank for p in hits["gan"]] == [1]  # hyphen splits words, case folded
    assert [p.rank for p in hits["org"]] == [2]  # keyphrase "organ donation", not "organic"
    assert "fm" not in hits  # no match across a sentence boundary


def test_match_watchlists_with_pipeline_normalizer() -> None:
    keyphrases = pytest.importorskip("transforms.keyphrases")
    papers = _papers()
    hits = match_watchlists(
        [Watchlist("d", ("Diffusion-Models",)), Watchlist("p", ("peptide generations",))],
        papers,
        normalize=keyphrases.normalize_keyphrase,
    )
    assert [p.rank for p in hits["d"]] == [2]
    assert [p.rank for p in hits["p"]] == [1]


# ------------------------------------------------------------------------------ feed


def _entries(n: int) -> list[FeedEntry]:
    start = dt.date(2026, 10, 1)
    out = []
    for i in range(n):
        day = start + dt.timedelta(days=i)
        data = _data(listing_date=day)
        out.append(
            feed_entry(data, f"digests/{day}.html", dt.datetime(2026, 12, 1, 6, 0, tzinfo=dt.UTC))
        )
    return out


def test_feed_is_valid_atom() -> None:
    now = dt.datetime(2026, 12, 1, 7, 30, tzinfo=dt.UTC)
    xml = render_feed(_entries(3), "https://example.org/papertrends/", now)
    root = ET.fromstring(xml.encode())
    assert root.tag == f"{ATOM}feed"

    def one(el: ET.Element, tag: str) -> ET.Element:
        found = el.findall(f"{ATOM}{tag}")
        assert len(found) == 1, (tag, len(found))
        return found[0]

    rfc3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
    # atom:feed MUST contain exactly one id, title, updated; author unless every entry has one
    assert one(root, "id").text.startswith("tag:")
    assert one(root, "title").text
    assert rfc3339.match(one(root, "updated").text)
    feed_authors = root.findall(f"{ATOM}author")
    assert all(
        a.find(f"{ATOM}name") is not None and a.find(f"{ATOM}name").text for a in feed_authors
    )
    self_links = [ln for ln in root.findall(f"{ATOM}link") if ln.get("rel") == "self"]
    assert [ln.get("href") for ln in self_links] == ["https://example.org/papertrends/feed.xml"]

    entries = root.findall(f"{ATOM}entry")
    assert len(entries) == 3
    ids = []
    for e in entries:
        ids.append(one(e, "id").text)
        assert one(e, "title").text
        assert rfc3339.match(one(e, "updated").text)
        assert feed_authors or e.findall(f"{ATOM}author")
        links = e.findall(f"{ATOM}link")
        alternates = [ln for ln in links if ln.get("rel", "alternate") == "alternate"]
        types = [(ln.get("type"), ln.get("hreflang")) for ln in alternates]
        assert len(types) == len(set(types)), "at most one alternate link per type/hreflang"
        assert alternates and alternates[0].get("href").startswith(
            "https://example.org/papertrends/digests/"
        )
        assert one(e, "summary").text
        assert one(e, "content").get("type") == "html"
    assert len(ids) == len(set(ids))
    # newest first, stable tag ids
    assert ids[0] == "tag:papertrends,2026:digest/2026-10-03"


def test_feed_entry_is_a_summary_with_a_link_not_the_digest() -> None:
    data = rich_data(200)
    xml = render_feed([feed_entry(data, "2026-11-28/digest.html")], "https://x.org/pt/", _NOW)
    root = ET.fromstring(xml.encode())
    (entry,) = root.findall(f"{ATOM}entry")
    summary = entry.find(f"{ATOM}summary").text
    assert summary == (
        "200 papers (150 new), 1000 keyphrases. Rising: Flow Matching, Large Language Models, "
        "video generation, graph neural networks."
    )
    link = entry.find(f"{ATOM}link").get("href")
    assert link == "https://x.org/pt/2026-11-28/digest.html"
    content = entry.find(f"{ATOM}content").text  # HTML, escaped once in the XML
    assert f'<a href="{link}">' in content and "200 papers" in content
    # not the digest: no paper, no abstract, no table; a small entry
    assert data.papers[0].title not in xml and data.papers[0].abstract[:40] not in xml
    assert "<table" not in content
    assert len(xml.encode()) < 3000


def test_feed_escapes_hostile_topics_and_titles() -> None:
    data = _cold_start(
        top_topics=[TopicCount("x", "<script>alert(1)</script> & co", 3, 0.5)],
        numbers=DigestNumbers(4, 4, 5),
    )
    xml = render_feed([feed_entry(data, 'd.html?a=1&b="2"')], "", _NOW)
    root = ET.fromstring(xml.encode())
    entry = root.find(f"{ATOM}entry")
    assert "<script>" not in xml and "&lt;script&gt;" in xml
    assert entry.find(f"{ATOM}title").text.endswith("top topic: <script>alert(1)</script> & co")
    content = entry.find(f"{ATOM}content").text
    assert "Top topics: &lt;script&gt;alert(1)&lt;/script&gt; &amp; co." in content  # escaped once
    assert entry.find(f"{ATOM}link").get("href") == 'd.html?a=1&b="2"'


def test_feed_caps_at_30_and_dedups_dates() -> None:
    now = dt.datetime(2026, 12, 1, 7, 30)  # naive = UTC
    entries = _entries(40)
    xml = render_feed(entries + entries[-1:], "", now)
    root = ET.fromstring(xml.encode())
    got = [e.find(f"{ATOM}id").text for e in root.findall(f"{ATOM}entry")]
    assert len(got) == FEED_MAX_ENTRIES == 30
    assert got[0].endswith("2026-11-09") and got[-1].endswith("2026-10-11")
    assert root.find(f"{ATOM}updated").text == "2026-12-01T07:30:00Z"
    link = root.find(f"{ATOM}entry/{ATOM}link").get("href")
    assert link == "digests/2026-11-09.html"  # relative when no base


def test_feed_survives_control_characters() -> None:
    data = _data(papers=[DigestPaper(1, "x", "Bad\x00title\x1b[31m", "", None, ())])
    data = dataclasses.replace(data, trends=[dataclasses.replace(_trends()[0], label="a\x0bb")])
    xml = render_feed([feed_entry(data, "d.html")], "", dt.datetime(2026, 12, 1))
    ET.fromstring(xml.encode())


def test_empty_feed() -> None:
    root = ET.fromstring(render_feed([], "", dt.datetime(2026, 12, 1)).encode())
    assert root.find(f"{ATOM}id") is not None and not root.findall(f"{ATOM}entry")


# ------------------------------------------------------------------------------ message

_NOW = dt.datetime(2026, 11, 28, 7, 0, tzinfo=dt.UTC)


def test_build_message() -> None:
    data = _data()
    html, text = render_html(data), render_text(data)
    msg = build_message(
        data,
        html,
        text,
        "papertrends@localhost",
        ["bob@example.org", "alice@example.org"],
        date=_NOW,
    )
    assert msg["Subject"] == "papertrends · 2026-11-28 · 4 papers, 3 rising"
    assert msg["X-Papertrends-Digest"] == "2026-11-28"
    assert msg["To"] == "bob@example.org, alice@example.org"
    assert msg["Date"] == "Sat, 28 Nov 2026 07:00:00 +0000"
    assert re.fullmatch(
        r"<digest-2026-11-28-[0-9a-f]{12}-[0-9a-f]{8}@papertrends\.local>", msg["Message-ID"]
    )
    # stable per date + recipient set (order and case do not matter) + content
    again = build_message(
        data, html, text, "papertrends@localhost", ["ALICE@example.org", "bob@example.org"]
    )
    assert again["Message-ID"] == msg["Message-ID"]
    assert msg["Message-ID"].startswith(
        message_id(DAY, ["alice@example.org", "bob@example.org"])[:-20]
    )
    other = build_message(data, html, text + "late papers", "a@b.c", ["alice@example.org"])
    assert other["Message-ID"] != msg["Message-ID"]  # a changed digest gets a new id
    assert message_id(DAY, ["a@x.org"]) != message_id(dt.date(2026, 11, 29), ["a@x.org"])
    assert message_id(DAY, ["a@x.org"], "x") != message_id(DAY, ["a@x.org"], "y")

    parsed = email.message_from_bytes(msg.as_bytes(), policy=email.policy.default)
    assert parsed.get_content_type() == "multipart/alternative"
    parts = {p.get_content_type(): p.get_content() for p in parsed.iter_parts()}
    assert set(parts) == {"text/plain", "text/html"}  # no charts: no related part
    assert "4 papers on 2026-11-28" in parts["text/plain"]
    assert "<section" not in parts["text/plain"] and '<section id="trends">' in parts["text/html"]
    assert parsed["Subject"] == msg["Subject"]


def test_build_message_embeds_charts_as_cid_parts(tmp_path: Path) -> None:
    long_key = "retrieval augmented generation for long context question answering"
    trends = [*_trends(), dataclasses.replace(_trends()[0], key=long_key, label=long_key)]
    data = _data(trends=trends)
    charts = _charts(data)  # one chart name of 70 characters
    html = render_html(data, charts)
    pngs = {c.name: b"\x89PNG fake " + c.name.encode() for c in charts.values()}
    pngs["unused.png"] = b"\x89PNG not shown"
    (tmp_path / "overview.png").write_bytes(pngs["overview.png"])
    pngs["overview.png"] = tmp_path / "overview.png"  # a path works as well as bytes
    msg = build_message(data, html, render_text(data), "a@b.c", ["x@y.z"], date=_NOW, charts=pngs)
    raw = msg.as_bytes()
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed.get_content_type() == "multipart/alternative"
    plain, related = parsed.iter_parts()
    assert plain.get_content_type() == "text/plain"
    assert related.get_content_type() == "multipart/related"
    html_part, *images = related.iter_parts()
    assert html_part.get_content_type() == "text/html"
    body = html_part.get_content()
    assert "charts/" not in body  # every image points at its part
    cids = {img["Content-ID"].strip("<>"): img for img in images}
    assert all(len(f"Content-ID: {img['Content-ID']}") <= 78 for img in images)  # no folding
    refs = re.findall(r'src="cid:([^"]+)"', body)
    shown = {t.key for t in data.trends if t.key != "gan"} | {"overview"}
    assert len(refs) == len(set(refs)) == len(shown) == len(cids)
    assert set(refs) == set(cids)
    for cid, img in cids.items():
        assert img.get_content_type() == "image/png"
        assert img.get_content_disposition() == "inline"
        assert img.get_content() == b"\x89PNG fake " + img.get_filename().encode()
        assert re.fullmatch(r"chart-[0-9a-f]{10}\.2026-11-28@papertrends\.local", cid)
    assert b"not shown" not in raw
    # same content and date: the same bytes (MIME boundaries come from the content)
    again = build_message(data, html, render_text(data), "a@b.c", ["x@y.z"], date=_NOW, charts=pngs)
    assert again.as_bytes() == raw


def test_build_message_rejects_header_injection() -> None:
    data = _data()
    with pytest.raises(ValueError):
        build_message(data, "<p>x</p>", "x", "a@b.c", ["x@y.z\nBcc: evil@example.org"])
    with pytest.raises(ValueError):
        build_message(data, "<p>x</p>", "x", "a@b.c", [])
    msg = build_message(data, "<p>x</p>", "x", "a@b.c", ["x@y.z"], subject="Hi\r\nBcc: e@x.org")
    assert msg["Bcc"] is None
