"""Inline SVG charts for the HTML report, one function per kind of chart: lines (with bands or
error bars), the payoff heat map, bars, intervals (a forest plot) and dumbbells. No plotting
library, no script, no network.

Every chart scales to the width of its container (a viewBox, `width="100%"`) and is well-formed
XML. The primitives they share are in league/app/chart_svg.py, their colours (given by the
caller, so a player keeps its colour in every chart) in league/app/chart_colors.py.

Example:
    >>> svg = line_chart([Series("a", [0, 1, 2], [0.1, 0.5, 0.4], color="#1f77b4")], title="t",
    ...                  x_label="step", y_label="score")
    >>> svg.startswith("<svg") and svg.count("<polyline") == 1
    True
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from league.app.chart_colors import heat_color
from league.app.chart_svg import esc, nice_ticks, svg_frame, thin, tick_labels


@dataclass(frozen=True)
class Series:
    """One line of a chart: a band [lo, hi] under it, or error bars when drawn as points."""

    label: str
    xs: Sequence[float]
    ys: Sequence[float]
    lo: Sequence[float] | None = None
    hi: Sequence[float] | None = None
    color: str = "#1f77b4"
    width: float = 2.0
    opacity: float = 1.0  # of the line
    band: float = 0.18  # opacity of the band
    dashed: bool = False
    points: bool = False  # markers with error bars [lo, hi] instead of a line and a band


def line_chart(series: Sequence[Series], *, title: str, x_label: str, y_label: str, width: int = 720,
               height: int = 300, y_range: tuple[float, float] | None = None, x_from: float | None = None) -> str:
    """Lines (with shaded bands) or points (with error bars) on shared axes, as an inline <svg>.

    `y_range` fixes the vertical axis; `x_from` starts the horizontal one there (0 for training steps).
    """
    left, right, top, bottom = 62, 14, 12, 42
    values_x = [x for s in series for x in s.xs]
    values_y = [y for s in series for part in (s.ys, s.lo or (), s.hi or ()) for y in part if math.isfinite(y)]
    x0, x1 = (min(values_x), max(values_x)) if values_x else (0.0, 1.0)
    if x_from is not None:
        x0 = min(x0, x_from)
    if y_range is not None:
        y0, y1 = y_range
    else:
        y0, y1 = (min(values_y), max(values_y)) if values_y else (0.0, 1.0)
        pad = 0.05 * (y1 - y0)
        y0, y1 = y0 - pad, y1 + pad
    if x1 <= x0:
        x0, x1 = x0 - 1, x1 + 1
    if y1 <= y0:
        y0, y1 = y0 - 1, y1 + 1
    w, h = width - left - right, height - top - bottom

    def px(x: float) -> float:
        return left + (x - x0) / (x1 - x0) * w

    def py(y: float) -> float:
        return top + (1 - (y - y0) / (y1 - y0)) * h

    parts = svg_frame(title, width, height)
    y_ticks = nice_ticks(y0, y1)
    for t, text in zip(y_ticks, tick_labels(y_ticks)):
        parts.append(f'<line x1="{left}" x2="{left + w}" y1="{py(t):.1f}" y2="{py(t):.1f}" class="grid"/>'
                     f'<text x="{left - 6}" y="{py(t) + 4:.1f}" text-anchor="end">{esc(text)}</text>')
    x_ticks = nice_ticks(x0, x1, 6)
    for t, text in zip(x_ticks, tick_labels(x_ticks)):
        parts.append(f'<line x1="{px(t):.1f}" x2="{px(t):.1f}" y1="{top}" y2="{top + h}" class="grid"/>'
                     f'<text x="{px(t):.1f}" y="{top + h + 16}" text-anchor="middle">{esc(text)}</text>')
    parts.append(f'<rect x="{left}" y="{top}" width="{w}" height="{h}" class="frame"/>'
                 f'<text x="{left + w / 2:.1f}" y="{height - 6}" text-anchor="middle" class="axis">{esc(x_label)}</text>'
                 f'<text x="14" y="{top + h / 2:.1f}" text-anchor="middle" class="axis" '
                 f'transform="rotate(-90 14 {top + h / 2:.1f})">{esc(y_label)}</text>')
    for s in series:
        keep = thin(len(s.xs))
        xs, ys = np.asarray(s.xs, float)[keep], np.asarray(s.ys, float)[keep]
        has_band = s.lo is not None and s.hi is not None and len(xs)
        lo = np.asarray(s.lo, float)[keep] if has_band else None
        hi = np.asarray(s.hi, float)[keep] if has_band else None
        if s.points:
            for k, (x, y) in enumerate(zip(xs, ys)):
                if not math.isfinite(y):
                    continue
                if lo is not None and hi is not None:
                    parts.append(f'<line x1="{px(x):.1f}" x2="{px(x):.1f}" y1="{py(lo[k]):.1f}" y2="{py(hi[k]):.1f}" '
                                 f'stroke="{s.color}" stroke-width="1.5" stroke-opacity="{0.6 * s.opacity:.2f}"/>')
                parts.append(f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3.2" fill="{s.color}" '
                             f'fill-opacity="{s.opacity:.2f}"><title>{esc(s.label)}: {y:.3f}</title></circle>')
            points = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in zip(xs, ys) if math.isfinite(y))
            parts.append(f'<polyline points="{points}" fill="none" stroke="{s.color}" stroke-width="1" '
                         f'stroke-opacity="{0.5 * s.opacity:.2f}"/>')
            continue
        if lo is not None and hi is not None:
            ring = [(px(x), py(y)) for x, y in zip(xs, hi)] + [(px(x), py(y)) for x, y in zip(xs[::-1], lo[::-1])]
            parts.append(f'<polygon points="{" ".join(f"{a:.1f},{b:.1f}" for a, b in ring)}" fill="{s.color}" '
                         f'fill-opacity="{s.band:.2f}" stroke="none"/>')
        points = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in zip(xs, ys) if math.isfinite(y))
        if len(xs) == 1:
            parts.append(f'<circle cx="{px(xs[0]):.1f}" cy="{py(ys[0]):.1f}" r="3" fill="{s.color}"/>')
        dash = ' stroke-dasharray="5 3"' if s.dashed else ""
        parts.append(f'<polyline points="{points}" fill="none" stroke="{s.color}" stroke-width="{s.width}" '
                     f'stroke-opacity="{s.opacity:.2f}" stroke-linejoin="round"{dash}><title>{esc(s.label)}</title>'
                     f'</polyline>')
    parts.append("</svg>")
    return "".join(parts)


def heat_map(names: Sequence[str], score: np.ndarray, games: np.ndarray, *, title: str,
             colors: Mapping[str, str] | None = None) -> str:
    """Row-vs-column scores: a numbered row label per player, numbers on the columns, the score in
    percent in every cell, a tooltip per cell and a colour legend beside it. Readable at 50 players."""
    n = len(names)
    cell = max(18, min(44, 980 // max(n, 1)))
    label_w = min(260, 52 + 7 * max((len(x) for x in names), default=4))
    top, legend_w = 30, 110
    width = label_w + n * cell + 24 + legend_w
    height = top + n * cell + 12
    font = 9 if cell < 24 else 11 if cell < 34 else 12
    parts = svg_frame(title, width, max(height, 240))
    for j in range(n):  # column numbers
        x = label_w + j * cell + cell / 2
        parts.append(f'<text x="{x:.1f}" y="{top - 8}" text-anchor="middle" font-size="{font}">{j + 1}</text>')
    for i, name in enumerate(names):
        y = top + i * cell
        swatch = colors.get(name, "#999") if colors else "#999"
        parts.append(f'<rect x="4" y="{y + cell / 2 - 5:.1f}" width="10" height="10" fill="{swatch}"/>'
                     f'<text x="20" y="{y + cell / 2 + 4:.1f}" font-size="{min(font + 1, 12)}">{i + 1}</text>'
                     f'<text x="{label_w - 6}" y="{y + cell / 2 + 4:.1f}" text-anchor="end" '
                     f'font-size="{min(font + 1, 12)}">{esc(name[:28])}</text>')
        for j in range(n):
            s = float(score[i, j])
            if i == j:
                parts.append(f'<rect x="{label_w + j * cell}" y="{y}" width="{cell}" height="{cell}" fill="#ffffff" '
                             f'stroke="#eeeeee"/>')
                continue
            tip = f"{names[i]} vs {names[j]}: " + (
                f"{s:.3f} over {int(games[i, j])} games" if math.isfinite(s) else "never met")
            parts.append(f'<rect x="{label_w + j * cell}" y="{y}" width="{cell}" height="{cell}" fill="{heat_color(s)}" '
                         f'stroke="#ffffff"><title>{esc(tip)}</title></rect>')
            if math.isfinite(s):
                ink = "#ffffff" if abs(s - 0.5) > 0.33 else "#222222"
                parts.append(f'<text x="{label_w + j * cell + cell / 2:.1f}" y="{y + cell / 2 + font / 2 - 1:.1f}" '
                             f'text-anchor="middle" font-size="{font}" fill="{ink}">{round(100 * s)}</text>')
    # the legend: a vertical gradient from 100 (blue, top) to 0 (red, bottom)
    lx, ly, lh = label_w + n * cell + 24, top, min(200, max(120, n * cell))
    steps = 20
    for k in range(steps):
        value = 1 - (k + 0.5) / steps
        parts.append(f'<rect x="{lx}" y="{ly + k * lh / steps:.1f}" width="16" height="{lh / steps + 0.5:.1f}" '
                     f'fill="{heat_color(value)}"/>')
    for value in (1.0, 0.75, 0.5, 0.25, 0.0):
        y = ly + (1 - value) * lh
        parts.append(f'<text x="{lx + 22}" y="{y + 4:.1f}">{round(100 * value)}%</text>')
    parts.append(f'<rect x="{lx}" y="{ly + lh + 14}" width="16" height="12" fill="{heat_color(math.nan)}"/>'
                 f'<text x="{lx + 22}" y="{ly + lh + 24}">never met</text>'
                 f'<text x="{lx}" y="{ly - 10}">row\'s score</text>')
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(names: Sequence[str], values: Sequence[float], *, title: str, colors: Mapping[str, str]) -> str:
    """Horizontal bars of values in [0, 1] (a mixture's weights), each labelled with its value."""
    label_w = min(220, 16 + 7 * max((len(x) for x in names), default=4))
    bar_w, row = 460, 22
    width, height = label_w + bar_w + 70, 10 + row * len(names)
    parts = svg_frame(title, width, height)
    for k, (name, value) in enumerate(zip(names, values)):
        y = 5 + k * row
        parts.append(f'<text x="{label_w - 6}" y="{y + 15}" text-anchor="end">{esc(name[:28])}</text>'
                     f'<rect x="{label_w}" y="{y + 3}" width="{max(value, 0.0) * bar_w:.1f}" height="{row - 6}" '
                     f'fill="{colors.get(name, "#888")}"/>'
                     f'<text x="{label_w + max(value, 0.0) * bar_w + 6:.1f}" y="{y + 15}">{value:.3f}</text>')
    parts.append("</svg>")
    return "".join(parts)


@dataclass(frozen=True)
class Interval:
    """A value with a lower and upper bound, drawn as a dot on a whisker."""

    name: str
    value: float
    lo: float
    hi: float
    color: str = "#1f77b4"
    note: str = ""  # written at the right end of the row


def interval_chart(rows: Sequence[Interval], *, title: str, x_label: str, reference: float | None = None) -> str:
    """One row per entry: the value as a dot with its interval as a whisker (a forest plot)."""
    label_w = min(220, 16 + 7 * max((len(r.name) for r in rows), default=4))
    plot_w, row, note_w, top = 460, 22, 190, 8
    width, height = label_w + plot_w + note_w, top + row * len(rows) + 40
    finite = [v for r in rows for v in (r.lo, r.hi, r.value) if math.isfinite(v)]
    x0, x1 = (min(finite), max(finite)) if finite else (0.0, 1.0)
    if reference is not None:
        x0, x1 = min(x0, reference), max(x1, reference)
    pad = 0.05 * (x1 - x0 or 1.0)
    x0, x1 = x0 - pad, x1 + pad

    def px(x: float) -> float:
        return label_w + (min(max(x, x0), x1) - x0) / (x1 - x0) * plot_w

    parts = svg_frame(title, width, height)
    bottom = top + row * len(rows)
    ticks = nice_ticks(x0, x1, 6)
    for t, text in zip(ticks, tick_labels(ticks)):
        parts.append(f'<line x1="{px(t):.1f}" x2="{px(t):.1f}" y1="{top}" y2="{bottom}" class="grid"/>'
                     f'<text x="{px(t):.1f}" y="{bottom + 16}" text-anchor="middle">{esc(text)}</text>')
    if reference is not None:
        parts.append(f'<line x1="{px(reference):.1f}" x2="{px(reference):.1f}" y1="{top}" y2="{bottom}" '
                     f'stroke="#888" stroke-dasharray="4 3"/>')
    for k, r in enumerate(rows):
        y = top + k * row + row / 2
        parts.append(f'<text x="{label_w - 8}" y="{y + 4:.1f}" text-anchor="end">{esc(r.name[:28])}</text>')
        if math.isfinite(r.lo) and math.isfinite(r.hi):
            parts.append(f'<line x1="{px(r.lo):.1f}" x2="{px(r.hi):.1f}" y1="{y:.1f}" y2="{y:.1f}" stroke="{r.color}" '
                         f'stroke-width="2.5"/>')
        if math.isfinite(r.value):
            parts.append(f'<circle cx="{px(r.value):.1f}" cy="{y:.1f}" r="4.5" fill="{r.color}"/>')
        if r.note:
            parts.append(f'<text x="{label_w + plot_w + 10}" y="{y + 4:.1f}">{esc(r.note)}</text>')
    parts.append(f'<text x="{label_w + plot_w / 2:.1f}" y="{height - 6}" text-anchor="middle" class="axis">'
                 f'{esc(x_label)}</text></svg>')
    return "".join(parts)


def dumbbell_chart(rows: Sequence[tuple[str, float | None, float | None, str]], *, title: str,
                   labels: tuple[str, str] = ("first", "second")) -> str:
    """Two scores in [0, 1] per player on one line: a filled dot for the first, a ring for the second."""
    label_w = min(220, 16 + 7 * max((len(r[0]) for r in rows), default=4))
    plot_w, row, top = 460, 22, 28
    width, height = label_w + plot_w + 150, top + row * len(rows) + 36

    def px(x: float) -> float:
        return label_w + x * plot_w

    parts = svg_frame(title, width, height)
    bottom = top + row * len(rows)
    for t in (0.0, 0.25, 0.5, 0.75, 1.0):
        parts.append(f'<line x1="{px(t):.1f}" x2="{px(t):.1f}" y1="{top}" y2="{bottom}" class="grid"/>'
                     f'<text x="{px(t):.1f}" y="{bottom + 16}" text-anchor="middle">{round(100 * t)}%</text>')
    parts.append(f'<circle cx="{label_w + 6}" cy="{top - 14}" r="4.5" fill="#444"/>'
                 f'<text x="{label_w + 14}" y="{top - 10}">as {esc(labels[0])}</text>'
                 f'<circle cx="{label_w + 126}" cy="{top - 14}" r="4.5" fill="#fff" stroke="#444" stroke-width="2"/>'
                 f'<text x="{label_w + 134}" y="{top - 10}">as {esc(labels[1])}</text>')
    for k, (name, first, second, color) in enumerate(rows):
        y = top + k * row + row / 2
        parts.append(f'<text x="{label_w - 8}" y="{y + 4:.1f}" text-anchor="end">{esc(name[:28])}</text>')
        if first is not None and second is not None:
            parts.append(f'<line x1="{px(first):.1f}" x2="{px(second):.1f}" y1="{y:.1f}" y2="{y:.1f}" '
                         f'stroke="{color}" stroke-width="2" stroke-opacity="0.5"/>')
        if first is not None:
            parts.append(f'<circle cx="{px(first):.1f}" cy="{y:.1f}" r="4.5" fill="{color}"/>')
        if second is not None:
            parts.append(f'<circle cx="{px(second):.1f}" cy="{y:.1f}" r="4.5" fill="#ffffff" stroke="{color}" '
                         f'stroke-width="2"/>')
        shown = " / ".join("-" if v is None else f"{round(100 * v)}%" for v in (first, second))
        parts.append(f'<text x="{label_w + plot_w + 12}" y="{y + 4:.1f}">{shown}</text>')
    parts.append("</svg>")
    return "".join(parts)
