"""SVG primitives every chart of the report shares: escaping, the figure frame, axis ticks and
their labels, and thinning long lines to a drawable number of points.

Tick labels of one axis share one format (`25k, 50k, 75k`, never `1e+05` beside `25000`).

Example:
    >>> ticks = nice_ticks(0, 120_000)
    >>> tick_labels(ticks)
    ['0', '25k', '50k', '75k', '100k']
"""

from __future__ import annotations

import html
import math
from typing import Sequence

import numpy as np

MAX_POINTS = 500  # points drawn per line (longer histories are thinned evenly, the last kept)
FONT = 12  # px in viewBox units


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def svg_frame(title: str, width: int, height: int) -> list[str]:
    """The opening of a chart's <svg> (and its title), as the first of the parts that make it."""
    # as wide as its container, but never blown up past 1.2 times its drawn size
    return [f'<svg class="plot" viewBox="0 0 {width} {height}" width="100%" style="max-width:{1.2 * width:.0f}px" '
            f'preserveAspectRatio="xMinYMin meet" role="img" aria-label="{esc(title)}" font-size="{FONT}">'
            f'<title>{esc(title)}</title>']


def nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """About n round tick values covering [lo, hi].

    Example:
        >>> nice_ticks(0, 1)
        [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
        >>> nice_ticks(0, 120_000)
        [0.0, 25000.0, 50000.0, 75000.0, 100000.0]
    """
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo]
    raw = (hi - lo) / n
    step = 10 ** math.floor(math.log10(raw))
    step *= next(m for m in (1, 2, 2.5, 5, 10) if m * step >= raw)
    first = math.ceil(lo / step - 1e-9)
    return [round(k * step, 10) for k in range(first, int(math.floor(hi / step + 1e-9)) + 1)]


def tick_labels(ticks: Sequence[float]) -> list[str]:
    """Labels in one format for one axis: k/M suffixes for large values, as few decimals as show every tick exactly.

    Example:
        >>> tick_labels([0, 25_000, 50_000, 75_000, 100_000])
        ['0', '25k', '50k', '75k', '100k']
        >>> tick_labels([0.0, 0.25, 0.5]), tick_labels([1_000_000, 1_500_000]), tick_labels([20, 25, 30])
        (['0.00', '0.25', '0.50'], ['1M', '1.5M'], ['20', '25', '30'])
    """
    if not ticks:
        return []
    top = max(abs(t) for t in ticks)
    scale, suffix = (1e6, "M") if top >= 1e6 else (1e3, "k") if top >= 1e4 else (1.0, "")  # 1000-9999 stay plain
    scaled = [t / scale for t in ticks]
    decimals = next((d for d in range(7) if all(abs(round(v, d) - v) < 1e-9 * max(1.0, abs(v)) for v in scaled)), 6)
    if suffix:
        return [_trim(f"{v:.{decimals}f}") + suffix if v else "0" for v in scaled]
    return [f"{v:.{decimals}f}" for v in scaled]


def _trim(text: str) -> str:
    return text.rstrip("0").rstrip(".") if "." in text else text


def thin(n: int) -> np.ndarray:
    """Indices of at most MAX_POINTS evenly spread points of n, the first and last included."""
    return np.unique(np.linspace(0, n - 1, min(n, MAX_POINTS)).round().astype(int)) if n else np.zeros(0, int)
