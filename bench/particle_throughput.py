"""Particle-world throughput: mpe2 (one Python engine per copy) against its numpy port and VMAS (batched).

Sections, all in one process, one after the other:

  env    simple_tag with uniform-random actions through the league's VecEnv (what the runner
         sees: the adapter, numpy conversion and auto-reset included), at 1, 64 and 1,024
         copies: copy-steps per second on mpe2 (`simple_tag`), its numpy port
         (`simple_tag(vectorised=True)`, the same game) and VMAS (`simple_tag_vmas`), and
         their ratios to mpe2.
  train  training throughput, in the learner's transitions per second, through
         league.train.selfplay.train: QMIX predators against the scripted prey, and MAPPO prey
         against the scripted chasers; mpe2 at 64 copies (the trainer's default batch), its
         numpy port and VMAS at 64 and at 1,024 copies. Each is timed after a warm-up past the learner's first
         update. Target: VMAS >= 10x mpe2.
  learn  (only with --learn-minutes > 0) brief learning figures on VMAS: the greedy team return
         of QMIX and MAPPO on simple_spread_vmas, and QMIX predators' tags per episode on
         simple_tag_vmas against the scripted prey, beside random and scripted references.
         VMAS returns are on VMAS's own scale: never compare them with mpe2's.

Every figure is wall-clock time of this process on a shared 2-core machine: noisy. torch
runs one intra-op thread (--threads) for every backend alike.

Usage:
    python bench/particle_throughput.py                     # env and train, ~5 minutes
    python bench/particle_throughput.py --sections env --seconds 2
    python bench/particle_throughput.py --sections learn --learn-minutes 5
"""

from __future__ import annotations

import argparse
import time
from typing import Callable

import numpy as np
import torch

import games
from common import tags_per_episode
from agents.baselines import RandomPolicy, ScriptedPolicy
from agents.mappo import MAPPO
from agents.qmix import QMIX
from league.play.runner import Entrant
from league.train.selfplay import evaluate, train


def table(title: str, header: list[str], rows: list[list]) -> None:
    cells = [[f"{x:,.2f}" if isinstance(x, float) else f"{x:,}" if isinstance(x, int) else str(x) for x in row]
             for row in rows]
    widths = [max(len(h), *(len(r[k]) for r in cells)) for k, h in enumerate(header)]
    print(f"\n{title}")
    print("  ".join(h.rjust(w) for h, w in zip(header, widths)))
    print("  ".join("-" * w for w in widths))
    for row in cells:
        print("  ".join(c.rjust(w) for c, w in zip(row, widths)), flush=True)


# -- env: random actions through the VecEnv -----------------------------------------------------

def env_rate(name: str, n: int, seconds: float) -> float:
    """Copy-steps per second of `n` copies of `name` under uniform-random actions."""
    game = games.load(name)
    env = game.make(n, seed=0)
    rng = np.random.default_rng(0)
    sizes = {s.name: s.n_actions for s in game.spec.seats}

    def step() -> None:
        env.step({seat: rng.integers(0, k, n) for seat, k in sizes.items()})

    step()  # warm-up
    steps, start = 0, time.perf_counter()
    while steps < 2 or time.perf_counter() - start < seconds:
        step()
        steps += 1
    rate = steps * n / (time.perf_counter() - start)
    env.close()
    return rate


def env_section(args) -> None:
    rows = []
    for n in (1, 64, 1024):
        mpe = env_rate("simple_tag", n, args.seconds)
        port = env_rate("simple_tag(vectorised=True)", n, args.seconds)
        vmas = env_rate("simple_tag_vmas", n, args.seconds)
        rows.append([n, round(mpe), round(port), round(vmas), f"{port / mpe:.1f}x", f"{vmas / mpe:.1f}x"])
    table("simple_tag, uniform-random actions through the VecEnv: copy-steps per second "
          "(numpy: mpe2's game vectorised, games/mpe_tag.py)",
          ["copies", "mpe2", "numpy", "vmas", "numpy/mpe2", "vmas/mpe2"], rows)


# -- train: learner transitions per second -------------------------------------------------------

def timed_learner(learner) -> list[float]:
    """Wrap the learner's observe and update (this instance only) to add their seconds to a counter."""
    spent = [0.0]
    for method in ("observe", "update"):
        inner = getattr(learner, method)

        def timed(*args, _inner=inner, **kwargs):
            start = time.perf_counter()
            try:
                return _inner(*args, **kwargs)
            finally:
                spent[0] += time.perf_counter() - start

        setattr(learner, method, timed)
    return spent


def train_rate(game, make: Callable[[], object], opponent: Entrant, batch: int,
               seconds: float) -> tuple[float, int, float]:
    """(transitions/s, transitions timed, share of the time in the learner's observe and update)
    of a fresh learner, timed after a warm-up past its first update."""
    learner = make()
    piece = max(2_000, batch * 25 * 4)  # whole episodes at every batch size
    train(game, learner, env_steps=piece, opponents=[opponent], batch=batch, seed=1)  # past learning_starts / rollout
    spent = timed_learner(learner)
    begin, start, k = learner.env_steps, time.perf_counter(), 0
    while k == 0 or time.perf_counter() - start < seconds:
        k += 1
        train(game, learner, env_steps=piece, opponents=[opponent], batch=batch, seed=1 + k)
    done, wall = learner.env_steps - begin, time.perf_counter() - start
    return done / wall, done, spent[0] / wall


def train_section(args) -> None:
    rows = []
    setups = (
        ("QMIX predators vs scripted prey", "predator",
         lambda spec: QMIX(spec, "predator", seed=0)),
        ("MAPPO prey vs scripted chasers", "prey",
         lambda spec: MAPPO(spec, "prey", seed=0)),
    )
    for label, role, build in setups:
        base = None
        backends = {"simple_tag": "mpe2", "simple_tag(vectorised=True)": "numpy", "simple_tag_vmas": "vmas"}
        for name, batch in (("simple_tag", 64), ("simple_tag(vectorised=True)", 64), ("simple_tag(vectorised=True)", 1024),
                            ("simple_tag_vmas", 64), ("simple_tag_vmas", 1024)):
            game = games.load(name)
            opponent = Entrant("scripted", ScriptedPolicy(game.spec))
            rate, done, share = train_rate(game, lambda: build(game.spec), opponent, batch, args.train_seconds)
            base = rate if base is None else base
            rows.append([label, backends[name], batch, done, round(rate),
                         f"{rate / base:.1f}x", f"{share:.0%}"])
    table("training on simple_tag through league.train.selfplay.train: learner transitions per second "
          "(learner: share of wall time in its observe + update)",
          ["learner", "backend", "copies", "timed", "steps/s", "vs mpe2", "learner"], rows)


# -- learn: brief learning figures on VMAS ---------------------------------------------------------

def budgeted(game, learner, seconds: float, batch: int, opponents=(), piece: int = 20_000) -> tuple[int, float]:
    start = time.perf_counter()
    k = 0
    while time.perf_counter() - start < seconds:
        k += 1
        train(game, learner, env_steps=piece, opponents=list(opponents), batch=batch, seed=100 + k)
    return learner.env_steps, time.perf_counter() - start


def learn_section(args) -> None:
    seconds = args.learn_minutes * 60
    n_eval = args.eval_episodes
    spread = games.load("simple_spread_vmas")

    def team_return(policy) -> float:
        return evaluate(spread, Entrant("team", policy), None, n_eval, seed=2024)

    rows = [["random", 0, 0.0, round(team_return(RandomPolicy(spread.spec)), 2)],
            ["scripted", 0, 0.0, round(team_return(ScriptedPolicy(spread.spec)), 2)]]
    for algo, cls in (("qmix", QMIX), ("mappo", MAPPO)):
        learner = cls(spread.spec, "spreader", seed=0)
        steps, wall = budgeted(spread, learner, seconds, args.learn_batch)
        rows.append([algo, steps, round(wall, 1), round(team_return(learner.frozen_policy()), 2)])
    table(f"simple_spread_vmas: greedy team return (sum over 3 agents, 25 steps, {n_eval} episodes)",
          ["team", "env_steps", "wall_s", "team_return"], rows)

    tag = games.load("simple_tag_vmas")
    prey = Entrant("scripted-prey", ScriptedPolicy(tag.spec))

    def tags(predators) -> float:
        return tags_per_episode(tag, predators, prey, n_eval)

    rows = [["random", 0, 0.0, round(tags(RandomPolicy(tag.spec)), 3)],
            ["scripted", 0, 0.0, round(tags(ScriptedPolicy(tag.spec)), 3)]]
    learner = QMIX(tag.spec, "predator", seed=0)
    steps, wall = budgeted(tag, learner, seconds, args.learn_batch, opponents=[prey])
    rows.append(["qmix", steps, round(wall, 1), round(tags(learner.frozen_policy()), 3)])
    table(f"simple_tag_vmas predators vs scripted prey: tags per episode ({n_eval} episodes)",
          ["predators", "env_steps", "wall_s", "tags_per_episode"], rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sections", default="env,train,learn", help="comma-separated: env, train, learn")
    parser.add_argument("--seconds", type=float, default=3.0, help="env: seconds per measurement")
    parser.add_argument("--train-seconds", type=float, default=20.0, help="train: timed seconds per measurement")
    parser.add_argument("--learn-minutes", type=float, default=0.0, help="learn: minutes per learner (0 skips)")
    parser.add_argument("--learn-batch", type=int, default=256, help="learn: VMAS copies in lockstep")
    parser.add_argument("--eval-episodes", type=int, default=200)
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    sections = {"env": env_section, "train": train_section, "learn": learn_section}
    for name in args.sections.split(","):
        if name == "learn" and args.learn_minutes <= 0:
            continue
        sections[name.strip()](args)


if __name__ == "__main__":
    main()
