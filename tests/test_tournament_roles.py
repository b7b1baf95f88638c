"""Tournaments of asymmetric games: every table seats on each side an entrant of that side's role.

A tiny simple_adversary league (a learner per role, a few snapshots each) holds a round-robin,
a gauntlet, a Swiss tournament and an SPRT; baselines play any role; everyone is rated on one
scale and the leaderboard says each player's role.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

import games
from agents.baselines import RandomPolicy
from league.app.cli import cli
from league.play.runner import Entrant
from league.store.database import Store
from league.tournament.lineups import LineupError, Seating

LEAGUE = """\
game = "simple_adversary"
steps = 500
seed = 1
batch_games = 16
round_games = 32
checkpoint_every = 100000

[[learners]]
name = "adversary"
algo = "mappo"
role = "adversary"
config = { rollout_steps = 16, minibatches = 1, epochs = 1 }

[[learners]]
name = "good"
algo = "mappo"
role = "good"
config = { rollout_steps = 16, minibatches = 1, epochs = 1 }

[snapshots]
min_steps = 200
max_steps = 250
eval_games = 4

[evaluation]
every = 100000
opponents = ["random"]
games = 4
"""
ROLE = {"adversary-001": "adversary", "adversary-002": "adversary", "good-001": "good", "good-002": "good"}


def invoke(*args: str) -> tuple[int, str]:
    """(exit code, stdout) on success, (exit code, stderr) on failure."""
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout if result.exit_code == 0 else result.stderr


@pytest.fixture(scope="module")
def league(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("adversary")
    (root / "league.toml").write_text(LEAGUE)
    code, out = invoke("train", "--config", str(root / "league.toml"), "--run", str(root / "run"), "--backend", "local",
                       "--no-tensorboard")
    assert code == 0, out
    with Store.open(root / "run") as store:
        snapshots = {p.name: p.role for p in store.players() if p.weights_path}
    assert {name: snapshots.get(name) for name in ROLE} == ROLE
    return root


def tournament_games(run: Path) -> list:
    with Store.open(run) as store:
        return [m for m in store.matches() if m.origin == "tournament"]


def assert_seated_by_role(matches) -> None:
    for match in matches:
        adversary, good = match.sides
        assert ROLE.get(adversary, "adversary") == "adversary" and ROLE.get(good, "good") == "good", match.sides


def leaderboard(run: Path) -> dict[str, dict]:
    code, out = invoke("leaderboard", "--run", str(run), "--json")
    assert code == 0
    return {row["name"]: row for row in json.loads(out)}


def test_round_robin_of_both_roles_is_rated_on_one_scale(league: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(league / "run", run)
    code, out = invoke("tournament", "--run", str(run), "--games", "2", "--backend", "local")
    assert code == 0, out
    pairings = [line.split("  ")[0] for line in out.splitlines() if " vs " in line]
    # every adversary meets every good player, and random meets both roles from the other side
    assert sorted(pairings) == sorted([f"{a} vs {g}" for a in ("adversary-001", "adversary-002")
                                       for g in ("good-001", "good-002", "random")]
                                      + ["random vs good-001", "random vs good-002"])
    matches = tournament_games(run)
    assert len(matches) == 2 * len(pairings)
    assert_seated_by_role(matches)
    # the two games of a pair keep their lineup and swap seeds instead of sides
    by_index = {m.game_index: m for m in matches}
    for k in range(0, len(matches), 2):
        assert by_index[k].sides == by_index[k + 1].sides and by_index[k].seed != by_index[k + 1].seed
    rows = leaderboard(run)
    assert {name: rows[name]["role"] for name in (*ROLE, "random", "adversary", "good")} == {
        **ROLE, "random": "any", "adversary": "adversary", "good": "good"}
    assert all(rows[name]["games"] > 0 for name in ROLE)


def test_gauntlet_challenger_meets_the_field_of_the_other_role(league: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(league / "run", run)
    code, out = invoke("tournament", "--run", str(run), "--games", "2", "--format", "gauntlet", "--backend", "local",
                       "--entrants", "adversary-001,adversary-002,good-001,random", "--challengers", "good-001")
    assert code == 0, out
    matches = tournament_games(run)
    assert_seated_by_role(matches)
    assert Counter(m.sides for m in matches) == {("adversary-001", "good-001"): 2, ("adversary-002", "good-001"): 2,
                                                 ("random", "good-001"): 2}


def test_swiss_seats_every_round_by_role(league: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(league / "run", run)
    code, out = invoke("tournament", "--run", str(run), "--games", "2", "--format", "swiss", "--rounds", "2",
                       "--backend", "local", "--entrants", "adversary-001,adversary-002,good-001,good-002")
    assert code == 0, out
    matches = tournament_games(run)
    assert_seated_by_role(matches)
    lineups = Counter(m.sides for m in matches)
    assert len(matches) == 2 * 2 * 2 and set(lineups.values()) == {2}  # two tables a round, no rematch
    assert all(name in leaderboard(run) for name in ROLE)


def test_sprt_stops_asymmetric_pairings(league: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(league / "run", run)
    code, out = invoke("tournament", "--run", str(run), "--games", "8", "--sprt", "elo0=0,elo1=400",
                       "--backend", "local", "--entrants", "adversary-001,good-001,random")
    assert code == 0, out
    assert "llr (bounds)" in out
    assert_seated_by_role(tournament_games(run))


def test_entrants_that_cannot_fill_a_side_are_one_sentence(league: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(league / "run", run)
    before = len(tournament_games(run))
    code, out = invoke("tournament", "--run", str(run), "--games", "2", "--entrants", "adversary-001,adversary-002")
    assert code == 1
    assert out == ("Error: no entrant can play side 'good' (role good) of simple_adversary; add a snapshot of role good "
                   "or a baseline such as random\n")
    with Store.open(run) as store:
        assert store.tournaments() == []
    assert len(tournament_games(run)) == before


class RolePolicy(RandomPolicy):
    """A random player trained for one role: it covers only the seats of that role's sides."""

    def __init__(self, spec, role: str):
        super().__init__(spec)
        self.role = role

    def unsupported(self, spec, seats):
        roles = {side.role for side in spec.sides if set(side.seats) & set(seats)}
        return None if roles == {self.role} else f"this policy plays role {self.role}"


def test_lineups_of_roles_and_baselines() -> None:
    spec = games.load("simple_adversary").spec
    entrants = [Entrant("a1", RolePolicy(spec, "adversary")), Entrant("a2", RolePolicy(spec, "adversary")),
                Entrant("g1", RolePolicy(spec, "good")), Entrant("random", RandomPolicy(spec)),
                Entrant("r2", RandomPolicy(spec))]
    seating = Seating(spec, entrants)
    tables = seating.round_robin()
    assert [t.lineups for t in tables] == [
        (("a1", "g1"),), (("a1", "random"),), (("a1", "r2"),), (("a2", "g1"),), (("a2", "random"),),
        (("a2", "r2"),), (("random", "g1"),), (("r2", "g1"),),
        (("random", "r2"), ("r2", "random")),  # baselines can play either side: they swap sides
    ]
    # Swiss: the entrant who cannot be seated sits out; a1 and a2 never share a table
    tables, byes = seating.swiss(["a1", "a2", "g1", "random", "r2"], set())
    assert [t.first for t in tables] == [("a1", "g1"), ("a2", "random")] and byes == ["r2"]
    with pytest.raises(LineupError, match="no entrant can play side 'good'"):
        Seating(spec, entrants[:2]).check()
