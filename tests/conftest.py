"""Shared fixtures: a temporary papertrends home and listing files built from the sample."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from orchestration import env

SAMPLE = env.SAMPLE_LISTING


@pytest.fixture(scope="session", autouse=True)
def dbt_manifest() -> Path:
    """Tests load the Dagster definitions, which read dbt's manifest: parse once."""
    from orchestration.cli import ensure_dbt_manifest

    return ensure_dbt_manifest()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> env.Home:
    """An empty papertrends home; this process and its subprocesses point at it."""
    h = env.home(tmp_path / "home").ensure()
    monkeypatch.setenv("PAPERTRENDS_HOME", str(h.root))
    monkeypatch.setenv("DAGSTER_HOME", str(h.dagster_home))
    return h


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
