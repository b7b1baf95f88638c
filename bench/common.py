"""Shared pieces of the league benchmarks: train a league for a wall-clock budget, measure on the way.

`train_for` runs `league train`'s loop (league.train.loop.Trainer) round by round for `seconds`
of training time and calls `measure(elapsed, league)` every `every` seconds; time spent
measuring is not counted as training time.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import games  # noqa: E402
from league.train.config import TrainConfig, load_config  # noqa: E402
from league.play.runner import Entrant, GameTask, run  # noqa: E402
from league.train.selfplay import lineups, score  # noqa: E402
from league.store.database import Store  # noqa: E402
from league.threads import limit_threads  # noqa: E402
from league.train.loop import Trainer  # noqa: E402
from league.play.backends import make_backend  # noqa: E402
from games.base import derive_seed  # noqa: E402

limit_threads()
EXAMPLES = Path(__file__).resolve().parents[1] / "runs" / "examples"


def config_from(path_or_name: str, **overrides: Any) -> TrainConfig:
    path = Path(path_or_name)
    if not path.exists():
        path = EXAMPLES / f"{path_or_name}.toml"
    config = load_config(path)
    return config.with_overrides(**overrides) if overrides else config


def train_for(config: TrainConfig, seconds: float, every: float,
              measure: Callable[[float, Trainer], None], run_dir: str | None = None, workers: int | None = None) -> Trainer:
    """Train for `seconds` of wall time with `league train`'s own loop (evaluations, snapshots,
    meta games and checkpoints included); `measure` every `every` seconds (not counted).
    `workers` actor processes (`league train --workers`; default: all cores but one), shut
    down at the end, as `league train` does: the returned trainer's learners, pool and store stay readable."""
    folder = run_dir or tempfile.mkdtemp(prefix="league-bench-")
    store = Store.open(folder, create=True)
    store.init_run("bench", config.game, {"train": config.to_toml(), "ratings": config.ratings})
    # as `league train` does by default: actor processes on all cores but one, pipelined with the learners
    backend = make_backend("process", workers=workers or max(1, (os.cpu_count() or 2) - 1)) if config.lag else None
    league = Trainer(store, games.load(config.game), config.with_overrides(steps=10**12), backend=backend)
    league.register_players()
    trained = 0.0
    next_measure = 0.0
    while trained < seconds:
        if trained >= next_measure:
            measure(trained, league)
            next_measure += every
        start = time.perf_counter()
        league.iteration()
        trained += time.perf_counter() - start
    measure(trained, league)
    league.close()
    if backend is not None:
        backend.close()
    return league


def champion_entrant(league: Trainer) -> Entrant:
    """The best-rated learner or snapshot of the league (conservative TrueSkill), playing greedily."""
    from league.rate.standings import standings

    for row in standings(league.store):
        if row.name in league.learners:
            return Entrant(row.name, league.learners[row.name].policy(), explore=False)
        player = league.store.player(row.name)
        if player is not None and player.weights_path:
            return Entrant(row.name, league.pool.entrant(row.name).policy, explore=False)
    name = next(iter(league.learners))
    return Entrant(name, league.learners[name].policy(), explore=False)


def match(game_name: str, me: Entrant, opponent: Entrant, n_games: int, seed: int = 99, batch: int = 50):
    """`n_games` games with sides alternated; returns (score, wins, draws, losses) of `me`."""
    game = games.load(game_name)
    options = lineups(game.spec, game.spec.sides[0].role, me, opponent)
    tasks = [GameTask(k, derive_seed(seed, k // len(options)), options[k % len(options)]) for k in range(n_games)]
    records = run(game, tasks, batch=min(batch, n_games))
    results = []
    for r in records:
        k = r.sides.index(me.name)
        other = r.ranks[1 - k]
        results.append(1.0 if r.ranks[k] < other else 0.5 if r.ranks[k] == other else 0.0)
    return score(records, me.name), results.count(1.0), results.count(0.5), results.count(0.0)


def tags_per_episode(game, predators, prey: Entrant, episodes: int) -> float:
    """Mean tags per episode of the `predators` policy against `prey` on simple_tag, on fixed
    episodes (seed 2024): each predator gets +10 per contact step."""
    from league.play.runner import play

    import numpy as np

    records = play(game, (Entrant("predators", predators), prey), episodes, seed=2024)
    return float(np.mean([dict(r.seat_returns)["adversary_0"] / 10.0 for r in records]))
