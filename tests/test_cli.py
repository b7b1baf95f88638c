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
    assert tag["options"] == {"continuous": False, "max_cycles": 25, "vectorised": False}


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
    assert code == 0 and [line.split()[0] for line in out.splitlines()] == ["algorithm", "alphazero", "iql", "maddpg", "mappo", "qmix", "vdn"]
    code, out = invoke("algos", "--game", "connect_four")
    assert out.splitlines() == ["algorithm  role player", "alphazero  yes", "iql        yes", "maddpg     no",
                                "mappo      yes", "qmix       yes", "vdn        yes"]
    rows = json.loads(invoke("algos", "--game", "connect_four", "--json")[1])
    assert "turn-based" in next(r for r in rows if r["name"] == "maddpg")["roles"]["player"]


# -- the commands wired from issues 15-19 -----------------------------------------------------

def run_cli(*args: str, input: str | None = None):
    return CliRunner().invoke(cli, list(args), input=input)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    run = tmp_path_factory.mktemp("train") / "t"
    result = run_cli("train", "--game", "tic_tac_toe", "--algo", "iql", "--steps", "2000", "--backend", "local",
                     "--lag", "0", "--device", "cpu", "--log-every", "1000", "--run", str(run))
    assert result.exit_code == 0, result.output
    return run, result.stdout


def test_train_logs_lines_writes_tensorboard_and_ends_with_the_final_screen(trained) -> None:
    run, out = trained
    progress = [line for line in out.splitlines() if line.startswith("round ")]
    assert progress and progress[0].startswith("round 1 | steps ") and " steps/s | pool " in progress[0]
    assert "trained iql " in out and "\nrank  name " in out
    assert f"Run directory: {run} (league.db, config.toml, snapshots/, tensorboard/)\nChampion: iql-001 (snapshot of iql" in out
    assert out.splitlines()[-1].startswith(f"  tensorboard --logdir {run / 'tensorboard'}  ")
    assert out.splitlines()[-1].endswith("   # training curves, live while it trains")
    assert any((run / "tensorboard").rglob("events.out.tfevents.*"))
    toml = (run / "config.toml").read_text()
    assert "lag = 0\n" in toml and 'device = "cpu"\n' in toml


def test_config_prints_what_train_resolves(trained) -> None:
    from league.app.setup import resolve_train_config
    from league.app.show_config import format_config

    config, _ = resolve_train_config(None, "x", game="tic_tac_toe", algos=["iql"], steps=3000)
    assert invoke("config", "--game", "tic_tac_toe", "--algo", "iql", "--steps", "3000") == (0, format_config(config) + "\n")
    rows = {row["key"]: row for row in json.loads(invoke("config", "--run", str(trained[0]), "--json")[1])}
    assert (rows["steps"]["value"], rows["lag"]["value"], rows["device"]["value"]) == ("2000", "0", '"cpu"')


def test_train_uses_every_core_but_one_by_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    from league.app import commands_train
    from league.app.setup import RunError

    asked = []

    def fake_backend(name, **options):
        asked.append((name, options))
        raise RunError("stopped before any run was created")

    monkeypatch.setattr(commands_train, "make_backend", fake_backend)
    code, err = invoke("train", "--game", "tic_tac_toe", "--algo", "iql", "--run", str(tmp_path / "r"))
    assert (code, err) == (1, "Error: stopped before any run was created\n")
    assert asked == [("process", {"workers": max(1, os.cpu_count() - 1)})] and not (tmp_path / "r").exists()


def test_train_on_cuda_without_a_gpu_is_one_sentence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    code, err = invoke("train", "--device", "cuda", "--run", str(tmp_path / "r"))
    assert code == 1 and err.startswith("Error: --device cuda needs a GPU that torch can use, and torch sees none here")
    assert err.count("\n") == 1 and not (tmp_path / "r").exists()


def test_a_learner_plays_as_its_latest_snapshot(trained) -> None:
    run, _ = trained
    result = run_cli("tournament", "--entrants", "iql,random", "--games", "2", "--run", str(run))
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith("iql is a learner: its latest snapshot iql-001 plays for it\n")
    assert "iql-001 vs random      2" in result.stdout
    result = run_cli("play", "--player", "iql", "--run", str(run), input="")
    assert result.stderr.startswith("iql is a learner: its latest snapshot iql-001 plays for it\n")


def test_check_game(tmp_path: Path) -> None:
    assert invoke("check-game", "tic_tac_toe") == (0, "tic_tac_toe passes every check\n")
    result = run_cli("check-game", "tic_tac_tow")
    assert result.exit_code == 1
    assert result.stdout.startswith("unknown game 'tic_tac_tow' (did you mean 'tic_tac_toe'?); valid games: ")
    assert result.stdout.count("\n") == 1


def test_datasette_metadata(played: Path, tmp_path: Path) -> None:
    from league.store.views import metadata_json

    expected = f"wrote {played / 'metadata.json'}; browse the run with: datasette {played / 'league.db'} -m {played / 'metadata.json'}\n"
    assert invoke("datasette-metadata", "--run", str(played)) == (0, expected)
    assert invoke("datasette-metadata", "--run", str(played)) == (0, expected)  # its own file is replaced
    assert (played / "metadata.json").read_text() == metadata_json(played.name)
    other = tmp_path / "notes.json"
    other.write_text('{"mine": 1}')
    code, err = invoke("datasette-metadata", "--run", str(played), "--out", str(other))
    assert (code, err) == (1, f"Error: {other} exists and is not an earlier Datasette metadata file; choose another --out.\n")
    assert other.read_text() == '{"mine": 1}'


def test_replay_and_matches_moves_records_and_pages(played: Path, tmp_path: Path) -> None:
    code, out = invoke("replay", "8", "--run", str(played))
    assert code == 0 and out.startswith("match 8: tic_tac_toe, seed 8435702009653986085\nfirst: mcts:5; second: random\n\n"
                                        "start\n...\n...\n...\n\n1. first (mcts:5): x(2,0)\n")
    assert out.endswith("result: first (mcts:5) wins, returns +1 -1\n")
    assert invoke("replay", "99", "--run", str(played)) == (
        1, f"Error: there is no match 99 in {played / 'league.db'}; `league matches` lists them\n")
    code, out = invoke("matches", "--run", str(played), "--player", "mcts:5", "--limit", "3", "--moves")
    assert (code, out) == (0, """\
id  origin      sides              returns  ranks  length  seed                 moves
 8  tournament  mcts:5 vs random   +1 -1    0 1         7  8435702009653986085  x(2,0) o(0,1) x(2,1) o(2,2) x(1,0) o(0,2) x(0,0)
 9  tournament  mcts:5 vs random   +1 -1    0 1         7  972343396914324611   x(0,2) o(0,1) x(0,0) o(2,1) x(2,2) o(2,0) x(1,2)
11  tournament  mcts:5 vs mcts:50  -1 +1    1 0         8  2255112855349303446  x(0,1) o(0,2) x(1,1) o(2,1) x(0,0) o(2,2) x(2,0) o(1,2)
""")
    assert json.loads(invoke("matches", "--run", str(played), "--limit", "1", "--moves", "--json")[1])[0]["moves"] \
        .startswith("x(")
    assert "moves" not in json.loads(invoke("matches", "--run", str(played), "--limit", "1", "--json")[1])[0]
    ids = [g["id"] for g in json.loads(invoke("matches", "--run", str(played), "--limit", "2", "--offset", "1", "--json")[1])]
    assert ids == [10, 11]
    ids = [g["id"] for g in json.loads(invoke("matches", "--run", str(played), "--since", "10", "--json")[1])]
    assert ids == [11, 12]
    out_file = tmp_path / "games.txt"
    assert invoke("matches", "--run", str(played), "--records", str(out_file)) == (0, f"wrote 12 games to {out_file}\n")
    assert out_file.read_text().startswith('[Game "tic_tac_toe"]\n[Match "1"]\n')


def test_tournament_openings_pentanomial_and_reports(tmp_path: Path) -> None:
    result = run_cli("tournament", "--game", "tic_tac_toe", "--entrants", "random,mcts:5", "--games", "4",
                     "--openings", "random:2", "--pentanomial", "--report-every", "2", "--concurrency", "2",
                     "--run", str(tmp_path / "r"))
    assert result.exit_code == 0, result.output
    assert result.stdout == """\
openings: random:2
round-robin on tic_tac_toe: 4 games played, 0 already stored, 4 in the schedule
pairing           games  score  elo [95%]        ptnml(0-2)
random vs mcts:5      4  1.5/4  -89 [-239, +34]  0 1 1 0 0
rank  name    kind      algorithm     mu  sigma  score  games  W  D  L
   1  mcts:5  baseline  -          26.65   4.39  13.49      4  2  1  1
   2  random  baseline  -          23.35   4.39  10.19      4  1  1  2
"""
    assert result.stderr.startswith("after 2 of 4 games:\npairing           games  score  elo [95%]")
    assert "\nafter 4 of 4 games:\n" in result.stderr and "ptnml(0-2)" in result.stderr
    same = run_cli("tournament", "--game", "tic_tac_toe", "--entrants", "random,mcts:5", "--games", "4",
                   "--openings", "random:2", "--batch", "4", "--run", str(tmp_path / "r"))
    assert same.exit_code == 0 and "0 games played, 4 already stored" in same.stdout  # --batch: the same tournament


def test_config_knows_every_algorithms_hyperparameters() -> None:
    """`league config` lists the settings of every algorithm `league algos` names, and the same class the learner reads."""
    from agents.registry import ALGORITHMS, algorithm
    from league.app.show_config import HYPERPARAMETERS, hyperparameter_class

    assert sorted(HYPERPARAMETERS) == sorted(ALGORITHMS)
    assert all(hyperparameter_class(name) is algorithm(name).config_class for name in ALGORITHMS)
