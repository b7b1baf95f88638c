"""A predator team's learning on simple_tag, with what its values are doing: tags per episode
against the scripted prey and the statistics that tell a learning team from a diverging one.

At each point, on 1,024 replayed transitions:
  q_i       mean per-seat utility                q_spread  mean max-min utility over the moves
  q_tot     mean team value (its std beside it)  reward_std the running std the rewards are divided by
  QMIX only: dq_tot/dq_i (mean), and the mixer's state bias V(s) (mean).
A team value far above what the tags can pay (a tag pays about 30 / reward_std, and gamma 0.99
sums about 100 steps) is divergence, not learning.

Usage:
    python bench/team_values.py --algo qmix --game 'simple_tag(vectorised=True)' --steps 800000 --every 200000 --config '{"replay_ratio": 8}'
    python bench/team_values.py --algo vdn --game 'simple_tag(vectorised=True)' --steps 300000 --every 100000
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

import games
from common import tags_per_episode
from agents.baselines import ScriptedPolicy
from agents.registry import make_learner
from league.play.runner import Entrant
from league.train.selfplay import train


def value_statistics(learner, rows: int = 1024) -> dict[str, float]:
    """The team's utilities and values on `rows` replayed transitions (fixed sample seed)."""
    b = learner.buffer.sample(rows, np.random.default_rng(0))
    n = learner.n_agents
    with torch.no_grad():
        qs = learner.q.forward_all([b[f"obs_{k}"] for k in range(n)])  # n x (rows, A)
    taken = torch.stack([qs[k].gather(1, b[f"action_{k}"][:, None]).squeeze(1) for k in range(n)], 1)  # (rows, n)
    out = {"q_i": float(torch.stack([q.mean(1) for q in qs]).mean()),
           "q_spread": float(np.mean([(q.max(1).values - q.min(1).values).mean().item() for q in qs])),
           "reward_std": float(np.sqrt(learner.reward_rms.var))}
    if learner.mixer is None:
        total = taken.sum(1)  # (rows,)
    else:
        state = b["state"].reshape(rows, -1)  # (rows, S)
        taken.requires_grad_(True)
        total = learner.mixer(taken, state)  # (rows,)
        slope, = torch.autograd.grad(total.sum(), taken)  # (rows, n) dQ_tot / dQ_i
        out["dq_tot_dq_i"] = float(slope.mean())
        with torch.no_grad():
            out["v_state"] = float(learner.mixer.value(state).mean())
    out["q_tot"], out["q_tot_std"] = float(total.detach().mean()), float(total.detach().std())
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--algo", choices=["qmix", "vdn"], default="qmix")
    parser.add_argument("--game", default="simple_tag(vectorised=True)")
    parser.add_argument("--steps", type=int, default=800_000)
    parser.add_argument("--every", type=int, default=200_000)
    parser.add_argument("--config", default="{}", help="JSON config overrides, e.g. '{\"replay_ratio\": 8}'")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch", type=int, default=64, help="copies in lockstep")
    parser.add_argument("--episodes", type=int, default=100)
    args = parser.parse_args()
    torch.set_num_threads(1)
    game = games.load(args.game)
    prey = Entrant("scripted-prey", ScriptedPolicy(game.spec))

    def tags(predators) -> float:
        return tags_per_episode(game, predators, prey, args.episodes)

    config = json.loads(args.config)
    learner = make_learner(args.algo, game.spec, "predator", config=config, seed=args.seed)
    print(f"{args.algo} on {game.ref} vs the scripted prey, config {config}, seed {args.seed}: tags per episode on "
          f"{args.episodes} episodes (scripted chasers {tags(ScriptedPolicy(game.spec)):.2f}, "
          f"the untrained team {tags(learner.frozen_policy()):.2f})", flush=True)
    start, piece, next_point = time.perf_counter(), 0, args.every
    while learner.env_steps < args.steps:
        train(game, learner, env_steps=5_000, opponents=[prey], batch=args.batch, seed=piece)
        piece += 1
        if learner.env_steps >= next_point:
            next_point += args.every
            stats = "  ".join(f"{k} {v:.3g}" for k, v in value_statistics(learner).items())
            print(f"{learner.env_steps:9d} steps {time.perf_counter() - start:7.0f} s  tags {tags(learner.frozen_policy()):.2f}  "
                  f"{stats}", flush=True)


if __name__ == "__main__":
    main()
