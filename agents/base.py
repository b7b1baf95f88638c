"""The agents contract: a `Policy` acts; a `Learner` (see the learners) learns.

A policy acts for the seats of one role, batched over game copies, without gradients.
Frozen snapshots, reference bots and a learner's current policy are all policies, so the
runner treats them alike.

Randomness comes from `keys`: one integer per row, a pure function of the game's seed,
the move number and the seat. A policy turns keys into uniforms (`games.uniforms`), so a
game's moves never depend on which batch it was played in.

Example:
    >>> import numpy as np, games
    >>> from agents.baselines import RandomPolicy
    >>> spec = games.load("tic_tac_toe").spec
    >>> policy = RandomPolicy(spec)
    >>> mask = np.zeros((2, 9), dtype=bool); mask[:, [2, 5]] = True
    >>> actions = policy.act(np.zeros((2, 3, 3, 3), np.float32), mask, seat="player_0", keys=np.array([1, 2]))
    >>> set(actions.tolist()) <= {2, 5}
    True
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, ClassVar, Container, Literal, Mapping, Protocol, Sequence, runtime_checkable

import numpy as np

from games.base import GameSpec, StepResult
from games.errors import LeagueError

if TYPE_CHECKING:  # the contract names torch types; importing this module does not load torch
    import torch


def uncovered(built_for: GameSpec, spec: GameSpec, seats: Sequence[str], covered: Container[str]) -> str | None:
    """`Policy.unsupported` for a network policy: built for one game, covering some seats.

    Example:
        >>> import games
        >>> ttt = games.load("tic_tac_toe").spec
        >>> uncovered(ttt, ttt, ["player_0", "player_1"], {"player_0"})
        "this policy does not cover seats ['player_1']"
    """
    if spec.name != built_for.name:
        return f"this policy was built for {built_for.name}"
    missing = [s for s in seats if s not in covered]
    return f"this policy does not cover seats {missing}" if missing else None


class PolicyError(LeagueError, ValueError):
    """A policy cannot play a game, a role or a seat."""


@runtime_checkable
class Policy(Protocol):
    """Acts for one role's seats (or, for a team policy, every seat of its side)."""

    needs_engine_states: bool  # True for search bots that read the engine's own states

    def act(
        self,
        obs: np.ndarray,
        mask: np.ndarray,
        *,
        seat: str,
        keys: np.ndarray,
        explore: bool = False,
        engine_states: Sequence[Any] | None = None,
    ) -> np.ndarray:
        """Actions for a batch of rows of one seat.

        obs (b, *obs_shape) float32; mask (b, n_actions) bool (zero columns for a continuous
        seat); keys (b,) int64; returns (b,) int64 for a discrete seat or (b, *shape)
        float32 for a continuous one. `explore` asks a learner's policy for its training
        behaviour (epsilon-greedy, sampling) instead of its evaluation behaviour.
        """
        ...

    def unsupported(self, spec: GameSpec, seats: Sequence[str]) -> str | None:
        """Why this policy cannot play `seats` of the game, or None if it can."""
        ...

    # Optional, for discrete seats: `probabilities(obs, mask, *, seat) -> (b, n_actions)`, the
    # evaluation behaviour as a distribution (greedy policies give one-hot rows). Exact
    # exploitability and the ONNX export read it.


@dataclass(frozen=True)
class ExportedSeat:
    """One seat of a network policy as a plain torch module: what the ONNX export traces.

    `module` maps obs (b, *obs_shape) float32 to scores (b, n_actions) for a discrete seat,
    or to actions (b, *shape) inside the Box for a continuous one. Flattening, input
    normalisation and the seat's one-hot id are inside it, so it needs no other input.
    """

    module: "torch.nn.Module"
    softmax: bool  # True: scores are logits of a stochastic policy; False: values whose argmax is played
    plays: Literal["greedy", "sample", "continuous"]  # what the league plays with explore=False


@runtime_checkable
class NetworkPolicy(Policy, Protocol):
    """A policy backed by torch networks (every learner's policy): it exports itself per seat."""

    def export_seat(self, seat: str) -> ExportedSeat:
        """The torch module of `seat` and how the league plays it."""
        ...

    def probabilities(self, obs: np.ndarray, mask: np.ndarray, *, seat: str) -> np.ndarray:
        """(b, n_actions) for a discrete seat: the evaluation behaviour as a distribution
        (one-hot rows for greedy policies)."""
        ...


@runtime_checkable
class SearchPolicy(NetworkPolicy, Protocol):
    """A network policy that chooses moves by search (AlphaZero): after each `act` call,
    `last_search` (b, n_actions) holds the move distribution its search found for those rows,
    which the runner hands to learners in `StepBatch.search`."""

    last_search: np.ndarray | None


@runtime_checkable
class StochasticPolicy(NetworkPolicy, Protocol):
    """A network policy that samples its exploring moves from a distribution it can evaluate:
    on-policy learners (MAPPO) correct for the weights that played with these log-probabilities."""

    def log_prob(self, obs: np.ndarray, mask: np.ndarray, actions: np.ndarray, *, seat: str) -> np.ndarray:
        """(b,) log-probabilities of `actions` (b,) under the exploring distribution at obs/mask."""
        ...


class LearnerError(LeagueError, ValueError):
    """A learner cannot be configured for a game or role, or its training broke (NaN loss)."""


@dataclass(frozen=True)
class StepBatch:
    """One lockstep step of the runner, as learners see it.

    obs/mask/acting/state are taken before the step (copies, safe to keep); `who[seat]`
    (n,) indexes `players`, the names of the entrants seated in the runner: who chose each
    copy's action for that seat. A learner finds its own rows by its entrant's name, so a
    step played in another process (or replayed from a recording) reads the same.
    `log_prob`, when an actor recorded it, holds the behaviour log-probability of each
    action under the weights that chose it (NaN where no stochastic policy acted).
    `search` holds, where an exploring `SearchPolicy` moved, the distribution its search
    found (AlphaZero's visit counts): the policy targets it learns from.
    """

    obs: dict[str, np.ndarray]  # seat -> (n, *obs_shape)
    mask: dict[str, np.ndarray]  # seat -> (n, n_actions)
    acting: dict[str, np.ndarray]  # seat -> (n,)
    state: np.ndarray | None  # (n, *state_shape) when the runner was asked for it
    actions: dict[str, np.ndarray]  # seat -> (n,) or (n, *action_shape)
    result: StepResult
    who: dict[str, np.ndarray]  # seat -> (n,) index into `players`
    players: tuple[str, ...]  # entrant names
    log_prob: dict[str, np.ndarray] | None = None  # seat -> (n,) float32 behaviour log-probabilities, if recorded
    opening: np.ndarray | None = None  # (n,) bool: the move came from the game's opening (GameTask.opening), if any did
    search: dict[str, np.ndarray] | None = None  # seat -> (n, n_actions) float32: a searching policy's move distribution (NaN rows elsewhere)

    def without_opening(self) -> "StepBatch":
        """This step with its opening moves played by nobody (entrant 0, the idle one): a
        learner whose update assumes its own policy chose every move (on-policy, MAPPO) sees
        them as the environment's. Off-policy learners keep them: a random move is data.

        Example:
            >>> batch = StepBatch({}, {}, {"s": np.array([True, True])}, None, {}, None,
            ...                   {"s": np.array([1, 1])}, ("(idle)", "me"), opening=np.array([True, False]))
            >>> batch.rows_of("me", "s").tolist(), batch.without_opening().rows_of("me", "s").tolist()
            ([True, True], [False, True])
        """
        if self.opening is None or not self.opening.any():
            return self
        who = {seat: np.where(self.opening, 0, ids) for seat, ids in self.who.items()}
        return replace(self, who=who, opening=None)

    def rows_of(self, player: str, seat: str) -> np.ndarray:
        """(n,) bool: copies where the entrant named `player` acted for `seat` in this step.

        Example:
            >>> import numpy as np
            >>> batch = StepBatch({}, {}, {"s": np.array([True, True, False])}, None, {}, None,
            ...                   {"s": np.array([1, 2, 1])}, ("(idle)", "me", "you"))
            >>> batch.rows_of("me", "s").tolist(), batch.moved("you", ["s"]).tolist()
            ([True, False, False], [False, True, False])
        """
        ids = [k for k, name in enumerate(self.players) if name == player]
        if len(ids) == 1:
            return self.acting[seat] & (self.who[seat] == ids[0])
        return self.acting[seat] & np.isin(self.who[seat], ids)

    def moved(self, player: str, seats: Sequence[str]) -> np.ndarray:
        """(n,) bool: copies where `player` acted for any of `seats`: the steps a learner's
        `env_steps` counts."""
        out = np.zeros(len(self.who[seats[0]]), dtype=bool) if seats else np.zeros(0, dtype=bool)
        for seat in seats:
            out |= self.rows_of(player, seat)
        return out


class Learner(ABC):
    """Owns networks, optimisers and buffers for one role (or, for a team, one side).

    The trainer seats `policy()` under an entrant name with exploration on, passes every
    runner step to `observe(batch, name)`, and calls `update()` after each step; the learner
    trains when its own schedule says so and returns metrics (an empty dict when it did
    nothing). `state_dict()` / `load_state_dict()` round-trip everything needed to resume
    exactly. Networks, optimisers and buffers live on `device`; every policy it hands out
    (`policy()`, `frozen_policy()`, `policy_state()`) holds CPU weights, for actors.
    """

    algorithm: ClassVar[str]
    spec: GameSpec
    role: str
    seats: tuple[str, ...]  # the seats this learner may occupy (every seat of its role)
    device: "torch.device"  # where the networks, optimisers and buffers live
    env_steps: int  # game steps (copy-steps) in which this learner moved: any of its seats acted
    updates: int  # training updates done (gradient steps; PPO updates for MAPPO)
    needs_state: bool = False  # the runner must record the global state (run(..., with_state=True))

    @classmethod
    def unsupported(cls, spec: GameSpec, role: str) -> str | None:
        """Why this algorithm cannot learn `role` of the game, or None."""
        return None

    @abstractmethod
    def policy(self) -> NetworkPolicy:
        """The current policy (acts with exploration when asked to); CPU weights kept in step
        with the learner's after every update."""

    @abstractmethod
    def frozen_policy(self) -> NetworkPolicy:
        """A snapshot of the current policy: copied CPU weights, no optimiser, no exploration."""

    @abstractmethod
    def exploration(self) -> dict[str, float]:
        """The exploration the current policy adds when exploring: {"epsilon": e} for
        epsilon-greedy learners, {"noise": s} for MADDPG's continuous seats, {} when the
        policy's own distribution is its exploration. `policy_from_state(...,
        exploration=learner.exploration())` rebuilds an actor that explores the same way."""

    @abstractmethod
    def observe(self, batch: StepBatch, player: str) -> None:
        """Take this step's transitions for the seats the entrant named `player` played
        (`batch.rows_of(player, seat)`), and count the steps it moved in (`env_steps`)."""

    @abstractmethod
    def update(self) -> dict[str, float]:
        """Train if due; metrics of the update (empty when nothing was done). A metric that is
        not finite raises LearnerError naming the learner and the step."""

    @abstractmethod
    def state_dict(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """(tensors, meta): numpy/torch arrays by name, and JSON-serialisable metadata."""

    @abstractmethod
    def load_state_dict(self, tensors: Mapping[str, Any], meta: Mapping[str, Any]) -> None:
        """Restore what `state_dict` returned."""

    @abstractmethod
    def policy_state(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """(tensors, meta) of the current policy alone: what a snapshot file holds.

        `meta` names the algorithm, role and seats and whatever `policy_from_state` needs
        to rebuild the networks (sizes, hyperparameters).
        """

    @classmethod
    @abstractmethod
    def policy_from_state(cls, spec: GameSpec, tensors: Mapping[str, Any], meta: Mapping[str, Any], *,
                          exploration: Mapping[str, float] | None = None) -> NetworkPolicy:
        """A policy rebuilt from `policy_state()` output, on CPU: a frozen snapshot entrant, or,
        given the learner's `exploration()`, a remote actor that explores as the learner does."""
