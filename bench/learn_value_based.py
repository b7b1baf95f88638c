"""Learning curves of the value-based learners (IQL, VDN, QMIX), printed as tables.

Experiments (each stops at its step budget or its wall-clock budget, whichever comes first):

  spread   VDN and QMIX teams on simple_spread (cooperative, 3 agents, 25 steps). Metric: the
           greedy team's mean return (summed over the 3 agents) on fixed evaluation seeds.
           References measured on the same seeds: the uniform-random team and the scripted
           nearest-landmark team. Target: at or above the scripted team.
  tag      QMIX and VDN predator teams on simple_tag against the scripted prey. Metric: tags
           per episode (steps with a predator touching the prey: a predator's return / 10).
           Reference measured in the same run: the scripted chasers against the scripted prey.
           Target: more tags per episode than the scripted chasers.
  ttt      IQL on tic_tac_toe, trained against uniform random. Metric: win/draw/loss rate of
           the greedy policy against random and against OpenSpiel MCTS (sides alternate).
           Target: >= 95% wins against random (the best response to random wins 96.7%:
           99.5% moving first, 93.9% second).

Wall-clock seconds are those of this process on a shared 2-core machine: noisy.

Usage:
    python bench/learn_value_based.py                      # everything, 20 min cap each
    python bench/learn_value_based.py --quick              # a smoke run of a few minutes
    python bench/learn_value_based.py --only spread --minutes 10 --spread-steps 1000000
    python bench/learn_value_based.py --only tag --tag-game 'simple_tag(vectorised=True)' --tag-config '{"replay_ratio": 8}'
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Callable

import numpy as np
import torch

import games
from common import tags_per_episode
from agents.baselines import MCTSPolicy, RandomPolicy, ScriptedPolicy
from agents.registry import make_learner
from league.play.runner import Entrant, play
from league.train.selfplay import evaluate, train


def table(title: str, header: list[str], rows: list[list]) -> None:
    """Print a plain fixed-width table."""
    cells = [[f"{x:.3f}" if isinstance(x, float) else str(x) for x in row] for row in rows]
    widths = [max(len(h), *(len(r[k]) for r in cells)) for k, h in enumerate(header)]
    print(f"\n{title}")
    print("  ".join(h.rjust(w) for h, w in zip(header, widths)))
    print("  ".join("-" * w for w in widths))
    for row in cells:
        print("  ".join(c.rjust(w) for c, w in zip(row, widths)))


def curve(game, learner, *, steps: int, seconds: float, every: int, measure: Callable[[], list], batch: int,
          opponents=(), label: str = "", piece: int = 5_000) -> list[list]:
    """Train until `steps` env steps or `seconds` of wall time; `measure()` after every `every`
    steps (and at the end) gives a row's metrics. Training goes in pieces of `piece` steps so
    the time cap is kept to within one piece."""
    start, chunk = time.perf_counter(), 0
    rows = [[0, 0.0, *measure()]]
    print(f"  {label}: {rows[-1]}", flush=True)
    next_point = every
    while learner.env_steps < steps and time.perf_counter() - start < seconds:
        train(game, learner, env_steps=min(piece, steps - learner.env_steps), opponents=opponents, batch=batch, seed=chunk)
        chunk += 1
        out_of_time = time.perf_counter() - start >= seconds
        if learner.env_steps >= next_point or learner.env_steps >= steps or out_of_time:
            next_point = (learner.env_steps // every + 1) * every
            rows.append([learner.env_steps, round(time.perf_counter() - start, 1), *measure()])
            print(f"  {label}: {rows[-1]}", flush=True)
    return rows


# -- simple_spread ----------------------------------------------------------------------------

def spread(args) -> None:
    game = games.load("simple_spread")
    n_eval = args.eval_episodes

    def team_return(policy) -> float:
        return evaluate(game, Entrant("team", policy), None, n_eval, seed=2024)

    references = {"random": team_return(RandomPolicy(game.spec)), "scripted": team_return(ScriptedPolicy(game.spec))}
    print(f"simple_spread references on {n_eval} episodes: random {references['random']:.2f}, "
          f"scripted nearest-landmark {references['scripted']:.2f}")
    for algorithm in args.spread_algos.split(","):
        config = json.loads(args.spread_config)
        print(f"{algorithm} config overrides: {config}")
        learner = make_learner(algorithm, game.spec, "spreader", config=config, seed=args.seed)
        rows = curve(game, learner, steps=args.spread_steps, seconds=args.minutes * 60, every=args.spread_every,
                     measure=lambda: [round(team_return(learner.frozen_policy()), 2)], batch=16, label=algorithm)
        best = max(r[2] for r in rows)
        table(f"{algorithm.upper()} on simple_spread: greedy team return (sum over 3 agents, 25 steps, {n_eval} episodes)"
              f" — random {references['random']:.2f}, scripted {references['scripted']:.2f}",
              ["env_steps", "wall_s", "team_return"], rows)
        verdict = "meets" if rows[-1][2] >= references["scripted"] else "misses"
        print(f"{algorithm}: final {rows[-1][2]:.2f}, best {best:.2f}; {verdict} the scripted target "
              f"({references['scripted']:.2f}) at the end of the budget")


# -- simple_tag -------------------------------------------------------------------------------

def tag(args) -> None:
    game = games.load(args.tag_game)
    prey = Entrant("scripted-prey", ScriptedPolicy(game.spec))
    n_eval = args.eval_episodes

    def tags(predators) -> float:
        return tags_per_episode(game, predators, prey, n_eval)

    references = {"random": tags(RandomPolicy(game.spec)), "scripted": tags(ScriptedPolicy(game.spec))}
    print(f"{game.ref} vs scripted prey, tags per episode on {n_eval} episodes: random chasers "
          f"{references['random']:.2f}, scripted chasers {references['scripted']:.2f}")
    config = json.loads(args.tag_config)
    print(f"config overrides: {config}")
    for algorithm in args.tag_algos.split(","):
        learner = make_learner(algorithm, game.spec, "predator", config=config, seed=args.seed)
        rows = curve(game, learner, steps=args.tag_steps, seconds=args.minutes * 60, every=args.tag_every,
                     measure=lambda learner=learner: [round(tags(learner.frozen_policy()), 3)], batch=args.tag_batch,
                     opponents=[prey], label=algorithm)
        table(f"{algorithm.upper()} predators vs scripted prey: tags per episode ({n_eval} episodes) — random chasers "
              f"{references['random']:.2f}, scripted chasers {references['scripted']:.2f}",
              ["env_steps", "wall_s", "tags_per_episode"], rows)
        verdict = "meets" if rows[-1][2] > references["scripted"] else "misses"
        print(f"{algorithm} predators: final {rows[-1][2]:.2f} tags/episode, best {max(r[2] for r in rows):.2f}; "
              f"{verdict} the scripted-chaser target ({references['scripted']:.2f})")


# -- tic-tac-toe ------------------------------------------------------------------------------

def outcomes(game, policy, opponent, n_games: int) -> tuple[float, float, float]:
    """(win, draw, loss) rates of `policy` against `opponent`, sides alternating."""
    records = play(game, (Entrant("me", policy), Entrant("them", opponent)), n_games, seed=2024)
    mine = [r.ranks[r.sides.index("me")] for r in records]
    other = [r.ranks[1 - r.sides.index("me")] for r in records]
    win = np.mean([m < o for m, o in zip(mine, other)])
    draw = np.mean([m == o for m, o in zip(mine, other)])
    return float(win), float(draw), float(1 - win - draw)


def ttt(args) -> None:
    game = games.load("tic_tac_toe")
    random = RandomPolicy(game.spec)
    mcts = MCTSPolicy(game.spec, args.mcts)
    config = json.loads(args.ttt_config)
    print(f"iql config overrides: {config}")
    learner = make_learner("iql", game.spec, "player", config=config, seed=args.seed)

    def measure() -> list:
        policy = learner.frozen_policy()
        w, d, l_ = outcomes(game, policy, random, args.ttt_eval)
        mw, md, ml = outcomes(game, policy, mcts, args.mcts_eval)
        return [round(w, 3), round(d, 3), round(l_, 3), round(mw, 3), round(md, 3), round(ml, 3)]

    rows = curve(game, learner, steps=args.ttt_steps, seconds=args.minutes * 60, every=args.ttt_every, measure=measure,
                 batch=16, opponents=[Entrant("random", random)], label="iql")
    table(f"IQL on tic_tac_toe, trained vs random: greedy win/draw/loss vs random ({args.ttt_eval} games) and vs "
          f"mcts:{args.mcts} ({args.mcts_eval} games); best response to random wins 0.967",
          ["env_steps", "wall_s", "win_rnd", "draw_rnd", "loss_rnd", f"win_mcts{args.mcts}", "draw_mcts", "loss_mcts"], rows)
    verdict = "meets" if rows[-1][2] >= 0.95 else "misses"
    print(f"iql: final {rows[-1][2]:.3f} wins vs random, best {max(r[2] for r in rows):.3f}; {verdict} the 0.95 target")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=["spread", "tag", "ttt"], action="append", help="run only these experiments")
    parser.add_argument("--minutes", type=float, default=20.0, help="wall-clock cap per learner (default 20)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--eval-episodes", type=int, default=200, help="evaluation episodes per point (particle worlds)")
    parser.add_argument("--spread-algos", default="vdn,qmix", help="comma-separated: vdn,qmix")
    parser.add_argument("--spread-config", default="{}", help="JSON config overrides for the spread learners")
    parser.add_argument("--tag-algos", default="vdn,qmix", help="comma-separated: vdn,qmix")
    parser.add_argument("--tag-game", default="simple_tag",
                        help="simple_tag, or simple_tag(vectorised=True): the same game stepped in numpy, 17x faster")
    parser.add_argument("--tag-config", default="{}", help="JSON config overrides for the tag learners")
    parser.add_argument("--ttt-config", default='{"hidden": [128, 128]}', help="JSON config overrides for IQL on tic_tac_toe")
    parser.add_argument("--tag-batch", type=int, default=64, help="simple_tag copies in lockstep")
    parser.add_argument("--spread-steps", type=int, default=1_500_000)
    parser.add_argument("--spread-every", type=int, default=100_000)
    parser.add_argument("--tag-steps", type=int, default=1_500_000)
    parser.add_argument("--tag-every", type=int, default=100_000)
    parser.add_argument("--ttt-steps", type=int, default=1_000_000)
    parser.add_argument("--ttt-every", type=int, default=100_000)
    parser.add_argument("--ttt-eval", type=int, default=2000, help="games against random per point")
    parser.add_argument("--mcts", type=int, default=100, help="MCTS simulations per move")
    parser.add_argument("--mcts-eval", type=int, default=100, help="games against MCTS per point")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (tiny networks: 1 is fastest)")
    parser.add_argument("--quick", action="store_true", help="small budgets: a smoke run of a few minutes")
    args = parser.parse_args()
    if args.quick:
        args.minutes = min(args.minutes, 2.0)
        args.spread_steps, args.spread_every = 60_000, 20_000
        args.tag_steps, args.tag_every = 60_000, 20_000
        args.ttt_steps, args.ttt_every = 30_000, 10_000
        args.eval_episodes, args.ttt_eval, args.mcts_eval = 50, 200, 20
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} thread(s); wall times are from a shared 2-core machine and noisy")
    for name, run in (("spread", spread), ("tag", tag), ("ttt", ttt)):
        if not args.only or name in args.only:
            run(args)


if __name__ == "__main__":
    main()
