"""Games of three or more sides: rated free-for-alls in training and in tournaments.

A tiny three-player Kuhn poker league rates its learner, its snapshots and random; training
fills every side by its own draw; tournaments seat every entrant on every side equally often,
in round-robins, gauntlets and Swiss rounds alike.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from league.app.cli import cli
from league.play.runner import GameRecord
from league.rate.ratings import Rater, Rating
from league.rate.updates import rate_records
from league.store.database import Store

GAME = "openspiel:kuhn_poker(players=3)"
LEAGUE = f"""\
game = "{GAME}"
steps = 1500
seed = 2
batch_games = 32
round_games = 96
checkpoint_every = 100000

[[learners]]
algo = "mappo"
config = {{ rollout_steps = 16, minibatches = 1, epochs = 1 }}

[snapshots]
min_steps = 300
max_steps = 400
eval_games = 6

[evaluation]
every = 700
opponents = ["random"]
games = 6
"""


def invoke(*args: str) -> tuple[int, str]:
    """(exit code, stdout) on success, (exit code, stderr) on failure."""
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout if result.exit_code == 0 else result.stderr


def leaderboard(run: Path) -> dict[str, dict]:
    code, out = invoke("leaderboard", "--run", str(run), "--json")
    assert code == 0, out
    return {row["name"]: row for row in json.loads(out)}


@pytest.fixture(scope="module")
def league(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("kuhn3")
    (root / "league.toml").write_text(LEAGUE)
    code, out = invoke("train", "--config", str(root / "league.toml"), "--run", str(root / "run"), "--backend", "local",
                       "--no-tensorboard")
    assert code == 0, out
    return root / "run"


def copy(league: Path, tmp_path: Path) -> Path:
    shutil.copytree(league, tmp_path / "run")
    return tmp_path / "run"


def test_three_player_league_rates_learner_snapshots_and_random(league: Path) -> None:
    rows = leaderboard(league)
    assert rows["mappo"]["games"] > 0 and rows["random"]["games"] > 0
    with Store.open(league) as store:
        training = [m for m in store.matches() if m.origin == "training"]
        snapshots = [p.name for p in store.players() if p.kind == "snapshot"]
    assert len(snapshots) >= 2
    # matchmaking fills every other side with a draw of its own: once snapshots are in the pool,
    # some games seat several different players, and those are rated
    mixed = [m for m in training if len(set(m.sides)) > 1]
    assert mixed and all(len(m.sides) == 3 for m in training)
    assert {name for m in mixed for name in m.sides} - {"mappo"} <= set(snapshots) | {"random"}
    assert sum(rows[name]["games"] for name in snapshots) > 0


def test_three_player_round_robin_seats_everyone_everywhere(league: Path, tmp_path: Path) -> None:
    run = copy(league, tmp_path)
    entrants = ["mappo-001", "mappo-002", "random", "action:1"]
    code, out = invoke("tournament", "--run", str(run), "--entrants", ",".join(entrants), "--games", "3",
                       "--backend", "local")
    assert code == 0, out
    assert out.splitlines()[0] == f"round-robin on {GAME}: 12 games played, 0 already stored, 12 in the schedule"
    assert "mappo-001 vs mappo-002 vs random " in out
    with Store.open(run) as store:
        matches = [m for m in store.matches() if m.origin == "tournament"]
    assert len(matches) == 4 * 3  # every combination of three, each in its three rotations
    seats = Counter((name, k) for m in matches for k, name in enumerate(m.sides))
    assert set(seats.values()) == {3} and len(seats) == 4 * 3  # every entrant on every side equally often
    rows = leaderboard(run)
    for name in entrants:
        row = rows[name]
        assert row["games"] >= 9 and row["wins"] + row["draws"] + row["losses"] >= 9
    # resuming plays nothing twice
    code, out = invoke("tournament", "--run", str(run), "--entrants", ",".join(entrants), "--games", "3",
                       "--backend", "local")
    assert code == 0 and out.splitlines()[0] == f"round-robin on {GAME}: 0 games played, 12 already stored, 12 in the schedule"


def test_three_player_gauntlet_and_swiss(league: Path, tmp_path: Path) -> None:
    run = copy(league, tmp_path)
    code, out = invoke("tournament", "--run", str(run), "--entrants", "mappo-002,random,action:0,action:1",
                       "--challengers", "mappo-002", "--format", "gauntlet", "--games", "3", "--backend", "local")
    assert code == 0, out
    with Store.open(run) as store:
        gauntlet = [m for m in store.matches() if m.origin == "tournament"]
    assert len(gauntlet) == 3 * 3 and all("mappo-002" in m.sides for m in gauntlet)
    code, out = invoke("tournament", "--run", str(run), "--entrants", "mappo-001,mappo-002,random,action:0,action:1",
                       "--format", "swiss", "--rounds", "2", "--games", "3", "--backend", "local")
    assert code == 0, out
    with Store.open(run) as store:
        swiss = [m for m in store.matches() if m.origin == "tournament"][len(gauntlet):]
    # five entrants, tables of three: one table a round, two byes
    assert len(swiss) == 2 * 3 and len({frozenset(m.sides) for m in swiss}) == 2


@pytest.mark.parametrize("args, message", [
    (["--entrants", "random,action:0", "--games", "3"],
     f"Error: {GAME} has 3 sides: a tournament needs at least 3 entrants, got 2\n"),
    (["--entrants", "random,action:0,action:1", "--games", "4"],
     (f"Error: --games must be a multiple of 3 so that every entrant plays each of the 3 sides of {GAME} equally "
      f"often, got 4\n")),
    (["--entrants", "random,action:0,action:1", "--games", "3", "--sprt", "elo0=0,elo1=10"],
     "Error: --sprt needs games of two sides\n"),
])
def test_bad_many_side_tournaments_are_one_sentence(tmp_path: Path, args: list[str], message: str) -> None:
    code, out = invoke("tournament", "--game", GAME, *args, "--run", str(tmp_path / "run"))
    assert (code, out) == (1, message)
    assert not (tmp_path / "run").exists()


def test_free_for_all_ratings_and_stand_ins() -> None:
    rater = Rater(anchors={"anchor": Rating(0.0, 1.0)})
    game = GameRecord(0, 1, ("a", "b", "c"), (2.0, -1.0, -1.0), (), (0, 1, 1), 3, False)
    (update,) = rate_records([game], rater, {})
    assert update["a"].mu > 25 > update["b"].mu and update["b"].mu == pytest.approx(update["c"].mu, abs=0.01)
    # an entrant on two sides plays through two stand-ins: it wins and loses by half
    split = GameRecord(1, 1, ("a", "b", "a"), (2.0, -1.0, -1.0), (), (0, 1, 2), 3, False)
    (update,) = rate_records([split], rater, {})
    alone = rate_records([GameRecord(2, 1, ("a", "b", "c"), (2.0, -1.0, -1.0), (), (0, 1, 2), 3, False)], rater, {})[0]
    assert update["a"].mu == pytest.approx((alone["a"].mu + alone["c"].mu) / 2)
    assert update["b"].mu == pytest.approx(alone["b"].mu)
    # a pinned player stays pinned; a game of one entrant on every side rates nobody
    (pinned,) = rate_records([GameRecord(3, 1, ("anchor", "b", "anchor"), (1, 0, 0), (), (0, 1, 1), 3, False)], rater, {})
    assert pinned["anchor"] == Rating(0.0, 1.0) and pinned["b"].mu < 25
    assert rate_records([GameRecord(4, 1, ("a", "a", "a"), (1, 0, 0), (), (0, 1, 1), 3, False)], rater, {}) == [{}]


def test_readme_three_player_tournament_is_real_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    command = f"tournament --game '{GAME}' --entrants random,action:0,action:1 --games 6 --run runs/kuhn3"
    shown = readme[readme.index(f"$ league {command}\n") + len(command) + 10:]
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["tournament", "--game", GAME, "--entrants", "random,action:0,action:1",
                                      "--games", "6", "--run", "runs/kuhn3"])
    assert result.exit_code == 0 and result.stdout == shown[:shown.index("```")]
