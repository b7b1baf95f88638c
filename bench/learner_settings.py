"""Which learner settings learn fastest per second of compute: a side-by-side table.

Each setting trains a fresh learner (same seed) on one game for the same compute budget and is
scored against uniform random at fixed points of that budget (1 a win, 0.5 a draw; sides
alternate; the greedy policy; evaluation time is not charged); a one-side game (simple_spread)
reports the greedy team's mean return instead. The budget is CPU seconds of
this process with one torch thread: on this shared 2-core machine wall-clock seconds depend on
what the other sessions run, CPU seconds do not; on a quiet core they are the same. Wall
seconds are printed as well.

IQL trains against uniform random; MAPPO trains by self-play (its league setting); `--self-play`
or `--no-self-play` chooses for either. Both are
scored against uniform random, or the reference `--against` names (e.g. mcts:25).
Settings are `key=value` lists of the learner's config, e.g.
`batch_size=512,replay_ratio=16` or `own_view=false`.

Usage:
    python bench/learner_settings.py                                  # IQL on tic_tac_toe, ~5 CPU-minutes
    python bench/learner_settings.py --game connect_four --seconds 90
    python bench/learner_settings.py --algo mappo --game connect_four \\
        --settings epochs=5,minibatches=4 epochs=2,minibatches=2 hidden=128,128,epochs=2,minibatches=2
"""

from __future__ import annotations

import argparse
import time

import torch

import games
from agents.baselines import RandomPolicy, make_baseline
from agents.registry import make_learner
from league.play.runner import Entrant
from league.train.selfplay import evaluate, train
from league.train.tactics import positions, tactics

IQL_SETTINGS = ["batch_size=128,replay_ratio=32", "batch_size=512,replay_ratio=32", "batch_size=512,replay_ratio=16",
                "batch_size=512,replay_ratio=8", "batch_size=1024,replay_ratio=16"]


def parse(setting: str) -> dict:
    """'batch_size=512,replay_ratio=16,hidden=128,128' -> {'batch_size': 512, 'replay_ratio': 16.0, 'hidden': (128, 128)}"""
    out: dict = {}
    key = None
    for part in setting.split(","):
        if "=" in part:
            key, value = part.split("=", 1)
            out[key] = value
        else:  # a further entry of a list value
            out[key] = f"{out[key]},{part}"
    for key, value in out.items():
        if value in ("true", "false"):
            out[key] = value == "true"
            continue
        items = [float(v) if "." in v or "e" in v else int(v) for v in value.split(",")]
        out[key] = tuple(items) if key in ("hidden", "conv") else items[0]
        if key == "replay_ratio":
            out[key] = float(out[key])
    return out


def curve(game, algo: str, config: dict, *, seconds: float, points: int, games_per_eval: int, piece: int,
          seed: int, against: str = "random", self_play: bool | None = None, probe=None,
          opening_plies: int = 0) -> dict:
    learner = make_learner(algo, game.spec, game.spec.sides[0].role, config=config, seed=seed)
    random = Entrant("random", RandomPolicy(game.spec))
    reference = Entrant(against, make_baseline(against, game.spec))
    if self_play is None:
        self_play = algo == "mappo"
    opponents = [] if self_play else [random]
    cpu, wall, scores, k = 0.0, 0.0, [], 0
    marks = [seconds * (j + 1) / points for j in range(points)]
    while marks:
        started, started_wall = time.process_time(), time.perf_counter()
        train(game, learner, env_steps=piece, opponents=opponents, self_play=self_play, batch=64, seed=seed * 1000 + k,
              opening_plies=opening_plies)
        cpu += time.process_time() - started
        wall += time.perf_counter() - started_wall
        k += 1
        if cpu >= marks[0]:
            marks.pop(0)
            scores.append(evaluate(game, Entrant(algo, learner.frozen_policy()), reference, games_per_eval, seed=4242))
            found = ""
            if probe is not None:
                took, safe = tactics(learner.frozen_policy(), game.spec, probe)
                found = f"; win in one taken {took:.2f}, safe when threatened {safe:.2f} (random {probe.random_safe_rate:.2f})"
            print(f"    {config}: {cpu:6.1f} cpu-s, {learner.env_steps:>8,} env steps -> {scores[-1]:.3f}{found}", flush=True)
    return {"scores": scores, "env_steps": learner.env_steps, "updates": learner.updates, "cpu": cpu, "wall": wall}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--algo", default="iql")
    parser.add_argument("--game", default="tic_tac_toe")
    parser.add_argument("--settings", nargs="+", help="key=value,... per learner (default: IQL batch/replay grid)")
    parser.add_argument("--seconds", type=float, default=60.0, help="CPU seconds of training per setting")
    parser.add_argument("--points", type=int, default=3, help="evaluations along the budget")
    parser.add_argument("--games", type=int, default=200, help="games per evaluation")
    parser.add_argument("--against", default="random", help="the reference the learner is scored against, e.g. mcts:25")
    parser.add_argument("--self-play", action=argparse.BooleanOptionalAction, default=None,
                        help="train by self-play (MAPPO's default) or against uniform random (IQL's default)")
    parser.add_argument("--piece", type=int, default=1_000, help="env steps between budget checks")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--opening-plies", type=int, default=0,
                        help="training games start after 0 to N random moves (turn-based games without chance)")
    parser.add_argument("--tactics", action="store_true",
                        help="also print how often the greedy policy takes a win in one and avoids giving one "
                             "(league/train/tactics.py; connect_four, tic_tac_toe)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    game = games.load(args.game)
    settings = args.settings or (IQL_SETTINGS if args.algo == "iql" else ["epochs=5,minibatches=4"])
    print(f"{args.algo} on {args.game}, {args.seconds:g} CPU-s per setting, device cpu, torch threads 1, seed {args.seed}")
    probe = positions(args.game) if args.tactics else None
    rows = []
    for setting in settings:
        rows.append((setting, curve(game, args.algo, parse(setting), seconds=args.seconds, points=args.points,
                                    games_per_eval=args.games, piece=args.piece, seed=args.seed,
                                    against=args.against, self_play=args.self_play,
                                    probe=probe, opening_plies=args.opening_plies)))
    marks = [f"@{args.seconds * (j + 1) / args.points:g}s" for j in range(args.points)]
    header = ["setting", *marks, "env_steps", "updates", "env_steps/cpu_s", "wall_s"]
    cells = [[setting, *(f"{s:.3f}" for s in r["scores"]), f"{r['env_steps']:,}", f"{r['updates']:,}",
              f"{r['env_steps'] / r['cpu']:,.0f}", f"{r['wall']:.0f}"] for setting, r in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(header)]
    what = (f"score against {args.against} (1 win, 0.5 draw)" if len(game.spec.sides) > 1
            else "mean team return of the greedy team")
    print(f"\n{what} after the CPU seconds shown")
    print("  ".join(h.rjust(w) for h, w in zip(header, widths)))
    for c in cells:
        print("  ".join(x.rjust(w) for x, w in zip(c, widths)))


if __name__ == "__main__":
    main()
