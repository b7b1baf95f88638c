"""Kills survived (issue 16): kill -9 a tournament at random moments, resume it, compare with an uninterrupted run.

Each tournament (tic-tac-toe, random vs MCTS-20 vs MCTS-60, 40 games a pairing, lockstep
batches of 8) is killed up to three times at a random number of stored games, then run to
the end; the result must store every game exactly once and end with exactly the ratings of
the same tournament played without interruption. Run-creation kills are in
tests/test_faults.py.

    python bench/kill_resume.py --tournaments 5
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from league.store.database import Store, StoreError


def command(run: Path) -> list[str]:
    return [sys.executable, "-m", "league.app.cli", "tournament", "--game", "tic_tac_toe", "--entrants",
            "random,mcts:20,mcts:60", "--games", "40", "--batch", "8", "--run", str(run)]


def stored(run: Path) -> int:
    try:
        with Store.open(run) as store:
            return store.count_matches()
    except StoreError:
        return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tournaments", type=int, default=5)
    parser.add_argument("--kills", type=int, default=3, help="kills per tournament at most")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        straight = Path(tmp) / "straight"
        subprocess.run(command(straight), capture_output=True, check=True)
        with Store.open(straight) as store:
            expected, total = store.ratings(), store.count_matches()
        kills = exact = 0
        for k in range(args.tournaments):
            run = Path(tmp) / f"killed-{k}"
            for _ in range(args.kills):
                process = subprocess.Popen(command(run), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                target, deadline = rng.randint(5, total - 10), time.time() + 120
                while time.time() < deadline and process.poll() is None and stored(run) < target:
                    time.sleep(0.05)
                if process.poll() is None:
                    os.kill(process.pid, signal.SIGKILL)
                    kills += 1
                process.wait()
            subprocess.run(command(run), capture_output=True, check=True)
            with Store.open(run) as store:
                same = (store.ratings() == expected and store.count_matches() == total
                        and sorted(m.game_index for m in store.iter_matches()) == list(range(total)))
            exact += same
            print(f"tournament {k}: {'exact' if same else 'DIFFERENT'}", flush=True)
        print(f"{kills} kills -9 in {args.tournaments} tournaments of {total} games: {exact}/{args.tournaments} resumed "
              f"runs equal the uninterrupted one (every game stored once, the same ratings)")


if __name__ == "__main__":
    main()
