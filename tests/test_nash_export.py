"""The champion of a poker league is its meta-strategy: the pool's Nash mixture exported as ONNX
(exact behaviour policy per information state), measured from the ONNX files alone, and played
as the entrant `nash` in tournaments and `league play`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import games
from agents.baselines import FixedActionPolicy, RandomPolicy
from league.app.cli import cli
from league.app.human import play_game
from league.app.mixture import pool_mixture, refresh_mixture
from league.play import infostates
from league.play.entrants import EntrantError, resolve
from league.play.mixture import aggregate
from league.rate.exact import exploitability, mixture_exploitability
from league.rate.standings import standings
from league.store.database import Store
from league.train.config import TrainConfig
from league.train.loop import Trainer

KUHN = games.load("kuhn_poker").spec


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout if result.exit_code == 0 else result.stderr


@pytest.fixture(scope="module")
def kuhn_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny PSRO league on Kuhn poker: fresh best responses against the pool's Nash mixture,
    exact meta-game, exploitability of the mixture at the final evaluation (about 1,200 steps)."""
    run = tmp_path_factory.mktemp("kuhn") / "run"
    config = TrainConfig.from_mapping({
        "game": "kuhn_poker", "steps": 1200, "round_games": 128, "batch_games": 64, "checkpoint_every": 10**9,
        "seed": 1,
        "learners": [{"algo": "mappo", "reset": 1.0, "matchmaking": {"latest": 0.0, "pfsp": 0.0, "nash": 1.0},
                      "config": {"greedy": False, "rollout_steps": 4, "lr": 0.02, "epochs": 2, "minibatches": 1,
                                 "actor_gain": 1.0}}],
        "snapshots": {"min_steps": 250, "max_steps": 250, "meta_games": 0},
        "evaluation": {"every": 1200, "opponents": ["random"], "games": 2, "exploitability": True}})
    with Store.open(run, create=True) as store:
        store.init_run("kuhn", "kuhn_poker", {})
        Trainer(store, games.load("kuhn_poker"), config).run()
    return run


def league_figure(run: Path) -> float:
    """The trainer's own exploitability of the pool's Nash mixture at its final evaluation."""
    with Store.open(run) as store:
        return store.metrics(player="mappo", key="exploitability/meta")[-1].value


# The measurement runs in `python -I -S` with only numpy, onnxruntime and OpenSpiel on the path:
# the project (and torch) cannot be imported, so the figure comes from the ONNX files alone.
MEASURE = """
import sys, importlib.abc, json
sys.path[:] = [p for p in sys.path if p and {project!r} not in p] + {site!r}
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("league", "games", "agents", "torch"):
            raise ImportError("blocked: " + name)
sys.meta_path.insert(0, Block())
import numpy as np, onnxruntime, pyspiel
from open_spiel.python.policy import TabularPolicy
from open_spiel.python.algorithms.exploitability import exploitability
manifest = json.load(open("manifest.json"))
game = pyspiel.load_game(manifest["game"]["source"])
sessions = [onnxruntime.InferenceSession(manifest["seats"][f"player_{{p}}"]["file"]) for p in range(2)]
table = TabularPolicy(game)
for row, state in enumerate(table.states):
    p = state.current_player()
    obs = np.array([state.information_state_tensor(p)], dtype=np.float32)
    mask = np.array([state.legal_actions_mask(p)], dtype=np.float32)
    probs, _ = sessions[p].run(None, {{"obs": obs, "action_mask": mask}})
    table.action_probability_array[row] = probs[0] / probs[0].sum()
print(json.dumps({{"exploitability": exploitability(game, table)}}))
"""


def measure_from_onnx(directory: Path) -> float:
    import numpy
    import onnxruntime
    import pyspiel

    project = str(Path(__file__).resolve().parents[1])
    site = sorted({str(Path(m.__file__).resolve().parents[1]) for m in (numpy, onnxruntime, pyspiel)})
    done = subprocess.run([sys.executable, "-I", "-S", "-c", MEASURE.format(project=project, site=site)],
                          cwd=directory, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)["exploitability"]


def test_the_exported_mixture_is_as_exploitable_as_the_league_says(kuhn_run: Path, tmp_path: Path) -> None:
    code, out = invoke("export", "--player", "nash", "--run", str(kuhn_run), "--out", str(tmp_path / "nash"))
    assert code == 0, out
    assert out.startswith(f"exported nash (role player) to {tmp_path / 'nash'}: player_0.onnx, player_1.onnx, manifest.json\n"
                          f"checked on 12 information states (all of the game): onnxruntime matches torch within ")
    manifest = json.loads((tmp_path / "nash" / "manifest.json").read_text())
    assert manifest["player"] == "nash" and manifest["mixture"]["construction"] == "exact"
    weights = [m["weight"] for m in manifest["mixture"]["members"]]
    assert abs(sum(weights) - 1) < 1e-9 and all(w > 0 for w in weights)
    figure = league_figure(kuhn_run)
    measured = measure_from_onnx(tmp_path / "nash")
    assert abs(measured - figure) < 1e-6, (measured, figure)
    assert abs(manifest["mixture"]["exploitability"] - figure) < 1e-6
    code, out = invoke("export", "--verify", str(tmp_path / "nash"), "--run", str(kuhn_run))
    assert code == 0 and "match the sha256 the run recorded" in out, out


def test_the_champion_of_a_poker_league_is_its_mixture(kuhn_run: Path, tmp_path: Path) -> None:
    code, out = invoke("export", "--champion", "--run", str(kuhn_run), "--out", str(tmp_path / "champion"))
    assert code == 0, out
    assert out.startswith(f"exported nash (role player) to {tmp_path / 'champion'}")
    assert json.loads((tmp_path / "champion" / "manifest.json").read_text())["player"] == "nash"


def test_nash_is_an_entrant_of_tournaments_and_play(kuhn_run: Path) -> None:
    with Store.open(kuhn_run) as store:
        assert refresh_mixture(store, KUHN) is not None
    code, out = invoke("tournament", "--run", str(kuhn_run), "--entrants", "nash,random", "--games", "4")
    assert code == 0, out
    assert "nash vs random" in out
    with Store.open(kuhn_run) as store:
        assert store.rating("nash") is not None
        refresh_mixture(store, KUHN)  # now a player: the leaderboard shows its exploitability
        row = next(r for r in standings(store) if r.name == "nash")
        assert abs(row.exploitability - league_figure(kuhn_run)) < 1e-6
        moves = iter(["1", "1", "1"])
        said: list[str] = []
        result = play_game(store, games.load("kuhn_poker"), "nash", ask=lambda _: next(moves), say=said.append,
                           seed=5)
        assert result.sides == ("human", "nash")
        assert said[0] == "kuhn_poker: you (human) play first against nash."


def test_the_exact_mixture_is_openspiels_aggregate_policy() -> None:
    """Weight times own reach, per information state: the playing policy has the league's figure
    (which tests/test_exact.py checks against OpenSpiel's PolicyAggregator) for members whose
    reaches differ."""
    members = [FixedActionPolicy(KUHN, 0), FixedActionPolicy(KUHN, 1), RandomPolicy(KUHN)]
    weights = [0.5, 0.3, 0.2]
    mixed = aggregate(KUHN, members, weights)
    assert abs(exploitability(mixed, KUHN) - mixture_exploitability(members, weights, KUHN)) < 1e-9
    # a plain average of the members' action probabilities is a different (wrong) policy here
    table = mixed.tables["player_0"]
    averaged = sum(w * m.probabilities(table.keys, table.masks, seat="player_0") for w, m in zip(weights, members))
    assert np.abs(averaged - table.probs).max() > 0.05


def test_a_game_too_large_to_tabulate_ships_its_members(kuhn_run: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    import onnxruntime

    monkeypatch.setattr(infostates, "MAX_NODES", 10)
    code, out = invoke("export", "--player", "nash", "--run", str(kuhn_run), "--out", str(tmp_path / "sampled"),
                       "--games", "4")
    assert code == 0, out
    manifest = json.loads((tmp_path / "sampled" / "manifest.json").read_text())
    assert manifest["mixture"]["construction"] == "sampled"
    assert manifest["seats"]["player_0"]["inputs"]["member"] == ["batch"]
    members = [m["name"] for m in manifest["mixture"]["members"]]
    session = onnxruntime.InferenceSession(str(tmp_path / "sampled" / "player_0.onnx"))
    obs = np.zeros((1, 11), np.float32)
    obs[0, 0], obs[0, 3] = 1.0, 1.0  # player 0 holding the queen, first move
    mask = np.ones((1, 2), np.float32)
    with Store.open(kuhn_run) as store:
        for k, entrant in enumerate(resolve(members, KUHN, store)):
            probs, _ = session.run(None, {"obs": obs, "action_mask": mask, "member": np.array([k])})
            np.testing.assert_allclose(probs, entrant.policy.probabilities(obs, mask.astype(bool), seat="player_0"),
                                       atol=1e-5)


def test_a_league_without_a_trained_pool_has_no_mixture(tmp_path: Path) -> None:
    with Store.open(tmp_path / "run", create=True) as store:
        store.init_run("run", "kuhn_poker", {})
        assert pool_mixture(store, KUHN) is None
        with pytest.raises(EntrantError, match="has no Nash mixture recorded"):
            resolve(["nash"], KUHN, store)
    code, out = invoke("export", "--player", "nash", "--run", str(tmp_path / "run"), "--out", str(tmp_path / "out"))
    assert code == 1
    assert out == (f"Error: the league at {tmp_path / 'run'} has no Nash mixture to export: it is the meta-game mixture "
                   f"of a trained pool; train one first, e.g. `league train --run {tmp_path / 'run'}`.\n")
    assert not (tmp_path / "out").exists()
