"""Shared fixtures: a temporary papertrends home and listing files built from the sample."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import click.testing
import pytest

from orchestration import env

SAMPLE = env.SAMPLE_LISTING


@pytest.fixture(scope="session", autouse=True)
def dbt_manifest() -> Path:
    """Tests load the Dagster definitions, which read dbt's manifest: parse it once when
    stale, before any test (the same preparer as every other entry point)."""
    from orchestration.dbt_project import prepare_manifest

    return prepare_manifest()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> env.Home:
    """An empty papertrends home; this process and its subprocesses point at it."""
    h = env.home(tmp_path / "home").ensure()
    monkeypatch.setenv("PAPERTRENDS_HOME", str(h.root))
    monkeypatch.setenv("DAGSTER_HOME", str(h.dagster_home))
    return h


def invoke(*args: str) -> click.testing.Result:
    """``papertrends ARGS`` in this process (click's ``CliRunner``): its exit code, stdout and
    stderr. An exception the CLI does not turn into a message is raised, not kept in the
    result."""
    from orchestration.cli import main

    # The commands point this process's environment at their home (for dbt and Dagster):
    # CliRunner restores the variables named in ``env`` afterwards.
    kept = {name: os.environ.get(name) for name in ("PAPERTRENDS_HOME", "DAGSTER_HOME")}
    return click.testing.CliRunner().invoke(main, list(args), env=kept, catch_exceptions=False)


def sample_cards() -> list[tuple[str, str]]:
    """The sample's (title, abstract) pairs, as the page lists them."""
    from transforms.listing import parse_listing_file

    result, _ = parse_listing_file(SAMPLE)
    return [(r.title, r.abstract) for r in result.records]


def write_listing(path: Path, cards: list[tuple[str, str]], header: bool = True) -> Path:
    """A listing file in the pasted-page format."""
    lines = []
    if header:
        lines += ["Get trending papers in your email inbox once a day!", "Subscribe"]
    for title, abstract in cards:
        lines += [title, abstract]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def land(home: env.Home, day: dt.date, name: str, cards: list[tuple[str, str]]) -> Path:
    return write_listing(home.landing / day.isoformat() / name, cards)


# ---------------------------------------------------------------------------- SMTP


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: email.message.EmailMessage


@dataclass
class Capture:
    """aiosmtpd handler keeping every delivered message (recipients @refused.example are
    refused with a 550)."""

    messages: list[Received] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope) -> str:
        msg = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), msg))
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        if address.endswith("@refused.example"):
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp() -> Iterator[tuple[Capture, int]]:
    """A real SMTP server (aiosmtpd) on 127.0.0.1, no AUTH: (its handler, its port)."""
    from aiosmtpd.controller import Controller

    handler = Capture()
    port = free_port()
    ctl = Controller(handler, hostname="127.0.0.1", port=port)
    ctl.start()
    try:
        yield handler, port
    finally:
        ctl.stop()
