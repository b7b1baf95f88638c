"""`league play`: a person against a policy in the terminal, with exact transcripts."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from click.testing import CliRunner

import games
from agents.registry import make_learner
from league.app.cli import cli
from league.play.entrants import save_snapshot
from league.app.human import PlayError, parse_move, play_game
from league.store.database import Store


def play(*args: str, input: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["play", *args], input=input)
    return result.exit_code, result.stdout, result.stderr


TIC_TAC_TOE = """\
tic_tac_toe: you (human) play first (x) against random.
. . .   0 1 2
. . .   3 4 5
. . .   6 7 8
Your move: 9
'9' is not a legal move; legal moves: 0 1 2 3 4 5 6 7 8
Your move: 4
random plays cell 8
. . .   0 1 2
. x .   3 4 5
. . o   6 7 8
Your move: 0
random plays cell 7
x . .   0 1 2
. x .   3 4 5
. o o   6 7 8
Your move: 8
'8' is not a legal move; legal moves: 1 2 3 5 6
Your move: 2
random plays cell 5
x . x   0 1 2
. x o   3 4 5
. o o   6 7 8
Your move: 6
x . x   0 1 2
. x o   3 4 5
x o o   6 7 8
You win (your return +1); stored as match 1.
"""


def test_tic_tac_toe_against_random_with_bad_input(tmp_path: Path) -> None:
    run = tmp_path / "ttt"
    code, out, err = play("--run", str(run), "--game", "tic_tac_toe", "--player", "random", "--seed", "1",
                          input="9\n4\n0\n8\n2\n6\n")
    assert (code, out, err) == (0, TIC_TAC_TOE, "")
    with Store.open(run) as store:
        (match,) = store.matches()
        assert (match.origin, match.game, match.sides, match.returns, match.ranks, match.length) == (
            "human", "tic_tac_toe", ("human", "random"), (1.0, -1.0), (0, 1), 7)
        assert store.player("human").kind == "baseline" and store.player("human").meta == {"human": True}
        assert store.ratings() == {}  # a person's games are stored, not rated
        assert store.run_info()["game"] == "tic_tac_toe"


def test_second_seat_and_giving_up_stores_nothing(tmp_path: Path) -> None:
    run = tmp_path / "ttt"
    code, out, err = play("--run", str(run), "--game", "tic_tac_toe", "--player", "random", "--seed", "1", "--second",
                          input="4\n")
    assert code == 1 and err == "Error: the game was abandoned before it ended; nothing was stored.\n"
    assert out.splitlines()[:5] == ["tic_tac_toe: you (human) play second (o) against random.", "random plays cell 7",
                                    ". . .   0 1 2", ". . .   3 4 5", ". x .   6 7 8"]
    with Store.open(run) as store:
        assert store.matches() == []


def test_kuhn_poker_by_move_name(tmp_path: Path) -> None:
    code, out, _ = play("--run", str(tmp_path / "kuhn"), "--game", "kuhn_poker", "--player", "random", "--seed", "5",
                        input="raise\nbet\n")
    assert code == 0
    assert out == """\
kuhn_poker: you (human) play first against random.
your card K; bets so far: none
Your move: raise
'raise' is not a legal move; legal moves: 0 (Pass), 1 (Bet)
Your move: bet
random plays Bet
cards: player_0 K, player_1 J; bets so far: bet, bet
You win (your return +2); stored as match 1.
"""


def test_connect_four_board_has_column_numbers(tmp_path: Path) -> None:
    code, out, _ = play("--run", str(tmp_path / "c4"), "--player", "mcts:5", "--seed", "2", "--second", input="")
    assert code == 1
    lines = out.splitlines()
    assert lines[0] == "connect_four: you (human) play second (o) against mcts:5."
    assert lines[1].startswith("mcts:5 plays column ")
    column = int(lines[1].rsplit(" ", 1)[1])
    assert lines[2] == "0 1 2 3 4 5 6" and lines[3:8] == [". . . . . . ."] * 5
    assert lines[8] == " ".join("x" if c == column else "." for c in range(7))


def test_against_a_stored_snapshot(tmp_path: Path) -> None:
    spec = games.load("tic_tac_toe").spec
    with Store.open(tmp_path / "run", create=True) as store:
        store.init_run("run", "tic_tac_toe", {})
        tensors, meta = make_learner("iql", spec, "player", seed=0).policy_state()
        save_snapshot(store, "iql-001", tensors, {**meta, "game": spec.name, "algorithm": "iql", "role": "player"})
        said: list[str] = []
        moves = itertools.cycle(str(a) for a in range(9))  # tries every cell in turn; illegal ones are re-asked
        result = play_game(store, games.load("tic_tac_toe"), "iql-001", ask=lambda prompt: next(moves),
                           say=said.append, human_first=False, seed=3, name="ada")
        assert result.sides == ("iql-001", "ada") and result.human == 1
        assert said[0] == "tic_tac_toe: you (ada) play second (o) against iql-001."
        assert said[-1].endswith(f"stored as match {result.match_id}.")
        assert store.matches(player="ada")[0].sides == ("iql-001", "ada")


def test_refusals_leave_no_run_behind(tmp_path: Path) -> None:
    run = tmp_path / "r"
    code, _, err = play("--run", str(run), "--game", "simple_spread", "--player", "random", input="")
    assert (code, err) == (1, "Error: league play needs a turn-based two-player OpenSpiel game such as connect_four, "
                              "tic_tac_toe or kuhn_poker; simple_spread is not one.\n")
    code, _, err = play("--run", str(run), "--game", "kuhn_poker", "--player", "mcts:10", input="")
    assert code == 1 and "mcts needs perfect information" in err
    code, _, err = play("--run", str(run), "--game", "tic_tac_toe", "--player", "nobody", input="")
    assert code == 1 and err.startswith("Error: no league run at")
    assert not run.exists()
    with Store.open(run, create=True) as store:
        with pytest.raises(PlayError, match="your name 'random' is also the opponent's"):
            play_game(store, games.load("tic_tac_toe"), "random", ask=input, say=print, name="random")


def test_parse_move() -> None:
    names = {0: "Pass", 1: "Bet"}
    assert [parse_move(t, [0, 1], names) for t in ("0", " BET ", "pass", "2", "-1", "", "raise")] == [0, 1, 0, None, None, None, None]
