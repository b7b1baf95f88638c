"""Reads that scale (issue 16): the time and memory of the read commands on a run of 1,000,000 matches.

Builds a run database through the store's own write path (the running totals are kept as
the games are stored, as a trainer stores them), then times the commands in this process
(interpreter start-up and imports excluded; the same CliRunner path as the tests) at a
tenth of the size and at full size, side by side, so "flat in the number of matches" is
read off the two columns. Memory is the peak of Python allocations during the command
(tracemalloc). The first open after the build runs SQLite's quick_check over the whole
file; it is printed on its own line, since later opens of an unchanged file skip it.

Targets: leaderboard and `matches --limit 20` under 200 ms, payoff (top 50) under 1 s (issue 16,
300 players); the leaderboard and one player's matches under 100 ms with 10,000 players (issue 19).
The leaderboard shows its best 50 (`--top`) and reads only their rows.

    python bench/store_reads.py                      # 1,000,000 matches (a few minutes to build)
    python bench/store_reads.py --players 10000      # 10,000 players (about 20 minutes to build here)
    python bench/store_reads.py --matches 100000     # quicker
    python bench/store_reads.py --keep /tmp/reads    # keep both databases; a second run only measures
"""

from __future__ import annotations

import argparse
import random
import shutil
import sqlite3
import tempfile
import time
import tracemalloc
from pathlib import Path

from click.testing import CliRunner

from league.app.cli import cli
from league.store.database import CHECKED_NAME, NewMatch, Store

COMMANDS = {
    "leaderboard": ["leaderboard"],
    "leaderboard --json": ["leaderboard", "--json"],
    "matches --limit 20": ["matches", "--limit", "20"],
    "matches --player P --limit 20": ["matches", "--player", "snap-0042", "--limit", "20"],
    "payoff (top 50)": ["payoff"],
}


def build(store: Store, start: int, stop: int, players: list[str], rng: random.Random) -> None:
    """Store matches start..stop-1 in rounds of 10,000, each rated, as a training run stores them."""
    ratings = {name: (25.0, 8.333) for name in players}
    for first in range(start, stop, 10_000):
        items = []
        for k in range(first, min(stop, first + 10_000)):
            a, b = rng.sample(players, 2)
            ranks = rng.choice([(0, 1), (1, 0), (0, 0)])
            returns = (1.0, -1.0) if ranks == (0, 1) else (-1.0, 1.0) if ranks == (1, 0) else (0.0, 0.0)
            for name, delta in ((a, 0.01), (b, -0.01)):
                mu, sigma = ratings[name]
                ratings[name] = (mu + delta * (1 if ranks[0] <= ranks[1] else -1), max(0.8, sigma * 0.9999))
            items.append((NewMatch("training", "connect_four", k, (a, b), returns, ranks, 20 + k % 22,
                                   game_index=k), {a: ratings[a], b: ratings[b]}))
        store.record_matches(items)


def measure(run: Path) -> dict[str, tuple[float, float]]:
    """command -> (best of 3 seconds, peak MiB of Python allocations)."""
    out = {}
    for label, args in COMMANDS.items():
        best, peak = float("inf"), 0.0
        for _ in range(3):
            tracemalloc.start()
            started = time.perf_counter()
            result = CliRunner().invoke(cli, [*args, "--run", str(run)])
            best = min(best, time.perf_counter() - started)
            peak = max(peak, tracemalloc.get_traced_memory()[1] / 2**20)
            tracemalloc.stop()
            assert result.exit_code == 0, (label, result.output)
        out[label] = (best, peak)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--matches", type=int, default=1_000_000)
    parser.add_argument("--players", type=int, default=300)
    parser.add_argument("--full-check", action="store_true", help="Also time SQLite's quick_check of the whole file.")
    parser.add_argument("--keep", type=Path, default=None, help="Build into this folder and keep it; reuse it if built.")
    args = parser.parse_args()
    players = ["random", "mcts:25"] + [f"snap-{k:04d}" for k in range(args.players - 2)]
    tenth = args.matches // 10
    folder = args.keep or Path(tempfile.mkdtemp(prefix="store-reads-"))
    try:
        columns = {}
        previous = None
        for size, start in ((tenth, 0), (args.matches, tenth)):
            run = folder / f"run-{size}"
            started = time.perf_counter()
            reused = (run / "league.db").exists()
            if not reused:
                if previous is None:
                    with Store.create(run, name="bench", game="connect_four", config={}) as store:
                        for name in players:
                            store.add_player(name, "snapshot" if name.startswith("snap") else "baseline")
                else:
                    shutil.copytree(previous, run)
                with Store.open(run) as store:
                    build(store, start, size, players, random.Random(size))
            previous = run
            built = time.perf_counter() - started
            (run / CHECKED_NAME).unlink(missing_ok=True)  # as after a write by another process
            started = time.perf_counter()
            Store.open(run).close()  # the first open of a changed file runs quick_check
            checked = time.perf_counter() - started
            size_mb = (run / "league.db").stat().st_size / 2**20
            made = "reused" if reused else f"built in {built:.1f} s ({(size - start) / built:,.0f} matches/s)"
            line = f"{size:>9,} matches: {made}, {size_mb:,.0f} MiB, first open after a change {checked * 1000:,.0f} ms"
            if args.full_check:
                started = time.perf_counter()
                conn = sqlite3.connect(run / "league.db")
                verdict = conn.execute("PRAGMA quick_check").fetchone()[0]
                conn.close()
                line += f"; a full quick_check {time.perf_counter() - started:,.1f} s ({verdict})"
            print(line, flush=True)
            columns[size] = measure(run)
        sizes = list(columns)
        print(f"\n{'command':<32}" + "".join(f"{f'{s:,} matches':>26}" for s in sizes) + "   target")
        for label in COMMANDS:
            target = "< 1 s" if label.startswith("payoff") else "< 200 ms"
            cells = "".join(f"{columns[s][label][0] * 1000:>12,.1f} ms {columns[s][label][1]:>7.2f} MiB" for s in sizes)
            print(f"{label:<32}{cells}   {target}")
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
