"""Mail delivery against a real local SMTP server (aiosmtpd on 127.0.0.1)."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import email.utils
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from transforms.digest import (
    DigestData,
    DigestNumbers,
    DigestPaper,
    TrendRow,
    build_message,
    render_html,
    render_markdown,
)
from transforms.mailer import (
    Delivery,
    MailError,
    SmtpSettings,
    content_hash,
    deliver,
    describe_deliveries,
    ledger_key,
    read_ledger,
    send_once,
    write_eml,
)

aiosmtpd_controller = pytest.importorskip("aiosmtpd.controller")
from aiosmtpd.smtp import AuthResult, LoginPassword  # noqa: E402

from tests.conftest import Capture, free_port  # noqa: E402

DAY = dt.date(2026, 11, 28)
PASSWORD = "s3cret-Pa55word!"


def _authenticator(server, session, envelope, mechanism, auth_data) -> AuthResult:
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == b"digest-bot"
        and auth_data.password == PASSWORD.encode()
    )
    # handled=False: aiosmtpd sends the 535 reply itself on failure
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def smtp_auth() -> Iterator[tuple[Capture, int]]:
    handler = Capture()
    port = free_port()
    ctl = aiosmtpd_controller.Controller(
        handler,
        hostname="127.0.0.1",
        port=port,
        authenticator=_authenticator,
        auth_require_tls=False,
        auth_required=True,
    )
    ctl.start()
    try:
        yield handler, port
    finally:
        ctl.stop()


def _data() -> DigestData:
    papers = [
        DigestPaper(
            1,
            "p1",
            "Flow Matching for Proteins",
            "abs",
            "https://github.com/a/b",
            ("flow matching", "protein design"),
            True,
        ),
        DigestPaper(2, "p2", "Diffusion <script>alert(1)</script>", "abs", None, ("diffusion",)),
    ]
    trends = [
        TrendRow("flow matching", "flow matching", 4, 1, 0.04, 0.01, 2.5, "rising", (0, 1, 4))
    ]
    return DigestData(DAY, papers, trends, DigestNumbers(2, 1, 12))


def _message(recipients: list[str]):
    data = _data()
    return build_message(
        data, render_html(data), render_markdown(data), "papertrends@localhost", recipients
    )


def _settings(port: int, recipients: tuple[str, ...], **kw) -> SmtpSettings:
    return SmtpSettings(host="127.0.0.1", port=port, recipients=recipients, timeout=10, **kw)


def test_send_once_delivers_and_dedups(smtp, tmp_path: Path) -> None:
    handler, port = smtp
    rcpts = ["alice@example.org", "bob@example.org"]
    settings = _settings(port, tuple(rcpts))
    ledger = tmp_path / "outbox" / "sent.json"
    key = ledger_key(DAY, rcpts)
    assert key == "2026-11-28|alice@example.org,bob@example.org"

    assert send_once(_message(rcpts), settings, ledger, key) is True
    assert len(handler.messages) == 1
    got = handler.messages[0]
    assert got.mail_from == "papertrends@localhost"
    assert sorted(got.rcpt_tos) == rcpts
    msg = got.message
    assert msg["Subject"] == "papertrends · 2026-11-28 · 2 papers, 1 rising"
    assert msg["X-Papertrends-Digest"] == "2026-11-28"
    assert msg.get_content_type() == "multipart/alternative"  # the parts: transforms.digest
    html = msg.get_body(preferencelist=("html",)).get_content()
    assert "&lt;script&gt;" in html
    assert "2 papers on 2026-11-28" in msg.get_body(preferencelist=("plain",)).get_content()

    # same key again: skipped, the server still has exactly one message
    assert send_once(_message(rcpts), settings, ledger, key) is False
    assert len(handler.messages) == 1
    record = read_ledger(ledger)[key]
    assert record["recipients"] == rcpts and record["message_id"] == msg["Message-ID"]

    # a different recipient set is a different key and is sent
    other = ["carol@example.org"]
    assert send_once(_message(other), settings, ledger, ledger_key(DAY, other)) is True
    assert len(handler.messages) == 2
    assert handler.messages[1].rcpt_tos == other
    assert set(json.loads(ledger.read_text())["sent"]) == {key, ledger_key(DAY, other)}


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_send_with_auth(smtp_auth, tmp_path: Path) -> None:
    handler, port = smtp_auth
    rcpts = ("alice@example.org",)
    good = _settings(port, rcpts, user="digest-bot", password=PASSWORD)
    assert send_once(_message(list(rcpts)), good, tmp_path / "l.json", "k1") is True
    assert len(handler.messages) == 1

    bad = _settings(port, rcpts, user="digest-bot", password=PASSWORD + "-wrong")
    with pytest.raises(MailError) as err:
        send_once(_message(list(rcpts)), bad, tmp_path / "l.json", "k2")
    text = str(err.value)
    assert "\n" not in text and PASSWORD not in text
    assert "k2" not in read_ledger(tmp_path / "l.json")

    # no credentials against a server that requires auth: clean error, nothing recorded
    with pytest.raises(MailError):
        send_once(_message(list(rcpts)), _settings(port, rcpts), tmp_path / "l.json", "k3")
    assert len(handler.messages) == 1


def test_starttls_unsupported_is_a_mail_error(smtp, tmp_path: Path) -> None:
    _, port = smtp
    s = _settings(port, ("a@example.org",), starttls=True, user="u", password=PASSWORD)
    with pytest.raises(MailError) as err:
        send_once(_message(["a@example.org"]), s, tmp_path / "l.json", "k")
    assert "STARTTLS" in str(err.value) or "starttls" in str(err.value).lower()
    assert PASSWORD not in str(err.value)
    assert not (tmp_path / "l.json").exists()


def test_connection_refused_is_a_mail_error(tmp_path: Path) -> None:
    s = _settings(free_port(), ("a@example.org",), user="u", password=PASSWORD)
    with pytest.raises(MailError) as err:
        send_once(_message(["a@example.org"]), s, tmp_path / "l.json", "k")
    msg = str(err.value)
    assert msg.startswith("sending digest via 127.0.0.1:") and "\n" not in msg
    assert PASSWORD not in msg


def test_corrupt_ledger_refuses_to_send(smtp, tmp_path: Path) -> None:
    handler, port = smtp
    ledger = tmp_path / "l.json"
    ledger.write_text("{not json")
    with pytest.raises(MailError, match="corrupt"):
        send_once(_message(["a@example.org"]), _settings(port, ("a@example.org",)), ledger, "k")
    assert handler.messages == []


def test_from_env() -> None:
    assert SmtpSettings.from_env({}) is None
    assert SmtpSettings.from_env({"PAPERTRENDS_SMTP_HOST": "mx"}) is None
    assert SmtpSettings.from_env({"PAPERTRENDS_DIGEST_TO": "a@x.org"}) is None

    plain = SmtpSettings.from_env(
        {"PAPERTRENDS_SMTP_HOST": "mx.local", "PAPERTRENDS_DIGEST_TO": " a@x.org, ,b@y.org "}
    )
    assert plain == SmtpSettings(
        host="mx.local",
        port=25,
        user=None,
        password=None,
        starttls=False,
        sender="papertrends@localhost",
        recipients=("a@x.org", "b@y.org"),
    )

    tls = SmtpSettings.from_env(
        {
            "PAPERTRENDS_SMTP_HOST": "smtp.example.org",
            "PAPERTRENDS_SMTP_STARTTLS": "Yes",
            "PAPERTRENDS_SMTP_USER": "bot",
            "PAPERTRENDS_SMTP_PASSWORD": PASSWORD,
            "PAPERTRENDS_DIGEST_FROM": "digest@example.org",
            "PAPERTRENDS_DIGEST_TO": "a@x.org",
        }
    )
    assert tls is not None
    assert (tls.port, tls.starttls, tls.user, tls.password, tls.sender) == (
        587,
        True,
        "bot",
        PASSWORD,
        "digest@example.org",
    )
    explicit = SmtpSettings.from_env(
        {
            "PAPERTRENDS_SMTP_HOST": "h",
            "PAPERTRENDS_SMTP_PORT": "2525",
            "PAPERTRENDS_SMTP_STARTTLS": "1",
            "PAPERTRENDS_DIGEST_TO": "a@x.org",
        }
    )
    assert explicit is not None and explicit.port == 2525
    for flag in ("0", "false", "no", ""):
        s = SmtpSettings.from_env(
            {
                "PAPERTRENDS_SMTP_HOST": "h",
                "PAPERTRENDS_SMTP_STARTTLS": flag,
                "PAPERTRENDS_DIGEST_TO": "a@x.org",
            }
        )
        assert s is not None and not s.starttls
    with pytest.raises(ValueError, match="PAPERTRENDS_SMTP_PORT"):
        SmtpSettings.from_env(
            {
                "PAPERTRENDS_SMTP_HOST": "h",
                "PAPERTRENDS_SMTP_PORT": "smtp",
                "PAPERTRENDS_DIGEST_TO": "a@x.org",
            }
        )


def test_repr_hides_password() -> None:
    s = SmtpSettings(host="h", user="bot", password=PASSWORD, recipients=("a@x.org",))
    for text in (repr(s), str(s), f"{s}", repr([s])):
        assert PASSWORD not in text
    assert "password='***'" in repr(s)
    assert "password=None" in repr(SmtpSettings(host="h"))


def test_write_eml_is_atomic_and_has_no_secret(tmp_path: Path) -> None:
    msg = _message(["a@x.org"])
    path = write_eml(msg, tmp_path / "outbox" / "2026-11-28.eml")
    raw = path.read_bytes()
    assert PASSWORD.encode() not in raw and b"PASSWORD" not in raw.upper().replace(
        b"PAPERTRENDS", b""
    )
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["Message-ID"] == msg["Message-ID"]
    assert parsed["Subject"] == msg["Subject"]
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp files left
    # overwrite in place
    write_eml(_message(["b@x.org"]), path)
    assert b"b@x.org" in path.read_bytes()
    assert [p.name for p in path.parent.iterdir()] == [path.name]


# ---------------------------------------------------------------------------- deliver()

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(64))


def _mail(
    recipients: list[str],
    papers: int = 2,
    image: bytes = PNG,
    *,
    when: dt.datetime | None = None,
) -> email.message.EmailMessage:
    """A digest-like mail built here (text, HTML and an inline ``cid:`` chart), with a fresh
    Content-ID and Date on every call, as a real re-run makes them."""
    msg = email.message.EmailMessage(policy=email.policy.SMTP)
    msg["From"] = "papertrends@localhost"
    msg["To"] = ", ".join(recipients)
    msg["Subject"] = f"papertrends · {DAY} · " + (f"{papers} papers" if papers else "no papers")
    msg["Date"] = email.utils.format_datetime(when or dt.datetime.now(dt.UTC))
    msg["Message-ID"] = email.utils.make_msgid(domain="papertrends.local")
    msg.set_content(f"{papers} papers on {DAY}\n")
    cid = email.utils.make_msgid(domain="papertrends.local")
    img = f'<img src="cid:{cid.strip("<>")}" alt="chart">' if papers else ""
    msg.add_alternative(f"<p>{papers} papers</p>{img}", subtype="html")
    if papers:
        msg.get_payload()[1].add_related(image, "image", "png", cid=cid, filename="share.png")
    return msg


def _deliver(mails, settings, ledger, *, empty=False, send_empty=False):
    return deliver(mails, settings, ledger, listing_date=DAY, empty=empty, send_empty=send_empty)


RCPTS = ["alice@example.org", "bob@example.org"]


def test_content_hash_ignores_date_message_id_and_content_ids() -> None:
    a = _mail(RCPTS, when=dt.datetime(2026, 11, 28, 6, 30, tzinfo=dt.UTC))
    b = _mail(RCPTS, when=dt.datetime(2026, 11, 29, 7, 0, tzinfo=dt.UTC))
    assert a["Date"] != b["Date"] and a["Message-ID"] != b["Message-ID"]
    assert content_hash(a) == content_hash(b)
    assert content_hash(a).startswith("sha256:")
    assert content_hash(_mail(RCPTS, papers=3)) != content_hash(a)  # subject and bodies
    assert content_hash(_mail(RCPTS, image=PNG + b"x")) != content_hash(a)  # the chart
    # re-parsed from the .eml bytes: the same hash
    parsed = email.message_from_bytes(a.as_bytes(), policy=email.policy.default)
    assert content_hash(parsed) == content_hash(a)


def test_deliver_sends_once_per_content(smtp, tmp_path: Path) -> None:
    handler, port = smtp
    settings, ledger = _settings(port, tuple(RCPTS)), tmp_path / "outbox" / "sent.json"

    first = _deliver([(f"{DAY}.eml", _mail(RCPTS))], settings, ledger)
    assert first == [Delivery(f"{DAY}.eml", tuple(RCPTS), "sent")]
    assert first[0].describe() == "sent to 2"
    assert len(handler.messages) == 1 and sorted(handler.messages[0].rcpt_tos) == RCPTS
    got = handler.messages[0].message
    assert got.get_body(preferencelist=("related",)) is not None  # the chart travelled

    # a re-run: new Date, Message-ID and Content-IDs, same content -> nothing sent
    again = _deliver([(f"{DAY}.eml", _mail(RCPTS))], settings, ledger)
    assert [d.outcome for d in again] == ["already sent"]
    assert again[0].describe() == "already sent"
    assert len(handler.messages) == 1

    # a late listing added papers: changed content is sent again
    late = _deliver([(f"{DAY}.eml", _mail(RCPTS, papers=5))], settings, ledger)
    assert [d.describe() for d in late] == ["sent to 2"]
    assert len(handler.messages) == 2
    assert "5 papers" in handler.messages[1].message["Subject"]

    records = read_ledger(ledger)
    assert len(records) == 2
    for key, record in records.items():
        assert key.startswith(f"{DAY}|alice@example.org,bob@example.org|sha256:")
        assert key.endswith(str(record["content"]))
        assert record["eml"] == f"{DAY}.eml" and record["empty"] is False


def test_deliver_new_recipients_get_their_copy(smtp, tmp_path: Path) -> None:
    handler, port = smtp
    ledger = tmp_path / "sent.json"
    _deliver([("d.eml", _mail(RCPTS))], _settings(port, tuple(RCPTS)), ledger)
    new = ["alice@example.org", "carol@example.org"]
    out = _deliver([("d.eml", _mail(new))], _settings(port, tuple(new)), ledger)
    assert [d.describe() for d in out] == ["sent to 2"]
    assert [sorted(m.rcpt_tos) for m in handler.messages] == [RCPTS, new]


@pytest.mark.parametrize("send_empty", [False, True])
def test_empty_day_never_blocks_the_real_digest(smtp, tmp_path: Path, send_empty: bool) -> None:
    """Regression: the "no papers" mail used to be recorded under the date+recipients key,
    and the real digest of that date was then never sent."""
    handler, port = smtp
    settings, ledger = _settings(port, tuple(RCPTS)), tmp_path / "outbox" / "sent.json"

    empty = _deliver(
        [(f"{DAY}.eml", _mail(RCPTS, papers=0))],
        settings,
        ledger,
        empty=True,
        send_empty=send_empty,
    )
    if send_empty:
        assert [d.describe() for d in empty] == ["sent to 2 (empty day)"]
        assert len(handler.messages) == 1 and "no papers" in handler.messages[0].message["Subject"]
        rerun = _deliver(
            [(f"{DAY}.eml", _mail(RCPTS, papers=0))], settings, ledger, empty=True, send_empty=True
        )
        assert [d.outcome for d in rerun] == ["already sent"]
    else:
        assert [d.outcome for d in empty] == ["empty day: not sent"]
        assert empty[0].describe() == (
            "empty day: not sent (set PAPERTRENDS_SEND_EMPTY=1 to send it)"
        )
        assert handler.messages == [] and not ledger.exists()
    sent_before = len(handler.messages)

    # the listing lands: the real digest of the same date goes out
    real = _deliver([(f"{DAY}.eml", _mail(RCPTS))], settings, ledger, send_empty=send_empty)
    assert [d.describe() for d in real] == ["sent to 2"]
    assert len(handler.messages) == sent_before + 1
    assert "2 papers" in handler.messages[-1].message["Subject"]


def test_not_configured_sends_nothing(tmp_path: Path) -> None:
    out = _deliver([("d.eml", _mail(RCPTS)), ("d--w.eml", _mail(["w@x.org"]))], None, tmp_path)
    assert [(d.name, d.recipients, d.outcome) for d in out] == [
        ("d.eml", tuple(RCPTS), "not configured"),
        ("d--w.eml", ("w@x.org",), "not configured"),
    ]
    assert out[0].describe() == "not configured (outbox only)"
    assert list(tmp_path.iterdir()) == []


def test_old_ledger_records_are_kept_but_never_match(smtp, tmp_path: Path) -> None:
    handler, port = smtp
    ledger = tmp_path / "sent.json"
    old_key = ledger_key(DAY, RCPTS)  # "2026-11-28|alice@...,bob@...", no content hash
    old = {"sent_at": "2026-11-28T06:30:00+00:00", "message_id": "<m>", "recipients": RCPTS}
    ledger.write_text(json.dumps({"sent": {old_key: old}}))
    out = _deliver([("d.eml", _mail(RCPTS))], _settings(port, tuple(RCPTS)), ledger)
    assert [d.outcome for d in out] == ["sent"] and len(handler.messages) == 1
    records = read_ledger(ledger)
    assert records[old_key] == old and len(records) == 2


def test_deliver_corrupt_ledger_is_one_line(smtp, tmp_path: Path) -> None:
    handler, port = smtp
    ledger = tmp_path / "sent.json"
    ledger.write_text('{"sent": [1, 2')
    with pytest.raises(MailError) as err:
        _deliver([("d.eml", _mail(RCPTS))], _settings(port, tuple(RCPTS)), ledger)
    text = str(err.value)
    assert "\n" not in text and "corrupt" in text and str(ledger) in text
    assert handler.messages == []
    assert ledger.read_text() == '{"sent": [1, 2'  # left for the user to look at


def test_deliver_smtp_down_records_nothing(tmp_path: Path) -> None:
    ledger = tmp_path / "sent.json"
    settings = _settings(free_port(), tuple(RCPTS), user="bot", password=PASSWORD)
    with pytest.raises(MailError) as err:
        _deliver([("d.eml", _mail(RCPTS))], settings, ledger)
    text = str(err.value)
    assert text.startswith("d.eml: sending digest via 127.0.0.1:") and "\n" not in text
    assert PASSWORD not in text and err.value.deliveries == ()
    assert read_ledger(ledger) == {}


def test_deliver_failure_keeps_what_was_sent(smtp, tmp_path: Path) -> None:
    """The second mail fails (a recipient the server refuses): the first stays recorded and
    is reported; the failed one is not recorded, so a retry sends only it."""
    handler, port = smtp
    settings, ledger = _settings(port, tuple(RCPTS)), tmp_path / "sent.json"
    mails = [("d.eml", _mail(RCPTS)), ("d--w.eml", _mail(["nobody@refused.example"]))]
    with pytest.raises(MailError) as err:
        _deliver(mails, settings, ledger)
    assert str(err.value).startswith("d--w.eml: ")
    assert [d.describe() for d in err.value.deliveries] == ["sent to 2"]
    assert len(read_ledger(ledger)) == 1 and len(handler.messages) == 1
    retry = _deliver(mails[:1], settings, ledger)
    assert [d.outcome for d in retry] == ["already sent"]


def test_deliver_reports_refused_recipients(smtp, tmp_path: Path) -> None:
    handler, port = smtp
    rcpts = ["alice@example.org", "nobody@refused.example"]
    out = _deliver([("d.eml", _mail(rcpts))], _settings(port, tuple(rcpts)), tmp_path / "l.json")
    assert out[0].refused == ("nobody@refused.example",)
    assert out[0].describe() == "sent to 1 (1 refused: nobody@refused.example)"
    assert handler.messages[0].rcpt_tos == ["alice@example.org"]


def test_concurrent_deliveries_send_once(smtp, tmp_path: Path) -> None:
    handler, port = smtp
    settings, ledger = _settings(port, tuple(RCPTS)), tmp_path / "sent.json"
    with ThreadPoolExecutor(4) as pool:
        runs = list(
            pool.map(lambda _: _deliver([("d.eml", _mail(RCPTS))], settings, ledger), range(4))
        )
    assert sorted(r[0].outcome for r in runs) == ["already sent"] * 3 + ["sent"]
    assert len(handler.messages) == 1


def test_describe_deliveries() -> None:
    sent = Delivery("2026-11-28.eml", ("a@x.org", "b@x.org"), "sent")
    again = Delivery("2026-11-28--llm.eml", ("c@x.org",), "already sent")
    off = Delivery("2026-11-28.eml", ("a@x.org",), "not configured")
    empty = Delivery("2026-11-28.eml", ("a@x.org",), "empty day: not sent", empty=True)
    assert describe_deliveries([sent]) == "sent to 2"
    assert describe_deliveries([again]) == "already sent"
    assert describe_deliveries([again, again]) == "already sent (2 e-mails)"
    assert describe_deliveries([sent, again]) == (
        "2026-11-28.eml sent to 2; 2026-11-28--llm.eml already sent"
    )
    assert describe_deliveries([off, off]) == (
        "not configured (outbox only; set PAPERTRENDS_SMTP_HOST and PAPERTRENDS_DIGEST_TO)"
    )
    assert describe_deliveries([empty]) == (
        "empty day: not sent (set PAPERTRENDS_SEND_EMPTY=1 to send it)"
    )
    assert describe_deliveries([]) == "no e-mail"


def test_send_empty_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    from orchestration import env

    for raw, expected in (("", False), ("0", False), ("off", False), ("1", True), ("Yes", True)):
        monkeypatch.setenv("PAPERTRENDS_SEND_EMPTY", raw)
        assert env.send_empty() is expected
    monkeypatch.delenv("PAPERTRENDS_SEND_EMPTY")
    assert env.send_empty() is False
    monkeypatch.setenv("PAPERTRENDS_SEND_EMPTY", "sometimes")
    with pytest.raises(ValueError, match="PAPERTRENDS_SEND_EMPTY"):
        env.send_empty()
