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
from dataclasses import dataclass
from typing import Any, ClassVar, Container, Mapping, Protocol, Sequence, runtime_checkable

import numpy as np

from games.base import GameSpec, StepResult
from games.errors import LeagueError


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


class LearnerError(LeagueError, ValueError):
    """A learner cannot be configured for a game or role, or its training broke (NaN loss)."""


@dataclass(frozen=True)
class StepBatch:
    """One lockstep step of the runner, as learners see it.

    obs/mask/acting/state are taken before the step (copies, safe to keep); `who[seat]`
    (n,) indexes `policies`: the policy that chose each copy's action for that seat.
    A learner finds its own rows by the identity of its policy object.
    """

    obs: dict[str, np.ndarray]  # seat -> (n, *obs_shape)
    mask: dict[str, np.ndarray]  # seat -> (n, n_actions)
    acting: dict[str, np.ndarray]  # seat -> (n,)
    state: np.ndarray | None  # (n, *state_shape) when the runner was asked for it
    actions: dict[str, np.ndarray]  # seat -> (n,) or (n, *action_shape)
    result: StepResult
    who: dict[str, np.ndarray]  # seat -> (n,) index into `policies`
    policies: tuple[Any, ...]

    def rows_of(self, policy: Any, seat: str) -> np.ndarray:
        """(n,) bool: copies where `policy` acted for `seat` in this step."""
        ids = [k for k, p in enumerate(self.policies) if p is policy]
        if not ids:
            return np.zeros(len(self.who[seat]), dtype=bool)
        return self.acting[seat] & np.isin(self.who[seat], ids)

    def seated(self, policy: Any, seat: str) -> np.ndarray:
        """(n,) bool: copies where `policy` holds `seat` (acting now or not)."""
        ids = [k for k, p in enumerate(self.policies) if p is policy]
        return np.isin(self.who[seat], ids)


class Learner(ABC):
    """Owns networks, optimisers and buffers for one role (or, for a team, one side).

    The trainer seats `policy()` (with exploration on), passes every runner step to
    `observe`, and calls `update()` after each step; the learner trains when its own
    schedule says so and returns metrics (an empty dict when it did nothing).
    `state_dict()` / `load_state_dict()` round-trip everything needed to resume exactly.
    """

    algorithm: ClassVar[str]
    spec: GameSpec
    role: str
    seats: tuple[str, ...]  # the seats this learner may occupy (every seat of its role)
    env_steps: int  # transitions observed so far (drives schedules)

    @classmethod
    def unsupported(cls, spec: GameSpec, role: str) -> str | None:
        """Why this algorithm cannot learn `role` of the game, or None."""
        return None

    @abstractmethod
    def policy(self) -> Policy:
        """The current policy (acts with exploration when asked to)."""

    @abstractmethod
    def frozen_policy(self) -> Policy:
        """A snapshot of the current policy: copied weights, no optimiser, no exploration."""

    @abstractmethod
    def observe(self, batch: StepBatch) -> None:
        """Take this step's transitions for the seats this learner's policy played."""

    @abstractmethod
    def update(self) -> dict[str, float]:
        """Train if due; metrics of the update (empty when nothing was done)."""

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
    def policy_from_state(cls, spec: GameSpec, tensors: Mapping[str, Any], meta: Mapping[str, Any]) -> Policy:
        """A frozen policy rebuilt from `policy_state()` output (a snapshot entrant)."""
