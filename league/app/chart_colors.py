"""Colours of the report's charts: a colour per player (a hue per learner, its snapshots in
shades of it, reference bots in neutral tones), the heat map's score scale, and the HTML
legend that names the colours. Colours are given to the charts by the caller, so a player
keeps its colour in every chart.

Example:
    >>> colors = player_colors([("iql", "learner", None), ("iql-001", "snapshot", "iql")])
    >>> legend([(name, colors[name]) for name in colors]).count('class="key"')
    2
"""

from __future__ import annotations

import colorsys
import math
from typing import Sequence

import numpy as np

from league.app.chart_svg import esc

# distinct hues for learners (tab10 without its grey), then neutral tones for reference bots
LEARNER_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#e377c2", "#8c564b", "#bcbd22")
BASELINE_COLORS = ("#4d4d4d", "#a0522d", "#808000", "#708090", "#b8860b", "#2f4f4f")


def _shade(color: str, k: int, n: int) -> str:
    """The k-th of n shades of `color`, all lighter than it (so a learner stands out from its
    snapshots), from the lightest (the first) to the darkest (the latest).

    Example:
        >>> _shade("#1f77b4", 0, 3), _shade("#1f77b4", 2, 3)
        ('#8cc4eb', '#2690da')
    """
    r, g, b = (int(color[i:i + 2], 16) / 255 for i in (1, 3, 5))
    h, lightness, s = colorsys.rgb_to_hls(r, g, b)
    t = k / max(n - 1, 1)
    lightness += (1 - lightness) * (0.55 - 0.40 * t)
    rgb = colorsys.hls_to_rgb(h, lightness, s)
    return "#" + "".join(f"{round(c * 255):02x}" for c in rgb)


def player_colors(players: Sequence[tuple[str, str, str | None]]) -> dict[str, str]:
    """A colour per player from (name, kind, parent): a hue per learner (or team), its snapshots in
    shades of that hue from light (first) to dark (latest), reference bots in neutral tones.

    Example:
        >>> colors = player_colors([("iql", "learner", None), ("random", "baseline", None),
        ...                         ("iql-001", "snapshot", "iql"), ("iql-002", "snapshot", "iql")])
        >>> colors["iql"], colors["random"], colors["iql-001"] != colors["iql-002"]
        ('#1f77b4', '#4d4d4d', True)
    """
    out: dict[str, str] = {}
    hues = [name for name, kind, parent in players if kind in ("learner", "team") and parent is None]
    for k, name in enumerate(hues):
        out[name] = LEARNER_COLORS[k % len(LEARNER_COLORS)]
    families: dict[str, list[str]] = {}
    for name, kind, parent in players:
        if name in out:
            continue
        if parent is not None and parent in out:
            families.setdefault(parent, []).append(name)
    for parent, children in families.items():
        for k, name in enumerate(children):
            out[name] = _shade(out[parent], k, len(children))
    rest = [name for name, _, _ in players if name not in out]
    for k, name in enumerate(rest):
        out[name] = BASELINE_COLORS[k % len(BASELINE_COLORS)]
    return out


def legend(entries: Sequence[tuple[str, str]], *, dashed: Sequence[str] = ()) -> str:
    """An HTML legend: a colour swatch and a name per entry, wrapping to the figure's width."""
    items = "".join(f'<span class="key"><span class="swatch{" dashed" if name in dashed else ""}" '
                    f'style="background:{color};border-color:{color}"></span>{esc(name)}</span>'
                    for name, color in entries)
    return f'<div class="legend">{items}</div>'


def heat_color(score: float) -> str:
    """Red (0) through near-white (0.5) to blue (1); grey where the pair never met.

    Example:
        >>> heat_color(0.0), heat_color(0.5), heat_color(1.0), heat_color(float("nan"))
        ('#d73027', '#f7f7f7', '#4575b4', '#e0e0e0')
    """
    if not math.isfinite(score):
        return "#e0e0e0"
    a, mid, b = np.array([215, 48, 39]), np.array([247, 247, 247]), np.array([69, 117, 180])
    rgb = a + (mid - a) * (score / 0.5) if score <= 0.5 else mid + (b - mid) * ((score - 0.5) / 0.5)
    return "#" + "".join(f"{int(round(c)):02x}" for c in rgb)
