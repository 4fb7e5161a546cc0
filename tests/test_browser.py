"""The digest and its e-mail in a real browser: Debian's Chromium driven by selenium.

Two digests built the real way, each by one graph run on a temporary home: the bundled
sample's first day (a cold start, 200 papers: what `make run` shows) and the last of ten
listing days (trends, a watchlist). In Chromium at 600 CSS pixels, a mail client's width:
every section of the HTML contract is there and visible, nothing overflows, every image
loads, every link is http(s); the e-mail's text part reads well alone and its HTML part,
with the cid: images resolved, loads its images and fits too.

Without chromium and chromedriver these tests skip, unless CI is set (.ci/run installs them).
"""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import email
import email.policy
import mimetypes
import os
import re
import sys
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import urlparse

import duckdb
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from orchestration import env
from tests.conftest import SAMPLE, invoke, land, sample_cards

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
from screenshot_digest import browser_paths, load, start_chrome

WIDTH = 600  # CSS pixels: a mail client's reading pane
SAMPLE_DAY = dt.date(2026, 11, 2)
TREND_DAYS = [dt.date(2026, 11, 2) + dt.timedelta(days=i) for i in range(10)]
TREND_SECTIONS = ("rising", "new", "bursting")
MAX_LINE = 100  # the text part's lines, URLs aside

pytestmark = pytest.mark.slow


# ---------------------------------------------------------------------------- the browser


@pytest.fixture(scope="module")
def browser():
    binary, driver = browser_paths()
    if not binary or not driver:
        reason = (
            "chromium and chromedriver are not installed "
            "(apt-get install chromium chromium-driver; .ci/run does)"
        )
        if os.environ.get("CI"):
            pytest.fail(f"{reason}, and CI is set")
        pytest.skip(reason)
    drv = start_chrome(WIDTH)
    try:
        assert drv.execute_script("return window.innerWidth") == WIDTH
        yield drv
    finally:
        drv.quit()


# Elements that stick out of the viewport (their box, or their content when it is not
# clipped): the innermost ones, so the message names the culprit rather than its parents.
_OVERFLOW = """
const W = document.documentElement.clientWidth;
const clipped = el => {
  for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
    if (getComputedStyle(a).overflowX !== 'visible') return true;
  }
  return false;
};
const bad = [];
for (const el of document.body.querySelectorAll('*')) {
  const r = el.getBoundingClientRect();
  const style = getComputedStyle(el);
  if (!r.width || !r.height || style.visibility === 'hidden') continue;
  const content = style.overflowX === 'visible' ? r.left + el.scrollWidth : r.right;
  if ((Math.max(r.right, content) > W + 1 || r.left < -1) && !clipped(el)) bad.push(el);
}
const innermost = bad.filter(el => !bad.some(o => o !== el && el.contains(o)));
return {
  inner: window.innerWidth,
  client: W,
  scroll: document.documentElement.scrollWidth,
  offenders: innermost.slice(0, 15).map(el => {
    const r = el.getBoundingClientRect();
    const cls = el.getAttribute('class');
    const text = (el.textContent || el.getAttribute('src') || '').trim().replace(/\\s+/g, ' ');
    return `<${el.tagName.toLowerCase()}${el.id ? ' id=' + el.id : ''}` +
      `${cls ? ' class="' + cls + '"' : ''}> left ${Math.round(r.left)}, ` +
      `right ${Math.round(r.right)}, content ${Math.round(r.left + el.scrollWidth)}: ` +
      JSON.stringify(text.slice(0, 70));
  }),
  count: innermost.length,
};
"""

_BROKEN_IMAGES = """
return Array.from(document.images).filter(i => {
  const r = i.getBoundingClientRect();
  return !(i.complete && i.naturalWidth > 0 && r.width > 0 && r.height > 0);
}).map(i => i.getAttribute('src'));
"""


def overflow_problems(driver) -> list[str]:
    """Why the loaded page does not fit WIDTH pixels (nothing: it fits)."""
    m = driver.execute_script(_OVERFLOW)
    problems = []
    if m["inner"] != WIDTH or m["client"] != WIDTH:
        problems.append(f"viewport is {m['inner']} px (layout {m['client']} px), not {WIDTH}")
    if m["scroll"] > m["client"]:
        problems.append(f"the page scrolls sideways: {m['scroll']} px wide in {m['client']} px")
    if m["offenders"]:
        problems.append(f"{m['count']} element(s) stick out:\n  " + "\n  ".join(m["offenders"]))
    return problems


def broken_images(driver) -> list[str]:
    """The src of every <img> that did not load (or renders with no size)."""
    return driver.execute_script(_BROKEN_IMAGES)


def bad_links(driver) -> list[str]:
    """Links that are neither http(s) with a host nor an anchor to an id on the page."""
    hrefs = driver.execute_script(
        "return Array.from(document.querySelectorAll('a')).map(a => a.getAttribute('href'))"
    )
    ids = set(
        driver.execute_script("return Array.from(document.querySelectorAll('[id]'), e => e.id)")
    )
    bad = []
    for href in hrefs:
        if href and href.startswith("#") and href[1:] in ids:
            continue
        url = urlparse(href or "")
        if url.scheme not in ("http", "https") or not url.netloc:
            bad.append(href)
    return bad


# ---------------------------------------------------------------------------- the digests


@dataclasses.dataclass
class Day:
    home: env.Home
    date: dt.date
    titles: list[str]  # the day's papers, from the warehouse
    topic_labels: set[str]  # every topic's label (and key), lower case
    labels_by_status: dict[str, set[str]]  # the day's trend labels per status, lower case
    top_topics: list[str]  # the day's ten biggest topics' labels, lower case

    @property
    def html(self) -> Path:
        return self.home.publish / self.date.isoformat() / "digest.html"

    @property
    def emails(self) -> list[Path]:
        return sorted((self.home.publish / "outbox").glob(f"{self.date.isoformat()}*.eml"))


def _norm(text: str | None) -> str:
    return " ".join((text or "").split())


def _day(home: env.Home, date: dt.date) -> Day:
    with duckdb.connect(str(home.warehouse), read_only=True) as con:
        titles = [
            r[0]
            for r in con.execute(
                "select p.title from paper_appearances as a join papers as p using (paper_id) "
                "where a.listing_date = ?",
                [date],
            ).fetchall()
        ]
        labels = {
            _norm(x).lower()
            for row in con.execute("select topic, label from topics").fetchall()
            for x in row
            if x
        }
        by_status = collections.defaultdict(set)
        for status, bursting, label in con.execute(
            "select t.status, t.bursting_since is not null, coalesce(tp.label, t.topic) "
            "from topic_trends as t left join topics as tp using (topic) where t.as_of_date = ?",
            [date],
        ).fetchall():
            by_status[status].add(_norm(label).lower())
            if bursting:
                by_status["bursting"].add(_norm(label).lower())
        top = [
            _norm(r[0]).lower()
            for r in con.execute(
                "select coalesce(tp.label, d.topic) from topic_daily as d "
                "left join topics as tp using (topic) where d.listing_date = ? "
                "order by d.papers desc, d.topic limit 10",
                [date],
            ).fetchall()
        ]
    return Day(home, date, [_norm(t) for t in titles], labels, dict(by_status), top)


@pytest.fixture(scope="module")
def home_factory(tmp_path_factory: pytest.TempPathFactory):
    def make(name: str) -> tuple[env.Home, pytest.MonkeyPatch]:
        home = env.home(tmp_path_factory.mktemp(name) / "home").ensure()
        mp = pytest.MonkeyPatch()
        mp.setenv("PAPERTRENDS_HOME", str(home.root))
        mp.setenv("DAGSTER_HOME", str(home.dagster_home))
        for var in ("PAPERTRENDS_SMTP_HOST", "PAPERTRENDS_SEND_EMPTY"):
            mp.delenv(var, raising=False)
        return home, mp

    return make


@pytest.fixture(scope="module")
def sample(home_factory) -> Day:
    """`papertrends run` on the bundled sample: a first listing day, 200 papers."""
    home, mp = home_factory("sample")
    try:
        assert (
            invoke("run", "--listing", str(SAMPLE), "--date", SAMPLE_DAY.isoformat()).exit_code == 0
        )
    finally:
        mp.undo()
    return _day(home, SAMPLE_DAY)


@pytest.fixture(scope="module")
def trending(home_factory) -> Day:
    """Ten listing days in one backfill: 15 sample papers a day, then the whole sample (its
    flow-matching papers never listed before); a watchlist on flow matching."""
    home, mp = home_factory("trending")
    cards = sample_cards()
    earlier = [c for c in cards if "flow" not in (c[0] + c[1]).lower()]
    for i, day in enumerate(TREND_DAYS[:-1]):
        land(home, day, "page.txt", earlier[i * 15 : i * 15 + 15])
    land(home, TREND_DAYS[-1], "page.txt", cards)
    (home.root / "watchlists.yaml").write_text(
        "flows:\n  keyphrases: [flow matching]\n  recipients: [carol@example.org]\n"
    )
    try:
        first, last = TREND_DAYS[0].isoformat(), TREND_DAYS[-1].isoformat()
        assert invoke("backfill", "--from", first, "--to", last).exit_code == 0
    finally:
        mp.undo()
    return _day(home, TREND_DAYS[-1])


@pytest.fixture(params=["sample", "trending"])
def day(request) -> Day:
    return request.getfixturevalue(request.param)


# ---------------------------------------------------------------------------- the page


def _sections(driver) -> set[str]:
    return set(
        driver.execute_script(
            "return Array.from(document.querySelectorAll('section[id]'), s => s.id)"
        )
    )


def _assert_visible(driver, css: str) -> None:
    elements = driver.find_elements(By.CSS_SELECTOR, css)
    assert elements, f"no {css}"
    el = elements[0]
    assert el.is_displayed() and el.size["width"] > 0 and el.size["height"] > 0, (
        f"{css} is not visible"
    )


def _title_in(text: str, titles: list[str]) -> str | None:
    """The longest of the day's titles inside text (a title may contain a shorter one)."""
    found = [t for t in titles if t and t in text]
    return max(found, key=len) if found else None


def _check_papers(driver, day: Day) -> None:
    cards = driver.find_elements(By.CSS_SELECTOR, "#top-papers article.paper")
    assert 10 <= len(cards) <= 20, f"{len(cards)} top-paper cards, expected 10-20"
    shown = []
    for card in cards:
        links = card.find_elements(By.CSS_SELECTOR, "h2 a[href], h3 a[href], h4 a[href]")
        assert links, f"a card without a title link: {_norm(card.text)[:80]!r}"
        title = _norm(links[0].get_attribute("textContent"))
        assert title in day.titles, f"card title {title!r} is not one of the day's papers"
        shown.append(title)
    items = driver.find_elements(By.CSS_SELECTOR, "#more-papers li")
    for li in items:
        text = _norm(li.get_attribute("textContent"))
        title = _title_in(text, day.titles)
        assert title, f"a more-papers line with no paper of the day: {text[:80]!r}"
        shown.append(title)
    # Every paper of the day exactly once: a full card or one line.
    missing = collections.Counter(day.titles) - collections.Counter(shown)
    extra = collections.Counter(shown) - collections.Counter(day.titles)
    assert not missing and not extra, (
        f"{len(cards)} cards + {len(items)} lines for {len(day.titles)} papers; "
        f"missing {list(missing)[:3]}, shown twice {list(extra)[:3]}"
    )
    headings = driver.find_elements(By.CSS_SELECTOR, "#more-papers :is(h2, h3, h4, h5, h6)")
    topics = [h for h in headings if _label_in(h.get_attribute("textContent"), day)]
    assert len(topics) >= 2, (
        f"the other papers are not under topic headings: {[_norm(h.text) for h in headings][:5]}"
    )


def _label_in(text: str | None, day: Day) -> str | None:
    text = _norm(text).lower()
    found = [label for label in day.topic_labels if label and label in text]
    return max(found, key=len) if found else None


def _check_trend_sections(driver, day: Day) -> None:
    present = [s for s in TREND_SECTIONS if driver.find_elements(By.CSS_SELECTOR, f"#trends #{s}")]
    assert present, "a day with trends shows none of rising / new / bursting"
    for status in present:
        _assert_visible(driver, f"#trends #{status}")
        text = _norm(driver.find_element(By.ID, status).get_attribute("textContent")).lower()
        labels = day.labels_by_status.get(status, set())
        assert any(label in text for label in labels), (
            f"#{status} names none of the day's {len(labels)} {status} topics: {text[:120]!r}"
        )
    for status in set(TREND_SECTIONS) - set(present):
        # a status with topics that day gets its section
        assert not day.labels_by_status.get(status), f"{status} topics but no #{status}"


def test_the_sample_day_shows_cold_start_top_and_more_papers(browser, sample: Day) -> None:
    load(browser, sample.html)
    assert browser.title == f"papertrends · {sample.date.isoformat()}"
    sections = _sections(browser)
    # (the contract allows #cold-start inside #trends or in its place)
    for css in ("#cold-start", "#top-papers", "#more-papers"):
        _assert_visible(browser, css)
    unexpected = sections & {"watchlists", *TREND_SECTIONS, "empty"}
    assert not unexpected, f"a first listing day without watchlists shows {unexpected}"
    cold = _norm(browser.find_element(By.ID, "cold-start").text).lower()
    assert re.search(r"\btrends\b.*\b\d+\b", cold), f"says not when trends begin: {cold!r}"
    shown = [t for t in sample.top_topics if t in cold]
    assert len(shown) >= 3, (
        f"the cold start shows {shown} of the day's top topics {sample.top_topics}"
    )
    _check_papers(browser, sample)


def test_a_day_with_trends_shows_watchlists_trends_top_and_more_papers(
    browser, trending: Day
) -> None:
    load(browser, trending.html)
    assert browser.title == f"papertrends · {trending.date.isoformat()}"
    for css in ("#watchlists", "#trends", "#top-papers", "#more-papers"):
        _assert_visible(browser, css)
    assert not _sections(browser) & {"cold-start", "empty"}
    hits = _norm(browser.find_element(By.ID, "watchlists").get_attribute("textContent"))
    flow = [t for t in trending.titles if "flow matching" in t.lower()]
    assert "flows" in hits and _title_in(hits, flow), f"the watchlist hits: {hits[:160]!r}"
    order = ["watchlists", "trends", "top-papers", "more-papers"]
    tops = browser.execute_script(
        "return arguments[0].map(id => document.getElementById(id).getBoundingClientRect().top)",
        order,
    )
    assert tops == sorted(tops), f"sections out of order: {dict(zip(order, tops, strict=True))}"
    _check_trend_sections(browser, trending)
    _check_papers(browser, trending)


def test_nothing_overflows_at_600_px(browser, day: Day) -> None:
    load(browser, day.html)
    assert not overflow_problems(browser), "\n".join(overflow_problems(browser))


def test_every_image_loads_and_charts_are_png_files(browser, day: Day) -> None:
    load(browser, day.html)
    assert not broken_images(browser), f"images that did not load: {broken_images(browser)}"
    srcs = browser.execute_script("return Array.from(document.images, i => i.getAttribute('src'))")
    for src in srcs:
        assert src.startswith("charts/") and src.endswith(".png"), f"not a chart file: {src[:80]}"
        assert (day.html.parent / src).is_file()
    if day.labels_by_status.keys() & set(TREND_SECTIONS):
        assert browser.find_elements(By.CSS_SELECTOR, "#trends img"), "trends without a chart"


def test_every_link_is_http(browser, day: Day) -> None:
    load(browser, day.html)
    assert not bad_links(browser), f"links that are not http(s): {bad_links(browser)[:5]}"


def test_an_empty_day_says_so(browser, trending: Day, tmp_path: Path) -> None:
    from transforms.publish import publish_day

    empty = TREND_DAYS[-1] + dt.timedelta(days=1)
    with duckdb.connect(str(trending.home.warehouse), read_only=True) as con:
        publish_day(con, tmp_path, empty, dt.datetime.now(dt.UTC))
    load(browser, tmp_path / empty.isoformat() / "digest.html")
    assert browser.title == f"papertrends · {empty.isoformat()}"
    _assert_visible(browser, "#empty")
    assert not _sections(browser) & {"watchlists", "trends", "top-papers", "more-papers"}
    assert not overflow_problems(browser), "\n".join(overflow_problems(browser))


# ---------------------------------------------------------------------------- the e-mail


def _messages(day: Day) -> list[tuple[str, EmailMessage]]:
    paths = day.emails
    assert paths, f"no e-mail for {day.date} in {day.home.publish / 'outbox'}"
    return [
        (p.name, email.message_from_bytes(p.read_bytes(), policy=email.policy.default))
        for p in paths
    ]


_TAG = re.compile(r"</?[a-zA-Z][a-zA-Z0-9]*(\s[^<>]*)?/?>")
_ENTITY = re.compile(r"&(#\d+|#x[0-9a-fA-F]+|[a-zA-Z]+);")
_MARKUP = {
    "a Markdown link": re.compile(r"\]\(|!\["),
    "Markdown bold": re.compile(r"\*\*|__\w"),
    "a Markdown table row": re.compile(r"^\s*\|.*\|\s*$", re.M),
    "a cid: reference": re.compile(r"\bcid:"),
}


def test_the_e_mail_text_part_reads_well_alone(browser, day: Day) -> None:
    load(browser, day.html)  # the topics the page shows under its headings
    headings = browser.find_elements(By.CSS_SELECTOR, "#more-papers :is(h2, h3, h4, h5, h6)")
    topics = {_label_in(h.get_attribute("textContent"), day) for h in headings} - {None}
    for name, message in _messages(day):
        part = message.get_body(preferencelist=("plain",))
        assert part is not None, f"{name}: no text/plain part"
        text = part.get_content()
        flat = _norm(text)
        assert not _TAG.search(text), f"{name}: HTML in the text part: {_TAG.search(text)[0]}"
        assert not _ENTITY.search(text), f"{name}: an entity: {_ENTITY.search(text)[0]}"
        for what, pattern in _MARKUP.items():
            hit = pattern.search(text)
            assert not hit, f"{name}: {what} in the text part: {text[hit.start() :][:80]!r}"
        assert day.date.isoformat() in text, f"{name}: the date is missing"
        missing = [t for t in day.titles if t not in flat]
        assert not missing, f"{name}: {len(missing)} paper titles missing, e.g. {missing[:2]}"
        lower = flat.lower()
        absent = sorted(t for t in topics if t not in lower)
        assert topics and not absent, f"{name}: topics missing: {absent[:5]}"
        crowded = [line for line in text.splitlines() if _papers_on(_norm(line), day) > 1]
        assert not crowded, (
            f"{name}: {len(crowded)} lines hold several papers: {crowded[0][:160]!r}"
        )
        long = [
            line
            for line in text.splitlines()
            if len(line) > MAX_LINE and not re.search(r"https?://", line)
        ]
        shown = "\n  ".join(f"{len(line)}: {line[:120]!r}" for line in long[:5])
        assert not long, f"{name}: {len(long)} lines over {MAX_LINE} chars:\n  {shown}"


def _papers_on(line: str, day: Day) -> int:
    """How many of the day's papers a line names (a title inside another one not counted)."""
    found = [t for t in set(day.titles) if t and t in line]
    return sum(not any(t != o and t in o for o in found) for t in found)


def _html_with_cid_files(message: EmailMessage, folder: Path) -> tuple[Path, int]:
    """The HTML part as a file, each related part beside it and cid: rewritten to it."""
    html = message.get_body(preferencelist=("html",)).get_content()
    resolved = 0
    for n, part in enumerate(message.walk()):
        cid = (part["Content-ID"] or "").strip().strip("<>")
        if not cid or part.is_multipart():
            continue
        ext = mimetypes.guess_extension(part.get_content_type()) or ".bin"
        name = f"part{n}{ext}"
        (folder / name).write_bytes(part.get_payload(decode=True))
        refs = len(re.findall(re.escape(f"cid:{cid}"), html))
        html = html.replace(f"cid:{cid}", name)
        resolved += refs
    page = folder / "message.html"
    page.write_text(html, encoding="utf-8")
    return page, resolved


def test_the_e_mail_html_loads_its_cid_images_and_fits(browser, day: Day, tmp_path: Path) -> None:
    for name, message in _messages(day):
        assert message.get_body(preferencelist=("html",)) is not None, f"{name}: no HTML part"
        folder = tmp_path / name
        folder.mkdir()
        page, resolved = _html_with_cid_files(message, folder)
        html = page.read_text(encoding="utf-8")
        assert "<svg" not in html.lower(), f"{name}: inline SVG (Gmail and Outlook drop it)"
        load(browser, page)
        assert day.date.isoformat() in browser.title, f"{name}: title {browser.title!r}"
        assert not broken_images(browser), f"{name}: images not loaded: {broken_images(browser)}"
        srcs = browser.execute_script("return Array.from(document.images, i => i.src)")
        assert all(s.startswith("file:") for s in srcs), f"{name}: images not embedded: {srcs}"
        if day.labels_by_status.keys() & set(TREND_SECTIONS):
            assert resolved, f"{name}: no chart embedded as a cid: part"
        assert not bad_links(browser), f"{name}: links not http(s): {bad_links(browser)[:5]}"
        assert not overflow_problems(browser), f"{name}: " + "\n".join(overflow_problems(browser))


# ---------------------------------------------------------------------------- the checks


def test_the_checks_catch_a_wide_element_a_broken_image_and_a_file_link(
    browser, sample: Day
) -> None:
    """Each check fails when it should: a 900 px block, a missing image, a file: link."""
    load(browser, sample.html)
    browser.execute_script(
        """
        const main = document.querySelector('#top-papers') || document.body;
        const wide = document.createElement('div');
        wide.className = 'too-wide'; wide.style.width = '900px'; wide.textContent = 'wide';
        const word = document.createElement('p');
        word.className = 'long-word'; word.textContent = 'x'.repeat(400);
        word.style.overflowWrap = 'normal'; word.style.wordBreak = 'normal';
        const img = document.createElement('img'); img.src = 'charts/missing.png';
        img.width = 10; img.height = 10;
        const a = document.createElement('a'); a.href = 'digest.md'; a.textContent = 'md';
        main.append(wide, word, img, a);
        """
    )
    WebDriverWait(browser, 10).until(
        lambda d: d.execute_script("return Array.from(document.images).every(i => i.complete)")
    )
    problems = "\n".join(overflow_problems(browser))
    assert 'class="too-wide"' in problems and 'class="long-word"' in problems, problems
    assert "charts/missing.png" in broken_images(browser)
    assert "digest.md" in bad_links(browser)


def test_the_screenshot_tool_writes_a_png_of_the_page(browser, sample: Day, tmp_path: Path) -> None:
    import screenshot_digest

    out = tmp_path / "shots" / "digest.png"
    assert screenshot_digest.main([str(sample.html), str(out), "--max-height", "1800"]) == 0
    png = out.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert (width, height) == (WIDTH, 1800)
    assert len(png) <= 400 * 1024
    assert not list(out.parent.glob("*.tmp"))
