"""`league train`: the trainer loop, in the shape of OpenSpiel's PSRO v2 `iteration()`.

Each iteration: play a round (actors, with its learning) -> record it (ratings, store,
meta-game) -> snapshot and evaluate each learner -> checkpoint when due. The parts each do
one job: `Scheduler` (who plays whom), actors (`InlineActors` at lag 0, `PipelinedActors`
overlapping play and learning), `Recorder`, `MetaGame`, `Evaluator`, `Pool`, and the
checkpoint's `TrainerState`.

Example:
    >>> from league.train.loop import Trainer, Event  # the loop and what it reports
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from agents.base import Learner, LearnerError
from agents.registry import make_learner
from games.base import Game, derive_seed
from league.play.backends import Backend
from league.play.entrants import resolve, save_snapshot
from league.play.openings import training_openings_problem
from league.rate.exact import exploitability_supported
from league.rate.ratings import rater_from
from league.rate.recorder import Recorder
from league.store.database import Store
from league.train.actors import PlayedRound, make_actors
from league.train.checkpoints import (
    ResumeError,
    load_learner,
    orphan_snapshot_files,
    prune,
    read_trainer_state,
    save_learner,
    write_trainer_state,
)
from league.train.config import ConfigError, TrainConfig
from league.train.evaluator import Evaluator
from league.train.matchmaking import Mix
from league.train.metagame import MetaGame
from league.train.pool import TEAM_ALGORITHMS, Pool
from league.train.schedule import Scheduler
from league.train.state import TrainerState

SEED_RANGE = 2**31  # learners' torch seeds are drawn below this
RESET_CHANCE = {"main_exploiter": 1.0, "league_exploiter": 0.25}  # AlphaStar: exploiters restart after a snapshot


@dataclass
class Event:
    """Something the live display shows: a round, a snapshot, an evaluation, a checkpoint."""

    kind: str  # "round" | "snapshot" | "evaluation" | "checkpoint"
    text: str
    data: dict = field(default_factory=dict)


class Trainer:
    """The league's training loop over its parts (see the module docstring)."""

    def __init__(self, store: Store, game: Game, config: TrainConfig, *,
                 on_event: Callable[[Event], None] | None = None, backend: Backend | None = None):
        if not config.learners:
            raise LearnerError("a league needs at least one learner, e.g. --algo mappo")
        self.store, self.game, self.spec, self.config = store, game, game.spec, config
        self.on_event = on_event or (lambda event: None)
        self.learners: dict[str, Learner] = {}
        for k, entry in enumerate(config.learners):
            self.learners[entry.name] = make_learner(
                entry.algo, self.spec, entry.role or self.spec.sides[0].role, config=entry.config,
                seed=int(derive_seed(config.seed, k, entry.seed) % SEED_RANGE), device=config.device)
        self.positions = {e.name: e.position for e in config.learners}
        self.mixes = {e.name: Mix.from_mapping({**config.matchmaking, **e.matchmaking}) for e in config.learners}
        self.resets = {e.name: e.reset or RESET_CHANCE.get(e.position, 0.0) for e in config.learners}
        self.baselines = {e.name: e for e in resolve(list(config.pool_baselines), self.spec)}
        self._check_roles()
        self._check_openings()
        self.initial = {name: self.learners[name].state_dict() for name, chance in self.resets.items() if chance > 0}
        self.recorder = Recorder(store, rater_from(config.ratings), self.spec.name)
        self.exploitable = config.evaluation.exploitability and exploitability_supported(self.spec) is None
        self.rng = np.random.default_rng(config.seed)
        self.lag = config.lag if backend is not None else 0
        self.actors = make_actors(game, self.learners, backend, store, batch_games=config.batch_games, lag=self.lag,
                                  seed=config.seed)
        self._assemble(TrainerState.start(list(self.learners), evaluate_every=config.evaluation.every), MetaGame())
        self.stop_requested = False
        self.draining = False  # a checkpoint is due: no new rounds until those in flight are learned
        self.steps_per_second = 0.0
        # wall seconds: whole iterations, the learners' share, the wait for actors, evaluations, checkpoints
        self.timings = dict.fromkeys(("round", "learn", "play", "evaluate", "checkpoint"), 0.0)

    def _assemble(self, state: TrainerState, metagame: MetaGame) -> None:
        """The parts over one trainer state (a new run, or one restored from a checkpoint)."""
        self.state, self.metagame = state, metagame
        self.pool = Pool(self.store, self.spec, self.learners, self.positions, self.baselines,
                         cache_size=self.config.pool_cache)
        self.pool.snapshots = state.snapshots
        self.scheduler = Scheduler(self.game, self.config, self.pool, metagame, self.mixes, self.rng)
        self.evaluator = Evaluator(self.game, self.config, self.pool, metagame, self.recorder)

    def _check_roles(self) -> None:
        """Every side must be fillable: by a learner of its role or by the pool's baselines."""
        if len(self.spec.sides) == 1:
            return
        roles = {learner.role for learner in self.learners.values()}
        for learner in self.learners.values():
            for side in self.spec.sides:
                if side.role != learner.role and side.role not in roles and not self.baselines:
                    raise LearnerError(
                        f"{self.spec.name} needs a learner for role {side.role!r} too (its opponents), "
                        f"e.g. [[learners]] algo = \"mappo\" role = \"{side.role}\", or pool_baselines = [\"random\"]")

    def _check_openings(self) -> None:
        """`opening_plies` needs a turn-based game without chance, and room to play after it."""
        problem = training_openings_problem(self.game, self.config.opening_plies) if self.config.opening_plies else None
        if problem is not None:
            raise ConfigError(problem)

    @property
    def steps(self) -> dict[str, int]:
        """Per learner: game steps in which it moved (survives exploiter resets)."""
        return self.state.steps

    @property
    def snapshots(self) -> list[str]:
        return self.state.snapshots

    # -- the loop ---------------------------------------------------------------------------
    def run(self) -> None:
        """Train until every learner has `steps` env steps or a stop is requested; checkpoint at the end."""
        self.register_players()
        if self.state.round == 0 and read_trainer_state(self.store) is None:
            self.checkpoint()
        while not self.done() and not self.stop_requested:
            self.iteration()
        while self.actors.in_flight():  # rounds already played are learned and stored, never dropped
            self.learn_and_record()
        if self.done():
            self.finish()
            self.on_event(Event("round", f"round {self.state.round} (end of training)", self.status()))
        self.checkpoint()

    def finish(self) -> None:
        """The end of training: a last snapshot and evaluation of every learner (unless it had
        one at this very step), so the pool's newest member and the leaderboard are current.
        A run whose evaluation interval exceeds its steps asked for no evaluations, and gets none."""
        evaluates = self.config.evaluation.every <= self.config.steps
        for name in self.learners:
            if self.state.last_snapshot[name] != self.state.steps[name] or not self.pool.snapshots_of(name):
                self.snapshot(name, "end of training")
            if evaluates and self.state.last_eval[name] != self.state.steps[name]:
                self.evaluate(name)

    def done(self) -> bool:
        return all(steps >= self.config.steps for steps in self.state.steps.values())

    def iteration(self) -> None:
        """One PSRO-style iteration: play -> record -> snapshot and evaluate -> checkpoint when due."""
        while not self.draining and self.actors.in_flight() <= self.lag and not self._enough_in_flight():
            tasks = self.scheduler.round_tasks(self.state)
            self.state.games += len(tasks)
            self.actors.submit(tasks, version=self.state.round)
        self.learn_and_record()
        if min(self.state.steps.values()) - self.state.last_checkpoint >= self.config.checkpoint_every:
            self.draining = True
        if self.draining and not self.actors.in_flight():
            self.checkpoint()
            self.draining = False

    def _enough_in_flight(self) -> bool:
        """True when the rounds in flight will, at the last round's pace, take every learner to its
        steps: no more rounds are started, so training overshoots by at most one round."""
        if not self.actors.in_flight():
            return False
        return all(self.state.steps[n] + self.actors.in_flight() * self.state.pace.get(n, 0) >= self.config.steps
                   for n in self.learners)

    def learn_and_record(self) -> None:
        started = time.perf_counter()
        played = self.actors.next_round()
        for name, moved in played.moved.items():
            self.state.steps[name] += moved
        self.state.pace = dict(played.moved)
        self.record(played)
        self.state.round += 1
        self.timings["learn"] += played.learn_seconds
        self.timings["play"] += played.play_seconds
        self.steps_per_second = sum(played.moved.values()) / max(time.perf_counter() - started, 1e-9)
        evaluating = time.perf_counter()
        for name in self.learners:
            self.maybe_snapshot(name)
            self.maybe_evaluate(name)
        self.timings["evaluate"] += time.perf_counter() - evaluating
        self.timings["round"] += time.perf_counter() - started
        self.on_event(Event("round", f"round {self.state.round}", {**self.status(), "metrics": played.metrics}))

    def record(self, played: PlayedRound) -> None:
        """Rate and store the round's games in one transaction; the meta-game and metrics follow."""
        self.recorder.record(played.records, "training", indexed=True)
        for record in played.records:
            self.metagame.add_game(record.sides, record.ranks, record.returns)
        for name, values in played.metrics.items():
            if values:
                self.store.add_metrics(name, self.state.steps[name], values)

    def status(self) -> dict:
        return {"round": self.state.round, "games": self.state.games, "steps": dict(self.state.steps),
                "steps_per_second": self.steps_per_second, "pool": len(self.state.snapshots),
                "evaluation": self.state.latest_eval}

    def register_players(self) -> None:
        for name, learner in self.learners.items():
            if self.store.player(name) is None:
                kind = "team" if learner.algorithm in TEAM_ALGORITHMS else "learner"
                self.store.add_player(name, kind, algorithm=learner.algorithm, role=learner.role,
                                      meta={"position": self.positions[name]} if self.positions[name] else None)
        for name in self.baselines:
            if self.store.player(name) is None:
                self.store.add_player(name, "baseline")

    # -- snapshots and evaluations -------------------------------------------------------------
    def maybe_snapshot(self, name: str) -> None:
        """AlphaStar's rule: not before min_steps; then when it beats its recent opponents
        win_rate of the time in dedicated games; always after max_steps (both grown by `growth`)."""
        rule, state = self.config.snapshots, self.state
        since = state.steps[name] - state.last_snapshot[name]
        min_steps, max_steps = rule.steps_after(len(self.pool.snapshots_of(name)))
        if since < min_steps:
            return
        reason = "max_steps"
        if since < max_steps:
            opponents = self.evaluator.rule_opponents(name, state.recent[name])
            if not opponents:
                reason = "first snapshot"
            else:
                win = self.evaluator.win_rate_against(name, opponents, rule.eval_games, state.round)
                if win < rule.win_rate:
                    return
                reason = f"win rate {win:.2f} against {', '.join(opponents)}"
        self.snapshot(name, reason)

    def snapshot(self, name: str, reason: str) -> str:
        """Freeze a learner's current policy into the pool."""
        learner, state = self.learners[name], self.state
        snap = f"{name}-{len(self.pool.snapshots_of(name)) + 1:03d}"
        tensors, meta = learner.policy_state()
        kind = "team" if learner.algorithm in TEAM_ALGORITHMS else "snapshot"
        save_snapshot(self.store, snap, tensors, {**meta, "game": self.spec.name, "algorithm": learner.algorithm,
                                                  "role": learner.role},
                      kind=kind, parent=name, step=state.steps[name])
        # the snapshot is the learner's current weights, so it starts with the learner's rating:
        # the same evidence (a fresh sigma would keep the last snapshot of a run from ever
        # being its champion, unrated however strong)
        parent = self.store.rating(name)
        initial = self.recorder.rater.initial()
        self.store.set_rating(snap, *(parent[:2] if parent else (initial.mu, initial.sigma)))
        state.snapshots.append(snap)
        state.last_snapshot[name] = state.steps[name]
        state.recent[name] = {}
        notes, data = [reason], {"snapshot": snap, "learner": name, "step": state.steps[name]}
        if self.exploitable:
            self.evaluator.exact_meta(snap)
            value = self.evaluator.snapshot_exploitability(snap)
            self.store.add_metrics(snap, state.steps[name], {"exploitability": value})
            notes.append(f"exploitability {value:.4f}")
            data["exploitability"] = value
        elif self.config.snapshots.meta_games:
            self.evaluator.meta_games(snap, state.round)
        chance = self.resets[name]
        if chance >= 1.0 or (chance > 0 and self.rng.random() < chance):
            learner.load_state_dict(*self.initial[name])  # back to its initial weights (AlphaStar)
            notes.append("reset to its initial weights")
        self.on_event(Event("snapshot", f"snapshot {snap} of {name} at step {state.steps[name]:,} ({'; '.join(notes)})",
                            data))
        return snap

    def maybe_evaluate(self, name: str) -> None:
        if self.state.steps[name] - self.state.last_eval[name] >= self.config.evaluation.every:
            self.evaluate(name)

    def evaluate(self, name: str) -> None:
        """Play the reference bots (and compute exploitability where exact); store and report the scores."""
        state = self.state
        state.last_eval[name] = state.steps[name]
        scores = self.evaluator.against_bots(name)
        if self.exploitable:
            scores.update(self.evaluator.exploitabilities(name))
        state.latest_eval[name] = scores
        if scores:
            self.store.add_metrics(name, state.steps[name],
                                   {(k if k.startswith("exploitability") else f"eval/{k}"): v for k, v in scores.items()})
            shown = ", ".join(f"{o} {v:.3f}" for o, v in scores.items())
            self.on_event(Event("evaluation", f"{name} at step {state.steps[name]:,}: {shown}",
                                {"learner": name, "step": state.steps[name], "scores": scores}))

    # -- checkpoints and resume ----------------------------------------------------------------
    def checkpoint(self) -> None:
        """Learners' files first, then trainer.json (the commit point); nothing may be in flight."""
        started = time.perf_counter()
        files = {name: save_learner(self.store, name, learner, self.state.round) for name, learner in self.learners.items()}
        self.state.last_checkpoint = min(self.state.steps.values())
        self.state.metagame = self.metagame.state()
        self.state.rng = self.rng.bit_generator.state
        write_trainer_state(self.store, {"config": self.config.to_toml(), "learners": files,
                                         "store": self.store.last_ids(), **self.state.to_json()})
        prune(self.store, {path for f in files.values() for path in (f["weights"], f["manifest"])})
        self.timings["checkpoint"] += time.perf_counter() - started
        self.on_event(Event("checkpoint", f"checkpoint at round {self.state.round}", {"round": self.state.round}))

    def resume(self) -> bool:
        """Restore the last checkpoint and undo what was stored after it; False if there is none."""
        saved = read_trainer_state(self.store)
        if saved is None:
            return False
        if set(self.learners) != set(saved["learners"]):
            raise ResumeError(f"the run's checkpoint has learners {sorted(saved['learners'])}, "
                              f"the configuration {sorted(self.learners)}")
        for name, learner in self.learners.items():
            load_learner(self.store, learner, saved["learners"][name])
        state = TrainerState.from_json(saved)
        later = [p.name for p in self.store.players() if p.parent in self.learners and p.name not in set(state.snapshots)]
        self.store.rollback(after_match=saved["store"]["match"], after_metric=saved["store"]["metric"],
                            drop_players=later)
        orphan_snapshot_files(self.store, {p.name for p in self.store.players()})
        self.rng.bit_generator.state = state.rng
        self._assemble(state, MetaGame.from_state(state.metagame))
        return True

    def close(self) -> None:
        self.actors.close()

