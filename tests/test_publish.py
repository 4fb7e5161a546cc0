"""Publishing a day: the digest read from the marts (shares, links, upvotes), its files,
charts and e-mails written atomically and byte-identical on a re-run (a small hand-made
warehouse); then trends and the digest end to end: ten listing days, a topic that takes off,
e-mail; and the first of those days again, a cold start."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
import re
import socket
import xml.etree.ElementTree as ET
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from aiosmtpd.controller import Controller

from orchestration import env
from orchestration.defs.ingest import raw_listings
from orchestration.runs import RunFailed, materialize
from tests.conftest import land, run_job, sample_cards
from tests.test_charts import line_heights
from transforms.charts import digest_charts
from transforms.digest import render_markdown, spark_blocks
from transforms.mailer import SmtpSettings
from transforms.publish import load_digest_data, publish_day

# ------------------------------------------------------------------------------ a small warehouse

W1, W2, W3 = dt.date(2026, 10, 5), dt.date(2026, 10, 6), dt.date(2026, 10, 7)
LISTED = {W1: 100, W2: 50, W3: 20}  # papers listed each day: a short last day
FLOW = {W1: 10, W2: 8, W3: 5}  # flow-matching papers: fewer each day, a growing share
NOW = dt.datetime(2026, 10, 7, 7, 0, tzinfo=dt.UTC)

SCHEMA = """
create schema raw;
create table raw.listings (listing_date date);
create table raw.rejected_records (listing_date date);
create table papers (paper_id varchar, arxiv_id varchar, title varchar, abstract varchar,
    code_url varchar, github_url varchar, url varchar, first_listed date);
create table paper_appearances (paper_id varchar, listing_date date, best_rank integer,
    source varchar, upvotes integer);
create table paper_keyphrases (paper_id varchar, keyphrase varchar, keyphrase_norm varchar,
    keyphrase_rank integer);
create table keyphrase_topics (keyphrase_norm varchar, topic varchar);
create table topics (topic varchar, label varchar);
create table topic_daily (listing_date date, topic varchar, papers integer,
    papers_listed integer);
create table topic_trends (as_of_date date, topic varchar, papers_current integer,
    papers_reference integer, share_current double, share_reference double,
    z_score double, status varchar, bursting_since date, listing_days_to_trends integer,
    built_at timestamp default now());
create table keyword_trends (as_of_date date, keyphrase_norm varchar, z_score double,
    built_at timestamp default now());
"""


def small_warehouse(upvotes: bool = False, extra_paper: bool = False):
    """Three listing days of 100, 50 and 20 papers; 10, 8 and 5 of them on flow matching
    (counts fall, the share rises: 10%, 16%, 25%); the last day's trends label it rising."""
    con = duckdb.connect(":memory:")
    con.execute(SCHEMA)
    con.execute(
        "insert into topics values ('flow matching', 'Flow Matching'), "
        "('diffusion model', 'diffusion models')"
    )
    con.execute(
        "insert into keyphrase_topics values ('flow matching', 'flow matching'), "
        "('diffusion model', 'diffusion model')"
    )
    for day, listed in LISTED.items():
        n = listed + (1 if extra_paper and day == W3 else 0)
        for i in range(1, n + 1):
            pid = f"arxiv:2610.{day.day:02d}{i:03d}" if i % 2 else f"{day.day:02d}{i:014d}"
            flow = i <= FLOW[day]
            con.execute(
                "insert into papers values (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    pid,
                    None,
                    f"{'Flow matching' if flow else 'Diffusion'} paper {day} #{i}",
                    "An abstract. " * 20,
                    None,
                    "https://github.com/a/b" if i == 2 else None,
                    "https://huggingface.co/papers/2610.00001" if i == 3 else None,
                    day,
                ],
            )
            votes = (i * 37) % 101 if upvotes else None
            con.execute(
                "insert into paper_appearances values (?, ?, ?, ?, ?)",
                [pid, day, i, "hf_api" if upvotes else "arxiv", votes],
            )
            norm = "flow matching" if flow else "diffusion model"
            con.execute("insert into paper_keyphrases values (?, ?, ?, 1)", [pid, norm, norm])
        con.execute("insert into raw.listings values (?)", [day])
        con.execute(
            "insert into topic_daily values (?, 'flow matching', ?, ?), "
            "(?, 'diffusion model', ?, ?)",
            [day, FLOW[day], n, day, n - FLOW[day], n],
        )
    con.execute(
        "insert into topic_trends values "
        "(?, 'flow matching', 23, 10, 0.25, 0.1, 3.1, 'rising', null, null, now()), "
        "(?, 'diffusion model', 60, 90, 0.75, 0.9, -1.0, 'steady', null, null, now())",
        [W3, W3],
    )
    con.execute("insert into keyword_trends values (?, 'flow matching', 3.1, now())", [W3])
    return con


def test_sparklines_plot_shares_not_counts() -> None:
    """A topic whose count falls on a short day while its share rises is drawn rising."""
    with small_warehouse() as con:
        data = load_digest_data(con, W3)
    (flow,) = data.rising
    assert flow.sparkline == pytest.approx((0.10, 0.16, 0.25))
    assert spark_blocks(flow.sparkline) == "▄▅█"
    assert "▄▅█" in render_markdown(data)
    chart = digest_charts(data)["flow matching"]
    heights = line_heights(chart.png)
    assert heights[-1] > heights[len(heights) // 2] > heights[0]
    assert "10.0% then 25.0%" in chart.alt


def test_papers_link_to_their_page_and_rank_by_upvotes() -> None:
    with small_warehouse() as con:
        data = load_digest_data(con, W3)
    by_rank = {p.rank: p for p in data.papers}
    assert by_rank[1].url == "https://arxiv.org/abs/2610.07001"  # from the arXiv id
    assert by_rank[2].url is None and by_rank[2].code_url == "https://github.com/a/b"
    assert by_rank[3].url == "https://huggingface.co/papers/2610.00001"  # papers.url
    assert data.topic_labels == {
        "flow matching": "Flow Matching",
        "diffusion model": "diffusion models",
    }
    assert all(p.upvotes is None for p in data.papers)
    with small_warehouse(upvotes=True) as con:
        voted = load_digest_data(con, W3)
    assert [p.upvotes for p in voted.papers][:3] == [37, 74, 10]
    assert voted.papers[0].url == "https://huggingface.co/papers/2610.07001"  # an HF source


def _files(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.name.endswith(".lock")
    }


def test_publish_day_writes_charts_and_a_cid_email_and_a_rerun_changes_no_byte(
    tmp_path: Path,
) -> None:
    publish = tmp_path / "publish"
    with small_warehouse() as con:
        first = publish_day(con, publish, W3, NOW)
        before = _files(publish)
        # dbt rebuilt the trend tables without changing them: only built_at moved
        for table in ("topic_trends", "keyword_trends"):
            con.execute(f"update {table} set built_at = built_at + interval 1 hour")
        again = publish_day(con, publish, W3, NOW + dt.timedelta(hours=5))
    assert _files(publish) == before  # feed, entry, .eml, charts and exports included
    day = publish / W3.isoformat()
    charts = sorted(p.name for p in (day / "charts").iterdir())
    assert len(charts) == 2 and "overview.png" in charts  # a sparkline and the overview
    assert [p.name for p in first.charts] == [p.name for p in again.charts]
    html = (day / "digest.html").read_text()
    for name in charts:
        assert f'src="charts/{name}"' in html
        assert f"](charts/{name})" in (day / "digest.md").read_text()
    assert [(d.name, d.outcome) for d in first.deliveries] == [(f"{W3}.eml", "not configured")]
    assert (first.emails_sent, first.emails_skipped) == (0, 0)

    eml = email.message_from_bytes(
        (publish / "outbox" / f"{W3}.eml").read_bytes(), policy=email.policy.default
    )
    assert eml["Date"] == "Wed, 07 Oct 2026 07:00:00 +0000"  # the first run's, kept
    body = eml.get_body(("html",)).get_content()
    cids = [
        p["Content-ID"].strip().strip("<>")
        for p in eml.walk()
        if p.get_content_type() == "image/png"
    ]
    assert len(cids) == 2 and sorted(re.findall(r'src="cid:([^"]+)"', body)) == sorted(cids)
    text = eml.get_body(("plain",)).get_content()
    assert "Flow Matching" in text and "<https://arxiv.org/abs/2610.07001>" in text
    assert "<td" not in text
    entry = json.loads((day / "entry.json").read_text())
    assert entry["updated"] == NOW.isoformat() and "content_html" not in entry
    feed = ET.fromstring((publish / "feed.xml").read_bytes())
    atom = "{http://www.w3.org/2005/Atom}"
    assert feed.find(f"{atom}updated").text == "2026-10-07T07:00:00Z"


def test_a_changed_digest_gets_a_new_date_entry_time_and_charts(tmp_path: Path) -> None:
    publish = tmp_path / "publish"
    later = NOW + dt.timedelta(hours=5)
    with small_warehouse() as con:
        publish_day(con, publish, W3, NOW)
    stale = publish / W3.isoformat() / "charts" / "gone-topic-123456.png"
    stale.write_bytes(b"an old chart")
    with small_warehouse(extra_paper=True) as con:  # a late listing added a paper
        publish_day(con, publish, W3, later)
    assert not stale.exists()  # a chart the digest no longer shows is removed
    entry = json.loads((publish / W3.isoformat() / "entry.json").read_text())
    assert entry["updated"] == later.isoformat()
    eml = email.message_from_bytes((publish / "outbox" / f"{W3}.eml").read_bytes())
    assert eml["Date"] == "Wed, 07 Oct 2026 12:00:00 +0000"


def test_an_empty_day_is_published_and_not_sent_unless_asked(tmp_path: Path) -> None:
    publish = tmp_path / "publish"
    empty = dt.date(2026, 10, 8)
    smtp = SmtpSettings(host="127.0.0.1", port=9, recipients=("a@example.org",), timeout=1)
    with small_warehouse() as con:
        result = publish_day(con, publish, empty, NOW, smtp=smtp)
    assert [d.outcome for d in result.deliveries] == ["empty day: not sent"]
    html = (publish / empty.isoformat() / "digest.html").read_text()
    assert '<section id="empty"' in html and "no listing landed for 2026-10-08" in html
    assert not list((publish / empty.isoformat()).glob("charts/*"))
    assert "No papers on 2026-10-08" in (publish / "outbox" / f"{empty}.eml").read_text()


# ------------------------------------------------------------------------------ end to end

DAYS = [dt.date(2026, 11, 1) + dt.timedelta(days=i) for i in range(10)]
SCRIPT_TITLE = "Attention <script>alert(1)</script> Is All <img src=x onerror=alert(2)> You Need"
INGEST = sorted(raw_listings.keys)  # the ingest step's assets, materialized alone


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], email.message.EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((list(envelope.rcpt_tos), message))
        return "250 OK"


@pytest.fixture(scope="module")
def smtp():
    inbox = Inbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


@pytest.fixture(scope="module")
def trending(tmp_path_factory: pytest.TempPathFactory, smtp) -> env.Home:
    """Ten listing days; 'flow matching' papers appear only in the last three."""
    _inbox, port = smtp
    home = env.home(tmp_path_factory.mktemp("trends") / "home").ensure()
    cards = sample_cards()
    topic = [c for c in cards if "flow matching" in (c[0] + c[1]).lower()]
    others = [c for c in cards if "flow" not in (c[0] + c[1]).lower()]
    assert len(topic) >= 4, "the sample has flow-matching papers"
    for i, day in enumerate(DAYS):
        page = others[i * 15 : i * 15 + 15]
        if i >= 7:
            page = topic[(i - 7) :: 3] + page
        if i == 9:
            page = [(SCRIPT_TITLE, others[-1][1]), *page]
        land(home, day, "page.txt", page)
    (home.root / "watchlists.yaml").write_text(
        "flows:\n  keyphrases: [flow matching]\n  recipients: [carol@example.org]\n"
        "unused: [quantum chromodynamics]\n"
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PAPERTRENDS_HOME", str(home.root))
        mp.setenv("DAGSTER_HOME", str(home.dagster_home))
        mp.setenv("PAPERTRENDS_SMTP_HOST", "127.0.0.1")
        mp.setenv("PAPERTRENDS_SMTP_PORT", str(port))
        mp.setenv("PAPERTRENDS_DIGEST_TO", "alice@example.org, bob@example.org")
        # the first nine days ingested in one backfill run, then the last day's daily run
        run_job(DAYS[0], until=DAYS[-2], selection=INGEST)
        run_job(DAYS[-1])
        # A re-run of the digest must not send the same e-mails again.
        run_job(DAYS[-1], selection=[dg.AssetKey(["digest"])])
    return home


def query(home: env.Home, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(home.warehouse), read_only=True) as con:
        return con.execute(sql, params).fetchall()


@pytest.mark.slow
def test_topic_concentrated_in_the_last_days_comes_out_new_or_rising(trending) -> None:
    rows = query(
        trending,
        "select status, papers_current, papers_reference from keyword_trends "
        "where as_of_date = ? and keyphrase_norm = 'flow matching'",
        [DAYS[-1]],
    )
    assert rows and rows[0][0] in ("new", "rising")
    assert rows[0][1] >= 2 and rows[0][2] == 0
    daily = query(
        trending,
        "select count(distinct listing_date), min(listing_date) from keyword_daily",
    )
    assert daily == [(10, DAYS[0])]


@pytest.mark.slow
def test_digest_files_are_published(trending) -> None:
    folder = trending.publish / DAYS[-1].isoformat()
    names = {p.name for p in folder.iterdir()}
    expected = {"digest.md", "digest.html", "trends.csv", "trends.parquet"}
    assert expected | {"topics.csv", "topics.parquet"} <= names
    assert not [n for n in names if n.endswith(".tmp")]
    markdown = (folder / "digest.md").read_text()
    assert "flow matching" in markdown.lower()
    import polars as pl

    trends = pl.read_parquet(folder / "trends.parquet")
    assert (
        trends.height
        == query(trending, "select count(*) from keyword_trends where as_of_date = ?", [DAYS[-1]])[
            0
        ][0]
    )
    assert set(trends["as_of_date"].unique().to_list()) == {DAYS[-1]}
    topics = pl.read_parquet(folder / "topics.parquet")
    rows = query(
        trending,
        "select t.topic, tp.label, t.status from topic_trends as t join topics as tp "
        "using (topic) where t.as_of_date = ? order by t.topic",
        [DAYS[-1]],
    )
    assert rows and sorted(topics.select("topic", "label", "status").rows()) == rows
    assert set(topics["as_of_date"].unique().to_list()) == {DAYS[-1]}
    assert pl.read_csv(folder / "topics.csv").height == topics.height


@pytest.mark.slow
def test_labelled_day_shows_topic_trends_by_label(trending) -> None:
    folder = trending.publish / DAYS[-1].isoformat()
    markdown = (folder / "digest.md").read_text()
    (label,) = query(trending, "select label from topics where topic = 'flow matching'")[0]
    (status,) = query(
        trending,
        "select status from topic_trends where as_of_date = ? and topic = 'flow matching'",
        [DAYS[-1]],
    )[0]
    section = {"new": "## New topics", "rising": "## Rising topics"}[status]
    assert section in markdown
    shown = markdown[markdown.index(section) : markdown.index("## Top papers")]
    assert f"| {label} | " in shown
    assert "Top topics today" not in markdown and "Trends start in" not in markdown
    # the tags of flow-matching papers are highlighted, whatever their wording
    html = (folder / "digest.html").read_text()
    tags = re.findall(r'background:(#[0-9a-f]{6})[^"]*white-space:nowrap">([^<]*)<', html)
    members = {
        m
        for (m,) in query(
            trending,
            "select distinct unnest(keyphrases) from paper_topics where topic = 'flow matching'",
        )
    }
    assert {bg for bg, text in tags if text in members} == {"#dafbe1"}


@pytest.mark.slow
def test_first_listing_day_is_a_cold_start(trending, tmp_path) -> None:
    """The first of the ten days, published again: no trend labels yet, its top topics."""
    with duckdb.connect(str(trending.warehouse), read_only=True) as con:
        result = publish_day(con, tmp_path, DAYS[0], dt.datetime(2026, 11, 1, 7, tzinfo=dt.UTC))
        ((days_to_trends, statuses),) = con.execute(
            "select max(listing_days_to_trends), list(distinct status) from topic_trends "
            "where as_of_date = ?",
            [DAYS[0]],
        ).fetchall()
        top = con.execute(
            "select tp.label, d.papers from topic_daily as d join topics as tp using (topic) "
            "where d.listing_date = ? order by d.papers desc, d.topic limit 1",
            [DAYS[0]],
        ).fetchall()[0]
    assert statuses == ["cold_start"] and days_to_trends > 0
    assert result.days_to_trends == days_to_trends
    assert (result.rising, result.new, result.bursting) == (0, 0, 0)
    folder = tmp_path / DAYS[0].isoformat()
    markdown = (folder / "digest.md").read_text()
    html = (folder / "digest.html").read_text()
    for out in (markdown, html):
        assert "Top topics today" in out
        assert f"Trends start in {days_to_trends} listing day" in out
        for words in ("rising topic", "new topic", "bursting"):
            assert words not in out.lower(), words
    assert f"| {top[0]} | {top[1]} | " in markdown
    assert ">NEW<" not in html and " · new" not in markdown
    assert "all new (first listing day)" in markdown
    eml = email.message_from_bytes(
        (tmp_path / "outbox" / f"{DAYS[0]}.eml").read_bytes(), policy=email.policy.default
    )
    assert (
        eml["Subject"] == f"papertrends · {DAYS[0]} · {result.papers} papers · top topic: {top[0]}"
    )


@pytest.mark.slow
def test_listing_html_is_escaped_in_the_digest(trending) -> None:
    html = (trending.publish / DAYS[-1].isoformat() / "digest.html").read_text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script" not in html.lower()
    assert "<img src=x" not in html.lower()


@pytest.mark.slow
def test_feed_is_valid_atom(trending) -> None:
    root = ET.parse(trending.publish / "feed.xml").getroot()
    atom = "{http://www.w3.org/2005/Atom}"
    assert root.tag == f"{atom}feed"
    for tag in ("id", "title", "updated"):
        assert root.find(f"{atom}{tag}") is not None
    entries = root.findall(f"{atom}entry")
    assert len(entries) == 1
    assert entries[0].find(f"{atom}id").text.endswith(DAYS[-1].isoformat())


@pytest.mark.slow
def test_email_sent_once_to_readers_and_watchlist(trending, smtp) -> None:
    inbox, _ = smtp
    by_rcpt = {tuple(sorted(rcpts)): msg for rcpts, msg in inbox.messages}
    assert sorted(by_rcpt) == [("alice@example.org", "bob@example.org"), ("carol@example.org",)]
    digest = by_rcpt[("alice@example.org", "bob@example.org")]
    assert DAYS[-1].isoformat() in digest["Subject"]
    assert digest.get_content_type() == "multipart/alternative"
    types = [p.get_content_type() for p in digest.iter_parts()]
    assert types == ["text/plain", "multipart/related"]  # the HTML and its chart images
    html = digest.get_body(("html",)).get_content()
    images = [p for p in digest.walk() if p.get_content_type() == "image/png"]
    cids = [p["Content-ID"].strip().strip("<>") for p in images]
    assert images and all(f'src="cid:{cid}"' in html for cid in cids)
    watch = by_rcpt[("carol@example.org",)]
    assert "watchlist flows" in watch["Subject"]
    outbox = sorted(p.name for p in (trending.publish / "outbox").glob("*.eml"))
    assert outbox == [f"{DAYS[-1]}--flows.eml", f"{DAYS[-1]}.eml"]


@pytest.mark.slow
def test_partial_page_blocks_everything_downstream(home: env.Home) -> None:
    day = DAYS[0]
    land(home, day, "page.txt", sample_cards()[:2])
    with pytest.raises(RunFailed, match="ge_raw_listings"):
        materialize(home, day)
    assert query(home, "select count(*) from raw.listings") == [(2,)]
    tables = {r[0] for r in query(home, "select table_name from information_schema.tables")}
    assert "papers" not in tables
    assert not (home.publish / day.isoformat()).exists()
    report = home.publish / "validation" / day.isoformat() / f"raw_listings__{day}.json"
    assert re.search(r"expect_column_values_to_be_between.*\n.*page_cards", report.read_text())
