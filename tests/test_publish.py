"""Trends and the digest end to end: ten listing days, a topic that takes off, e-mail; and
the first of those days again, a cold start."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import re
import socket
import xml.etree.ElementTree as ET

import dagster as dg
import duckdb
import pytest
from aiosmtpd.controller import Controller

from orchestration import env
from orchestration.cli import CliError, materialize
from orchestration.definitions import defs
from orchestration.defs.ingest import raw_listings
from tests.conftest import land, sample_cards
from transforms.publish import publish_day

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


def run_partition(day: dt.date, selection: list[dg.AssetKey] | None = None) -> None:
    job = defs.resolve_job_def("papertrends_daily")
    with dg.DagsterInstance.get() as instance:
        result = job.execute_in_process(
            partition_key=day.isoformat(), instance=instance, asset_selection=selection
        )
    assert result.success


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
        for day in DAYS[:-1]:
            run_partition(day, INGEST)
        run_partition(DAYS[-1])
        # A re-run of the digest must not send the same e-mails again.
        run_partition(DAYS[-1], [dg.AssetKey(["digest"])])
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
    shown = markdown[markdown.index(section) : markdown.index("## Papers")]
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
    assert [p.get_content_type() for p in digest.iter_parts()] == ["text/plain", "text/html"]
    watch = by_rcpt[("carol@example.org",)]
    assert "watchlist flows" in watch["Subject"]
    outbox = sorted(p.name for p in (trending.publish / "outbox").glob("*.eml"))
    assert outbox == [f"{DAYS[-1]}--flows.eml", f"{DAYS[-1]}.eml"]


@pytest.mark.slow
def test_partial_page_blocks_everything_downstream(home: env.Home) -> None:
    day = DAYS[0]
    land(home, day, "page.txt", sample_cards()[:2])
    with pytest.raises(CliError, match="ge_raw_listings"):
        materialize(home, day)
    assert query(home, "select count(*) from raw.listings") == [(2,)]
    tables = {r[0] for r in query(home, "select table_name from information_schema.tables")}
    assert "papers" not in tables
    assert not (home.publish / day.isoformat()).exists()
    report = home.publish / "validation" / day.isoformat() / f"raw_listings__{day}.json"
    assert re.search(r"expect_column_values_to_be_between.*\n.*page_cards", report.read_text())
