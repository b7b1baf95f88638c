"""QMIX: monotonic value function factorisation (Rashid et al. 2018).

VDN (see agents/vdn.py) with the sum replaced by a mixing network. The mixer's weights are
produced by hypernetworks from the global state and made non-negative by an absolute
value, so Q_tot is monotonic in every seat's utility (dQ_tot/dQ_i >= 0): the seats' greedy
actions, taken independently, still maximise Q_tot. Layout as in the paper and PyMARL /
EPyMARL's QMixer:

    w1 = |hyper_w1(s)|           (B, n_agents, embed)     b1 = hyper_b1(s)   (B, 1, embed)
    hidden = elu(q @ w1 + b1)    (B, 1, embed)
    w2 = |hyper_w2(s)|           (B, embed, 1)            v = V(s), a two-layer net (B, 1, 1)
    Q_tot = hidden @ w2 + v      (B,)

Example:
    >>> mixer = QMixer(n_agents=3, state_dim=5)
    >>> mixer(torch.zeros(4, 3), torch.zeros(4, 5)).shape
    torch.Size([4])
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn

from agents.learning import POSITIVE, OneOf
from agents.vdn import VDN, VDNConfig
from games.base import GameSpec


@dataclass
class QMIXConfig(VDNConfig):
    """Hyperparameters of QMIX: VDN's, plus the mixer's (EPyMARL algs/qmix.yaml)."""

    batch_size: int = 800
    """Team transitions per gradient step: EPyMARL's 32 episodes of a 25-step particle world.
    QMIX keeps EPyMARL's schedule exactly; with VDN's cheaper 256-every-8 it peaked lower
    and drifted more on simple_spread (measured: -77 vs -62 team return after 100k steps)."""
    replay_ratio: float = 32.0
    """Team transitions replayed per env step: 800 every 25 steps, EPyMARL's one update of
    32 episodes per 25-step episode. Where env steps are cheap, fewer replays learn faster
    per minute: on simple_tag(vectorised=True) against the scripted prey, 8 with gamma 0.95
    tagged 1.5-2.5 times per episode from 600k steps, while at 32 the team value diverged
    within 300k steps (README, Results; runs/examples/simple_tag_scripted_prey.toml)."""

    mixing_embed_dim: int = 32
    """Width of the mixing network (EPyMARL `mixing_embed_dim: 32`, the paper's 32)."""
    hypernet_layers: int = 2
    """Layers of the weight hypernetworks, 1 (linear, as in the paper) or 2 (EPyMARL
    `hypernet_layers: 2`)."""
    hypernet_embed: int = 64
    """Hidden width of two-layer hypernetworks (EPyMARL `hypernet_embed: 64`)."""

    limits: ClassVar = {**VDNConfig.limits, "mixing_embed_dim": POSITIVE, "hypernet_layers": OneOf((1, 2)),
                        "hypernet_embed": POSITIVE}


def hypernet(state_dim: int, out: int, layers: int, embed: int) -> nn.Module:
    """state -> `out` mixer weights: linear, or linear-ReLU-linear."""
    if layers == 1:
        return nn.Linear(state_dim, out)
    return nn.Sequential(nn.Linear(state_dim, embed), nn.ReLU(), nn.Linear(embed, out))


class QMixer(nn.Module):
    """Mixes per-seat values (B, n_agents) into Q_tot (B,), monotonically, conditioned on the state."""

    def __init__(self, n_agents: int, state_dim: int, embed: int = 32, hypernet_layers: int = 2, hypernet_embed: int = 64):
        super().__init__()
        self.n_agents, self.embed = n_agents, embed
        self.hyper_w1 = hypernet(state_dim, n_agents * embed, hypernet_layers, hypernet_embed)
        self.hyper_w2 = hypernet(state_dim, embed, hypernet_layers, hypernet_embed)
        self.hyper_b1 = nn.Linear(state_dim, embed)
        # the state-dependent bias of the output: a two-layer net, as in the paper
        self.value = nn.Sequential(nn.Linear(state_dim, embed), nn.ReLU(), nn.Linear(embed, 1))

    def forward(self, q: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
        B = len(q)
        s = state.reshape(B, -1)  # (B, S)
        w1 = torch.abs(self.hyper_w1(s)).view(B, self.n_agents, self.embed)  # (B, n, embed), >= 0
        b1 = self.hyper_b1(s).view(B, 1, self.embed)  # (B, 1, embed)
        hidden = nn.functional.elu(torch.bmm(q.view(B, 1, self.n_agents), w1) + b1)  # (B, 1, embed)
        w2 = torch.abs(self.hyper_w2(s)).view(B, self.embed, 1)  # (B, embed, 1), >= 0
        v = self.value(s).view(B, 1, 1)  # (B, 1, 1)
        return (torch.bmm(hidden, w2) + v).view(B)  # (B,)


class QMIX(VDN):
    """A side's seats as one team: per-seat utilities mixed by a state-conditioned monotonic network."""

    algorithm: ClassVar[str] = "qmix"
    config_class: ClassVar[type] = QMIXConfig
    architecture: ClassVar[tuple[str, ...]] = ("hidden", "agent_id", "mixing_embed_dim", "hypernet_layers",
                                               "hypernet_embed")
    needs_state = True  # the runner records the global state for the mixer

    @classmethod
    def unsupported(cls, spec: GameSpec, role: str) -> str | None:
        if not spec.state_shape or min(spec.state_shape) < 1:
            return f"qmix's mixer needs the global state, and {spec.name} has none"
        return super().unsupported(spec, role)

    def make_mixer(self) -> nn.Module:
        c = self.config
        state_dim = int(torch.tensor(self.spec.state_shape).prod())
        return QMixer(self.n_agents, state_dim, c.mixing_embed_dim, c.hypernet_layers, c.hypernet_embed)

    def mix(self, mixer: nn.Module | None, q: torch.Tensor, state: torch.Tensor | None) -> torch.Tensor:
        return mixer(q, state)  # (B, n) -> (B,)
