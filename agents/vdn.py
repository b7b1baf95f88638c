"""VDN: value decomposition networks (Sunehag et al. 2018), a team of Q-learners.

One learner controls a whole side. Each seat has a utility Q_i(o_i, a_i) from a shared
network (the seat's one-hot id as an extra input; seats that differ in shape get their own
network); the team value is their sum, Q_tot = sum_i Q_i, trained by TD on the team
reward (the sum of the side's seat rewards) with a target network and double-Q targets
over legal actions. Because Q_tot is a sum, each seat's greedy action maximises Q_tot:
execution is decentralised, each seat acting greedily on its own observation.

`agents.qmix.QMIX` is this learner with the sum replaced by a monotonic mixing network.

Example:
    >>> import games
    >>> from league.train.loop import train
    >>> game = games.load("simple_spread")
    >>> learner = VDN(game.spec, "spreader", config={"learning_starts": 100, "batch_size": 16}, seed=0)
    >>> log = train(game, learner, env_steps=200, batch=4)
    >>> learner.env_steps >= 200, learner.updates > 0, sorted(learner.policy().positions.values())
    (True, True, [0, 1, 2])
"""

from __future__ import annotations

import copy
import dataclasses
import warnings
from dataclasses import dataclass
from typing import Any, ClassVar, Mapping

import numpy as np
import torch
from torch import nn

from agents.base import Learner, LearnerError, Policy, StepBatch
from agents.buffers import (ReplayBuffer, RunningMeanStd, TransitionBuilder, builder_state, join_side,
                            linear_schedule, load_builder_state)
from agents.checkpoint import (load_module, load_numpy_rng, load_optimizer, load_torch_rng, module_tensors,
                               numpy_rng_state, optimizer_tensors, torch_rng_tensors)
from agents.iql import IQLConfig, check_identity, discrete_only, td_loss
from agents.nets import (QPolicy, SeatQNetworks, config_from, double_q_values, legal_or_all, masked_logits, optimise,
                         seeded_init_, update_target)
from games.base import GameSpec


@dataclass
class VDNConfig(IQLConfig):
    """Hyperparameters of VDN: IQL's (EPyMARL defaults) with these team-specific changes."""

    batch_size: int = 256
    """Team transitions per gradient step. EPyMARL samples 32 episodes (800 steps of a
    25-step particle world); 256 steps keeps an update cheap on a 2-core CPU."""
    buffer_size: int = 100_000
    """Replay capacity in team transitions (EPyMARL `buffer_size: 5000` episodes = 125k
    steps of a 25-step game)."""
    train_every: int = 8
    """Environment steps per gradient step: batch 256 every 8 steps replays each transition
    ~32 times, the ratio of EPyMARL's one update of 32 episodes per episode."""
    standardise_rewards: bool = True
    """Divide the team reward by its running standard deviation (EPyMARL vdn.yaml/qmix.yaml
    `standardise_rewards: True`; scaled only, without EPyMARL's mean shift: see IQLConfig)."""


class VDN(Learner):
    """A side's seats as one team: per-seat utilities mixed by sum into Q_tot."""

    algorithm: ClassVar[str] = "vdn"
    config_class: ClassVar[type] = VDNConfig
    needs_state = False  # QMIX's mixer reads the global state; VDN's sum does not

    @classmethod
    def unsupported(cls, spec: GameSpec, role: str) -> str | None:
        sides = spec.sides_for_role(role)
        if not sides:
            return f"{spec.name} has no role {role!r}"
        reason = discrete_only(spec, tuple(seat for side in sides for seat in side.seats), cls.algorithm)
        if reason:
            return reason
        if spec.turn_based and any(len(side.seats) > 1 for side in sides):
            return f"{cls.algorithm} needs the seats of a side to act together, and in {spec.name} they take turns"
        shapes = {tuple((spec.seat(s).obs_shape, spec.seat(s).n_actions) for s in side.seats) for side in sides}
        if len(shapes) > 1:
            return f"the sides of role {role!r} differ in their seats' shapes, so one team network cannot fill them all"
        return None

    def __init__(self, spec: GameSpec, role: str, *, config: Mapping[str, Any] | None = None, seed: int = 0):
        reason = self.unsupported(spec, role)
        if reason:
            raise LearnerError(f"{self.algorithm} cannot learn role {role!r} of {spec.name}: {reason}.")
        self.config = config_from(self.config_class, config, self.algorithm)
        self.config.check(self.algorithm)
        c = self.config
        self.spec, self.role, self.seed = spec, role, int(seed)
        self.sides = spec.sides_for_role(role)
        if len(self.sides[0].seats) == 1:
            warnings.warn(f"{self.algorithm} on role {role!r} of {spec.name}: a side of one seat has nothing to "
                          f"decompose, so this is plain DQN (iql does the same more simply)", stacklevel=2)
        self.seats = tuple(seat for side in self.sides for seat in side.seats)
        self.positions = {seat: side.seats.index(seat) for side in self.sides for seat in side.seats}
        self.n_agents = len(self.sides[0].seats)
        self.torch_rng = torch.Generator().manual_seed(self.seed)
        self.rng = np.random.default_rng(self.seed)

        self.q = seeded_init_(SeatQNetworks([spec.seat(s) for s in self.sides[0].seats], c.hidden, agent_id=c.agent_id),
                              self.torch_rng)
        self.mixer = self.make_mixer()
        if self.mixer is not None:
            seeded_init_(self.mixer, self.torch_rng)
        self.q_target = copy.deepcopy(self.q)
        self.mixer_target = copy.deepcopy(self.mixer)
        self.params = list(self.q.parameters()) + (list(self.mixer.parameters()) if self.mixer is not None else [])
        self.optimizer = torch.optim.Adam(self.params, lr=c.lr)
        self.buffer = ReplayBuffer(c.buffer_size)
        self.reward_rms = RunningMeanStd()
        self._policy = QPolicy(spec, self.q, self.positions, epsilon=self.epsilon)
        self.builder = TransitionBuilder(spec, self.seats, self._policy, with_state=self.needs_state)
        self.env_steps = 0
        self.updates = 0

    # -- the mixer (QMIX overrides these two) --------------------------------------------
    def make_mixer(self) -> nn.Module | None:
        return None

    def mix(self, mixer: nn.Module | None, q: torch.Tensor, state: torch.Tensor | None) -> torch.Tensor:
        """Per-seat values (B, n_agents) -> team values (B,): VDN sums."""
        return q.sum(1)

    # -- acting ------------------------------------------------------------------------
    def epsilon(self) -> float:
        c = self.config
        return linear_schedule(c.epsilon_start, c.epsilon_end, c.epsilon_steps, self.env_steps)

    def policy(self) -> Policy:
        return self._policy  # one object for every seat of the side, the same every call

    def frozen_policy(self) -> Policy:
        return QPolicy(self.spec, copy.deepcopy(self.q), self.positions, epsilon=None)

    # -- collecting --------------------------------------------------------------------
    def observe(self, batch: StepBatch) -> None:
        acted = np.zeros(len(batch.result.terminated), bool)  # (n,) copies where the team moved
        for seat in self.seats:
            acted |= batch.rows_of(self._policy, seat)
        self.env_steps += int(acted.sum())
        done = self.builder.add(batch)
        for side in self.sides:
            team = join_side(done, side.seats)  # reward is the team reward: the sum over the side
            if team is None:
                continue
            for k in range(self.n_agents):
                team[f"action_{k}"] = team[f"action_{k}"].astype(np.int64)
                team[f"next_mask_{k}"] = legal_or_all(team[f"next_mask_{k}"])  # (b, A_k) what max may pick
            if self.config.standardise_rewards:
                self.reward_rms.update(team["reward"])
            self.buffer.add(team)

    # -- learning ----------------------------------------------------------------------
    def update(self) -> dict[str, float]:
        c = self.config
        if self.env_steps < c.learning_starts or len(self.buffer) < c.batch_size:
            return {}
        due = (self.env_steps - c.learning_starts) // c.train_every + 1 - self.updates
        metrics: dict[str, float] = {}
        for _ in range(max(due, 0)):
            metrics = self._train_step()
        return metrics

    def _train_step(self) -> dict[str, float]:
        c, n, B = self.config, self.n_agents, self.config.batch_size
        rng_before = numpy_rng_state(self.rng)
        b = {k: torch.from_numpy(v) for k, v in self.buffer.sample(B, self.rng).items()}
        reward = b["reward"]  # (B,) team reward
        if c.standardise_rewards:
            reward = reward / float(np.sqrt(self.reward_rms.var) + 1e-8)  # scale only: see the config
        reward = reward * c.reward_scale
        state, next_state = b.get("state"), b.get("next_state")  # (B, S) for QMIX

        # every seat's Q on obs and next_obs in one pass per network group
        both = self.q.forward_all([torch.cat([b[f"obs_{k}"], b[f"next_obs_{k}"]]) for k in range(n)])  # n x (2B, A_k)
        with torch.no_grad():
            next_target = self.q_target.forward_all([b[f"next_obs_{k}"] for k in range(n)])  # n x (B, A_k)
        taken, next_values = [], []
        for k in range(n):
            taken.append(both[k][:B].gather(1, b[f"action_{k}"][:, None]).squeeze(1))  # (B,)
            if c.double_q:
                _, value = double_q_values(both[k][B:].detach(), next_target[k], b[f"next_mask_{k}"])  # (B,)
            else:
                value = masked_logits(next_target[k], b[f"next_mask_{k}"]).max(1).values  # (B,)
            next_values.append(value)
        q_tot = self.mix(self.mixer, torch.stack(taken, 1), state)  # (B,)
        with torch.no_grad():
            next_q_tot = self.mix(self.mixer_target, torch.stack(next_values, 1), next_state)  # (B,)
            target = reward + c.gamma * (1.0 - b["terminated"].float()) * next_q_tot  # (B,) truncation bootstraps
        loss = td_loss(q_tot, target, c.huber)
        try:
            grad_norm = optimise(loss, self.optimizer, self.params, c.grad_clip,
                                 who=f"{self.algorithm} ({self.role})", step=self.updates + 1)
        except LearnerError:
            load_numpy_rng(self.rng, rng_before)  # leave the learner exactly as it was
            raise
        self.updates += 1
        update_target(self.q_target, self.q, c.target_update, self.updates)
        if self.mixer is not None:
            update_target(self.mixer_target, self.mixer, c.target_update, self.updates)
        return {"loss": float(loss.detach()), "q_tot": float(q_tot.detach().mean()), "grad_norm": grad_norm,
                "epsilon": self.epsilon()}

    # -- checkpoints -------------------------------------------------------------------
    def _modules(self) -> dict[str, nn.Module]:
        modules = {"q": self.q, "q_target": self.q_target}
        if self.mixer is not None:
            modules.update(mixer=self.mixer, mixer_target=self.mixer_target)
        return modules

    def state_dict(self) -> tuple[dict[str, Any], dict[str, Any]]:
        tensors: dict[str, Any] = {}
        for name, module in self._modules().items():
            tensors.update(module_tensors(name, module))
        tensors.update(torch_rng_tensors("torch_rng", self.torch_rng))
        optim_tensors, optim_meta = optimizer_tensors("optim", self.optimizer)
        data, buffer_meta = self.buffer.state_dict()
        pending, pending_meta = builder_state(self.builder, "builder")
        tensors.update({**optim_tensors, **{f"buffer.{k}": v for k, v in data.items()}, **pending})
        meta = {
            **self._identity(), "config": dataclasses.asdict(self.config),
            "env_steps": self.env_steps, "updates": self.updates, "optim": optim_meta, "buffer": buffer_meta,
            "builder": pending_meta, "numpy_rng": numpy_rng_state(self.rng), "reward_rms": self.reward_rms.state(),
        }
        return tensors, meta

    def load_state_dict(self, tensors: Mapping[str, Any], meta: Mapping[str, Any]) -> None:
        check_identity(self, meta)
        self.config = config_from(self.config_class, meta["config"], self.algorithm)
        self.config.check(self.algorithm)
        for name, module in self._modules().items():
            load_module(name, module, tensors)
        load_optimizer("optim", self.optimizer, tensors, meta["optim"])
        self.buffer.load_state_dict({k[7:]: v for k, v in tensors.items() if k.startswith("buffer.")}, meta["buffer"])
        load_builder_state(self.builder, "builder", tensors, meta["builder"])
        load_torch_rng("torch_rng", self.torch_rng, tensors)
        load_numpy_rng(self.rng, meta["numpy_rng"])
        self.reward_rms.load(meta["reward_rms"])
        self.env_steps, self.updates = int(meta["env_steps"]), int(meta["updates"])

    def _identity(self) -> dict[str, Any]:
        return {"algorithm": self.algorithm, "game": self.spec.name, "role": self.role,
                "seats": list(self.sides[0].seats), "hidden": list(self.config.hidden), "agent_id": self.config.agent_id}

    def policy_state(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """The per-seat networks alone: execution is decentralised, the mixer is not needed."""
        return module_tensors("q", self.q), self._identity()

    @classmethod
    def policy_from_state(cls, spec: GameSpec, tensors: Mapping[str, Any], meta: Mapping[str, Any]) -> Policy:
        role = str(meta["role"])
        sides = spec.sides_for_role(role)
        if not sides or [str(s) for s in meta["seats"]] != list(sides[0].seats):
            raise LearnerError(f"the {cls.algorithm} snapshot plays seats {list(meta['seats'])}, which do not match "
                               f"role {role!r} of {spec.name}.")
        net = SeatQNetworks([spec.seat(s) for s in sides[0].seats], tuple(meta["hidden"]), agent_id=bool(meta["agent_id"]))
        load_module("q", net, tensors)
        positions = {seat: side.seats.index(seat) for side in sides for seat in side.seats}
        return QPolicy(spec, net, positions, epsilon=None)
