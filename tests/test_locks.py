"""One writer per run (issue 16, defect 3): a second writer is refused with one sentence naming
the holder, a dead holder's lock is taken over, readers never wait, and ratings are updated
from the stored state inside the transaction that stores the games, so none is lost."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from league.app.cli import cli
from league.store.database import Store
from league.store.lock import LOCK_NAME, RunLock

TOURNAMENT = ["tournament", "--game", "tic_tac_toe", "--entrants", "random,mcts:2", "--games", "2"]

HOLD = """
import sys, time
from league.store.lock import RunLock
RunLock(sys.argv[1], "league train --run test").acquire()
print("held", flush=True)
time.sleep(60)
"""


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout if result.exit_code == 0 else result.stderr


def test_a_second_writer_is_refused_and_readers_never_wait(tmp_path: Path) -> None:
    run = tmp_path / "run"
    assert invoke(*TOURNAMENT, "--run", str(run))[0] == 0
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(run)], stdout=subprocess.PIPE)
    try:
        assert holder.stdout.readline() == b"held\n"
        before = (run / "league.db").read_bytes()
        for command in (TOURNAMENT, ["train"]):
            code, err = invoke(*command, "--run", str(run))
            assert code == 1 and err.startswith(f"Error: {run} is in use by `league train --run test` "
                                                f"(pid {holder.pid} on "), err
            assert err.endswith("; wait for it to finish or stop it, then run this again.\n")
        assert (run / "league.db").read_bytes() == before
        for command in (["leaderboard"], ["matches", "--limit", "1"], ["payoff"]):
            assert invoke(*command, "--run", str(run))[0] == 0, command
    finally:
        holder.kill()
        holder.wait()
    assert invoke(*TOURNAMENT, "--seed", "1", "--run", str(run))[0] == 0  # the holder died: its lock went with it


def test_a_dead_holders_lock_is_taken_over(tmp_path: Path) -> None:
    run = tmp_path / "run"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    run.mkdir()
    (run / LOCK_NAME).write_text(json.dumps({"pid": int(dead.stdout), "host": os.uname().nodename,
                                             "command": "league train", "since": "earlier"}))
    assert invoke(*TOURNAMENT, "--run", str(run))[0] == 0
    assert (run / LOCK_NAME).read_text() == ""  # released: nobody holds it


def test_the_lock_is_released_on_errors_and_taken_once(tmp_path: Path) -> None:
    lock = RunLock(tmp_path, "league tournament")
    with lock:
        assert json.loads((tmp_path / LOCK_NAME).read_text())["pid"] == os.getpid()
        assert lock.acquire() is lock  # taking it again is harmless
    assert invoke(*TOURNAMENT, "--games", "3", "--run", str(tmp_path))[0] == 1
    with RunLock(tmp_path, "again"):
        pass


WRITER = """
import os, sys, time
from league.store.database import NewMatch, Store

def plus_one(games, current):  # a rating that only counts: any lost update shows in the total
    mu = current.get("shared", (0.0, 1.0))[0]
    out = []
    for _ in games:
        mu += 1
        out.append({"shared": (mu, 1.0)})
    return out

run, seed, go = sys.argv[1], int(sys.argv[2]), sys.argv[3]
with Store.open(run) as store:
    print("ready", flush=True)
    while not os.path.exists(go):
        time.sleep(0.001)
    for k in range(40):
        store.record_rated([NewMatch("tournament", "g", seed * 1000 + k, ("shared", "other"), (1.0, -1.0), (0, 1), 5)],
                           plus_one)
        time.sleep(0.0005)
"""


def test_concurrent_writers_lose_no_rating_update(tmp_path: Path) -> None:
    run = tmp_path / "run"
    with Store.open(run, create=True) as store:
        store.add_player("shared", "learner")
        store.add_player("other", "baseline")
    go = tmp_path / "go"
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(run), str(w), str(go)], stdout=subprocess.PIPE)
               for w in (1, 2)]
    assert [w.stdout.readline() for w in writers] == [b"ready\n"] * 2
    go.touch()  # both start writing at once
    assert [w.wait(timeout=120) for w in writers] == [0, 0]
    with Store.open(run) as store:
        assert store.count_matches() == 80
        assert store.rating("shared") == (80.0, 1.0, 80)  # each update read the one before it
