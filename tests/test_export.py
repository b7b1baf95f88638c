"""ONNX export: the manifest, the self-check, every seat of a team, refusals, tampering, and the
exported champion playing PettingZoo's connect_four_v3 in a process where the project is not importable."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import games
import league.app.export
from agents.registry import make_learner
from league.app.cli import cli
from league.play.entrants import load_snapshot, save_snapshot
from league.app.export import ExportError, export_player, verify_export
from league.store.database import Store

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()
# a small conv actor with a seat-id plane and a non-uniform policy, so every baked-in piece matters
C4_CONFIG = {"hidden": (32,), "conv": (8,), "actor_gain": 1.0}


def make_run(path: Path, game: str, algo: str, role: str, config: dict | None = None, *, name: str | None = None,
             mu: float = 30.0) -> Path:
    """A run holding one snapshot of a fresh learner, rated (mu, 2)."""
    spec = games.load(game).spec
    with Store.open(path, create=True) as store:
        if store.run_info() is None:
            store.init_run(path.name, game, {})
        learner = make_learner(algo, spec, role, config=config, seed=3)
        tensors, meta = learner.policy_state()
        name = name or f"{algo}-001"
        save_snapshot(store, name, tensors, {**meta, "game": spec.name, "algorithm": algo, "role": role})
        store.set_rating(name, mu, 2.0)
    return path


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout if result.exit_code == 0 else result.stderr


@pytest.fixture(scope="module")
def c4(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(run, export dir) of the connect-four champion, exported through the command line."""
    root = tmp_path_factory.mktemp("c4")
    run = make_run(root / "run", "connect_four", "mappo", "player", C4_CONFIG, name="mappo-002", mu=30.0)
    make_run(run, "connect_four", "mappo", "player", C4_CONFIG, name="mappo-001", mu=20.0)
    with Store.open(run) as store:
        store.add_player("mcts:100", "baseline")
        store.set_rating("mcts:100", 40.0, 1.0)  # ranks first but has no weights: not the champion
    code, out = invoke("export", "--champion", "--out", str(root / "champion"), "--run", str(run))
    assert code == 0, out
    lines = out.splitlines()
    assert lines[0] == f"exported mappo-002 (role player) to {root / 'champion'}: player_0.onnx, player_1.onnx, manifest.json"
    assert re.fullmatch(r"checked on (\d+) recorded observations: onnxruntime matches torch within \S+ "
                        r"\(tolerance 1e-05\), greedy actions (\d+)/\1", lines[1]), lines[1]
    return run, root / "champion"


def test_manifest_describes_the_export(c4: tuple[Path, Path]) -> None:
    run, out = c4
    manifest = json.loads((out / "manifest.json").read_text())
    with Store.open(run) as store:
        player = store.player("mappo-002")
    assert manifest["format"] == "league-export/1" and manifest["project"]["name"] == "league"
    assert manifest["game"]["name"] == "connect_four" and manifest["game"]["engine"] == "open_spiel"
    assert manifest["game"]["engine_version"] != "unknown"
    assert (manifest["player"], manifest["algorithm"], manifest["role"]) == ("mappo-002", "mappo", "player")
    assert manifest["sides"] == ["first", "second"]
    assert manifest["rating"]["mu"] == 30.0 and manifest["rating"]["sigma"] == 2.0 and manifest["rating"]["rank"] == 2
    assert manifest["source"]["weights_sha256"] == player.weights_sha256
    assert sorted(manifest["seats"]) == ["player_0", "player_1"]
    for seat, entry in manifest["seats"].items():
        assert entry["sha256"] == hashlib.sha256((out / entry["file"]).read_bytes()).hexdigest()
        assert entry["inputs"] == {"obs": ["batch", 3, 6, 7], "action_mask": ["batch", 7]}
        assert entry["outputs"] == {"probabilities": ["batch", 7], "action": ["batch"]}
        assert "row 0 is the BOTTOM row" in entry["observation"] and "connect_four_v3" in entry["observation"]
        assert entry["actions"][3] == "drop a piece in column 3"
        assert 0 < entry["check"]["observations"] and entry["check"]["max_abs_diff"] <= 1e-5
    assert manifest["check"]["max_abs_diff"] <= 1e-5
    assert manifest["check"]["greedy_actions_agree"] == manifest["check"]["observations"] >= 40
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json", "player_0.onnx", "player_1.onnx"]


def test_models_match_the_league_policy_on_fresh_observations(c4: tuple[Path, Path]) -> None:
    import onnxruntime

    run, out = c4
    game = games.load("connect_four")
    with Store.open(run) as store:
        policy = load_snapshot(store, store.player("mappo-002"), game.spec)
    env = game.make(16, seed=99)
    for _ in range(6):  # random positions, both seats
        for seat in ("player_0", "player_1"):
            rows = np.flatnonzero(env.acting[seat])
            if len(rows):
                session = onnxruntime.InferenceSession(str(out / f"{seat}.onnx"))
                obs, mask = env.obs[seat][rows], env.mask[seat][rows]
                probs, action = session.run(None, {"obs": obs, "action_mask": mask.astype(np.float32)})
                np.testing.assert_allclose(probs, policy.probabilities(obs, mask, seat=seat), atol=1e-5)
                assert (action == policy.act(obs, mask, seat=seat, keys=rows)).all()
                assert mask[np.arange(len(rows)), action].all()
        rng = np.random.default_rng(len(env.ply))
        env.step({s: np.array([rng.choice(np.flatnonzero(m)) if m.any() else 0 for m in env.mask[s]])
                  for s in env.spec.seat_names})


# The game loop runs in `python -I -S` with site-packages appended by hand: no .pth file runs,
# so the project's editable install is not on the path; the project's own modules, torch and
# OpenSpiel are also blocked outright, so only numpy, onnxruntime and pettingzoo can be used.
ISOLATION = """
import sys, importlib.abc
sys.path[:] = [p for p in sys.path if p and "{project}" not in p] + {site!r}
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("league", "games", "agents", "torch", "pyspiel", "open_spiel"):
            raise ImportError("blocked: " + name)
sys.meta_path.insert(0, Block())
for name in ("league", "games", "agents"):
    try:
        __import__(name)
    except ImportError:
        pass
    else:
        raise SystemExit(name + " is importable")
"""

RECORD = """
import json, numpy as np, onnxruntime as ort
from pettingzoo.classic import connect_four_v3
models = {seat: ort.InferenceSession(f"champion/{seat}.onnx") for seat in ("player_0", "player_1")}
moves, results = [], {}
for champion_seat in ("player_0", "player_1"):
    env = connect_four_v3.env()
    env.reset(seed=1)
    rng = np.random.default_rng(0)
    for agent in env.agent_iter():
        observation, reward, termination, truncation, _ = env.last()
        if termination or truncation:
            results[champion_seat + "/" + agent] = reward
            env.step(None)
            continue
        legal = np.flatnonzero(observation["action_mask"])
        own, opp = np.moveaxis(observation["observation"][::-1], 2, 0)
        x, o = (own, opp) if agent == "player_0" else (opp, own)
        obs = np.stack([x, o, 1 - x - o]).astype(np.float32)[None]
        if agent == champion_seat:
            probabilities, action = models[agent].run(None, {"obs": obs, "action_mask": observation["action_mask"].astype(np.float32)[None]})
            action = int(action[0])
            assert action in legal, (action, legal)
        else:
            action = int(rng.choice(legal))
        moves.append({"game": champion_seat, "agent": agent, "obs": obs[0].tolist(), "action": action,
                      "champion": agent == champion_seat})
        env.step(action)
print(json.dumps({"moves": moves, "results": results}))
"""


def _isolated(script: str, cwd: Path) -> subprocess.CompletedProcess:
    import numpy
    import onnxruntime
    import pettingzoo

    project = str(Path(__file__).resolve().parents[1])
    site = sorted({str(Path(m.__file__).resolve().parents[1]) for m in (numpy, onnxruntime, pettingzoo)})
    assert not any(Path(s) == Path(project) for s in site)
    code = ISOLATION.format(project=project, site=site) + script
    return subprocess.run([sys.executable, "-I", "-S", "-c", code], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_readme_snippet_plays_connect_four_v3_without_the_project(c4: tuple[Path, Path]) -> None:
    _, out = c4
    snippet = README.split("### `league export`", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    assert "connect_four_v3" in snippet and "import league" not in snippet
    done = _isolated(snippet, out.parent)
    assert done.returncode == 0, done.stderr
    results = dict(line.split() for line in done.stdout.splitlines())
    assert sorted(results) == ["player_0", "player_1"] and sorted(results.values()) in (["-1", "1"], ["0", "0"])


def test_champion_plays_pettingzoo_exactly_as_in_the_league(c4: tuple[Path, Path]) -> None:
    run, out = c4
    done = _isolated(RECORD, out.parent)
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout)
    assert len(record["results"]) == 4  # two full games, both agents told the end
    game = games.load("connect_four")
    with Store.open(run) as store:
        policy = load_snapshot(store, store.player("mappo-002"), game.spec)
    for champion_seat in ("player_0", "player_1"):
        env = game.make(1, seed=0)
        for move in (m for m in record["moves"] if m["game"] == champion_seat):
            seat = move["agent"]
            assert env.acting[seat][0]
            np.testing.assert_array_equal(np.array(move["obs"], np.float32), env.obs[seat][0])  # the README's conversion
            if move["champion"]:
                assert move["action"] == int(policy.act(env.obs[seat][:1], env.mask[seat][:1], seat=seat, keys=np.zeros(1, np.int64))[0])
            result = env.step({seat: np.array([move["action"]])})
        assert len(result.finished) == 1  # the league's engine ended the game on the same move


def test_existing_out_is_refused_unless_force(c4: tuple[Path, Path], tmp_path: Path) -> None:
    run, _ = c4
    out = tmp_path / "taken"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    for force in ((), ("--force",)):  # files an export did not make are never replaced (issue 16)
        code, err = invoke("export", "--player", "mappo-001", "--out", str(out), *force, "--run", str(run))
        assert (code, err) == (1, f"Error: {out} holds files that are not a league export; an export never replaces "
                                  f"them, so choose another --out.\n")
        assert [p.name for p in out.iterdir()] == ["keep.txt"]
    earlier = tmp_path / "earlier"
    assert invoke("export", "--player", "mappo-001", "--out", str(earlier), "--games", "2", "--run", str(run))[0] == 0
    code, err = invoke("export", "--player", "mappo-001", "--out", str(earlier), "--run", str(run))
    assert (code, err) == (1, f"Error: {earlier} already exists; choose another --out or pass --force to replace it.\n")
    code, _ = invoke("export", "--player", "mappo-001", "--out", str(earlier), "--force", "--games", "2", "--run", str(run))
    assert code == 0 and sorted(p.name for p in earlier.iterdir()) == ["manifest.json", "player_0.onnx", "player_1.onnx"]
    assert json.loads((earlier / "manifest.json").read_text())["player"] == "mappo-001"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["earlier", "taken"]  # no temporary directories left


def test_tampered_weights_are_refused(c4: tuple[Path, Path], tmp_path: Path) -> None:
    run, out = c4
    copy = tmp_path / "copy"
    copy.mkdir()
    for p in out.iterdir():
        (copy / p.name).write_bytes(p.read_bytes())
    assert invoke("export", "--verify", str(copy), "--run", str(run))[0] == 0
    model = bytearray((copy / "player_1.onnx").read_bytes())
    model[-64] ^= 0x01  # one bit of a weight
    (copy / "player_1.onnx").write_bytes(bytes(model))
    code, err = invoke("export", "--verify", str(copy), "--run", str(run))
    assert (code, err) == (1, f"Error: {copy / 'player_1.onnx'} does not match the sha256 recorded in its manifest: "
                              f"its weights were changed or corrupted, so the league refuses it.\n")
    # a forger who also rewrites the manifest's digest is still caught by the run's own record
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["seats"]["player_1"]["sha256"] = hashlib.sha256(bytes(model)).hexdigest()
    (copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ExportError, match="does not match the sha256 the run recorded"):
        with Store.open(run) as store:
            verify_export(copy, store)
    assert invoke("export", "--verify", str(tmp_path / "nothing"))[1] == \
        f"Error: {tmp_path / 'nothing'} is not a league export (no readable manifest.json).\n"


def test_empty_league_and_players_without_weights(tmp_path: Path) -> None:
    run = tmp_path / "empty"
    with Store.open(run, create=True) as store:
        store.init_run("empty", "connect_four", {})
        store.add_player("mappo", "learner", algorithm="mappo", role="player")
    code, err = invoke("export", "--champion", "--out", str(tmp_path / "out"), "--run", str(run))
    assert (code, err) == (1, f"Error: the league at {run} has no player with weights to export; train one first, "
                              f"e.g. `league train --run {run}`.\n")
    code, err = invoke("export", "--player", "mappo", "--out", str(tmp_path / "out"), "--run", str(run))
    assert (code, err) == (1, "Error: player 'mappo' is a learner without stored weights.\n")
    code, err = invoke("export", "--player", "ghost", "--out", str(tmp_path / "out"), "--run", str(run))
    assert code == 1 and err.startswith("Error: no player 'ghost' in")
    assert invoke("export", "--out", str(tmp_path / "out"), "--run", str(run))[0] == 2  # usage: neither flag
    assert not (tmp_path / "out").exists()


def test_failed_check_leaves_nothing_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run = make_run(tmp_path / "run", "tic_tac_toe", "iql", "player")
    monkeypatch.setattr(league.app.export, "TOLERANCE", -1.0)  # no model can pass
    with Store.open(run) as store, pytest.raises(ExportError, match="does not match the league's policy"):
        export_player(store, tmp_path / "out", champion=True, n_games=2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]
    assert not (run / "exports").exists()


@pytest.mark.parametrize("game, algo, role, seats", [
    ("simple_spread", "vdn", "spreader", ["agent_0", "agent_1", "agent_2"]),
    ("simple_spread", "qmix", "spreader", ["agent_0", "agent_1", "agent_2"]),
    ("simple_tag", "iql", "predator", ["adversary_0", "adversary_1", "adversary_2"]),
    ("simple_tag(continuous=True)", "maddpg", "predator", ["adversary_0", "adversary_1", "adversary_2"]),
    ("kuhn_poker", "mappo", "player", ["player_0", "player_1"]),
])
def test_every_seat_of_a_team_or_role_is_exported(tmp_path: Path, game: str, algo: str, role: str,
                                                   seats: list[str]) -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run = make_run(tmp_path / "run", game, algo, role)
    with Store.open(run) as store:
        result = export_player(store, tmp_path / "out", champion=True, n_games=2)
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert sorted(result.files) == seats == sorted(manifest["seats"])
    assert result.max_abs_diff <= 1e-5 and result.actions_agree == result.observations > 0
    if algo == "maddpg":
        assert manifest["seats"]["adversary_0"]["outputs"] == {"action": ["batch", 5]}
    if game == "kuhn_poker":
        assert manifest["seats"]["player_0"]["actions"] == ["Pass", "Bet"]
        assert manifest["seats"]["player_0"]["league_plays"].startswith("a sample from")


def test_a_conv_q_network_seen_from_its_own_side_exports_and_matches(tmp_path: Path) -> None:
    config = {"conv": (4,), "hidden": (16,), "own_view": True, "negamax": True}
    run = make_run(tmp_path / "run", "connect_four", "iql", "player", config)
    with Store.open(run) as store:
        result = export_player(store, tmp_path / "out", champion=True, n_games=4)
    assert sorted(result.files) == ["player_0", "player_1"]
    assert result.max_abs_diff <= 1e-5 and result.actions_agree == result.observations > 0
