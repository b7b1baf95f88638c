"""Learning curves of the actor-critic learners (MAPPO, MADDPG), printed as tables.

Sections, each with its own training budget in wall minutes (evaluation pauses the clock):

  c4      MAPPO self-play on connect four: each chunk of training plays its latest policy
          and one past snapshot drawn uniformly from those it kept (the untrained policy, then
          frozen_policy() every `--snapshot-every` env steps), half the games each. Win rate
          (draw = 1/2) of the greedy policy against uniform random and against OpenSpiel's
          MCTS with 100 simulations, sides alternated.
  tag     simple_tag prey against the scripted chasers: MAPPO, then MADDPG. Escape rate
          (episodes without a tag) and the prey's mean return.
  spread  MAPPO on simple_spread: the team's return summed over its 3 agents per episode,
          next to the scripted nearest-landmark team and uniform random.

Each row gives env steps (game steps in which the learner moved), training seconds,
and steps per second, so a curve reads per env step and per wall second alike. The
machine's cores are shared: wall times are noisy.

Usage:
    python bench/learn_actor_critic.py [--sections c4,tag,spread] [--c4-minutes 30]
        [--tag-minutes 10] [--spread-minutes 20] [--eval-every 60] [--seed 0] [--threads 1]
        [--c4-config JSON] [--tag-config JSON] [--maddpg-config JSON] [--spread-config JSON]
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any, Callable

import numpy as np
import torch

import games
from agents.baselines import RandomPolicy, ScriptedPolicy, make_baseline
from agents.maddpg import MADDPG
from agents.mappo import MAPPO
from league.play.runner import Entrant, play
from league.train.selfplay import evaluate, train

# Tuned settings per section (each overrides the learner's defaults; see the dataclasses).
C4 = {"conv": (32, 32), "hidden": (128,), "entropy_coef": 0.01, "rollout_steps": 32}
TAG = {"rollout_steps": 25, "epochs": 10, "minibatches": 2, "lr": 7e-4, "critic_lr": 7e-4}
MADDPG_TAG = {"replay_ratio": 1024 / 50, "learning_starts": 6400}  # one batch of 1024 every 50 env steps
SPREAD = {"rollout_steps": 25, "epochs": 10, "minibatches": 2, "lr": 7e-4, "critic_lr": 7e-4}


class Curve:
    """Trains in chunks until the budget is spent, evaluating every `eval_every` training seconds."""

    def __init__(self, title: str, columns: list[str]):
        self.title, self.columns = title, columns
        print(f"\n### {title}\n")
        print("| env steps | train s | steps/s | " + " | ".join(columns) + " |")
        print("|---:|---:|---:|" + "---:|" * len(columns))

    def row(self, steps: int, seconds: float, values: list[str]) -> None:
        rate = steps / seconds if seconds > 0 else 0.0
        print(f"| {steps} | {seconds:.0f} | {rate:.0f} | " + " | ".join(values) + " |", flush=True)

    def run(self, learner, budget_s: float, eval_every: float, chunk: Callable[[int], Any],
            measure: Callable[[], list[str]]) -> list[str]:
        clock, next_eval, k, last = 0.0, 0.0, 0, []
        while True:
            if clock >= next_eval or clock >= budget_s:
                last = measure()
                self.row(learner.env_steps, clock, last)
                next_eval += eval_every
            if clock >= budget_s:
                return last
            begin = time.perf_counter()
            chunk(k)
            clock += time.perf_counter() - begin
            k += 1


def connect_four(args) -> None:
    game = games.load("connect_four")
    spec = game.spec
    config = {**C4, **json.loads(args.c4_config)}
    learner = MAPPO(spec, "player", config=config, seed=args.seed)
    random = Entrant("random", RandomPolicy(spec))
    mcts = Entrant("mcts-100", make_baseline("mcts:100", spec))
    past: list[Any] = [learner.frozen_policy()]  # the untrained copy is the first past copy
    rng = np.random.default_rng(args.seed)
    kept = {"at": 0}

    def chunk(k: int) -> None:
        opponents = [Entrant("past", past[rng.integers(len(past))])]
        train(game, learner, env_steps=args.chunk, opponents=opponents, self_play=True, batch=args.copies,
              seed=args.seed * 1000 + k)
        if learner.env_steps - kept["at"] >= args.snapshot_every:
            past.append(learner.frozen_policy())
            kept["at"] = learner.env_steps

    def measure() -> list[str]:
        me = Entrant("mappo", learner.frozen_policy())
        return [f"{evaluate(game, me, random, args.games):.3f}", f"{evaluate(game, me, mcts, args.mcts_games):.3f}",
                str(len(past))]

    print(f"\nconnect four, MAPPO config {config}")
    curve = Curve("MAPPO self-play on connect four: win rate of the greedy policy",
                  [f"vs random ({args.games})", f"vs MCTS-100 ({args.mcts_games})", "past copies"])
    curve.run(learner, args.c4_minutes * 60, args.eval_every, chunk, measure)


def prey_measure(game, prey: Entrant, chasers: Entrant, n: int) -> tuple[float, float]:
    """(escape rate, prey mean return) of `prey` against `chasers` over n seeded episodes."""
    records = play(game, (chasers, prey), n, seed=4242, batch=min(n, 100))
    escaped = np.mean([r.ranks[1] == 0 for r in records])
    return float(escaped), float(np.mean([r.returns[1] for r in records]))


def simple_tag(args) -> None:
    game = games.load("simple_tag")
    spec = game.spec
    chasers = Entrant("scripted-chasers", ScriptedPolicy(spec))
    for name, policy in (("scripted prey", ScriptedPolicy(spec)), ("random prey", RandomPolicy(spec))):
        escaped, ret = prey_measure(game, Entrant(name, policy), chasers, args.episodes)
        print(f"reference: {name} vs scripted chasers: escape {escaped:.3f}, prey return {ret:.2f}")
    budget = args.tag_minutes * 60
    for algo, cls, config in (("MAPPO", MAPPO, {**TAG, **json.loads(args.tag_config)}),
                              ("MADDPG", MADDPG, {**MADDPG_TAG, **json.loads(args.maddpg_config)})):
        learner = cls(spec, "prey", config=config, seed=args.seed)

        def chunk(k: int, learner=learner) -> None:
            train(game, learner, env_steps=args.chunk // 4, opponents=[chasers], batch=64, seed=args.seed * 1000 + k)

        def measure(learner=learner) -> list[str]:
            escaped, ret = prey_measure(game, Entrant("prey", learner.frozen_policy()), chasers, args.episodes)
            return [f"{escaped:.3f}", f"{ret:.2f}"]

        print(f"\nsimple_tag prey, {algo} config {config}")
        curve = Curve(f"{algo} prey vs scripted chasers on simple_tag",
                      [f"escape rate ({args.episodes})", "prey return"])
        curve.run(learner, budget, args.eval_every, chunk, measure)


def simple_spread(args) -> None:
    game = games.load("simple_spread")
    spec = game.spec
    for name, policy in (("scripted", ScriptedPolicy(spec)), ("random", RandomPolicy(spec))):
        score = evaluate(game, Entrant(name, policy), Entrant(name, policy), args.episodes)
        print(f"reference: {name} team return {score:.2f}")
    config = {**SPREAD, **json.loads(args.spread_config)}
    learner = MAPPO(spec, "spreader", config=config, seed=args.seed)

    def chunk(k: int) -> None:
        train(game, learner, env_steps=args.chunk // 6, batch=64, seed=args.seed * 1000 + k)  # 3 seats move per step

    def measure() -> list[str]:
        me = Entrant("mappo", learner.frozen_policy())
        return [f"{evaluate(game, me, me, args.episodes):.2f}"]

    print(f"\nsimple_spread, MAPPO config {config}")
    curve = Curve("MAPPO on simple_spread: team return (sum over 3 agents, 25 steps)", [f"team return ({args.episodes})"])
    curve.run(learner, args.spread_minutes * 60, args.eval_every, chunk, measure)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sections", default="c4,tag,spread", help="comma-separated: c4, tag, spread")
    parser.add_argument("--c4-minutes", type=float, default=30.0)
    parser.add_argument("--tag-minutes", type=float, default=10.0, help="per learner")
    parser.add_argument("--spread-minutes", type=float, default=20.0)
    parser.add_argument("--eval-every", type=float, default=60.0, help="training seconds between evaluations")
    parser.add_argument("--chunk", type=int, default=20000, help="env steps per training call")
    parser.add_argument("--copies", type=int, default=64, help="connect four: games played in lockstep while training")
    parser.add_argument("--snapshot-every", type=int, default=100000, help="connect four: env steps between kept past copies")
    parser.add_argument("--games", type=int, default=200, help="connect four games vs random per evaluation")
    parser.add_argument("--mcts-games", type=int, default=100, help="connect four games vs MCTS-100 per evaluation")
    parser.add_argument("--episodes", type=int, default=200, help="particle-world episodes per evaluation")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--c4-config", default="{}", help="JSON overrides of the connect four MAPPO config")
    parser.add_argument("--tag-config", default="{}", help="JSON overrides of the simple_tag MAPPO config")
    parser.add_argument("--maddpg-config", default="{}", help="JSON overrides of the simple_tag MADDPG config")
    parser.add_argument("--spread-config", default="{}", help="JSON overrides of the simple_spread MAPPO config")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    sections = {"c4": connect_four, "tag": simple_tag, "spread": simple_spread}
    for name in args.sections.split(","):
        sections[name.strip()](args)


if __name__ == "__main__":
    main()
