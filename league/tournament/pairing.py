"""One pairing of a tournament and its paired-game statistics: games and points, the
pentanomial counts of complete pairs, the SPRT's state and decision, and the Elo difference
with its 95% interval.

Games come in pairs that share a seed with sides swapped; a pair is counted once both of its
games are, as a's points over the two (0, 1/2, 1, 3/2 or 2).

Example:
    >>> pairing = Pairing(0, "a", "b")
    >>> pairing.count(0, ("a", "b"), (0, 1), test=None)  # a wins the first game of pair 0
    >>> pairing.count(0, ("b", "a"), (0, 0), test=None)  # and draws the second
    >>> pairing.games, pairing.points, pairing.pairs, pairing.pending
    (2, 1.5, [1.5], {})

A table of three or more sides keeps each entrant's points instead: per game, the share of
the other sides it finished ahead of (a draw half), so a game's points add up to sides / 2.

    >>> table = TableScore(0, ("a", "b", "c"))
    >>> table.count(0, ("b", "c", "a"), (1, 2, 0), test=None)  # a first, then b, then c
    >>> table.points, table.games
    ({'a': 1.0, 'b': 0.5, 'c': 0.0}, 1)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from league.rate.sprt import SPRT, Pentanomial, elo_interval, score_to_elo
from league.results import score_against


def share_beaten(ranks: Sequence[int], mine: int) -> float:
    """The share of the other sides that side `mine` finished ahead of (a draw counts half).

    Example:
        >>> share_beaten((0, 1), 0), share_beaten((1, 1, 0), 0), share_beaten((0, 2, 1, 1), 3)
        (1.0, 0.25, 0.5)
    """
    others = [k for k in range(len(ranks)) if k != mine]
    return sum(score_against(ranks, mine, k) for k in others) / len(others)


@dataclass
class Pairing:
    """Two entrants' match inside a tournament, with its paired-game statistics."""

    index: int
    a: str
    b: str
    games: int = 0
    points: float = 0.0  # a's points
    pending: dict[int, float] = field(default_factory=dict)  # pair -> a's score in its first finished game
    pairs: list[float] = field(default_factory=list)  # a's points per complete pair
    status: str = "running"  # running | H0 | H1 | done
    llr: float = 0.0  # with every pair counted, also those that finished after the decision
    decided_at: int = 0  # games counted when the SPRT decided (0: it has not)
    decision_llr: float = 0.0  # the LLR that made the decision
    in_flight: int = 0  # games handed out to be played and not reported yet

    def points_of(self, name: str) -> float:
        """The points `name` (a or b) scored in this pairing."""
        return self.points if name == self.a else self.games - self.points

    @property
    def beyond(self) -> int:
        """Games that finished after the SPRT's decision (they were in flight then)."""
        return self.games - self.decided_at if self.decided_at else 0

    def pentanomial(self) -> Pentanomial:
        return Pentanomial.from_pairs(self.pairs)

    def elo(self) -> tuple[float, float, float]:
        elo, low, high = elo_interval(self.pentanomial())
        n = len(self.pairs)
        if n and self.points in (0, self.games):
            # a clean sweep has no variance, so the normal interval collapses onto +-inf; its far end is
            # the Clopper-Pearson bound of n identical pairs instead
            far = score_to_elo(1 - 0.025 ** (1 / n))
            low, high = (low, far) if self.points == 0 else (-far, high)
        return elo, low, high


    def count(self, pair: int, sides: Sequence[str], ranks: Sequence[int], test: SPRT | None) -> None:
        """Add one game of pair number `pair` (and close the pair, and maybe the SPRT `test`)."""
        mine = sides.index(self.a)
        other = 1 - mine
        s = score_against(ranks, mine, other)
        self.games += 1
        self.points += s
        if pair in self.pending:
            self.pairs.append(self.pending.pop(pair) + s)
            if test is not None:
                self.llr = test.llr(self.pentanomial())  # games in flight at a decision still count
                if self.status == "running":
                    self.status = test.verdict(self.llr)
                    if self.status != "running":
                        self.decided_at, self.decision_llr = self.games, self.llr
        else:
            self.pending[pair] = s


@dataclass
class TableScore:
    """Three or more entrants' games at one table of a tournament: games and each one's points."""

    index: int
    entrants: tuple[str, ...]
    games: int = 0
    points: dict[str, float] = field(default_factory=dict)  # entrant -> sum over games of `share_beaten`
    status: str = "running"  # running | done
    in_flight: int = 0  # games handed out to be played and not reported yet

    def __post_init__(self) -> None:
        for name in self.entrants:
            self.points.setdefault(name, 0.0)

    @property
    def name(self) -> str:
        """"a vs b vs c"."""
        return " vs ".join(self.entrants)

    def points_of(self, name: str) -> float:
        return self.points[name]

    def count(self, pair: int, sides: Sequence[str], ranks: Sequence[int], test: SPRT | None) -> None:
        """Add one game (`pair` and `test` are for head-to-head pairings; a table has neither)."""
        self.games += 1
        for k, name in enumerate(sides):
            self.points[name] = self.points.get(name, 0.0) + share_beaten(ranks, k)
