"""Do openings make tournaments between deterministic players measure something?

For hex (5x5), connect four and tic-tac-toe: four greedy MAPPO snapshots (two untrained
networks of different seeds, and one learner after --steps/3 and --steps steps against uniform
random) play a round-robin, once without openings, once with the league's default and once with
`--openings random:4`. Prints the share of distinct games (distinct move sequences among all
games) and, per pairing, the width of the Elo 95% interval after 10, 20, 40 and 80 games.
Without openings a greedy pairing replays one pair of games: its "interval" is a point or
infinite, whatever the number of games. Target (issue 18): >= 90% distinct with random:4, and
intervals that narrow as games are added.

Usage:
    python bench/tournament_openings.py [--steps 15000] [--games 80] [--only hex,connect_four,tic_tac_toe]
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import games  # noqa: E402
from agents.baselines import RandomPolicy  # noqa: E402
from agents.registry import make_learner  # noqa: E402
from league.play.runner import Entrant  # noqa: E402
from league.rate.ratings import Rater  # noqa: E402
from league.rate.sprt import Pentanomial, elo_interval  # noqa: E402
from league.results import score_against  # noqa: E402
from league.store.database import Store  # noqa: E402
from league.threads import limit_threads  # noqa: E402
from league.tournament.config import TournamentConfig  # noqa: E402
from league.tournament.formats import play_tournament  # noqa: E402
from league.train.selfplay import train  # noqa: E402

GAMES = {"hex": "openspiel:hex(board_size=5)", "connect_four": "connect_four", "tic_tac_toe": "tic_tac_toe"}
CHECKPOINTS = (10, 20, 40, 80)


def snapshots(game, steps: int) -> list[Entrant]:
    """Four greedy players: two untrained nets, one learner at steps/3 and at steps (against random)."""
    out = [Entrant(f"untrained-{seed}", make_learner("mappo", game.spec, "player", seed=seed).frozen_policy())
           for seed in (1, 2)]
    learner = make_learner("mappo", game.spec, "player", seed=3)
    done = 0
    for target in (steps // 3, steps):
        train(game, learner, env_steps=target - done, opponents=[Entrant("random", RandomPolicy(game.spec))], batch=32)
        done = target
        out.append(Entrant(f"trained-{target // 1000}k", learner.frozen_policy()))
    return out


def widths(store: Store, a: str, b: str, tournament_id: int) -> list[float]:
    """Width of a's Elo 95% interval against b after the first 10, 20, 40, 80 games (in schedule order)."""
    by_pair: dict[int, float] = {}
    games_of = sorted((m.game_index, m) for m in store.matches(tournament_id=tournament_id) if set(m.sides) == {a, b})
    out, pairs = [], []
    for n, (index, m) in enumerate(games_of, start=1):
        mine = m.sides.index(a)
        s = score_against(m.ranks, mine, 1 - mine)
        k = index // 2
        if k in by_pair:
            pairs.append(by_pair.pop(k) + s)
        else:
            by_pair[k] = s
        if n in CHECKPOINTS:
            _, low, high = elo_interval(Pentanomial.from_pairs(pairs))
            out.append(high - low)
    return out


def width_text(w: float) -> str:
    """A width; "-" where the interval is a point at infinity (every pair won, or every pair lost)."""
    return "-" if math.isnan(w) else "inf" if math.isinf(w) else f"{w:.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=15000, help="training steps of the strongest snapshot")
    parser.add_argument("--games", type=int, default=80, help="games per pairing (even)")
    parser.add_argument("--only", default=",".join(GAMES), help="comma-separated: hex, connect_four, tic_tac_toe")
    args = parser.parse_args()
    limit_threads()
    for key in args.only.split(","):
        game = games.load(GAMES[key])
        start = time.perf_counter()
        field = snapshots(game, args.steps)
        names = tuple(e.name for e in field)
        print(f"\n{game.ref}: {', '.join(names)} ({time.perf_counter() - start:.0f} s to make them); "
              f"round-robin, {args.games} games a pairing")
        print(f"  {'openings':10} {'distinct games':>17}   Elo 95% interval width after {'/'.join(map(str, CHECKPOINTS))} "
              f"games, per pairing")
        for openings in ("none", "", "random:4"):
            config = TournamentConfig(game=game.ref, entrants=names, games=args.games, openings=openings)
            with tempfile.TemporaryDirectory() as tmp, Store.open(tmp, create=True) as store:
                store.init_run("bench", game.ref, {})
                result = play_tournament(store, game, field, config, Rater())
                matches = store.matches(tournament_id=result.tournament_id)
                distinct = len({m.moves for m in matches})
                rows = [widths(store, p.a, p.b, result.tournament_id) for p in result.pairings]
            label = openings or f"default:{result.openings.source.partition(':')[2] or 'none'}"
            shown = "  ".join("/".join(width_text(w) for w in row) for row in rows)
            print(f"  {label:10} {distinct:5d}/{len(matches):<5d} {distinct / len(matches):5.0%}   {shown}"
                  + (f"   ({result.openings.skipped} openings skipped)" if result.openings.skipped else ""))


if __name__ == "__main__":
    main()
