"""Results, once: sides and their members, ranks turned into scores and W/D/L, and the one
head-to-head payoff table that matchmaking, the meta-game, ratings views, the leaderboard
and the report all read.

A side is stored under its entrant's name, or, for a pick-up team of several entrants,
under their names joined by `TEAM_SEPARATOR` ("a+b"). Ranks come from a game's outcome:
lower is better, equal ranks draw. This module imports nothing of the league, so every
layer can use it.

Example:
    >>> side_name(["a", "b"]), members("a+b")
    ('a+b', ['a', 'b'])
    >>> score_against((0, 1), 0, 1), outcome((1, 1, 0), 0)
    (1.0, 'L')
    >>> table = PayoffTable.from_results([(("a", "b"), (0, 1), (1.0, -1.0)), (("b", "a"), (0, 0), (0.0, 0.0))])
    >>> table.score("a", "b"), table.games("b", "a"), table.mean_return("a", "b")
    (0.75, 2.0, 0.5)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Mapping, Sequence

import numpy as np

from games.errors import LeagueError

TEAM_SEPARATOR = "+"  # a pick-up side is stored as its members' names joined by this


class ResultError(LeagueError, ValueError):
    """A result that does not add up (sides, ranks and returns of different lengths, a score outside [0, 1])."""


def members(side: str) -> list[str]:
    """The entrants of a stored side: one name, or a pick-up team's members."""
    return side.split(TEAM_SEPARATOR)


def side_name(names: Sequence[str]) -> str:
    """The stored name of a side played by `names` (one entrant, or a pick-up team)."""
    return TEAM_SEPARATOR.join(names)


def is_pickup(side: str) -> bool:
    """True for a side played by a pick-up team of several entrants."""
    return TEAM_SEPARATOR in side


def score_against(ranks: Sequence[int], mine: int, other: int) -> float:
    """Side `mine`'s score against side `other` in one game: 1 a win, 1/2 a draw, 0 a loss."""
    return 1.0 if ranks[mine] < ranks[other] else 0.5 if ranks[mine] == ranks[other] else 0.0


def score(ranks: Sequence[int], mine: int) -> float:
    """Side `mine`'s result against the whole field: 1 if it beat every other side, 1/2 if
    it beat or tied them all, else 0 (a two-side game: its score against the other).

    Example:
        >>> score((0, 1, 1), 0), score((0, 0, 1), 1), score((1, 0), 0)
        (1.0, 0.5, 0.0)
    """
    others = [r for k, r in enumerate(ranks) if k != mine]
    return 1.0 if all(ranks[mine] < r for r in others) else 0.5 if all(ranks[mine] <= r for r in others) else 0.0


def outcome(ranks: Sequence[int], mine: int) -> str:
    """'W', 'D' or 'L' for side `mine` (see `score`)."""
    return {1.0: "W", 0.5: "D", 0.0: "L"}[score(ranks, mine)]


WDL_INDEX = {"W": 0, "D": 1, "L": 2}  # an outcome's column in [wins, draws, losses] counts


@dataclass(frozen=True, eq=False)
class PayoffMatrix:
    """Head-to-head counts over `names`: entry [i, j] is row player i's results against j.

    Example:
        >>> m = PayoffTable.from_results([(("a", "b"), (0, 1), (0, 0)), (("a", "b"), (0, 0), (0, 0))]).matrix()
        >>> m.score.tolist()
        [[nan, 0.75], [0.25, nan]]
    """

    names: tuple[str, ...]
    wins: np.ndarray  # (n, n) int
    draws: np.ndarray  # (n, n) int
    losses: np.ndarray  # (n, n) int
    games: np.ndarray  # (n, n) int

    def __post_init__(self) -> None:
        for counts in (self.wins, self.draws, self.losses, self.games):
            counts.flags.writeable = False  # a frozen record should not change under its readers

    @property
    def score(self) -> np.ndarray:
        """(wins + draws / 2) / games per pair, NaN where the pair never met."""
        with np.errstate(invalid="ignore", divide="ignore"):
            value = (self.wins + 0.5 * self.draws) / self.games
        return np.where(self.games == 0, np.nan, value)


# per ordered pair (a, b): a's games against b, points (win 1, draw 1/2), wins, draws, sum of a's returns
_GAMES, _POINTS, _WINS, _DRAWS, _RETURNS = range(5)


@dataclass
class PayoffTable:
    """Head-to-head results of every ordered pair of entrants, optionally decayed.

    With `decay` < 1 each new game of a pair shrinks that pair's older ones (matchmaking's
    recent win rates); with 1 it keeps plain counts. `score` falls back to 1/2 while a pair
    has fewer than `min_games` (decayed) games. Exact payoffs (`set_exact`, from a
    game-theoretic computation) replace the sampled mean return of a pair.

    Example:
        >>> t = PayoffTable(decay=0.5)
        >>> t.add("a", "b", 1.0); t.add("a", "b", 0.0)
        >>> t.score("a", "b"), t.games("a", "b")
        (0.3333333333333333, 1.5)
    """

    decay: float = 1.0
    min_games: float = 0.0
    cells: dict[tuple[str, str], list[float]] = field(default_factory=dict)
    exact: dict[tuple[str, str], float] = field(default_factory=dict)

    def add(self, a: str, b: str, score_a: float, return_a: float = 0.0, return_b: float = 0.0) -> None:
        """One game of `a` against `b`: a's score in [0, 1] and both sides' returns."""
        if not 0.0 <= score_a <= 1.0:
            raise ResultError(f"a game's score must be in [0, 1], got {score_a}")
        for key, s, r in (((a, b), score_a, return_a), ((b, a), 1.0 - score_a, return_b)):
            cell = self.cells.setdefault(key, [0.0] * 5)
            if self.decay != 1.0:
                cell[:] = [v * self.decay for v in cell]
            cell[_GAMES] += 1.0
            cell[_POINTS] += s
            cell[_WINS] += s == 1.0
            cell[_DRAWS] += s == 0.5
            cell[_RETURNS] += r

    def add_game(self, sides: Sequence[str], ranks: Sequence[int], returns: Sequence[float]) -> None:
        """Every pair of distinct sides of one finished game (a side against itself tells nothing)."""
        if not len(sides) == len(ranks) == len(returns):
            raise ResultError(f"a result has {len(sides)} sides, {len(ranks)} ranks and {len(returns)} returns; "
                              "give one rank and one return per side.")
        for i in range(len(sides)):
            for j in range(i + 1, len(sides)):
                if sides[i] != sides[j]:
                    self.add(sides[i], sides[j], score_against(ranks, i, j), float(returns[i]), float(returns[j]))

    @classmethod
    def from_results(cls, results: Iterable[tuple[Sequence[str], Sequence[int], Sequence[float]]],
                     **settings: float) -> "PayoffTable":
        """A table of (sides, ranks, returns) results, e.g. every stored match."""
        table = cls(**settings)
        for sides, ranks, returns in results:
            table.add_game(sides, ranks, returns)
        return table

    def set_exact(self, a: str, b: str, value: float) -> None:
        """a's exact expected return against b (zero-sum: b's is -value)."""
        self.exact[(a, b)], self.exact[(b, a)] = value, -value

    def games(self, a: str, b: str) -> float:
        return self.cells.get((a, b), [0.0] * 5)[_GAMES]

    def score(self, a: str, b: str) -> float:
        """a's (decayed) mean score against b, or 1/2 below `min_games` games."""
        cell = self.cells.get((a, b))
        if cell is None or cell[_GAMES] < max(self.min_games, 1e-12):
            return 0.5
        return cell[_POINTS] / cell[_GAMES]

    def mean_return(self, a: str, b: str) -> float:
        """a's exact expected return against b where known, else its mean sampled return (0 unplayed)."""
        if (a, b) in self.exact:
            return self.exact[(a, b)]
        cell = self.cells.get((a, b))
        return cell[_RETURNS] / cell[_GAMES] if cell and cell[_GAMES] else 0.0

    def names(self) -> list[str]:
        """Every entrant in the table, sorted."""
        return sorted({name for pair in self.cells for name in pair} | {name for pair in self.exact for name in pair})

    def matrix(self, names: Sequence[str] | None = None) -> PayoffMatrix:
        """Counts over `names` (default: every entrant, sorted), as a PayoffMatrix."""
        order = tuple(self.names() if names is None else names)
        if len(set(order)) != len(order):
            raise ResultError("names must not repeat in a payoff matrix.")
        n = len(order)
        games, wins, draws = (np.zeros((n, n), dtype=np.int64) for _ in range(3))
        for i, a in enumerate(order):
            for j, b in enumerate(order):
                cell = self.cells.get((a, b))
                if cell is not None and i != j:
                    games[i, j], wins[i, j], draws[i, j] = round(cell[_GAMES]), round(cell[_WINS]), round(cell[_DRAWS])
        return PayoffMatrix(order, wins, draws, games - wins - draws, games)

    def returns_matrix(self, names: Sequence[str]) -> np.ndarray:
        """(n, n): entry [i, j] is names[i]'s mean (or exact) return against names[j]."""
        return np.array([[self.mean_return(a, b) for b in names] for a in names], dtype=float).reshape(len(names), len(names))

    def state(self) -> dict:
        """JSON-able contents (for checkpoints)."""
        return {"decay": self.decay, "min_games": self.min_games,
                "cells": [[a, b, *cell] for (a, b), cell in sorted(self.cells.items())],
                "exact": [[a, b, v] for (a, b), v in sorted(self.exact.items())]}

    @classmethod
    def from_state(cls, state: Mapping) -> "PayoffTable":
        table = cls(decay=float(state["decay"]), min_games=float(state["min_games"]))
        for a, b, *cell in state["cells"]:
            table.cells[(a, b)] = [float(v) for v in cell]
        for a, b, value in state["exact"]:
            table.exact[(a, b)] = float(value)
        return table
