"""Tic-tac-toe league: can the champion hold a perfect player (OpenSpiel alpha-beta) to draws?

Trains `league train`'s loop for N minutes, then plays the champion 100 games against a
perfect player that picks uniformly among optimal moves, 50 on each side. Target: 0 losses.

Usage:
    python bench/league_tic_tac_toe.py [--minutes 10] [--config tic_tac_toe]
"""

from __future__ import annotations

import argparse

import games
from common import champion_entrant, config_from, match, train_for
from agents.baselines import make_baseline
from league.play.runner import Entrant


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--every", type=float, default=2.0)
    parser.add_argument("--config", default="tic_tac_toe")
    args = parser.parse_args()
    config = config_from(args.config)
    spec = games.load("tic_tac_toe").spec
    perfect = Entrant("alphabeta", make_baseline("alphabeta", spec))
    rand = Entrant("random", make_baseline("random", spec))

    def measure(elapsed: float, league) -> None:
        champion = champion_entrant(league)
        vs_perfect = match("tic_tac_toe", champion, perfect, 40)
        vs_random = match("tic_tac_toe", champion, rand, 40)
        print(f"  {elapsed / 60:5.1f} min {sum(league.steps.values()):>9,} steps  champion {champion.name:<10}"
              f" vs alphabeta W{vs_perfect[1]} D{vs_perfect[2]} L{vs_perfect[3]}   vs random {vs_random[0]:.2f}", flush=True)

    print(f"tic-tac-toe league ({', '.join(f'{l.name}:{l.algo}' for l in config.learners)}), {args.minutes:g} minutes")
    league = train_for(config, args.minutes * 60, args.every * 60, measure)
    champion = champion_entrant(league)
    final = match("tic_tac_toe", champion, perfect, 100, seed=7)
    first = match("tic_tac_toe", champion, rand, 100, seed=7)
    print(f"final champion {champion.name} vs the perfect player, 100 games (50 per side): "
          f"W{final[1]} D{final[2]} L{final[3]}  (target: 0 losses); vs random {first[0]:.2f}")


if __name__ == "__main__":
    main()
