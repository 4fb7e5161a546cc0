"""Publish: the day's digest (Markdown, HTML), trend files, Atom feed and e-mail."""

import datetime as dt

import dagster as dg

from orchestration import env
from orchestration.defs.partitions import daily_partitions
from orchestration.resources import PapertrendsHome
from transforms.digest import load_watchlists
from transforms.keyphrases import normalize_keyphrase
from transforms.publish import PublishError, publish_day

DIGEST = dg.AssetKey(["digest"])


@dg.asset(
    key=DIGEST,
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
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
)
def digest(context: dg.AssetExecutionContext, papertrends: PapertrendsHome):
    """The daily digest in ``publish/<date>/``: digest.md/.html, trends.csv/.parquet (keyword
    trends), topics.csv/.parquet (topic trends), the Atom feed, and the e-mail in
    ``publish/outbox/`` (sent once when SMTP is configured).

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
    smtp = env.smtp_settings()
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
                    )
                )
    except PublishError as exc:
        raise dg.Failure(description=f"publishing failed: {exc}") from None
    last = results[-1]
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
            "emails_sent": sum(r.emails_sent for r in results),
            "emails_already_sent": sum(r.emails_skipped for r in results),
            "smtp": "configured" if smtp else "not configured (outbox only)",
            "preview": dg.MetadataValue.md("\n".join(markdown.splitlines()[:40])),
        }
    )


defs = dg.Definitions(assets=[digest])
