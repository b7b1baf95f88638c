"""Where games are played: in this process, in a local process pool, or on a Ray cluster.

Every backend has the runner's shape: it takes a (possibly lazy) stream of games and calls
`on_record` in the driver for each finished game, so the driver alone writes the store and
the ratings and every result is committed once. Remote backends ship chunks of games as
tasks; a worker rebuilds the game and the entrants (reference bots by name, snapshots from
their safetensors bytes) and plays its chunk with the batched runner. Each game depends only
on its seed and entrants, so a chunk played anywhere gives the same records as at home. A
chunk whose worker dies is played again (Ray retries it; the process pool resubmits it) and
its records are reported once, when it completes. On Ray that includes a whole node lost
mid-chunk: Ray plays the chunk again on a live node (and rebuilds a finished result that was
stored on the dead node), and once Ray's own retries are spent the driver resubmits it.

Example:
    >>> import games
    >>> from league.play.entrants import resolve
    >>> from league.play.runner import schedule
    >>> game = games.load("tic_tac_toe")
    >>> tasks = schedule(game.spec, resolve(["random", "mcts:5"], game.spec), 4, seed=1)
    >>> seen = []
    >>> make_backend("local").run(game, tasks, on_record=seen.append)
    >>> sorted(r.index for r in seen)
    [0, 1, 2, 3]
"""

from __future__ import annotations

import itertools
import os
from abc import ABC, abstractmethod
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator, Sequence

from games.base import Game
from games.errors import LeagueError
from league.play.runner import (
    Entrant,
    GameRecord,
    GameTask,
    RunnerError,
    run,
    slot_members,
)

BACKENDS = ("local", "process", "ray")


class BackendError(LeagueError, RuntimeError):
    """A backend that cannot start or cannot play (no Ray, unreachable cluster, dead workers)."""


@dataclass(frozen=True)
class EntrantSpec:
    """What a remote worker needs to rebuild an entrant: a baseline name, or snapshot weights."""

    name: str
    blob: bytes | None = None  # safetensors bytes of a snapshot
    manifest: dict | None = None

    def build(self, game: Game) -> Entrant:
        if self.blob is None:
            from agents.baselines import make_baseline

            return Entrant(self.name, make_baseline(self.name, game.spec))
        from agents.checkpoint import unpack
        from agents.registry import load_policy

        tensors, meta = unpack(self.blob, self.manifest or {})
        return Entrant(self.name, load_policy(game.spec, tensors, meta))


@dataclass(frozen=True)
class TaskSpec:
    """A game to play remotely: its index, seed and the entrant names per side (tuples for pick-up teams)."""

    index: int
    seed: int
    lineup: tuple[str | tuple[str, ...], ...]
    opening: tuple[int, ...] = ()  # actions played for the entrants first (GameTask.opening)


def _spec_of(task: GameTask) -> TaskSpec:
    names = tuple(tuple(e.name for e in slot) if isinstance(slot, tuple) else slot.name for slot in task.lineup)
    return TaskSpec(task.index, task.seed, names, task.opening)


def play_chunk(game_ref: str, entrants: Sequence[EntrantSpec], tasks: Sequence[TaskSpec], batch: int,
               forfeits: bool, move_timeout: float | None) -> list[GameRecord]:
    """Play one chunk of games in this process (what a worker runs)."""
    import games
    from league.threads import limit_threads

    limit_threads()

    game = games.load(game_ref)
    built = {spec.name: spec.build(game) for spec in entrants}
    jobs = [GameTask(t.index, t.seed, tuple(tuple(built[n] for n in slot) if isinstance(slot, tuple) else built[slot]
                                            for slot in t.lineup), t.opening) for t in tasks]
    return run(game, jobs, batch=batch, forfeits=forfeits, move_timeout=move_timeout)


@dataclass(frozen=True)
class LearnerSpec:
    """A learner's current policy for remote rollouts: its weights and how much it explores."""

    name: str
    blob: bytes
    manifest: dict
    exploration: dict[str, float] = field(default_factory=dict)  # the learner's `exploration()`


def rollout_chunk(game_ref: str, learners: Sequence[LearnerSpec], others: Sequence[EntrantSpec],
                  tasks: Sequence[TaskSpec], batch: int, with_state: bool) -> tuple[list[GameRecord], list]:
    """Play training games remotely; returns the records and every step (steps name their players,
    so the driver feeds them to its learners by name)."""
    import games
    from league.threads import limit_threads

    limit_threads()
    from agents.checkpoint import unpack
    from agents.registry import load_policy

    game = games.load(game_ref)
    built: dict[str, Entrant] = {spec.name: spec.build(game) for spec in others}
    from agents.base import StochasticPolicy

    stochastic: dict[str, StochasticPolicy] = {}
    for spec in learners:
        tensors, meta = unpack(spec.blob, spec.manifest)
        policy = load_policy(game.spec, tensors, meta, exploration=spec.exploration)
        built[spec.name] = Entrant(spec.name, policy, explore=True)
        if isinstance(policy, StochasticPolicy):
            stochastic[spec.name] = policy
    steps: list = []

    def keep(step) -> None:
        """Record the behaviour log-probabilities of the learners' sampled moves with these weights
        (on-policy learners correct for the lag with them)."""
        if stochastic:
            from dataclasses import replace

            import numpy as np

            log_prob = {seat: np.full(len(step.who[seat]), np.nan, np.float32) for seat in step.who}
            for name, policy in stochastic.items():
                for seat in log_prob:
                    rows = np.flatnonzero(step.rows_of(name, seat))
                    if len(rows):
                        log_prob[seat][rows] = policy.log_prob(step.obs[seat][rows], step.mask[seat][rows],
                                                               step.actions[seat][rows], seat=seat)
            step = replace(step, log_prob=log_prob)
        steps.append(step)

    jobs = [GameTask(t.index, t.seed, tuple(tuple(built[n] for n in slot) if isinstance(slot, tuple) else built[slot]
                                            for slot in t.lineup), t.opening) for t in tasks]
    records = run(game, jobs, batch=batch, on_step=keep, with_state=with_state)
    return records, steps


class Backend(ABC):
    """Plays streams of games; `on_record` runs in the calling process for each finished game."""

    name: str
    workers: int

    def submit_rollouts(self, game: Game, learners: Sequence[LearnerSpec], others: Sequence[EntrantSpec],
                        chunks: Sequence[Sequence[TaskSpec]], batch: int, with_state: bool) -> list[Any]:
        """Start training games, chunk by chunk, on the workers; returns one handle per chunk.

        The learners' weights are sent once for all chunks. Here (no workers) the chunks are
        played at once and the handles are their results."""
        return [rollout_chunk(game.ref, learners, others, chunk, batch, with_state) for chunk in chunks]

    def collect_rollouts(self, handles: Sequence[Any]) -> list[tuple[list, list]]:
        """(records, steps) of each chunk, in chunk order, once they are played (a lost worker's
        chunk is played again)."""
        return list(handles)

    def rollouts(self, game: Game, learners: Sequence[LearnerSpec], others: Sequence[EntrantSpec],
                 chunks: Sequence[Sequence[TaskSpec]], batch: int, with_state: bool) -> list[tuple[list, list]]:
        """Training games, chunk by chunk (results in chunk order)."""
        return self.collect_rollouts(self.submit_rollouts(game, learners, others, chunks, batch, with_state))

    @abstractmethod
    def run(self, game: Game, tasks: Iterable[GameTask], *, on_record: Callable[[GameRecord], None],
            batch: int = 128, forfeits: bool = False, move_timeout: float | None = None,
            entrant_specs: Callable[[Entrant], EntrantSpec] | None = None) -> None:
        """Play every task (the stream may be lazy) and report each record once."""

    def close(self) -> None:
        """Release workers."""


class LocalBackend(Backend):
    """In this process: the batched runner itself.

    `workers` only says into how many chunks a training round is shared (as a distributed
    backend with that many workers shares it), so a run here replays, step for step, one
    played on a process pool or a Ray cluster of that size; the chunks are played one by one.
    """

    name = "local"

    def __init__(self, workers: int = 1):
        self.workers = max(1, int(workers))

    def run(self, game, tasks, *, on_record, batch=128, forfeits=False, move_timeout=None, entrant_specs=None):
        run(game, tasks, batch=batch, on_record=on_record, collect=False, forfeits=forfeits, move_timeout=move_timeout)


def _chunks(tasks: Iterable[GameTask], size: int) -> Iterator[list[GameTask]]:
    iterator = iter(tasks)
    while True:
        chunk = list(itertools.islice(iterator, size))
        if not chunk:
            return
        yield chunk


class _Distributed(Backend):
    """Shared driver loop: keep `2 * workers` chunks in flight, report each completed chunk once."""

    chunk_size = 32

    def __init__(self, workers: int):
        self.workers = max(1, int(workers))

    @abstractmethod
    def _submit(self, args: tuple) -> Any:
        """Start play_chunk(*args) somewhere; returns a handle."""

    @abstractmethod
    def _wait(self, handles: list[Any]) -> tuple[list[Any], list[Any]]:
        """(done, pending) once at least one handle is done."""

    @abstractmethod
    def _result(self, handle: Any) -> list[GameRecord]:
        """The records of a done handle; raises BackendError on a failure that retries cannot fix."""

    def run(self, game, tasks, *, on_record, batch=128, forfeits=False, move_timeout=None, entrant_specs=None):
        specs: dict[str, EntrantSpec] = {}
        per_chunk = max(1, min(batch, self.chunk_size))
        stream = _chunks(tasks, per_chunk)
        in_flight: dict[Any, list[GameTask]] = {}

        def submit() -> bool:
            chunk = next(stream, None)
            if chunk is None:
                return False
            for task in chunk:
                for side, slot in enumerate(task.lineup):
                    for _, entrant in slot_members(game.spec, side, slot):
                        if entrant.name not in specs:
                            specs[entrant.name] = entrant_specs(entrant) if entrant_specs else EntrantSpec(entrant.name)
            names = {e.name for t in chunk for side, slot in enumerate(t.lineup)
                     for _, e in slot_members(game.spec, side, slot)}
            handle = self._submit((game.ref, [specs[n] for n in sorted(names)], [_spec_of(t) for t in chunk],
                                   len(chunk), forfeits, move_timeout))
            in_flight[handle] = chunk
            return True

        while len(in_flight) < 2 * self.workers and submit():
            pass
        while in_flight:
            done, _ = self._wait(list(in_flight))
            for handle in done:
                in_flight.pop(handle)
                for record in self._result(handle):
                    on_record(record)
                # the stream is lazy (SPRT decisions made in on_record shape what comes next)
                while len(in_flight) < 2 * self.workers and submit():
                    pass


class ProcessBackend(_Distributed):
    """A pool of local processes, one per core by default."""

    name = "process"

    def __init__(self, workers: int | None = None):
        super().__init__(workers or os.cpu_count() or 1)
        import multiprocessing

        self.pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"))
        self._args: dict[Future, tuple] = {}
        self.restarts = 0  # pools replaced after a worker died
        self._pool_of: dict[Future, int] = {}  # the pool (by restart count) a chunk was submitted to

    def _submit(self, args: tuple, fn=play_chunk) -> Future:
        future = self.pool.submit(fn, *args)
        self._args[future] = (fn, args)
        self._pool_of[future] = self.restarts
        return future

    def submit_rollouts(self, game, learners, others, chunks, batch, with_state):
        return [self._submit((game.ref, learners, others, chunk, batch, with_state), rollout_chunk) for chunk in chunks]

    def collect_rollouts(self, handles):
        return [self._result(f) for f in handles]

    def _wait(self, handles):
        done, pending = wait(handles, return_when=FIRST_COMPLETED)
        return list(done), list(pending)

    def _result(self, handle: Future):
        fn, args = self._args.pop(handle)
        try:
            result = handle.result()
            self._pool_of.pop(handle, None)
            return result
        except RunnerError:
            raise
        except BrokenProcessPool:  # a worker died (killed, out of memory): a new pool plays the chunk again
            if self._pool_of.pop(handle, self.restarts) == self.restarts:
                self._restart()  # once per broken pool: its other chunks are resubmitted to the new one
            return self._result(self._submit(args, fn))
        except Exception as error:  # noqa: BLE001 - anything else a worker raised is reported, once
            raise BackendError(f"a worker failed: {type(error).__name__}: {error}") from None

    def _restart(self) -> None:
        """Replace a broken pool (its other pending chunks are lost with it and resubmitted by their owners)."""
        import multiprocessing

        self.pool.shutdown(wait=False, cancel_futures=True)
        self.pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"))
        self.restarts += 1

    def close(self) -> None:
        self.pool.shutdown(cancel_futures=True)


class RayBackend(_Distributed):
    """Chunks of games as Ray tasks on an existing cluster (`address`) or a local Ray instance.

    A chunk lost with its worker or its node is played again: first by Ray (`retries` times,
    which also rebuilds a finished result lost with a node), then by the driver, which
    resubmits it up to MAX_RESUBMITS times. A chunk's records are reported only when it
    completes, so none is lost or reported twice.
    """

    name = "ray"
    MAX_RESUBMITS = 3  # per chunk, after Ray's own retries
    POLL_S = 10.0  # how often a pending chunk checks that the cluster still has a CPU

    def __init__(self, workers: int | None = None, address: str | None = None, working_dir: str | None = None,
                 retries: int = 3):
        ray = _import_ray()
        if address and address != "auto":
            _reachable(address)
        if not ray.is_initialized():
            runtime_env = {"working_dir": working_dir} if working_dir else None
            try:
                if address:
                    ray.init(address=address, runtime_env=runtime_env, log_to_driver=False)
                else:
                    ray.init(num_cpus=workers or None, include_dashboard=False, log_to_driver=False,
                             runtime_env=runtime_env)
            except (ConnectionError, TimeoutError, RuntimeError, ValueError) as error:
                first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
                raise BackendError(f"cannot reach the Ray cluster at {address or 'a local instance'}: {first}") from None
        cpus = int(ray.cluster_resources().get("CPU", 1))
        super().__init__(workers or cpus)
        self.ray = ray
        self.task = ray.remote(max_retries=retries, retry_exceptions=False)(play_chunk)
        self.rollout_task = ray.remote(max_retries=retries, retry_exceptions=False)(rollout_chunk)
        # what the driver resubmits when Ray's retries are spent: a lost worker, node or result
        self.lost: tuple[type[Exception], ...] = (
            ray.exceptions.WorkerCrashedError, ray.exceptions.NodeDiedError, ray.exceptions.ObjectLostError,
            ray.exceptions.LocalRayletDiedError, ray.exceptions.OutOfMemoryError)
        self._calls: dict[Any, tuple[Any, tuple, int]] = {}  # handle -> (remote function, arguments, resubmits)
        self.resubmits = 0  # chunks the driver played again after Ray gave up on them

    def submit_rollouts(self, game, learners, others, chunks, batch, with_state):
        # the weights go to the object store once and every task reads them by reference
        shared_learners, shared_others = self.ray.put(list(learners)), self.ray.put(list(others))
        return [self._call(self.rollout_task, (game.ref, shared_learners, shared_others, chunk, batch, with_state))
                for chunk in chunks]

    def collect_rollouts(self, handles):
        return [self._result(h) for h in handles]

    def _call(self, remote: Any, args: tuple, resubmits: int = 0) -> Any:
        handle = remote.remote(*args)
        self._calls[handle] = (remote, args, resubmits)
        return handle

    def _submit(self, args: tuple) -> Any:
        return self._call(self.task, args)

    def _wait(self, handles):
        while True:  # a chunk pending for ever on a cluster without CPUs would hang the command
            done, pending = self.ray.wait(handles, num_returns=1, timeout=self.POLL_S)
            if done:
                return done, pending
            self._check_cpus()

    def _get(self, handle) -> Any:
        """The chunk's result, checking every POLL_S seconds while it is pending that the cluster
        still has a CPU to play it on."""
        while True:
            try:
                return self.ray.get(handle, timeout=self.POLL_S)
            except self.ray.exceptions.GetTimeoutError:
                self._check_cpus()

    def _check_cpus(self) -> None:
        """A cluster whose every worker node is gone would leave chunks pending for ever: one sentence."""
        if self.ray.available_resources().get("CPU", 0) <= 0 and self.ray.cluster_resources().get("CPU", 0) <= 0:
            raise BackendError("the Ray cluster has no CPU left to play on (every worker node is gone); "
                               "finished games are kept: add nodes and run the command again")

    def _result(self, handle):
        remote, args, resubmits = self._calls.pop(handle)
        try:
            return self._get(handle)
        except self.lost:
            # the chunk never reported (its records reach the driver only from here), so playing
            # it again cannot store a game twice
            if resubmits >= self.MAX_RESUBMITS:
                raise BackendError("a chunk of games was lost on the Ray cluster more often than its retries allow "
                                   "(workers or nodes kept dying); finished games are kept") from None
            self.resubmits += 1
            return self._result(self._call(remote, args, resubmits + 1))
        except self.ray.exceptions.RayTaskError as error:
            cause = error.cause if hasattr(error, "cause") else error
            if isinstance(cause, ModuleNotFoundError) or "No module named" in str(error):
                raise BackendError("the Ray workers cannot import league: install it on every node, or pass "
                                   "--working-dir . to ship this checkout with the job (Ray runtime_env working_dir)") from None
            if isinstance(cause, RunnerError):
                raise cause from None
            raise BackendError(f"a Ray worker failed: {str(cause).strip().splitlines()[-1]}") from None

    def close(self) -> None:
        pass  # leave the Ray instance to the session: it may serve several commands


def _reachable(address: str, timeout: float = 3.0) -> None:
    """Fail fast on an address nobody answers: Ray itself would wait minutes before giving up."""
    import socket

    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host or "127.0.0.1", int(port)), timeout=timeout):
            return
    except ValueError:
        raise BackendError(f"cannot read the Ray address {address!r}; write HOST:PORT or auto") from None
    except OSError as error:
        raise BackendError(f"cannot reach the Ray cluster at {address}: {error.strerror or error}") from None


def _import_ray():
    try:
        import ray
    except ImportError:
        raise BackendError("the ray backend needs Ray: pip install -e '.[ray]'") from None
    return ray


def make_backend(name: str, *, workers: int | None = None, address: str | None = None,
                 working_dir: str | None = None) -> Backend:
    """The backend called `name`: local (default), process (a local pool) or ray.

    `workers` is the pool's size, or the Ray workers (default: the cluster's CPUs); for local,
    the chunks a training round is shared into, so a local run replays a distributed one.

    Example:
        >>> make_backend("local", workers=2).workers
        2
    """
    if name == "local":
        return LocalBackend(workers or 1)
    if name == "process":
        return ProcessBackend(workers)
    if name == "ray":
        return RayBackend(workers, address, working_dir)
    raise BackendError(f"unknown backend {name!r}; backends: {', '.join(BACKENDS)}")
