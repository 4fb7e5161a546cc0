"""The digest's PNG charts: deterministic bytes, shares not counts, small files, safe names;
and the size budgets of a 200-paper day (HTML and e-mail with its images)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import email
import email.policy
import io
import re
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from tests.test_digest import DAY, rich_data
from transforms.charts import (
    OVERVIEW,
    SCALE,
    SPARK_SIZE,
    chart_map,
    chart_name,
    digest_charts,
    overview_png,
    sparkline_png,
    top_topics_png,
)
from transforms.digest import DigestData, build_message, render_html, render_text

GREEN = (0x1A, 0x7F, 0x37)


def png_chunks(data: bytes) -> list[str]:
    """The chunk types of a PNG file, in order (checks every CRC on the way)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, out = 8, []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert zlib.crc32(kind + body) == crc
        out.append(kind.decode())
        pos += 12 + length
    return out


def line_heights(png: bytes, color: tuple[int, int, int] = GREEN) -> list[float]:
    """How high (0 bottom .. 1 top) the line of ``color`` is drawn in each column that has
    it, left to right (mean row of its pixels in the column)."""
    rgb = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    h = rgb.shape[0]
    hit = np.abs(rgb - np.array(color)).sum(axis=2) < 30
    out = []
    for x in range(rgb.shape[1]):
        rows = np.nonzero(hit[:, x])[0]
        if len(rows):
            out.append(1 - rows.mean() / (h - 1))
    assert out, "no line drawn"
    return out


def test_sparkline_is_a_small_deterministic_png_without_metadata() -> None:
    shares = [0.1, 0.12, 0.11, 0.15, 0.2, 0.22]
    png = sparkline_png(shares)
    assert png == sparkline_png(list(shares))  # same data, same bytes
    assert png != sparkline_png([*shares[:-1], 0.05])
    assert png_chunks(png) == ["IHDR", "PLTE", "IDAT", "IEND"]  # no text, time or dpi
    image = Image.open(io.BytesIO(png))
    assert image.size == (SPARK_SIZE[0] * SCALE, SPARK_SIZE[1] * SCALE)
    assert len(png) < 2000
    # the line ends higher than it starts; an empty series is an empty frame
    heights = line_heights(png)
    assert heights[-1] > heights[0]
    assert png_chunks(sparkline_png([]))[-1] == "IEND"


def test_sparkline_scales_from_zero_to_its_peak() -> None:
    """17% to 22% is a modest rise, not a cliff: the axis starts at zero."""
    png = sparkline_png([0.17] * 14 + [0.22] * 14)
    heights = line_heights(png)
    low, high = heights[len(heights) // 4], heights[-len(heights) // 4]
    assert high > low
    assert low > 0.6  # 17/22 of the height, not the bottom


def test_overview_and_top_topics_charts_are_deterministic_and_small() -> None:
    series = [(f"topic {i}", [0.01 * i + 0.002 * d for d in range(28)]) for i in range(5)]
    png = overview_png(series)
    assert png == overview_png(series) and png_chunks(png) == ["IHDR", "PLTE", "IDAT", "IEND"]
    assert len(png) < 20_000
    bars = top_topics_png([("Large Language Models", 0.2), ("Flow Matching", 0.115)])
    assert bars == top_topics_png([("Large Language Models", 0.2), ("Flow Matching", 0.115)])
    assert len(bars) < 12_000
    # identical in a fresh interpreter too (no state carried between charts)
    import subprocess
    import sys

    code = (
        "import sys; from transforms.charts import sparkline_png;"
        "sys.stdout.buffer.write(sparkline_png([0.1, 0.12, 0.11, 0.15, 0.2, 0.22]))"
    )
    fresh = subprocess.run([sys.executable, "-c", code], capture_output=True, check=True).stdout
    assert fresh == sparkline_png([0.1, 0.12, 0.11, 0.15, 0.2, 0.22])


def test_hostile_labels_are_drawn_as_plain_text() -> None:
    """A topic label is untrusted: dollar signs must not start matplotlib mathtext (an
    unbalanced one would raise), control characters are dropped, long labels cut."""
    hostile = [
        ("$\\frac{1}{0}$ and $unbalanced", [0.1, 0.2]),
        ("\x1b[31m<script>alert(1)</script>" + "x" * 200, [0.2, 0.1]),
    ]
    assert overview_png(hostile)
    assert top_topics_png([(label, 0.3) for label, _ in hostile])


def test_chart_names_are_safe_and_distinct() -> None:
    assert re.fullmatch(r"flow-matching-[0-9a-f]{6}\.png", chart_name("flow matching"))
    assert chart_name("flow matching") != chart_name("flow-matching")
    for key in ("../../etc/passwd", "a/b", "", "日本語", "x" * 300, "overview"):
        name = chart_name(key)
        assert re.fullmatch(r"[a-z0-9-]{1,40}-[0-9a-f]{6}\.png", name), name
        assert name != f"{OVERVIEW}.png"


def test_digest_charts_of_a_labelled_day() -> None:
    data = rich_data(60)
    charts = digest_charts(data)
    shown = {t.key for t in data.rising[:5] + data.new[:5] + data.bursting[:5]}
    assert set(charts) == shown | {OVERVIEW}
    assert all(charts[k].name == chart_name(k) for k in shown)
    assert charts[OVERVIEW].name == "overview.png"
    flow = charts["flow matching"]
    assert (flow.width, flow.height) == SPARK_SIZE and flow.src == f"charts/{flow.name}"
    assert "share of papers, last 28 listing days: 2.0% then 6.0%" in flow.alt
    assert chart_map(charts) == {c.name: c.png for c in charts.values()}
    # same data: the same bytes, chart by chart
    again = digest_charts(rich_data(60))
    assert {k: c.png for k, c in again.items()} == {k: c.png for k, c in charts.items()}


def test_digest_charts_of_a_cold_start_and_an_empty_day() -> None:
    cold = digest_charts(rich_data(30, cold_start=True))
    assert list(cold) == [OVERVIEW]
    assert cold[OVERVIEW].alt.startswith(
        "Top topics today, share of the day's papers: Flow Matching"
    )
    assert digest_charts(DigestData(DAY, empty_reason="no listing")) == {}


# ------------------------------------------------------------------------------ sizes

HTML_BUDGET, EML_BUDGET = 100_000, 150_000


def _no_pages(data: DigestData) -> DigestData:
    """The bundled sample's case: pasted titles without an id, so no paper page."""
    papers = [
        dataclasses.replace(p, url=None, paper_id=f"h{p.rank}", source="hf_page")
        for p in data.papers
    ]
    return dataclasses.replace(data, papers=papers)


@pytest.mark.parametrize(
    "kind", ["labelled", "labelled with upvotes", "cold start", "cold start without pages"]
)
def test_a_200_paper_day_fits_a_mailbox(kind: str) -> None:
    data = {
        "labelled": lambda: rich_data(200),
        "labelled with upvotes": lambda: rich_data(200, upvotes=True),
        "cold start": lambda: rich_data(200, cold_start=True),
        "cold start without pages": lambda: _no_pages(rich_data(200, cold_start=True)),
    }[kind]()
    assert len(data.papers) == 200
    charts = digest_charts(data)
    html = render_html(data, charts)
    msg = build_message(
        data,
        html,
        render_text(data),
        "papertrends@localhost",
        ["alice@example.org"],
        date=dt.datetime(2026, 11, 28, 7, tzinfo=dt.UTC),
        charts=chart_map(charts),
    )
    raw = msg.as_bytes()
    assert len(html.encode()) <= HTML_BUDGET, len(html.encode())
    assert len(raw) <= EML_BUDGET, len(raw)
    # ... with every chart inside it, and every paper
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    images = [p for p in parsed.walk() if p.get_content_type() == "image/png"]
    assert len(images) == len(charts) >= 1
    assert sum(len(p.get_content()) for p in images) == sum(len(c.png) for c in charts.values())
    body = parsed.get_body(("html",)).get_content()
    assert all(f'id="p-{p.rank}"' in body for p in data.papers)
    for c in charts.values():
        assert len(c.png) <= (20_000 if c.name == "overview.png" else 2_000), c.name
