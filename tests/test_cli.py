"""The command line: exact output, JSON for scripts, and one-sentence errors with exit status 1."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from league.app.cli import cli


@pytest.fixture(scope="module")
def played(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run = tmp_path_factory.mktemp("cli") / "ttt"
    result = CliRunner().invoke(cli, ["tournament", "--game", "tic_tac_toe", "--entrants", "random,mcts:5,mcts:50",
                                      "--games", "4", "--run", str(run)])
    assert result.exit_code == 0, result.output
    return run


def invoke(*args: str) -> tuple[int, str]:
    """(exit code, stdout) on success, (exit code, stderr) on failure."""
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout if result.exit_code == 0 else result.stderr


LEADERBOARD = """\
rank  name     kind      algorithm     mu  sigma  score  games  W  D  L
   1  mcts:50  baseline  -          36.94   4.47  23.52      8  8  0  0
   2  mcts:5   baseline  -          25.81   4.20  13.22      8  4  0  4
   3  random   baseline  -          14.02   4.88  -0.62      8  0  0  8
"""

PAIRINGS = """\
pairing            games  score  elo [95%]
random vs mcts:5       4  0/4    -inf [-inf, +291]
random vs mcts:50      4  0/4    -inf [-inf, +291]
mcts:5 vs mcts:50      4  0/4    -inf [-inf, +291]
"""


def test_tournament_prints_summary_and_leaderboard(tmp_path: Path) -> None:
    code, out = invoke("tournament", "--game", "tic_tac_toe", "--entrants", "random,mcts:5,mcts:50", "--games", "4",
                       "--run", str(tmp_path / "r"))
    assert (code, out) == (0, "round-robin on tic_tac_toe: 12 games played, 0 already stored, 12 in the schedule\n"
                           + PAIRINGS + LEADERBOARD)


def test_leaderboard_exact(played: Path) -> None:
    assert invoke("leaderboard", "--run", str(played)) == (0, LEADERBOARD)


def test_leaderboard_json_and_csv(played: Path) -> None:
    code, out = invoke("leaderboard", "--run", str(played), "--json")
    rows = json.loads(out)
    assert code == 0 and [r["name"] for r in rows] == ["mcts:50", "mcts:5", "random"]
    assert rows[0] == {"rank": 1, "name": "mcts:50", "kind": "baseline", "algorithm": None, "mu": rows[0]["mu"],
                       "sigma": rows[0]["sigma"], "score": rows[0]["score"], "games": 8, "wins": 8, "draws": 0, "losses": 0,
                       "forfeits": 0, "exploitability": None, "per_capita": None}
    assert round(rows[0]["mu"] - 3 * rows[0]["sigma"], 9) == round(rows[0]["score"], 9)
    code, out = invoke("leaderboard", "--run", str(played), "--csv")
    assert out.splitlines()[0] == "rank,name,kind,algorithm,mu,sigma,score,games,wins,draws,losses,forfeits,exploitability,per_capita"
    assert out.splitlines()[3].startswith("3,random,baseline,,")


def test_matches_exact(played: Path) -> None:
    code, out = invoke("matches", "--run", str(played), "--player", "mcts:5", "--limit", "3")
    assert code == 0
    assert out == """\
id  origin      sides              returns  ranks  length  seed
 8  tournament  mcts:5 vs random   +1 -1    0 1         7  8435702009653986085
 9  tournament  mcts:5 vs random   +1 -1    0 1         7  972343396914324611
11  tournament  mcts:5 vs mcts:50  -1 +1    1 0         8  2255112855349303446
"""
    code, out = invoke("matches", "--run", str(played), "--json")
    games = json.loads(out)
    assert len(games) == 12 and sorted(g["game_index"] for g in games) == list(range(12))
    assert set(games[0]) == {"id", "origin", "tournament", "game_index", "game", "seed", "sides", "returns", "ranks",
                             "length", "truncated", "forfeit"}


def test_payoff_exact(played: Path) -> None:
    assert invoke("payoff", "--run", str(played)) == (0, """\
         mcts:50   mcts:5    random
mcts:50  -         1.00 (4)  1.00 (4)
mcts:5   0.00 (4)  -         1.00 (4)
random   0.00 (4)  0.00 (4)  -
""")
    code, out = invoke("payoff", "--run", str(played), "--json")
    data = json.loads(out)
    assert data["names"] == ["mcts:50", "mcts:5", "random"] and data["score"][0][0] is None and data["games"][0][1] == 4


def test_games_lists_every_game() -> None:
    code, out = invoke("games")
    assert code == 0
    assert out.splitlines()[0].split() == ["game", "kind", "backend", "moves", "sides", "(seats)"]
    assert "simple_tag                  competitive  pettingzoo  simultaneous  predators (3) vs prey (1)" in out
    rows = json.loads(invoke("games", "--json")[1])
    tag = next(r for r in rows if r["name"] == "simple_tag")
    assert tag["sides"][0] == {"name": "predators", "role": "predator", "seats": ["adversary_0", "adversary_1", "adversary_2"]}
    assert tag["options"] == {"continuous": False, "max_cycles": 25}


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("args, message", [
    (["--games", "3"], "Error: --games must be even so that every pair plays both sides equally often, got 3\n"),
    (["--entrants", "random,nobody"], "Error: unknown entrant 'nobody'; valid entrants: random, mcts:N, alphabeta, scripted, action:K, \n"),
    (["--game", "tic_tac_toe"], "Error: {run}/league.db holds a league of connect_four, not tic_tac_toe.\n"),
    (["--game", "conect_four"], "Error: unknown game 'conect_four' (did you mean 'connect_four'?); valid games: "),
    (["--entrants", "random,mcts:5", "--format", "knockout"], "Error: Invalid value for '--format'"),
])
def test_bad_tournaments_leave_the_run_untouched(tmp_path: Path, args: list[str], message: str) -> None:
    run = tmp_path / "run"
    code, _ = invoke("tournament", "--entrants", "random,mcts:5", "--games", "2", "--run", str(run))
    assert code == 0
    before = digest(run / "league.db")
    code, out = invoke("tournament", *args, "--run", str(run))
    assert code != 0
    expected = message.format(run=run)
    if message.endswith(", \n"):  # the list of valid entrants ends with the run's players
        assert out.startswith(expected[:-3]) and "random" in out
    else:
        assert out.startswith(expected) or expected in out
    assert digest(run / "league.db") == before


def test_missing_run_and_foreign_file(tmp_path: Path) -> None:
    code, out = invoke("leaderboard", "--run", str(tmp_path / "nothing"))
    assert (code, out) == (1, f"Error: no league run at {tmp_path / 'nothing'}; create one with `league train --run {tmp_path / 'nothing'}`.\n")
    assert not (tmp_path / "nothing").exists()
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "league.db").write_bytes(b"not a database at all" * 100)
    before = digest(foreign / "league.db")
    code, out = invoke("matches", "--run", str(foreign))
    assert (code, out) == (1, f"Error: {foreign / 'league.db'} is not a league database.\n")
    code, out = invoke("tournament", "--run", str(foreign))
    assert code == 1 and digest(foreign / "league.db") == before


def test_new_run_created_only_by_a_valid_command(tmp_path: Path) -> None:
    run = tmp_path / "fresh"
    code, _ = invoke("tournament", "--games", "3", "--run", str(run))
    assert code == 1 and not run.exists()


def test_empty_run_leaderboard(tmp_path: Path) -> None:
    from league.store.database import Store

    Store.open(tmp_path / "empty", create=True).close()
    code, out = invoke("leaderboard", "--run", str(tmp_path / "empty"))
    assert (code, out) == (1, f"Error: the run at {tmp_path / 'empty'} has no rated players yet; play a tournament or train first.\n")


def test_version_and_help() -> None:
    code, out = invoke("--version")
    assert (code, out) == (0, "league, version 0.1.0\n")
    code, out = invoke("--help")
    assert code == 0 and "Example:" in out and "tournament" in out


def test_algos_lists_algorithms_and_what_they_can_learn() -> None:
    code, out = invoke("algos")
    assert code == 0 and [line.split()[0] for line in out.splitlines()] == ["algorithm", "iql", "maddpg", "mappo", "qmix", "vdn"]
    code, out = invoke("algos", "--game", "connect_four")
    assert out.splitlines() == ["algorithm  role player", "iql        yes", "maddpg     no", "mappo      yes",
                                "qmix       yes", "vdn        yes"]
    rows = json.loads(invoke("algos", "--game", "connect_four", "--json")[1])
    assert "turn-based" in next(r for r in rows if r["name"] == "maddpg")["roles"]["player"]
