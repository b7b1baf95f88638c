"""Connect four league: the champion against OpenSpiel's MCTS after N minutes of `league train`,
and training throughput next to pure rollout throughput on the same game and batch size.

Usage:
    python bench/league_connect_four.py [--minutes 30] [--every 5] [--config connect_four]
"""

from __future__ import annotations

import argparse
import time

import games
from common import champion_entrant, config_from, match, train_for
from agents.baselines import make_baseline
from league.play.runner import Entrant, run, schedule


def rollout_rate(league, seconds: float = 20.0) -> float:
    """Steps/s of the runner alone: the learners' current policies (exploring) play each other, no learning."""
    spec = league.spec
    names = list(league.learners)
    me = Entrant(names[0], league.learners[names[0]].policy(), explore=True)
    other = Entrant(names[-1] + "#", league.learners[names[-1]].policy(), explore=True)
    steps, start, k = 0, time.perf_counter(), 0
    while time.perf_counter() - start < seconds:
        records = run(league.game, schedule(spec, (me, other), league.config.round_games, seed=k), batch=league.config.batch_games)
        steps += sum(r.length for r in records)
        k += 1
    return steps / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--every", type=float, default=5.0, help="minutes between evaluations")
    parser.add_argument("--config", default="connect_four")
    parser.add_argument("--games", type=int, default=50, help="games per evaluation (sides alternated)")
    parser.add_argument("--workers", type=int, default=None, help="actor processes (league train --workers; default: all cores but one)")
    args = parser.parse_args()
    config = config_from(args.config)
    spec = games.load("connect_four").spec
    mcts100 = Entrant("mcts:100", make_baseline("mcts:100", spec))
    rows = []
    throughput = []

    def measure(elapsed: float, league) -> None:
        steps = sum(league.steps.values())
        if elapsed > 0:
            throughput.append(league.steps_per_second)
        champion = champion_entrant(league)
        result = match("connect_four", champion, mcts100, args.games)
        rows.append((elapsed / 60, steps, len(league.snapshots), champion.name, result))
        live = "  ".join(f"{name} {match('connect_four', Entrant(name, l.policy(), explore=False), mcts100, args.games)[0]:.2f}"
                         for name, l in league.learners.items())
        print(f"  {elapsed / 60:6.1f} min {steps:>10,} steps  pool {len(league.snapshots):3d}  champion {champion.name:<12}"
              f" vs mcts:100 {result[0]:.2f} (W{result[1]} D{result[2]} L{result[3]});  learners vs mcts:100: {live}",
              flush=True)

    print(f"connect four league ({', '.join(f'{l.name}:{l.algo}' for l in config.learners)}), "
          f"{args.minutes:g} minutes of training, champion vs mcts:100 every {args.every:g} min, "
          f"{args.workers or 'default'} actor processes")
    league = train_for(config, args.minutes * 60, args.every * 60, measure, workers=args.workers)
    champion = champion_entrant(league)
    final100 = match("connect_four", champion, mcts100, 100)
    final1000 = match("connect_four", champion, Entrant("mcts:1000", make_baseline("mcts:1000", spec)), 100)
    train_rate = league.steps_per_second
    pure = rollout_rate(league)
    print(f"final champion {champion.name}: vs mcts:100 {final100[0]:.2f} (W{final100[1]} D{final100[2]} L{final100[3]}), "
          f"vs mcts:1000 {final1000[0]:.2f} (W{final1000[1]} D{final1000[2]} L{final1000[3]}) over 100 games each")
    learn = league.timings["learn"] / max(league.timings["round"], 1e-9)
    print(f"throughput: training {train_rate:,.0f} env steps/s (last round), pure rollout {pure:,.0f} steps/s "
          f"with the same policies and batch: {train_rate / pure:.2f} of rollout speed; the learners' updates "
          f"took {learn:.0%} of the rounds' time")


if __name__ == "__main__":
    main()
