"""Digest rendering, watchlists, Atom feed and e-mail message (pure functions, no warehouse)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import email
import email.policy
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

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
    feed_entry,
    headline,
    load_watchlists,
    match_watchlists,
    message_id,
    render_feed,
    render_html,
    render_markdown,
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
            paper_id="p1",
            title="Discrete Flow-Matching for Protein Design",
            abstract="We extend flow matching to discrete sequences. Results on peptides.",
            code_url="https://github.com/example/dfm",
            keyphrases=("discrete flow matching", "protein design", "peptide generation"),
            is_new=True,
            topics=("flow matching", "protein design", "peptide generation"),
        ),
        DigestPaper(
            rank=2,
            paper_id="p2",
            title="Scaling Latent Diffusion Models to Video",
            abstract="Latent diffusion models generate long videos.",
            code_url=None,
            keyphrases=("latent diffusion models", "video generation"),
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
        ),
        DigestPaper(
            rank=4,
            paper_id="p4",
            title=XSS_IMG,
            abstract="Nothing to see.",
            code_url="https://example.org/code?a=1&b=2",
            keyphrases=("vision transformer",),
        ),
    ]


def _trends() -> list[TrendRow]:
    spark = (0, 1, 0, 0, 2, 1, 0, 3, 1, 2, 2, 4, 3, 5)
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


def _plural_fold(s: str) -> str:
    """A stand-in for the pipeline normaliser: case, hyphens and trailing-s plurals."""
    words = re.findall(r"\w+", s.lower())
    return " ".join(
        w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w for w in words
    )


class _Collect(HTMLParser):
    """Tags and attributes of an HTML document, as a browser would see them."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(html: str) -> _Collect:
    p = _Collect()
    p.feed(html)
    p.close()
    return p


# ------------------------------------------------------------------------------ rendering


def test_headline() -> None:
    assert headline(_data()) == "4 papers on 2026-11-28 · 3 rising topics"
    one = _data(numbers=DigestNumbers(1, 0, 3), papers=_papers()[:1], trends=_trends()[:1])
    assert headline(one) == "1 paper on 2026-11-28 · 1 rising topic"


@pytest.mark.parametrize("render", [render_html, render_markdown])
def test_digest_content(render) -> None:
    out = render(_data())
    assert "4 papers on 2026-11-28 · 3 rising topics" in out
    # day numbers
    for n in ("4", "2", "37"):
        assert n in out
    # papers in page order
    positions = [out.index(t) for t in ("Discrete Flow-Matching", "Scaling Latent Diffusion")]
    assert positions == sorted(positions)
    assert out.index("Scaling Latent Diffusion") < out.index("Attention Is") < out.index("Vision")
    # keyphrases shown
    for kp in ("protein design", "video generation", "vision transformer"):
        assert kp in out
    # watchlists come before trends and papers
    watch = out.index("Your watchlists")
    assert watch < out.index("Rising topics") < out.index("New topics")
    papers = out.rindex("Discrete Flow-Matching")
    assert out.index("New topics") < out.index("Bursting topics") < papers
    # rising section: topic labels, strongest first; falling/steady not listed as rising
    rising = out[out.index("Rising topics") : out.index("New topics")]
    assert (
        rising.index("Flow Matching")
        < rising.index("state space models")
        < rising.index("video generation")
    )
    assert "GAN" not in rising and "peptide generation" not in rising
    new = out[out.index("New topics") : out.index("Bursting topics")]
    assert "peptide generation" in new and "Flow Matching" not in new
    # bursting section: the steady topic in a burst, with its start
    bursting = out[out.index("Bursting topics") : papers]
    assert "Transformers · bursting since 2026-11-20" in bursting
    assert "Flow Matching" not in bursting
    assert "Top topics today" not in out and "Trends start in" not in out
    # code link only for the http(s) URL
    assert "https://github.com/example/dfm" in out


def test_html_structure_and_sparklines() -> None:
    out = render_html(_data())
    parsed = _parse(out)
    tags = [t for t, _ in parsed.tags]
    assert tags.count("svg") == 5  # 3 rising + 1 new + 1 bursting
    assert "polyline" in tags
    # self-contained: no scripts, no external resources, max width for e-mail clients
    assert "script" not in tags and "link" not in tags and "img" not in tags
    assert "max-width:700px" in out
    for tag, attrs in parsed.tags:
        assert not any(k.startswith("on") for k in attrs), (tag, attrs)
        src = attrs.get("src")
        assert src is None, (tag, attrs)
    hrefs = [a["href"] for t, a in parsed.tags if t == "a"]
    assert all(h.startswith(("https://", "http://", "#")) for h in hrefs), hrefs
    # watchlist hits link to the paper rows
    assert "#p-1" in hrefs and any(a.get("id") == "p-1" for _, a in parsed.tags)
    # URL with & is attribute-escaped
    assert 'href="https://example.org/code?a=1&amp;b=2"' in out


def test_html_escapes_listing_text() -> None:
    out = render_html(_data())
    parsed = _parse(out)
    tags = [t for t, _ in parsed.tags]
    assert "script" not in tags and "img" not in tags and "b" not in tags
    assert "<script>" not in out and "<img" not in out
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out
    assert "&lt;img src=x onerror=alert(1)&gt;" in out
    text = "".join(parsed.text)
    assert "<script>alert(1)</script>" in text  # shown as text
    assert "javascript:" not in " ".join(str(a.get("href")) for _, a in parsed.tags)


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
    assert hrefs == ["https://github.com/example/dfm", "https://example.org/code?a=1&b=2"]
    assert not {"script", "img", "b"} & {t for t, _ in parsed.tags}
    assert "<script>alert(1)</script>" in "".join(parsed.text)


def test_markdown_sparklines_and_tables() -> None:
    md = render_markdown(_data())
    assert spark_blocks(_trends()[0].sparkline) in md
    assert spark_blocks([0, 1, 2, 4]) == "▁▃▅█"
    assert spark_blocks([0, 0, 3]) == "▁▁█"
    assert spark_blocks([0, 0]) == "▁▁" and spark_blocks([]) == ""
    assert "| Flow Matching | " in md and "| 7 | 2 |" in md


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


@pytest.mark.parametrize("render", [render_html, render_markdown])
def test_cold_start_day_shows_top_topics_and_when_trends_start(render) -> None:
    out = render(_cold_start())
    assert "4 papers on 2026-11-28 · top topic: Large Language Models" in out
    top = out[out.index("Top topics today") : out.rindex("Discrete Flow-Matching")]
    assert top.index("Large Language Models") < top.index("Flow Matching")
    assert "40" in top and "20%" in top and "23" in top and "12%" in top
    line = (
        "Trends start in 9 listing days: they compare the last 7 listing days with "
        "the 28 before, and need 3 of those."
    )
    assert line in top
    # no trend label, no NEW badge: every paper is new on the first day, said once
    lower = out.lower()
    for word in ("rising", "falling", "steady", "bursting", "new topics"):
        assert word not in lower, word
    assert ">NEW<" not in out and " · new" not in out
    assert lower.count("all new") == 1 and "first listing day" in lower


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
    for out in (render_html(data), render_markdown(data), feed_entry(data, "d.html").content_html):
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
    html, md = render_html(data), render_markdown(data)
    expected = reason or "The listing for this date contained no papers."
    for out in (html, md):
        assert "No papers on 2026-11-29" in out
    assert expected in html
    assert expected.rstrip(".").replace("(", "").split()[0] in md
    assert "Papers</h2>" not in html


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
        # an entry without content MUST have an alternate link; with content it is html here
        content = one(e, "content")
        assert content.get("type") == "html"
        assert "<table" in content.text and "&lt;script&gt;" in content.text  # escaped once
        assert one(e, "summary").text
    assert len(ids) == len(set(ids))
    # newest first, stable tag ids
    assert ids[0] == "tag:papertrends,2026:digest/2026-10-03"


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
    xml = render_feed([feed_entry(data, "d.html")], "", dt.datetime(2026, 12, 1))
    ET.fromstring(xml.encode())


def test_empty_feed() -> None:
    root = ET.fromstring(render_feed([], "", dt.datetime(2026, 12, 1)).encode())
    assert root.find(f"{ATOM}id") is not None and not root.findall(f"{ATOM}entry")


# ------------------------------------------------------------------------------ message


def test_build_message() -> None:
    data = _data()
    html, text = render_html(data), render_markdown(data)
    msg = build_message(
        data,
        html,
        text,
        "papertrends@localhost",
        ["bob@example.org", "alice@example.org"],
        date=dt.datetime(2026, 11, 28, 7, 0, tzinfo=dt.UTC),
    )
    assert msg["Subject"] == "papertrends · 2026-11-28 · 4 papers, 3 rising"
    assert msg["X-Papertrends-Digest"] == "2026-11-28"
    assert msg["To"] == "bob@example.org, alice@example.org"
    assert msg["Date"] == "Sat, 28 Nov 2026 07:00:00 +0000"
    assert re.fullmatch(r"<digest-2026-11-28-[0-9a-f]{12}@papertrends\.local>", msg["Message-ID"])
    # stable per date + recipient set (order and case do not matter), differs otherwise
    assert msg["Message-ID"] == message_id(DAY, ["ALICE@example.org", "bob@example.org"])
    assert msg["Message-ID"] != message_id(DAY, ["alice@example.org"])
    assert msg["Message-ID"] != message_id(
        dt.date(2026, 11, 29), ["alice@example.org", "bob@example.org"]
    )

    parsed = email.message_from_bytes(msg.as_bytes(), policy=email.policy.default)
    assert parsed.get_content_type() == "multipart/alternative"
    parts = {p.get_content_type(): p.get_content() for p in parsed.iter_parts()}
    assert set(parts) == {"text/plain", "text/html"}
    assert "4 papers on 2026-11-28" in parts["text/plain"]
    assert "<svg" in parts["text/html"]
    assert parsed["Subject"] == msg["Subject"]


def test_build_message_rejects_header_injection() -> None:
    data = _data()
    with pytest.raises(ValueError):
        build_message(data, "<p>x</p>", "x", "a@b.c", ["x@y.z\nBcc: evil@example.org"])
    with pytest.raises(ValueError):
        build_message(data, "<p>x</p>", "x", "a@b.c", [])
    msg = build_message(data, "<p>x</p>", "x", "a@b.c", ["x@y.z"], subject="Hi\r\nBcc: e@x.org")
    assert msg["Bcc"] is None
