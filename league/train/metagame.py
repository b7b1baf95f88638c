"""The league's meta-game: who beat whom lately (for matchmaking), the mean or exact payoff of
every pair (PSRO's empirical game), and the Nash mixture over a pool.

Both tables are the one results type (`league.results.PayoffTable`): `recent` decays old
games so PFSP follows a learner's current strength; `payoffs` keeps every game and takes
exact expected returns where the game is small enough to compute them.

Example:
    >>> meta = MetaGame()
    >>> meta.add_game(("rock", "scissors"), (0, 1), (1.0, -1.0))
    >>> meta.recent.score("rock", "scissors"), meta.payoffs.mean_return("scissors", "rock")
    (0.5, -1.0)
    >>> meta.nash_weights(["rock"])
    [1.0]
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from league.rate.metagame import zero_sum_nash
from league.results import PayoffTable

RECENT_DECAY = 0.99  # each new game of a pair shrinks its older ones (AlphaStar's PFSP win rates)
RECENT_MIN_GAMES = 5.0  # below this many (decayed) games a pair counts as even


class MetaGame:
    """The pool's payoff tables and Nash mixture."""

    def __init__(self, recent: PayoffTable | None = None, payoffs: PayoffTable | None = None):
        self.recent = recent or PayoffTable(decay=RECENT_DECAY, min_games=RECENT_MIN_GAMES)
        self.payoffs = payoffs or PayoffTable()

    def add_game(self, sides: Sequence[str], ranks: Sequence[int], returns: Sequence[float]) -> None:
        """A finished game between different entrants, counted pairwise when it has three or more
        sides (a game where one entrant holds several sides tells the meta-game nothing)."""
        if len(sides) >= 2 and len(set(sides)) == len(sides):
            self.recent.add_game(sides, ranks, returns)
            self.payoffs.add_game(sides, ranks, returns)

    def set_exact(self, a: str, b: str, value: float) -> None:
        """a's exact expected return against b (zero-sum); it replaces the sampled games' mean."""
        self.payoffs.set_exact(a, b, value)

    def nash_weights(self, names: Sequence[str]) -> list[float]:
        """The Nash mixture over `names` of the zero-sum game of mean returns between them (unplayed pairs: 0)."""
        if len(names) == 1:
            return [1.0]
        matrix = self.payoffs.returns_matrix(names)  # (n, n)
        weights, _ = zero_sum_nash(matrix - matrix.T)  # antisymmetrised: exactly zero-sum
        return weights.tolist()

    def state(self) -> dict[str, Any]:
        return {"recent": self.recent.state(), "payoffs": self.payoffs.state()}

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> "MetaGame":
        return cls(PayoffTable.from_state(state["recent"]), PayoffTable.from_state(state["payoffs"]))
