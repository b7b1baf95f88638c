"""The meta-game over a pool of players: the Nash mixture of a zero-sum payoff matrix
(exact values in small games, such as exploitability, are in `league.rate.exact`).

Example:
    >>> import numpy as np
    >>> rps = np.array([[0.0, -1.0, 1.0], [1.0, 0.0, -1.0], [-1.0, 1.0, 0.0]])
    >>> weights, value = zero_sum_nash(rps)
    >>> np.round(weights, 3).tolist(), abs(round(value, 6))
    ([0.333, 0.333, 0.333], 0.0)
"""

from __future__ import annotations

import numpy as np


def zero_sum_nash(payoff: np.ndarray) -> tuple[np.ndarray, float]:
    """Maximin mixture of the row player of a zero-sum matrix game, and the game's value.

    Solves  max v  s.t.  sum_i x_i A[i, j] >= v for every column j,  x a distribution.
    `payoff[i, j]` is the row player's payoff (e.g. 2 * score - 1 from a payoff matrix).
    """
    from scipy.optimize import linprog

    a = np.asarray(payoff, dtype=np.float64)
    n, m = a.shape
    if n == 0 or m == 0:
        raise ValueError("the payoff matrix is empty")
    # variables: x_1..x_n, v; minimise -v
    c = np.zeros(n + 1)
    c[-1] = -1.0
    a_ub = np.hstack([-a.T, np.ones((m, 1))])  # v - sum_i x_i a_ij <= 0
    b_ub = np.zeros(m)
    a_eq = np.hstack([np.ones((1, n)), np.zeros((1, 1))])
    bounds = [(0.0, None)] * n + [(None, None)]
    result = linprog(c, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=[1.0], bounds=bounds, method="highs")
    if not result.success:
        raise ValueError(f"the Nash linear program failed: {result.message}")
    x = np.clip(result.x[:n], 0.0, None)
    return x / x.sum(), float(result.x[-1])


def symmetric_payoff(score: np.ndarray) -> np.ndarray:
    """Zero-sum payoffs 2 * score - 1 from a score matrix (NaN, e.g. the diagonal, counts as even)."""
    s = np.where(np.isnan(score), 0.5, np.asarray(score, dtype=np.float64))
    return 2.0 * s - 1.0
