"""Publish: the day's digest (Markdown, HTML), trend files, Atom feed and e-mail."""

import datetime as dt

import dagster as dg

from orchestration import env
from orchestration.defs.partitions import daily_asset
from orchestration.resources import PapertrendsHome
from transforms.digest import load_watchlists
from transforms.keyphrases import normalize_keyphrase
from transforms.mailer import Delivery, MailError, describe_deliveries
from transforms.publish import PublishError, publish_day

DIGEST = dg.AssetKey(["digest"])


@daily_asset(
    dg.AssetSpec(
        DIGEST,
        deps=[
            dg.AssetKey(["keyword_trends"]),
            dg.AssetKey(["keyword_daily"]),
            dg.AssetKey(["keywords"]),
            dg.AssetKey(["paper_keyphrases"]),
            dg.AssetKey(["paper_appearances"]),
            dg.AssetKey(["topic_trends"]),
            dg.AssetKey(["topics"]),
            dg.AssetKey(["keyphrase_topics"]),
            dg.AssetKey(["topic_daily"]),
        ],
        group_name="publish",
        kinds={"python", "html", "email"},
    )
)
def digest(context: dg.AssetExecutionContext, papertrends: PapertrendsHome):
    """The daily digest in ``publish/<date>/``: digest.md/.html, trends.csv/.parquet (keyword
    trends), topics.csv/.parquet (topic trends), the Atom feed, and the e-mail in
    ``publish/outbox/`` (sent when SMTP is configured, once per date, recipients and content;
    an empty day only with PAPERTRENDS_SEND_EMPTY=1). The metadata says what happened to each
    e-mail (``email``: "2026-12-01.eml: sent to 2"), in one line (``email_outcome``, which the
    CLI prints) and as counts. An e-mail that cannot be sent fails the asset with one line;
    what was sent before is recorded and not sent again by the retry.

    Runs only when the blocking Great Expectations checks upstream passed. An empty day
    gets a digest that says why it is empty. A backfill publishes (and e-mails) the digest
    of its last date only: importing a year of history does not send a year of e-mails;
    an earlier date's digest is one `papertrends backfill --from D --to D` away.
    """
    watch_file = papertrends.home.root / "watchlists.yaml"
    try:
        watchlists = load_watchlists(watch_file)
    except ValueError as exc:
        context.log.warning(f"watchlists ignored: {exc}")
        watchlists = []
    try:
        smtp = env.smtp_settings()
        send_empty = env.send_empty()
    except ValueError as exc:
        raise dg.Failure(description=f"e-mail settings: {exc}") from None
    results = []
    try:
        with papertrends.connect(read_only=True) as con:
            for key in context.partition_keys[-1:]:  # the date, or a backfill's last one
                results.append(
                    publish_day(
                        con,
                        papertrends.publish,
                        dt.date.fromisoformat(key),
                        dt.datetime.now(dt.UTC),
                        watchlists,
                        normalize_keyphrase,
                        smtp,
                        send_empty=send_empty,
                    )
                )
    except PublishError as exc:
        raise dg.Failure(description=f"publishing failed: {exc}") from None
    except MailError as exc:
        raise dg.Failure(
            description=f"e-mail not sent: {exc}",
            metadata={"email_sent_before_the_failure": _email_lines(exc.deliveries)},
        ) from None
    last = results[-1]
    deliveries = [d for r in results for d in r.deliveries]
    sent = sum(r.emails_sent for r in results)
    already = sum(r.emails_skipped for r in results)
    markdown = (last.folder / "digest.md").read_text(encoding="utf-8")
    return dg.MaterializeResult(
        metadata={
            "digest": dg.MetadataValue.path(str(last.folder / "digest.html")),
            "date": context.partition_keys[-1],
            "dates_in_run": len(context.partition_keys),
            "papers": last.papers,
            "trends": (
                f"cold start (listing days to trends: {last.days_to_trends})"
                if last.days_to_trends is not None
                else "labelled"
            ),
            "rising_topics": last.rising,
            "new_topics": last.new,
            "bursting_topics": last.bursting,
            "empty_reason": last.empty_reason or "",
            "emails_written": sum(len(r.emails_written) for r in results),
            "email": _email_lines(deliveries),
            "email_outcome": describe_deliveries(deliveries),
            "emails_sent": sent,
            "emails_already_sent": already,
            "emails_not_sent": len(deliveries) - sent - already,
            "smtp": "configured" if smtp else "not configured (outbox only)",
            "preview": dg.MetadataValue.md("\n".join(markdown.splitlines()[:40])),
        }
    )


def _email_lines(deliveries: tuple[Delivery, ...] | list[Delivery]) -> str:
    """``"2026-12-01.eml: sent to 2"``, one line per e-mail."""
    return "\n".join(f"{d.name}: {d.describe()}" for d in deliveries) or "no e-mail"


defs = dg.Definitions(assets=[digest])
