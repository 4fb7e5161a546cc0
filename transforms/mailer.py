"""Delivering digests: SMTP settings from the environment, ``.eml`` files, send-once ledger.

Environment (all optional; no host or no recipients means "do not send"):

    PAPERTRENDS_SMTP_HOST       SMTP server host
    PAPERTRENDS_SMTP_PORT       port (default 25, or 587 with STARTTLS)
    PAPERTRENDS_SMTP_USER       login user (AUTH only when set)
    PAPERTRENDS_SMTP_PASSWORD   login password (never logged, never in errors or repr)
    PAPERTRENDS_SMTP_STARTTLS   1/true/yes/on to upgrade the connection with STARTTLS
    PAPERTRENDS_DIGEST_FROM     envelope and From address (default papertrends@localhost)
    PAPERTRENDS_DIGEST_TO       comma-separated recipients

:func:`deliver` sends a day's digest e-mails, each once per (listing date, recipient set,
content): the ledger key is :func:`ledger_key` of the date, the envelope recipients and the
message's :func:`content_hash` (subject, text and HTML bodies, attachments and inline images;
not the Date or Message-ID headers, which differ between runs). So a re-run with unchanged
content sends nothing ("already sent"), a digest whose content changed (a late listing added
papers) is sent again, and a new recipient set gets its own copy. An empty day ("no papers")
is sent only when asked (``send_empty``, i.e. ``PAPERTRENDS_SEND_EMPTY=1``); its content differs
from the real digest's, so sending it never blocks the later real digest of that date.

The ledger (``sent.json``) is a JSON object ``{"sent": {key: record}}``, written atomically
(temp file + rename) under an exclusive lock on ``<ledger>.lock``; a corrupt ledger raises
:class:`MailError` rather than risk sending twice. Records of older versions are keyed
``"<date>|<recipients>"`` without a content hash: they are kept as they are, but never match a
new key, so after an upgrade a re-run of an already-sent date sends its digest once more. That
is deliberate: an old record cannot tell the real digest from the "no papers" mail, and
counting it as sent is exactly the bug that kept a date's real digest from ever being sent.

:func:`send_once` is the older, lower-level call: idempotent per caller-given key.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import smtplib
import ssl
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import getaddresses
from pathlib import Path

from filelock import FileLock

from transforms.files import atomic_write, one_line
from transforms.hashing import sha256_parts

__all__ = [
    "ALREADY_SENT",
    "EMPTY_NOT_SENT",
    "NOT_CONFIGURED",
    "SENT",
    "Delivery",
    "MailError",
    "SmtpSettings",
    "content_hash",
    "deliver",
    "describe_deliveries",
    "ledger_key",
    "read_ledger",
    "send_once",
    "write_eml",
]

_TRUE = {"1", "true", "yes", "on"}


class MailError(RuntimeError):
    """Sending failed. The message is one line and never contains the SMTP password.

    ``deliveries``: what :func:`deliver` did before the failure (those sends are recorded)."""

    def __init__(self, message: str, deliveries: Sequence[Delivery] = ()) -> None:
        super().__init__(message)
        self.deliveries: tuple[Delivery, ...] = tuple(deliveries)


SENT = "sent"
ALREADY_SENT = "already sent"
NOT_CONFIGURED = "not configured"
EMPTY_NOT_SENT = "empty day: not sent"


@dataclass(frozen=True)
class Delivery:
    """What happened to one digest e-mail in one run."""

    name: str  # the .eml file name, e.g. "2026-12-01.eml"
    recipients: tuple[str, ...]
    outcome: str  # SENT | ALREADY_SENT | NOT_CONFIGURED | EMPTY_NOT_SENT
    refused: tuple[str, ...] = ()  # recipients the server refused (the others got it)
    empty: bool = False  # the "no papers" mail of an empty day

    def describe(self) -> str:
        """``"sent to 2"``, ``"already sent"``, ``"not configured (outbox only)"``, ..."""
        if self.outcome == SENT:
            text = f"sent to {len(self.recipients) - len(self.refused)}"
            if self.refused:
                text += f" ({len(self.refused)} refused: {', '.join(self.refused)})"
            return text + (" (empty day)" if self.empty else "")
        if self.outcome == NOT_CONFIGURED:
            return "not configured (outbox only)"
        if self.outcome == EMPTY_NOT_SENT:
            return f"{EMPTY_NOT_SENT} (set PAPERTRENDS_SEND_EMPTY=1 to send it)"
        return self.outcome


@dataclass(frozen=True)
class SmtpSettings:
    """How to reach the SMTP server and whom to send digests to."""

    host: str
    port: int = 25
    user: str | None = None
    password: str | None = None
    starttls: bool = False
    sender: str = "papertrends@localhost"
    recipients: tuple[str, ...] = ()
    timeout: float = 30.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "recipients", tuple(self.recipients))

    def __repr__(self) -> str:
        pw = "'***'" if self.password else "None"
        return (
            f"SmtpSettings(host={self.host!r}, port={self.port!r}, user={self.user!r}, "
            f"password={pw}, starttls={self.starttls!r}, sender={self.sender!r}, "
            f"recipients={self.recipients!r}, timeout={self.timeout!r})"
        )

    __str__ = __repr__

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> SmtpSettings | None:
        """Settings from ``PAPERTRENDS_SMTP_*`` / ``PAPERTRENDS_DIGEST_*``; ``None`` when the
        host or the recipients are missing. A non-numeric port raises ``ValueError``."""

        def get(name: str) -> str:
            return (environ.get(name) or "").strip()

        host = get("PAPERTRENDS_SMTP_HOST")
        recipients = tuple(r.strip() for r in get("PAPERTRENDS_DIGEST_TO").split(",") if r.strip())
        if not host or not recipients:
            return None
        starttls = get("PAPERTRENDS_SMTP_STARTTLS").lower() in _TRUE
        raw_port = get("PAPERTRENDS_SMTP_PORT")
        if raw_port:
            try:
                port = int(raw_port)
            except ValueError:
                raise ValueError(
                    f"PAPERTRENDS_SMTP_PORT must be a number, got {raw_port!r}"
                ) from None
            if not 0 < port < 65536:
                raise ValueError(f"PAPERTRENDS_SMTP_PORT out of range: {port}")
        else:
            port = 587 if starttls else 25
        return cls(
            host=host,
            port=port,
            user=get("PAPERTRENDS_SMTP_USER") or None,
            password=environ.get("PAPERTRENDS_SMTP_PASSWORD") or None,
            starttls=starttls,
            sender=get("PAPERTRENDS_DIGEST_FROM") or "papertrends@localhost",
            recipients=recipients,
        )


NOT_CONFIGURED_HINT = "set PAPERTRENDS_SMTP_HOST and PAPERTRENDS_DIGEST_TO"


def describe_deliveries(deliveries: Sequence[Delivery]) -> str:
    """One line for a run's e-mail: ``"sent to 2"``, ``"already sent"``, ``"not configured
    (outbox only; set ...)"``; several mails with different outcomes are listed by name
    (``"2026-12-01.eml sent to 2; 2026-12-01--llm.eml already sent"``)."""
    if not deliveries:
        return "no e-mail"
    if all(d.outcome == NOT_CONFIGURED for d in deliveries):
        return f"not configured (outbox only; {NOT_CONFIGURED_HINT})"
    texts = [d.describe() for d in deliveries]
    if len(set(texts)) == 1:
        return texts[0] + (f" ({len(texts)} e-mails)" if len(texts) > 1 else "")
    return "; ".join(f"{d.name} {text}" for d, text in zip(deliveries, texts, strict=True))


def ledger_key(
    listing_date: dt.date | str, recipients: Iterable[str], content: str | None = None
) -> str:
    """``"2026-11-28|a@x.org,b@y.org"``: date plus the sorted, lower-cased recipient set, and
    ``"|<content>"`` when a :func:`content_hash` is given (the key :func:`deliver` uses)."""
    day = listing_date.isoformat() if isinstance(listing_date, dt.date) else str(listing_date)
    rcpts = sorted({r.strip().lower() for r in recipients if r.strip()})
    key = f"{day}|{','.join(rcpts)}"
    return f"{key}|{content}" if content else key


def content_hash(message: EmailMessage) -> str:
    """``"sha256:<24 hex>"`` of what a reader sees: the Subject and every leaf part (content
    type, file name, decoded body). Headers that change between runs (Date, Message-ID) are
    left out, and ``Content-ID`` values are replaced by the part's position (in the ``cid:``
    references of the text parts too), so freshly generated ids do not change the hash."""
    leaves = [part for part in message.walk() if not part.is_multipart()]
    cids: dict[str, str] = {}
    for i, part in enumerate(leaves):
        cid = str(part.get("Content-ID", "")).strip().strip("<>").strip()
        if cid:
            cids[cid] = f"part-{i}"
    chunks: list[str | bytes] = [" ".join(str(message.get("Subject", "")).split())]
    for part in leaves:
        body = part.get_payload(decode=True) or b""
        if part.get_content_maintype() == "text":
            text = body.decode(part.get_content_charset() or "utf-8", errors="replace")
            text = text.replace("\r\n", "\n")
            for cid, label in sorted(cids.items(), key=lambda kv: -len(kv[0])):
                text = text.replace(cid, label)
            body = text.encode()
        chunks += [part.get_content_type(), str(part.get_filename() or ""), body]
    return f"sha256:{sha256_parts(chunks)[:24]}"


def write_eml(message: EmailMessage, path: str | Path) -> Path:
    """Write the message as an ``.eml`` file atomically (:func:`transforms.files.atomic_write`)."""
    path = Path(path)
    atomic_write(path, message.as_bytes(), mode=0o600)  # addresses: private to the owner
    return path


def read_ledger(ledger_path: str | Path) -> dict[str, dict[str, object]]:
    """The ledger's records (key -> {sent_at, message_id, recipients, refused}); ``{}`` if the
    file does not exist. A corrupt ledger raises :class:`MailError` (better than re-sending)."""
    path = Path(ledger_path)
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise MailError(f"cannot read send ledger {path}: {exc}") from None
    try:
        doc = json.loads(raw) if raw.strip() else {}
        sent = doc.get("sent", {}) if isinstance(doc, dict) else None
        if not isinstance(sent, dict):
            raise ValueError("'sent' is not an object")
    except ValueError as exc:
        raise MailError(f"send ledger {path} is corrupt ({exc}); fix or remove it") from None
    return sent


def _locked(ledger: Path) -> FileLock:
    """The send ledger's exclusive lock, ``<ledger>.lock``: one sender at a time."""
    ledger.parent.mkdir(parents=True, exist_ok=True)
    return FileLock(ledger.with_name(ledger.name + ".lock"))


def _message_recipients(message: EmailMessage) -> tuple[str, ...]:
    """The addresses of the message's To, Cc and Bcc headers."""
    fields = [v for h in ("To", "Cc", "Bcc") for v in message.get_all(h, [])]
    return tuple(a for _, a in getaddresses([str(f) for f in fields]) if a)


def _envelope_recipients(message: EmailMessage, settings: SmtpSettings) -> list[str]:
    return list(_message_recipients(message)) or list(settings.recipients)


def _send(message: EmailMessage, settings: SmtpSettings, to_addrs: list[str]) -> dict:
    with smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout) as smtp:
        smtp.ehlo()
        if settings.starttls:
            smtp.starttls(context=ssl.create_default_context())
            smtp.ehlo()
        if settings.user:
            smtp.login(settings.user, settings.password or "")
        return smtp.send_message(message, from_addr=settings.sender, to_addrs=to_addrs)


def send_once(
    message: EmailMessage, settings: SmtpSettings, ledger_path: str | Path, key: str
) -> bool:
    """Send ``message`` unless ``key`` is already in the ledger; record it after success.

    Envelope recipients are the message's To/Cc/Bcc addresses (``settings.recipients`` if the
    message has none); the envelope sender is ``settings.sender``. Uses STARTTLS when
    ``settings.starttls`` and logs in when ``settings.user`` is set. Returns True if sent,
    False if skipped. Any failure raises :class:`MailError` (one line, no password); nothing is
    recorded then, so a retry sends again.
    """
    ledger = Path(ledger_path)
    with _locked(ledger):
        sent = read_ledger(ledger)
        if key in sent:
            return False
        _send_and_record(message, settings, ledger, sent, key)
    return True


def _send_and_record(
    message: EmailMessage,
    settings: SmtpSettings,
    ledger: Path,
    sent: dict[str, dict[str, object]],
    key: str,
    extra: Mapping[str, object] | None = None,
) -> tuple[list[str], list[str]]:
    """Send and add ``key`` to ``sent`` and the ledger file (the caller holds the lock).
    Returns (envelope recipients, refused recipients)."""
    to_addrs = _envelope_recipients(message, settings)
    if not to_addrs:
        raise MailError("no recipients for the digest e-mail")
    try:
        refused = _send(message, settings, to_addrs)
    except (smtplib.SMTPException, OSError, ssl.SSLError, ValueError) as exc:
        detail = one_line(f"{type(exc).__name__}: {exc}", secret=settings.password)
        raise MailError(
            f"sending digest via {settings.host}:{settings.port} failed: {detail}"
        ) from None
    sent[key] = {
        "sent_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "message_id": str(message.get("Message-ID", "")),
        "recipients": to_addrs,
        "refused": sorted(refused or {}),
        **(extra or {}),
    }
    try:
        atomic_write(ledger, json.dumps({"sent": sent}, indent=2, sort_keys=True), mode=0o600)
    except OSError as exc:
        raise MailError(
            f"digest was SENT but recording it in {ledger} failed ({exc}); "
            "a retry would send it again"
        ) from None
    return to_addrs, sorted(refused or {})


def deliver(
    mails: Sequence[tuple[str, EmailMessage]],
    smtp: SmtpSettings | None,
    ledger_path: str | Path,
    *,
    listing_date: dt.date,
    empty: bool,
    send_empty: bool,
) -> list[Delivery]:
    """Send one listing date's digest e-mails (``(eml name, message)`` pairs), each at most
    once per (date, recipients, :func:`content_hash`); one :class:`Delivery` per mail.

    ``smtp`` None: nothing is sent ("not configured"). ``empty`` (the day has no papers) and
    not ``send_empty``: nothing is sent and nothing recorded ("empty day: not sent"), so the
    real digest of that date goes out once it exists; with ``send_empty`` the empty mail is
    sent and recorded under its own content hash, which the real digest's never matches.
    A mail whose key is in the ledger is "already sent". The ledger is read and written under
    its lock for the whole call. A failure raises :class:`MailError` (one line, no password)
    carrying the deliveries done before it; the failed mail is not recorded, so a retry sends it.
    """
    if smtp is None:
        return [Delivery(name, _message_recipients(m), NOT_CONFIGURED) for name, m in mails]
    if empty and not send_empty:
        return [
            Delivery(name, _message_recipients(m), EMPTY_NOT_SENT, empty=True) for name, m in mails
        ]
    ledger = Path(ledger_path)
    done: list[Delivery] = []
    with _locked(ledger):
        sent = read_ledger(ledger)
        for name, message in mails:
            rcpts = tuple(_envelope_recipients(message, smtp))
            content = content_hash(message)
            key = ledger_key(listing_date, rcpts, content)
            if key in sent:
                done.append(Delivery(name, rcpts, ALREADY_SENT, empty=empty))
                continue
            extra = {"content": content, "eml": name, "empty": empty}
            try:
                to_addrs, refused = _send_and_record(message, smtp, ledger, sent, key, extra)
            except MailError as exc:
                raise MailError(f"{name}: {exc}", done) from None
            done.append(Delivery(name, tuple(to_addrs), SENT, tuple(refused), empty))
    return done
