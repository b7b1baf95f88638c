"""Runner throughput: this runner against the textbook loop and against the bare engine.

Measured in one process, one after the other, on connect four with two 2x64 MLP policies
sampling from a masked softmax:

  (a) the naive loop a user writes from the textbook: PettingZoo's connect_four_v3 AEC env,
      one `torch.FloatTensor(obs)` forward pass per move;
  (b) this runner (league.play.runner.run) on the OpenSpiel game, all copies batched;
  (c) uniform-random play straight on the OpenSpiel engine: the ceiling, no inference.

and the same three on mpe2's simple_tag (four MLPs, one per seat; (c) is random actions
straight on the mpe2 parallel env). Prints steps/s and the ratios b/a and b/c.

Usage:
    python bench/runner_throughput.py [--seconds 5] [--batch 1024] [--workers 1]
"""

from __future__ import annotations

import argparse
import itertools
import random
import time
import warnings

import numpy as np
import torch

import games
from agents.baselines import RandomPolicy
from agents.nets import CategoricalPolicy, mlp
from league.play.runner import Entrant, run, schedule


def mlp_for(spec, seat_name: str, seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    seat = spec.seat(seat_name)
    return mlp(seat.obs_size, seat.n_actions, hidden=(64, 64))


def timed(fn, seconds: float) -> float:
    """Run fn() (which returns steps done) repeatedly for about `seconds`; steps/s."""
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        steps += fn()
    return steps / (time.perf_counter() - start)


# -- connect four -------------------------------------------------------------------------

def naive_connect_four(nets: dict[str, torch.nn.Module], seconds: float) -> float:
    """The textbook loop: one AEC env, one forward pass per move."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from pettingzoo.classic import connect_four_v3

        env = connect_four_v3.env()
    seed = [0]

    def episode() -> int:
        env.reset(seed=seed[0])
        seed[0] += 1
        steps = 0
        for agent in env.agent_iter():
            obs, reward, termination, truncation, info = env.last()
            if termination or truncation:
                action = None
            else:
                with torch.no_grad():
                    x = torch.FloatTensor(obs["observation"]).flatten()
                    logits = nets[agent](x)
                    mask = torch.FloatTensor(obs["action_mask"])
                    logits = logits.masked_fill(mask == 0, -1e9)
                    action = torch.distributions.Categorical(logits=logits).sample().item()
                steps += 1
            env.step(action)
        return steps

    return timed(episode, seconds)


def runner_rate(game_name: str, entrants, seconds: float, batch: int) -> float:
    """Steps/s of the runner on an endless queue of games, stopped after `seconds`."""
    game = games.load(game_name)
    spec = game.spec
    steps = {"n": 0}
    start = time.perf_counter()

    def tasks():
        for k in itertools.count():
            if time.perf_counter() - start > seconds:
                return
            pair = schedule(spec, entrants, 2, seed=k, start_index=2 * k)
            yield from pair

    def count(record) -> None:
        # a turn-based game's length counts moves; a simultaneous one counts joint steps
        steps["n"] += record.length

    run(game, tasks(), batch=batch, on_record=count, collect=False)
    return steps["n"] / (time.perf_counter() - start)


def inference_rate(policy, spec, batch: int, seconds: float) -> float:
    """Rows/s of one policy's act() on a full batch: the network's share of a step."""
    seat = spec.seats[0]
    obs = np.random.default_rng(0).random((batch, *seat.obs_shape)).astype(np.float32)
    mask = np.ones((batch, seat.n_actions), dtype=bool)
    keys = np.arange(batch)

    def once() -> int:
        policy.act(obs, mask, seat=seat.name, keys=keys)
        return batch

    return timed(once, seconds)


def ceiling_connect_four(seconds: float) -> float:
    import pyspiel

    game = pyspiel.load_game("connect_four")
    rng = random.Random(0)

    def episode() -> int:
        state = game.new_initial_state()
        steps = 0
        while not state.is_terminal():
            state.apply_action(rng.choice(state.legal_actions()))
            steps += 1
        return steps

    return timed(episode, seconds)


# -- simple_tag ---------------------------------------------------------------------------

def naive_simple_tag(nets: dict[str, torch.nn.Module], seconds: float, with_policy: bool = True) -> float:
    from mpe2 import simple_tag_v3

    env = simple_tag_v3.parallel_env()
    rng = np.random.default_rng(0)
    seed = [0]

    def episode() -> int:
        obs, _ = env.reset(seed=seed[0])
        seed[0] += 1
        steps = 0
        while env.agents:
            if with_policy:
                actions = {}
                with torch.no_grad():
                    for agent in env.agents:
                        logits = nets[agent](torch.FloatTensor(obs[agent]))
                        actions[agent] = torch.distributions.Categorical(logits=logits).sample().item()
            else:
                actions = {agent: int(rng.integers(5)) for agent in env.agents}
            obs, rewards, terms, truncs, infos = env.step(actions)
            steps += 1
        return steps

    return timed(episode, seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="measuring time per figure")
    parser.add_argument("--batch", type=int, default=1024, help="runner copies for connect four")
    parser.add_argument("--tag-batch", type=int, default=64, help="runner copies for simple_tag")
    args = parser.parse_args()
    torch.set_num_threads(1)

    c4 = games.load("connect_four").spec
    nets = {seat: mlp_for(c4, seat, k) for k, seat in enumerate(c4.seat_names)}
    entrants = tuple(Entrant(f"mlp{k}", CategoricalPolicy(c4, nets[seat], seats=c4.seat_names)) for k, seat in enumerate(c4.seat_names))
    # PettingZoo's board encoding is 6x7x2 (OpenSpiel's 3x6x7): same 2x64 MLPs, its input size
    pz_nets = {seat: mlp(6 * 7 * 2, 7, hidden=(64, 64)) for seat in c4.seat_names}
    a = naive_connect_four(pz_nets, args.seconds)
    b = runner_rate("connect_four", entrants, args.seconds, args.batch)
    c = ceiling_connect_four(args.seconds)
    rand = tuple(Entrant(f"random{k}", RandomPolicy(c4)) for k in range(2))
    b0 = runner_rate("connect_four", rand, args.seconds, args.batch)
    infer = inference_rate(entrants[0].policy, c4, args.batch, args.seconds)
    print(f"connect_four (steps = moves; runner batch {args.batch}, torch threads 1)")
    print(f"  (a) naive PettingZoo AEC loop, one forward per move : {a:>12,.0f} steps/s")
    print(f"  (b) league runner, batched MLP policies            : {b:>12,.0f} steps/s")
    print(f"  (c) random play on the bare OpenSpiel engine       : {c:>12,.0f} steps/s")
    print(f"  b/a = {b / a:.1f}   b/c = {b / c:.2f}")
    print("  where a step's time goes (microseconds per step):")
    print(f"    bare engine, random moves (c)                     : {1e6 / c:8.2f}")
    print(f"    runner with random policies, no network (b0)      : {1e6 / b0:8.2f}   b0/c = {b0 / c:.2f}")
    print(f"    2x64 MLP forward + masked sampling alone          : {1e6 / infer:8.2f}")
    bound = (1 / c) / (1 / c + 1 / infer)
    print("  any one-thread runner that steps this engine and runs this network is bounded by")
    print(f"  b/c <= engine / (engine + network) = {bound:.2f}, even with zero overhead of its own")

    tag = games.load("simple_tag").spec
    tag_nets = {seat: mlp_for(tag, seat, k) for k, seat in enumerate(tag.seat_names)}

    predators = Entrant("predators", _SeatNets(tag, {s: tag_nets[s] for s in tag.sides[0].seats}))
    prey = Entrant("prey", _SeatNets(tag, {s: tag_nets[s] for s in tag.sides[1].seats}))
    a = naive_simple_tag(tag_nets, args.seconds)
    b = runner_rate("simple_tag", (predators, prey), args.seconds, args.tag_batch)
    c = naive_simple_tag(tag_nets, args.seconds, with_policy=False)
    print(f"simple_tag (steps = joint steps of all 4 agents; runner batch {args.tag_batch})")
    print(f"  (a) naive mpe2 parallel loop, one forward per agent : {a:>12,.0f} steps/s")
    print(f"  (b) league runner, batched MLP policies            : {b:>12,.0f} steps/s")
    print(f"  (c) random actions on the bare mpe2 env            : {c:>12,.0f} steps/s")
    print(f"  b/a = {b / a:.1f}   b/c = {b / c:.2f}")


class _SeatNets:
    """One MLP per seat, each sampling from its softmax (the particle worlds have no masks)."""

    needs_engine_states = False

    def __init__(self, spec, nets):
        self.policies = {seat: CategoricalPolicy(spec, net, seats=[seat]) for seat, net in nets.items()}

    def unsupported(self, spec, seats):
        return None

    def act(self, obs, mask, *, seat, keys, explore=False, engine_states=None):
        return self.policies[seat].act(obs, mask, seat=seat, keys=keys)


if __name__ == "__main__":
    main()
