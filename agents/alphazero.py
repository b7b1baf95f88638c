"""AlphaZero (Silver et al. 2018): a policy-value network trained on its own searches.

Every move, training or evaluation, is chosen by a PUCT search (agents.search) that asks the
network for priors and values at its leaves. Training games add Dirichlet noise to the root
and sample the first `temperature_moves` moves of a game in proportion to the root's visits;
after those, and in evaluation, the most visited move is played. The learner trains the
network on replayed positions: the policy head towards the search's visit distribution
(cross-entropy), the value head towards the game's final result from that mover's view
(squared error). Settings follow OpenSpiel's `alpha_zero` unless a docstring says otherwise.

Two-player zero-sum OpenSpiel games of alternating moves with perfect information and no
chance (connect four, tic-tac-toe, `openspiel:hex(...)`), one role playing both sides. The
search reads the engine's states (`needs_engine_states`), so the league plays it like
OpenSpiel's MCTS bot; the ONNX export holds the network's prior alone (no search).

Example:
    >>> import games
    >>> from agents.baselines import RandomPolicy
    >>> from league.play.runner import Entrant
    >>> from league.train.selfplay import train
    >>> game = games.load("tic_tac_toe")
    >>> learner = AlphaZero(game.spec, "player", config={"simulations": 8, "learning_starts": 64, "batch_size": 32})
    >>> log = train(game, learner, env_steps=200, opponents=[Entrant("random", RandomPolicy(game.spec))])
    >>> learner.env_steps >= 200, learner.updates > 0
    (True, True)
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, ClassVar, Mapping, Sequence

import numpy as np
import torch
from torch import nn

from agents.base import ExportedSeat, LearnerError, PolicyError, StepBatch, uncovered
from agents.buffers import ReplayBuffer
from agents.checkpoint import load_module, load_numpy_rng, numpy_rng_state, under
from agents.learning import AT_LEAST_ZERO, POSITIVE, SIZES, UNIT, Limit, LearnerBase, Settings, updates_due
from agents.nets import OwnView, SeatScores, masked_logits, mlp, optimise, seat_code, seeded_init_
from agents.search import PUCTSearch
from games.base import GameSpec, derive_seed, sample_masked, uniforms


@dataclass
class AlphaZeroConfig(Settings):
    """Settings of AlphaZero; OpenSpiel's `open_spiel/python/algorithms/alpha_zero` defaults
    unless a docstring says otherwise."""

    hidden: tuple[int, ...] = (256, 256)
    """Hidden layers of the MLP torso shared by the policy and value heads (OpenSpiel's `mlp`
    model, `nn_width: 128, nn_depth: 2`; 256 wide like this project's other connect-four learners)."""
    simulations: int = 16
    """Search simulations per training move (OpenSpiel `max_simulations: 300`). Measured on
    connect four (bench/learner_settings.py, self-play, vs MCTS-25 after 50 / 100 / 150 CPU-s):
    16 scored 0.78, 0.82, 0.87 and 32 scored 0.78, 0.72, 0.75; 16 plays twice the games."""
    eval_simulations: int = 32
    """Search simulations per move when playing without exploration (evaluations, tournaments,
    frozen snapshots in the pool)."""
    c_puct: float = 2.0
    """Exploration constant of PUCT (OpenSpiel `uct_c: 2`)."""
    dirichlet_alpha: float = 1.0
    """Concentration of the root's Dirichlet noise in training moves (OpenSpiel `policy_alpha: 1`)."""
    dirichlet_weight: float = 0.25
    """Share of the noise in the root's priors (OpenSpiel `policy_epsilon: 0.25`); 0 turns it off."""
    temperature_moves: int = 10
    """Moves of each game sampled by visit counts before the most visited is played
    (OpenSpiel `temperature_drop: 10`)."""
    lr: float = 1e-3
    """Adam learning rate (OpenSpiel `learning_rate: 0.001`)."""
    weight_decay: float = 1e-4
    """L2 penalty on the weights (OpenSpiel `weight_decay: 1e-4`), as AdamW's decoupled decay."""
    batch_size: int = 256
    """Positions per gradient step (OpenSpiel `train_batch_size: 1024`, smaller for one CPU core)."""
    replay_ratio: float = 4.0
    """Positions replayed per position played: one gradient step every `batch_size / replay_ratio`
    moves. OpenSpiel learns each position about `replay_buffer_reuse: 3` times. Measured on
    connect four (self-play, 16 simulations, vs MCTS-100 after 50 / 100 / 150 CPU-s): 4 scored
    0.50, 0.52, 0.56 and 16 scored 0.31, 0.27, 0.26."""
    buffer_size: int = 65_536
    """Replay capacity in positions (OpenSpiel `replay_buffer_size: 2**16`)."""
    learning_starts: int = 2_000
    """Moves played before the first gradient step."""
    grad_clip: float = 10.0
    """Max global gradient norm; <= 0 disables clipping."""
    agent_id: bool = True
    """Append the mover's one-hot seat id to its observation."""
    own_view: bool = True
    """Show the mover the board from its own side where the game's observation is absolute
    (connect four, tic-tac-toe), so both sides train one function."""

    limits: ClassVar = {
        "hidden": SIZES, "simulations": Limit(1), "eval_simulations": Limit(1), "c_puct": POSITIVE,
        "dirichlet_alpha": POSITIVE, "dirichlet_weight": UNIT, "temperature_moves": AT_LEAST_ZERO, "lr": POSITIVE,
        "weight_decay": AT_LEAST_ZERO, "batch_size": POSITIVE, "replay_ratio": POSITIVE, "buffer_size": POSITIVE,
        "learning_starts": AT_LEAST_ZERO,
    }


class PolicyValueNet(nn.Module):
    """One MLP for every seat of the role: obs (b, obs) and seat ids (b,) -> logits (b, A) and
    values (b,) in [-1, 1] from the mover's view. The observation is shown from the mover's
    side (`OwnView`) and its one-hot id appended (when `agent_id`)."""

    def __init__(self, seats: Sequence, hidden: Sequence[int], *, agent_id: bool, own_view: bool):
        super().__init__()
        self.n_actions = seats[0].n_actions
        self.n_ids = len(seats) if agent_id else 0
        self.view = OwnView.of_seats(list(seats), enabled=own_view)
        self.torso = mlp(seats[0].obs_size + self.n_ids, self.n_actions + 1, hidden)  # logits | value

    def forward(self, obs: torch.Tensor, ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.view(obs.reshape(len(obs), -1), ids)  # (b, obs) from the mover's side
        if self.n_ids:
            x = torch.cat([x, nn.functional.one_hot(ids, self.n_ids).to(x.dtype)], dim=1)  # (b, obs + ids)
        out = self.torso(x)  # (b, A + 1)
        return out[:, :self.n_actions], torch.tanh(out[:, self.n_actions])  # (b, A), (b,)


class PriorLogits(nn.Module):
    """The policy head alone: (b, in) -> (b, A) logits, what the ONNX export traces."""

    def __init__(self, torso: nn.Module, n_actions: int):
        super().__init__()
        self.torso, self.n_actions = torso, n_actions

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.torso(x)[:, :self.n_actions]


@dataclass(frozen=True)
class SearchSettings:
    """How an AlphaZero policy searches: the config's search fields."""

    simulations: int
    eval_simulations: int
    c_puct: float
    dirichlet_alpha: float
    dirichlet_weight: float
    temperature_moves: int

    @classmethod
    def of(cls, config: AlphaZeroConfig) -> "SearchSettings":
        return cls(config.simulations, config.eval_simulations, config.c_puct, config.dirichlet_alpha,
                   config.dirichlet_weight, config.temperature_moves)


class AlphaZeroPolicy:
    """Moves chosen by PUCT search with the network's priors and values (see the module doc).

    `last_search` holds, after each call of `act`, the visit distribution (b, A) of its rows:
    the policy targets the learner trains on (the runner hands them over in `StepBatch.search`).
    """

    needs_engine_states = True

    def __init__(self, spec: GameSpec, net: PolicyValueNet, seats: Sequence[str], search: SearchSettings):
        self.spec, self.net, self.seats, self.search = spec, net, tuple(seats), search
        # engine player index -> the seat id the network takes
        self._ids = np.array([self.seats.index(s) if s in self.seats else 0 for s in spec.seat_names], np.int64)
        self._searcher: PUCTSearch | None = None
        self.last_search: np.ndarray | None = None

    def unsupported(self, spec: GameSpec, seats: Sequence[str]) -> str | None:
        return uncovered(self.spec, spec, seats, self.seats)

    def _search_engine(self) -> PUCTSearch:
        if self._searcher is None:
            import pyspiel

            from games.openspiel import state_observer

            engine = pyspiel.load_game(self.spec.source)
            self._searcher = PUCTSearch(engine, c_puct=self.search.c_puct, observe=state_observer(engine))
        return self._searcher

    @torch.no_grad()
    def evaluate(self, obs: np.ndarray, mask: np.ndarray, players: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Priors (k, A) over legal moves and values (k,) of positions seen by `players` (k,) engine indices."""
        x = torch.from_numpy(np.ascontiguousarray(obs, dtype=np.float32))  # (k, obs)
        logits, value = self.net(x, torch.from_numpy(self._ids[players]))  # (k, A), (k,)
        prior = torch.softmax(masked_logits(logits, torch.from_numpy(mask)), dim=1)  # (k, A)
        return prior.numpy().astype(np.float64), value.numpy().astype(np.float64)

    def probabilities(self, obs: np.ndarray, mask: np.ndarray, *, seat: str) -> np.ndarray:
        """(b, A) the network's prior over legal moves (the exported policy; the league plays the search)."""
        players = np.full(len(obs), self.spec.seat_names.index(seat), np.int64)
        prior, _ = self.evaluate(np.asarray(obs, np.float32).reshape(len(obs), -1), np.asarray(mask, bool), players)
        return prior

    def act(self, obs, mask, *, seat, keys, explore=False, engine_states=None) -> np.ndarray:
        if engine_states is None:
            raise PolicyError("alphazero searches the engine's game states, which this game does not provide")
        s = self.search
        noise = None
        if explore and s.dirichlet_weight > 0:
            seeds = derive_seed(np.asarray(keys, np.int64), 0xA2E)  # (b,)
            legal = [np.flatnonzero(row) for row in mask]
            noise = []  # Dirichlet(alpha) over each row's legal moves, as OpenSpiel draws it
            for key, moves in zip(seeds.tolist(), legal):
                row = np.zeros(mask.shape[1])
                row[moves] = np.random.default_rng(int(key)).dirichlet(np.full(len(moves), s.dirichlet_alpha))
                noise.append(row)
        visits = self._search_engine().run(engine_states, self.evaluate, noise=noise, noise_weight=s.dirichlet_weight,
                                           simulations=s.simulations if explore else s.eval_simulations)  # (b, A)
        self.last_search = (visits / visits.sum(1, keepdims=True)).astype(np.float32)  # (b, A)
        best = np.where(mask, visits, -1.0).argmax(1)  # (b,) most visited legal move
        if not explore:
            return best.astype(np.int64)
        early = np.array([state.move_number() < s.temperature_moves for state in engine_states])  # (b,)
        sampled = sample_masked(visits, mask, uniforms(keys, 1)[:, 0])  # (b,) in proportion to visits
        return np.where(early, sampled, best).astype(np.int64)

    def export_seat(self, seat: str) -> ExportedSeat:
        k = self.seats.index(seat)
        scores = SeatScores(PriorLogits(self.net.torso, self.net.n_actions), seat_code(self.net.n_ids, k),
                            view=self.net.view.of_seat(k))
        return ExportedSeat(scores, softmax=True, plays="greedy")


def search_unsupported(spec: GameSpec) -> str | None:
    """Why AlphaZero's search cannot play `spec`, or None."""
    if spec.backend != "openspiel" or not spec.turn_based:
        return "it searches turn-based OpenSpiel games only"
    if not (spec.zero_sum and spec.perfect_information and len(spec.sides) == 2 and len(spec.seats) == 2):
        return "it needs a two-player zero-sum game with perfect information"
    import pyspiel

    if pyspiel.load_game(spec.source).get_type().chance_mode != pyspiel.GameType.ChanceMode.DETERMINISTIC:
        return "it needs a game without chance"
    return None


class AlphaZero(LearnerBase):
    """A policy-value network trained on its own PUCT searches, for one role that plays both sides."""

    algorithm: ClassVar[str] = "alphazero"
    config_class: ClassVar[type] = AlphaZeroConfig
    architecture: ClassVar[tuple[str, ...]] = ("hidden", "agent_id", "own_view")
    needs_state = False

    @classmethod
    def unsupported(cls, spec: GameSpec, role: str) -> str | None:
        reason = search_unsupported(spec)
        if reason:
            return reason
        seats = [seat for side in spec.sides_for_role(role) for seat in side.seats]
        if set(seats) != set(spec.seat_names):
            return "it needs one role that plays both sides"
        if len({(spec.seat(s).obs_shape, spec.seat(s).n_actions) for s in seats}) > 1 or not spec.seats[0].discrete:
            return "it needs seats that see and act alike, with discrete moves"
        return None

    def __init__(self, spec: GameSpec, role: str, *, config: Mapping[str, Any] | None = None, seed: int = 0,
                 device: str | torch.device = "cpu"):
        super().__init__(spec, role, config=config, seed=seed, device=device)
        c = self.config
        net = seeded_init_(PolicyValueNet([spec.seat(s) for s in self.seats], c.hidden, agent_id=c.agent_id,
                                          own_view=c.own_view), self.torch_rng)
        self.net = net.to(self.device)
        self.optimizer = torch.optim.AdamW(self.net.parameters(), lr=c.lr, weight_decay=c.weight_decay, foreach=True)
        self.buffer = ReplayBuffer(c.buffer_size, self.device)
        self._ids = {seat: k for k, seat in enumerate(self.seats)}
        self._policy = AlphaZeroPolicy(spec, self.cpu_copy(self.net), self.seats, SearchSettings.of(c))
        self._pending: dict[str, np.ndarray] = {}  # positions of unfinished games: field -> (m, ...)

    # -- policies ----------------------------------------------------------------------------
    def policy(self) -> AlphaZeroPolicy:
        return self._policy

    def frozen_policy(self) -> AlphaZeroPolicy:
        return AlphaZeroPolicy(self.spec, copy.deepcopy(self._policy.net), self.seats, SearchSettings.of(self.config))

    def exploration(self) -> dict[str, float]:
        return {}  # the search's noise and temperature are settings, the same for every actor

    # -- collecting --------------------------------------------------------------------------
    def observe(self, batch: StepBatch, player: str) -> None:
        """Keep this entrant's searched positions until their game ends; then store each with the
        game's result from its mover's view."""
        self.count_moves(batch, player)
        parts = []
        for seat in self.seats:
            targets = (batch.search or {}).get(seat)
            if targets is None:
                continue
            rows = np.flatnonzero(batch.rows_of(player, seat) & np.isfinite(targets[:, 0]))  # (m,)
            if len(rows):
                parts.append({"obs": batch.obs[seat][rows].reshape(len(rows), -1).astype(np.float32),  # (m, obs)
                              "id": np.full(len(rows), self._ids[seat], np.int64),  # (m,)
                              "mask": batch.mask[seat][rows],  # (m, A)
                              "pi": targets[rows].astype(np.float32),  # (m, A)
                              "copy": rows.astype(np.int64),  # (m,)
                              "seat": np.full(len(rows), self.spec.seat_names.index(seat), np.int64)})  # (m,)
        if parts:
            parts = ([self._pending] if self._pending else []) + parts
            self._pending = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
        finished = batch.result.finished
        if len(finished) and self._pending:
            self._store_finished(batch, finished)

    def _store_finished(self, batch: StepBatch, finished: np.ndarray) -> None:
        pending = self._pending
        where = np.searchsorted(finished, pending["copy"])  # (m,) position of each row's copy among the finished
        done = (where < len(finished)) & (finished[np.minimum(where, len(finished) - 1)] == pending["copy"])  # (m,)
        if not done.any():
            return
        returns = np.stack([batch.result.episode_return[s] for s in self.spec.seat_names], axis=1)  # (k, seats)
        z = np.clip(returns[where[done], pending["seat"][done]], -1.0, 1.0).astype(np.float32)  # (d,)
        self.buffer.add({"obs": pending["obs"][done], "id": pending["id"][done], "mask": pending["mask"][done],
                         "pi": pending["pi"][done], "z": z})
        self._pending = {k: v[~done] for k, v in pending.items()} if (~done).any() else {}

    # -- learning ----------------------------------------------------------------------------
    def learn(self) -> dict[str, float]:
        c = self.config
        if len(self.buffer) < c.batch_size:
            return {}
        metrics: dict[str, torch.Tensor] = {}
        for _ in range(updates_due(self.env_steps, c.learning_starts, c.batch_size, c.replay_ratio, self.updates)):
            metrics = self.train_step()
        return {k: float(v) for k, v in metrics.items()}

    def train_step(self) -> dict[str, torch.Tensor]:
        """One gradient step: cross-entropy to the searches' visits plus the value's squared error."""
        rng_before = numpy_rng_state(self.rng)
        b = self.buffer.sample(self.config.batch_size, self.rng)  # field -> (B, ...)
        logits, value = self.net(b["obs"], b["id"])  # (B, A), (B,)
        log_prior = torch.log_softmax(masked_logits(logits, b["mask"]), dim=1)  # (B, A)
        policy_loss = -(b["pi"] * log_prior.clamp_min(-1e9)).sum(1).mean()
        value_loss = nn.functional.mse_loss(value, b["z"])
        loss = policy_loss + value_loss
        try:
            norms = optimise(loss, [self.optimizer], [list(self.net.parameters())], self.config.grad_clip,
                             who=self.who, step=self.updates + 1)
        except LearnerError:
            load_numpy_rng(self.rng, rng_before)
            raise
        self.updates += 1
        return {"loss": loss.detach(), "policy_loss": policy_loss.detach(), "value_loss": value_loss.detach(),
                "grad_norm": norms[0]}

    # -- checkpoints -------------------------------------------------------------------------
    def modules(self) -> dict[str, nn.Module]:
        return {"net": self.net}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"optim": self.optimizer}

    def policy_modules(self) -> dict[str, nn.Module]:
        return {"net": self.net}

    def extra_state(self) -> tuple[dict[str, Any], dict[str, Any]]:
        data, meta = self.buffer.state_dict()
        tensors = {f"buffer.{k}": v for k, v in data.items()}
        tensors.update({f"pending.{k}": v for k, v in self._pending.items()})
        return tensors, {"buffer": meta, "pending": sorted(self._pending)}

    def load_extra_state(self, tensors: Mapping[str, Any], meta: Mapping[str, Any]) -> None:
        self.buffer.load_state_dict(under("buffer", tensors), meta["buffer"])
        self._pending = {k: np.array(tensors[f"pending.{k}"]) for k in meta["pending"]}

    @classmethod
    def policy_from_state(cls, spec: GameSpec, tensors: Mapping[str, Any], meta: Mapping[str, Any], *,
                          exploration: Mapping[str, float] | None = None) -> AlphaZeroPolicy:
        config, seats = cls.snapshot_settings(spec, meta)
        cls.check_exploration(exploration, (), cls.algorithm)
        net = PolicyValueNet([spec.seat(s) for s in seats], config.hidden, agent_id=config.agent_id,
                             own_view=config.own_view)
        load_module("net", net, tensors)
        return AlphaZeroPolicy(spec, net.eval(), seats, SearchSettings.of(config))


__all__ = ["AlphaZero", "AlphaZeroConfig", "AlphaZeroPolicy", "PolicyValueNet", "search_unsupported"]
