"""The digest e-mail end to end: one real `papertrends run` (in this process, click's
CliRunner) with a local SMTP server (aiosmtpd on 127.0.0.1), then the publish step again on
the warehouse it built."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest

from orchestration import env
from tests.conftest import invoke, sample_cards, write_listing
from transforms.mailer import SmtpSettings
from transforms.publish import publish_day
from transforms.warehouse import connect_warehouse

pytest.importorskip("aiosmtpd.controller")

DAY = dt.date(2026, 11, 2)
EMPTY_DAY = dt.date(2026, 11, 3)  # no listing landed
RCPTS = ["alice@example.org", "bob@example.org"]
MAIL_ENV = {k for k in os.environ if k.startswith(("PAPERTRENDS_SMTP_", "PAPERTRENDS_DIGEST_"))}


def _digest_metadata(home: env.Home, day: dt.date) -> dict[str, object]:
    from dagster import AssetKey, AssetRecordsFilter, DagsterInstance

    with DagsterInstance.from_config(str(home.dagster_home)) as instance:
        (record,) = instance.fetch_materializations(
            AssetRecordsFilter(asset_key=AssetKey(["digest"]), asset_partitions=[day.isoformat()]),
            limit=1,
        ).records
    return {k: v.value for k, v in record.asset_materialization.metadata.items()}


@pytest.mark.slow
def test_a_run_sends_the_digest_once_and_says_so(
    smtp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server, port = smtp
    home = env.home(tmp_path / "home")
    page = write_listing(tmp_path / "inbox" / "page.txt", sample_cards()[:12])
    for name in (*MAIL_ENV, "DAGSTER_HOME", "PAPERTRENDS_SEND_EMPTY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PAPERTRENDS_HOME", str(home.root))
    monkeypatch.setenv("PAPERTRENDS_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("PAPERTRENDS_SMTP_PORT", str(port))
    monkeypatch.setenv("PAPERTRENDS_DIGEST_TO", ", ".join(RCPTS))
    result = invoke("run", "--listing", str(page), "--date", DAY.isoformat())
    assert result.exit_code == 0, result.stderr[-3000:]

    # the run says what happened, in its output and in the digest's metadata
    assert "e-mail: sent to 2" in result.stdout.splitlines(), result.stdout
    meta = _digest_metadata(home, DAY)
    assert meta["email"] == f"{DAY}.eml: sent to 2"
    assert meta["email_outcome"] == "sent to 2"
    assert (meta["emails_sent"], meta["emails_already_sent"], meta["emails_not_sent"]) == (1, 0, 0)

    assert len(server.messages) == 1
    received = server.messages[0]
    assert sorted(received.rcpt_tos) == RCPTS
    assert received.message["X-Papertrends-Digest"] == DAY.isoformat()
    ledger = home.publish / "outbox" / "sent.json"
    (key,) = json.loads(ledger.read_text())["sent"]
    assert key.startswith(f"{DAY}|{','.join(RCPTS)}|sha256:")

    settings = SmtpSettings(host="127.0.0.1", port=port, recipients=tuple(RCPTS), timeout=10)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=3)
    with connect_warehouse(home.warehouse, read_only=True) as con:
        # the schedule runs the same date again: the real renderings give the same content,
        # so nothing is sent (the Date and Message-ID headers do not count)
        again = publish_day(con, home.publish, DAY, later, smtp=settings)
        assert [(d.name, d.outcome) for d in again.deliveries] == [(f"{DAY}.eml", "already sent")]
        assert len(server.messages) == 1

        # a date with no listing yet: not sent by default, nothing recorded
        empty = publish_day(con, home.publish, EMPTY_DAY, later, smtp=settings)
        assert [d.outcome for d in empty.deliveries] == ["empty day: not sent"]
        assert len(server.messages) == 1
        assert len(json.loads(ledger.read_text())["sent"]) == 1

        # PAPERTRENDS_SEND_EMPTY=1: the "no papers" mail is sent, once
        for expected in ("sent", "already sent"):
            empty = publish_day(con, home.publish, EMPTY_DAY, later, smtp=settings, send_empty=True)
            assert [d.outcome for d in empty.deliveries] == [expected]
        assert len(server.messages) == 2
        assert "no papers" in server.messages[1].message["Subject"]
