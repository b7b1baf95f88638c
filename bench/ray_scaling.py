"""Tournament throughput on one machine: the local backend against Ray with 1 and 2 workers.

A round-robin on connect four between OpenSpiel's MCTS bots (search dominates the cost, as
it does for real entrants), played three times on the same seeds: in this process, and as
Ray tasks on a local Ray instance limited to 1 and then 2 workers. Prints games/s and the
ratio to the local backend, and checks that every backend played exactly the same games.

Usage:
    python bench/ray_scaling.py [--games 200] [--entrants mcts:50,mcts:100,mcts:200]
"""

from __future__ import annotations

import argparse
import tempfile
import time

import games
from league.play.backends import make_backend
from league.play.entrants import resolve
from league.rate.ratings import Rater
from league.store.database import Store
from league.tournament.config import TournamentConfig
from league.tournament.formats import play_tournament


def measure(backend, config: TournamentConfig) -> tuple[float, dict]:
    game = games.load(config.game)
    with tempfile.TemporaryDirectory() as tmp, Store.open(tmp, create=True) as store:
        start = time.perf_counter()
        play_tournament(store, game, resolve(config.entrants, game.spec), config, Rater(), batch=32, backend=backend)
        seconds = time.perf_counter() - start
        played = {m.game_index: (m.sides, m.returns, m.ranks, m.length) for m in store.matches()}
    return len(played) / seconds, played


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--games", type=int, default=200, help="games per pairing")
    parser.add_argument("--entrants", default="mcts:50,mcts:100,mcts:200")
    args = parser.parse_args()
    import ray

    config = TournamentConfig(game="connect_four", entrants=tuple(args.entrants.split(",")), games=args.games)
    local, reference = measure(make_backend("local"), config)
    print(f"round-robin on connect_four, {len(reference)} games, entrants {args.entrants}")
    print(f"  local backend        : {local:8.1f} games/s   1.00x")
    for workers in (1, 2):
        ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
        try:
            backend = make_backend("ray", workers=workers)
            measure(backend, TournamentConfig(game="connect_four", entrants=config.entrants, games=2))  # warm the workers
            rate, played = measure(backend, config)
        finally:
            ray.shutdown()
        same = "same games" if played == reference else "DIFFERENT GAMES"
        print(f"  ray, {workers} worker{'s' if workers > 1 else ' '}        : {rate:8.1f} games/s   {rate / local:.2f}x   ({same})")


if __name__ == "__main__":
    main()
