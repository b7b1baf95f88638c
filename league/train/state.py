"""What a trainer checkpoint holds besides the learners' files: one plain dataclass, JSON both ways.

Example:
    >>> state = TrainerState.start(["iql"], evaluate_every=1000)
    >>> TrainerState.from_json(state.to_json()) == state
    True
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, Mapping


@dataclass
class TrainerState:
    """The league's bookkeeping: where the loop is, what the pool holds, and what it has learned of it."""

    round: int = 0  # rounds played
    games: int = 0  # training games scheduled so far (the next game's index)
    steps: dict[str, int] = field(default_factory=dict)  # per learner: game steps in which it moved
    last_snapshot: dict[str, int] = field(default_factory=dict)  # per learner: its steps at its last snapshot
    last_eval: dict[str, int] = field(default_factory=dict)  # per learner: its steps at its last evaluation
    last_checkpoint: int = 0  # the slowest learner's steps at the last checkpoint
    recent: dict[str, dict[str, int]] = field(default_factory=dict)  # per learner: opponents met since its last snapshot
    snapshots: list[str] = field(default_factory=list)  # the pool's snapshots, oldest first
    pace: dict[str, int] = field(default_factory=dict)  # per learner: steps it moved in the last round learned
    latest_eval: dict[str, dict[str, float]] = field(default_factory=dict)  # per learner: its last evaluation's scores
    metagame: dict[str, Any] = field(default_factory=dict)  # MetaGame.state()
    rng: dict[str, Any] = field(default_factory=dict)  # numpy bit generator state of the matchmaking draws

    @classmethod
    def start(cls, learners: list[str], *, evaluate_every: int) -> "TrainerState":
        """The state of a new run: nothing played; every learner due for an evaluation at step 0."""
        return cls(steps=dict.fromkeys(learners, 0), last_snapshot=dict.fromkeys(learners, 0),
                   last_eval=dict.fromkeys(learners, -evaluate_every), recent={name: {} for name in learners},
                   latest_eval={name: {} for name in learners})

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "TrainerState":
        known = {f.name for f in fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in known})
