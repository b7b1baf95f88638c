"""Shared network pieces: MLPs, action masking, and a torch policy that samples by key.

Example:
    >>> import torch
    >>> net = mlp(4, 3, hidden=(8, 8))
    >>> net(torch.zeros(2, 4)).shape
    torch.Size([2, 3])
    >>> logits = torch.tensor([[1.0, 5.0, 2.0]]); mask = torch.tensor([[True, False, True]])
    >>> masked_argmax(logits, mask).tolist()
    [2]
"""

from __future__ import annotations

import math
from typing import Callable, Mapping, Sequence

import numpy as np
import torch
from torch import nn

from agents.base import ExportedSeat, LearnerError, uncovered
from games.base import GameSpec, SeatSpec, sample_masked, uniforms


def mlp(in_dim: int, out_dim: int, hidden: Sequence[int] = (64, 64), *, activation: type[nn.Module] = nn.ReLU,
        out_gain: float | None = None) -> nn.Sequential:
    """A plain MLP: in -> hidden... -> out, `activation` between layers.

    With `out_gain` the layers get orthogonal init (sqrt(2) hidden, `out_gain` output,
    zero biases), as PPO implementations do.
    """
    layers: list[nn.Module] = []
    sizes = [in_dim, *hidden]
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(a, b), activation()]
    layers.append(nn.Linear(sizes[-1], out_dim))
    net = nn.Sequential(*layers)
    if out_gain is not None:
        linears = [m for m in net if isinstance(m, nn.Linear)]
        for k, layer in enumerate(linears):
            nn.init.orthogonal_(layer.weight, gain=out_gain if k == len(linears) - 1 else float(np.sqrt(2)))
            nn.init.zeros_(layer.bias)
    return net


def masked_logits(logits: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Illegal actions get the most negative float, so softmax gives them exactly zero."""
    if mask is None or mask.shape[-1] == 0:
        return logits
    return logits.masked_fill(~mask, torch.finfo(logits.dtype).min)


def masked_argmax(values: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Argmax over legal actions only: (..., A) -> (...)."""
    return masked_logits(values, mask).argmax(-1)


class CategoricalPolicy:
    """A discrete policy from a torch module mapping flat observations to logits.

    `act` samples from the masked softmax using the rows' keys (so results do not depend
    on batching); with `greedy=True` it plays the most likely legal action instead.

    Example:
        >>> import games
        >>> spec = games.load("tic_tac_toe").spec
        >>> policy = CategoricalPolicy(spec, mlp(27, 9), seats=spec.seat_names)
        >>> mask = np.ones((3, 9), dtype=bool)
        >>> policy.act(np.zeros((3, 3, 3, 3), np.float32), mask, seat="player_1", keys=np.arange(3)).shape
        (3,)
    """

    needs_engine_states = False

    def __init__(self, spec: GameSpec, model: nn.Module, *, seats: Sequence[str], greedy: bool = False):
        self.spec = spec
        self.model = model.eval()
        self.seats = tuple(seats)
        self.greedy = greedy

    def unsupported(self, spec: GameSpec, seats: Sequence[str]) -> str | None:
        return uncovered(self.spec, spec, seats, self.seats)

    @torch.no_grad()
    def probabilities(self, obs: np.ndarray, mask: np.ndarray, *, seat: str | None = None) -> np.ndarray:
        x = torch.from_numpy(np.ascontiguousarray(obs, dtype=np.float32)).reshape(len(obs), -1)  # (b, obs)
        logits = masked_logits(self.model(x), torch.from_numpy(mask))  # (b, A)
        return torch.softmax(logits, dim=-1).numpy()

    def act(self, obs, mask, *, seat, keys, explore=False, engine_states=None) -> np.ndarray:
        probs = self.probabilities(obs, mask)
        if self.greedy and not explore:
            return np.where(mask, probs, -1.0).argmax(1).astype(np.int64)
        return sample_masked(probs, mask, uniforms(keys, 1)[:, 0])

    def export_seat(self, seat: str) -> ExportedSeat:
        return ExportedSeat(SeatScores(self.model), softmax=True, plays="greedy" if self.greedy else "sample")


def seat_code(n_ids: int, index: int) -> torch.Tensor:
    """The one-hot id (n_ids,) of the seat at `index`; empty when the network takes no id.

    Example:
        >>> seat_code(3, 1).tolist(), seat_code(0, 0).tolist()
        ([0.0, 1.0, 0.0], [])
    """
    return torch.eye(max(n_ids, 1))[index][:n_ids].clone()


def constant_rows(like: torch.Tensor, code: torch.Tensor, *, image: bool = False) -> torch.Tensor:
    """`code` (ids,) repeated for every row of `like`: (b, ids), or (b, ids, H, W) constant planes
    of an image batch. Written so that an ONNX trace keeps the batch dimension dynamic."""
    if image:
        return torch.ones_like(like[:, :1]) * code.view(1, -1, 1, 1)  # (b, ids, H, W)
    return torch.ones_like(like[:, :1]) * code.view(1, -1)  # (b, ids)


class OwnView(nn.Module):
    """Shows each seat its observation from its own side (`SeatSpec.own_view`): row i of a flat
    batch is gathered by the index of seat ids[i]. Seats without an own view keep theirs; with
    none at all (or `enabled=False`) it is the identity. The index is derived from the game,
    not stored with the weights.

    Example:
        >>> import games
        >>> spec = games.load("tic_tac_toe").spec
        >>> view = OwnView.of_seats([spec.seat("player_0"), spec.seat("player_1")])
        >>> board = torch.zeros(1, 27); board[0, 9 + 4] = 1.0   # x in the centre
        >>> [int(view(board, torch.tensor([k]))[0, 9 + 4]) for k in (0, 1)]   # x's pieces are "mine" only for x
        [1, 0]
    """

    def __init__(self, views: Sequence[Sequence[int] | None], size: int):
        super().__init__()
        self.active = any(v is not None for v in views)
        rows = [list(v) if v is not None else list(range(size)) for v in views]
        self.register_buffer("index", torch.tensor(rows if self.active else [[]] * len(views), dtype=torch.long),
                             persistent=False)  # (seats, obs)

    @classmethod
    def of_seats(cls, seats: Sequence[SeatSpec], *, enabled: bool = True) -> OwnView:
        """The views the game declares for `seats` (ids index them); the identity when not `enabled`."""
        return cls([s.own_view if enabled else None for s in seats], seats[0].obs_size)

    def forward(self, x: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
        """x (b, obs) flat, ids (b,) seat indices -> (b, obs)."""
        return x.gather(1, self.index[ids]) if self.active else x

    def of_seat(self, index: int) -> nn.Module:
        """One seat's view as a module of a flat batch alone, for an exported model:
        (b, obs) -> (b, obs); the identity when nothing moves."""
        return FixedView(self.index[index].clone()) if self.active else nn.Identity()


class FixedView(nn.Module):
    """One seat's own view: (b, obs) flat -> (b, obs), columns taken in `index` order."""

    def __init__(self, index: torch.Tensor):
        super().__init__()
        self.register_buffer("index", index)  # (obs,)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, self.index]


class SeatScores(nn.Module):
    """One seat of a network on flat observations: the observation shown from the seat's own
    side (`view`, `OwnView.of_seat`), then its fixed one-hot id appended (nothing appended when
    `code` is empty). obs (b, *obs_shape) -> (b, out)."""

    def __init__(self, module: nn.Module, code: torch.Tensor | None = None, view: nn.Module | None = None):
        super().__init__()
        self.module = module
        self.register_buffer("code", torch.zeros(0) if code is None else code)
        self.view = view if view is not None else nn.Identity()

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        x = self.view(obs.flatten(1))  # (b, obs) from the seat's side
        if self.code.numel():
            x = torch.cat([x, constant_rows(x, self.code)], dim=1)  # (b, obs + ids)
        return self.module(x)  # (b, out)


# -- Q-learners (IQL, VDN, QMIX) ------------------------------------------------------------
# Parameter-shared per-seat Q-networks, their epsilon-greedy policy, double-Q targets over
# legal actions only, target-network updates and the guarded gradient step.


def seeded_init_(module: nn.Module, generator: torch.Generator) -> nn.Module:
    """Re-initialise every nn.Linear and nn.Conv2d as PyTorch does by default, drawing from
    `generator`.

    Learners build their networks with their own generator, so two learners with the same
    seed start identical whatever the global RNG has done.
    """
    for layer in module.modules():
        if isinstance(layer, (nn.Linear, nn.Conv2d)):
            nn.init.kaiming_uniform_(layer.weight, a=math.sqrt(5), generator=generator)
            fan_in = layer.weight[0].numel()  # in_features, or in_channels * kernel area
            bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
            nn.init.uniform_(layer.bias, -bound, bound, generator=generator)
    return module


def conv_torso(in_channels: int, conv: Sequence[int]) -> tuple[nn.Sequential, int]:
    """3x3 convolutions (padding 1, ReLU) with `conv` output channels, then a flatten:
    (b, in_channels, H, W) -> (b, channels * H * W); returns the module and its last channels.

    Example:
        >>> torso, channels = conv_torso(5, (8, 4))
        >>> torso(torch.zeros(2, 5, 6, 7)).shape, channels
        (torch.Size([2, 168]), 4)
    """
    layers: list[nn.Module] = []
    channels = int(in_channels)
    for out in conv:
        layers += [nn.Conv2d(channels, int(out), 3, padding=1), nn.ReLU()]
        channels = int(out)
    return nn.Sequential(*layers, nn.Flatten()), channels


def with_id_planes(board: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
    """The seats' one-hot ids (b, k) as constant planes beside a board batch (b, C, H, W):
    (b, C + k, H, W), so convolutions can read whose side they look from."""
    planes = ids[:, :, None, None].expand(-1, -1, *board.shape[2:])  # (b, k, H, W)
    return torch.cat([board, planes], dim=1)  # (b, C + k, H, W)


class ConvQNet(nn.Module):
    """A Q-network over a board: flat (b, obs + ids) -> (b, A), where obs is an image (C, H, W)
    and ids the seat's one-hot. The ids enter as constant planes beside the board, then
    3x3 convolutions (padding 1, ReLU) read local patterns the same way everywhere on the
    board (a line of four in connect four), and an MLP head on the flattened features and
    the ids gives one value per action. Its input is the flat vector an MLP would get, so the
    same `SeatScores` exports either.

    Example:
        >>> net = ConvQNet((3, 6, 7), n_ids=2, out_dim=7, conv=(8,), hidden=(16,))
        >>> net(torch.zeros(5, 3 * 6 * 7 + 2)).shape
        torch.Size([5, 7])
    """

    def __init__(self, obs_shape: Sequence[int], n_ids: int, out_dim: int, conv: Sequence[int], hidden: Sequence[int]):
        super().__init__()
        self.obs_shape, self.n_ids = tuple(int(d) for d in obs_shape), int(n_ids)
        self.size = int(np.prod(self.obs_shape))
        channels, height, width = self.obs_shape
        self.torso, channels = conv_torso(channels + self.n_ids, conv)
        self.head = mlp(channels * height * width + self.n_ids, out_dim, hidden)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (b, obs + ids) -> (b, A)."""
        board = x[:, :self.size].reshape(-1, *self.obs_shape)  # (b, C, H, W)
        ids = x[:, self.size:]  # (b, ids)
        if self.n_ids:
            board = with_id_planes(board, ids)  # (b, C + ids, H, W)
        return self.head(torch.cat([self.torso(board), ids], dim=1))  # (b, A)


class SeatQNetworks(nn.Module):
    """Q-values for several seats with parameter sharing.

    Seats with the same observation shape and action count share one MLP and get their
    index within that group as a one-hot input (when `agent_id` and the group has more
    than one seat); seats that differ in shape get separate networks. Positions are the
    order of `seats`.

    Example:
        >>> import games
        >>> spec = games.load("simple_tag").spec
        >>> net = SeatQNetworks([spec.seat(s) for s in spec.seat_names], hidden=(8,))
        >>> net.groups, net(3, torch.zeros(2, 14)).shape
        ([[0, 1, 2], [3]], torch.Size([2, 5]))
    """

    def __init__(self, seats: Sequence[SeatSpec], hidden: Sequence[int] = (64, 64), *, agent_id: bool = True,
                 own_view: bool = False, conv: Sequence[int] = ()):
        super().__init__()
        self.shapes = [(tuple(s.obs_shape), s.n_actions) for s in seats]
        kinds = list(dict.fromkeys(self.shapes))
        self.groups: list[list[int]] = [[p for p, k in enumerate(self.shapes) if k == kind] for kind in kinds]
        self.group_of = [kinds.index(k) for k in self.shapes]
        self.id_of = [self.groups[g].index(p) for p, g in enumerate(self.group_of)]
        self.n_ids = [len(group) if agent_id and len(group) > 1 else 0 for group in self.groups]
        # a conv torso for image observations (C, H, W) when `conv` names its channels, else an MLP
        self.nets = nn.ModuleList(
            ConvQNet(obs_shape, n_ids, n_actions, conv, hidden) if conv and len(obs_shape) == 3
            else mlp(int(np.prod(obs_shape)) + n_ids, n_actions, hidden)
            for (obs_shape, n_actions), n_ids in zip(kinds, self.n_ids)
        )
        self.views = nn.ModuleList(OwnView.of_seats([seats[p] for p in group], enabled=own_view) for group in self.groups)

    def forward_group(self, group: int, obs: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
        """obs (b, *obs_shape), ids (b,) long index within the group -> (b, n_actions)."""
        x = self.views[group](obs.reshape(len(obs), -1), ids)  # (b, obs) from each seat's side
        if self.n_ids[group]:
            x = torch.cat([x, nn.functional.one_hot(ids, self.n_ids[group]).to(x.dtype)], dim=1)  # (b, obs + ids)
        return self.nets[group](x)  # (b, A)

    def forward(self, position: int, obs: torch.Tensor) -> torch.Tensor:
        """Q-values of the seat at `position`: (b, *obs_shape) -> (b, n_actions)."""
        ids = torch.full((len(obs),), self.id_of[position], dtype=torch.long, device=obs.device)  # (b,)
        return self.forward_group(self.group_of[position], obs, ids)

    def forward_all(self, obs: Sequence[torch.Tensor]) -> list[torch.Tensor]:
        """One (b, *obs_shape) tensor per position -> one (b, n_actions) per position,
        with one forward pass per group (positions of a group stacked along the batch)."""
        out: list[torch.Tensor] = [None] * len(obs)  # type: ignore[list-item]
        for g, group in enumerate(self.groups):
            b = len(obs[group[0]])
            x = torch.cat([obs[p] for p in group])  # (m*b, *obs_shape)
            ids = torch.arange(len(group), device=x.device).repeat_interleave(b)  # (m*b,)
            q = self.forward_group(g, x, ids)  # (m*b, A)
            for k, p in enumerate(group):
                out[p] = q[k * b:(k + 1) * b]
        return out


def legal_or_all(mask: np.ndarray) -> np.ndarray:
    """Rows with no legal action (episode ends, or a seat without masks) get every action,
    so a max over them is defined; terminated rows are zeroed by (1 - terminated) anyway."""
    mask = np.asarray(mask, bool)
    return np.where(mask.any(1, keepdims=True), mask, True)


def double_q_values(online_next: torch.Tensor, target_next: torch.Tensor, next_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Double Q-learning bootstrap (van Hasselt et al. 2016) restricted to legal actions.

    The online network picks argmax over the legal next actions, the target network values
    that pick. Returns (actions (b,), values (b,)).

    Example:
        >>> a, v = double_q_values(torch.tensor([[9.0, 1.0, 2.0]]), torch.tensor([[0.0, 5.0, 7.0]]),
        ...                        torch.tensor([[False, True, True]]))
        >>> a.tolist(), v.tolist()
        ([2], [7.0])
    """
    actions = masked_argmax(online_next, next_mask)  # (b,)
    values = target_next.gather(1, actions[:, None]).squeeze(1)  # (b,)
    return actions, values


def hard_update(target: nn.Module, source: nn.Module) -> None:
    """Copy `source`'s parameters into `target`."""
    target.load_state_dict(source.state_dict())


@torch.no_grad()
def soft_update(target: nn.Module, source: nn.Module, tau: float) -> None:
    """Polyak averaging: target <- tau * source + (1 - tau) * target, one fused call per module."""
    torch._foreach_lerp_(list(target.parameters()), list(source.parameters()), tau)


def update_target(target: nn.Module, source: nn.Module, interval_or_tau: float, updates: int) -> None:
    """EPyMARL's `target_update_interval_or_tau`: >= 1 copies every that many updates, < 1 is tau."""
    if interval_or_tau >= 1:
        if updates % int(interval_or_tau) == 0:
            hard_update(target, source)
    else:
        soft_update(target, source, interval_or_tau)


def clip_grad_norm(parameters: Sequence[nn.Parameter], max_norm: float) -> torch.Tensor:
    """Clip the global gradient norm to `max_norm` (<= 0: no clipping); the norm before clipping,
    as a 0-d tensor on the parameters' device (no host sync). The arithmetic of
    `nn.utils.clip_grad_norm_` in two multi-tensor calls, without its per-call bookkeeping.

    Example:
        >>> p = nn.Parameter(torch.zeros(2)); p.grad = torch.tensor([3.0, 4.0])
        >>> float(clip_grad_norm([p], 1.0)), [round(g, 3) for g in p.grad.tolist()]
        (5.0, [0.6, 0.8])
    """
    grads = [p.grad for p in parameters if p.grad is not None]
    if not grads:
        return torch.zeros(())
    norm = torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads)))  # 0-d
    if max_norm > 0:
        torch._foreach_mul_(grads, (max_norm / (norm + 1e-6)).clamp(max=1.0))
    return norm


def no_exploration() -> float:
    """The epsilon of a frozen Q-policy."""
    return 0.0


class QPolicy:
    """Greedy (or epsilon-greedy, when exploring) actions from `SeatQNetworks`, per seat.

    `positions` maps each seat the policy covers to its network position. `epsilon` is read
    at every exploring call (a learner passes its schedule, a remote actor a constant); a
    frozen policy never explores. Exploration draws from the rows' keys only, so actions do
    not depend on batching.
    """

    needs_engine_states = False

    def __init__(self, spec: GameSpec, net: SeatQNetworks, positions: Mapping[str, int], *,
                 epsilon: Callable[[], float] = no_exploration):
        self.spec = spec
        self.net = net
        self.positions = dict(positions)
        self.epsilon = epsilon

    def unsupported(self, spec: GameSpec, seats: Sequence[str]) -> str | None:
        return uncovered(self.spec, spec, seats, self.positions)

    @torch.no_grad()
    def q_values(self, obs: np.ndarray, seat: str) -> np.ndarray:
        x = torch.from_numpy(np.ascontiguousarray(obs, dtype=np.float32))  # (b, *obs_shape)
        return self.net(self.positions[seat], x).numpy()  # (b, A)

    def probabilities(self, obs, mask, *, seat) -> np.ndarray:
        """(b, A) one-hot on the greedy legal action: a greedy policy as a distribution."""
        q = self.q_values(obs, seat)  # (b, A)
        legal = legal_or_all(mask)  # (b, A)
        greedy = np.where(legal, q, -np.inf).argmax(1)  # (b,)
        out = np.zeros(q.shape)
        out[np.arange(len(q)), greedy] = 1.0
        return out

    def act(self, obs, mask, *, seat, keys, explore=False, engine_states=None) -> np.ndarray:
        q = self.q_values(obs, seat)  # (b, A)
        legal = legal_or_all(mask)  # (b, A)
        greedy = np.where(legal, q, -np.inf).argmax(1).astype(np.int64)  # (b,)
        eps = self.epsilon() if explore else 0.0
        if eps <= 0:
            return greedy
        u = uniforms(keys, 2)  # (b, 2): explore?, which action
        random = sample_masked(np.ones(legal.shape), legal, u[:, 1])
        return np.where(u[:, 0] < eps, random, greedy).astype(np.int64)

    def export_seat(self, seat: str) -> ExportedSeat:
        net, position = self.net, self.positions[seat]
        group = net.group_of[position]
        scores = SeatScores(net.nets[group], seat_code(net.n_ids[group], net.id_of[position]),
                            view=net.views[group].of_seat(net.id_of[position]))
        return ExportedSeat(scores, softmax=False, plays="greedy")


def optimise(loss: torch.Tensor, optimizers: Sequence[torch.optim.Optimizer],
             parameter_groups: Sequence[Sequence[nn.Parameter]], max_norm: float, *, who: str, step: int) -> torch.Tensor:
    """One guarded gradient step: one backward pass of `loss`, each group of parameters clipped
    to `max_norm` on its own, then each optimiser stepped. A non-finite loss or gradient raises
    LearnerError naming `who` and `step` before any optimiser moves, so parameters stay as they
    were. Networks that share no parameters (an actor and its critic) train in one call on
    the sum of their losses: each gets only its own loss's gradient. Returns the gradient
    norms before clipping, (groups,), with one host sync for the check.

    Example:
        >>> net = nn.Linear(2, 1); opt = torch.optim.SGD(net.parameters(), lr=0.1)
        >>> optimise(net(torch.ones(1, 2)).sum() * float("nan"), [opt], [list(net.parameters())], 1.0, who="demo", step=3)
        Traceback (most recent call last):
        ...
        agents.base.LearnerError: demo stopped: the loss became nan at update 3; the parameters were left unchanged.
    """
    for optimizer in optimizers:
        optimizer.zero_grad(set_to_none=True)
    loss.backward()
    norms = torch.stack([clip_grad_norm(group, max_norm) for group in parameter_groups])  # (groups,)
    if not bool(torch.isfinite(loss.detach()) & torch.isfinite(norms).all()):
        for optimizer in optimizers:
            optimizer.zero_grad(set_to_none=True)
        what = (f"the loss became {float(loss.detach())}" if not math.isfinite(float(loss.detach()))
                else f"the gradient norm became {float(norms.max())}")
        raise LearnerError(f"{who} stopped: {what} at update {step}; the parameters were left unchanged.")
    for optimizer in optimizers:
        optimizer.step()
    return norms


# -- actor-critic learners (MAPPO, MADDPG) -------------------------------------------------
# Seeded orthogonal init, masked categorical log-probabilities and entropy, the
# straight-through Gumbel-softmax, and tanh outputs squashed into a Box.


def orthogonal_init_(module: nn.Module, generator: torch.Generator, *, out_gain: float) -> nn.Module:
    """Orthogonal init of every nn.Linear from `generator` (PPO practice): gain sqrt(2) for
    hidden layers, `out_gain` for the last one, zero biases.

    Example:
        >>> net = orthogonal_init_(mlp(4, 2, hidden=(8,)), torch.Generator().manual_seed(0), out_gain=0.01)
        >>> float(net[-1].weight.detach().norm()) < 0.05, float(net[0].bias.detach().abs().sum())
        (True, 0.0)
    """
    linears = [m for m in module.modules() if isinstance(m, nn.Linear)]
    for k, layer in enumerate(linears):
        nn.init.orthogonal_(layer.weight, gain=out_gain if k == len(linears) - 1 else math.sqrt(2), generator=generator)
        nn.init.zeros_(layer.bias)
    return module


def masked_log_probs(logits: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """(b, A) log-probabilities of the softmax over legal actions; illegal ones are -inf-like."""
    return torch.log_softmax(masked_logits(logits, mask), dim=-1)


def masked_entropy(log_probs: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """(b,) entropy over the legal actions only (illegal terms are exactly zero, never NaN).

    Example:
        >>> lp = masked_log_probs(torch.zeros(1, 4), torch.tensor([[True, True, False, False]]))
        >>> round(float(masked_entropy(lp, torch.tensor([[True, True, False, False]]))), 4)  # log 2
        0.6931
    """
    terms = log_probs.exp() * log_probs  # (b, A)
    if mask is not None and mask.shape[-1]:
        terms = torch.where(mask, terms, torch.zeros_like(terms))
    return -terms.sum(-1)


def gumbel_softmax_st(logits: torch.Tensor, mask: torch.Tensor | None, generator: torch.Generator,
                      temperature: float = 1.0) -> torch.Tensor:
    """Straight-through Gumbel-softmax (Jang et al. 2017), drawn from `generator`.

    Forward: a one-hot sample of the masked softmax; backward: the gradient of the relaxed
    sample softmax((logits + g) / temperature). Illegal actions are never sampled.

    Example:
        >>> y = gumbel_softmax_st(torch.zeros(3, 4), torch.tensor([[True, False, False, False]] * 3),
        ...                       torch.Generator().manual_seed(0))
        >>> y.tolist()
        [[1.0, 0.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0]]
    """
    u = torch.rand(logits.shape, generator=generator).clamp_(1e-10, 1.0 - 1e-7).to(logits.device)  # (b, A), CPU generator
    gumbel = -torch.log(-torch.log(u))  # (b, A)
    soft = torch.softmax((masked_logits(logits, mask) + gumbel) / temperature, dim=-1)  # (b, A)
    hard = nn.functional.one_hot(soft.argmax(-1), logits.shape[-1]).to(soft.dtype)  # (b, A)
    return hard - soft.detach() + soft


def squash_to_box(pre: torch.Tensor, low: float, high: float) -> torch.Tensor:
    """tanh-squash unbounded outputs into [low, high] (continuous actions).

    Example:
        >>> squash_to_box(torch.tensor([-50.0, 0.0, 50.0]), 0.0, 1.0).tolist()
        [0.0, 0.5, 1.0]
    """
    return low + (torch.tanh(pre) + 1.0) * (0.5 * (high - low))
