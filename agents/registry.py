"""The learning algorithms by name, loaded lazily.

Example:
    >>> from agents.registry import algorithm_names
    >>> algorithm_names()
    ['alphazero', 'iql', 'maddpg', 'mappo', 'qmix', 'vdn']
"""

from __future__ import annotations

import difflib
import importlib
from typing import TYPE_CHECKING, Any, Mapping

from agents.base import Learner, LearnerError, NetworkPolicy
from games.base import GameSpec

if TYPE_CHECKING:
    import torch

# name -> "module:Class"
ALGORITHMS: dict[str, str] = {
    "alphazero": "agents.alphazero:AlphaZero",
    "iql": "agents.iql:IQL",
    "vdn": "agents.vdn:VDN",
    "qmix": "agents.qmix:QMIX",
    "mappo": "agents.mappo:MAPPO",
    "maddpg": "agents.maddpg:MADDPG",
}


# what each algorithm is, for `league algos`
SUMMARIES: dict[str, str] = {
    "alphazero": "PUCT search with a policy-value network trained on its own searches; two-player board games",
    "iql": "independent double DQN; one Q-network per role shared by its seats; discrete actions",
    "vdn": "a team: per-seat utilities summed into the team value; discrete actions",
    "qmix": "a team: per-seat utilities mixed monotonically by hypernetworks of the global state; discrete actions",
    "mappo": "PPO actors per role with a centralised critic on the global state; discrete actions",
    "maddpg": "per-seat actors with centralised critics; Gumbel-softmax or continuous boxes; simultaneous moves",
}


def algorithm_names() -> list[str]:
    return sorted(ALGORITHMS)


def algorithm(name: str) -> type[Learner]:
    """The Learner class called `name`; unknown names list the valid ones."""
    if name not in ALGORITHMS:
        close = difflib.get_close_matches(name, ALGORITHMS, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise LearnerError(f"unknown algorithm {name!r}{hint}; algorithms: {', '.join(algorithm_names())}")
    module, _, cls = ALGORITHMS[name].partition(":")
    return getattr(importlib.import_module(module), cls)


def make_learner(name: str, spec: GameSpec, role: str, *, config: Mapping[str, Any] | None = None, seed: int = 0,
                 device: str | torch.device = "cpu") -> Learner:
    """A fresh learner of algorithm `name` for `role` of the game, training on `device` ("cpu",
    "cuda", "cuda:N" or "auto"); refuses what it cannot play in one sentence.

    Example:
        >>> import games
        >>> make_learner("iql", games.load("tic_tac_toe").spec, "player", device="cpu").device
        device(type='cpu')
        >>> make_learner("mappo", games.load("tic_tac_toe").spec, "hunter")
        Traceback (most recent call last):
        ...
        agents.base.LearnerError: mappo: tic_tac_toe has no role 'hunter'; roles: player.
    """
    return algorithm(name)(spec, role, config=config, seed=seed, device=device)


def load_policy(spec: GameSpec, tensors: Mapping[str, Any], meta: Mapping[str, Any], *,
                exploration: Mapping[str, float] | None = None) -> NetworkPolicy:
    """A policy from a snapshot's arrays and manifest: frozen, or, given a learner's
    `exploration()`, an actor that explores as that learner does (remote rollouts)."""
    name = meta.get("algorithm")
    if name not in ALGORITHMS:
        raise LearnerError(f"the snapshot names an unknown algorithm {name!r}")
    if meta.get("game") not in (None, spec.name):
        raise LearnerError(f"the snapshot was trained on {meta.get('game')}, not {spec.name}")
    return algorithm(name).policy_from_state(spec, tensors, meta, exploration=exploration)
