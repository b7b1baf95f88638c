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
import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np
import torch
from torch import nn

from agents.base import Learner, LearnerError, StepBatch, uncovered
from agents.buffers import RolloutStorage, RunningMeanStd, TransitionBuilder, builder_state, gae, load_builder_state
from agents.checkpoint import (load_module, load_numpy_rng, load_optimizer, load_torch_rng, module_tensors,
                               numpy_rng_state, optimizer_tensors, torch_rng_tensors)
from agents.nets import config_from, legal_or_all, masked_entropy, masked_log_probs, mlp, optimise, orthogonal_init_
from games.base import GameSpec, sample_masked, uniforms


@dataclass
class MAPPOConfig:
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
                 generator: torch.Generator, out_gain: float):
        super().__init__()
        self.in_shape, self.n_ids = tuple(in_shape), n_ids
        self.image = bool(config.conv) and len(self.in_shape) == 3
        if self.image:
            channels, height, width = self.in_shape
            channels += n_ids  # the seat-index planes
            layers: list[nn.Module] = []
            for out in config.conv:
                conv = nn.Conv2d(channels, out, 3, padding=1)
                nn.init.orthogonal_(conv.weight, gain=math.sqrt(2), generator=generator)
                nn.init.zeros_(conv.bias)
                layers += [conv, nn.ReLU()]
                channels = out
            self.torso: nn.Module = nn.Sequential(*layers, nn.Flatten())
            features = channels * height * width
        else:
            self.torso = nn.Flatten()
            features = int(np.prod(self.in_shape))
        self.norm = nn.LayerNorm(features + n_ids) if config.input_norm else nn.Identity()
        self.head = orthogonal_init_(mlp(features + n_ids, out_dim, config.hidden), generator, out_gain=out_gain)

    def forward(self, x: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
        """x (b, *in_shape) or flat (b, prod(in_shape)), ids (b,) seat indices -> (b, out)."""
        x = x.reshape(len(x), *self.in_shape)  # (b, *in_shape)
        one_hot = nn.functional.one_hot(ids, self.n_ids).to(x.dtype) if self.n_ids else None  # (b, ids)
        if self.image and one_hot is not None:
            planes = one_hot[:, :, None, None].expand(-1, -1, *self.in_shape[1:])  # (b, ids, H, W)
            x = torch.cat([x, planes], dim=1)  # (b, C + ids, H, W)
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


def perfect_information(spec: GameSpec) -> bool:
    """True for turn-based OpenSpiel games without hidden information (connect four)."""
    if spec.backend != "openspiel" or not spec.turn_based:
        return False
    import pyspiel

    info = pyspiel.load_game(spec.source).get_type().information
    return info == pyspiel.GameType.Information.PERFECT_INFORMATION


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
    def probabilities(self, obs: np.ndarray, mask: np.ndarray, seat: str) -> np.ndarray:
        x = torch.from_numpy(np.ascontiguousarray(obs, dtype=np.float32)).reshape(len(obs), -1)  # (b, obs)
        ids = torch.full((len(obs),), self.seats.index(seat), dtype=torch.long)  # (b,)
        legal = torch.from_numpy(legal_or_all(mask))  # (b, A)
        return self.log_probs(x, ids, legal).exp().numpy()  # (b, A), exactly 0 where illegal

    def act(self, obs, mask, *, seat, keys, explore=False, engine_states=None) -> np.ndarray:
        probs = self.probabilities(obs, mask, seat)  # (b, A)
        legal = legal_or_all(mask)
        if self.greedy and not explore:
            return np.where(legal, probs, -1.0).argmax(1).astype(np.int64)
        return sample_masked(probs, legal, uniforms(keys, 1)[:, 0])


# -- the learner -------------------------------------------------------------------------

class MAPPO(Learner):
    """MAPPO for one role: shared actor, centralised critic on the global state."""

    algorithm = "mappo"
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

    def __init__(self, spec: GameSpec, role: str, *, config: Mapping[str, Any] | None = None, seed: int = 0):
        self.config = cfg = config_from(MAPPOConfig, config, "mappo")
        cfg.hidden, cfg.conv = tuple(int(h) for h in cfg.hidden), tuple(int(c) for c in cfg.conv)
        _check(cfg)
        if role not in spec.roles:
            raise LearnerError(f"mappo: {spec.name} has no role {role!r}; roles: {', '.join(spec.roles)}")
        reason = self.unsupported(spec, role)
        if reason:
            raise LearnerError(f"mappo cannot learn role {role!r} of {spec.name}: {reason}.")
        self.spec, self.role, self.seed = spec, role, int(seed)
        self.seats = tuple(s for side in spec.sides_for_role(role) for s in side.seats)
        first = spec.seat(self.seats[0])
        self.obs_size, self.n_actions = first.obs_size, first.n_actions
        self.state_size = int(np.prod(spec.state_shape))
        self.n_ids = len(self.seats) if cfg.agent_id and len(self.seats) > 1 else 0
        self.generator = torch.Generator().manual_seed(self.seed)
        self.rng = np.random.default_rng(self.seed)

        self.actor = Net(first.obs_shape, self.n_ids, self.n_actions, cfg, self.generator, cfg.actor_gain)
        self.critic = Net(critic_shape(spec, first.obs_shape, cfg), self.n_ids, 1, cfg, self.generator, 1.0)
        self.actor_opt = torch.optim.Adam(self.actor.parameters(), lr=cfg.lr, eps=cfg.adam_eps)
        self.critic_opt = torch.optim.Adam(self.critic.parameters(), lr=cfg.critic_lr, eps=cfg.adam_eps)
        self.value_norm = RunningMeanStd()

        greedy = perfect_information(spec) if cfg.greedy is None else bool(cfg.greedy)
        self._policy = MAPPOPolicy(spec, self.actor, self.seats, greedy=greedy)
        self.builder = TransitionBuilder(spec, self.seats, self._policy, with_state=True)
        self.storage = RolloutStorage()
        self.move_logp = {seat: np.zeros(0, np.float32) for seat in self.seats}  # seat -> (n,) at its open move
        self.env_steps = 0  # per-seat transitions observed
        self.updates = 0
        self.steps_since_update = 0  # runner steps observed since the last update

    # -- policies ------------------------------------------------------------------------
    def policy(self) -> MAPPOPolicy:
        return self._policy  # the same object every call: the builder finds our rows by identity

    def frozen_policy(self) -> MAPPOPolicy:
        actor = copy.deepcopy(self.actor).eval()
        return MAPPOPolicy(self.spec, actor, self.seats, greedy=self._policy.greedy)

    # -- gathering experience ----------------------------------------------------------
    def observe(self, batch: StepBatch) -> None:
        """Turn the step into completed per-seat transitions, each with the log-probability its
        action had under the weights that chose it (moves can finish after an update)."""
        t_now = self.builder.t
        done = self.builder.add(batch)
        n = len(batch.result.terminated)
        if any(len(v) != n for v in self.move_logp.values()):
            self.move_logp = {seat: np.zeros(n, np.float32) for seat in self.seats}
        fresh = {}
        for seat in self.seats:
            fresh[seat] = self.move_logp[seat].copy()  # (n,)
            rows = np.flatnonzero(batch.rows_of(self._policy, seat))
            if len(rows):
                fresh[seat][rows] = self._log_prob(seat, batch.obs[seat][rows], batch.mask[seat][rows],
                                                   batch.actions[seat][rows])
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
            self.env_steps += b
        self.move_logp = fresh
        self.steps_since_update += 1

    @torch.no_grad()
    def _log_prob(self, seat: str, obs: np.ndarray, mask: np.ndarray, action: np.ndarray) -> np.ndarray:
        x = torch.from_numpy(np.ascontiguousarray(obs, np.float32)).reshape(len(obs), -1)  # (b, obs)
        ids = torch.full((len(obs),), self.seats.index(seat), dtype=torch.long)  # (b,)
        logp = self._policy.log_probs(x, ids, torch.from_numpy(legal_or_all(mask)))  # (b, A)
        return logp.gather(1, torch.from_numpy(action.astype(np.int64))[:, None]).squeeze(1).numpy()  # (b,)

    # -- learning ------------------------------------------------------------------------
    def update(self) -> dict[str, float]:
        """A PPO update once `rollout_steps` runner steps have been gathered, else nothing."""
        if self.steps_since_update < self.config.rollout_steps or len(self.storage) == 0:
            return {}
        backup = self._networks_state()
        try:
            metrics = self._ppo(self.storage.data())
        except LearnerError:
            self._load_networks_state(backup)  # keep the last good weights
            raise
        self.storage.clear()
        self.steps_since_update = 0
        self.updates += 1
        return metrics

    def _values(self, states: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
        """(b, state) and (b,) seat indices -> (b,) values in normalised units."""
        return self.critic(states, ids).squeeze(-1)

    def _ppo(self, data: dict[str, np.ndarray]) -> dict[str, float]:
        cfg = self.config
        b_ids = torch.from_numpy(data["seat"])  # (b,)
        b_obs = torch.from_numpy(data["obs"].astype(np.float32))  # (b, obs)
        b_mask = torch.from_numpy(legal_or_all(data["mask"]))  # (b, A)
        b_action = torch.from_numpy(data["action"].astype(np.int64))  # (b,)
        b_logp = torch.from_numpy(data["logp"].astype(np.float32))  # (b,) behaviour log-probs
        b_state = torch.from_numpy(data["state"].astype(np.float32))  # (b, state)
        next_state = torch.from_numpy(data["next_state"].astype(np.float32))  # (b, state)

        # 1. advantages: GAE along each (copy, seat) chain, values in raw units
        with torch.no_grad():
            values = self._denormalise(self._values(b_state, b_ids).numpy())  # (b,)
            next_values = self._denormalise(self._values(next_state, b_ids).numpy())  # (b,)
        chain = data["copy"] * len(self.seats) + data["seat"]  # (b,)
        advantages, returns = gae(data["reward"], values, next_values, data["terminated"], data["truncated"],
                                  chain, data["step"], gamma=cfg.gamma, lam=cfg.gae_lambda)
        if cfg.value_norm:
            self.value_norm.update(returns)
        b_returns = torch.from_numpy(self._normalise(returns)).float()  # (b,) critic targets
        b_values = torch.from_numpy(self._normalise(values)).float()  # (b,) pre-update values, same units
        b_adv = torch.from_numpy((advantages - advantages.mean()) / (advantages.std() + 1e-8)).float()  # (b,)

        # 2. PPO epochs over shuffled minibatches
        sums: dict[str, float] = {}
        count = 0
        for epoch in range(cfg.epochs):
            for mb in np.array_split(self.rng.permutation(len(b_ids)), cfg.minibatches):
                if len(mb) == 0:
                    continue
                mb = torch.from_numpy(mb)
                logp_all = self._policy.log_probs(b_obs[mb], b_ids[mb], b_mask[mb])  # (m, A)
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
                actor_loss = policy_loss - cfg.entropy_coef * entropy
                critic_loss = cfg.value_loss_coef * value_loss
                # actor and critic share no parameters: two backward passes, each clipped on its own
                who = f"mappo (env step {self.env_steps}, epoch {epoch + 1})"
                for loss in (actor_loss, critic_loss):  # check both before stepping either
                    if not torch.isfinite(loss):
                        raise LearnerError(f"{who} stopped: the loss became {float(loss.detach())} at update "
                                           f"{self.updates + 1}; the parameters were left unchanged.")
                step = self.updates + 1
                optimise(actor_loss, self.actor_opt, list(self.actor.parameters()), cfg.max_grad_norm, who=who, step=step)
                optimise(critic_loss, self.critic_opt, list(self.critic.parameters()), cfg.max_grad_norm, who=who, step=step)
                with torch.no_grad():
                    stats = {
                        "policy_loss": float(policy_loss), "value_loss": float(value_loss), "entropy": float(entropy),
                        "approx_kl": float(((ratio - 1) - log_ratio).mean()),
                        "clip_fraction": float(((ratio - 1).abs() > cfg.clip).float().mean()),
                    }
                for key, value in stats.items():
                    sums[key] = sums.get(key, 0.0) + value
                count += 1
        metrics = {key: value / max(count, 1) for key, value in sums.items()}
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
    def _networks_state(self) -> tuple[dict[str, Any], dict[str, Any]]:
        tensors = {**module_tensors("actor", self.actor), **module_tensors("critic", self.critic)}
        actor_opt, actor_groups = optimizer_tensors("actor_opt", self.actor_opt)
        critic_opt, critic_groups = optimizer_tensors("critic_opt", self.critic_opt)
        tensors.update(actor_opt)
        tensors.update(critic_opt)
        meta = {"actor_opt": actor_groups, "critic_opt": critic_groups, "value_norm": self.value_norm.state()}
        return copy.deepcopy(tensors), copy.deepcopy(meta)

    def _load_networks_state(self, state: tuple[Mapping[str, Any], Mapping[str, Any]]) -> None:
        tensors, meta = state
        load_module("actor", self.actor, tensors)
        load_module("critic", self.critic, tensors)
        load_optimizer("actor_opt", self.actor_opt, tensors, meta["actor_opt"])
        load_optimizer("critic_opt", self.critic_opt, tensors, meta["critic_opt"])
        self.value_norm.load(meta["value_norm"])

    def state_dict(self) -> tuple[dict[str, Any], dict[str, Any]]:
        tensors, meta = self._networks_state()
        tensors.update(torch_rng_tensors("torch_rng", self.generator))
        tensors.update(self.storage.state_dict("storage"))
        built, built_meta = builder_state(self.builder, "builder")
        tensors.update(built)
        tensors.update({f"move_logp.{seat}": value for seat, value in self.move_logp.items()})
        meta.update(self._describe(), numpy_rng=numpy_rng_state(self.rng), builder=built_meta,
                    env_steps=self.env_steps, updates=self.updates, steps_since_update=self.steps_since_update)
        return tensors, meta

    def load_state_dict(self, tensors: Mapping[str, Any], meta: Mapping[str, Any]) -> None:
        self._check_meta(meta)
        self.config = _config_of(meta)
        self._load_networks_state((tensors, meta))
        load_torch_rng("torch_rng", self.generator, tensors)
        load_numpy_rng(self.rng, meta["numpy_rng"])
        self.storage.load_state_dict("storage", tensors)
        load_builder_state(self.builder, "builder", tensors, meta["builder"])
        self.move_logp = {seat: np.array(tensors[f"move_logp.{seat}"], np.float32) for seat in self.seats}
        self.env_steps, self.updates = int(meta["env_steps"]), int(meta["updates"])
        self.steps_since_update = int(meta["steps_since_update"])

    def policy_state(self) -> tuple[dict[str, Any], dict[str, Any]]:
        return module_tensors("actor", self.actor), {**self._describe(), "greedy": self._policy.greedy}

    @classmethod
    def policy_from_state(cls, spec: GameSpec, tensors: Mapping[str, Any], meta: Mapping[str, Any]) -> MAPPOPolicy:
        cfg = _config_of(meta)
        seats = tuple(meta["seats"])
        n_ids = len(seats) if cfg.agent_id and len(seats) > 1 else 0
        seat = spec.seat(seats[0])
        actor = Net(seat.obs_shape, n_ids, seat.n_actions, cfg, torch.Generator().manual_seed(0), cfg.actor_gain)
        load_module("actor", actor, tensors)
        return MAPPOPolicy(spec, actor.eval(), seats, greedy=bool(meta["greedy"]))

    def _describe(self) -> dict[str, Any]:
        return {"algorithm": self.algorithm, "game": self.spec.name, "role": self.role, "seats": list(self.seats),
                "config": dataclasses.asdict(self.config)}

    def _check_meta(self, meta: Mapping[str, Any]) -> None:
        if meta.get("algorithm") != self.algorithm or meta.get("role") != self.role or meta.get("game") != self.spec.name:
            raise LearnerError(f"mappo: the checkpoint holds {meta.get('algorithm')} for role {meta.get('role')!r} of "
                               f"{meta.get('game')}, not mappo for role {self.role!r} of {self.spec.name}")
        theirs = _config_of(meta)
        for key in ("hidden", "conv", "input_norm", "agent_id"):
            if getattr(theirs, key) != getattr(self.config, key):
                raise LearnerError(f"mappo: the checkpoint's networks have {key}={getattr(theirs, key)!r}, this learner "
                                   f"{getattr(self.config, key)!r}; build the learner with the checkpoint's config")


def _config_of(meta: Mapping[str, Any]) -> MAPPOConfig:
    fields = dict(meta["config"])
    fields["hidden"], fields["conv"] = tuple(fields["hidden"]), tuple(fields.get("conv", ()))
    return config_from(MAPPOConfig, fields, "mappo")


def _check(cfg: MAPPOConfig) -> None:
    """Reject settings that cannot train, in one sentence naming the learner."""
    positive = {"epochs": cfg.epochs, "minibatches": cfg.minibatches, "rollout_steps": cfg.rollout_steps,
                "lr": cfg.lr, "critic_lr": cfg.critic_lr, "clip": cfg.clip}
    for key, value in positive.items():
        if not value > 0:
            raise LearnerError(f"mappo: {key} must be positive, got {value!r}.")
    for key in ("gamma", "gae_lambda"):
        if not 0.0 <= getattr(cfg, key) <= 1.0:
            raise LearnerError(f"mappo: {key} must lie in [0, 1], got {getattr(cfg, key)!r}.")
    if any(h < 1 for h in cfg.hidden + cfg.conv):
        raise LearnerError(f"mappo: hidden and conv sizes must be positive, got {cfg.hidden!r} and {cfg.conv!r}.")
