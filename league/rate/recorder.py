"""The recorder: finished games in, rated and stored in one transaction, in game order.

Training rounds, evaluations and tournaments all record through it, so a game becomes a
stored match in one place (`match_of`) and every rating update starts from the ratings the
store holds.

Example:
    >>> import tempfile
    >>> from league.play.runner import GameRecord
    >>> from league.rate.ratings import Rater
    >>> from league.store.database import Store
    >>> with tempfile.TemporaryDirectory() as tmp, Store.open(tmp, create=True) as store:
    ...     recorder = Recorder(store, Rater(), "tic_tac_toe")
    ...     recorder.record([GameRecord(0, 7, ("random", "mcts:5"), (-1.0, 1.0), (), (1, 0), 9, False)], "evaluation")
    ...     [(m.sides, m.ranks) for m in store.matches()]
    [(('random', 'mcts:5'), (1, 0))]
"""

from __future__ import annotations

from typing import Sequence

from agents.baselines import is_baseline_name
from league.play.runner import GameRecord
from league.rate.ratings import Rater
from league.rate.updates import stored_game_rater
from league.results import members
from league.store.database import NewMatch, Store


def match_of(record: GameRecord, *, origin: str, game: str, tournament_id: int | None = None,
             game_index: int | None = None) -> NewMatch:
    """The stored form of one finished game."""
    return NewMatch(origin=origin, game=game, seed=record.seed, sides=record.sides, returns=record.returns,
                    ranks=record.ranks, length=record.length, truncated=record.truncated,
                    tournament_id=tournament_id, game_index=game_index, forfeit=record.forfeit, moves=record.moves)


class Recorder:
    """Rates finished games in order and stores them with their new ratings, in one transaction."""

    def __init__(self, store: Store, rater: Rater, game: str):
        self.store, self.rater, self.game = store, rater, game

    def record(self, records: Sequence[GameRecord], origin: str, *, indexed: bool = False) -> None:
        """Store `records` (rated in the order given); `indexed` keeps each game's schedule index."""
        self._register_baselines(records)
        # ratings are computed inside the transaction that stores the games, from the stored ratings:
        # a concurrent writer can never make an update disappear
        self.store.record_rated([match_of(record, origin=origin, game=self.game,
                                          game_index=record.index if indexed else None) for record in records],
                                stored_game_rater(self.rater))

    def _register_baselines(self, records: Sequence[GameRecord]) -> None:
        for side in {side for record in records for side in record.sides}:
            for member in members(side):
                if is_baseline_name(member) and self.store.player(member) is None:
                    self.store.add_player(member, "baseline")
