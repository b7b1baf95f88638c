"""One learner against fixed opponents or itself: the inner training loop, and evaluation.

`train` is the simplest use of the runner for learning: an endless, lazily generated queue
of games between the learner (exploring) and its opponents (frozen policies, baselines, or
itself for self-play), until the learner has moved in `env_steps` more game steps. Learner
tests and benchmarks use it; `league train` (league/train/loop.py) builds a whole league on
the same parts.

Example:
    >>> import games
    >>> from agents.baselines import RandomPolicy
    >>> from league.play.runner import Entrant
    >>> spec = games.load("connect_four").spec
    >>> me, other = Entrant("me", RandomPolicy(spec)), Entrant("other", RandomPolicy(spec))
    >>> [[e.name for e in lineup] for lineup in lineups(spec, "player", me, other)]
    [['me', 'other'], ['other', 'me']]
"""

from __future__ import annotations

import itertools
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Callable, Iterator, Sequence

import numpy as np

from agents.base import Learner, LearnerError, StepBatch
from games.base import Game, GameSpec, derive_seed
from league.play.openings import training_openings
from league.play.runner import Entrant, GameRecord, GameTask, Slot, run

OPENINGS_AT_ONCE = 256  # training openings are drawn for this many games at a time


def lineups(spec: GameSpec, role: str, me: Slot, opponent: Slot) -> list[tuple[Slot, ...]]:
    """Every way to seat `me` on a side of `role`, with `opponent` on each other side."""
    out = []
    for k, side in enumerate(spec.sides):
        if side.role == role:
            out.append(tuple(me if i == k else opponent for i in range(len(spec.sides))))
    if not out:
        raise LearnerError(f"{spec.name} has no side for role {role!r}; roles: {', '.join(spec.roles)}")
    return out


def score(records: Sequence[GameRecord], name: str) -> float:
    """Mean result of entrant `name`: 1 a win, 0.5 a draw, 0 a loss (2+ sides), or its mean return (1 side).

    Example:
        >>> r = GameRecord(0, 0, ("a", "b"), (1.0, -1.0), (), (0, 1), 7, False)
        >>> score([r, GameRecord(1, 0, ("b", "a"), (0.0, 0.0), (), (0, 0), 9, False)], "a")
        0.75
    """
    results = []
    for r in records:
        if name not in r.sides:
            continue
        k = r.sides.index(name)
        if len(r.sides) == 1:
            results.append(r.returns[0])
            continue
        mine, others = r.ranks[k], [x for i, x in enumerate(r.ranks) if i != k]
        results.append(1.0 if all(mine < o for o in others) else 0.5 if all(mine <= o for o in others) else 0.0)
    if not results:
        raise ValueError(f"no game of {name!r} among the records")
    return float(np.mean(results))


@dataclass
class TrainingLog:
    """What `train` did: games played, wall time, and the mean of each update metric."""

    games: int = 0
    env_steps: int = 0
    seconds: float = 0.0
    records: list[GameRecord] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)


def train(
    game: Game,
    learner: Learner,
    *,
    env_steps: int,
    opponents: Sequence[Entrant] = (),
    self_play: bool = False,
    name: str = "learner",
    batch: int = 64,
    seed: int = 0,
    on_step: Callable[[StepBatch], None] | None = None,
    keep_records: bool = False,
    opening_plies: int = 0,
) -> TrainingLog:
    """Train `learner` until its `env_steps` (game steps in which it moved) grew by `env_steps`.

    The learner plays as the entrant `name` and learns from the steps of that name. Games cycle through the opponents (and the learner itself with `self_play`), seating
    the learner on every side of its role in turn. A one-side (cooperative) game needs no
    opponent. With `opening_plies`, each game starts after 0 to that many random moves
    (`training_openings`).
    """
    spec = game.spec
    me = Entrant(name, learner.policy(), explore=True)
    pool: list[Slot] = list(opponents) + ([me] if self_play else [])
    if not pool and len(spec.sides) > 1:
        raise LearnerError("training needs an opponent: give opponents or self_play=True")
    start_steps = learner.env_steps
    target = start_steps + env_steps
    log = TrainingLog()
    sums: dict[str, float] = defaultdict(float)
    counts: dict[str, int] = defaultdict(int)

    def tasks() -> Iterator[GameTask]:
        openings: list[tuple[int, ...]] = []
        for index in itertools.count():
            if learner.env_steps >= target:
                return
            if len(spec.sides) == 1:
                lineup = (me,)
            else:
                options = lineups(spec, learner.role, me, pool[index % len(pool)])
                lineup = options[(index // len(pool)) % len(options)]
            if opening_plies and index % OPENINGS_AT_ONCE == 0:  # drawn for a block of games at once
                openings = training_openings(game, [derive_seed(seed, k) for k in range(index, index + OPENINGS_AT_ONCE)],
                                             opening_plies)
            yield GameTask(index=index, seed=derive_seed(seed, index), lineup=lineup,
                           opening=openings[index % OPENINGS_AT_ONCE] if opening_plies else ())

    def step(batch_: StepBatch) -> None:
        learner.observe(batch_, name)
        for key, value in learner.update().items():
            sums[key] += value
            counts[key] += 1
        if on_step is not None:
            on_step(batch_)

    begin = time.perf_counter()
    records = run(game, tasks(), batch=batch, on_step=step, with_state=learner.needs_state,
                  collect=keep_records, on_record=lambda r: _count(log))
    log.seconds = time.perf_counter() - begin
    log.records = records
    log.env_steps = learner.env_steps - start_steps
    log.metrics = {k: sums[k] / counts[k] for k in sums}
    return log


def _count(log: TrainingLog) -> None:
    log.games += 1


def evaluate(game: Game, policy_entrant: Entrant, opponent: Entrant, n_games: int, *, seed: int = 12345,
             batch: int = 128) -> float:
    """`score` of `policy_entrant` over `n_games` against `opponent`, sides alternated."""
    spec = game.spec
    role = next((side.role for side in spec.sides if side.role in _roles_of(policy_entrant, spec)), spec.sides[0].role)
    options = lineups(spec, role, policy_entrant, opponent) if len(spec.sides) > 1 else [(policy_entrant,)]
    tasks = [GameTask(index=k, seed=derive_seed(seed, k // len(options)), lineup=options[k % len(options)])
             for k in range(n_games)]
    return score(run(game, tasks, batch=batch), policy_entrant.name)


def _roles_of(entrant: Entrant, spec: GameSpec) -> list[str]:
    """Roles the entrant's policy can play (every role, unless it says otherwise)."""
    roles = []
    for side in spec.sides:
        if entrant.policy.unsupported(spec, side.seats) is None:
            roles.append(side.role)
    return roles
