"""Issue 16: nothing lost, nothing trusted blindly. One test per defect the audit found, each
reproducing it as the audit wrote it; then the kill test of run creation."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

import games
from league.app.cli import cli
from league.play.entrants import resolve
from league.rate.ratings import Rater
from league.store.database import DB_NAME, NewMatch, Store, StoreError
from league.store.exports import ExportCheckError, verify_export_dir
from league.store.tally import TalliedGame, tally
from league.tournament.config import TournamentConfig
from league.tournament.formats import play_tournament
from league.tournament.pairing import Pairing
from league.train.checkpoints import ResumeError, check_trainer_state, read_trainer_state, write_trainer_state

TOURNAMENT = ["tournament", "--game", "tic_tac_toe", "--entrants", "random,mcts:2", "--games", "2"]


def invoke(*args: str, input: str | None = None) -> tuple[int, str]:
    """(exit code, stdout) on success, (exit code, stderr) on failure."""
    result = CliRunner().invoke(cli, list(args), input=input)
    return result.exit_code, result.stdout if result.exit_code == 0 else result.stderr


def one_sentence_error(code: int, err: str) -> bool:
    """A refusal as users should see it: non-zero exit, no traceback, the error on its last line."""
    return code != 0 and "Traceback" not in err and err.strip().splitlines()[-1].startswith("Error: ")


def dump(run: Path) -> list[str]:
    conn = sqlite3.connect(run / DB_NAME)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


@pytest.fixture()
def run(tmp_path: Path) -> Path:
    path = tmp_path / "run"
    code, out = invoke(*TOURNAMENT, "--run", str(path))
    assert code == 0, out
    return path


def sql(run: Path, statement: str, *args: object) -> None:
    conn = sqlite3.connect(run / DB_NAME)
    with conn:
        conn.execute(statement, args)
    conn.close()


# 1. export --force deleted any directory, the run itself included
def test_export_force_never_deletes_a_run(run: Path) -> None:
    before = dump(run)
    code, err = invoke("export", "--player", "random", "--out", str(run), "--force", "--run", str(run))
    assert (code, err) == (1, f"Error: {run} holds a league run; an export never replaces it, so choose another --out.\n")
    assert dump(run) == before and invoke("leaderboard", "--run", str(run))[0] == 0


# 2. report --out overwrote the database
def test_report_out_never_overwrites_the_database(run: Path, tmp_path: Path) -> None:
    before = dump(run)
    code, err = invoke("report", "--out", str(run / DB_NAME), "--run", str(run))
    assert (code, err) == (1, f"Error: {run / DB_NAME} exists and is not a league report; a report never replaces "
                              f"other files, so choose another --out.\n")
    assert dump(run) == before and invoke("leaderboard", "--run", str(run))[0] == 0
    report = tmp_path / "report.html"
    assert invoke("report", "--out", str(report), "--run", str(run))[0] == 0
    assert invoke("report", "--out", str(report), "--run", str(run))[0] == 0  # an earlier report is replaced


# 3. (the concurrent writers are in tests/test_locks.py)


# 4. resuming training deleted games stored by `league play`
def test_rollback_keeps_human_games(run: Path) -> None:
    with Store.open(run) as store:
        checkpoint = store.last_ids()
        store.add_player("ada", "baseline", meta={"human": True})
        store.record_match(NewMatch("training", "tic_tac_toe", 1, ("random", "mcts:2"), (1.0, -1.0), (0, 1), 5))
        human = store.record_match(NewMatch("human", "tic_tac_toe", 2, ("ada", "random"), (1.0, -1.0), (0, 1), 5))
        assert store.rollback(after_match=checkpoint["match"], after_metric=checkpoint["metric"]) == 1
        assert [m.id for m in store.matches(origin="human")] == [human]


# 5. the database could make any command import a module
def test_a_stored_game_name_is_never_code(run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    module = tmp_path / "planted.py"
    marker = tmp_path / "imported"
    module.write_text(f"open({str(marker)!r}, 'w').write('ran')\ndef make():\n    raise SystemExit(134)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    sql(run, "UPDATE runs SET game = 'planted:make'")
    for args in (["leaderboard"], ["matches"], ["payoff"], ["report", "--out", str(tmp_path / "r.html")],
                 ["tournament"], ["export", "--champion", "--out", str(tmp_path / "e")], ["play", "--player", "random"]):
        code, out = invoke(*args, "--run", str(run), input="")
        assert code in (0, 1) and "Traceback" not in out, (args, out)
        if code:
            assert "is a Python module:factory, which is not loaded from stored data" in out, (args, out)
    assert not marker.exists()
    sql(run, "UPDATE runs SET game = 'os:abort'")
    assert invoke("leaderboard", "--run", str(run))[0] == 0


# 6. export --verify could be bypassed
def fake_export(directory: Path, seats: tuple[str, ...] = ("player_0", "player_1")) -> dict:
    directory.mkdir(parents=True, exist_ok=True)
    entries = {}
    for seat in seats:
        blob = f"model of {seat}".encode()
        (directory / f"{seat}.onnx").write_bytes(blob)
        entries[seat] = {"file": f"{seat}.onnx", "sha256": hashlib.sha256(blob).hexdigest()}
    manifest = {"format": "league-export/1", "player": "p", "role": "player", "seats": entries,
                "game": {"name": "tic_tac_toe", "ref": "tic_tac_toe"}}
    (directory / "manifest.json").write_text(json.dumps(manifest))
    return manifest


def test_export_verify_checks_the_runs_record_and_every_seat(run: Path, tmp_path: Path) -> None:
    out = tmp_path / "export"
    manifest = fake_export(out)
    check = verify_export_dir(out)
    assert not check.against_run and "only the export's self-consistency was checked" in check.summary(out)
    with Store.open(run) as store:
        with pytest.raises(ExportCheckError, match="has no record of an export of 'p'"):
            verify_export_dir(out, store)
        store.write_file("exports/p.json", json.dumps(manifest).encode())
        assert verify_export_dir(out, store).against_run
        # a forger replaces a model and its sha256 in the manifest: the run's record still catches it
        (out / "player_1.onnx").write_bytes(b"forged")
        manifest["seats"]["player_1"]["sha256"] = hashlib.sha256(b"forged").hexdigest()
        (out / "manifest.json").write_text(json.dumps(manifest))
        with pytest.raises(ExportCheckError, match="does not match the sha256 the run recorded"):
            verify_export_dir(out, store)
    for seats in ((), ("player_0",)):  # empty seats, or one dropped
        partial = tmp_path / f"partial{len(seats)}"
        fake_export(partial, seats)
        with pytest.raises(ExportCheckError, match="lists no model for seat"):
            verify_export_dir(partial)
        code, err = invoke("export", "--verify", str(partial))
        assert one_sentence_error(code, err)


# 7. trainer.json had no checksum, yet its ids drove a deleting rollback
def test_the_checkpoint_lives_in_the_database_and_is_checked(run: Path) -> None:
    with Store.open(run) as store:
        ids = store.last_ids()
        files = {"weights": "w", "weights_sha256": "0" * 64, "manifest": "m", "manifest_sha256": "0" * 64}
        write_trainer_state(store, {"config": "", "round": 1, "learners": {"iql": files}, "store": ids})
        (run / "checkpoints" / "trainer.json").write_text(json.dumps({"store": {"match": 0, "metric": 0}}))
        assert read_trainer_state(store)["store"] == ids  # the edited copy is never read
        with pytest.raises(ResumeError, match="is incomplete"):
            check_trainer_state(store, {})
        with pytest.raises(ResumeError, match="names match id 99999"):
            check_trainer_state(store, {"store": {"match": 99999, "metric": 0}})


# 8. a corrupted database was read with exit 0, or gave tracebacks
def test_a_damaged_database_is_refused_in_one_sentence(run: Path, tmp_path: Path) -> None:
    damaged = f"Error: {run / DB_NAME} is damaged (it fails its integrity check or holds unreadable data); " \
              f"restore it from a backup.\n"
    sql(run, "UPDATE matches SET sides = '[oops' WHERE id = 1")
    assert invoke("matches", "--run", str(run)) == (1, damaged)
    sql(run, "UPDATE matches SET sides = '[\"random\", \"mcts:2\"]' WHERE id = 1")
    sql(run, "UPDATE players SET meta = '{' WHERE name = 'random'")
    assert invoke("leaderboard", "--run", str(run)) == (1, damaged)
    sql(run, "UPDATE players SET meta = '{}'")
    conn = sqlite3.connect(run / DB_NAME)
    with conn:  # enough rows for pages beyond the first few
        conn.executemany("INSERT INTO metrics (player, step, key, value, created) VALUES ('random', ?, 'k', 1.0, 'now')",
                         [(i,) for i in range(300)])
    conn.close()
    data = bytearray((run / DB_NAME).read_bytes())
    data[4096 * 3:4096 * 3 + 2048] = os.urandom(2048)  # garbage over one page
    (run / DB_NAME).write_bytes(bytes(data))
    for args in (["leaderboard"], ["matches"], ["report", "--out", str(tmp_path / "r.html")], TOURNAMENT):
        assert invoke(*args, "--run", str(run)) == (1, damaged), args


# 9. tracebacks on user input
@pytest.mark.parametrize("config", [
    b"game = \"tic_tac_toe\"\n\xff\xfe = 1\n",
    b"[snapshots]\nwin_rate = \"x\"\n",
    b"[[learners]]\nalgo = 5\n",
    b"[evaluation]\nopponents = [1, 2]\n",
    b"matchmaking = 5\n",
])
def test_bad_config_files_are_one_sentence(tmp_path: Path, config: bytes) -> None:
    path = tmp_path / "run.toml"
    path.write_bytes(config)
    code, err = invoke("train", "--config", str(path), "--run", str(tmp_path / "run"))
    assert one_sentence_error(code, err) and not (tmp_path / "run").exists(), err


@pytest.mark.parametrize("args", [
    ["train", "--seed", "-1"], ["train", "--seed", str(2**70)], ["train", "--batch-games", "100000000"],
    ["algos", "--game", "markov_soccer(horizon='x')"],
])
def test_bad_options_are_one_sentence(tmp_path: Path, args: list[str]) -> None:
    code, err = invoke(*args, *(["--run", str(tmp_path / "run")] if args[0] != "algos" else []))
    assert one_sentence_error(code, err) and not (tmp_path / "run").exists(), err


def test_an_unwritable_run_or_out_is_one_sentence(run: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    code, err = invoke(*TOURNAMENT, "--run", str(blocker / "run"))
    assert one_sentence_error(code, err), err
    code, err = invoke("report", "--out", str(blocker / "r.html"), "--run", str(run))
    assert one_sentence_error(code, err), err
    code, err = invoke("export", "--champion", "--out", str(blocker / "e"), "--run", str(run))
    assert one_sentence_error(code, err), err


# 10. accepted silently
@pytest.mark.parametrize("args", [
    ["tournament", "--batch", "0"], ["matches", "--limit", "-1"], ["tournament", "--workers", "0"],
    ["tournament", "--workers", "-1"], ["tournament", "--move-timeout", "nan"], ["export", "--games", "0"],
    ["tournament", "--anchor", "nosuch=0", "--entrants", "random,mcts:2", "--games", "2"],
    ["train", "--run", ""], ["tournament", "--game", ""], ["train", "--algo", "iql:"], ["train", "--game", ""],
    ["tournament", "--game", "markov_soccer(horizon=-5)", "--entrants", "random,action:0", "--games", "2"],
    ["tournament", "--game", "iterated_prisoners_dilemma(rounds=0)", "--entrants", "random,action:0", "--games", "2"],
])
def test_bad_values_are_refused_and_leave_no_run(tmp_path: Path, args: list[str]) -> None:
    run = tmp_path / "run"
    code, err = invoke(*args, *([] if "--run" in args else ["--run", str(run)]))
    assert one_sentence_error(code, err) and not run.exists(), err


# 11. wrong player attribution
def test_play_name_is_checked_before_the_game(run: Path) -> None:
    with Store.open(run) as store:
        store.add_player("iql-001", "snapshot")
    for name, message in (("iql-001", "'iql-001' is a snapshot of this run"), ("", "your name '' must be"),
                          ("random", "is a reference bot's")):
        code, err = invoke("play", "--player", "mcts:2", "--name", name, "--run", str(run), input="")  # no moves
        assert code == 1 and message in err and "Your move" not in err, err


# 12. kills during run creation (the kill test is below); a run killed before its first checkpoint
def test_a_run_without_a_checkpoint_resumes_with_its_own_configuration(tmp_path: Path) -> None:
    from league.train.checkpoints import checkpoint_config

    with Store.create(tmp_path / "r", name="r", game="tic_tac_toe", config={"train": "game = \"tic_tac_toe\"\n"}) as s:
        assert checkpoint_config(s) == "game = \"tic_tac_toe\"\n"


# 13. resumed tournaments were rated differently
def test_a_resumed_tournament_rates_like_an_uninterrupted_one(tmp_path: Path) -> None:
    game = games.load("tic_tac_toe")
    config = TournamentConfig(game="tic_tac_toe", entrants=("random", "mcts:2", "mcts:8"), games=8)

    def play(store: Store, stop_after: int | None = None) -> None:
        def progress(done: int, total: int, pairings) -> None:
            if stop_after is not None and done >= stop_after:
                raise KeyboardInterrupt  # as a kill would, mid-tournament

        play_tournament(store, game, resolve(config.entrants, game.spec), config, Rater(), batch=4, progress=progress)

    with Store.open(tmp_path / "straight", create=True) as straight, Store.open(tmp_path / "resumed", create=True) as resumed:
        play(straight)
        for stop in (5, 13):
            with pytest.raises(KeyboardInterrupt):
                play(resumed, stop)
        play(resumed)
        assert resumed.count_matches() == straight.count_matches() == 24
        assert resumed.ratings() == straight.ratings()


# 14. bad commands left runs behind
@pytest.mark.parametrize("extra", [["--move-timeout", "-1"], ["--backend", "ray", "--address", "127.0.0.1:9"]])
def test_a_refused_tournament_leaves_no_run(tmp_path: Path, extra: list[str]) -> None:
    code, err = invoke(*TOURNAMENT, *extra, "--run", str(tmp_path / "run"))
    assert one_sentence_error(code, err) and not (tmp_path / "run").exists(), err


# 15. reads scaled with the number of matches (timings: bench/store_reads.py)
def test_running_totals_equal_a_recount_after_writes_and_rollbacks(tmp_path: Path) -> None:
    with Store.open(tmp_path / "r", create=True) as store:
        for name in ("a", "b", "c"):
            store.add_player(name, "learner")
        games_ = [NewMatch("training", "g", k, sides, (float(k % 3) - 1, 1.0 - k % 3), (k % 2, (k + 1) % 2), 5,
                           forfeit="b timed out" if k % 7 == 0 else None)
                  for k, sides in enumerate([("a", "b"), ("b+c", "a"), ("a", "a"), ("c", "b")] * 5)]
        store.record_matches([(g, None) for g in games_[:10]])
        checkpoint = store.last_ids()["match"]
        store.record_matches([(g, None) for g in games_[10:]])
        store.rollback(after_match=checkpoint, after_metric=0)
        kept = store.matches()
        recount = tally(TalliedGame(m.id, m.tournament_id, m.sides, m.returns, m.ranks, m.forfeit) for m in kept)
        expected = {}
        for (player, _), counts in recount.results.items():
            expected[player] = tuple(x + y for x, y in zip(expected.get(player, (0, 0, 0, 0)), counts))
        assert store.results() == {p: c for p, c in expected.items() if any(c)}
        assert store.pair_results() == {k: (v[0], v[1], v[2], v[3]) for k, v in recount.pairs.items()}
        assert [m.id for m in store.matches(player="c", limit=2)] == [m.id for m in kept if "c" in "+".join(m.sides)][-2:]


# 16. cosmetic
def test_a_clean_sweep_has_a_finite_far_bound() -> None:
    elo, low, high = Pairing(0, "a", "b", games=4, points=0.0, pairs=[0.0, 0.0]).elo()
    assert elo == low == float("-inf") and high < float("inf")


# creation is atomic: a kill at any moment leaves no run or a complete one
CREATE_RUNS = """
import sys
from league.store.database import Store
print("ready", flush=True)
for k in range(10_000):
    Store.create(f"{sys.argv[1]}/r{k}", name="r", game="tic_tac_toe", config={"train": "x"}).close()
"""


def test_a_kill_during_run_creation_leaves_no_run_or_a_whole_one(tmp_path: Path) -> None:
    for delay in (0.05, 0.13, 0.31):
        folder = tmp_path / str(delay)
        folder.mkdir()
        process = subprocess.Popen([sys.executable, "-c", CREATE_RUNS, str(folder)], stdout=subprocess.PIPE)
        assert process.stdout.readline() == b"ready\n"
        time.sleep(delay)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        runs = sorted(folder.iterdir())
        assert runs, "the kill should land while runs are being created"
        for path in runs:
            if (path / DB_NAME).exists():
                with Store.open(path) as store:
                    assert store.run_info()["game"] == "tic_tac_toe"
            else:
                with pytest.raises(StoreError, match="no league run at"):
                    Store.open(path)


def test_an_empty_database_left_by_an_older_kill_is_no_run(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / DB_NAME).write_bytes(b"")
    with pytest.raises(StoreError, match="no league run at"):
        Store.open(run)
    code, out = invoke(*TOURNAMENT, "--run", str(run))
    assert code == 0, out
