"""Does a Swiss tournament rank a large field like a round-robin does, for a fraction of the games?

Field: 32 entrants on connect four: uniform random and OpenSpiel's MCTS bot with 31
simulation budgets from 2 to ~600 (a geometric ladder, so strength grows along it).
Both tournaments play paired games (shared seeds, sides swapped). Prints games played,
wall time, and Kendall's tau between each ranking and the round-robin's Bradley-Terry order
(and the "true" order of the simulation ladder).

Usage:
    python bench/tournament_formats.py [--entrants 32] [--games 8] [--seed 0]
"""

from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np
from scipy.stats import kendalltau

import games
from league.play.entrants import resolve
from league.rate.standings import standings
from league.rate.ratings import Rater
from league.store.database import Store
from league.tournament.formats import TournamentConfig, play_tournament
from league.rate.views import bradley_terry


def ladder(n: int) -> list[str]:
    sims = np.unique(np.round(np.geomspace(2, 600, n - 1)).astype(int))
    while len(sims) < n - 1:  # geomspace can repeat small values: fill the ladder upwards
        sims = np.unique(np.append(sims, sims.max() + 1))
    return ["random"] + [f"mcts:{s}" for s in sims]


def strength(name: str) -> float:
    return 0.0 if name == "random" else float(name.split(":")[1])


def run(fmt: str, names: list[str], games_per_pair: int, seed: int) -> tuple[dict[str, list[str]], int, float]:
    game = games.load("connect_four")
    config = TournamentConfig(game="connect_four", entrants=tuple(names), games=games_per_pair, seed=seed, format=fmt)
    with tempfile.TemporaryDirectory() as tmp, Store.open(tmp, create=True) as store:
        start = time.perf_counter()
        play_tournament(store, game, resolve(names, game.spec), config, Rater(), batch=256)
        seconds = time.perf_counter() - start
        results = [(m.sides, m.ranks) for m in store.matches()]
        points = {n: 0.0 for n in names}
        for sides, ranks in results:
            a, b = sides
            points[a] += 1.0 if ranks[0] < ranks[1] else 0.5 if ranks[0] == ranks[1] else 0.0
            points[b] += 1.0 if ranks[1] < ranks[0] else 0.5 if ranks[0] == ranks[1] else 0.0
        trueskill = [s.name for s in standings(store)]
        orders = {
            "trueskill": trueskill,
            "bradley-terry": [r.name for r in bradley_terry(results, bootstrap=0)],
            "points": sorted(names, key=lambda n: (-points[n], trueskill.index(n))),
        }
        return orders, len(results), seconds


def tau(order: list[str], reference: list[str]) -> float:
    position = {name: k for k, name in enumerate(reference)}
    return float(kendalltau([position[n] for n in order], range(len(order))).statistic)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entrants", type=int, default=32)
    parser.add_argument("--games", type=int, default=8, help="games per pairing (even)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    names = ladder(args.entrants)
    truth = sorted(names, key=lambda n: -strength(n))
    rr, rr_games, rr_seconds = run("round-robin", names, args.games, args.seed)
    swiss, swiss_games, swiss_seconds = run("swiss", names, args.games, args.seed)
    reference = rr["bradley-terry"]
    rounds = TournamentConfig(game="connect_four", entrants=tuple(names), games=args.games, format="swiss").swiss_rounds()
    print(f"{len(names)} entrants on connect_four, {args.games} games per pairing")
    print(f"  round-robin: {rr_games:6d} games in {rr_seconds:6.1f} s")
    print(f"  swiss ({rounds} rounds): {swiss_games:6d} games in {swiss_seconds:6.1f} s "
          f"({swiss_games / rr_games:.0%} of the round-robin's games)")
    print("Kendall tau against the round-robin's Bradley-Terry order (1 = same order):")
    for view in ("points", "trueskill", "bradley-terry"):
        print(f"  swiss by {view:<14}: {tau(swiss[view], reference):+.3f}    "
              f"(round-robin by {view}: {tau(rr[view], reference):+.3f})")
    print("Kendall tau against the simulation ladder (more simulations, stronger):")
    print(f"  round-robin (Bradley-Terry): {tau(rr['bradley-terry'], truth):+.3f}   "
          f"swiss (TrueSkill): {tau(swiss['trueskill'], truth):+.3f}")


if __name__ == "__main__":
    main()
