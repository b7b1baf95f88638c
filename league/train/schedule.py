"""A round's games: who each learner plays (its matchmaking mix or its AlphaStar position) and
on which side, as seeded game tasks. In a game of three or more sides every other side is
filled by a draw of its own, among the players of that side's role. With `opening_plies`, each
game starts after its seed's random opening (`league.play.openings.training_openings`).

A one-side (cooperative) game has no opponents: learners and a few pool members play the same
seeds, to be ranked per seed as free-for-alls.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from games.base import Game, derive_seed
from league.play.openings import training_openings
from league.play.runner import GameTask, Slot
from league.train.config import TrainConfig
from league.train.matchmaking import Mix, alphastar_opponent, choose_opponents, pfsp_weights
from league.train.metagame import MetaGame
from league.train.pool import Historical, Pool
from league.train.state import TrainerState


class Scheduler:
    """Builds each round's game tasks from the pool, the meta-game and the run's RNG."""

    def __init__(self, game: Game, config: TrainConfig, pool: Pool, metagame: MetaGame, mixes: dict[str, Mix],
                 rng: np.random.Generator):
        self.game, self.config, self.pool, self.metagame, self.mixes, self.rng = game, config, pool, metagame, mixes, rng
        self.spec = pool.spec
        self._pools: dict[str, tuple[list[Historical], list[float] | None]] = {}

    def round_tasks(self, state: TrainerState) -> list[GameTask]:
        """The next round's games for the learners still short of their steps (all, once every one is done)."""
        self.pool.begin_round()
        self._pools = {}  # pools and Nash mixtures are computed once per round, not once per game
        active = [n for n in self.pool.learners if state.steps[n] < self.config.steps] or list(self.pool.learners)
        tasks = self._cooperative(state, active) if len(self.spec.sides) == 1 else self._competitive(state, active)
        return self._with_openings(tasks)

    def _round_pool(self, role: str) -> tuple[list[Historical], list[float] | None]:
        """The pool of a role and, if any learner draws from it, its Nash mixture."""
        if role not in self._pools:
            pool = self.pool.historical(role)
            names = [h.name for h in pool]
            wants_nash = any(mix.nash > 0 for mix in self.mixes.values())
            self._pools[role] = (pool, self.metagame.nash_weights(names) if wants_nash and names else None)
        return self._pools[role]

    def opponent(self, me: str, role: str | None = None) -> str:
        """The opponent of one game of learner `me` on a side of `role` (default: the opposing role)."""
        return self.opponents(me, 1, role)[0]

    def opponents(self, me: str, count: int, role: str | None = None) -> list[str]:
        """The opponents of `count` games of learner `me` on a side of `role` (default: the opposing
        role): drawn together by its matchmaking mix, or one by one for an AlphaStar position."""
        learners, table = self.pool.learners, self.metagame.recent
        if role is None:
            role = self.pool.other_role(learners[me].role)
        pool, nash_weights = self._round_pool(role)
        position = self.pool.positions[me]
        if position:
            mains = [n for n, l in learners.items() if self.pool.positions[n] == "main" and l.role == role]
            return [alphastar_opponent(me, position, mains, pool, table, self.rng) for _ in range(count)]
        latest = [n for n, l in learners.items() if l.role == role]
        nash = nash_weights if self.mixes[me].nash > 0 else None
        return choose_opponents(me, self.mixes[me], latest, [h.name for h in pool], table, self.rng, nash, count)

    def _opposing_slot(self, me: str, opponent: str, side_index: int) -> Slot:
        """The opponent's entrant, or a pick-up team of pool members for a side of several seats."""
        side = self.spec.sides[side_index]
        mix = self.mixes[me]
        pool = [h.name for h in self._round_pool(side.role)[0]]
        if mix.pickup > 0 and len(side.seats) > 1 and len(pool) >= len(side.seats) and self.rng.random() < mix.pickup:
            weights = pfsp_weights([self.metagame.recent.score(me, p) for p in pool], mix.weighting)
            chosen = self.rng.choice(len(pool), size=len(side.seats), replace=False, p=weights)
            return tuple(self.pool.entrant(pool[int(c)]) for c in chosen)
        return self.pool.entrant(opponent)

    def _competitive(self, state: TrainerState, active: list[str]) -> list[GameTask]:
        tasks = []
        games = self.config.round_games
        if len(self.spec.sides) == 2:  # each learner's opponents for the round, drawn together
            drawn = {me: iter(self.opponents(me, len(range(i, games, len(active))))) for i, me in enumerate(active)}
        for k in range(games):
            me = active[k % len(active)]
            mine = [i for i, side in enumerate(self.spec.sides) if side.role == self.pool.learners[me].role]
            seat_at = mine[(k // len(active)) % len(mine)]  # rotate through its sides in symmetric games
            if len(self.spec.sides) == 2:
                opponent = next(drawn[me])
                state.recent[me][opponent] = state.recent[me].get(opponent, 0) + 1
                lineup = tuple(self.pool.entrant(me) if i == seat_at else self._opposing_slot(me, opponent, i)
                               for i in range(2))
            else:
                lineup = self._fill_sides(state, me, seat_at)
            tasks.append(GameTask(index=state.games + k, seed=derive_seed(self.config.seed, state.round, k), lineup=lineup))
        return tasks

    def _with_openings(self, tasks: list[GameTask]) -> list[GameTask]:
        """The round's games, each after its seed's random opening when `opening_plies` asks for one
        (games that share a seed, a cooperative round's, share it)."""
        if not self.config.opening_plies or not tasks:
            return tasks
        drawn = training_openings(self.game, [t.seed for t in tasks], self.config.opening_plies)
        return [replace(t, opening=opening) for t, opening in zip(tasks, drawn)]

    def _fill_sides(self, state: TrainerState, me: str, seat_at: int) -> tuple:
        """A game of three or more sides: `me` on side `seat_at`, and every other side filled by its
        own draw of `me`'s matchmaking among the players of that side's role."""
        lineup = []
        for i, side in enumerate(self.spec.sides):
            if i == seat_at:
                lineup.append(self.pool.entrant(me))
                continue
            opponent = self.opponent(me, side.role)
            state.recent[me][opponent] = state.recent[me].get(opponent, 0) + 1
            lineup.append(self._opposing_slot(me, opponent, i))
        return tuple(lineup)

    def _cooperative(self, state: TrainerState, active: list[str]) -> list[GameTask]:
        """Learners and a few pool members play the same seeds, to be ranked per seed."""
        pool = self.pool.historical(self.spec.sides[0].role)
        per_seed = len(active) + min(self.config.coop_snapshots, len(pool))
        tasks = []
        for g in range(max(1, self.config.round_games // per_seed)):
            seed = derive_seed(self.config.seed, state.round, g)
            players = [self.pool.entrant(n) for n in active]
            if pool and self.config.coop_snapshots:
                picks = self.rng.choice(len(pool), size=min(self.config.coop_snapshots, len(pool)), replace=False)
                players += [self.pool.entrant(pool[int(i)].name) for i in picks]
            for entrant in players:
                tasks.append(GameTask(index=state.games + len(tasks), seed=seed, lineup=(entrant,)))
        return tasks
