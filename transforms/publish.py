"""Publish one listing date: digest (Markdown, HTML, charts), trend files, Atom feed, e-mail.

Layout under the publish folder::

    <date>/digest.md, digest.html   the day's digest
    <date>/charts/<slug>.png        its charts (topic share sparklines, one overview chart)
    <date>/trends.csv, trends.parquet  that date's keyword_trends rows
    <date>/topics.csv, topics.parquet  that date's topic_trends rows, with the topic labels
    <date>/entry.json               the digest's feed entry (the feed is rebuilt from these)
    feed.xml                        Atom feed of the last 30 digests
    outbox/<date>.eml               the digest e-mail (and <date>--<watchlist>.eml), its charts
                                    as cid: images
    outbox/sent.json                ledger of sent e-mails (:func:`transforms.mailer.deliver`:
                                    once per date, recipients and content)

A re-run with unchanged data writes byte-identical files: the charts are deterministic, a
feed entry keeps its ``updated`` time and an ``.eml`` its ``Date`` while the digest does not
change, and the feed's ``updated`` is its newest entry's.

Every file is written to a temporary name in its folder (``.<name>.<pid>.<random>.tmp``)
and renamed into place, so a crash never leaves a half-written file under a published
name; the temporary files a killed writer left behind are swept by the next publish. A
write that fails (full disk, read-only folder, a file where a folder should be) raises
:class:`PublishError` with one line and leaves no temporary file. Nothing here reads the
environment: the caller passes SMTP settings and the watchlist file.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import email
import email.policy
import email.utils
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import polars as pl

from transforms.digest import (
    DigestData,
    DigestNumbers,
    DigestPaper,
    FeedEntry,
    TopicCount,
    TrendRow,
    Watchlist,
    build_message,
    feed_entry,
    match_watchlists,
    paper_url,
    render_feed,
    render_html,
    render_markdown,
    render_text,
)
from transforms.files import atomic_write, sweep_stale_tmp
from transforms.hashing import sha256_parts
from transforms.mailer import ALREADY_SENT, SENT, Delivery, SmtpSettings, deliver, write_eml
from transforms.warehouse import empty_day_reason

if TYPE_CHECKING:
    from transforms.charts import Chart

SPARKLINE_DAYS = 28
DEFAULT_RECIPIENT = "papertrends@localhost"


class PublishError(RuntimeError):
    """Publishing failed (unwritable folder, full disk...); one line, the warehouse is intact."""


@dataclass
class PublishResult:
    folder: Path
    files: list[Path] = field(default_factory=list)
    papers: int = 0
    rising: int = 0
    new: int = 0
    bursting: int = 0
    days_to_trends: int | None = None  # set on a cold-start day: trends are not labelled yet
    emails_written: list[Path] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    empty_reason: str | None = None
    charts: list[Path] = field(default_factory=list)

    @property
    def emails_sent(self) -> int:
        return sum(d.outcome == SENT for d in self.deliveries)

    @property
    def emails_skipped(self) -> int:
        """E-mails not sent because they were sent before."""
        return sum(d.outcome == ALREADY_SENT for d in self.deliveries)


def _atomic_frame(path: Path, frame: pl.DataFrame, kind: str) -> Path:
    return atomic_write(path, frame.write_csv if kind == "csv" else frame.write_parquet)


# ---------------------------------------------------------------------------- data


def load_digest_data(
    con: duckdb.DuckDBPyConnection,
    listing_date: dt.date,
    watchlists: list[Watchlist] = (),
    normalize: Callable[[str], str] | None = None,
    max_keyphrases: int = 5,
) -> DigestData:
    """Read one day's digest from the marts: papers in page order (each shown keyphrase with
    its topic), topic trends with sparklines, and on a cold-start day the day's top topics."""
    papers_rows = con.execute(
        """
        select a.best_rank, p.paper_id, p.title, p.abstract,
               coalesce(p.github_url, p.code_url) as code_url,
               p.first_listed = a.listing_date as is_new,
               coalesce(list(k.keyphrase order by k.keyphrase_rank)
                        filter (where k.keyphrase is not null), []) as keyphrases,
               coalesce(list(coalesce(kt.topic, '') order by k.keyphrase_rank)
                        filter (where k.keyphrase is not null), []) as topics,
               p.url, p.arxiv_id, a.upvotes, a.source
        from paper_appearances as a
        join papers as p using (paper_id)
        left join paper_keyphrases as k on k.paper_id = p.paper_id and k.keyphrase_rank <= $2
        left join keyphrase_topics as kt on kt.keyphrase_norm = k.keyphrase_norm
        where a.listing_date = $1
        group by all
        order by a.best_rank, p.paper_id
        """,
        [listing_date, max_keyphrases],
    ).fetchall()
    papers = [
        DigestPaper(
            rank,
            pid,
            title,
            abstract,
            code_url,
            kps,
            bool(new),
            url=paper_url(pid, url, arxiv_id, source or ""),
            topics=topics,
            upvotes=upvotes,
            source=source or "",
        )
        for (
            rank,
            pid,
            title,
            abstract,
            code_url,
            new,
            kps,
            topics,
            url,
            arxiv_id,
            upvotes,
            source,
        ) in papers_rows
    ]
    if not papers:
        return DigestData(listing_date, empty_reason=empty_day_reason(con, listing_date))

    # Sparklines are shares: the topic's papers over the papers listed that day.
    trend_rows = con.execute(
        """
        with days as (
            select listing_date, listed
            from (select listing_date, count(*) as listed from paper_appearances
                  where listing_date <= $1 group by listing_date)
            order by listing_date desc
            limit $2
        ),
        shown as (
            select t.*, coalesce(tp.label, t.topic) as label
            from topic_trends as t
            left join topics as tp using (topic)
            where t.as_of_date = $1
              and (t.status in ('rising', 'new', 'falling') or t.bursting_since is not null)
        ),
        series as (
            select s.topic,
                   list(coalesce(d2.papers, 0) / days.listed order by days.listing_date)
                       as spark
            from shown as s
            cross join days
            left join topic_daily as d2
              on d2.topic = s.topic and d2.listing_date = days.listing_date
            group by s.topic
        )
        select s.topic, s.label, s.papers_current, s.papers_reference,
               s.share_current, s.share_reference, s.z_score, s.status, series.spark,
               s.bursting_since
        from shown as s join series using (topic)
        order by s.z_score desc, s.topic
        """,
        [listing_date, SPARKLINE_DAYS],
    ).fetchall()
    trends = [TrendRow(*row[:8], sparkline=row[8], bursting_since=row[9]) for row in trend_rows]
    day_topics = sorted({t for p in papers for t in p.topics if t})
    topic_labels = dict(
        con.execute(
            "select topic, label from topics where label is not null and list_contains($1, topic)",
            [day_topics],
        ).fetchall()
    )
    (days_to_trends,) = con.execute(
        "select max(listing_days_to_trends) from topic_trends "
        "where as_of_date = $1 and status = 'cold_start'",
        [listing_date],
    ).fetchone()
    top_topics = [
        TopicCount(*row)
        for row in con.execute(
            """
            select d.topic, coalesce(tp.label, d.topic), d.papers, d.papers / d.papers_listed
            from topic_daily as d
            left join topics as tp using (topic)
            where d.listing_date = $1
            order by d.papers desc, d.topic
            limit 10
            """,
            [listing_date],
        ).fetchall()
    ]
    (first_listing_day,) = con.execute(
        "select count(*) = 0 from paper_appearances where listing_date < $1", [listing_date]
    ).fetchone()
    (keyphrases,) = con.execute(
        """
        select count(distinct k.keyphrase_norm)
        from paper_appearances as a
        join paper_keyphrases as k using (paper_id)
        where a.listing_date = $1
        """,
        [listing_date],
    ).fetchone()
    new_papers = sum(p.is_new for p in papers)
    hits = (
        match_watchlists(watchlists, papers, **({"normalize": normalize} if normalize else {}))
        if watchlists
        else {}
    )
    return DigestData(
        listing_date,
        papers,
        trends,
        DigestNumbers(len(papers), new_papers, keyphrases),
        hits,
        top_topics=top_topics,
        days_to_trends=days_to_trends,
        first_listing_day=first_listing_day,
        topic_labels=topic_labels,
    )


# ---------------------------------------------------------------------------- publish


_ENTRY_FIELDS = {f.name for f in dataclasses.fields(FeedEntry)}


def _read_entry(entry_file: Path) -> tuple[FeedEntry, str] | None:
    """A stored feed entry and the digest hash it was made from; None if damaged or foreign.
    Fields this version does not know (an older entry's whole-digest ``content_html``) are
    dropped: the feed shows every entry as a summary."""
    try:
        raw = json.loads(entry_file.read_text(encoding="utf-8"))
        digest_hash = str(raw.get("digest_sha256", ""))
        fields = {k: v for k, v in raw.items() if k in _ENTRY_FIELDS}
        fields["listing_date"] = dt.date.fromisoformat(fields["listing_date"])
        fields["updated"] = dt.datetime.fromisoformat(fields["updated"])
        return FeedEntry(**fields), digest_hash
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def _write_feed(publish: Path, now: dt.datetime) -> Path:
    """``feed.xml`` from every ``*/entry.json``; its ``updated`` is the newest entry's (so an
    unchanged set of digests gives the same bytes), ``now`` without entries."""
    entries = [e for e, _ in filter(None, map(_read_entry, sorted(publish.glob("*/entry.json"))))]
    newest = max((e.updated for e in entries if e.updated), default=now, key=_utc)
    return atomic_write(publish / "feed.xml", render_feed(entries, "", newest))


def _utc(t: dt.datetime) -> dt.datetime:
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)


def _stable_message(path: Path, build: Callable[[dt.datetime], EmailMessage], now: dt.datetime):
    """The message built with the ``Date`` of the ``.eml`` already at ``path`` when that gives
    the very same bytes (the digest did not change), else built with ``now``."""
    try:
        old = path.read_bytes()
        previous = email.message_from_bytes(old, policy=email.policy.default)
        date = email.utils.parsedate_to_datetime(str(previous["Date"]))
    except (OSError, TypeError, ValueError, IndexError):
        return build(now)
    message = build(date)
    return message if message.as_bytes() == old else build(now)


def _write_charts(folder: Path, charts: dict[str, Chart]) -> list[Path]:
    """Write the charts (atomically) and remove those of an earlier run no longer shown."""
    out = folder / "charts"
    written = [atomic_write(out / c.name, c.png) for c in charts.values()]
    if out.is_dir():
        sweep_stale_tmp(out)
        keep = {p.name for p in written}
        for old in out.glob("*.png"):
            if old.name not in keep:
                old.unlink(missing_ok=True)
    return written


def publish_day(
    con: duckdb.DuckDBPyConnection,
    publish: Path,
    listing_date: dt.date,
    now: dt.datetime,
    watchlists: list[Watchlist] = (),
    normalize: Callable[[str], str] | None = None,
    smtp: SmtpSettings | None = None,
    *,
    send_empty: bool = False,
) -> PublishResult:
    """Write every publish artefact of one date, then hand the e-mails to
    :func:`transforms.mailer.deliver` (sent when ``smtp`` is set, once per date, recipients
    and content; an empty day's only with ``send_empty``). ``result.deliveries`` says what
    happened to each. Charts are written before the digest that shows them."""
    day = listing_date.isoformat()
    folder = publish / day
    result = PublishResult(folder)
    data = load_digest_data(con, listing_date, list(watchlists), normalize)
    # The exports leave out built_at (when dbt last rebuilt the row): a rebuild that changes
    # nothing else publishes the same bytes.
    trends = con.execute(
        "select * exclude (built_at) from keyword_trends where as_of_date = $1 "
        "order by z_score desc, keyphrase_norm",
        [listing_date],
    ).pl()
    topics = con.execute(
        """
        select t.as_of_date, t.topic, tp.label, t.* exclude (as_of_date, topic, built_at)
        from topic_trends as t left join topics as tp using (topic)
        where t.as_of_date = $1
        order by t.z_score desc, t.topic
        """,
        [listing_date],
    ).pl()
    result.papers = len(data.papers)
    result.rising, result.new = len(data.rising), len(data.new)
    result.bursting, result.days_to_trends = len(data.bursting), data.days_to_trends
    result.empty_reason = data.empty_reason
    # matplotlib (~0.5 s to import) only when a digest is drawn, not in every process that
    # loads the definitions
    from transforms.charts import chart_map, digest_charts

    charts = digest_charts(data)
    markdown, html = render_markdown(data, charts), render_html(data, charts)
    text = render_text(data)
    for stale in (publish, folder, publish / "outbox"):
        sweep_stale_tmp(stale)
    try:
        result.charts = _write_charts(folder, charts)
        result.files += result.charts
        result.files += [
            atomic_write(folder / "digest.md", markdown),
            atomic_write(folder / "digest.html", html),
            _atomic_frame(folder / "trends.csv", trends, "csv"),
            _atomic_frame(folder / "trends.parquet", trends, "parquet"),
            _atomic_frame(folder / "topics.csv", topics, "csv"),
            _atomic_frame(folder / "topics.parquet", topics, "parquet"),
        ]
        digest_hash = sha256_parts([markdown, html, *(c.png for c in charts.values())])
        previous = _read_entry(folder / "entry.json")
        entry = feed_entry(data, f"{day}/digest.html", updated=now)
        if previous and previous[1] == digest_hash and previous[0].updated:
            # The digest did not change: its entry did not either (Atom's "updated").
            entry = dataclasses.replace(entry, updated=previous[0].updated)
        payload = dataclasses.asdict(entry) | {
            "listing_date": day,
            "updated": entry.updated.isoformat(),
            "digest_sha256": digest_hash,
        }
        result.files.append(
            atomic_write(folder / "entry.json", json.dumps(payload, sort_keys=True))
        )
        result.files.append(_write_feed(publish, now))

        recipients = list(smtp.recipients) if smtp else [DEFAULT_RECIPIENT]
        sender = smtp.sender if smtp else DEFAULT_RECIPIENT
        images = chart_map(charts)
        outbox = publish / "outbox"
        plans: list[tuple[str, list[str], str | None]] = [(f"{day}.eml", recipients, None)]
        for watchlist in watchlists:
            if watchlist.recipients and watchlist.name in data.watch_hits:
                subject = f"papertrends · {day} · watchlist {watchlist.name}: " + (
                    f"{len(data.watch_hits[watchlist.name])} matching paper(s)"
                )
                name = f"{day}--{_slug(watchlist.name)}.eml"
                plans.append((name, list(watchlist.recipients), subject))
        mails: list[tuple[str, EmailMessage]] = []
        for name, rcpts, subject in plans:

            def build(date: dt.datetime, rcpts=rcpts, subject=subject) -> EmailMessage:
                return build_message(
                    data, html, text, sender, rcpts, subject, date=date, charts=images
                )

            message = _stable_message(outbox / name, build, now)
            mails.append((name, message))
            result.emails_written.append(write_eml(message, outbox / name))
    except OSError as exc:
        reason = exc.strerror or str(exc)
        if isinstance(exc, FileExistsError | NotADirectoryError):
            reason += " (a file is where a folder should be)"
        elif isinstance(exc, IsADirectoryError):
            reason += " (a folder is where a file should be)"
        raise PublishError(f"cannot write to {exc.filename or publish}: {reason}") from None

    result.deliveries = deliver(
        mails,
        smtp,
        outbox / "sent.json",
        listing_date=listing_date,
        empty=data.is_empty,
        send_empty=send_empty,
    )
    return result


def _slug(name: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "-_" else "-" for c in name.lower())
    return cleaned.strip("-") or "watchlist"
