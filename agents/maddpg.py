"""MADDPG: deterministic actor-critic with centralised critics (Lowe et al. 2017).

Each seat of the role has its own actor on its own observation and its own critic on
every seat's observation (or the global state) and every seat's action, for the seats
of its side: a side's seats act in the same step, so their transitions are joined on
(copy, step) and replayed together. Opponents on other sides are part of the
environment. Discrete actions pass through a straight-through Gumbel-softmax with the
small logit penalty of openai/maddpg; continuous actions are tanh outputs squashed into
the seat's Box. Targets use the target actors' actions at the next observations and
soft-updated target networks.

Reads top to bottom: hyperparameters, the policy the runner seats, then the learner:
observe (join a side's transitions into replay) -> update (critic, actor, targets).

Example:
    >>> import games
    >>> learner = MADDPG(games.load("simple_adversary(continuous=True)").spec, "good", seed=0)
    >>> learner.groups, learner.config.tau
    ([('agent_0', 'agent_1')], 0.01)
    >>> MADDPG(games.load("simple_adversary").spec, "good", config={"continuous": True})
    Traceback (most recent call last):
    ...
    agents.base.LearnerError: maddpg is configured for continuous actions (continuous=True), but seat 'agent_0' of simple_adversary has discrete actions; load 'simple_adversary(continuous=True)' or set continuous=False.
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np
import torch
from torch import nn

from agents.base import Learner, LearnerError, StepBatch, uncovered
from agents.buffers import ReplayBuffer, TransitionBuilder, builder_state, join_side, load_builder_state, seat_rewards
from agents.checkpoint import (load_module, load_numpy_rng, load_optimizer, load_torch_rng, module_tensors,
                               numpy_rng_state, optimizer_tensors, torch_rng_tensors)
from agents.nets import (config_from, gumbel_softmax_st, legal_or_all, masked_argmax, masked_logits, mlp, optimise,
                         seeded_init_, soft_update, squash_to_box)
from games.base import Box, GameSpec, SeatSpec, sample_masked, uniforms


@dataclass
class MADDPGConfig:
    """MADDPG hyperparameters. Source: openai/maddpg (`experiments/train.py`,
    `maddpg/trainer/maddpg.py`); "tuned" marks a value chosen for this 2-core CPU machine."""

    hidden: tuple[int, ...] = (64, 64)
    """Hidden layer sizes of actors and critics (openai/maddpg: num_units 64, two layers)."""
    lr: float = 1e-2
    """Adam learning rate of the actors (openai/maddpg: lr 1e-2)."""
    critic_lr: float = 1e-2
    """Adam learning rate of the critics (openai/maddpg: the same lr 1e-2)."""
    gamma: float = 0.95
    """Discount (openai/maddpg: gamma 0.95)."""
    tau: float = 0.01
    """Soft target update rate (openai/maddpg: polyak 1 - 0.01)."""
    batch_size: int = 1024
    """Replay minibatch size (openai/maddpg: batch_size 1024)."""
    buffer_size: int = 1_000_000
    """Replay capacity in joint side-steps (openai/maddpg: 1e6)."""
    learning_starts: int = 25_600
    """Joint samples in replay before training starts (openai/maddpg: batch_size *
    max_episode_len = 1024 * 25)."""
    update_every: int = 100
    """One gradient step per seat every this many joint samples (openai/maddpg: every 100
    environment steps); with n copies in lockstep, a runner step brings n samples."""
    max_grad_norm: float = 0.5
    """Gradient-norm clip of actors and critics (openai/maddpg: grad_norm_clipping 0.5)."""
    logit_penalty: float = 1e-3
    """Weight of the mean squared actor output added to the actor loss (openai/maddpg:
    p_reg * 1e-3), which keeps logits (or pre-tanh outputs) from running away."""
    temperature: float = 1.0
    """Gumbel-softmax temperature of discrete actions (openai/maddpg: 1, plain softmax)."""
    critic_input: str = "obs"
    """What the critics see besides the actions: "obs", every seat's observation of the
    side concatenated (openai/maddpg), or "state", the game's global state."""
    continuous: bool | None = None
    """Action kind this learner is for: None follows the game; True/False require
    continuous/discrete seats and refuse any other game at configuration time."""
    exploration_noise: float = 0.1
    """Continuous seats: std of the Gaussian added to actions while exploring, as a fraction
    of the Box width (DDPG/TD3 practice; openai/maddpg samples a Gaussian policy instead)."""


# -- the policy --------------------------------------------------------------------------

def action_size(seat: SeatSpec) -> int:
    """Width of a seat's action as the critic sees it: one-hot size, or the Box's size."""
    return seat.n_actions if seat.discrete else int(np.prod(seat.action.shape))


class MADDPGPolicy:
    """Per-seat actors. Discrete: sample the masked softmax when exploring (the same law
    as the argmax of Gumbel-perturbed logits), else the most probable legal action.
    Continuous: the squashed actor output, plus clipped Gaussian noise when exploring.
    Randomness comes only from the rows' keys."""

    needs_engine_states = False

    def __init__(self, spec: GameSpec, actors: nn.ModuleDict, *, noise: float):
        self.spec = spec
        self.actors = actors
        self.noise = float(noise)

    def unsupported(self, spec: GameSpec, seats: Sequence[str]) -> str | None:
        return uncovered(self.spec, spec, seats, self.actors)

    @torch.no_grad()
    def act(self, obs, mask, *, seat, keys, explore=False, engine_states=None) -> np.ndarray:
        x = torch.from_numpy(np.ascontiguousarray(obs, np.float32)).reshape(len(obs), -1)  # (b, obs)
        out = self.actors[seat](x)  # (b, A) logits or (b, size) pre-tanh
        space = self.spec.seat(seat).action
        if not isinstance(space, Box):
            legal = legal_or_all(mask)  # (b, A)
            if not explore:
                return masked_argmax(out, torch.from_numpy(legal)).numpy().astype(np.int64)
            probs = torch.softmax(masked_logits(out, torch.from_numpy(legal)), dim=-1).numpy()  # (b, A)
            return sample_masked(probs, legal, uniforms(keys, 1)[:, 0])
        action = squash_to_box(out, space.low, space.high).numpy()  # (b, size)
        if explore and self.noise > 0:
            size = action.shape[1]
            u = uniforms(keys, 2 * size)  # (b, 2 * size): Box-Muller pairs
            z = np.sqrt(-2.0 * np.log1p(-u[:, :size])) * np.cos(2 * np.pi * u[:, size:])  # (b, size) ~ N(0, 1)
            action = np.clip(action + self.noise * (space.high - space.low) * z, space.low, space.high)
        return action.reshape(len(obs), *space.shape).astype(np.float32)


# -- the learner -------------------------------------------------------------------------

class MADDPG(Learner):
    """MADDPG for one role: an actor and a centralised critic per seat, with targets."""

    algorithm = "maddpg"

    @classmethod
    def unsupported(cls, spec: GameSpec, role: str) -> str | None:
        if spec.turn_based:
            return ("maddpg's critics need every seat of a side to act in the same step, and "
                    f"{spec.name} is turn-based; use mappo")
        return None

    @property
    def needs_state(self) -> bool:
        return self.config.critic_input == "state"

    def __init__(self, spec: GameSpec, role: str, *, config: Mapping[str, Any] | None = None, seed: int = 0):
        self.config = cfg = config_from(MADDPGConfig, config, "maddpg")
        cfg.hidden = tuple(int(h) for h in cfg.hidden)
        if role not in spec.roles:
            raise LearnerError(f"maddpg: {spec.name} has no role {role!r}; roles: {', '.join(spec.roles)}")
        reason = self.unsupported(spec, role)
        if reason:
            raise LearnerError(f"maddpg cannot learn role {role!r} of {spec.name}: {reason}.")
        self.spec, self.role, self.seed = spec, role, int(seed)
        self.groups = [tuple(side.seats) for side in spec.sides_for_role(role)]  # one critic input per side
        self.seats = tuple(s for group in self.groups for s in group)
        _check(cfg, spec, self.seats)
        self.generator = torch.Generator().manual_seed(self.seed)
        self.rng = np.random.default_rng(self.seed)

        self.actors, self.critics = nn.ModuleDict(), nn.ModuleDict()
        for group in self.groups:
            seen = (int(np.prod(spec.state_shape)) if cfg.critic_input == "state"
                    else sum(spec.seat(s).obs_size for s in group))
            critic_in = seen + sum(action_size(spec.seat(s)) for s in group)
            for seat in group:
                spec_ = spec.seat(seat)
                self.actors[seat] = seeded_init_(mlp(spec_.obs_size, action_size(spec_), cfg.hidden), self.generator)
                self.critics[seat] = seeded_init_(mlp(critic_in, 1, cfg.hidden), self.generator)
        self.target_actors = copy.deepcopy(self.actors)
        self.target_critics = copy.deepcopy(self.critics)
        self.actor_opts = {s: torch.optim.Adam(self.actors[s].parameters(), lr=cfg.lr) for s in self.seats}
        self.critic_opts = {s: torch.optim.Adam(self.critics[s].parameters(), lr=cfg.critic_lr) for s in self.seats}
        self.replays = [ReplayBuffer(cfg.buffer_size) for _ in self.groups]

        self._policy = MADDPGPolicy(spec, self.actors, noise=cfg.exploration_noise)
        self.builder = TransitionBuilder(spec, self.seats, self._policy, with_state=self.needs_state)
        self.env_steps = 0  # per-seat transitions observed
        self.updates = 0  # gradient steps (each trains every seat once)
        self.since_update = 0  # joint samples added since the last gradient step

    # -- policies ------------------------------------------------------------------------
    def policy(self) -> MADDPGPolicy:
        return self._policy  # the same object every call: the builder finds our rows by identity

    def frozen_policy(self) -> MADDPGPolicy:
        return MADDPGPolicy(self.spec, copy.deepcopy(self.actors).eval(), noise=0.0)

    # -- gathering experience ----------------------------------------------------------
    def observe(self, batch: StepBatch) -> None:
        """Join each side's per-seat transitions of this step on (copy, step) into replay."""
        done = self.builder.add(batch)
        self.env_steps += sum(len(t) for t in done.values())
        for group, replay in zip(self.groups, self.replays):
            team = join_side(done, group)
            if team is None:
                continue
            rewards = seat_rewards(done, group)  # (b, seats) each seat's own reward
            for k in range(len(group)):
                team[f"reward_{k}"] = rewards[:, k]
            replay.add(team)
            self.since_update += len(rewards)

    # -- learning ------------------------------------------------------------------------
    def update(self) -> dict[str, float]:
        """One gradient step per seat for every `update_every` joint samples, once replay
        holds `learning_starts` of them; nothing before."""
        cfg = self.config
        if any(len(replay) < max(cfg.learning_starts, 1) for replay in self.replays):
            self.since_update %= cfg.update_every  # like openai/maddpg: no backlog from before the start
            return {}
        due = self.since_update // cfg.update_every
        if due == 0:
            return {}
        self.since_update -= due * cfg.update_every
        backup = self._networks_state()
        sums: dict[str, float] = {}
        try:
            for _ in range(due):
                for g in range(len(self.groups)):
                    for key, value in self._train_group(g).items():
                        sums[key] = sums.get(key, 0.0) + value / (due * len(self.groups))
                self.updates += 1
        except LearnerError:
            self._load_networks_state(backup)  # keep the last good weights
            raise
        return sums

    def _action_input(self, seat: str, action: np.ndarray) -> torch.Tensor:
        """Replayed actions as critic inputs: one-hot (b, A) or the Box values (b, size)."""
        spec = self.spec.seat(seat)
        if spec.discrete:
            return nn.functional.one_hot(torch.from_numpy(action.astype(np.int64)), spec.n_actions).float()
        return torch.from_numpy(action.astype(np.float32)).reshape(len(action), -1)

    def _actor_action(self, actors: nn.ModuleDict, seat: str, obs: torch.Tensor, mask: np.ndarray
                      ) -> tuple[torch.Tensor, torch.Tensor]:
        """(differentiable action (b, width), raw output (b, width)) of an actor at `obs`."""
        out = actors[seat](obs)  # (b, width)
        spec = self.spec.seat(seat)
        if spec.discrete:
            legal = torch.from_numpy(legal_or_all(mask))  # (b, A)
            return gumbel_softmax_st(out, legal, self.generator, self.config.temperature), out
        return squash_to_box(out, spec.action.low, spec.action.high), out

    def _train_group(self, g: int) -> dict[str, float]:
        cfg = self.config
        seats = self.groups[g]
        s = self.replays[g].sample(cfg.batch_size, self.rng)
        b = cfg.batch_size
        obs = [torch.from_numpy(s[f"obs_{k}"].astype(np.float32)).reshape(b, -1) for k in range(len(seats))]  # (b, obs_k)
        next_obs = [torch.from_numpy(s[f"next_obs_{k}"].astype(np.float32)).reshape(b, -1) for k in range(len(seats))]
        actions = [self._action_input(seat, s[f"action_{k}"]) for k, seat in enumerate(seats)]  # (b, width_k)
        not_done = torch.from_numpy(~s["terminated"]).float()  # (b,) truncation bootstraps, termination does not
        if cfg.critic_input == "state":
            seen = torch.from_numpy(s["state"].astype(np.float32)).reshape(b, -1)  # (b, state)
            next_seen = torch.from_numpy(s["next_state"].astype(np.float32)).reshape(b, -1)
        else:
            seen, next_seen = torch.cat(obs, dim=1), torch.cat(next_obs, dim=1)  # (b, sum obs)
        with torch.no_grad():  # target actors act at the next observations
            next_actions = [self._actor_action(self.target_actors, seat, next_obs[k], s[f"next_mask_{k}"])[0]
                            for k, seat in enumerate(seats)]
            next_input = torch.cat([next_seen, *next_actions], dim=1)  # (b, seen + sum widths)
        metrics: dict[str, float] = {}
        for k, seat in enumerate(seats):
            # critic: y = r + gamma * Q'(x', a'_1..a'_n), no bootstrap past termination
            with torch.no_grad():
                reward = torch.from_numpy(s[f"reward_{k}"].astype(np.float32))  # (b,)
                y = reward + cfg.gamma * not_done * self.target_critics[seat](next_input).squeeze(-1)  # (b,)
            q = self.critics[seat](torch.cat([seen, *actions], dim=1)).squeeze(-1)  # (b,)
            critic_loss = ((q - y) ** 2).mean()
            self._step(self.critic_opts[seat], self.critics[seat], critic_loss, "critic", seat)

            # actor: this seat's action from its actor, the others' from replay
            mine, raw = self._actor_action(self.actors, seat, obs[k], s[f"mask_{k}"])  # (b, width)
            joint = [mine if j == k else a for j, a in enumerate(actions)]
            actor_loss = -self.critics[seat](torch.cat([seen, *joint], dim=1)).mean() + cfg.logit_penalty * (raw ** 2).mean()
            self._step(self.actor_opts[seat], self.actors[seat], actor_loss, "actor", seat)
            metrics[f"critic_loss/{seat}"] = float(critic_loss.detach())
            metrics[f"actor_loss/{seat}"] = float(actor_loss.detach())
            metrics[f"q/{seat}"] = float(q.detach().mean())
        for seat in seats:
            soft_update(self.target_actors[seat], self.actors[seat], cfg.tau)
            soft_update(self.target_critics[seat], self.critics[seat], cfg.tau)
        return metrics

    def _step(self, optimizer: torch.optim.Optimizer, module: nn.Module, loss: torch.Tensor, what: str, seat: str) -> None:
        """A guarded gradient step: a NaN loss or gradient raises before the optimiser moves."""
        optimise(loss, optimizer, list(module.parameters()), self.config.max_grad_norm,
                 who=f"maddpg ({what} of seat {seat!r}, env step {self.env_steps})", step=self.updates + 1)

    # -- checkpoints ---------------------------------------------------------------------
    def _networks_state(self) -> tuple[dict[str, Any], dict[str, Any]]:
        tensors: dict[str, Any] = {}
        meta: dict[str, Any] = {}
        for name in ("actors", "critics", "target_actors", "target_critics"):
            tensors.update({k: v.copy() for k, v in module_tensors(name, getattr(self, name)).items()})
        for name in ("actor_opts", "critic_opts"):
            for seat, optimizer in getattr(self, name).items():
                arrays, groups = optimizer_tensors(f"{name}.{seat}", optimizer)
                tensors.update({k: v.copy() for k, v in arrays.items()})
                meta[f"{name}.{seat}"] = groups
        return tensors, meta

    def _load_networks_state(self, state: tuple[Mapping[str, Any], Mapping[str, Any]]) -> None:
        tensors, meta = state
        for name in ("actors", "critics", "target_actors", "target_critics"):
            load_module(name, getattr(self, name), tensors)
        for name in ("actor_opts", "critic_opts"):
            for seat, optimizer in getattr(self, name).items():
                load_optimizer(f"{name}.{seat}", optimizer, tensors, meta[f"{name}.{seat}"])

    def state_dict(self) -> tuple[dict[str, Any], dict[str, Any]]:
        tensors, meta = self._networks_state()
        tensors.update(torch_rng_tensors("torch_rng", self.generator))
        replays = []
        for g, replay in enumerate(self.replays):
            arrays, replay_meta = replay.state_dict()
            tensors.update({f"replay{g}.{k}": v for k, v in arrays.items()})
            replays.append(replay_meta)
        built, built_meta = builder_state(self.builder, "builder")
        tensors.update(built)
        meta.update(self._describe(), numpy_rng=numpy_rng_state(self.rng), builder=built_meta, replays=replays,
                    env_steps=self.env_steps, updates=self.updates, since_update=self.since_update)
        return tensors, meta

    def load_state_dict(self, tensors: Mapping[str, Any], meta: Mapping[str, Any]) -> None:
        self._check_meta(meta)
        self.config = _config_of(meta)
        self._load_networks_state((tensors, meta))
        load_torch_rng("torch_rng", self.generator, tensors)
        load_numpy_rng(self.rng, meta["numpy_rng"])
        for g, replay in enumerate(self.replays):
            head = f"replay{g}."
            arrays = {k[len(head):]: v for k, v in tensors.items() if k.startswith(head)}
            replay.load_state_dict(arrays, meta["replays"][g])
        load_builder_state(self.builder, "builder", tensors, meta["builder"])
        self._policy.noise = self.config.exploration_noise
        self.env_steps, self.updates = int(meta["env_steps"]), int(meta["updates"])
        self.since_update = int(meta["since_update"])

    def policy_state(self) -> tuple[dict[str, Any], dict[str, Any]]:
        return module_tensors("actors", self.actors), self._describe()

    @classmethod
    def policy_from_state(cls, spec: GameSpec, tensors: Mapping[str, Any], meta: Mapping[str, Any]) -> MADDPGPolicy:
        cfg = _config_of(meta)
        actors = nn.ModuleDict({seat: mlp(spec.seat(seat).obs_size, action_size(spec.seat(seat)), cfg.hidden)
                                for seat in meta["seats"]})
        load_module("actors", actors, tensors)
        return MADDPGPolicy(spec, actors.eval(), noise=0.0)

    def _describe(self) -> dict[str, Any]:
        return {"algorithm": self.algorithm, "game": self.spec.name, "role": self.role, "seats": list(self.seats),
                "config": dataclasses.asdict(self.config)}

    def _check_meta(self, meta: Mapping[str, Any]) -> None:
        if meta.get("algorithm") != self.algorithm or meta.get("role") != self.role or meta.get("game") != self.spec.name:
            raise LearnerError(f"maddpg: the checkpoint holds {meta.get('algorithm')} for role {meta.get('role')!r} of "
                               f"{meta.get('game')}, not maddpg for role {self.role!r} of {self.spec.name}")
        theirs = _config_of(meta)
        for key in ("hidden", "critic_input"):
            if getattr(theirs, key) != getattr(self.config, key):
                raise LearnerError(f"maddpg: the checkpoint's networks have {key}={getattr(theirs, key)!r}, this learner "
                                   f"{getattr(self.config, key)!r}; build the learner with the checkpoint's config")


def _config_of(meta: Mapping[str, Any]) -> MADDPGConfig:
    fields = dict(meta["config"])
    fields["hidden"] = tuple(fields["hidden"])
    return config_from(MADDPGConfig, fields, "maddpg")


def _check(cfg: MADDPGConfig, spec: GameSpec, seats: Sequence[str]) -> None:
    """Reject settings that cannot train or do not fit the game, in one sentence naming the learner."""
    if cfg.continuous is not None:
        for seat in seats:
            if spec.seat(seat).discrete == bool(cfg.continuous):
                want, have = ("continuous", "discrete") if cfg.continuous else ("discrete", "continuous")
                base = spec.name
                hint = (f"load '{base}(continuous=True)'" if cfg.continuous else f"load '{base}' without continuous=True")
                raise LearnerError(f"maddpg is configured for {want} actions (continuous={cfg.continuous}), but seat "
                                   f"{seat!r} of {spec.name} has {have} actions; {hint} "
                                   f"or set continuous={not cfg.continuous}.")
    if cfg.critic_input not in ("obs", "state"):
        raise LearnerError(f"maddpg: critic_input must be 'obs' or 'state', got {cfg.critic_input!r}.")
    if cfg.critic_input == "state" and int(np.prod(spec.state_shape)) == 0:
        raise LearnerError(f"maddpg: critic_input='state' needs the game's global state, and {spec.name} has none; "
                           "use critic_input='obs'.")
    for key in ("lr", "critic_lr", "batch_size", "buffer_size", "update_every", "temperature"):
        if not getattr(cfg, key) > 0:
            raise LearnerError(f"maddpg: {key} must be positive, got {getattr(cfg, key)!r}.")
    for key in ("gamma", "tau"):
        if not 0.0 <= getattr(cfg, key) <= 1.0:
            raise LearnerError(f"maddpg: {key} must lie in [0, 1], got {getattr(cfg, key)!r}.")
