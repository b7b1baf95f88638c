"""Users' own games (`module:factory`), `games.check_game`, and what a spec says about actions."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import games
from games.check import check_game, random_actions

EXAMPLES = Path(__file__).resolve().parents[1] / "runs" / "examples"

# A parallel game with Dict, Tuple and MultiDiscrete observations; league settings on the env.
USER_GAME = '''
import numpy as np
from gymnasium import spaces
from pettingzoo import ParallelEnv


class Duel(ParallelEnv):
    metadata = {"name": "duel_v0"}

    def __init__(self, rounds=3, broken=False):
        self.rounds, self.broken = rounds, broken
        self.possible_agents = ["red_0", "blue_0"]
        self.league_sides = {"red": ["red_0"], "blue": ["blue_0"]}
        self.league_kind = "competitive"
        self._act = spaces.Discrete(3)
        self._obs = spaces.Dict({
            "round": spaces.Discrete(rounds + 1),
            "last": spaces.Tuple((spaces.MultiDiscrete([3, 3]), spaces.Box(-1, 1, (2,), np.float32))),
        })

    def observation_space(self, agent):
        return self._obs

    def action_space(self, agent):
        return self._act

    def _observe(self, last):
        return {"round": self.t, "last": (np.array(last, dtype=np.int64), np.zeros(2, np.float32))}

    def reset(self, seed=None, options=None):
        self.agents, self.t = self.possible_agents[:], 0
        obs = {a: self._observe([0, 0]) for a in self.agents}
        return obs, {a: {} for a in self.agents}

    def step(self, actions):
        self.t += 1
        a, b = actions["red_0"], actions["blue_0"]
        win = (a - b) % 3 == 1
        rewards = {"red_0": float(win), "blue_0": -float(win)}
        if self.broken:
            rewards["red_0"] = float("nan")
        over = self.t >= self.rounds
        obs = {agent: self._observe([a, b]) for agent in self.agents}
        terms = dict.fromkeys(self.agents, False)
        truncs = dict.fromkeys(self.agents, over)
        infos = {agent: {} for agent in self.agents}
        if over:
            self.agents = []
        return obs, rewards, terms, truncs, infos


def make(rounds=3, broken=False):
    return Duel(rounds, broken)


def not_an_env():
    return 42
'''


@pytest.fixture
def user_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A current directory holding the user's module (`duel.py`), with a unique name per test."""
    name = f"duel_{tmp_path.name.replace('-', '_')}"
    (tmp_path / f"{name}.py").write_text(USER_GAME)
    monkeypatch.chdir(tmp_path)
    return tmp_path / name


def test_a_module_in_the_current_directory_loads_with_sides_from_the_env(user_dir: Path) -> None:
    spec = games.load(f"{user_dir.name}:make").spec
    assert [(s.name, s.seats, s.role) for s in spec.sides] == [("red", ("red_0",), "red"), ("blue", ("blue_0",), "blue")]
    assert spec.kind == "competitive" and not spec.turn_based and not spec.perfect_information
    # Dict (keys in order: last, round) = Tuple(MultiDiscrete one-hots 3 + 3, Box 2) + Discrete(4) one-hot
    assert spec.seat("red_0").obs_shape == (3 + 3 + 2 + 4,)
    env = games.load(f"{user_dir.name}:make").make(2, seed=0)
    np.testing.assert_array_equal(env.obs["red_0"][0], [1, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0])
    env.step({"red_0": np.array([1, 2]), "blue_0": np.array([0, 0])})
    np.testing.assert_array_equal(env.obs["blue_0"][1], [0, 0, 1, 1, 0, 0, 0, 0, 0, 1, 0, 0])


def test_options_symmetric_and_bad_input(user_dir: Path) -> None:
    mod = user_dir.name
    game = games.load(f"{mod}:make(rounds=5, symmetric=True)")
    assert game.spec.roles == ("player",) and game.spec.symmetric
    assert game.ref == f"{mod}:make(rounds=5, symmetric=True)"
    assert len(check_game(f"{mod}:make(rounds=5)")) == 0
    with pytest.raises(games.UnknownChoiceError, match="no option 'round'; its options: rounds, broken, symmetric"):
        games.load(f"{mod}:make(round=5)")
    with pytest.raises(games.GameError, match="options"):
        games.load(f"{mod}:make(rounds=__import__('os'))")  # values are literals, never evaluated
    with pytest.raises(games.UserGameError, match="returned int, not a PettingZoo AECEnv or ParallelEnv"):
        games.load(f"{mod}:not_an_env")
    with pytest.raises(games.UnknownChoiceError, match="no callable 'nope'.*its callables: Duel, make, not_an_env"):
        games.load(f"{mod}:nope")
    with pytest.raises(games.UserGameError, match="PYTHONPATH"):
        games.load("no_such_module_here:make")


def test_league_settings_are_checked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    name = f"rps_{tmp_path.name.replace('-', '_')}"
    (tmp_path / f"{name}.py").write_text(textwrap.dedent('''
        from pettingzoo.classic import rps_v2

        def typo():
            return rps_v2.env()
        typo.league_sides = {"first": ["player_0"], "second": ["player_9"]}

        def roles():
            return rps_v2.env()
        roles.league_sides = {"first": ["player_0"], "second": ["player_1"]}
        roles.league_roles = {"third": "player"}

        def fine():
            return rps_v2.env()
        fine.league_sides = {"first": ["player_0"], "second": ["player_1"]}
        fine.league_roles = {"first": "player", "second": "player"}
        fine.league_kind = "competitive"
    '''))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(games.UnknownChoiceError, match="'player_9', which is not an agent.*agents: player_0, player_1"):
        games.load(f"{name}:typo")
    with pytest.raises(games.UnknownChoiceError, match="side 'third'.*sides: first, second"):
        games.load(f"{name}:roles")
    spec = games.load(f"{name}:fine").spec  # read from the factory
    assert spec.symmetric and spec.kind == "competitive"


def test_rps_with_discrete_observations_plays() -> None:
    game = games.load("pettingzoo.classic.rps_v2:env")
    spec = game.spec
    assert spec.seat("player_0").obs_shape == (4,) and spec.seat("player_0").action_names == ("Rock", "Paper", "Scissors")
    env = game.make(2, seed=0)
    rng = np.random.default_rng(0)
    ended = 0
    for _ in range(70):
        result = env.step(random_actions(env, rng))
        ended += len(result.finished)
        assert all(np.isin(env.obs[s], (0.0, 1.0)).all() for s in spec.seat_names)
    assert ended >= 2


def test_check_game_reports_plain_sentences(user_dir: Path) -> None:
    assert check_game(f"{user_dir.name}:make") == []
    problems = check_game(f"{user_dir.name}:make(broken=True)")
    assert problems and all(isinstance(p, str) and "\n" not in p for p in problems)
    assert any("NaN" in p or "finite" in p or "rewards add up" in p or "api_test" in p for p in problems)
    assert check_game("no_such_game")[0].startswith("unknown game 'no_such_game'")


def test_the_example_game(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(EXAMPLES)
    assert check_game("my_game:env(stones=9)") == []
    spec = games.load("my_game:env(stones=7)").spec
    assert spec.side_names == ("first", "second") and spec.roles == ("player",) and spec.kind == "competitive"
    assert spec.perfect_information and spec.seat("player_0").action_names == ("take 1", "take 2", "take 3")


def test_modules_are_refused_when_not_allowed() -> None:
    with pytest.raises(games.ModuleNotAllowedError, match="'os:abort' names a Python module"):
        games.load("os:abort", allow_modules=False)
    assert games.load("tic_tac_toe", allow_modules=False).spec.name == "tic_tac_toe"
    assert games.load("openspiel:hex(board_size=3)", allow_modules=False).spec.perfect_information


def test_a_users_agents_module_does_not_shadow_the_project(tmp_path: Path) -> None:
    """A user's agents.py and game in the current directory; the project's agents package still imports."""
    (tmp_path / "agents.py").write_text("raise RuntimeError('the user agents.py was imported')\n")
    (tmp_path / "mygame.py").write_text("from pettingzoo.classic import rps_v2\n\ndef env():\n    return rps_v2.env()\n")
    script = tmp_path / "scripts" / "run.py"  # outside the current directory, so it is not sys.path[0]
    script.parent.mkdir()
    script.write_text("import games\nassert games.load('mygame:env').spec.seat_names == ('player_0', 'player_1')\n"
                      "import agents.base\nprint('ok')\n")
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]


@pytest.mark.parametrize("name, perfect, first_names", [
    ("connect_four", True, ("x0", "x1", "x2", "x3", "x4", "x5", "x6")),
    ("tic_tac_toe", True, ("x(0,0)", "x(0,1)", "x(0,2)", "x(1,0)", "x(1,1)", "x(1,2)", "x(2,0)", "x(2,1)", "x(2,2)")),
    ("kuhn_poker", False, ("Pass", "Bet")),
    ("leduc_poker", False, ("Fold", "Call", "Raise")),
    ("connect_four_pz", True, tuple(f"column {a}" for a in range(7))),
    ("simple_tag", False, ("no_action", "move_left", "move_right", "move_down", "move_up")),
    ("openspiel:chess", True, None),
])
def test_perfect_information_and_action_names(name: str, perfect: bool, first_names: tuple[str, ...] | None) -> None:
    spec = games.load(name).spec
    assert spec.perfect_information is perfect
    assert spec.seats[0].action_names == first_names


def test_replay_text_follows_the_episode_seed() -> None:
    env = games.load("leduc_poker").make(1, seed=5)
    seed = int(env.episode_seed[0])
    moves, shown = [], []
    while True:
        seat = next(s for s in env.spec.seat_names if env.acting[s][0])
        moves.append(int(np.flatnonzero(env.mask[seat][0])[-1]))
        shown.append(str(env.states[0]))  # the engine's text before each move (chance already drawn)
        result = env.step({seat: np.array([moves[-1]])})
        if len(result.finished):
            break
    text = games.replay_text("leduc_poker", seed, moves)
    assert text[:-1] == shown and len(text) == len(moves) + 1
    assert games.replay_text("leduc_poker", seed + 1, [])[0] != shown[0] or games.replay_text("leduc_poker", seed + 2, [])[0] != shown[0]
    with pytest.raises(games.GameError, match="not legal"):
        games.replay_text("tic_tac_toe", 0, [4, 4])
    with pytest.raises(games.GameError, match="OpenSpiel game"):
        games.replay_text("simple_tag", 0, [])
