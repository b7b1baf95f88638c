"""The statistics the report's charts draw: centred moving averages of noisy learning curves,
and Wilson intervals of win rates.

Example:
    >>> smooth([1.0, 2.0, 3.0, 10.0], smoothing_window(4)).tolist()
    [1.0, 2.0, 3.0, 10.0]
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np


def smooth(values: Sequence[float], window: int) -> np.ndarray:
    """A centred moving average over `window` points (fewer at the ends), NaN skipped: no lag.

    Example:
        >>> smooth([1.0, 2.0, 3.0, 10.0], 3).round(3).tolist()
        [1.5, 2.0, 5.0, 6.5]
    """
    v = np.asarray(values, dtype=float)
    ok = np.isfinite(v)
    half = max(0, window // 2)
    sums = np.concatenate([[0.0], np.cumsum(np.where(ok, v, 0.0))])
    counts = np.concatenate([[0], np.cumsum(ok)])
    lo = np.clip(np.arange(len(v)) - half, 0, len(v))
    hi = np.clip(np.arange(len(v)) + half + 1, 0, len(v))
    n = counts[hi] - counts[lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, (sums[hi] - sums[lo]) / np.maximum(n, 1), np.nan)


def smoothing_window(n: int) -> int:
    """An odd window of about a fifteenth of n points (1 below 15 points).

    Example:
        >>> smoothing_window(10), smoothing_window(60), smoothing_window(1000)
        (1, 5, 67)
    """
    return max(1, n // 15) | 1


def wilson(score: float, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """The Wilson 95% interval of a rate observed as `score` over n games.

    Example:
        >>> [round(x, 3) for x in wilson(0.8, 20)]
        [0.584, 0.919]
    """
    if n <= 0:
        return (0.0, 1.0)
    centre = (score + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(score * (1 - score) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))
