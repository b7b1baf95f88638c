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
from dataclasses import dataclass
from typing import Any, ClassVar, Mapping, Sequence

import numpy as np
import torch
from torch import nn

from agents.base import ExportedSeat, LearnerError, StepBatch, uncovered
from agents.buffers import ReplayBuffer, TransitionBuilder, join_side, seat_rewards
from agents.checkpoint import load_module, under
from agents.learning import AT_LEAST_ZERO, POSITIVE, SIZES, UNIT, LearnerBase, OneOf, Settings, adam, updates_due
from agents.nets import (SeatScores, gumbel_softmax_st, legal_or_all, masked_argmax, masked_logits, mlp, optimise,
                         seeded_init_, soft_update, squash_to_box)
from games.base import Box, GameSpec, SeatSpec, sample_masked, uniforms


@dataclass
class MADDPGConfig(Settings):
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
    """Env steps before training starts (openai/maddpg: batch_size * max_episode_len =
    1024 * 25 joint samples in replay)."""
    replay_ratio: float = 10.24
    """Joint samples replayed per env step: one gradient step per seat of `batch_size` every
    `batch_size / replay_ratio` env steps (openai/maddpg: 1024 every 100 steps)."""
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

    limits: ClassVar = {
        "hidden": SIZES, "lr": POSITIVE, "critic_lr": POSITIVE, "gamma": UNIT, "tau": UNIT, "batch_size": POSITIVE,
        "buffer_size": POSITIVE, "learning_starts": AT_LEAST_ZERO, "replay_ratio": POSITIVE,
        "max_grad_norm": AT_LEAST_ZERO, "logit_penalty": AT_LEAST_ZERO, "temperature": POSITIVE,
        "critic_input": OneOf(("obs", "state")), "exploration_noise": AT_LEAST_ZERO,
    }


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
    def probabilities(self, obs: np.ndarray, mask: np.ndarray, *, seat: str) -> np.ndarray:
        """(b, A) one-hot on the greedy legal action of a discrete seat: the evaluation behaviour."""
        greedy = self.act(obs, mask, seat=seat, keys=np.zeros(len(obs), np.int64))  # (b,)
        return np.eye(self.spec.seat(seat).n_actions)[greedy]

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

    def export_seat(self, seat: str) -> ExportedSeat:
        space = self.spec.seat(seat).action
        if isinstance(space, Box):
            return ExportedSeat(BoxActor(self.actors[seat], space), softmax=False, plays="continuous")
        return ExportedSeat(SeatScores(self.actors[seat]), softmax=False, plays="greedy")


class BoxActor(nn.Module):
    """A continuous seat's actor as a module of the observation: obs (b, *obs_shape) -> the
    tanh output squashed into the Box, (b, *shape)."""

    def __init__(self, actor: nn.Module, box: Box):
        super().__init__()
        self.actor, self.low, self.high, self.shape = actor, float(box.low), float(box.high), tuple(box.shape)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return squash_to_box(self.actor(obs.flatten(1)), self.low, self.high).reshape(-1, *self.shape)


# -- the learner -------------------------------------------------------------------------

class MADDPG(LearnerBase):
    """MADDPG for one role: an actor and a centralised critic per seat, with targets."""

    algorithm: ClassVar[str] = "maddpg"
    config_class: ClassVar[type] = MADDPGConfig
    architecture: ClassVar[tuple[str, ...]] = ("hidden", "critic_input")

    @classmethod
    def unsupported(cls, spec: GameSpec, role: str) -> str | None:
        if spec.turn_based:
            return ("maddpg's critics need every seat of a side to act in the same step, and "
                    f"{spec.name} is turn-based; use mappo")
        return None

    def __init__(self, spec: GameSpec, role: str, *, config: Mapping[str, Any] | None = None, seed: int = 0,
                 device: str | torch.device = "cpu"):
        super().__init__(spec, role, config=config, seed=seed, device=device)
        cfg = self.config
        self.needs_state = cfg.critic_input == "state"
        self.groups = [tuple(side.seats) for side in spec.sides_for_role(role)]  # one critic input per side
        _check(cfg, spec, self.seats)

        actors, critics = nn.ModuleDict(), nn.ModuleDict()
        for group in self.groups:
            seen = (int(np.prod(spec.state_shape)) if cfg.critic_input == "state"
                    else sum(spec.seat(s).obs_size for s in group))
            critic_in = seen + sum(action_size(spec.seat(s)) for s in group)
            for seat in group:
                spec_ = spec.seat(seat)
                actors[seat] = seeded_init_(mlp(spec_.obs_size, action_size(spec_), cfg.hidden), self.torch_rng)
                critics[seat] = seeded_init_(mlp(critic_in, 1, cfg.hidden), self.torch_rng)
        self.actors, self.critics = actors.to(self.device), critics.to(self.device)
        self.target_actors = copy.deepcopy(self.actors)
        self.target_critics = copy.deepcopy(self.critics)
        self.actor_opts = {s: adam(self.actors[s].parameters(), lr=cfg.lr) for s in self.seats}
        self.critic_opts = {s: adam(self.critics[s].parameters(), lr=cfg.critic_lr) for s in self.seats}
        self.replays = [ReplayBuffer(cfg.buffer_size, self.device) for _ in self.groups]

        self._policy = MADDPGPolicy(spec, self.cpu_copy(self.actors), noise=cfg.exploration_noise)
        self.builder = TransitionBuilder(spec, self.seats, with_state=self.needs_state)

    # -- policies ------------------------------------------------------------------------
    def policy(self) -> MADDPGPolicy:
        return self._policy

    def frozen_policy(self) -> MADDPGPolicy:
        return MADDPGPolicy(self.spec, copy.deepcopy(self._policy.actors).eval(), noise=0.0)

    def exploration(self) -> dict[str, float]:
        return {"noise": self.config.exploration_noise}  # continuous seats; discrete ones sample

    # -- gathering experience ----------------------------------------------------------
    def observe(self, batch: StepBatch, player: str) -> None:
        """Join each side's per-seat transitions of this step on (copy, step) into replay."""
        self.count_moves(batch, player)
        done = self.builder.add(batch, player)
        for group, replay in zip(self.groups, self.replays):
            team = join_side(done, group)
            if team is None:
                continue
            rewards = seat_rewards(done, group)  # (b, seats) each seat's own reward
            for k in range(len(group)):
                team[f"reward_{k}"] = rewards[:, k]
            replay.add(team)

    # -- learning ------------------------------------------------------------------------
    def learn(self) -> dict[str, float]:
        """One gradient step per seat for every `batch_size / replay_ratio` env steps, from
        `learning_starts` on (once every side's replay holds a batch)."""
        cfg = self.config
        if any(len(replay) < cfg.batch_size for replay in self.replays):
            return {}
        due = updates_due(self.env_steps, cfg.learning_starts, cfg.batch_size, cfg.replay_ratio, self.updates)
        if due == 0:
            return {}
        backup = self.networks_state()
        sums: dict[str, torch.Tensor] = {}
        try:
            for _ in range(due):
                for g in range(len(self.groups)):
                    for key, value in self._train_group(g).items():
                        sums[key] = sums[key] + value if key in sums else value
                self.updates += 1
        except LearnerError:
            self.load_networks_state(*backup)  # keep the last good weights
            raise
        return {key: float(value) / (due * len(self.groups)) for key, value in sums.items()}

    def _action_input(self, seat: str, action: torch.Tensor) -> torch.Tensor:
        """Replayed actions as critic inputs: one-hot (b, A) or the Box values (b, size)."""
        spec = self.spec.seat(seat)
        if spec.discrete:
            return nn.functional.one_hot(action.long(), spec.n_actions).float()
        return action.float().reshape(len(action), -1)

    def _actor_action(self, actors: nn.ModuleDict, seat: str, obs: torch.Tensor, mask: torch.Tensor
                      ) -> tuple[torch.Tensor, torch.Tensor]:
        """(differentiable action (b, width), raw output (b, width)) of an actor at `obs`."""
        out = actors[seat](obs)  # (b, width)
        spec = self.spec.seat(seat)
        if spec.discrete:
            legal = mask | ~mask.any(1, keepdim=True)  # (b, A): no legal action counts every action
            return gumbel_softmax_st(out, legal, self.torch_rng, self.config.temperature), out
        return squash_to_box(out, spec.action.low, spec.action.high), out

    def _train_group(self, g: int) -> dict[str, torch.Tensor]:
        cfg = self.config
        seats = self.groups[g]
        s = self.replays[g].sample(cfg.batch_size, self.rng)  # field -> (b, ...) on the device
        b = cfg.batch_size
        obs = [s[f"obs_{k}"].float().reshape(b, -1) for k in range(len(seats))]  # (b, obs_k)
        next_obs = [s[f"next_obs_{k}"].float().reshape(b, -1) for k in range(len(seats))]
        actions = [self._action_input(seat, s[f"action_{k}"]) for k, seat in enumerate(seats)]  # (b, width_k)
        not_done = (~s["terminated"]).float()  # (b,) truncation bootstraps, termination does not
        if cfg.critic_input == "state":
            seen, next_seen = s["state"].float().reshape(b, -1), s["next_state"].float().reshape(b, -1)  # (b, state)
        else:
            seen, next_seen = torch.cat(obs, dim=1), torch.cat(next_obs, dim=1)  # (b, sum obs)
        with torch.no_grad():  # target actors act at the next observations
            next_actions = [self._actor_action(self.target_actors, seat, next_obs[k], s[f"next_mask_{k}"])[0]
                            for k, seat in enumerate(seats)]
            next_input = torch.cat([next_seen, *next_actions], dim=1)  # (b, seen + sum widths)
        metrics: dict[str, torch.Tensor] = {}
        for k, seat in enumerate(seats):
            # critic: y = r + gamma * Q'(x', a'_1..a'_n), no bootstrap past termination
            with torch.no_grad():
                y = s[f"reward_{k}"].float() + cfg.gamma * not_done * self.target_critics[seat](next_input).squeeze(-1)  # (b,)
            q = self.critics[seat](torch.cat([seen, *actions], dim=1)).squeeze(-1)  # (b,)
            critic_loss = ((q - y) ** 2).mean()
            self._step(self.critic_opts[seat], self.critics[seat], critic_loss, "critic", seat)

            # actor: this seat's action from its actor, the others' from replay
            mine, raw = self._actor_action(self.actors, seat, obs[k], s[f"mask_{k}"])  # (b, width)
            joint = [mine if j == k else a for j, a in enumerate(actions)]
            actor_loss = -self.critics[seat](torch.cat([seen, *joint], dim=1)).mean() + cfg.logit_penalty * (raw ** 2).mean()
            self._step(self.actor_opts[seat], self.actors[seat], actor_loss, "actor", seat)
            metrics[f"critic_loss/{seat}"] = critic_loss.detach()
            metrics[f"actor_loss/{seat}"] = actor_loss.detach()
            metrics[f"q/{seat}"] = q.detach().mean()
        for seat in seats:
            soft_update(self.target_actors[seat], self.actors[seat], cfg.tau)
            soft_update(self.target_critics[seat], self.critics[seat], cfg.tau)
        return metrics

    def _step(self, optimizer: torch.optim.Optimizer, module: nn.Module, loss: torch.Tensor, what: str, seat: str) -> None:
        """A guarded gradient step: a NaN loss or gradient raises before the optimiser moves."""
        optimise(loss, [optimizer], [list(module.parameters())], self.config.max_grad_norm,
                 who=f"maddpg ({what} of seat {seat!r}, env step {self.env_steps})", step=self.updates + 1)

    # -- checkpoints ---------------------------------------------------------------------
    def modules(self) -> dict[str, nn.Module]:
        return {"actors": self.actors, "critics": self.critics, "target_actors": self.target_actors,
                "target_critics": self.target_critics}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {**{f"actor_opts.{s}": o for s, o in self.actor_opts.items()},
                **{f"critic_opts.{s}": o for s, o in self.critic_opts.items()}}

    def policy_modules(self) -> dict[str, nn.Module]:
        return {"actors": self.actors}

    def extra_state(self) -> tuple[dict[str, Any], dict[str, Any]]:
        tensors, replays = {}, []
        for g, replay in enumerate(self.replays):
            arrays, replay_meta = replay.state_dict()
            tensors.update({f"replay{g}.{k}": v for k, v in arrays.items()})
            replays.append(replay_meta)
        built, built_meta = self.builder.state_dict("builder")
        tensors.update(built)
        return tensors, {"builder": built_meta, "replays": replays}

    def load_extra_state(self, tensors: Mapping[str, Any], meta: Mapping[str, Any]) -> None:
        for g, replay in enumerate(self.replays):
            replay.load_state_dict(under(f"replay{g}", tensors), meta["replays"][g])
        self.builder.load_state_dict("builder", tensors, meta["builder"])
        self._policy.noise = self.config.exploration_noise

    @classmethod
    def policy_from_state(cls, spec: GameSpec, tensors: Mapping[str, Any], meta: Mapping[str, Any], *,
                          exploration: Mapping[str, float] | None = None) -> MADDPGPolicy:
        cfg, seats = cls.snapshot_settings(spec, meta)
        explore = cls.check_exploration(exploration, ("noise",), cls.algorithm)
        actors = nn.ModuleDict({seat: mlp(spec.seat(seat).obs_size, action_size(spec.seat(seat)), cfg.hidden)
                                for seat in seats})
        load_module("actors", actors, tensors)
        return MADDPGPolicy(spec, actors.eval(), noise=explore.get("noise", 0.0))


def _check(cfg: MADDPGConfig, spec: GameSpec, seats: Sequence[str]) -> None:
    """Settings that do not fit the game, in one sentence naming the learner."""
    if cfg.continuous is not None:
        for seat in seats:
            if spec.seat(seat).discrete == bool(cfg.continuous):
                want, have = ("continuous", "discrete") if cfg.continuous else ("discrete", "continuous")
                base = spec.name
                hint = (f"load '{base}(continuous=True)'" if cfg.continuous else f"load '{base}' without continuous=True")
                raise LearnerError(f"maddpg is configured for {want} actions (continuous={cfg.continuous}), but seat "
                                   f"{seat!r} of {spec.name} has {have} actions; {hint} "
                                   f"or set continuous={not cfg.continuous}.")
    if cfg.critic_input == "state" and int(np.prod(spec.state_shape)) == 0:
        raise LearnerError(f"maddpg: critic_input='state' needs the game's global state, and {spec.name} has none; "
                           "use critic_input='obs'.")
