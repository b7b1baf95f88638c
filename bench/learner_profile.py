"""Where a learner's time goes when the runner feeds it: observe vs update, per env step.

Connect four, the learner against uniform random (IQL) or itself (MAPPO), fed by
`league.train.selfplay.train` exactly as in tests and benches. Prints, per learner: env steps
per CPU second of the whole loop (and per wall second), CPU microseconds of `observe` and of
`update` per env step (env step = a game step in which the learner moved), gradient steps,
and CPU milliseconds per gradient step (IQL) or per PPO update (MAPPO). Times are CPU time of
this process (one torch thread): on this shared 2-core machine wall time depends on the
other sessions' load, CPU time much less. `--profile` adds a cProfile of the run.

`--baseline DIR` runs the same measurement on another checkout (e.g. `git archive HEAD`
unpacked into DIR) in a subprocess and prints both side by side, so before/after figures
come from one command.

Usage:
    python bench/learner_profile.py                     # ~1 minute on 2 shared cores
    python bench/learner_profile.py --steps 40000 --profile iql
    python bench/learner_profile.py --baseline /tmp/orig
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import subprocess
import sys
import time
from pathlib import Path

import torch

import games
from agents.baselines import RandomPolicy
from agents.registry import make_learner
from league.play.runner import Entrant
from league.train.selfplay import train


def measure(algo: str, steps: int, batch: int, profile: bool, config: dict | None = None) -> dict[str, float]:
    game = games.load("connect_four")
    learner = make_learner(algo, game.spec, "player", config=config, seed=0)
    timers = {"observe": 0.0, "update": 0.0}
    observe, update = learner.observe, learner.update

    def timed_observe(*args, **kwargs):
        started = time.process_time()
        observe(*args, **kwargs)
        timers["observe"] += time.process_time() - started

    def timed_update():
        started = time.process_time()
        out = update()
        timers["update"] += time.process_time() - started
        return out

    learner.observe, learner.update = timed_observe, timed_update  # bench-only instrumentation
    opponents = [Entrant("random", RandomPolicy(game.spec))] if algo == "iql" else []
    # warm up past learning_starts / the first rollout, then measure
    train(game, learner, env_steps=2_000, opponents=opponents, self_play=algo != "iql", batch=batch, seed=0)
    timers.update(observe=0.0, update=0.0)
    start_steps, start_updates = learner.env_steps, learner.updates
    profiler = cProfile.Profile() if profile else None
    started, started_cpu = time.perf_counter(), time.process_time()
    if profiler:
        profiler.enable()
    train(game, learner, env_steps=steps, opponents=opponents, self_play=algo != "iql", batch=batch, seed=1)
    if profiler:
        profiler.disable()
    wall, cpu = time.perf_counter() - started, time.process_time() - started_cpu
    env_steps, updates = learner.env_steps - start_steps, learner.updates - start_updates
    if profiler:
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(30)
    return {"env_steps": env_steps, "cpu_s": cpu, "wall_s": wall, "steps_per_cpu_s": env_steps / cpu,
            "steps_per_wall_s": env_steps / wall,
            "observe_us_per_step": 1e6 * timers["observe"] / env_steps,
            "update_us_per_step": 1e6 * timers["update"] / env_steps,
            "updates": updates, "ms_per_update": 1e3 * timers["update"] / max(updates, 1),
            "learn_share": (timers["observe"] + timers["update"]) / cpu}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20_000, help="measured env steps per learner")
    parser.add_argument("--batch", type=int, default=64, help="game copies in lockstep")
    parser.add_argument("--algos", nargs="+", default=["iql", "mappo"])
    parser.add_argument("--profile", nargs="*", default=[], help="algorithms to cProfile (to stderr)")
    parser.add_argument("--baseline", help="another checkout to measure the same way, side by side")
    parser.add_argument("--config", action="append", default=[], metavar="ALGO=JSON",
                        help='settings for this checkout\'s learner, e.g. iql={"batch_size": 128, "replay_ratio": 32}')
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    torch.set_num_threads(1)
    configs = {algo: json.loads(text) for algo, _, text in (c.partition("=") for c in args.config)}
    rows = {algo: measure(algo, args.steps, args.batch, algo in args.profile, configs.get(algo)) for algo in args.algos}
    if args.json:
        print(json.dumps(rows))
        return
    columns = {"this checkout": rows}
    if args.baseline:
        env = {**os.environ, "PYTHONPATH": str(Path(args.baseline).resolve())}
        command = [sys.executable, str(Path(args.baseline) / "bench" / "learner_profile.py"), "--json",
                   "--steps", str(args.steps), "--batch", str(args.batch), "--algos", *args.algos]
        script = Path(__file__).resolve()
        command[1] = str(script)  # this script, run against the baseline's packages
        out = subprocess.run(command, env=env, cwd=args.baseline, capture_output=True, text=True, check=True)
        columns = {"baseline": json.loads(out.stdout.strip().splitlines()[-1]), **columns}
    print(f"connect_four, {args.steps:,} measured env steps, {args.batch} copies, torch threads 1, device cpu"
          + (f"; this checkout's settings {configs}" if configs else ""))
    for algo in args.algos:
        print(f"\n{algo}")
        keys = list(rows[algo])
        print(f"  {'':22s}" + "".join(f"{name:>16s}" for name in columns))
        for key in keys:
            values = [columns[name][algo][key] for name in columns]
            print(f"  {key:22s}" + "".join(f"{v:>16,.2f}" if isinstance(v, float) else f"{v:>16,}" for v in values))
        if len(columns) == 2:
            base, new = (columns[name][algo] for name in columns)
            print(f"  speed-up of the whole loop (CPU time): {new['steps_per_cpu_s'] / base['steps_per_cpu_s']:.2f}x")


if __name__ == "__main__":
    main()
