"""`league train`: two algorithms in one league, snapshots, exact resume after kill -9, bad input."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from safetensors.numpy import load_file

from league.app.cli import cli
from league.store.database import Store

CONFIG = """\
game = "tic_tac_toe"
steps = 3000
seed = 3
batch_games = 16
round_games = 32
checkpoint_every = 600
opening_plies = 3

[[learners]]
algo = "iql"
config = { learning_starts = 200, batch_size = 32, epsilon_steps = 2000 }

[[learners]]
algo = "mappo"
config = { rollout_steps = 16, minibatches = 2, epochs = 2 }

[snapshots]
min_steps = 500
max_steps = 1000
eval_games = 8

[evaluation]
every = 1500
opponents = ["random"]
games = 8
"""


def train(run: Path, config: Path, *extra: str, kill_after_round: int | None = None) -> subprocess.CompletedProcess | None:
    command = [sys.executable, "-m", "league.app.cli", "train", "--run", str(run), *extra]
    if (run / "checkpoints" / "trainer.json").exists() is False:
        command += ["--config", str(config)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    if kill_after_round is None:
        return subprocess.run(command, capture_output=True, text=True, check=True, env=env, timeout=600)
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    state = run / "checkpoints" / "trainer.json"
    deadline = time.time() + 300
    while time.time() < deadline and process.poll() is None:
        time.sleep(0.05)
        try:
            if json.loads(state.read_text())["round"] >= kill_after_round:
                time.sleep(0.4)  # land somewhere inside a later round
                break
        except (OSError, ValueError, KeyError):
            continue
    assert process.poll() is None, "the run ended before it could be killed"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    return None


def fingerprint(run: Path) -> dict:
    """Everything that must match between an interrupted-and-resumed run and a straight one."""
    state = json.loads((run / "checkpoints" / "trainer.json").read_text())
    weights = {}
    for name, files in state["learners"].items():
        arrays = load_file(str(run / files["weights"]))
        weights[name] = {k: hashlib.sha256(np.ascontiguousarray(v).tobytes()).hexdigest() for k, v in arrays.items()}
    with Store.open(run) as store:
        matches = [(m.origin, m.sides, m.returns, m.ranks, m.length, m.seed) for m in store.matches()]
        ratings = {k: (round(mu, 9), round(sigma, 9), games) for k, (mu, sigma, games) in store.ratings().items()}
        players = [(p.name, p.kind, p.parent, p.step) for p in store.players()]
        metrics = sorted((m.player, m.step, m.key, round(m.value, 9)) for m in store.metrics())
    return {"round": state["round"], "snapshots": state["snapshots"], "weights": weights, "matches": matches,
            "ratings": ratings, "players": players, "metrics": metrics}


@pytest.fixture(scope="module")
def straight(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("train")
    config = root / "league.toml"
    config.write_text(CONFIG)
    run = root / "straight"
    result = train(run, config)
    assert "snapshots in the pool" in result.stdout
    return run, config


def test_two_algorithms_share_a_league_and_snapshot(straight: tuple[Path, Path]) -> None:
    run, _ = straight
    with Store.open(run) as store:
        players = {p.name: p for p in store.players()}
        assert players["iql"].kind == "learner" and players["mappo"].kind == "learner"
        snapshots = [p for p in players.values() if p.kind == "snapshot"]
        assert {p.parent for p in snapshots} == {"iql", "mappo"}
        assert len(snapshots) >= 4
        training = store.matches(origin="training")
        # the two learners play each other and each other's snapshots
        assert any(set(m.sides) == {"iql", "mappo"} for m in training)
        assert any(set(m.sides) & {"iql"} and any(s.startswith("mappo-") for s in m.sides) for m in training)
        ratings = store.ratings()
        assert {"iql", "mappo", "random"} <= set(ratings)
        assert any(m.key == "eval/random" for m in store.metrics(player="iql"))
    (run / "config.toml").read_text().startswith('game = "tic_tac_toe"')


def test_killed_run_resumes_exactly(straight: tuple[Path, Path], tmp_path: Path) -> None:
    reference, config = straight
    run = tmp_path / "killed"
    train(run, config, kill_after_round=8)
    with Store.open(run) as store:
        stored_before = store.count_matches()
    result = train(run, config)
    assert result is not None and "resuming" in result.stderr
    assert stored_before > 0
    assert fingerprint(run) == fingerprint(reference)


def test_snapshot_evaluation_opponents_do_not_depend_on_dict_order(tmp_path: Path) -> None:
    """A checkpoint stores the recent-opponent counts as sorted JSON, so ties must not be broken
    by insertion order: the resumed run would seed its evaluation games differently."""
    import games
    from league.train.config import TrainConfig
    from league.train.loop import Trainer

    config = TrainConfig.from_mapping({"game": "tic_tac_toe", "learners": [{"algo": "iql"}]})
    with Store.open(tmp_path, create=True) as store:
        league = Trainer(store, games.load("tic_tac_toe"), config)
        recent = {"random": 3, "mcts:5": 1, "alphabeta": 3}
        first = league.evaluator.rule_opponents("iql", recent)
        again = league.evaluator.rule_opponents("iql", dict(sorted(recent.items())))  # what a resume reads back
        assert again == first == ["alphabeta", "random", "mcts:5"]


def test_resume_continues_to_a_larger_total(straight: tuple[Path, Path], tmp_path: Path) -> None:
    reference, config = straight
    run = tmp_path / "copy"
    train(run, config)
    result = train(run, config, "--steps", "3600")
    steps = json.loads((run / "checkpoints" / "trainer.json").read_text())["steps"]
    most_per_round = 32 * 9  # 32 games a round; in self-play a learner holds both sides: all 9 moves of a game
    for name in ("iql", "mappo"):
        # each learner's own moves reach the new total, overshooting it by at most one round
        assert 3600 <= steps[name] <= 3600 + most_per_round, (name, steps[name])
        assert f"{name} {steps[name]:,} steps" in result.stdout  # the final line prints the numbers the run used


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout if result.exit_code == 0 else result.stderr


@pytest.mark.parametrize("args, message", [
    (["--game", "simple_adversary(continuous=True)", "--algo", "iql"], "iql cannot learn role 'adversary' of simple_adversary"),
    (["--algo", "dqn"], "unknown algorithm 'dqn' (did you mean 'vdn'?); algorithms: alphazero, iql, maddpg, mappo, qmix, vdn"),
    (["--game", "simple_tag", "--algo", "mappo"], "simple_tag needs a learner for role 'prey' too"),
])
def test_bad_configurations_make_no_run(tmp_path: Path, args: list[str], message: str) -> None:
    code, out = invoke("train", *args, "--run", str(tmp_path / "run"))
    assert code == 1 and message in out and out.count("\n") == 1
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("text, message", [
    ('game = "kuhn_poker"\nopening_plies = 2\n[[learners]]\nalgo = "iql"\n',
     "opening_plies needs a turn-based game without chance: kuhn_poker has chance events (deals, dice): its games already differ"),
    ('game = "tic_tac_toe"\nopening_plies = 9\n[[learners]]\nalgo = "iql"\n',
     "opening_plies must be below 9, the longest game of tic_tac_toe; got 9"),
    ('game = "tic_tac_toe"\nopening_plies = -1\n', "opening_plies must be an integer from 0 to 1000, got -1"),
])
def test_bad_opening_plies_are_one_sentence_and_make_no_run(tmp_path: Path, text: str, message: str) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(text)
    code, out = invoke("train", "--config", str(config), "--run", str(tmp_path / "run"))
    assert code == 1 and message in out and out.count("\n") == 1
    assert not (tmp_path / "run").exists()


def test_training_games_start_after_their_random_openings(straight: tuple[Path, Path]) -> None:
    """Each training game was played from its seed's opening (`opening_plies = 3`), kept in its moves."""
    import games
    from league.play.openings import training_openings
    from league.play.runner import decode_moves

    run, _ = straight
    with Store.open(run) as store:
        training = store.matches(origin="training")
    drawn = training_openings(games.load("tic_tac_toe"), [m.seed for m in training], max_plies=3)
    lengths = set()
    for match, opening in zip(training, drawn):
        moves, length = decode_moves(match.moves)
        assert length == len(opening) and tuple(moves[:length]) == opening
        lengths.add(length)
    assert lengths == {0, 1, 2, 3}


def test_unknown_config_key_names_the_closest(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text('game = "tic_tac_toe"\nstesp = 10\n')
    code, out = invoke("train", "--config", str(config), "--run", str(tmp_path / "run"))
    assert code == 1 and "unknown key 'stesp' in the run configuration (did you mean 'steps'?)" in out
    config.write_text('game = "tic_tac_toe"\n[snapshots]\nwin_rat = 0.5\n')
    code, out = invoke("train", "--config", str(config), "--run", str(tmp_path / "run"))
    assert code == 1 and "unknown key 'win_rat' in snapshots (did you mean 'win_rate'?)" in out


def test_another_games_run_and_changed_settings_are_refused(straight: tuple[Path, Path]) -> None:
    run, _ = straight
    before = hashlib.sha256((run / "league.db").read_bytes()).hexdigest()
    code, out = invoke("train", "--algo", "iql", "--run", str(run))
    assert code == 1 and "only --steps and --device may change when resuming" in out
    assert hashlib.sha256((run / "league.db").read_bytes()).hexdigest() == before


def test_tampered_snapshot_is_refused(straight: tuple[Path, Path], tmp_path: Path) -> None:
    import shutil

    run = tmp_path / "tampered"
    shutil.copytree(straight[0], run)
    weights = run / "snapshots" / "iql-001.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF
    weights.write_bytes(bytes(data))
    code, out = invoke("tournament", "--entrants", "random,iql-001", "--games", "2", "--run", str(run))
    assert code == 1 and "cannot load snapshot 'iql-001'" in out and "sha256 mismatch" in out


def test_snapshot_intervals_grow_with_growth(tmp_path: Path) -> None:
    """growth = 1: the k-th best response trains (1 + k) x min_steps before its snapshot (PSRO's
    later responses face harder mixtures); without growth the intervals stay level."""
    intervals = {}
    for growth in (0.0, 1.0):
        config = tmp_path / f"grow{growth}.toml"
        config.write_text('game = "kuhn_poker"\nsteps = 2400\nbatch_games = 8\nround_games = 8\nlag = 0\n'
                          '[[learners]]\nalgo = "mappo"\nconfig = { rollout_steps = 4, hidden = [8] }\n'
                          'matchmaking = { nash = 1.0 }\nreset = 1.0\n'
                          f'[snapshots]\nmin_steps = 200\nmax_steps = 200\ngrowth = {growth}\n'
                          '[evaluation]\nevery = 100000\nexploitability = false\n')
        run = tmp_path / f"run{growth}"
        code, out = invoke("train", "--config", str(config), "--run", str(run), "--backend", "local")
        assert code == 0, out
        store = Store.open(run)
        steps = [0] + [p.step for p in store.players() if p.kind == "snapshot"]
        intervals[growth] = np.diff(steps)
    # a round is 8 games of Kuhn (2-3 moves each): snapshots come at the first round past the mark
    assert len(intervals[0.0]) >= 8 and all(200 <= d < 240 for d in intervals[0.0][:-1])
    grown = intervals[1.0][:-1]  # the last snapshot is the end of training
    assert len(grown) >= 3 and all((k + 1) * 200 <= d < (k + 1) * 200 + 40 for k, d in enumerate(grown))


def test_bad_snapshot_growth_is_one_sentence(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text('game = "kuhn_poker"\n[[learners]]\nalgo = "mappo"\n[snapshots]\ngrowth = -0.5\n')
    code, out = invoke("train", "--config", str(config), "--run", str(tmp_path / "run"))
    assert (code, out) == (1, "Error: snapshots.growth must be in [0, 10], got -0.5\n")
    assert not (tmp_path / "run").exists()
