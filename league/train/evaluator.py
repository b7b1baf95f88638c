"""Dedicated games outside training: the snapshot rule's games, PSRO's meta games, evaluations
against reference bots, and exact exploitability where the game allows it.

Every such game is seeded from the run's seed, a salt naming its purpose, and the round, so
a resumed run plays exactly the games an uninterrupted one would.
"""

from __future__ import annotations

from typing import Sequence

from games.base import Game, derive_seed
from league.play.entrants import resolve
from league.play.openings import default_plies, needs_openings, with_openings
from league.play.runner import Entrant, GameRecord, GameTask, run
from league.play.infostates import Tables, mixture_tables
from league.rate.exact import exploitability, tables, tables_exploitability, tables_payoffs
from league.rate.recorder import Recorder
from league.train.config import TrainConfig
from league.train.metagame import MetaGame
from league.train.pool import Pool
from league.train.selfplay import lineups, score

# salts of derive_seed: each purpose of dedicated games draws its own seeds
SNAPSHOT_RULE_SALT = 0x5EED
META_GAMES_SALT = 0x3E7A
EVALUATION_SALT = 0xE7A1
MAX_RULE_OPPONENTS = 4  # the snapshot rule plays at most this many of the opponents met since the last snapshot


class Evaluator:
    """Plays and records the league's dedicated games."""

    def __init__(self, game: Game, config: TrainConfig, pool: Pool, metagame: MetaGame, recorder: Recorder):
        self.game, self.spec, self.config = game, game.spec, config
        self.pool, self.metagame, self.recorder = pool, metagame, recorder
        self.bots = resolve(list(config.evaluation.opponents), self.spec)
        self._tables: dict[str, Tables] = {}  # frozen snapshots' distributions at every information state

    def _frozen_tables(self, snap: str) -> Tables:
        """A snapshot's tables for the exact computations, kept: its weights never change."""
        if snap not in self._tables:
            self._tables[snap] = tables(self.pool.entrant(snap).policy, self.spec)
        return self._tables[snap]

    def _games(self, me: Entrant, role: str, opponent: Entrant, n_games: int, *salt: int) -> list[GameRecord]:
        """Games of `me` on each side of `role` against `opponent`, sides alternated, seeds shared per pair
        (and, when both play deterministically, the same random opening per pair, as tournaments do)."""
        options = lineups(self.spec, role, me, opponent)
        tasks = [GameTask(index=j, seed=derive_seed(self.config.seed, *salt, j // len(options)),
                          lineup=options[j % len(options)]) for j in range(n_games)]
        if needs_openings(self.game, [me, opponent]):  # deterministic players: a random opening per pair
            tasks, _ = with_openings(self.game, tasks, default_plies(self.spec))
        return run(self.game, tasks, batch=min(n_games, self.config.batch_games))

    def _role(self, name: str) -> str:
        return self.pool.role_of(name) or self.spec.sides[0].role

    def win_rate_against(self, name: str, opponents: Sequence[str], n_games: int, round_index: int) -> float:
        """The snapshot rule's test: `name`'s evaluation behaviour against the frozen `opponents`."""
        per = max(2, (n_games // len(opponents)) // 2 * 2)
        records: list[GameRecord] = []
        me = self.pool.evaluation_entrant(name)
        for k, opponent in enumerate(opponents):
            records += self._games(me, self._role(name), self.pool.entrant(opponent), per,
                                   SNAPSHOT_RULE_SALT + k, round_index)
        self.recorder.record(records, "evaluation")
        return score(records, name)

    def rule_opponents(self, name: str, recent: dict[str, int]) -> list[str]:
        """The frozen stand-ins of the opponents `name` met since its last snapshot (most met first)."""
        out = []
        for opponent, _ in sorted(recent.items(), key=lambda item: (-item[1], item[0])):
            if opponent in self.pool.learners:
                theirs = self.pool.snapshots_of(opponent)
                opponent = theirs[-1] if theirs else None
            if opponent is not None and opponent not in out:
                out.append(opponent)
        return out[:MAX_RULE_OPPONENTS]

    def meta_games(self, snap: str, round_index: int) -> None:
        """PSRO's empirical game: a new snapshot plays every other pool member of its role."""
        me = self.pool.entrant(snap)
        for k, other in enumerate(h.name for h in self.pool.historical(self._role(snap))):
            if other != snap:
                records = self._games(me, self._role(snap), self.pool.entrant(other), self.config.snapshots.meta_games,
                                      META_GAMES_SALT + k, round_index)
                self.recorder.record(records, "evaluation")

    def exact_meta(self, snap: str) -> None:
        """Small zero-sum games: a new snapshot's exact expected return against every pool member
        (PSRO on poker: the Nash mixture carries no sampling noise)."""
        others = [h.name for h in self.pool.historical(self._role(snap)) if h.name != snap]
        values = tables_payoffs(self._frozen_tables(snap), [self._frozen_tables(o) for o in others], self.spec)
        for other, value in zip(others, values):
            self.metagame.set_exact(snap, other, float(value))

    def snapshot_exploitability(self, snap: str) -> float:
        return tables_exploitability(self._frozen_tables(snap), self.spec)

    def against_bots(self, name: str) -> dict[str, float]:
        """Score against each reference bot: win rate, or mean return in a one-side game."""
        results = {}
        me = self.pool.evaluation_entrant(name)
        n = self.config.evaluation.games
        for k, bot in enumerate(self.bots):
            if len(self.spec.sides) > 1:
                records = self._games(me, self._role(name), bot, n, EVALUATION_SALT, k)
            else:
                tasks = [GameTask(index=j, seed=derive_seed(self.config.seed, EVALUATION_SALT, j), lineup=(me,))
                         for j in range(n)]
                records = run(self.game, tasks, batch=min(n, self.config.batch_games))
            self.recorder.record(records, "evaluation")
            results[bot.name] = score(records, name)
        return results

    def exploitabilities(self, name: str) -> dict[str, float]:
        """Exact exploitability of a learner and of the Nash mixture over its role's pool."""
        out = {"exploitability": exploitability(self.pool.learners[name].policy(), self.spec)}
        pool = [h.name for h in self.pool.historical(self.pool.learners[name].role)]
        if pool:
            weights = self.metagame.nash_weights(pool)
            mixture = mixture_tables([self._frozen_tables(p) for p in pool], weights, self.spec)
            out["exploitability/meta"] = tables_exploitability(mixture, self.spec)
        return out
