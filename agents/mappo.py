"""MAPPO: PPO with decentralised actors and a centralised critic (Yu et al. 2022).

One actor per role, shared by the role's seats (parameter sharing, with the seat's index
as a one-hot input), acts on the seat's own observation; one critic values the game's
global state for a seat. Training is centralised (the critic sees the whole state),
execution decentralised (the policy needs only the observation and the legal mask).

The file reads top to bottom: hyperparameters, networks, the policy the runner seats,
then the learner: observe (runner steps -> per-seat transitions with the behaviour
log-probability) -> rollout storage -> GAE over each (copy, seat) chain -> PPO epochs.

Example:
    >>> import games
    >>> learner = MAPPO(games.load("connect_four").spec, "player", config={"hidden": (32,)}, seed=1)
    >>> learner.seats, learner.config.clip
    (('player_0', 'player_1'), 0.2)
    >>> MAPPO(games.load("connect_four").spec, "player", config={"lrr": 0.1})
    Traceback (most recent call last):
    ...
    agents.base.LearnerError: mappo has no setting 'lrr'; the closest valid setting is 'lr'.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Any, ClassVar, Mapping, Sequence

import numpy as np
import torch
from torch import nn

from agents.base import ExportedSeat, LearnerError, StepBatch, uncovered
from agents.buffers import RolloutStorage, RunningMeanStd, TransitionBuilder, gae
from agents.checkpoint import load_module
from agents.learning import AT_LEAST_ZERO, OPTIONAL_SIZES, POSITIVE, UNIT, LearnerBase, Settings, adam
from agents.nets import (OwnView, constant_rows, conv_torso, legal_or_all, masked_entropy, masked_log_probs, mlp,
                         optimise, orthogonal_init_, seat_code, with_id_planes)
from games.base import GameSpec, sample_masked, uniforms


@dataclass
class MAPPOConfig(Settings):
    """MAPPO hyperparameters. Sources: marlbenchmark/on-policy (`onpolicy/config.py` and
    its MPE scripts) and EPyMARL (`config/algs/mappo.yaml`); "tuned" marks a value chosen
    for this project's 2-core CPU machine."""

    hidden: tuple[int, ...] = (64, 64)
    """Hidden layer sizes of actor and critic (on-policy: hidden_size 64, two layers)."""
    conv: tuple[int, ...] = ()
    """Channels of 3x3 conv layers applied to image observations (C, H, W) before the MLP;
    () for none (on-policy's MPE networks are MLPs). The bench uses (32, 32) for connect four."""
    input_norm: bool = True
    """LayerNorm on the MLP's inputs (on-policy: use_feature_normalization=True)."""
    agent_id: bool = True
    """Give actor and critic the seat's one-hot index among the role's seats (EPyMARL:
    obs_agent_id=True), so shared parameters can still tell seats apart; appended to the
    MLP's input, and also as constant planes to a conv torso's."""
    own_view: bool = False
    """Show every seat the board from its own side where the game's observation is absolute
    (connect four, tic-tac-toe: `SeatSpec.own_view`), actor and critic alike, so both sides
    teach one function. Off by default: on connect four it learned no faster (0.37 vs 0.41
    against MCTS-25 after 150 CPU-s, `python bench/learner_settings.py --algo mappo --game
    connect_four --against mcts:25 --settings own_view=true own_view=false`)."""
    lr: float = 5e-4
    """Actor Adam learning rate (on-policy: lr 5e-4)."""
    critic_lr: float = 5e-4
    """Critic Adam learning rate (on-policy: critic_lr 5e-4)."""
    adam_eps: float = 1e-5
    """Adam epsilon (on-policy: opti_eps 1e-5)."""
    gamma: float = 0.99
    """Discount per move of a seat (on-policy: gamma 0.99)."""
    gae_lambda: float = 0.95
    """GAE lambda (on-policy: gae_lambda 0.95)."""
    clip: float = 0.2
    """PPO ratio clip (on-policy: clip_param 0.2; EPyMARL: eps_clip 0.2)."""
    value_clip: float = 0.2
    """Clip of the critic's change from its pre-update value, in normalised units
    (on-policy: use_clipped_value_loss with clip_param 0.2); 0 turns value clipping off."""
    huber_delta: float = 10.0
    """Huber loss delta of the value loss (on-policy: huber_delta 10); 0 uses squared error."""
    value_loss_coef: float = 1.0
    """Weight of the value loss (on-policy: value_loss_coef 1)."""
    entropy_coef: float = 0.01
    """Entropy bonus weight (on-policy: entropy_coef 0.01; EPyMARL uses 0.001)."""
    max_grad_norm: float = 10.0
    """Global gradient-norm clip, per network (on-policy: max_grad_norm 10)."""
    actor_gain: float = 0.01
    """Orthogonal-init gain of the actor's output layer (on-policy: gain 0.01), so the first
    policy is near uniform over the legal actions."""
    value_norm: bool = True
    """Normalise value targets with a running mean/std, updated once per rollout with its
    returns (on-policy: use_valuenorm=True, there updated per minibatch)."""
    epochs: int = 5
    """PPO epochs per rollout (on-policy: 15, its MPE scripts 10; EPyMARL: 4). Tuned: 5,
    fewer passes leave more of the 2 cores to playing games."""
    minibatches: int = 4
    """Minibatches per epoch (on-policy: num_mini_batch 1). Tuned: 4, more updates per
    rollout at the same cost, since rollouts here are small."""
    rollout_steps: int = 32
    """Runner steps (all copies in lockstep) gathered between updates (on-policy MPE:
    episode_length 25 with 128 threads). Tuned: 32 steps of the trainer's 64 copies."""
    greedy: bool | None = None
    """What the policy does with explore=False. None: the most probable legal action in
    turn-based perfect-information games (connect four, where greedy play is stronger),
    sampling elsewhere (poker, simultaneous games and particle worlds, where the mixed
    policy is the policy). True/False force greedy/sampling."""

    limits: ClassVar = {
        "hidden": OPTIONAL_SIZES, "conv": OPTIONAL_SIZES, "lr": POSITIVE, "critic_lr": POSITIVE, "adam_eps": POSITIVE,
        "gamma": UNIT, "gae_lambda": UNIT, "clip": POSITIVE, "value_clip": AT_LEAST_ZERO, "huber_delta": AT_LEAST_ZERO,
        "value_loss_coef": AT_LEAST_ZERO, "entropy_coef": AT_LEAST_ZERO, "epochs": POSITIVE, "minibatches": POSITIVE,
        "rollout_steps": POSITIVE,
    }


# -- networks ----------------------------------------------------------------------------

class Net(nn.Module):
    """Actor or critic: [optional conv torso] -> features + one-hot seat index ->
    [LayerNorm] -> MLP, every layer orthogonally initialised from `generator`.

    The conv torso (3x3 convolutions, padding 1, ReLU) runs when `config.conv` is set and
    the input has an image shape (C, H, W); the seat's one-hot index then also enters as
    constant image planes, so the convolutions can read the board from the seat's side
    (OpenSpiel's connect four shows both players the same absolute board). Otherwise the
    input is flattened.
    """

    def __init__(self, in_shape: tuple[int, ...], n_ids: int, out_dim: int, config: MAPPOConfig,
                 generator: torch.Generator, out_gain: float, view: OwnView | None = None):
        super().__init__()
        self.in_shape, self.n_ids = tuple(in_shape), n_ids
        self.view = view if view is not None and view.active else None
        self.image = bool(config.conv) and len(self.in_shape) == 3
        self.torso: nn.Module
        if self.image:
            channels, height, width = self.in_shape
            self.torso, channels = conv_torso(channels + n_ids, config.conv)  # with the seat-index planes
            for conv in self.torso:
                if isinstance(conv, nn.Conv2d):
                    nn.init.orthogonal_(conv.weight, gain=math.sqrt(2), generator=generator)
                    nn.init.zeros_(conv.bias)
            features = channels * height * width
        else:
            self.torso = nn.Flatten()
            features = int(np.prod(self.in_shape))
        self.norm = nn.LayerNorm(features + n_ids) if config.input_norm else nn.Identity()
        self.head = orthogonal_init_(mlp(features + n_ids, out_dim, config.hidden), generator, out_gain=out_gain)

    def forward(self, x: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
        """x (b, *in_shape) or flat (b, prod(in_shape)), ids (b,) seat indices -> (b, out)."""
        if self.view is not None:
            x = self.view(x.reshape(len(x), -1), ids)  # (b, prod(in_shape)) from each seat's side
        x = x.reshape(len(x), *self.in_shape)  # (b, *in_shape)
        one_hot = nn.functional.one_hot(ids, self.n_ids).to(x.dtype) if self.n_ids else None  # (b, ids)
        if self.image and one_hot is not None:
            x = with_id_planes(x, one_hot)  # (b, C + ids, H, W)
        h = self.torso(x)  # (b, features)
        if one_hot is not None:
            h = torch.cat([h, one_hot], dim=1)  # (b, features + ids)
        return self.head(self.norm(h))  # (b, out)


def critic_shape(spec: GameSpec, obs_shape: tuple[int, ...], config: MAPPOConfig) -> tuple[int, ...]:
    """The global state's shape for the critic: image planes of the observation's height and
    width when a conv torso is configured and the state divides into them (connect four:
    both seats' (3, 6, 7) views -> (6, 6, 7)), else flat."""
    size = int(np.prod(spec.state_shape))
    if config.conv and len(obs_shape) == 3 and size % (obs_shape[1] * obs_shape[2]) == 0:
        return (size // (obs_shape[1] * obs_shape[2]), obs_shape[1], obs_shape[2])
    return (size,)


def actor_view(spec: GameSpec, seats: Sequence[str], config: MAPPOConfig) -> OwnView:
    """The actor's observation from each seat's own side (ids index `seats`)."""
    return OwnView.of_seats([spec.seat(s) for s in seats], enabled=config.own_view)


def critic_view(spec: GameSpec, seats: Sequence[str], config: MAPPOConfig) -> OwnView | None:
    """The critic's global state from each seat's own side, where the state is every seat's
    observation concatenated (OpenSpiel games): seat k reads the blocks starting at its own,
    each shown from its side. None where no seat has an own view or the state is not so made.

    Example:
        >>> import games
        >>> spec = games.load("tic_tac_toe").spec
        >>> view = critic_view(spec, spec.seat_names, MAPPOConfig(own_view=True))
        >>> view.index.shape, view.index[1, 9:12].tolist()   # seat 1 reads its own block first, o's plane first
        (torch.Size([2, 54]), [45, 46, 47])
    """
    all_seats = [spec.seat(s) for s in spec.seat_names]
    size = all_seats[0].obs_size
    if (not config.own_view or not any(s.own_view is not None for s in all_seats)
            or any(s.obs_size != size for s in all_seats) or int(np.prod(spec.state_shape)) != size * len(all_seats)):
        return None
    rows = []
    for seat in seats:
        k = spec.seat_names.index(seat)
        own = np.asarray(spec.seat(seat).own_view if spec.seat(seat).own_view is not None else range(size))
        blocks = [(k + j) % len(all_seats) for j in range(len(all_seats))]  # its own block first
        rows.append([int(i) for i in np.concatenate([b * size + own for b in blocks])])
    return OwnView(rows, size * len(all_seats))


def plays_greedily(spec: GameSpec, config: MAPPOConfig) -> bool:
    """MAPPOConfig.greedy resolved for a game: greedy in turn-based perfect-information games."""
    return spec.perfect_information and spec.turn_based if config.greedy is None else bool(config.greedy)


# -- the policy --------------------------------------------------------------------------

class MAPPOPolicy:
    """The shared actor for a role's seats: samples its masked softmax when exploring.

    With explore=False it plays greedily or samples, as `greedy` says (see
    `MAPPOConfig.greedy`). Randomness comes only from the rows' keys.
    """

    needs_engine_states = False

    def __init__(self, spec: GameSpec, actor: Net, seats: Sequence[str], *, greedy: bool):
        self.spec = spec
        self.actor = actor
        self.seats = tuple(seats)
        self.greedy = greedy

    def unsupported(self, spec: GameSpec, seats: Sequence[str]) -> str | None:
        return uncovered(self.spec, spec, seats, self.seats)

    def log_probs(self, obs: torch.Tensor, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """(b, obs) flat observations, (b,) seat indices, (b, A) legal masks -> (b, A) log-probs."""
        return masked_log_probs(self.actor(obs, ids), mask)

    @torch.no_grad()
    def probabilities(self, obs: np.ndarray, mask: np.ndarray, *, seat: str) -> np.ndarray:
        x = torch.from_numpy(np.ascontiguousarray(obs, dtype=np.float32)).reshape(len(obs), -1)  # (b, obs)
        ids = torch.full((len(obs),), self.seats.index(seat), dtype=torch.long)  # (b,)
        legal = torch.from_numpy(legal_or_all(mask))  # (b, A)
        return self.log_probs(x, ids, legal).exp().numpy()  # (b, A), exactly 0 where illegal

    @torch.no_grad()
    def log_prob(self, obs: np.ndarray, mask: np.ndarray, actions: np.ndarray, *, seat: str) -> np.ndarray:
        """(b,) log-probabilities of `actions` under the masked softmax (what exploring samples)."""
        x = torch.from_numpy(np.ascontiguousarray(obs, np.float32)).reshape(len(obs), -1)  # (b, obs)
        ids = torch.full((len(obs),), self.seats.index(seat), dtype=torch.long)  # (b,)
        logp = self.log_probs(x, ids, torch.from_numpy(legal_or_all(mask)))  # (b, A)
        return logp.gather(1, torch.from_numpy(np.asarray(actions, np.int64))[:, None]).squeeze(1).numpy()  # (b,)

    def act(self, obs, mask, *, seat, keys, explore=False, engine_states=None) -> np.ndarray:
        probs = self.probabilities(obs, mask, seat=seat)  # (b, A)
        legal = legal_or_all(mask)
        if self.greedy and not explore:
            return np.where(legal, probs, -1.0).argmax(1).astype(np.int64)
        return sample_masked(probs, legal, uniforms(keys, 1)[:, 0])

    def export_seat(self, seat: str) -> ExportedSeat:
        return ExportedSeat(MAPPOScores(self.actor, self.seats.index(seat)), softmax=True,
                            plays="greedy" if self.greedy else "sample")


class MAPPOScores(nn.Module):
    """The actor `Net` for one seat, as a module of the observation alone: its forward pass
    with the seat's id fixed (as planes for a conv torso), batch size left dynamic for ONNX.
    obs (b, *obs_shape) -> logits (b, A)."""

    def __init__(self, net: Net, index: int):
        super().__init__()
        self.net = net
        self.register_buffer("code", seat_code(net.n_ids, index))
        self.view = net.view.of_seat(index) if net.view is not None else nn.Identity()

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        net = self.net
        x = self.view(obs.flatten(1)).reshape(-1, *net.in_shape)  # (b, *in_shape) from the seat's side
        if net.n_ids and net.image:
            x = torch.cat([x, constant_rows(x, self.code, image=True)], dim=1)  # (b, C + ids, H, W)
        h = net.torso(x)  # (b, features)
        if net.n_ids:
            h = torch.cat([h, constant_rows(h, self.code)], dim=1)  # (b, features + ids)
        return net.head(net.norm(h))  # (b, A)


# -- the learner -------------------------------------------------------------------------

class MAPPO(LearnerBase):
    """MAPPO for one role: shared actor, centralised critic on the global state."""

    algorithm: ClassVar[str] = "mappo"
    config_class: ClassVar[type] = MAPPOConfig
    architecture: ClassVar[tuple[str, ...]] = ("hidden", "conv", "input_norm", "agent_id", "own_view")
    needs_state = True  # the critic reads the global state: the trainer runs with_state=True

    @classmethod
    def unsupported(cls, spec: GameSpec, role: str) -> str | None:
        seats = [spec.seat(s) for side in spec.sides_for_role(role) for s in side.seats]
        if any(not seat.discrete for seat in seats):
            return "mappo here learns discrete actions only; use maddpg for continuous actions"
        if len({(seat.obs_shape, seat.n_actions) for seat in seats}) > 1:
            return "its seats differ in observation or action shape, and mappo shares one actor across them"
        if int(np.prod(spec.state_shape)) == 0:
            return "mappo's centralised critic needs the game's global state, and this game has none"
        return None

    def __init__(self, spec: GameSpec, role: str, *, config: Mapping[str, Any] | None = None, seed: int = 0,
                 device: str | torch.device = "cpu"):
        super().__init__(spec, role, config=config, seed=seed, device=device)
        cfg = self.config
        first = spec.seat(self.seats[0])
        self.n_actions = first.n_actions
        self.n_ids = len(self.seats) if cfg.agent_id and len(self.seats) > 1 else 0
        actor = Net(first.obs_shape, self.n_ids, self.n_actions, cfg, self.torch_rng, cfg.actor_gain,
                    view=actor_view(spec, self.seats, cfg))
        critic = Net(critic_shape(spec, first.obs_shape, cfg), self.n_ids, 1, cfg, self.torch_rng, 1.0,
                     view=critic_view(spec, self.seats, cfg))
        self.actor, self.critic = actor.to(self.device), critic.to(self.device)
        self.actor_opt = adam(self.actor.parameters(), lr=cfg.lr, eps=cfg.adam_eps)
        self.critic_opt = adam(self.critic.parameters(), lr=cfg.critic_lr, eps=cfg.adam_eps)
        self.value_norm = RunningMeanStd()

        self._policy = MAPPOPolicy(spec, self.cpu_copy(self.actor), self.seats, greedy=plays_greedily(spec, cfg))
        self.builder = TransitionBuilder(spec, self.seats, with_state=True)
        self.storage = RolloutStorage()
        self.move_logp = {seat: np.zeros(0, np.float32) for seat in self.seats}  # seat -> (n,) at its open move, NaN: not yet known
        self.steps_since_update = 0  # runner steps observed since the last update (the rollout length)

    # -- policies ------------------------------------------------------------------------
    def policy(self) -> MAPPOPolicy:
        return self._policy

    def frozen_policy(self) -> MAPPOPolicy:
        return MAPPOPolicy(self.spec, copy.deepcopy(self._policy.actor).eval(), self.seats, greedy=self._policy.greedy)

    def exploration(self) -> dict[str, float]:
        return {}  # sampling from the policy is its exploration

    # -- gathering experience ----------------------------------------------------------
    def observe(self, batch: StepBatch, player: str) -> None:
        """Turn the step into completed per-seat transitions, each with the behaviour
        log-probability of its action: recorded by the actor when the step was played with
        other weights (`batch.log_prob`), else left NaN, meaning "the acting weights": those do
        not change between updates, so `learn` fills every NaN in one batched pass before it
        changes them (including moves still open, which may finish after the update).
        Opening moves (`StepBatch.without_opening`) are the environment's: PPO's ratio needs
        moves its own policy chose."""
        batch = batch.without_opening()
        self.count_moves(batch, player)
        t_now = self.builder.t
        done = self.builder.add(batch, player)
        n = len(batch.result.terminated)
        if any(len(v) != n for v in self.move_logp.values()):
            self.move_logp = {seat: np.full(n, np.nan, np.float32) for seat in self.seats}
        fresh = {}
        for seat in self.seats:
            fresh[seat] = self.move_logp[seat].copy()  # (n,) behaviour log-prob of each copy's open move
            rows = batch.rows_of(player, seat)  # (n,) the moves made now
            recorded = batch.log_prob.get(seat) if batch.log_prob is not None else None
            fresh[seat][rows] = recorded[rows] if recorded is not None else np.nan
        for seat, tr in done.items():
            made_now = tr.step == t_now  # moved and finished in this step (simultaneous games)
            logp = np.where(made_now, fresh[seat][tr.copy], self.move_logp[seat][tr.copy])  # (b,)
            b = len(tr)
            self.storage.add({
                "seat": np.full(b, self.seats.index(seat), np.int64), "copy": tr.copy, "step": tr.step,
                "obs": tr.obs.reshape(b, -1), "mask": tr.mask, "action": tr.action, "logp": logp,
                "reward": tr.reward, "terminated": tr.terminated, "truncated": tr.truncated,
                "state": tr.state.reshape(b, -1), "next_state": tr.next_state.reshape(b, -1),
            })
        self.move_logp = fresh
        self.steps_since_update += 1

    @torch.no_grad()
    def _acting_log_probs(self, seat_index: np.ndarray, obs: np.ndarray, mask: np.ndarray, action: np.ndarray
                          ) -> np.ndarray:
        """(b,) log-probabilities of actions under the current weights: one batched pass."""
        on = lambda x, dtype: torch.from_numpy(np.ascontiguousarray(x, dtype)).to(self.device)  # noqa: E731
        logp = masked_log_probs(self.actor(on(obs, np.float32).reshape(len(obs), -1), on(seat_index, np.int64)),
                                on(legal_or_all(mask), bool))  # (b, A)
        return logp.gather(1, on(action, np.int64)[:, None]).squeeze(1).cpu().numpy()  # (b,)

    def _fill_log_probs(self, data: dict[str, np.ndarray]) -> None:
        """Give every move played with the current weights its log-probability, before they change:
        the rollout's rows (in `data`) and the moves still open (kept for when they finish)."""
        missing = np.flatnonzero(np.isnan(data["logp"]))
        if len(missing):
            data["logp"][missing] = self._acting_log_probs(data["seat"][missing], data["obs"][missing],
                                                           data["mask"][missing], data["action"][missing])
        for k, seat in enumerate(self.seats):
            if seat not in self.builder.open or not len(self.move_logp[seat]):
                continue
            pending = self.builder.pending[seat]
            rows = np.flatnonzero(self.builder.open[seat] & np.isnan(self.move_logp[seat]))
            if len(rows):
                self.move_logp[seat][rows] = self._acting_log_probs(np.full(len(rows), k), pending["obs"][rows],
                                                                    pending["mask"][rows], pending["action"][rows])

    # -- learning ------------------------------------------------------------------------
    def learn(self) -> dict[str, float]:
        """A PPO update once `rollout_steps` runner steps have been gathered, else nothing."""
        if self.steps_since_update < self.config.rollout_steps or len(self.storage) == 0:
            return {}
        data = self.storage.data()
        self._fill_log_probs(data)
        backup = self.networks_state(), self.value_norm.state()
        try:
            metrics = self._ppo(data)
        except LearnerError:
            self.load_networks_state(*backup[0])  # keep the last good weights
            self.value_norm.load(backup[1])
            raise
        self.storage.clear()
        self.steps_since_update = 0
        self.updates += 1
        return metrics

    def _values(self, states: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
        """(b, state) and (b,) seat indices -> (b,) values in normalised units."""
        return self.critic(states, ids).squeeze(-1)

    def _ppo(self, data: dict[str, np.ndarray]) -> dict[str, float]:
        cfg, device = self.config, self.device
        on = lambda x, dtype: torch.from_numpy(np.ascontiguousarray(x, dtype)).to(device)  # noqa: E731 - one copy each
        b_ids = on(data["seat"], np.int64)  # (b,)
        b_obs = on(data["obs"], np.float32)  # (b, obs)
        b_mask = on(legal_or_all(data["mask"]), bool)  # (b, A)
        b_action = on(data["action"], np.int64)  # (b,)
        b_logp = on(data["logp"], np.float32)  # (b,) behaviour log-probs
        b_state = on(data["state"], np.float32)  # (b, state)
        next_state = on(data["next_state"], np.float32)  # (b, state)

        # 1. advantages: GAE along each (copy, seat) chain, values in raw units
        with torch.no_grad():
            both = self._values(torch.cat([b_state, next_state]), b_ids.repeat(2)).cpu().numpy()  # (2b,)
        values, next_values = self._denormalise(both[: len(b_ids)]), self._denormalise(both[len(b_ids):])  # (b,) each
        chain = data["copy"] * len(self.seats) + data["seat"]  # (b,)
        advantages, returns = gae(data["reward"], values, next_values, data["terminated"], data["truncated"],
                                  chain, data["step"], gamma=cfg.gamma, lam=cfg.gae_lambda)
        if cfg.value_norm:
            self.value_norm.update(returns)
        b_returns = on(self._normalise(returns), np.float32)  # (b,) critic targets
        b_values = on(self._normalise(values), np.float32)  # (b,) pre-update values, same units
        b_adv = on((advantages - advantages.mean()) / (advantages.std() + 1e-8), np.float32)  # (b,)

        # 2. PPO epochs over shuffled minibatches
        sums: dict[str, torch.Tensor] = {}
        count = 0
        actor_params, critic_params = list(self.actor.parameters()), list(self.critic.parameters())
        for epoch in range(cfg.epochs):
            for mb_np in np.array_split(self.rng.permutation(len(b_ids)), cfg.minibatches):
                if len(mb_np) == 0:
                    continue
                mb = torch.from_numpy(mb_np).to(device)  # (m,)
                logp_all = masked_log_probs(self.actor(b_obs[mb], b_ids[mb]), b_mask[mb])  # (m, A)
                new_logp = logp_all.gather(1, b_action[mb, None]).squeeze(1)  # (m,)
                entropy = masked_entropy(logp_all, b_mask[mb]).mean()
                log_ratio = new_logp - b_logp[mb]  # (m,)
                ratio = log_ratio.exp()
                adv = b_adv[mb]
                policy_loss = -torch.min(ratio * adv, ratio.clamp(1 - cfg.clip, 1 + cfg.clip) * adv).mean()

                v = self._values(b_state[mb], b_ids[mb])  # (m,)
                value_loss = self._value_error(b_returns[mb] - v)  # (m,)
                if cfg.value_clip > 0:
                    v_clipped = b_values[mb] + (v - b_values[mb]).clamp(-cfg.value_clip, cfg.value_clip)
                    value_loss = torch.max(value_loss, self._value_error(b_returns[mb] - v_clipped))
                value_loss = value_loss.mean()
                # actor and critic share no parameters: one backward pass of the sum gives each its
                # own loss's gradient; each network is clipped on its own
                optimise(policy_loss - cfg.entropy_coef * entropy + cfg.value_loss_coef * value_loss,
                         [self.actor_opt, self.critic_opt], [actor_params, critic_params], cfg.max_grad_norm,
                         who=f"mappo (env step {self.env_steps}, epoch {epoch + 1})", step=self.updates + 1)
                with torch.no_grad():
                    stats = {"policy_loss": policy_loss, "value_loss": value_loss, "entropy": entropy,
                             "approx_kl": ((ratio - 1) - log_ratio).mean(),
                             "clip_fraction": ((ratio - 1).abs() > cfg.clip).float().mean()}
                for key, value in stats.items():
                    sums[key] = sums[key] + value.detach() if key in sums else value.detach()
                count += 1
        metrics = {key: float(value) / max(count, 1) for key, value in sums.items()}  # one host sync per metric
        metrics.update(rows=float(len(b_ids)), mean_return=float(returns.mean()))
        return metrics

    def _value_error(self, error: torch.Tensor) -> torch.Tensor:
        delta = self.config.huber_delta
        if delta > 0:
            return nn.functional.huber_loss(error, torch.zeros_like(error), reduction="none", delta=delta)
        return 0.5 * error ** 2

    def _normalise(self, x: np.ndarray) -> np.ndarray:
        if not self.config.value_norm:
            return np.asarray(x, np.float64)
        return (np.asarray(x, np.float64) - self.value_norm.mean) / np.sqrt(self.value_norm.var + 1e-8)

    def _denormalise(self, x: np.ndarray) -> np.ndarray:
        if not self.config.value_norm:
            return np.asarray(x, np.float64)
        return np.asarray(x, np.float64) * np.sqrt(self.value_norm.var + 1e-8) + self.value_norm.mean

    # -- checkpoints ---------------------------------------------------------------------
    def modules(self) -> dict[str, nn.Module]:
        return {"actor": self.actor, "critic": self.critic}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"actor_opt": self.actor_opt, "critic_opt": self.critic_opt}

    def policy_modules(self) -> dict[str, nn.Module]:
        return {"actor": self.actor}

    def policy_meta(self) -> dict[str, Any]:
        return {"greedy": self._policy.greedy}

    def extra_state(self) -> tuple[dict[str, Any], dict[str, Any]]:
        tensors = self.storage.state_dict("storage")
        built, built_meta = self.builder.state_dict("builder")
        tensors.update(built)
        tensors.update({f"move_logp.{seat}": value for seat, value in self.move_logp.items()})
        return tensors, {"builder": built_meta, "value_norm": self.value_norm.state(),
                         "steps_since_update": self.steps_since_update}

    def load_extra_state(self, tensors: Mapping[str, Any], meta: Mapping[str, Any]) -> None:
        self.storage.load_state_dict("storage", tensors)
        self.builder.load_state_dict("builder", tensors, meta["builder"])
        self.move_logp = {seat: np.array(tensors[f"move_logp.{seat}"], np.float32) for seat in self.seats}
        self.value_norm.load(meta["value_norm"])
        self.steps_since_update = int(meta["steps_since_update"])

    @classmethod
    def policy_from_state(cls, spec: GameSpec, tensors: Mapping[str, Any], meta: Mapping[str, Any], *,
                          exploration: Mapping[str, float] | None = None) -> MAPPOPolicy:
        cfg, seats = cls.snapshot_settings(spec, meta)
        cls.check_exploration(exploration, (), cls.algorithm)
        n_ids = len(seats) if cfg.agent_id and len(seats) > 1 else 0
        seat = spec.seat(seats[0])
        actor = Net(seat.obs_shape, n_ids, seat.n_actions, cfg, torch.Generator().manual_seed(0), cfg.actor_gain,
                    view=actor_view(spec, seats, cfg))
        load_module("actor", actor, tensors)
        return MAPPOPolicy(spec, actor.eval(), seats, greedy=bool(meta.get("greedy", plays_greedily(spec, cfg))))
