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
    >>> from league.train.selfplay import train
    >>> game = games.load("simple_spread")
    >>> learner = VDN(game.spec, "spreader", config={"learning_starts": 100, "batch_size": 16}, seed=0)
    >>> log = train(game, learner, env_steps=200, batch=4)
    >>> learner.env_steps >= 200, learner.updates > 0, sorted(learner.policy().positions.values())
    (True, True, [0, 1, 2])
"""

from __future__ import annotations

import copy
import warnings
from dataclasses import dataclass
from typing import Any, ClassVar, Mapping

import numpy as np
import torch
from torch import nn

from agents.base import LearnerError, StepBatch
from agents.buffers import ReplayBuffer, RunningMeanStd, TransitionBuilder, join_side
from agents.checkpoint import load_module, load_numpy_rng, numpy_rng_state, under
from agents.iql import IQLConfig, QLearner, discrete_only, epsilon_policy, td_loss
from agents.learning import adam
from agents.nets import QPolicy, SeatQNetworks, double_q_values, legal_or_all, masked_logits, optimise, seeded_init_, update_target
from games.base import GameSpec


@dataclass
class VDNConfig(IQLConfig):
    """Hyperparameters of VDN: IQL's (EPyMARL defaults) with these team-specific changes."""

    batch_size: int = 256
    """Team transitions per gradient step. EPyMARL samples 32 episodes (800 steps of a
    25-step particle world); 256 steps keeps an update cheap on a 2-core CPU."""
    replay_ratio: float = 32.0
    """Team transitions replayed per env step: batch 256 every 8 steps, the ratio of
    EPyMARL's one update of 32 episodes per episode. With cheap env steps (simple_tag's numpy
    engine) 8 learned faster and 32 diverged (see QMIXConfig.replay_ratio)."""
    buffer_size: int = 100_000
    """Replay capacity in team transitions (EPyMARL `buffer_size: 5000` episodes = 125k
    steps of a 25-step game)."""
    standardise_rewards: bool = True
    """Divide the team reward by its running standard deviation (EPyMARL vdn.yaml/qmix.yaml
    `standardise_rewards: True`; scaled only, without EPyMARL's mean shift: see IQLConfig)."""


class VDN(QLearner):
    """A side's seats as one team: per-seat utilities mixed by sum into Q_tot."""

    algorithm: ClassVar[str] = "vdn"
    config_class: ClassVar[type] = VDNConfig
    architecture: ClassVar[tuple[str, ...]] = ("hidden", "agent_id")
    needs_state = False  # QMIX's mixer reads the global state; VDN's sum does not

    @classmethod
    def unsupported(cls, spec: GameSpec, role: str) -> str | None:
        sides = spec.sides_for_role(role)
        reason = discrete_only(spec, tuple(seat for side in sides for seat in side.seats), cls.algorithm)
        if reason:
            return reason
        if spec.turn_based and any(len(side.seats) > 1 for side in sides):
            return f"{cls.algorithm} needs the seats of a side to act together, and in {spec.name} they take turns"
        shapes = {tuple((spec.seat(s).obs_shape, spec.seat(s).n_actions) for s in side.seats) for side in sides}
        if len(shapes) > 1:
            return f"the sides of role {role!r} differ in their seats' shapes, so one team network cannot fill them all"
        return None

    def __init__(self, spec: GameSpec, role: str, *, config: Mapping[str, Any] | None = None, seed: int = 0,
                 device: str | torch.device = "cpu"):
        super().__init__(spec, role, config=config, seed=seed, device=device)
        c = self.config
        self.sides = spec.sides_for_role(role)
        if len(self.sides[0].seats) == 1:
            warnings.warn(f"{self.algorithm} on role {role!r} of {spec.name}: a side of one seat has nothing to "
                          f"decompose, so this is plain DQN (iql does the same more simply)", stacklevel=2)
        self.positions = {seat: side.seats.index(seat) for side in self.sides for seat in side.seats}
        self.n_agents = len(self.sides[0].seats)

        q = seeded_init_(SeatQNetworks([spec.seat(s) for s in self.sides[0].seats], c.hidden, agent_id=c.agent_id,
                                       own_view=c.own_view),
                         self.torch_rng)
        mixer = self.make_mixer()
        if mixer is not None:
            seeded_init_(mixer, self.torch_rng)
        self.q, self.mixer = q.to(self.device), mixer.to(self.device) if mixer is not None else None
        self.q_target = copy.deepcopy(self.q)
        self.mixer_target = copy.deepcopy(self.mixer)
        self.params = list(self.q.parameters()) + (list(self.mixer.parameters()) if self.mixer is not None else [])
        self.optimizer = adam(self.params, lr=c.lr)
        self.buffer = ReplayBuffer(c.buffer_size, self.device)
        self.reward_rms = RunningMeanStd()
        self._policy = QPolicy(spec, self.cpu_copy(self.q), self.positions, epsilon=self.epsilon)
        self.builder = TransitionBuilder(spec, self.seats, with_state=self.needs_state)

    # -- the mixer (QMIX overrides these two) --------------------------------------------
    def make_mixer(self) -> nn.Module | None:
        return None

    def mix(self, mixer: nn.Module | None, q: torch.Tensor, state: torch.Tensor | None) -> torch.Tensor:
        """Per-seat values (B, n_agents) -> team values (B,): VDN sums."""
        return q.sum(1)

    # -- collecting --------------------------------------------------------------------
    def observe(self, batch: StepBatch, player: str) -> None:
        self.count_moves(batch, player)
        done = self.builder.add(batch, player)
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
    def replay_ready(self) -> bool:
        return len(self.buffer) >= self.config.batch_size

    def train_step(self) -> dict[str, torch.Tensor]:
        """One gradient step of the team value on a replayed batch; metrics as 0-d tensors."""
        c, n, B = self.config, self.n_agents, self.config.batch_size
        rng_before = numpy_rng_state(self.rng)
        b = self.buffer.sample(B, self.rng)  # field -> (B, ...) on the device
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
            target = reward + c.gamma * (~b["terminated"]).float() * next_q_tot  # (B,) truncation bootstraps
        loss = td_loss(q_tot, target, c.huber)
        try:
            norms = optimise(loss, [self.optimizer], [self.params], c.grad_clip, who=self.who, step=self.updates + 1)
        except LearnerError:
            load_numpy_rng(self.rng, rng_before)  # leave the learner exactly as it was
            raise
        self.updates += 1
        update_target(self.q_target, self.q, c.target_update, self.updates)
        if self.mixer is not None:
            update_target(self.mixer_target, self.mixer, c.target_update, self.updates)
        return {"loss": loss.detach(), "q_tot": q_tot.detach().mean(), "grad_norm": norms[0]}

    # -- checkpoints -------------------------------------------------------------------
    def modules(self) -> dict[str, nn.Module]:
        modules = {"q": self.q, "q_target": self.q_target}
        if self.mixer is not None:
            modules.update(mixer=self.mixer, mixer_target=self.mixer_target)
        return modules

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"optim": self.optimizer}

    def policy_modules(self) -> dict[str, nn.Module]:
        """The per-seat networks alone: execution is decentralised, the mixer is not needed."""
        return {"q": self.q}

    def identity(self) -> dict[str, Any]:
        return {**super().identity(), "seats": list(self.sides[0].seats)}  # the seats of one side, in order

    def extra_state(self) -> tuple[dict[str, Any], dict[str, Any]]:
        data, buffer_meta = self.buffer.state_dict()
        pending, pending_meta = self.builder.state_dict("builder")
        tensors = {**{f"buffer.{k}": v for k, v in data.items()}, **pending}
        return tensors, {"buffer": buffer_meta, "builder": pending_meta, "reward_rms": self.reward_rms.state()}

    def load_extra_state(self, tensors: Mapping[str, Any], meta: Mapping[str, Any]) -> None:
        self.buffer.load_state_dict(under("buffer", tensors), meta["buffer"])
        self.builder.load_state_dict("builder", tensors, meta["builder"])
        self.reward_rms.load(meta["reward_rms"])

    @classmethod
    def policy_from_state(cls, spec: GameSpec, tensors: Mapping[str, Any], meta: Mapping[str, Any], *,
                          exploration: Mapping[str, float] | None = None) -> QPolicy:
        config, seats = cls.snapshot_settings(spec, meta)
        explore = cls.check_exploration(exploration, ("epsilon",), cls.algorithm)
        role = str(meta.get("role"))
        sides = spec.sides_for_role(role)
        if not sides or list(seats) != list(sides[0].seats):
            raise LearnerError(f"the {cls.algorithm} snapshot plays seats {list(seats)}, which do not match "
                               f"role {role!r} of {spec.name}.")
        net = SeatQNetworks([spec.seat(s) for s in sides[0].seats], config.hidden, agent_id=config.agent_id,
                            own_view=config.own_view)
        load_module("q", net, tensors)
        positions = {seat: side.seats.index(seat) for side in sides for seat in side.seats}
        return epsilon_policy(spec, net.eval(), positions, explore)
