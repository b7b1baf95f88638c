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

from typing import Any, Protocol, Sequence, runtime_checkable

import numpy as np

from games.base import GameSpec


class PolicyError(ValueError):
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
