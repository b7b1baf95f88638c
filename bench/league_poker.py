"""Poker: exact exploitability of the league's meta-strategy against wall time, next to
OpenSpiel's own NFSP PyTorch example (open_spiel/python/examples/nfsp_kuhn_pytorch.py and
nfsp_leduc_pytorch.py, their default settings) run for the same wall time in this process.

The league's meta-strategy is the Nash mixture over its pool of snapshots (a linear program on
the empirical payoff matrix of their games), played as a mixture policy; its exploitability
and NFSP's (average policy) are computed exactly with OpenSpiel's `exploitability`.

NFSP needs dm-tree: `pip install -e '.[bench]'`.

Usage:
    python bench/league_poker.py --game kuhn_poker [--minutes 10] [--every 1]
    python bench/league_poker.py --game leduc_poker --minutes 20 --every 2
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import time

from common import config_from, train_for


def league_curve(config, seconds: float, every: float) -> list[tuple[float, float, int]]:
    from league.rate.exact import mixture_exploitability

    curve = []

    def measure(elapsed: float, league) -> None:
        names = list(league.learners)
        pool = [h.name for h in league.pool.historical(league.learners[names[0]].role)]
        if not pool:
            value = float(league.evaluator.exploitabilities(names[0])["exploitability"])
        else:
            weights = league.metagame.nash_weights(pool)
            value = mixture_exploitability([league.pool.entrant(p).policy for p in pool], weights, league.spec)
        curve.append((elapsed, value, len(pool)))
        print(f"  league {elapsed / 60:6.1f} min  pool {len(pool):3d}  exploitability {value:.4f}", flush=True)

    league = train_for(config, seconds, every, measure)
    t = league.timings
    print(f"  league rounds: {t['round']:.0f} s; learning {t['learn'] / t['round']:.0%}, waiting for the actors "
          f"{t['play'] / t['round']:.0%}, evaluations, exact meta-game payoffs and snapshots' exploitability "
          f"{t['evaluate'] / t['round']:.0%} (target <= 10%), checkpoints {t['checkpoint'] / t['round']:.0%}")
    return curve


def nfsp_curve(game_name: str, seconds: float, every: float) -> list[tuple[float, float, int]]:
    """OpenSpiel's NFSP example, its defaults, timed; evaluation time is not counted."""
    import sys

    from absl import flags
    from open_spiel.python import rl_environment
    from open_spiel.python.algorithms import exploitability
    from open_spiel.python.pytorch import nfsp

    example = importlib.import_module(
        "open_spiel.python.examples." + ("nfsp_kuhn_pytorch" if game_name == "kuhn_poker" else "nfsp_leduc_pytorch"))
    flags.FLAGS(sys.argv[:1])  # the example's defaults
    FLAGS = flags.FLAGS
    env = rl_environment.Environment(game_name, players=2)
    size = env.observation_spec()["info_state"][0]
    actions = env.action_spec()["num_actions"]
    hidden = [int(s) for s in FLAGS.hidden_layers_sizes]
    kwargs = {"replay_buffer_capacity": FLAGS.replay_buffer_capacity, "epsilon_decay_duration": FLAGS.num_train_episodes,
              "epsilon_start": 0.06, "epsilon_end": 0.001}
    if hasattr(FLAGS, "reservoir_buffer_capacity"):
        reservoir = FLAGS.reservoir_buffer_capacity
    else:
        reservoir = int(2e6)
    agents = [nfsp.NFSP(i, size, actions, hidden, reservoir, FLAGS.anticipatory_param, **kwargs) for i in range(2)]
    average = example.NFSPPolicies(env, agents, nfsp.MODE.AVERAGE_POLICY)
    curve, trained, next_eval = [], 0.0, 0.0
    while True:
        if trained >= next_eval:
            value = exploitability.exploitability(env.game, average)
            curve.append((trained, value, 0))
            print(f"  nfsp   {trained / 60:6.1f} min  exploitability {value:.4f}", flush=True)
            next_eval += every
            if trained >= seconds:
                return curve
        start = time.perf_counter()
        for _ in range(200):
            step = env.reset()
            while not step.last():
                player = step.observations["current_player"]
                step = env.step([agents[player].step(step).action])
            for agent in agents:
                agent.step(step)
        trained += time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--game", default="kuhn_poker", choices=["kuhn_poker", "leduc_poker"])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--every", type=float, default=1.0)
    parser.add_argument("--config", default=None, help="default: runs/examples/<game>.toml")
    parser.add_argument("--skip-nfsp", action="store_true")
    args = parser.parse_args()
    config = config_from(args.config or args.game)
    seconds, every = args.minutes * 60, args.every * 60
    print(f"{args.game}: league ({', '.join(f'{l.name}:{l.algo}' for l in config.learners)}) vs NFSP, "
          f"{args.minutes:g} minutes each")
    if not args.skip_nfsp and importlib.util.find_spec("tree") is None:  # OpenSpiel's NFSP needs dm-tree
        parser.error("OpenSpiel's NFSP needs dm-tree: pip install -e '.[bench]' (or pass --skip-nfsp)")
    ours = league_curve(config, seconds, every)
    theirs = [] if args.skip_nfsp else nfsp_curve(args.game, seconds, every)
    print(f"{'minutes':>8}  {'league':>8}  {'nfsp':>8}")
    for k, (t, value, _) in enumerate(ours):
        other = theirs[k][1] if k < len(theirs) else float("nan")
        print(f"{t / 60:8.1f}  {value:8.4f}  {other:8.4f}")


if __name__ == "__main__":
    main()
