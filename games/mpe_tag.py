"""mpe2's simple_tag, vectorised in numpy: `simple_tag(vectorised=True)`.

The same game as mpe2's `simple_tag_v3` with its defaults (3 predators, 1 prey, 2 obstacles,
silent agents), stepped for all copies at once instead of one Python world per copy:

- the physics of mpe2's `core.World.step`: action forces (accel times the move), soft contact
  forces between every pair of colliding entities (force 1e2, margin 1e-3), then position
  from the old velocity, damping 0.25, dt 0.1, and the speed cap;
- the rewards of `simple_tag.Scenario`: +10 to every predator per predator touching the prey,
  -10 to the prey per touch and its out-of-bounds penalty;
- the observations and global state (`SimpleEnv.state`) in mpe2's layout and order, in
  float32, and the episode seeded as mpe2's `reset(seed)` seeds it (positions drawn in the
  same order from gymnasium's `np_random`), so a seed gives the same episode on both engines.

tests/test_mpe_tag.py plays both engines side by side on the same seeds and actions and
checks that observations, rewards, states and episode ends agree (to float rounding: the
order of additions differs). The spec is mpe2's own (read from an mpe2 probe), so learners,
scripted players and snapshots move between the engines unchanged.

Example:
    >>> import games, numpy as np
    >>> env = games.load("simple_tag(vectorised=True)").make(3, seed=0)
    >>> env.obs["adversary_0"].shape, env.state.shape
    ((3, 16), (3, 62))
    >>> result = env.step({seat: np.zeros(3, dtype=np.int64) for seat in env.spec.seat_names})
    >>> sorted(result.reward), result.truncated.tolist()
    (['adversary_0', 'adversary_1', 'adversary_2', 'agent_0'], [False, False, False])
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
from gymnasium.utils import seeding

from games.base import StepResult, VecEnv
from games.pettingzoo import PettingZooGame, engine_seed_of

N_PREDATORS, N_PREY, N_OBSTACLES = 3, 1, 2
N_AGENTS = N_PREDATORS + N_PREY
PREY = N_PREDATORS  # the prey's index among the agents (mpe2 lists predators first)
SIZE = np.array([0.075] * N_PREDATORS + [0.05] * N_PREY + [0.2] * N_OBSTACLES)  # (6,) every entity
ACCEL = np.array([3.0] * N_PREDATORS + [4.0] * N_PREY)  # (4,) move force per unit action
MAX_SPEED = np.array([1.0] * N_PREDATORS + [1.3] * N_PREY)  # (4,)
DT, DAMPING, CONTACT_FORCE, CONTACT_MARGIN = 0.1, 0.25, 1e2, 1e-3
TAG_REWARD = 10.0
# discrete moves 0..4: stay, left, right, down, up (mpe2 SimpleEnv._set_action)
MOVES = np.array([[0.0, 0.0], [-1.0, 0.0], [1.0, 0.0], [0.0, -1.0], [0.0, 1.0]])


def out_of_bounds_penalty(x: np.ndarray) -> np.ndarray:
    """mpe2 simple_tag's `bound(|coordinate|)` for the prey: 0 inside 0.9, linear to 1, then exponential capped at 10."""
    return np.where(x < 0.9, 0.0, np.where(x < 1.0, (x - 0.9) * 10, np.minimum(np.exp(2 * x - 2), 10.0)))


class VectorisedTagGame(PettingZooGame):
    """simple_tag's spec from mpe2, with `make` returning the vectorised engine."""

    def make(self, n: int = 1, seed: int = 0) -> "TagVecEnv":  # type: ignore[override]
        return TagVecEnv(self, n, seed)


class TagVecEnv(VecEnv):
    """n copies of simple_tag as arrays: positions (n, 6, 2) of the 4 agents then the 2
    obstacles, velocities (n, 4, 2) of the agents."""

    def __init__(self, game: VectorisedTagGame, n: int, seed: int):
        super().__init__(game.spec, n, seed)
        self.game = game
        self.continuous = not self.spec.seat("adversary_0").discrete
        self.max_cycles = game.spec.max_steps
        self.seats = self.spec.seat_names  # adversary_0..2, agent_0: mpe2's agent order
        self.pos = np.zeros((n, N_AGENTS + N_OBSTACLES, 2))  # (n, 6, 2)
        self.vel = np.zeros((n, N_AGENTS, 2))  # (n, 4, 2)
        self._state_cache: np.ndarray | None = None
        for seat in self.seats:
            self.acting[seat][:] = True  # simultaneous: every seat acts in every copy
            if self.spec.seat(seat).discrete:
                self.mask[seat][:] = True
        self.reset()

    # -- the world ---------------------------------------------------------------------
    def _forces(self, u: np.ndarray) -> np.ndarray:
        """(n, 4, 2) action forces plus contact forces from every other entity on each agent."""
        delta = self.pos[:, :N_AGENTS, None, :] - self.pos[:, None, :, :]  # (n, 4, 6, 2) agent minus entity
        dist = np.sqrt(np.sum(np.square(delta), -1))  # (n, 4, 6)
        dist_min = SIZE[:N_AGENTS, None] + SIZE[None, :]  # (4, 6)
        penetration = np.logaddexp(0, -(dist - dist_min) / CONTACT_MARGIN) * CONTACT_MARGIN  # (n, 4, 6)
        self_pair = np.eye(N_AGENTS, N_AGENTS + N_OBSTACLES, dtype=bool)  # an agent does not push itself
        with np.errstate(invalid="ignore", divide="ignore"):
            contact = CONTACT_FORCE * delta / dist[..., None] * penetration[..., None]  # (n, 4, 6, 2)
        contact[:, self_pair] = 0.0
        return u + contact.sum(2)

    def _integrate(self, force: np.ndarray) -> None:
        agents = self.pos[:, :N_AGENTS]  # (n, 4, 2), a view
        agents += self.vel * DT
        self.vel *= 1 - DAMPING
        self.vel += force * DT  # mass 1
        speed = np.sqrt(np.square(self.vel[..., 0]) + np.square(self.vel[..., 1]))  # (n, 4)
        too_fast = speed > MAX_SPEED
        self.vel[too_fast] = self.vel[too_fast] / speed[too_fast][:, None] * np.broadcast_to(MAX_SPEED, speed.shape)[too_fast][:, None]

    def _tags(self) -> np.ndarray:
        """(n,) predators touching the prey."""
        delta = self.pos[:, PREY:PREY + 1] - self.pos[:, :N_PREDATORS]  # (n, 3, 2)
        return (np.sqrt(np.sum(np.square(delta), -1)) < SIZE[PREY] + SIZE[:N_PREDATORS]).sum(1)

    def _observations(self) -> dict[str, np.ndarray]:
        """seat -> (n, obs) in mpe2's layout: own velocity, own position, obstacles and the other
        agents relative to it, and (for predators) the prey's velocity."""
        out = {}
        for k, seat in enumerate(self.seats):
            me = self.pos[:, k]  # (n, 2)
            obstacles = self.pos[:, N_AGENTS:] - me[:, None]  # (n, 2, 2)
            others = [j for j in range(N_AGENTS) if j != k]
            other_pos = self.pos[:, others] - me[:, None]  # (n, 3, 2)
            parts = [self.vel[:, k], me, obstacles.reshape(self.n, -1), other_pos.reshape(self.n, -1)]
            if k < N_PREDATORS:
                parts.append(self.vel[:, PREY])  # the other good agents' velocities: the prey's
            out[seat] = np.concatenate(parts, 1).astype(np.float32)  # (n, 16) predators, (n, 14) prey
        return out

    def _write_obs(self) -> None:
        for seat, values in self._observations().items():
            self.obs[seat][:] = values
        self._state_cache = None

    # -- contract ------------------------------------------------------------------------
    def reset(self, seeds: Sequence[int] | None = None, copies: Sequence[int] | None = None) -> None:
        idx, seed_arr = self._reset_targets(seeds, copies)
        for i, s in zip(idx.tolist(), seed_arr.tolist()):
            rng, _ = seeding.np_random(engine_seed_of(s))  # as the mpe2 adapter seeds its engine
            for a in range(N_AGENTS):
                self.pos[i, a] = rng.uniform(-1, +1, 2)
            for o in range(N_OBSTACLES):
                self.pos[i, N_AGENTS + o] = rng.uniform(-0.9, +0.9, 2)
            self.vel[i] = 0.0
            self.episode_seed[i] = s
            self.episodes[i] += 1
            self.ply[i] = 0
            for seat in self.seats:
                self._returns[seat][i] = 0.0
        self._write_obs()

    def _action_forces(self, acts: Mapping[str, np.ndarray]) -> np.ndarray:
        """(n, 4, 2) each agent's move times its accel."""
        u = np.zeros((self.n, N_AGENTS, 2))
        for k, seat in enumerate(self.seats):
            a = acts[seat]
            if self.continuous:
                u[:, k, 0] = (a[:, 2] - a[:, 1]).astype(np.float64)  # float32 differences, as mpe2 takes them
                u[:, k, 1] = (a[:, 4] - a[:, 3]).astype(np.float64)
            else:
                u[:, k] = MOVES[a % len(MOVES)]
        return u * ACCEL[None, :, None]

    def step(self, actions: Mapping[str, np.ndarray], *, next_seeds: np.ndarray | None = None) -> StepResult:
        acts = self._check_actions(actions)
        self._integrate(self._forces(self._action_forces(acts)))
        tags = self._tags()  # (n,)
        prey_pos = np.abs(self.pos[:, PREY])  # (n, 2)
        prey_reward = -TAG_REWARD * tags - out_of_bounds_penalty(prey_pos[:, 0]) - out_of_bounds_penalty(prey_pos[:, 1])
        reward = {seat: (TAG_REWARD * tags).astype(np.float32) for seat in self.seats[:N_PREDATORS]}
        reward[self.seats[PREY]] = prey_reward.astype(np.float32)
        self.ply += 1
        for seat in self.seats:
            self._returns[seat] += reward[seat]
        self._write_obs()
        return self._finish_step(reward, np.zeros(self.n, dtype=bool), self.ply >= self.max_cycles, next_seeds)

    @property
    def state(self) -> np.ndarray:
        if self._state_cache is None:
            self._state_cache = np.concatenate([self.obs[seat] for seat in self.seats], 1)  # (n, 62) mpe2's state()
        return self._state_cache


def build(name: str, source: str, continuous: bool, max_cycles: int, **game: Any) -> VectorisedTagGame:
    """The vectorised simple_tag with mpe2's spec (the registry's `simple_tag(vectorised=True)`)."""
    return VectorisedTagGame(name, source, **game, parallel=True,
                             kwargs={"continuous_actions": bool(continuous), "max_cycles": int(max_cycles)})
