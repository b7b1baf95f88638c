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
    >>> builder = TransitionBuilder(spec, spec.seat_names)
    >>> builder.seats
    ('player_0', 'player_1')
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Mapping, Sequence

import numpy as np
import torch

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
    next_seat: np.ndarray | None = None  # (b,) int: index in spec.seats of who moves at next_obs (-1 at the end); by plies only

    def __len__(self) -> int:
        return len(self.reward)

    @property
    def done(self) -> np.ndarray:
        return self.terminated | self.truncated


class TransitionBuilder:
    """Builds per-seat transitions of one player from the runner's steps.

    Every seat keeps one open move per game copy in preallocated (n, ...) arrays; a step
    closes, opens and credits moves for all copies at once with array operations (a loop
    over the handful of seats, none over copies or steps).

    With `plies=True` (turn-based games) a move ends at the next move of *any* seat: next_obs
    is what that seat sees, `next_seat` says which seat it is, and the reward is what the
    mover received from its own move. A negamax learner bootstraps from the next mover's value.
    """

    def __init__(self, spec: GameSpec, seats: Sequence[str], *, with_state: bool = False, plies: bool = False):
        if plies and not spec.turn_based:
            raise ValueError(f"plies need a turn-based game; {spec.name} is not")
        if plies and len({(s.obs_shape, s.n_actions) for s in spec.seats}) > 1:
            raise ValueError(f"plies need seats that see and act alike; those of {spec.name} differ")
        self.spec = spec
        self.seats = tuple(seats)
        self.with_state = with_state
        self.plies = plies
        self.t = 0
        self.pending: dict[str, dict[str, np.ndarray]] = {}  # seat -> field -> (n, ...): the open move
        self.open: dict[str, np.ndarray] = {}  # seat -> (n,) bool: a move is open in that copy

    def _ensure(self, n: int) -> None:
        if self.open and len(next(iter(self.open.values()))) == n:
            return
        for seat in self.seats:
            spec = self.spec.seat(seat)
            action_shape = () if spec.discrete else tuple(spec.action.shape)
            self.pending[seat] = {
                "obs": np.zeros((n, *spec.obs_shape), np.float32),
                "mask": np.zeros((n, spec.n_actions), bool),
                "action": np.zeros((n, *action_shape), np.int64 if spec.discrete else np.float32),
                "reward": np.zeros(n, np.float32),
                "step": np.zeros(n, np.int64),
            }
            if self.with_state:
                self.pending[seat]["state"] = np.zeros((n, *self.spec.state_shape), np.float32)
            self.open[seat] = np.zeros(n, bool)

    def add(self, batch: StepBatch, player: str) -> dict[str, Transitions]:
        """Feed one runner step; returns the transitions of `player`'s seats completed by it."""
        if self.with_state and batch.state is None:
            raise ValueError("this learner needs the global state: run the runner with with_state=True")
        result = batch.result
        self._ensure(len(result.terminated))
        out: dict[str, Transitions] = {}
        mover = self._movers(batch) if self.plies else None  # (n,) index of the seat acting in each copy, -1 none
        for seat in self.seats:
            pending, open_ = self.pending[seat], self.open[seat]
            acting = batch.rows_of(player, seat)  # (n,)
            parts = []
            # 1. the seat moves again (by plies: anyone moves): its open move ends at this observation
            if mover is None:
                again = np.flatnonzero(acting & open_)
                if len(again):
                    parts.append(self._close(seat, again, batch.obs[seat][again], batch.mask[seat][again],
                                             batch.state[again] if self.with_state else None, None, None))
            else:
                again = np.flatnonzero((mover >= 0) & open_)
                if len(again):
                    parts.append(self._close_at_ply(batch, seat, again, mover[again]))
            # 2. open the new moves
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
            pending["reward"] += np.where(open_, result.reward[seat], np.float32(0.0))
            # 4. finished episodes close every open move, with the final observation
            if len(result.finished):
                ended_at = np.flatnonzero(open_[result.finished])  # positions in `finished`
                if len(ended_at):
                    ended = result.finished[ended_at]
                    parts.append(self._close(
                        seat, ended, result.final_obs[seat][ended_at],
                        np.zeros((len(ended), self.spec.seat(seat).n_actions), bool),
                        result.final_state[ended_at] if self.with_state else None,
                        result.terminated[ended], result.truncated[ended],
                        next_seat=np.full(len(ended), -1, np.int64) if self.plies else None))
            if parts:
                out[seat] = parts[0] if len(parts) == 1 else _concat(parts)
        self.t += 1
        return out

    def _movers(self, batch: StepBatch) -> np.ndarray:
        """(n,) index in spec.seats of the seat acting in each copy, -1 where none does."""
        mover = np.full(len(batch.result.terminated), -1, np.int64)
        for index, seat in enumerate(self.spec.seat_names):
            mover[batch.acting[seat]] = index
        return mover

    def _close_at_ply(self, batch: StepBatch, seat: str, rows: np.ndarray, movers: np.ndarray) -> Transitions:
        """The open moves of `seat` in `rows`, ending where seat `movers` (b,) moves next."""
        next_obs = np.empty((len(rows), *self.spec.seat(seat).obs_shape), np.float32)  # (b, *obs_shape)
        next_mask = np.empty((len(rows), self.spec.seat(seat).n_actions), bool)  # (b, A)
        for index in np.unique(movers):  # every seat has this seat's shapes (checked at construction)
            name = self.spec.seat_names[index]
            at = movers == index
            next_obs[at] = batch.obs[name][rows[at]]
            next_mask[at] = batch.mask[name][rows[at]]
        return self._close(seat, rows, next_obs, next_mask, batch.state[rows] if self.with_state else None,
                           None, None, next_seat=movers)

    def _close(self, seat: str, rows: np.ndarray, next_obs: np.ndarray, next_mask: np.ndarray,
               next_state: np.ndarray | None, terminated: np.ndarray | None, truncated: np.ndarray | None,
               next_seat: np.ndarray | None = None) -> Transitions:
        """The transitions of the open moves in `rows`, ending at next_obs (None: not ended)."""
        pending = self.pending[seat]
        b = len(rows)
        self.open[seat][rows] = False
        return Transitions(
            obs=pending["obs"][rows], mask=pending["mask"][rows], action=pending["action"][rows],
            reward=pending["reward"][rows], next_obs=np.asarray(next_obs, np.float32), next_mask=next_mask,
            terminated=np.zeros(b, bool) if terminated is None else terminated,
            truncated=np.zeros(b, bool) if truncated is None else truncated,
            state=pending["state"][rows] if self.with_state else None,
            next_state=np.asarray(next_state, np.float32) if self.with_state else None,
            copy=rows.astype(np.int64), step=pending["step"][rows],
            next_seat=None if next_seat is None else np.asarray(next_seat, np.int64),
        )

    def reset(self) -> None:
        """Forget open moves (e.g. when the runner starts a fresh set of copies)."""
        for open_ in self.open.values():
            open_[:] = False

    def state_dict(self, prefix: str) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """The open moves as arrays (and the step counter), for exact resume mid-episode."""
        tensors = {f"{prefix}.{seat}.{key}": value for seat, fields_ in self.pending.items() for key, value in fields_.items()}
        tensors.update({f"{prefix}.{seat}.open": value for seat, value in self.open.items()})
        return tensors, {"t": self.t, "seats": list(self.pending)}

    def load_state_dict(self, prefix: str, tensors: Mapping[str, np.ndarray], meta: Mapping[str, Any]) -> None:
        self.t = int(meta["t"])
        self.pending, self.open = {}, {}
        for seat in meta["seats"]:
            head = f"{prefix}.{seat}."
            fields_ = {name[len(head):]: np.array(value) for name, value in tensors.items() if name.startswith(head)}
            self.open[seat] = fields_.pop("open").astype(bool)
            self.pending[seat] = fields_


def _concat(parts: list[Transitions]) -> Transitions:
    merged = {}
    for f in fields(Transitions):
        values = [getattr(p, f.name) for p in parts]
        merged[f.name] = None if values[0] is None else np.concatenate(values)
    return Transitions(**merged)


class ReplayBuffer:
    """A ring buffer of transitions in torch tensors on `device`, preallocated to `capacity`
    rows at the first `add`, sampled uniformly (indices from a numpy generator, so a resumed
    learner samples exactly what the original would).

    Example:
        >>> buf = ReplayBuffer(capacity=3)
        >>> buf.add({"x": np.arange(5, dtype=np.float32)})
        >>> len(buf), sorted(buf.data["x"].tolist()), buf.sample(2, np.random.default_rng(0))["x"].shape
        (3, [2.0, 3.0, 4.0], torch.Size([2]))
    """

    def __init__(self, capacity: int, device: str | torch.device = "cpu"):
        if capacity < 1:
            raise ValueError(f"capacity must be positive, got {capacity}")
        self.capacity = int(capacity)
        self.device = torch.device(device)
        self.data: dict[str, torch.Tensor] = {}
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
        if b > self.capacity:  # only the newest rows fit
            batch = {k: np.asarray(v)[-self.capacity:] for k, v in batch.items()}
            b = self.capacity
        rows = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in batch.items()}  # no copy
        if not self.data:
            self.data = {k: torch.zeros((self.capacity, *v.shape[1:]), dtype=v.dtype, device=self.device)
                         for k, v in rows.items()}
        first = min(b, self.capacity - self.cursor)  # rows up to the end of the ring, then from its start
        for key, store in self.data.items():
            values = rows[key] if self.device.type == "cpu" else rows[key].to(self.device)
            store[self.cursor:self.cursor + first] = values[:first]
            if b > first:
                store[:b - first] = values[first:]
        self.cursor = int((self.cursor + b) % self.capacity)
        self.size = min(self.capacity, self.size + b)

    def sample(self, batch_size: int, rng: np.random.Generator) -> dict[str, torch.Tensor]:
        """`batch_size` rows drawn uniformly with replacement, as tensors on the buffer's device."""
        idx = torch.from_numpy(rng.integers(0, self.size, size=batch_size)).to(self.device)  # (B,)
        return {k: v.index_select(0, idx) for k, v in self.data.items()}

    def state_dict(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        tensors = {k: (v[: self.size] if self.size < self.capacity else v).cpu().numpy() for k, v in self.data.items()}
        return tensors, {"capacity": self.capacity, "size": self.size, "cursor": self.cursor}

    def load_state_dict(self, tensors: Mapping[str, np.ndarray], meta: Mapping[str, Any]) -> None:
        self.capacity, self.size, self.cursor = int(meta["capacity"]), int(meta["size"]), int(meta["cursor"])
        self.data = {}
        for key, value in tensors.items():
            value = torch.from_numpy(np.array(value))
            store = torch.zeros((self.capacity, *value.shape[1:]), dtype=value.dtype, device=self.device)
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


# -- teams: a side's seats joined per step (VDN, QMIX, MADDPG) ---------------------------------


def matching_rows(done: Mapping[str, Transitions], seats: Sequence[str]) -> dict[str, np.ndarray] | None:
    """For each seat, the rows of its transitions that every seat of `seats` has, matched on
    (copy, step) and in the same order for all; None when some seat has none of them."""
    if any(seat not in done for seat in seats):
        return None
    keys = {seat: done[seat].copy.astype(np.int64) * (1 << 32) + done[seat].step for seat in seats}
    common = keys[seats[0]]
    for seat in seats[1:]:
        common = np.intersect1d(common, keys[seat])
    if len(common) == 0:
        return None
    order = {seat: np.argsort(keys[seat], kind="stable") for seat in seats}
    return {seat: order[seat][np.searchsorted(keys[seat][order[seat]], common)] for seat in seats}  # seat -> (b,)


def join_side(done: Mapping[str, Transitions], seats: Sequence[str]) -> dict[str, np.ndarray] | None:
    """Team transitions of one side from one `TransitionBuilder.add` result.

    Rows of the seats are matched on (copy, move step); a row is kept when every seat of
    the side has it (simultaneous games: all of them). Per-seat fields get the seat's
    position as a suffix (`obs_0`, `action_2`, ...); `reward` is the team reward, the sum of
    the seats' rewards; `terminated`/`truncated`/`state`/`next_state` are shared.
    Returns None when no row is complete.

    Example:
        >>> t = Transitions(obs=np.zeros((1, 2), np.float32), mask=np.ones((1, 3), bool), action=np.array([1]),
        ...                 reward=np.array([1.0], np.float32), next_obs=np.zeros((1, 2), np.float32),
        ...                 next_mask=np.ones((1, 3), bool), terminated=np.array([False]), truncated=np.array([False]),
        ...                 state=None, next_state=None, copy=np.array([4]), step=np.array([7]))
        >>> team = join_side({"a": t, "b": t}, ("a", "b"))
        >>> team["reward"].tolist(), sorted(k for k in team if k.endswith("_1"))
        ([2.0], ['action_1', 'mask_1', 'next_mask_1', 'next_obs_1', 'obs_1'])
    """
    order = matching_rows(done, seats)
    if order is None:
        return None
    first = done[seats[0]]
    i0 = order[seats[0]]
    team: dict[str, np.ndarray] = {
        "reward": np.sum([done[s].reward[order[s]] for s in seats], axis=0).astype(np.float32),  # (b,)
        "terminated": first.terminated[i0],
        "truncated": first.truncated[i0],
    }
    if first.state is not None:
        team["state"], team["next_state"] = first.state[i0], first.next_state[i0]
    for k, seat in enumerate(seats):
        t, i = done[seat], order[seat]
        team[f"obs_{k}"], team[f"mask_{k}"], team[f"action_{k}"] = t.obs[i], t.mask[i], t.action[i]
        team[f"next_obs_{k}"], team[f"next_mask_{k}"] = t.next_obs[i], t.next_mask[i]
    return team


# -- on-policy storage and advantages (MAPPO) --------------------------------------------------


class RolloutStorage:
    """On-policy rows gathered between two updates: a list of dicts of equal-length arrays.

    Example:
        >>> store = RolloutStorage()
        >>> store.add({"x": np.arange(2.0)}); store.add({"x": np.arange(3.0)})
        >>> len(store), store.data()["x"].tolist()
        (5, [0.0, 1.0, 0.0, 1.0, 2.0])
    """

    def __init__(self) -> None:
        self.parts: list[dict[str, np.ndarray]] = []

    def __len__(self) -> int:
        return sum(len(next(iter(part.values()))) for part in self.parts)

    def add(self, rows: Mapping[str, np.ndarray]) -> None:
        if rows and len(next(iter(rows.values()))):
            self.parts.append({k: np.asarray(v) for k, v in rows.items()})

    def data(self) -> dict[str, np.ndarray]:
        """Every stored row, concatenated in arrival order."""
        if not self.parts:
            return {}
        return {k: np.concatenate([part[k] for part in self.parts]) for k in self.parts[0]}

    def clear(self) -> None:
        self.parts = []

    def state_dict(self, prefix: str) -> dict[str, np.ndarray]:
        return {f"{prefix}.{k}": v for k, v in self.data().items()}

    def load_state_dict(self, prefix: str, tensors: Mapping[str, np.ndarray]) -> None:
        head = prefix + "."
        rows = {name[len(head):]: np.array(value) for name, value in tensors.items() if name.startswith(head)}
        self.parts = [rows] if rows else []


def gae(reward: np.ndarray, value: np.ndarray, next_value: np.ndarray, terminated: np.ndarray,
        truncated: np.ndarray, chain: np.ndarray, step: np.ndarray, *, gamma: float, lam: float
        ) -> tuple[np.ndarray, np.ndarray]:
    """Generalised advantage estimation (Schulman et al. 2016) over move chains: (advantages, returns).

    Rows may arrive in any order. A chain is one (copy, seat) of one learner; its rows, in
    `step` order, follow each other move to move. `next_value` is V at the row's next_obs or
    next_state: used unless the row `terminated` (truncation bootstraps, termination does
    not). The lambda-return continues to the chain's next row unless the row ended its
    episode; a chain's last row here (its successor not yet complete) bootstraps from
    `next_value` alone.

    Example:
        >>> adv, ret = gae(np.array([0.0, 1.0]), np.array([0.5, 0.5]), np.array([0.5, 9.0]),
        ...                np.array([False, True]), np.array([False, False]), np.array([0, 0]),
        ...                np.array([0, 1]), gamma=1.0, lam=1.0)
        >>> adv.tolist(), ret.tolist()
        ([0.5, 0.5], [1.0, 1.0])
    """
    reward, value, next_value = (np.asarray(x, np.float64) for x in (reward, value, next_value))
    terminated, truncated = np.asarray(terminated, bool), np.asarray(truncated, bool)
    delta = reward + gamma * next_value * ~terminated - value  # (b,) one-step TD errors
    b = len(reward)
    if b == 0:
        return np.zeros(0), np.zeros(0)
    order = np.lexsort((np.asarray(step), np.asarray(chain)))  # (b,) rows by chain, then move order
    sorted_chain = np.asarray(chain)[order]
    new_chain = np.r_[True, sorted_chain[1:] != sorted_chain[:-1]]  # (b,) first row of its chain
    which = np.cumsum(new_chain) - 1  # (b,) chain number 0..C-1 of each sorted row
    starts = np.flatnonzero(new_chain)  # (C,)
    position = np.arange(b) - starts[which]  # (b,) index of the row within its chain
    # the lambda-return carries on to the chain's next row unless this row ended its episode
    carries = np.r_[~new_chain[1:], False] & ~(terminated | truncated)[order]  # (b,)
    grid = np.zeros((len(starts), int(position.max()) + 1))  # (C, T) TD errors, chains padded with 0
    keep = np.zeros(grid.shape, bool)  # (C, T)
    grid[which, position] = delta[order]
    keep[which, position] = carries
    following = np.zeros(len(starts))  # (C,) the advantage of each chain's next row
    for t in range(grid.shape[1] - 1, -1, -1):  # backwards over move number, every chain at once
        following = grid[:, t] + gamma * lam * np.where(keep[:, t], following, 0.0)
        grid[:, t] = following
    advantages = np.empty(b)
    advantages[order] = grid[which, position]
    return advantages, advantages + value


def seat_rewards(done: Mapping[str, Transitions], seats: Sequence[str]) -> np.ndarray | None:
    """(b, len(seats)) per-seat rewards in the row order of `join_side(done, seats)`.

    `join_side` sums a side's rewards into a team reward; a learner with one critic per seat
    (MADDPG) needs each seat's own. Rows are matched on (copy, step) exactly as there.
    """
    order = matching_rows(done, seats)
    if order is None:
        return None
    return np.stack([done[seat].reward[order[seat]] for seat in seats], axis=1).astype(np.float32)  # (b, seats)
