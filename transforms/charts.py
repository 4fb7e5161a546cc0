"""The digest's charts as small, deterministic PNG files (matplotlib, Agg).

Two kinds, both plotting *shares* (papers carrying a topic / papers listed that day), never raw
counts, so a short listing day does not make every line slope down:

* a sparkline per trend topic (:func:`sparkline_png`): 28 listing days, 120×28 CSS pixels
  drawn at twice that for sharp screens, a few hundred bytes;
* one overview chart (:func:`overview_png`): the shares of the top trend topics on a shared
  percent axis; on a cold start (:func:`top_topics_png`) the day's top topics as bars.

:func:`digest_charts` makes every chart a digest shows, keyed by topic key (and
:data:`OVERVIEW`). Identical data gives identical bytes: fixed size and DPI, fixed style (no
``matplotlibrc`` is read), no metadata chunks (no software name, no timestamp), a fixed
palette quantisation. Nothing here touches pyplot or global state; labels are untrusted text
and are drawn as plain text (no mathtext).
"""

from __future__ import annotations

import hashlib
import io
import re
import textwrap
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from transforms.digest import DigestData, TrendRow, chart_topics

__all__ = [
    "OVERVIEW",
    "Chart",
    "bars_size",
    "chart_map",
    "chart_name",
    "digest_charts",
    "overview_png",
    "sparkline_png",
    "top_topics_png",
]

#: Key of the overview chart in :func:`digest_charts` (no topic slug can equal it).
OVERVIEW = "overview"
SCALE = 2  # device pixels per CSS pixel
DPI = 100
SPARK_SIZE = (120, 28)  # CSS pixels
OVERVIEW_SIZE = (560, 200)
PALETTE = ("#1a7f37", "#0969da", "#bc4c00", "#8250df", "#bf3989", "#1b7c83")
INK, MUTED, GRID = "#1f2328", "#656d76", "#d8dee4"

_STYLE = {
    # A fixed style: the user's matplotlibrc must not change the bytes.
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.linewidth": 0.6,
    "axes.edgecolor": GRID,
    "axes.labelcolor": MUTED,
    "xtick.color": MUTED,
    "ytick.color": MUTED,
    "text.color": INK,
    "text.usetex": False,
    "svg.hashsalt": "papertrends",
    "path.simplify": True,
    "figure.dpi": DPI,
    "savefig.dpi": DPI,
    "lines.antialiased": True,
}


@dataclass(frozen=True)
class Chart:
    """A chart image: its file name under ``charts/``, PNG bytes, CSS size and alt text."""

    name: str
    png: bytes
    width: int
    height: int
    alt: str

    @property
    def src(self) -> str:
        """The path the digest links it by (relative to the digest file)."""
        return f"charts/{self.name}"


def chart_name(key: str) -> str:
    """``"flow-matching-3f2a1c.png"``: an ASCII slug of the topic key plus a short hash (two
    keys never share a file; a hostile key never leaves the folder)."""
    folded = unicodedata.normalize("NFKD", key).encode("ascii", "ignore").decode().lower()
    slug = re.sub(r"[^a-z0-9]+", "-", folded).strip("-")[:40].strip("-") or "topic"
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:6]
    return f"{slug}-{digest}.png"


def _plain(text: str, limit: int = 38) -> str:
    """An untrusted label as matplotlib plain text: no mathtext, one line, cut."""
    text = " ".join("".join(c for c in text if c.isprintable()).split())
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text.replace("$", r"\$")


def _legend_label(text: str, width: int = 24) -> str:
    """A legend entry beside the overview: at most two lines of ``width`` characters
    (cut with an ellipsis beyond), so "natural language processing" is shown whole."""
    lines = textwrap.wrap(_plain(text, 2 * width), width, break_on_hyphens=False) or [""]
    if len(lines) > 2:
        lines = [lines[0], lines[1][: width - 1].rstrip() + "…"]
    return "\n".join(lines)


def _figure(size: tuple[int, int]) -> Figure:
    w, h = size
    return Figure(figsize=(w * SCALE / DPI, h * SCALE / DPI), dpi=DPI, facecolor="white")


def _rgb(color: str) -> tuple[int, int, int]:
    return tuple(int(color[i : i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]


def _palette(colors: Sequence[str], levels: int) -> np.ndarray:
    """A fixed palette (rows of RGB): each colour blended with white at ``levels`` steps
    (what antialiasing draws), white first."""
    entries: list[tuple[int, ...]] = [(255, 255, 255)]
    for color in colors:
        rgb = _rgb(color)
        for i in range(1, levels + 1):
            t = i / levels
            entry = tuple(round(255 + (c - 255) * t) for c in rgb)
            if entry not in entries:
                entries.append(entry)
    return np.array(entries[:256], dtype=np.int32)


def _png(fig: Figure, colors: Sequence[str], levels: int = 8) -> bytes:
    """The figure as an optimised palette PNG without metadata chunks: same data, same
    bytes (no software name, no timestamp, no DPI chunk). Each pixel takes the nearest
    entry of a fixed palette, so line colours stay exact and nothing depends on a
    quantiser's heuristics."""
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    rgb = np.asarray(canvas.buffer_rgba())[..., :3].astype(np.int32)
    palette = _palette(colors, levels)
    packed = (rgb[..., 0] << 16 | rgb[..., 1] << 8 | rgb[..., 2]).reshape(-1)
    used, inverse = np.unique(packed, return_inverse=True)
    colors_used = np.stack([used >> 16, (used >> 8) & 255, used & 255], axis=1)
    distance = ((colors_used[:, None, :] - palette[None, :, :]) ** 2).sum(axis=2)
    nearest = distance.argmin(axis=1).astype(np.uint8)
    index = nearest[inverse.reshape(-1)].reshape(rgb.shape[:2])
    image = Image.fromarray(index, "P")
    image.putpalette(palette.astype(np.uint8).flatten().tolist())
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True, bits=4 if len(palette) <= 16 else 8)
    return out.getvalue()


def _series(values: Sequence[float]) -> np.ndarray:
    return np.array([max(float(v or 0.0), 0.0) for v in values], dtype=float)


def sparkline_png(shares: Sequence[float], color: str = PALETTE[0]) -> bytes:
    """A sparkline of daily shares (0..1), oldest first: a line from zero to its own peak
    with a dot on the last day. An empty series draws an empty frame."""
    with matplotlib.rc_context(_STYLE):
        fig = _figure(SPARK_SIZE)
        ax = fig.add_axes((0.03, 0.12, 0.90, 0.76))
        ax.set_axis_off()
        ys = _series(shares)
        if len(ys):
            xs = np.arange(len(ys))
            top = float(ys.max()) or 1.0
            ax.fill_between(xs, ys, 0, color=color, alpha=0.12, linewidth=0)
            ax.plot(xs, ys, color=color, linewidth=1.4 * SCALE, solid_capstyle="round")
            ax.plot(xs[-1:], ys[-1:], "o", color=color, markersize=2.4 * SCALE)
            ax.set_xlim(-0.3, max(len(ys) - 1, 1) + 0.3)
            ax.set_ylim(0, top * 1.08)
        return _png(fig, [color], 15)


def _percent(ax, top: float) -> None:
    """Two or three round percent ticks from zero."""
    step = next(
        (s for s in (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5) if top / s <= 3),
        1.0,
    )
    ticks = np.arange(0, top + 1e-12, step)
    ax.set_yticks(ticks)
    ax.set_yticklabels([f"{100 * t:.1f}%" if step < 0.01 else f"{100 * t:.0f}%" for t in ticks])


def overview_png(series: Sequence[tuple[str, Sequence[float]]]) -> bytes:
    """Shares of a few topics (label, daily shares oldest first) on one percent axis."""
    with matplotlib.rc_context(_STYLE | {"font.size": 11 * SCALE}):
        fig = _figure(OVERVIEW_SIZE)
        ax = fig.add_axes((0.09, 0.14, 0.48, 0.80))
        top = 0.0
        for i, (label, values) in enumerate(series):
            ys = _series(values)
            if not len(ys):
                continue
            top = max(top, float(ys.max()))
            ax.plot(
                np.arange(len(ys)) - (len(ys) - 1),
                ys,
                color=PALETTE[i % len(PALETTE)],
                linewidth=1.6 * SCALE,
                label=_legend_label(label),
            )
        top = top * 1.1 or 0.01
        ax.set_ylim(0, top)
        _percent(ax, top)
        days = max((len(v) for _, v in series), default=1)
        ticks = sorted({0, *(-k for k in range(7, days, 7))})
        ax.set_xticks(ticks)
        ax.set_xticklabels(["today" if t == 0 else f"{-t}d ago" for t in ticks])
        ax.set_xlim(-(max(days - 1, 1)) - 0.3, 0.3)
        ax.grid(axis="y", color=GRID, linewidth=0.5 * SCALE)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        ax.tick_params(length=0, labelsize=9 * SCALE)
        if ax.get_lines():
            ax.legend(
                loc="center left",
                bbox_to_anchor=(1.02, 0.5),
                frameon=False,
                fontsize=9 * SCALE,
                handlelength=1.2,
            )
        return _png(fig, [*PALETTE[: len(series)], INK, MUTED, GRID])


def bars_size(n: int) -> tuple[int, int]:
    """CSS size of the top-topics chart with ``n`` bars."""
    return OVERVIEW_SIZE[0], 8 + 24 * max(n, 1)


def top_topics_png(topics: Sequence[tuple[str, float]]) -> bytes:
    """The day's top topics (label, share of the day) as horizontal bars, largest on top."""
    with matplotlib.rc_context(_STYLE | {"font.size": 11 * SCALE}):
        fig = _figure(bars_size(len(topics)))
        ax = fig.add_axes((0.40, 0.02, 0.52, 0.96))
        labels = [_plain(label, 30) for label, _ in topics]
        values = [max(float(v or 0.0), 0.0) for _, v in topics]
        ys = np.arange(len(values))[::-1]
        ax.barh(ys, values, color=PALETTE[1], height=0.7)
        ax.set_yticks(ys)
        ax.set_yticklabels(labels)
        top = (max(values) if values else 0.0) * 1.18 or 0.01
        ax.set_xlim(0, top)
        for y, v in zip(ys, values, strict=True):
            ax.text(v + top * 0.01, y, f"{100 * v:.0f}%", va="center", color=MUTED)
        ax.set_xticks([])
        for side in ("top", "right", "bottom"):
            ax.spines[side].set_visible(False)
        ax.tick_params(length=0)
        if not values:
            ax.set_yticks([])
        return _png(fig, [PALETTE[1], INK, MUTED, GRID])


def _share_text(values: Sequence[float]) -> str:
    if not values:
        return "no data"
    first, last, peak = values[0], values[-1], max(values)
    return f"{100 * first:.1f}% then {100 * last:.1f}% (peak {100 * peak:.1f}%)"


def digest_charts(data: DigestData, max_trends: int = 5) -> dict[str, Chart]:
    """Every chart a digest shows: one sparkline per trend topic shown (keyed by topic key),
    and :data:`OVERVIEW`: the top trend topics' shares, or the cold-start day's top topics.
    An empty day has no charts."""
    charts: dict[str, Chart] = {}
    if data.is_empty:
        return charts
    shown: list[TrendRow] = chart_topics(data, max_trends)
    for t in shown:
        if not t.sparkline:
            continue
        label = t.label or t.key
        days = len(t.sparkline)
        charts[t.key] = Chart(
            chart_name(t.key),
            sparkline_png(t.sparkline, PALETTE[0]),
            *SPARK_SIZE,
            f"{label}: share of papers, last {days} listing days: {_share_text(t.sparkline)}",
        )
    if data.cold_start:
        top = [(t.label or t.key, t.share) for t in data.top_topics[:8]]
        if top:
            alt = "Top topics today, share of the day's papers: " + ", ".join(
                f"{label} {100 * share:.0f}%" for label, share in top
            )
            png = top_topics_png(top)
            charts[OVERVIEW] = Chart(f"{OVERVIEW}.png", png, *bars_size(len(top)), alt)
    else:
        lines = [(t.label or t.key, t.sparkline) for t in shown if t.sparkline][:5]
        if lines:
            alt = f"Share of papers over the last {len(lines[0][1])} listing days: " + "; ".join(
                f"{label} {_share_text(v)}" for label, v in lines
            )
            charts[OVERVIEW] = Chart(f"{OVERVIEW}.png", overview_png(lines), *OVERVIEW_SIZE, alt)
    return charts


def chart_map(charts: Mapping[str, Chart]) -> dict[str, bytes]:
    """``{file name: PNG bytes}`` of some charts (what ``build_message`` embeds)."""
    return {c.name: c.png for c in charts.values()}
