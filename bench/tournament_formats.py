"""Does a Swiss tournament rank a large field like a round-robin does, for a fraction of the games?
And what does keeping every game's moves cost a tournament (`--only moves`)?

Field: 32 entrants on connect four: uniform random and OpenSpiel's MCTS bot with 31
simulation budgets from 2 to ~600 (a geometric ladder, so strength grows along it).
Both tournaments play paired games (shared seeds, sides swapped). Prints games played,
wall time, and Kendall's tau between each ranking and the round-robin's Bradley-Terry order
(and the "true" order of the simulation ladder).

Moves: the same connect-four round-robin (four uniform-random players: the cheapest
entrants, so that the runner and the store weigh most; `--moves-games` games a pairing,
batch 128) played with its moves recorded and stored, and without (the runner told not to
record them), alternately `--repeats` times in this process; prints the median games/s of
each and the cost. Target (issue 18): < 5%.

Usage:
    python bench/tournament_formats.py [--entrants 32] [--games 8] [--seed 0] [--only swiss|moves]
"""

from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np
from scipy.stats import kendalltau

import games
from league.play.backends import LocalBackend
from league.play.entrants import resolve
from league.play.runner import Entrant
from league.play.runner import run as run_games
from league.rate.standings import standings
from league.rate.ratings import Rater
from league.store.database import Store
from league.tournament.config import TournamentConfig
from league.tournament.formats import play_tournament
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


class WithoutMoves(LocalBackend):
    """The local runner told not to record moves: the games are stored without them."""

    def run(self, game, tasks, *, on_record, batch=128, forfeits=False, move_timeout=None, entrant_specs=None):
        run_games(game, tasks, batch=batch, on_record=on_record, collect=False, forfeits=forfeits,
                  move_timeout=move_timeout, record_moves=False)


def moves_cost(games_per_pairing: int, repeats: int) -> None:
    from agents.baselines import RandomPolicy

    game = games.load("connect_four")
    field = [Entrant(f"random-{k}", RandomPolicy(game.spec)) for k in range(4)]
    config = TournamentConfig(game="connect_four", entrants=tuple(e.name for e in field), games=games_per_pairing)
    rates: dict[str, list[float]] = {"with moves": [], "without": []}
    sizes: dict[str, int] = {}
    for _ in range(repeats):
        for label, backend in (("with moves", LocalBackend()), ("without", WithoutMoves())):
            with tempfile.TemporaryDirectory() as tmp, Store.open(tmp, create=True) as store:
                store.init_run("bench", game.ref, {})
                start = time.perf_counter()
                result = play_tournament(store, game, field, config, Rater(), batch=128, backend=backend)
                rates[label].append(result.played / (time.perf_counter() - start))
                stored = store.matches()
                sizes[label] = sum(len(m.moves or "") for m in stored) // max(1, len(stored))
    median = {label: float(np.median(values)) for label, values in rates.items()}
    print(f"connect_four round-robin, {len(field)} uniform-random entrants, {games_per_pairing} games a "
          f"pairing ({result.played} games), batch 128, {repeats} runs each, alternating")
    for label, value in median.items():
        print(f"  {label:10}: {value:7.1f} games/s (median; runs {', '.join(f'{r:.1f}' for r in rates[label])}); "
              f"{sizes[label]} bytes of moves a game")
    print(f"  cost of keeping moves: {1 - median['with moves'] / median['without']:+.1%} of throughput")
    # the runner alone (no store), where recording is the largest share of the work
    from games.base import derive_seed
    from league.play.runner import GameTask

    tasks = [GameTask(k, derive_seed(7, k), (field[k % 2], field[1 - k % 2])) for k in range(2000)]
    alone: dict[bool, list[float]] = {True: [], False: []}
    for _ in range(repeats):
        for record in (True, False):
            start = time.perf_counter()
            run_games(game, tasks, batch=128, collect=False, record_moves=record)
            alone[record].append(len(tasks) / (time.perf_counter() - start))
    with_, without = float(np.median(alone[True])), float(np.median(alone[False]))
    print(f"  the runner alone, {len(tasks)} games: {with_:.0f} vs {without:.0f} games/s with and without moves "
          f"(median of {repeats}): {1 - with_ / without:+.1%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entrants", type=int, default=32)
    parser.add_argument("--games", type=int, default=8, help="games per pairing (even)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", choices=("swiss", "moves"), default=None, help="one of the two measures")
    parser.add_argument("--moves-games", type=int, default=100, help="moves: games per pairing")
    parser.add_argument("--repeats", type=int, default=3, help="moves: runs of each variant")
    args = parser.parse_args()
    if args.only != "swiss":
        moves_cost(args.moves_games, args.repeats)
        if args.only == "moves":
            return
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
