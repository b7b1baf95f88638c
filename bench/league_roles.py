"""Connect four with AlphaStar's roles: the main agent's win rate against MCTS-100 after the same
wall time, with exploiters (one main exploiter, one league exploiter) and without (the main
agent alone, PFSP over its own past).

Usage:
    python bench/league_roles.py [--minutes 20] [--config connect_four_roles]
"""

from __future__ import annotations

import argparse

import games
from common import config_from, match, train_for
from agents.baselines import make_baseline
from league.train.config import TrainConfig
from league.play.runner import Entrant


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=20.0)
    parser.add_argument("--config", default="connect_four_roles")
    parser.add_argument("--games", type=int, default=100)
    args = parser.parse_args()
    with_roles = config_from(args.config)
    main_spec = next(l for l in with_roles.learners if l.position == "main")
    alone = TrainConfig.from_mapping({**_plain(with_roles), "learners": [{**_plain_learner(main_spec)}]})
    spec = games.load("connect_four").spec
    mcts = Entrant("mcts:100", make_baseline("mcts:100", spec))
    results = {}
    for label, config in (("with exploiters", with_roles), ("main agent alone", alone)):
        print(f"{label}: {', '.join(f'{l.name}:{l.position}' for l in config.learners)}, {args.minutes:g} minutes", flush=True)
        league = train_for(config, args.minutes * 60, args.minutes * 60, lambda elapsed, league: None)
        main = Entrant(main_spec.name, league.learners[main_spec.name].policy(), explore=False)
        results[label] = match("connect_four", main, mcts, args.games)
        steps = league.steps[main_spec.name]
        r = results[label]
        print(f"  main agent after {steps:,} of its own steps: vs mcts:100 {r[0]:.2f} (W{r[1]} D{r[2]} L{r[3]})", flush=True)
    print("main agent vs mcts:100, same wall time:")
    for label, r in results.items():
        print(f"  {label:<18} {r[0]:.2f}")


def _plain(config: TrainConfig) -> dict:
    from dataclasses import asdict

    return asdict(config)


def _plain_learner(spec) -> dict:
    from dataclasses import asdict

    return {k: v for k, v in asdict(spec).items() if k != "position"} | {"position": "main"}


if __name__ == "__main__":
    main()
