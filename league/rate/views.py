"""Rating views beyond TrueSkill, computed from every stored game.

- Bradley-Terry: the maximum-likelihood Elo of every player from all head-to-head games
  (a draw counts half a win each way), with bootstrap 95% intervals and a rank that
  respects them, as Chatbot Arena reports: rank = 1 + the number of players whose lower
  bound lies above this player's upper bound.
- Nash: the maximin mixture of the zero-sum meta-game between the players (payoff
  2 * score - 1), and alpha-rank (OpenSpiel's implementation) on the win-rate matrix.
  Where strength is not transitive (rock-paper-scissors) these are the only honest views:
  TrueSkill and Bradley-Terry give everyone the same number, the Nash mixture is uniform.

Example:
    >>> results = [(("a", "b"), (0, 1))] * 8 + [(("b", "a"), (0, 1))] * 2 + [(("b", "c"), (0, 1))] * 8
    >>> view = bradley_terry(results, bootstrap=50, seed=0)
    >>> [row.name for row in view], view[0].elo > view[1].elo > view[2].elo
    (['a', 'b', 'c'], True)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

from league.rate.metagame import symmetric_payoff, zero_sum_nash
from league.results import PayoffTable, is_pickup

SCALE = 400.0 / np.log(10.0)  # Elo points per natural-log odds


@dataclass(frozen=True)
class BTRow:
    rank: int
    name: str
    elo: float
    lower: float
    upper: float
    games: int


@dataclass(frozen=True)
class NashRow:
    name: str
    nash: float  # weight in the Nash mixture
    alpharank: float  # mass in alpha-rank's stationary distribution
    games: int


def _two_side_table(results: Iterable[tuple[Sequence[str], Sequence[int]]]) -> PayoffTable:
    """The payoff table of two-side results, skipping pick-up sides (and self-play, which tells nothing)."""
    return PayoffTable.from_results((tuple(s), tuple(r), (0.0, 0.0)) for s, r in results
                                    if len(s) == 2 and not any(is_pickup(x) for x in s))


def _pairs(results: Iterable[tuple[Sequence[str], Sequence[int]]]) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(names, wins (n, n), draws (n, n)) from two-side results."""
    matrix = _two_side_table(results).matrix()
    return list(matrix.names), matrix.wins.astype(float), matrix.draws.astype(float)


def _fit(wins: np.ndarray, draws: np.ndarray, prior: float = 1e-3) -> np.ndarray:
    """Bradley-Terry log-strengths (mean 0) by Newton's method on the penalised log-likelihood.

    A tiny L2 prior keeps a player who won every game finite.
    """
    score = wins + 0.5 * draws  # (n, n): i's points against j
    games = score + score.T  # (n, n)
    n = len(score)
    theta = np.zeros(n)
    for _ in range(100):
        diff = theta[:, None] - theta[None, :]  # (n, n)
        p = 1.0 / (1.0 + np.exp(-diff))  # P(i beats j)
        grad = (score - games * p).sum(1) - prior * theta
        weight = games * p * (1 - p)
        hessian = -np.diag(weight.sum(1)) + weight - prior * np.eye(n)
        step = np.linalg.solve(hessian - 1e-9 * np.eye(n), grad)
        theta = theta - step
        theta -= theta.mean()
        if np.abs(step).max() < 1e-10:
            break
    return theta


def bradley_terry(results: Iterable[tuple[Sequence[str], Sequence[int]]], *, bootstrap: int = 200,
                  seed: int = 0) -> list[BTRow]:
    """Bradley-Terry Elo (mean 0) with bootstrap 95% intervals, best first."""
    names, wins, draws = _pairs(results)
    if not names:
        return []
    elo = _fit(wins, draws) * SCALE
    rng = np.random.default_rng(seed)
    samples = []
    # resample games within each pair (multinomial on its win/draw/loss counts)
    for _ in range(bootstrap):
        w, d = np.zeros_like(wins), np.zeros_like(draws)
        for i in range(len(names)):
            for j in range(i + 1, len(names)):
                n = int(wins[i, j] + wins[j, i] + draws[i, j])
                if n == 0:
                    continue
                probs = np.array([wins[i, j], wins[j, i], draws[i, j]]) / n
                a, b, c = rng.multinomial(n, probs)
                w[i, j], w[j, i], d[i, j], d[j, i] = a, b, c, c
        samples.append(_fit(w, d) * SCALE)
    lower, upper = (np.percentile(samples, [2.5, 97.5], axis=0) if bootstrap else (elo, elo))
    games = (wins + wins.T + draws).sum(1).astype(int)
    order = np.argsort(-elo)
    return [BTRow(rank=1 + int(np.sum(lower > upper[i])), name=names[i], elo=float(elo[i]),
                  lower=float(lower[i]), upper=float(upper[i]), games=int(games[i])) for i in order]


def nash_view(results: Iterable[tuple[Sequence[str], Sequence[int]]], *, alpha: float = 100.0) -> list[NashRow]:
    """Nash mixture of the zero-sum meta-game and alpha-rank mass, largest Nash weight first.

    Example:
        >>> rps = [(("rock", "scissors"), (0, 1)), (("scissors", "paper"), (0, 1)), (("paper", "rock"), (0, 1))] * 5
        >>> [(r.name, round(r.nash, 3), round(r.alpharank, 3)) for r in nash_view(rps)]
        [('paper', 0.333, 0.333), ('rock', 0.333, 0.333), ('scissors', 0.333, 0.333)]
    """
    matrix = _two_side_table(results).matrix()
    names = list(matrix.names)
    if not names:
        return []
    score = matrix.score  # (n, n) with NaN where unplayed
    payoff = symmetric_payoff(score)
    weights, _ = zero_sum_nash((payoff - payoff.T) / 2)
    mass = _alpharank(np.where(np.isnan(score), 0.5, score), alpha)
    games = matrix.games.sum(1)
    rows = [NashRow(n, float(w), float(m), int(g)) for n, w, m, g in zip(names, weights, mass, games)]
    return sorted(rows, key=lambda r: (-round(r.nash, 9), -r.alpharank, r.name))


def _alpharank(score: np.ndarray, alpha: float) -> np.ndarray:
    import warnings

    from open_spiel.python.egt import alpharank

    np.fill_diagonal(score, 0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # alpha-rank's exp overflows harmlessly at large alpha
        _, _, pi, _, _ = alpharank.compute([score], alpha=alpha)
    mass = np.clip(np.asarray(pi, dtype=np.float64), 0.0, None)  # round-off can dip below zero
    return mass / mass.sum()
