"""Playing training rounds and feeding their steps to the learners.

Two ways, one result:
  - lag 0 (`InlineActors`): the round is played in this process and every runner step goes
    straight to the learners, which update as they go (the serial loop; tests and debugging);
  - lag >= 1 (`PipelinedActors`): actor workers (local processes or Ray actors, through a
    backend) play the next rounds while the learners here update on the last one. Round r is
    played with the weights learned from rounds up to r - 1 - lag, sent once per round with
    their version; every step comes back tagged with that version and reaches the learners
    exactly once, in game order. The lag is fixed, so results never depend on timing.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any, Sequence

from agents.base import Learner, LearnerError, StepBatch
from agents.checkpoint import pack
from games.base import Game
from league.play.backends import Backend, EntrantSpec, LearnerSpec, _spec_of
from league.play.entrants import snapshot_paths
from league.play.runner import GameRecord, GameTask, run
from league.results import members
from league.store.database import Store


@dataclass
class PlayedRound:
    """A round's finished games and, once learned, what the learners made of it."""

    tasks: list[GameTask]
    records: list[GameRecord] = field(default_factory=list)
    version: int = 0  # the learners' weights it was played with (rounds learned before it)
    moved: dict[str, int] = field(default_factory=dict)  # per learner: game steps in which it moved
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)  # per learner: mean of each update metric
    play_seconds: float = 0.0
    learn_seconds: float = 0.0


class Learning:
    """Feeds runner steps to the learners: observe, update, count moves, average metrics, check for NaN."""

    def __init__(self, learners: dict[str, Learner]):
        self.learners = learners
        self.sums: dict[str, dict[str, float]] = {n: defaultdict(float) for n in learners}
        self.counts: dict[str, dict[str, int]] = {n: defaultdict(int) for n in learners}
        self.moved = dict.fromkeys(learners, 0)
        self.seconds = 0.0

    def __call__(self, batch: StepBatch) -> None:
        started = time.perf_counter()
        for name, learner in self.learners.items():
            self.moved[name] += int(batch.moved(name, learner.seats).sum())
            learner.observe(batch, name)
            try:
                metrics = learner.update()  # a non-finite metric stops training with one sentence
            except LearnerError as error:
                raise LearnerError(f"learner {name!r}: {error}") from None
            for key, value in metrics.items():
                self.sums[name][key] += value
                self.counts[name][key] += 1
        self.seconds += time.perf_counter() - started

    def finish(self, played: PlayedRound) -> PlayedRound:
        played.moved = dict(self.moved)
        played.metrics = {n: {k: self.sums[n][k] / self.counts[n][k] for k in self.sums[n]} for n in self.learners}
        played.learn_seconds = self.seconds
        return played


class InlineActors:
    """Lag 0: plays each round here, the learners updating after every step."""

    lag = 0

    def __init__(self, game: Game, learners: dict[str, Learner], batch_games: int, seed: int):
        self.game, self.learners = game, learners
        self.env = game.make(batch_games, seed=seed)
        self.with_state = any(learner.needs_state for learner in learners.values())
        self._queue: deque[list[GameTask]] = deque()

    def submit(self, tasks: list[GameTask], version: int) -> None:
        self._queue.append(tasks)

    def next_round(self) -> PlayedRound:
        tasks = self._queue.popleft()
        learning = Learning(self.learners)
        started = time.perf_counter()
        records = run(self.game, tasks, env=self.env, on_step=learning, with_state=self.with_state)
        played = learning.finish(PlayedRound(tasks, records))
        played.play_seconds = time.perf_counter() - started - played.learn_seconds
        return played

    def in_flight(self) -> int:
        return len(self._queue)

    def close(self) -> None:
        pass


class PipelinedActors:
    """Lag >= 1: rounds are played by the backend's workers while the learners learn here."""

    def __init__(self, game: Game, learners: dict[str, Learner], backend: Backend, store: Store, *,
                 batch_games: int, lag: int):
        self.game, self.learners, self.backend, self.store = game, learners, backend, store
        self.batch_games, self.lag = batch_games, lag
        self.with_state = any(learner.needs_state for learner in learners.values())
        self._flight: deque[tuple[list[GameTask], list[Any], int, float]] = deque()
        self._frozen: dict[str, EntrantSpec] = {}

    def submit(self, tasks: list[GameTask], version: int) -> None:
        """Start a round on the workers with the learners' current weights (version `version`)."""
        started = time.perf_counter()
        shares = max(1, min(self.backend.workers, len(tasks)))
        size = -(-len(tasks) // shares)
        chunks = [[_spec_of(t) for t in tasks[k:k + size]] for k in range(0, len(tasks), size)]
        handles = self.backend.submit_rollouts(self.game, self._learner_specs(), self._frozen_specs(tasks), chunks,
                                               max(1, self.batch_games // shares), self.with_state)
        self._flight.append((tasks, handles, version, time.perf_counter() - started))

    def next_round(self) -> PlayedRound:
        """The oldest round in flight, once played, fed to the learners in game order."""
        tasks, handles, version, submit_seconds = self._flight.popleft()
        started = time.perf_counter()
        results = self.backend.collect_rollouts(handles)
        waited = time.perf_counter() - started
        learning = Learning(self.learners)
        records: list[GameRecord] = []
        for chunk_records, steps in results:
            for step in steps:
                learning(step)
            records += chunk_records
        played = learning.finish(PlayedRound(tasks, sorted(records, key=lambda r: r.index), version))
        played.play_seconds = waited + submit_seconds  # the learners' wait for the actors
        return played

    def in_flight(self) -> int:
        return len(self._flight)

    def close(self) -> None:
        self._flight.clear()

    def _learner_specs(self) -> list[LearnerSpec]:
        specs = []
        for name, learner in self.learners.items():
            tensors, meta = learner.policy_state()
            blob, manifest = pack(tensors, {**meta, "game": learner.spec.name, "algorithm": learner.algorithm,
                                            "role": learner.role})
            specs.append(LearnerSpec(name, blob, manifest, learner.exploration()))
        return specs

    def _frozen_specs(self, tasks: Sequence[GameTask]) -> list[EntrantSpec]:
        """Baselines by name and snapshots by their verified weights (read once per run)."""
        names = {m for task in tasks for slot in task.lineup
                 for entrant in (slot if isinstance(slot, tuple) else (slot,)) for m in members(entrant.name)}
        out = []
        for name in sorted(names - set(self.learners)):
            if name not in self._frozen:
                self._frozen[name] = self._frozen_spec(name)
            out.append(self._frozen[name])
        return out

    def _frozen_spec(self, name: str) -> EntrantSpec:
        player = self.store.player(name)
        if player is None or not player.weights_path:
            return EntrantSpec(name)
        weights, manifest_path = snapshot_paths(name)
        return EntrantSpec(name, self.store.verify_file(weights, player.weights_sha256).read_bytes(),
                           json.loads(self.store.verify_file(manifest_path, player.meta["manifest_sha256"]).read_text()))


Actors = InlineActors | PipelinedActors


def make_actors(game: Game, learners: dict[str, Learner], backend: Backend | None, store: Store, *,
                batch_games: int, lag: int, seed: int) -> Actors:
    """Inline actors for lag 0 in this process (or no backend), pipelined ones otherwise."""
    if backend is None or (backend.name == "local" and lag == 0):
        return InlineActors(game, learners, batch_games, seed)
    return PipelinedActors(game, learners, backend, store, batch_games=batch_games, lag=lag)

