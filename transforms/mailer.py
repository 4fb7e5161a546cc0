"""Delivering digests: SMTP settings from the environment, ``.eml`` files, send-once ledger.

Environment (all optional; no host or no recipients means "do not send"):

    PAPERTRENDS_SMTP_HOST       SMTP server host
    PAPERTRENDS_SMTP_PORT       port (default 25, or 587 with STARTTLS)
    PAPERTRENDS_SMTP_USER       login user (AUTH only when set)
    PAPERTRENDS_SMTP_PASSWORD   login password (never logged, never in errors or repr)
    PAPERTRENDS_SMTP_STARTTLS   1/true/yes/on to upgrade the connection with STARTTLS
    PAPERTRENDS_DIGEST_FROM     envelope and From address (default papertrends@localhost)
    PAPERTRENDS_DIGEST_TO       comma-separated recipients

:func:`send_once` is idempotent per key: the key (e.g. :func:`ledger_key` of the listing date
and recipients) is recorded in a small JSON ledger after a successful send, and a recorded key
is never sent again. A lock file next to the ledger serialises concurrent senders.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import smtplib
import ssl
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import getaddresses
from pathlib import Path

from transforms.files import atomic_write

__all__ = [
    "MailError",
    "SmtpSettings",
    "ledger_key",
    "read_ledger",
    "send_once",
    "write_eml",
]

_TRUE = {"1", "true", "yes", "on"}


class MailError(RuntimeError):
    """Sending failed. The message is one line and never contains the SMTP password."""


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


def ledger_key(listing_date: dt.date | str, recipients: Iterable[str]) -> str:
    """``"2026-11-28|a@x.org,b@y.org"``: date plus the sorted, lower-cased recipient set."""
    day = listing_date.isoformat() if isinstance(listing_date, dt.date) else str(listing_date)
    rcpts = sorted({r.strip().lower() for r in recipients if r.strip()})
    return f"{day}|{','.join(rcpts)}"


def write_eml(message: EmailMessage, path: str | Path) -> Path:
    """Write the message as an ``.eml`` file atomically (temp file + ``os.replace``)."""
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


@contextlib.contextmanager
def _locked(ledger: Path) -> Iterator[None]:
    """Exclusive lock on ``<ledger>.lock`` (POSIX); a no-op where fcntl is unavailable."""
    ledger.parent.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - non-POSIX
        yield
        return
    with open(ledger.with_name(ledger.name + ".lock"), "a") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _envelope_recipients(message: EmailMessage, settings: SmtpSettings) -> list[str]:
    fields = [v for h in ("To", "Cc", "Bcc") for v in message.get_all(h, [])]
    addrs = [a for _, a in getaddresses([str(f) for f in fields]) if a]
    return addrs or list(settings.recipients)


def _one_line(text: str, secret: str | None) -> str:
    text = " ".join(str(text).split())
    if secret:
        text = text.replace(secret, "***")
    return text


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
        to_addrs = _envelope_recipients(message, settings)
        if not to_addrs:
            raise MailError("no recipients for the digest e-mail")
        try:
            refused = _send(message, settings, to_addrs)
        except (smtplib.SMTPException, OSError, ssl.SSLError, ValueError) as exc:
            detail = _one_line(f"{type(exc).__name__}: {exc}", settings.password)
            raise MailError(
                f"sending digest via {settings.host}:{settings.port} failed: {detail}"
            ) from None
        sent[key] = {
            "sent_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
            "message_id": str(message.get("Message-ID", "")),
            "recipients": to_addrs,
            "refused": sorted(refused or {}),
        }
        try:
            atomic_write(ledger, json.dumps({"sent": sent}, indent=2, sort_keys=True), mode=0o600)
        except OSError as exc:
            raise MailError(
                f"digest was SENT but recording it in {ledger} failed ({exc}); "
                "a retry would send it again"
            ) from None
    return True
