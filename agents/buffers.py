"""Turning runner steps into transitions, and storing them: shared by every learner.

`TransitionBuilder` follows one policy's seats through the runner's lockstep steps. A seat's
transition runs from its move to its next move (or to the end of the episode) and carries
every reward the seat received in between, so in a turn-based game the loser of connect
four learns from the move that lost, even though the loss arrived on the winner's turn.
In simultaneous games a transition is one step. Terminated transitions never bootstrap;
truncated ones carry the final observation to bootstrap from.

Example:
    >>> import games
    >>> spec = games.load("tic_tac_toe").spec
    >>> builder = TransitionBuilder(spec, spec.seat_names, policy=object())
    >>> builder.seats
    ('player_0', 'player_1')
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Mapping, Sequence

import numpy as np

from agents.base import StepBatch
from games.base import GameSpec


@dataclass(frozen=True)
class Transitions:
    """Completed transitions of one seat: b rows."""

    obs: np.ndarray  # (b, *obs_shape) float32
    mask: np.ndarray  # (b, n_actions) bool, legal actions at obs
    action: np.ndarray  # (b,) int64 or (b, *action_shape) float32
    reward: np.ndarray  # (b,) float32, summed from the move to the next move
    next_obs: np.ndarray  # (b, *obs_shape): at the seat's next move, or the final observation
    next_mask: np.ndarray  # (b, n_actions) bool: legal actions at next_obs (all False at the end)
    terminated: np.ndarray  # (b,) bool: the episode ended by the rules (do not bootstrap)
    truncated: np.ndarray  # (b,) bool: cut by a time limit (bootstrap from next_obs)
    state: np.ndarray | None  # (b, *state_shape) global state at the move, if recorded
    next_state: np.ndarray | None  # (b, *state_shape)
    copy: np.ndarray  # (b,) int: which game copy
    step: np.ndarray  # (b,) int: the builder's step counter when the move was made

    def __len__(self) -> int:
        return len(self.reward)

    @property
    def done(self) -> np.ndarray:
        return self.terminated | self.truncated

    def as_dict(self) -> dict[str, np.ndarray]:
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None}


class TransitionBuilder:
    """Builds per-seat transitions of one policy from the runner's steps."""

    def __init__(self, spec: GameSpec, seats: Sequence[str], policy: Any, *, with_state: bool = False):
        self.spec = spec
        self.seats = tuple(seats)
        self.policy = policy
        self.with_state = with_state
        self.t = 0
        self._pending: dict[str, dict[str, np.ndarray]] = {}
        self._open: dict[str, np.ndarray] = {}

    def _ensure(self, n: int, batch: StepBatch) -> None:
        if self._open and len(next(iter(self._open.values()))) == n:
            return
        for seat in self.seats:
            spec = self.spec.seat(seat)
            action_shape = () if spec.discrete else tuple(spec.action.shape)
            self._pending[seat] = {
                "obs": np.zeros((n, *spec.obs_shape), np.float32),
                "mask": np.zeros((n, spec.n_actions), bool),
                "action": np.zeros((n, *action_shape), np.int64 if spec.discrete else np.float32),
                "reward": np.zeros(n, np.float32),
                "step": np.zeros(n, np.int64),
            }
            if self.with_state:
                self._pending[seat]["state"] = np.zeros((n, *self.spec.state_shape), np.float32)
            self._open[seat] = np.zeros(n, bool)

    def add(self, batch: StepBatch) -> dict[str, Transitions]:
        """Feed one runner step; returns the transitions completed by it, per seat."""
        if self.with_state and batch.state is None:
            raise ValueError("this learner needs the global state: run the runner with with_state=True")
        result = batch.result
        n = len(result.terminated)
        self._ensure(n, batch)
        out: dict[str, list[dict[str, np.ndarray]]] = {seat: [] for seat in self.seats}
        for seat in self.seats:
            pending, open_ = self._pending[seat], self._open[seat]
            acting = batch.rows_of(self.policy, seat)
            # 1. the seat moves again: its previous move's transition ends here
            again = np.flatnonzero(acting & open_)
            if len(again):
                out[seat].append(self._close(seat, again, batch.obs[seat][again], batch.mask[seat][again],
                                             batch.state[again] if self.with_state else None,
                                             np.zeros(len(again), bool), np.zeros(len(again), bool)))
            # 2. open the new move
            rows = np.flatnonzero(acting)
            if len(rows):
                pending["obs"][rows] = batch.obs[seat][rows]
                pending["mask"][rows] = batch.mask[seat][rows]
                pending["action"][rows] = batch.actions[seat][rows]
                pending["reward"][rows] = 0.0
                pending["step"][rows] = self.t
                if self.with_state:
                    pending["state"][rows] = batch.state[rows]
                open_[rows] = True
            # 3. every open move collects what the seat received in this step, on any turn
            pending["reward"][open_] += result.reward[seat][open_]
            # 4. finished episodes close every open move, with the final observation
            if len(result.finished):
                ended = result.finished[open_[result.finished]]
                if len(ended):
                    where = np.searchsorted(result.finished, ended)
                    spec = self.spec.seat(seat)
                    out[seat].append(self._close(
                        seat, ended, result.final_obs[seat][where], np.zeros((len(ended), spec.n_actions), bool),
                        result.final_state[where] if self.with_state else None,
                        result.terminated[ended], result.truncated[ended]))
        self.t += 1
        return {seat: _concat(parts) for seat, parts in out.items() if parts}

    def _close(self, seat: str, rows: np.ndarray, next_obs, next_mask, next_state, terminated, truncated) -> dict[str, np.ndarray]:
        pending = self._pending[seat]
        part = {
            "obs": pending["obs"][rows].copy(),
            "mask": pending["mask"][rows].copy(),
            "action": pending["action"][rows].copy(),
            "reward": pending["reward"][rows].copy(),
            "next_obs": np.asarray(next_obs, np.float32).copy(),
            "next_mask": np.asarray(next_mask, bool).copy(),
            "terminated": np.asarray(terminated, bool).copy(),
            "truncated": np.asarray(truncated, bool).copy(),
            "state": pending["state"][rows].copy() if self.with_state else None,
            "next_state": np.asarray(next_state, np.float32).copy() if self.with_state else None,
            "copy": rows.astype(np.int64),
            "step": pending["step"][rows].copy(),
        }
        self._open[seat][rows] = False
        return part

    def reset(self) -> None:
        """Forget open moves (e.g. when the runner starts a fresh set of copies)."""
        for open_ in self._open.values():
            open_[:] = False


def _concat(parts: list[dict[str, np.ndarray]]) -> Transitions:
    if len(parts) == 1:
        return Transitions(**parts[0])
    merged = {}
    for key in parts[0]:
        values = [p[key] for p in parts]
        merged[key] = None if values[0] is None else np.concatenate(values)
    return Transitions(**merged)


class ReplayBuffer:
    """A ring buffer of transitions on numpy arrays, sampled uniformly.

    Example:
        >>> buf = ReplayBuffer(capacity=3)
        >>> buf.add({"x": np.arange(5, dtype=np.float32)})
        >>> len(buf), sorted(buf.sample(2, np.random.default_rng(0))["x"].tolist()) in ([2.0, 3.0], [2.0, 4.0], [3.0, 4.0], [2.0, 2.0], [3.0, 3.0], [4.0, 4.0])
        (3, True)
    """

    def __init__(self, capacity: int):
        if capacity < 1:
            raise ValueError(f"capacity must be positive, got {capacity}")
        self.capacity = int(capacity)
        self.data: dict[str, np.ndarray] = {}
        self.size = 0
        self.cursor = 0

    def __len__(self) -> int:
        return self.size

    def add(self, batch: Mapping[str, np.ndarray]) -> None:
        """Append rows (every field has the same leading length); the oldest are overwritten."""
        lengths = {len(v) for v in batch.values()}
        if len(lengths) != 1:
            raise ValueError(f"fields of one batch must have the same length, got {lengths}")
        b = lengths.pop()
        if b == 0:
            return
        if not self.data:
            self.data = {k: np.zeros((self.capacity, *np.asarray(v).shape[1:]), dtype=np.asarray(v).dtype) for k, v in batch.items()}
        if b > self.capacity:  # only the newest rows fit
            batch = {k: np.asarray(v)[-self.capacity:] for k, v in batch.items()}
            b = self.capacity
        idx = (self.cursor + np.arange(b)) % self.capacity
        for key, store in self.data.items():
            store[idx] = batch[key]
        self.cursor = int((self.cursor + b) % self.capacity)
        self.size = min(self.capacity, self.size + b)

    def sample(self, batch_size: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
        idx = rng.integers(0, self.size, size=batch_size)
        return {k: v[idx] for k, v in self.data.items()}

    def state_dict(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        tensors = {k: v[: self.size] if self.size < self.capacity else v for k, v in self.data.items()}
        return tensors, {"capacity": self.capacity, "size": self.size, "cursor": self.cursor}

    def load_state_dict(self, tensors: Mapping[str, np.ndarray], meta: Mapping[str, Any]) -> None:
        self.capacity, self.size, self.cursor = int(meta["capacity"]), int(meta["size"]), int(meta["cursor"])
        self.data = {}
        for key, value in tensors.items():
            value = np.asarray(value)
            store = np.zeros((self.capacity, *value.shape[1:]), dtype=value.dtype)
            store[: len(value)] = value
            self.data[key] = store


class RunningMeanStd:
    """Running mean and variance (parallel algorithm of Chan et al.), for value normalisation."""

    def __init__(self, shape: tuple[int, ...] = (), epsilon: float = 1e-4):
        self.mean = np.zeros(shape, np.float64)
        self.var = np.ones(shape, np.float64)
        self.count = float(epsilon)

    def update(self, x: np.ndarray) -> None:
        x = np.asarray(x, np.float64)
        batch_mean, batch_var, batch_count = x.mean(0), x.var(0), x.shape[0]
        delta = batch_mean - self.mean
        total = self.count + batch_count
        self.mean = self.mean + delta * batch_count / total
        m2 = self.var * self.count + batch_var * batch_count + delta**2 * self.count * batch_count / total
        self.var = m2 / total
        self.count = total

    def state(self) -> dict[str, Any]:
        return {"mean": np.asarray(self.mean).tolist(), "var": np.asarray(self.var).tolist(), "count": self.count}

    def load(self, state: Mapping[str, Any]) -> None:
        self.mean = np.asarray(state["mean"], np.float64)
        self.var = np.asarray(state["var"], np.float64)
        self.count = float(state["count"])


def linear_schedule(start: float, end: float, duration: int, t: int) -> float:
    """Linear from `start` to `end` over `duration` steps, then `end` (e.g. epsilon).

    Example:
        >>> linear_schedule(1.0, 0.05, 100, 50)
        0.525
    """
    if duration <= 0 or t >= duration:
        return end
    frac = max(t / duration, 0.0)
    return start + frac * (end - start)
