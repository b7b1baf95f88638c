"""How well can IQL's Q-network learn one-move tactics when it is told them? A diagnostic.

Self-play IQL on connect four stops at about 0.7 wins in one taken and 0.5 safe moves under a
threat (`bench/learner_settings.py --tactics`). This trains the same network supervised, on
random-play positions labelled by the engine: each legal move's target is +1 if it wins at
once, -1 if it lets the opponent win at once, else 0. If the network gets well past the
self-play plateau here, the plateau comes from the data and targets self-play gives it, not
from what the network can represent. The probe positions (league/train/tactics.py, seed 1)
are not among the training positions (seed 5).

Usage:
    python bench/tactics_ceiling.py                       # 2x256 MLP, 50k positions, ~3 CPU-minutes
    python bench/tactics_ceiling.py --hidden 64 --conv 32,32
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pyspiel
import torch

import games
from agents.nets import QPolicy, SeatQNetworks
from league.train.tactics import gives_a_win, positions, random_play_state, tactics


def labelled_positions(n: int, seed: int) -> tuple[torch.Tensor, ...]:
    """(obs (n, 126), seat (n,), legal (n, 7), target (n, 7)) from uniform random play."""
    engine = pyspiel.load_game("connect_four")
    rng = np.random.default_rng(seed)
    obs, seat, legal, target = [], [], [], []
    while len(obs) < n:
        state = random_play_state(engine, rng)
        if state is None:
            continue
        player = state.current_player()
        mask, value = np.zeros(7, bool), np.zeros(7, np.float32)
        for action in state.legal_actions():
            after = state.child(action)
            mask[action] = True
            value[action] = 1.0 if after.is_terminal() and after.returns()[player] > 0 else -1.0 if gives_a_win(after) else 0.0
        obs.append(np.asarray(state.observation_tensor(player), np.float32))
        seat.append(player)
        legal.append(mask)
        target.append(value)
    return tuple(torch.from_numpy(np.asarray(v)) for v in (obs, seat, legal, target))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hidden", default="256,256")
    parser.add_argument("--conv", default="", help="channels of 3x3 conv layers before the MLP, e.g. 32,32")
    parser.add_argument("--positions", type=int, default=50_000)
    parser.add_argument("--updates", type=int, default=5_000)
    parser.add_argument("--batch", type=int, default=512)
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    spec = games.load("connect_four").spec
    hidden = tuple(int(h) for h in args.hidden.split(","))
    conv = tuple(int(c) for c in args.conv.split(",")) if args.conv else ()
    started = time.process_time()
    obs, seat, legal, target = labelled_positions(args.positions, seed=5)
    print(f"connect four, {args.positions:,} labelled random-play positions in {time.process_time() - started:.0f} CPU-s; "
          f"network hidden {hidden} conv {conv or 'none'}, batch {args.batch}, Adam 5e-4, torch threads 1", flush=True)
    net = SeatQNetworks([spec.seat(s) for s in spec.seat_names], hidden, conv=conv)
    optimizer = torch.optim.Adam(net.parameters(), lr=5e-4)
    policy = QPolicy(spec, net, {s: k for k, s in enumerate(spec.seat_names)})
    probe = positions("connect_four")
    print(f"probe: {len(probe.wins)} positions with a win in one, {len(probe.threats)} with a threat "
          f"(a random move is safe {probe.random_safe_rate:.2f})")
    started = time.process_time()
    for update in range(1, args.updates + 1):
        rows = torch.randint(0, len(obs), (args.batch,))
        q = net.forward_group(0, obs[rows], seat[rows])  # (B, 7)
        loss = (((q - target[rows]) ** 2) * legal[rows]).sum() / legal[rows].sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if update % 1000 == 0 or update == args.updates:
            with torch.no_grad():
                took, safe = tactics(policy, spec, probe)
            print(f"  {update:>6,} updates {time.process_time() - started:5.0f} CPU-s  loss {loss.item():.4f}  "
                  f"win in one taken {took:.2f}, safe when threatened {safe:.2f}", flush=True)


if __name__ == "__main__":
    main()
