"""simple_tag league: a QMIX predator team against a prey pool of MAPPO and MADDPG learners and
their snapshots. Every few minutes: each predator team's tags per episode and TrueSkill rating
against the pool, next to the scripted chasers' tags against the same pool. `--prey scripted` measures both
against the scripted prey instead (for a league whose prey is the scripted baseline,
runs/examples/simple_tag_scripted_prey.toml, where a QMIX and a VDN team learn side by side).

Usage:
    python bench/league_tag.py [--minutes 20] [--every 4] [--config simple_tag]
    python bench/league_tag.py --config simple_tag_scripted_prey --prey scripted
    python bench/league_tag.py --config simple_tag_scripted_prey --prey scripted --round-games 256 --lag 0
"""

from __future__ import annotations

import argparse

import numpy as np

import games
from common import config_from, train_for
from agents.baselines import make_baseline
from games.base import derive_seed
from league.play.runner import Entrant, GameTask, run

TAG_REWARD = 10.0  # each predator gets +10 per predator-prey contact in mpe2's simple_tag


def tags_against(game, predators: Entrant, prey: list[Entrant], n: int) -> float:
    """Mean tags per episode of `predators` against the prey pool, same seeds for everyone."""
    tasks = [GameTask(k, derive_seed(4242, k), (predators, prey[k % len(prey)])) for k in range(n)]
    records = run(game, tasks, batch=min(n, 64))
    seats = len(game.spec.sides[0].seats)
    return float(np.mean([r.returns[0] / (TAG_REWARD * seats) for r in records]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=20.0)
    parser.add_argument("--every", type=float, default=4.0)
    parser.add_argument("--config", default="simple_tag")
    parser.add_argument("--episodes", type=int, default=100)
    parser.add_argument("--prey", choices=["pool", "scripted"], default="pool",
                        help="measure against the league's prey pool, or the scripted prey")
    parser.add_argument("--lag", type=int, help="override the config's lag (0: the serial loop, in this process)")
    parser.add_argument("--round-games", type=int, help="override the config's round_games")
    args = parser.parse_args()
    overrides = {k: v for k, v in (("lag", args.lag), ("round_games", args.round_games)) if v is not None}
    config = config_from(args.config, **overrides)
    game = games.load(config.game)
    scripted = Entrant("scripted", make_baseline("scripted", game.spec))
    teams = [l.name for l in config.learners if l.algo in ("qmix", "vdn")]

    def measure(elapsed: float, league) -> None:
        if args.prey == "scripted":
            prey = [scripted]
        else:
            prey = [Entrant(n, l.policy(), explore=False) for n, l in league.learners.items() if l.role == "prey"]
            prey += [league.pool.entrant(h.name) for h in league.pool.historical("prey")]
        theirs = tags_against(game, scripted, prey, args.episodes)
        for team in teams:
            ours = tags_against(game, Entrant(team, league.learners[team].policy(), explore=False), prey, args.episodes)
            rating = league.store.rating(team)
            shown = f"{rating[0]:.2f} +- {rating[1]:.2f}" if rating else "-"
            print(f"  {elapsed / 60:5.1f} min  {league.learners[team].env_steps:8d} steps  prey pool {len(prey):3d}  "
                  f"{team} tags/episode {ours:5.2f}   scripted chasers {theirs:5.2f}   {team} TrueSkill {shown}",
                  flush=True)

    print(f"simple_tag league ({', '.join(f'{l.name}:{l.algo}:{l.role}' for l in config.learners)}), lag {config.lag}, "
          f"rounds of {config.round_games} games, {args.minutes:g} minutes")
    train_for(config, args.minutes * 60, args.every * 60, measure)


if __name__ == "__main__":
    main()
