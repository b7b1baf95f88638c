"""Training throughput next to pure-rollout throughput, in one process, on the same policies and batch.

For each league configuration it measures, side by side:
  rollout   the runner alone: the learners' current policies (exploring) play rounds, no learning;
  lag 0     `league train`'s loop, serial: play and learning one after the other in this process;
  lag 1     the same loop with actor processes (all cores but one) playing the next round while the
            learners update on the last one (the default of `league train`).
Training figures are wall clock of the whole loop (evaluations, snapshots and checkpoints included).
The unit is game steps (moves of any seat) per second, the same for all three. It prints where
each mode's time went.

Usage:
    python bench/train_throughput.py [--seconds 60] [--config connect_four --config simple_tag ...]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

from common import config_from
import games
from league.app.setup import as_mapping
from league.play.backends import make_backend
from league.play.runner import Entrant, run, schedule
from league.store.database import Store
from league.train.loop import Trainer


def rollout_rate(trainer: Trainer, seconds: float) -> float:
    """Game steps/s of the runner alone with the learners' policies, exploring, no learning."""
    spec = trainer.spec
    learners = list(trainer.learners.values())
    # one learner per side, of that side's role (a symmetric game's two sides: two copies of the first)
    entrants = tuple(Entrant(f"p{k}", next(l for l in learners if l.role == side.role).policy(), explore=True)
                     for k, side in enumerate(spec.sides))
    env = trainer.game.make(trainer.config.batch_games, seed=1)
    steps, k, start = 0, 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        tasks = schedule(spec, entrants, trainer.config.round_games, seed=k)
        steps += sum(r.length for r in run(trainer.game, tasks, env=env))
        k += 1
    return steps / (time.perf_counter() - start)


def training_rate(config, seconds: float, lag: int, workers: int) -> tuple[float, Trainer, dict[str, float]]:
    """Game steps/s of the training loop for `seconds` of wall time, and the shares of that time."""
    folder = tempfile.mkdtemp(prefix="league-throughput-")
    store = Store.open(folder, create=True)
    config = config.with_overrides(steps=10**12)
    config = type(config).from_mapping({**as_mapping(config), "lag": lag})
    store.init_run("bench", config.game, {"train": config.to_toml(), "ratings": config.ratings})
    backend = make_backend("process", workers=workers) if lag else None
    trainer = Trainer(store, games.load(config.game), config, backend=backend)
    trainer.register_players()
    trainer.checkpoint()
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        trainer.iteration()
    wall = time.perf_counter() - start
    steps = sum(m.length for m in store.matches(origin="training"))
    shares = {k: v / wall for k, v in trainer.timings.items() if k != "round"}
    trainer.close()
    if backend is not None:
        backend.close()
    store.close()
    return steps / wall, trainer, shares


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="wall seconds per mode")
    parser.add_argument("--config", action="append", help="example name or TOML path (repeatable)")
    args = parser.parse_args()
    workers = max(1, (os.cpu_count() or 2) - 1)
    print(f"{os.cpu_count()} cores: lag 1 uses {workers} actor process(es) and this process for the learners")
    for name in args.config or ["connect_four", "simple_tag"]:
        config = config_from(name)
        lag0, trainer, shares0 = training_rate(config, args.seconds, 0, workers)
        pure = rollout_rate(trainer, min(args.seconds, 20.0))
        lag1, _, shares1 = training_rate(config, args.seconds, 1, workers)
        print(f"\n{name} ({config.game}; {', '.join(l.name for l in config.learners)}; batch {config.batch_games}, "
              f"round {config.round_games} games)")
        print(f"  {'mode':<8} {'game steps/s':>13} {'/ rollout':>10}   where the wall time went")
        print(f"  {'rollout':<8} {pure:>13,.0f} {1.0:>10.2f}")
        for mode, rate, shares in (("lag 0", lag0, shares0), ("lag 1", lag1, shares1)):
            spent = ", ".join(f"{k} {v:.0%}" for k, v in shares.items())
            print(f"  {mode:<8} {rate:>13,.0f} {rate / pure:>10.2f}   {spent}")


if __name__ == "__main__":
    main()
