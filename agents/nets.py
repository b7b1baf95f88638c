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

from typing import Sequence

import numpy as np
import torch
from torch import nn

from games.base import GameSpec, sample_masked, uniforms


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
        if spec.name != self.spec.name:
            return f"this policy was built for {self.spec.name}"
        missing = [s for s in seats if s not in self.seats]
        return f"this policy does not cover seats {missing}" if missing else None

    @torch.no_grad()
    def probabilities(self, obs: np.ndarray, mask: np.ndarray) -> np.ndarray:
        x = torch.from_numpy(np.ascontiguousarray(obs, dtype=np.float32)).reshape(len(obs), -1)  # (b, obs)
        logits = masked_logits(self.model(x), torch.from_numpy(mask))  # (b, A)
        return torch.softmax(logits, dim=-1).numpy()

    def act(self, obs, mask, *, seat, keys, explore=False, engine_states=None) -> np.ndarray:
        probs = self.probabilities(obs, mask)
        if self.greedy and not explore:
            return np.where(mask, probs, -1.0).argmax(1).astype(np.int64)
        return sample_masked(probs, mask, uniforms(keys, 1)[:, 0])
