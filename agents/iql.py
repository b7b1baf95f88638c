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
    >>> from league.train.selfplay import train
    >>> game = games.load("tic_tac_toe")
    >>> learner = IQL(game.spec, "player", config={"learning_starts": 64, "batch_size": 32}, seed=0)
    >>> log = train(game, learner, env_steps=300, opponents=[Entrant("random", RandomPolicy(game.spec))])
    >>> learner.env_steps >= 300, learner.updates > 0, learner.exploration()["epsilon"] < 1.0
    (True, True, True)
"""

from __future__ import annotations

import copy
from abc import abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar, Mapping

import numpy as np
import torch
from torch import nn

from agents.base import LearnerError, StepBatch
from agents.buffers import ReplayBuffer, RunningMeanStd, TransitionBuilder, linear_schedule
from agents.checkpoint import load_module, load_numpy_rng, numpy_rng_state, under
from agents.learning import (AT_LEAST_ZERO, OPTIONAL_SIZES, POSITIVE, SIZES, UNIT, LearnerBase, Settings, adam, updates_due)
from agents.nets import (QPolicy, SeatQNetworks, double_q_values, legal_or_all, masked_logits, no_exploration,
                         optimise, seeded_init_, update_target)
from games.base import GameSpec


@dataclass
class IQLConfig(Settings):
    """Hyperparameters of IQL. Defaults follow EPyMARL (src/config/default.yaml and
    algs/iql.yaml) unless a docstring says otherwise; EPyMARL trains on batches of whole
    episodes, here a batch is of transitions (see `batch_size`)."""

    hidden: tuple[int, ...] = (64, 64)
    """Hidden layer sizes of the Q-network MLP (EPyMARL `hidden_dim: 64`; an MLP rather than
    its GRU, because every observation here is the full board or particle state)."""
    conv: tuple[int, ...] = ()
    """Channels of 3x3 conv layers read before the MLP when observations are images (C, H, W),
    such as connect four's board; none (the default) is the plain MLP."""
    lr: float = 5e-4
    """Adam learning rate (EPyMARL `lr: 0.0005`)."""
    gamma: float = 0.99
    """Discount factor (EPyMARL `gamma: 0.99`)."""
    batch_size: int = 512
    """Transitions per gradient step. Measured (bench/learner_settings.py, CPU seconds on this
    machine): a step of 512 costs about twice one of 128 (fixed per-step overhead dominates
    small MLPs), so at a given compute budget 512 learns faster; CleanRL's dqn.py uses 128."""
    replay_ratio: float = 16.0
    """Transitions replayed per env step: one gradient step of `batch_size` every
    `batch_size / replay_ratio` env steps (512 every 32). Measured against CleanRL's and
    EPyMARL's 32 (batch 128 every 4 steps): on tic-tac-toe against random, 0.990 vs 0.922 after
    60 CPU-s; on connect four, 0.915 vs 0.748 after 90 CPU-s (bench/learner_settings.py)."""
    buffer_size: int = 50_000
    """Replay capacity in transitions (EPyMARL `buffer_size: 5000` episodes; 50k transitions
    hold the last ~10k tic-tac-toe games or 2k particle-world episodes per seat)."""
    learning_starts: int = 1_000
    """Env steps before the first update (CleanRL `learning_starts`, scaled down: EPyMARL
    starts once `batch_size` episodes are stored)."""
    target_update: float = 200.0
    """EPyMARL `target_update_interval_or_tau: 200`: >= 1 copies the online network into the
    target every that many gradient steps; < 1 is the Polyak rate tau of a soft update."""
    epsilon_start: float = 1.0
    """Initial exploration rate (EPyMARL `epsilon_start: 1.0`)."""
    epsilon_end: float = 0.05
    """Final exploration rate (EPyMARL `epsilon_finish: 0.05`)."""
    epsilon_steps: int = 50_000
    """Env steps over which epsilon falls linearly (EPyMARL `epsilon_anneal_time: 50000`)."""
    grad_clip: float = 10.0
    """Max global gradient norm (EPyMARL `grad_norm_clip: 10`); <= 0 disables clipping."""
    double_q: bool = True
    """Double Q-learning targets (EPyMARL `double_q: True`)."""
    agent_id: bool = True
    """Append the seat's one-hot id to its observation (EPyMARL `obs_agent_id: True`)."""
    own_view: bool = False
    """Show every seat the board from its own side where the game's observation is absolute
    (connect four, tic-tac-toe: `SeatSpec.own_view`), so both sides teach one function. Off by
    default, as for MAPPO, where connect four learned no faster with it."""
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
    negamax: bool = False
    """In a two-player zero-sum game of alternating moves with perfect information, bootstrap
    every move from the reply: target = r - gamma * max_a' Q_opponent(s', a'), the minimax
    backup of Littman's (1994) minimax-Q in the negamax form of game-tree search. The default
    treats the reply as part of the environment, so a move that lets the opponent win in one
    is only learned from losses that epsilon-greedy play happens to suffer; here it is learned
    as soon as the opponent's winning move is. Needs one role that plays both sides."""

    limits: ClassVar = {
        "hidden": SIZES, "conv": OPTIONAL_SIZES, "lr": POSITIVE, "gamma": UNIT, "batch_size": POSITIVE, "replay_ratio": POSITIVE,
        "buffer_size": POSITIVE, "learning_starts": AT_LEAST_ZERO, "target_update": POSITIVE,
        "epsilon_start": UNIT, "epsilon_end": UNIT, "epsilon_steps": AT_LEAST_ZERO, "reward_scale": POSITIVE,
    }


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


def negamax_unsupported(spec: GameSpec, seats: tuple[str, ...]) -> str | None:
    """Why negamax targets do not fit `spec` for a learner of `seats`, or None."""
    if not (spec.turn_based and spec.zero_sum and len(spec.sides) == 2 and spec.perfect_information):
        return "it needs a two-player zero-sum game of alternating moves with perfect information"
    if set(seats) != set(spec.seat_names):
        return "it needs a role that plays both sides"
    shapes = {(spec.seat(s).obs_shape, spec.seat(s).n_actions) for s in seats}
    if len(shapes) > 1:
        return "it needs seats that see and act alike"
    return None


def epsilon_policy(spec: GameSpec, net: SeatQNetworks, positions: Mapping[str, int],
                   exploration: Mapping[str, float]) -> QPolicy:
    """A Q-policy whose exploring moves use the constant epsilon of `exploration` (0 if absent)."""
    value = float(exploration.get("epsilon", 0.0))
    return QPolicy(spec, net, positions, epsilon=(lambda: value) if value > 0 else no_exploration)


class QLearner(LearnerBase):
    """What the Q-learners (IQL, VDN, QMIX) share: the epsilon schedule, the Q-policy they hand
    out, and the replay schedule (`replay_ratio` samples per env step, `batch_size` a step)."""

    config: IQLConfig
    positions: dict[str, int]
    _policy: QPolicy

    @abstractmethod
    def replay_ready(self) -> bool:
        """Whether replay holds a batch to sample."""

    @abstractmethod
    def train_step(self) -> dict[str, torch.Tensor]:
        """One gradient step; metrics as 0-d tensors."""

    def epsilon(self) -> float:
        c = self.config
        return linear_schedule(c.epsilon_start, c.epsilon_end, c.epsilon_steps, self.env_steps)

    def exploration(self) -> dict[str, float]:
        return {"epsilon": self.epsilon()}

    def policy(self) -> QPolicy:
        return self._policy

    def frozen_policy(self) -> QPolicy:
        return QPolicy(self.spec, copy.deepcopy(self._policy.net), self.positions)

    def learn(self) -> dict[str, float]:
        c = self.config
        if not self.replay_ready():
            return {}
        metrics: dict[str, torch.Tensor] = {}
        for _ in range(updates_due(self.env_steps, c.learning_starts, c.batch_size, c.replay_ratio, self.updates)):
            metrics = self.train_step()
        return {**{k: float(v) for k, v in metrics.items()}, "epsilon": self.epsilon()} if metrics else {}


class IQL(QLearner):
    """Independent DQN learners for every seat of one role, sharing one Q-network."""

    algorithm: ClassVar[str] = "iql"
    config_class: ClassVar[type] = IQLConfig
    architecture: ClassVar[tuple[str, ...]] = ("hidden", "conv", "agent_id", "own_view")
    needs_state = False

    @classmethod
    def unsupported(cls, spec: GameSpec, role: str) -> str | None:
        return discrete_only(spec, tuple(seat for side in spec.sides_for_role(role) for seat in side.seats), cls.algorithm)

    def __init__(self, spec: GameSpec, role: str, *, config: Mapping[str, Any] | None = None, seed: int = 0,
                 device: str | torch.device = "cpu"):
        super().__init__(spec, role, config=config, seed=seed, device=device)
        c = self.config
        # every seat of the role, over all its sides; the position is the seat's agent id
        self.positions = {seat: k for k, seat in enumerate(self.seats)}
        q = seeded_init_(SeatQNetworks([spec.seat(s) for s in self.seats], c.hidden, agent_id=c.agent_id,
                                       own_view=c.own_view, conv=c.conv), self.torch_rng)
        self.q = q.to(self.device)
        self.q_target = copy.deepcopy(self.q)
        self.optimizer = adam(self.q.parameters(), lr=c.lr)
        # one buffer per group of seats that share a network (same shapes)
        self.buffers = [ReplayBuffer(c.buffer_size, self.device) for _ in self.q.groups]
        self.reward_rms = RunningMeanStd()
        self._policy = QPolicy(spec, self.cpu_copy(self.q), self.positions, epsilon=self.epsilon)
        if c.negamax:
            reason = negamax_unsupported(spec, self.seats)
            if reason:
                raise LearnerError(f"iql cannot use negamax on {spec.name}: {reason}.")
            # spec seat index -> (agent id of that seat, +1 if it is on the mover's side else -1 per mover)
            self.seat_ids = np.array([self.q.id_of[self.positions[s]] for s in spec.seat_names], np.int64)
            self.seat_sides = np.array([spec.side_of(s) for s in spec.seat_names], np.int64)
        self.builder = TransitionBuilder(spec, self.seats, plies=c.negamax)

    # -- collecting --------------------------------------------------------------------
    def observe(self, batch: StepBatch, player: str) -> None:
        self.count_moves(batch, player)
        rows: dict[int, list[dict[str, np.ndarray]]] = {}  # network group -> completed rows of its seats
        for seat, t in self.builder.add(batch, player).items():
            position = self.positions[seat]
            if self.config.standardise_rewards:
                self.reward_rms.update(t.reward)
            rows.setdefault(self.q.group_of[position], []).append({
                "obs": t.obs,  # (b, *obs_shape)
                "id": np.full(len(t), self.q.id_of[position], np.int64),  # (b,)
                "action": t.action.astype(np.int64),  # (b,)
                "reward": t.reward,  # (b,)
                "next_obs": t.next_obs,  # (b, *obs_shape)
                "next_mask": legal_or_all(t.next_mask),  # (b, A): legal actions to maximise over
                "terminated": t.terminated,  # (b,): no bootstrap; truncated rows bootstrap
                **(self._reply_fields(seat, t) if self.config.negamax else {}),
            })
        for group, parts in rows.items():
            self.buffers[group].add(parts[0] if len(parts) == 1 else
                                    {k: np.concatenate([p[k] for p in parts]) for k in parts[0]})

    def _reply_fields(self, seat: str, t) -> dict[str, np.ndarray]:
        """Whose value a negamax target takes at next_obs: that mover's agent id and the sign
        (-1 an opponent, +1 the mover's own side); the mover itself at the end of a game."""
        me = self.spec.seat_names.index(seat)
        mover = np.where(t.next_seat >= 0, t.next_seat, me)  # (b,)
        same_side = self.seat_sides[mover] == self.seat_sides[me]  # (b,)
        return {"next_id": self.seat_ids[mover], "sign": np.where(same_side, 1.0, -1.0).astype(np.float32)}

    # -- learning ----------------------------------------------------------------------
    def replay_ready(self) -> bool:
        return any(len(b) >= self.config.batch_size for b in self.buffers)

    def train_step(self) -> dict[str, torch.Tensor]:
        """One gradient step on a replayed batch of every network group; metrics as 0-d tensors."""
        c = self.config
        rng_before = numpy_rng_state(self.rng)
        losses, q_means = [], []
        for g, buffer in enumerate(self.buffers):
            if len(buffer) < c.batch_size:
                continue
            b = buffer.sample(c.batch_size, self.rng)  # field -> (B, ...) on the device
            reward = b["reward"]  # (B,)
            if c.standardise_rewards:
                reward = reward / float(np.sqrt(self.reward_rms.var) + 1e-8)  # scale only: see the config
            reward = reward * c.reward_scale
            # whose values the target takes at next_obs: the mover's own (or, negamax, the next mover's)
            next_id = b["next_id"] if c.negamax else b["id"]  # (B,)
            q_now = self.q.forward_group(g, b["obs"], b["id"])  # (B, A)
            q_taken = q_now.gather(1, b["action"][:, None]).squeeze(1)  # (B,)
            with torch.no_grad():  # the next actions' pass stays out of the graph: backward covers B rows, not 2B
                q_next_online = self.q.forward_group(g, b["next_obs"], next_id) if c.double_q else None  # (B, A)
                q_next_target = self.q_target.forward_group(g, b["next_obs"], next_id)  # (B, A)
                if c.double_q:
                    _, next_value = double_q_values(q_next_online, q_next_target, b["next_mask"])  # (B,)
                else:
                    next_value = masked_logits(q_next_target, b["next_mask"]).max(1).values  # (B,)
                if c.negamax:
                    next_value = b["sign"] * next_value  # (B,): the opponent's best reply is our worst
                target = reward + c.gamma * (~b["terminated"]).float() * next_value  # (B,)
            losses.append(td_loss(q_taken, target, c.huber))
            q_means.append(q_taken.detach().mean())
        loss = torch.stack(losses).sum()
        try:
            norms = optimise(loss, [self.optimizer], [list(self.q.parameters())], c.grad_clip,
                             who=self.who, step=self.updates + 1)
        except LearnerError:
            load_numpy_rng(self.rng, rng_before)  # leave the learner exactly as it was
            raise
        self.updates += 1
        update_target(self.q_target, self.q, c.target_update, self.updates)
        return {"loss": loss.detach(), "q": torch.stack(q_means).mean(), "grad_norm": norms[0]}

    # -- checkpoints -------------------------------------------------------------------
    def modules(self) -> dict[str, nn.Module]:
        return {"q": self.q, "q_target": self.q_target}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"optim": self.optimizer}

    def policy_modules(self) -> dict[str, nn.Module]:
        return {"q": self.q}

    def extra_state(self) -> tuple[dict[str, Any], dict[str, Any]]:
        tensors, buffer_metas = {}, []
        for g, buffer in enumerate(self.buffers):
            data, meta = buffer.state_dict()
            tensors.update({f"buffer{g}.{k}": v for k, v in data.items()})
            buffer_metas.append(meta)
        pending, pending_meta = self.builder.state_dict("builder")
        tensors.update(pending)
        return tensors, {"buffers": buffer_metas, "builder": pending_meta, "reward_rms": self.reward_rms.state()}

    def load_extra_state(self, tensors: Mapping[str, Any], meta: Mapping[str, Any]) -> None:
        for g, buffer in enumerate(self.buffers):
            buffer.load_state_dict(under(f"buffer{g}", tensors), meta["buffers"][g])
        self.builder.load_state_dict("builder", tensors, meta["builder"])
        self.reward_rms.load(meta["reward_rms"])

    @classmethod
    def policy_from_state(cls, spec: GameSpec, tensors: Mapping[str, Any], meta: Mapping[str, Any], *,
                          exploration: Mapping[str, float] | None = None) -> QPolicy:
        config, seats = cls.snapshot_settings(spec, meta)
        explore = cls.check_exploration(exploration, ("epsilon",), cls.algorithm)
        net = SeatQNetworks([spec.seat(s) for s in seats], config.hidden, agent_id=config.agent_id,
                            own_view=config.own_view, conv=config.conv)
        load_module("q", net, tensors)
        return epsilon_policy(spec, net.eval(), {seat: k for k, seat in enumerate(seats)}, explore)
