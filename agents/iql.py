"""IQL: independent Q-learning (Tan 1993) with the DQN machinery (Mnih et al. 2015).

Every seat of the learner's role is treated as an independent DQN agent; they share one
Q-network (parameter sharing, with the seat's one-hot id as an extra input), learn from
a replay buffer of their own transitions, and bootstrap from a target network with double
Q-learning (van Hasselt et al. 2016). Targets take the max over the next state's *legal*
actions; terminated transitions do not bootstrap, truncated ones do (from next_obs).

In a turn-based game a transition runs from the seat's move to its next move, with every
reward it received in between (see `agents.buffers.TransitionBuilder`): the opponent's
reply is part of the environment, and the loser learns from the move that lost.

Example:
    >>> import games
    >>> from agents.baselines import RandomPolicy
    >>> from league.play.runner import Entrant
    >>> from league.train.loop import train
    >>> game = games.load("tic_tac_toe")
    >>> learner = IQL(game.spec, "player", config={"learning_starts": 64, "batch_size": 32}, seed=0)
    >>> log = train(game, learner, env_steps=300, opponents=[Entrant("random", RandomPolicy(game.spec))])
    >>> learner.env_steps >= 300, learner.updates > 0
    (True, True)
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
import torch

from agents.base import Learner, LearnerError, Policy, StepBatch
from agents.buffers import (ReplayBuffer, RunningMeanStd, TransitionBuilder, builder_state, linear_schedule,
                            load_builder_state)
from agents.checkpoint import (load_module, load_numpy_rng, load_optimizer, load_torch_rng, module_tensors,
                               numpy_rng_state, optimizer_tensors, torch_rng_tensors)
from agents.nets import (QPolicy, SeatQNetworks, config_from, double_q_values, legal_or_all, masked_logits, optimise,
                         seeded_init_, update_target)
from games.base import GameSpec


@dataclass
class IQLConfig:
    """Hyperparameters of IQL. Defaults follow EPyMARL (src/config/default.yaml and
    algs/iql.yaml) unless a docstring says otherwise; EPyMARL trains on batches of whole
    episodes, here a batch is of transitions (see `batch_size`)."""

    hidden: tuple[int, ...] = (64, 64)
    """Hidden layer sizes of the Q-network MLP (EPyMARL `hidden_dim: 64`; an MLP rather than
    its GRU, because every observation here is the full board or particle state)."""
    lr: float = 5e-4
    """Adam learning rate (EPyMARL `lr: 0.0005`)."""
    gamma: float = 0.99
    """Discount factor (EPyMARL `gamma: 0.99`)."""
    batch_size: int = 128
    """Transitions per gradient step (CleanRL dqn.py `batch_size: 128`; EPyMARL samples 32
    episodes, which in a 9-move game is about this many moves)."""
    buffer_size: int = 50_000
    """Replay capacity in transitions (EPyMARL `buffer_size: 5000` episodes; 50k transitions
    hold the last ~10k tic-tac-toe games or 2k particle-world episodes per seat)."""
    learning_starts: int = 1_000
    """Environment steps observed before the first update (CleanRL `learning_starts`,
    scaled down: EPyMARL starts once `batch_size` episodes are stored)."""
    train_every: int = 4
    """Environment steps per gradient step (CleanRL dqn.py `train_frequency`, scaled: with
    batch 128 every 4 steps each transition is replayed ~32 times, as EPyMARL's one update of
    32 episodes per episode does)."""
    target_update: float = 200.0
    """EPyMARL `target_update_interval_or_tau: 200`: >= 1 copies the online network into the
    target every that many gradient steps; < 1 is the Polyak rate tau of a soft update."""
    epsilon_start: float = 1.0
    """Initial exploration rate (EPyMARL `epsilon_start: 1.0`)."""
    epsilon_end: float = 0.05
    """Final exploration rate (EPyMARL `epsilon_finish: 0.05`)."""
    epsilon_steps: int = 50_000
    """Environment steps over which epsilon falls linearly (EPyMARL `epsilon_anneal_time: 50000`)."""
    grad_clip: float = 10.0
    """Max global gradient norm (EPyMARL `grad_norm_clip: 10`); <= 0 disables clipping."""
    double_q: bool = True
    """Double Q-learning targets (EPyMARL `double_q: True`)."""
    agent_id: bool = True
    """Append the seat's one-hot id to its observation (EPyMARL `obs_agent_id: True`)."""
    standardise_rewards: bool = False
    """Divide rewards by their running standard deviation before the TD target (EPyMARL
    `standardise_rewards`, which also subtracts the running mean). Scaled only here: a shift
    changes which outcome is preferred in games that terminate, and on simple_spread it made
    QMIX's values diverge (measured). Off for IQL by default: board games pay -1/0/+1."""

    reward_scale: float = 1.0
    """Multiply rewards by this before the TD target (after standardising). Not in EPyMARL:
    a knob for games whose discounted values are large (gamma 0.99 and a dense reward put
    simple_spread's team values near -250, which QMIX's mixer fits slowly)."""

    huber: bool = False
    """TD loss: squared error (EPyMARL) or, when True, Huber / smooth-L1 (DQN, Mnih et al.
    2015, and CleanRL), which bounds the gradient of large TD errors."""

    def check(self, algorithm: str) -> None:
        """One clear sentence for a value out of range."""
        positive = ("lr", "batch_size", "buffer_size", "train_every", "target_update", "reward_scale")
        for name in positive:
            if not getattr(self, name) > 0:
                raise LearnerError(f"{algorithm} setting {name} must be positive, got {getattr(self, name)!r}.")
        if not 0.0 <= self.gamma <= 1.0:
            raise LearnerError(f"{algorithm} setting gamma must be in [0, 1], got {self.gamma!r}.")
        for name in ("epsilon_start", "epsilon_end"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise LearnerError(f"{algorithm} setting {name} must be in [0, 1], got {getattr(self, name)!r}.")
        if self.learning_starts < 0 or self.epsilon_steps < 0:
            raise LearnerError(f"{algorithm} settings learning_starts and epsilon_steps must be at least 0.")
        if not self.hidden or any(int(h) < 1 for h in self.hidden):
            raise LearnerError(f"{algorithm} setting hidden must list positive layer sizes, got {self.hidden!r}.")
        self.hidden = tuple(int(h) for h in self.hidden)


def td_loss(prediction: torch.Tensor, target: torch.Tensor, huber: bool) -> torch.Tensor:
    """Mean squared TD error, or Huber (smooth L1) when `huber`."""
    if huber:
        return torch.nn.functional.smooth_l1_loss(prediction, target)
    return torch.nn.functional.mse_loss(prediction, target)


def discrete_only(spec: GameSpec, seats: tuple[str, ...], algorithm: str) -> str | None:
    """Why a Q-learner cannot play `seats` (continuous actions), or None."""
    for seat in seats:
        if not spec.seat(seat).discrete:
            return (f"{algorithm} needs discrete actions, and seat {seat!r} has continuous actions "
                    f"{spec.seat(seat).action}; try a discrete variant of the game or maddpg/mappo")
    return None


class IQL(Learner):
    """Independent DQN learners for every seat of one role, sharing one Q-network."""

    algorithm = "iql"
    needs_state = False

    @classmethod
    def unsupported(cls, spec: GameSpec, role: str) -> str | None:
        seats = tuple(seat for side in spec.sides_for_role(role) for seat in side.seats)
        if not seats:
            return f"{spec.name} has no role {role!r}"
        return discrete_only(spec, seats, cls.algorithm)

    def __init__(self, spec: GameSpec, role: str, *, config: Mapping[str, Any] | None = None, seed: int = 0):
        reason = self.unsupported(spec, role)
        if reason:
            raise LearnerError(f"{self.algorithm} cannot learn role {role!r} of {spec.name}: {reason}.")
        self.config = config_from(IQLConfig, config, self.algorithm)
        self.config.check(self.algorithm)
        c = self.config
        self.spec, self.role, self.seed = spec, role, int(seed)
        # every seat of the role, over all its sides; the position is the seat's agent id
        self.seats = tuple(seat for side in spec.sides_for_role(role) for seat in side.seats)
        self.positions = {seat: k for k, seat in enumerate(self.seats)}
        self.torch_rng = torch.Generator().manual_seed(self.seed)
        self.rng = np.random.default_rng(self.seed)

        self.q = seeded_init_(SeatQNetworks([spec.seat(s) for s in self.seats], c.hidden, agent_id=c.agent_id), self.torch_rng)
        self.q_target = copy.deepcopy(self.q)
        self.optimizer = torch.optim.Adam(self.q.parameters(), lr=c.lr)
        # one buffer per group of seats that share a network (same shapes)
        self.buffers = [ReplayBuffer(c.buffer_size) for _ in self.q.groups]
        self.reward_rms = RunningMeanStd()
        self._policy = QPolicy(spec, self.q, self.positions, epsilon=self.epsilon)
        self.builder = TransitionBuilder(spec, self.seats, self._policy)
        self.env_steps = 0
        self.updates = 0

    # -- acting ------------------------------------------------------------------------
    def epsilon(self) -> float:
        c = self.config
        return linear_schedule(c.epsilon_start, c.epsilon_end, c.epsilon_steps, self.env_steps)

    def policy(self) -> Policy:
        return self._policy  # the same object every call: the builder finds its rows by identity

    def frozen_policy(self) -> Policy:
        return QPolicy(self.spec, copy.deepcopy(self.q), self.positions, epsilon=None)

    # -- collecting --------------------------------------------------------------------
    def observe(self, batch: StepBatch) -> None:
        acted = np.zeros(len(batch.result.terminated), bool)  # (n,)
        for seat in self.seats:
            acted |= batch.rows_of(self._policy, seat)
        self.env_steps += int(acted.sum())
        for seat, t in self.builder.add(batch).items():
            position = self.positions[seat]
            if self.config.standardise_rewards:
                self.reward_rms.update(t.reward)
            self.buffers[self.q.group_of[position]].add({
                "obs": t.obs,  # (b, *obs_shape)
                "id": np.full(len(t), self.q.id_of[position], np.int64),  # (b,)
                "action": t.action.astype(np.int64),  # (b,)
                "reward": t.reward,  # (b,)
                "next_obs": t.next_obs,  # (b, *obs_shape)
                "next_mask": legal_or_all(t.next_mask),  # (b, A): legal actions to maximise over
                "terminated": t.terminated,  # (b,): no bootstrap; truncated rows bootstrap
            })

    # -- learning ----------------------------------------------------------------------
    def update(self) -> dict[str, float]:
        c = self.config
        if self.env_steps < c.learning_starts or not any(len(b) >= c.batch_size for b in self.buffers):
            return {}
        due = (self.env_steps - c.learning_starts) // c.train_every + 1 - self.updates
        metrics: dict[str, float] = {}
        for _ in range(max(due, 0)):
            metrics = self._train_step()
        return metrics

    def _train_step(self) -> dict[str, float]:
        c = self.config
        rng_before = numpy_rng_state(self.rng)
        losses, q_means = [], []
        for g, buffer in enumerate(self.buffers):
            if len(buffer) < c.batch_size:
                continue
            b = {k: torch.from_numpy(v) for k, v in buffer.sample(c.batch_size, self.rng).items()}
            reward = b["reward"]  # (B,)
            if c.standardise_rewards:
                reward = reward / float(np.sqrt(self.reward_rms.var) + 1e-8)  # scale only: see the config
            reward = reward * c.reward_scale
            # one pass over obs and next_obs: the first half trains, the second picks next actions
            both = self.q.forward_group(g, torch.cat([b["obs"], b["next_obs"]]), b["id"].repeat(2))  # (2B, A)
            q_now, q_next_online = both[: c.batch_size], both[c.batch_size:].detach()  # (B, A) each
            q_taken = q_now.gather(1, b["action"][:, None]).squeeze(1)  # (B,)
            with torch.no_grad():
                q_next_target = self.q_target.forward_group(g, b["next_obs"], b["id"])  # (B, A)
                if c.double_q:
                    _, next_value = double_q_values(q_next_online, q_next_target, b["next_mask"])  # (B,)
                else:
                    next_value = masked_logits(q_next_target, b["next_mask"]).max(1).values  # (B,)
                target = reward + c.gamma * (1.0 - b["terminated"].float()) * next_value  # (B,)
            losses.append(td_loss(q_taken, target, c.huber))
            q_means.append(float(q_taken.detach().mean()))
        loss = torch.stack(losses).sum()
        try:
            grad_norm = optimise(loss, self.optimizer, list(self.q.parameters()), c.grad_clip,
                                 who=f"{self.algorithm} ({self.role})", step=self.updates + 1)
        except LearnerError:
            load_numpy_rng(self.rng, rng_before)  # leave the learner exactly as it was
            raise
        self.updates += 1
        update_target(self.q_target, self.q, c.target_update, self.updates)
        return {"loss": float(loss.detach()), "q": float(np.mean(q_means)), "grad_norm": grad_norm, "epsilon": self.epsilon()}

    # -- checkpoints -------------------------------------------------------------------
    def state_dict(self) -> tuple[dict[str, Any], dict[str, Any]]:
        tensors = {**module_tensors("q", self.q), **module_tensors("q_target", self.q_target),
                   **torch_rng_tensors("torch_rng", self.torch_rng)}
        optim_tensors, optim_meta = optimizer_tensors("optim", self.optimizer)
        tensors.update(optim_tensors)
        buffer_metas = []
        for g, buffer in enumerate(self.buffers):
            data, meta = buffer.state_dict()
            tensors.update({f"buffer{g}.{k}": v for k, v in data.items()})
            buffer_metas.append(meta)
        pending, pending_meta = builder_state(self.builder, "builder")
        tensors.update(pending)
        meta = {
            **self._identity(), "config": dataclasses.asdict(self.config),
            "env_steps": self.env_steps, "updates": self.updates, "optim": optim_meta, "buffers": buffer_metas,
            "builder": pending_meta, "numpy_rng": numpy_rng_state(self.rng), "reward_rms": self.reward_rms.state(),
        }
        return tensors, meta

    def load_state_dict(self, tensors: Mapping[str, Any], meta: Mapping[str, Any]) -> None:
        check_identity(self, meta)
        self.config = config_from(IQLConfig, meta["config"], self.algorithm)
        self.config.check(self.algorithm)
        load_module("q", self.q, tensors)
        load_module("q_target", self.q_target, tensors)
        load_optimizer("optim", self.optimizer, tensors, meta["optim"])
        for g, buffer in enumerate(self.buffers):
            head = f"buffer{g}."
            buffer.load_state_dict({k[len(head):]: v for k, v in tensors.items() if k.startswith(head)}, meta["buffers"][g])
        load_builder_state(self.builder, "builder", tensors, meta["builder"])
        load_torch_rng("torch_rng", self.torch_rng, tensors)
        load_numpy_rng(self.rng, meta["numpy_rng"])
        self.reward_rms.load(meta["reward_rms"])
        self.env_steps, self.updates = int(meta["env_steps"]), int(meta["updates"])

    def _identity(self) -> dict[str, Any]:
        return {"algorithm": self.algorithm, "game": self.spec.name, "role": self.role, "seats": list(self.seats),
                "hidden": list(self.config.hidden), "agent_id": self.config.agent_id}

    def policy_state(self) -> tuple[dict[str, Any], dict[str, Any]]:
        return module_tensors("q", self.q), self._identity()

    @classmethod
    def policy_from_state(cls, spec: GameSpec, tensors: Mapping[str, Any], meta: Mapping[str, Any]) -> Policy:
        seats = [str(s) for s in meta["seats"]]
        missing = [s for s in seats if s not in spec.seat_names]
        if missing:
            raise LearnerError(f"the {cls.algorithm} snapshot plays seats {missing}, which {spec.name} does not have.")
        net = SeatQNetworks([spec.seat(s) for s in seats], tuple(meta["hidden"]), agent_id=bool(meta["agent_id"]))
        load_module("q", net, tensors)
        return QPolicy(spec, net, {seat: k for k, seat in enumerate(seats)}, epsilon=None)


def check_identity(learner: Learner, meta: Mapping[str, Any]) -> None:
    """A checkpoint of another algorithm, game or role is one clear error."""
    for key, mine in (("algorithm", learner.algorithm), ("game", learner.spec.name), ("role", learner.role)):
        if meta.get(key) != mine:
            raise LearnerError(f"this checkpoint is for {key} {meta.get(key)!r}, not {mine!r}.")
