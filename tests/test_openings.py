"""Openings: random ones drawn from the seed, books read from files, the default for deterministic
entrants, and the runner playing them before the entrants take over."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import games
from league.play.entrants import resolve
from league.play.openings import (
    OpeningError,
    needs_openings,
    plays_deterministically,
    random_openings,
    replay_openings,
    training_openings,
    unsuitable,
    with_openings,
)
from league.play.runner import Entrant, GameTask, RunnerError, decode_moves, run, schedule
from league.tournament.openings import plan_openings, read_book


class LinearGreedy:
    """A deterministic player: the legal action of highest score under fixed random weights."""

    needs_engine_states = False

    def __init__(self, spec, seed: int):
        size = int(np.prod(spec.seats[0].obs_shape))
        self.weights = np.random.default_rng(seed).normal(size=(size, spec.seats[0].n_actions))
        self.asked_at: list[int] = []  # how many moves into each game it was asked (obs filled squares)

    def unsupported(self, spec, seats):
        return None

    def act(self, obs, mask, *, seat, keys, explore=False, engine_states=None):
        return np.where(mask, obs.reshape(len(obs), -1) @ self.weights, -np.inf).argmax(1)


class CountsPlies(LinearGreedy):
    def act(self, obs, mask, *, seat, keys, explore=False, engine_states=None):
        self.asked_at += (mask.shape[1] - mask.sum(1)).tolist()  # tic-tac-toe: occupied cells = plies so far
        return super().act(obs, mask, seat=seat, keys=keys)


def ttt():
    return games.load("tic_tac_toe")


def test_random_openings_are_a_pure_function_of_the_seed_and_leave_the_game_open() -> None:
    game = ttt()
    first = random_openings(game, [1, 2, 3, 1], plies=4)
    again = random_openings(game, [3, 1], plies=4)
    assert first.openings[0] == first.openings[3] == again.openings[1] and first.openings[2] == again.openings[0]
    assert all(len(o) == 4 for o in first.openings)
    many = random_openings(game, list(range(60)), plies=4)
    assert many.skipped > 0  # in tic-tac-toe four plies often leave a win in one: those are drawn again
    replayed = replay_openings(game, many.openings)
    assert all(replayed.usable) and len(set(many.openings)) > 50


def test_training_openings_are_a_pure_function_of_the_seed_and_never_end_the_game() -> None:
    game = ttt()
    drawn = training_openings(game, list(range(300)), max_plies=8)
    again = training_openings(game, [7, 299, 0], max_plies=8)
    assert again == [drawn[7], drawn[299], drawn[0]]
    lengths = [len(o) for o in drawn]
    assert min(lengths) == 0 and max(lengths) == 8 and len(set(lengths)) == 9  # 0 to 8 plies, every length drawn
    replayed = replay_openings(game, [o for o in drawn if o])
    assert not any(replayed.ended)  # cut before a move that would end the game (a win may be left to take)
    assert any(replayed.ends_next) and len(set(drawn)) > 200
    with pytest.raises(OpeningError, match="^opening_plies needs a turn-based game without chance: kuhn_poker has"):
        training_openings(games.load("kuhn_poker"), [1], max_plies=2)


def test_with_openings_gives_both_games_of_a_pair_one_opening() -> None:
    game = games.load("connect_four")
    a, b = (Entrant(n, LinearGreedy(game.spec, k)) for k, n in enumerate("ab"))
    tasks, skipped = with_openings(game, schedule(game.spec, (a, b), 6, seed=9), plies=4)
    assert skipped == 0 and [len(t.opening) for t in tasks] == [4] * 6
    assert tasks[0].opening == tasks[1].opening and tasks[2].opening == tasks[3].opening != tasks[0].opening


def test_openings_refuse_games_with_chance_or_simultaneous_moves_in_one_sentence() -> None:
    assert "chance" in unsuitable(games.load("kuhn_poker"))
    assert "simultaneously" in unsuitable(games.load("matrix_rps"))
    with pytest.raises(OpeningError, match="^random openings need a turn-based game without chance: kuhn_poker has"):
        random_openings(games.load("kuhn_poker"), [1], plies=2)
    with pytest.raises(OpeningError, match="^random:9 leaves nothing to play in tic_tac_toe, whose games last at most 9 plies$"):
        random_openings(ttt(), [1], plies=9)
    with pytest.raises(OpeningError, match="^random:8 leaves no game of tic_tac_toe open"):
        random_openings(ttt(), [1], plies=8)


def test_determinism_is_measured_not_declared() -> None:
    game = games.load("connect_four")
    greedy = Entrant("g", LinearGreedy(game.spec, 0))
    random_, mcts = resolve(["random", "mcts:10"], game.spec)
    assert plays_deterministically(game, greedy)
    assert not plays_deterministically(game, random_) and not plays_deterministically(game, mcts)
    assert needs_openings(game, [greedy, Entrant("h", LinearGreedy(game.spec, 1))])
    assert not needs_openings(game, [greedy, random_])


def test_the_runner_plays_the_opening_for_the_entrants_and_records_it() -> None:
    game = ttt()
    x, o = CountsPlies(game.spec, 0), CountsPlies(game.spec, 1)
    a, b = Entrant("a", x), Entrant("b", o)
    records = run(game, [GameTask(0, 5, (a, b), (4, 0, 8)), GameTask(1, 5, (b, a), (4, 0, 8)), GameTask(2, 6, (a, b))],
                  batch=2)
    assert min(x.asked_at + o.asked_at) == 0  # the game without an opening starts at ply 0 ...
    played = [decode_moves(r.moves) for r in records]
    assert [opening for _, opening in played] == [3, 3, 0]
    assert played[0][0][:3] == played[1][0][:3] == [4, 0, 8] and len(played[0][0]) == records[0].length
    assert games.replay_text("tic_tac_toe", 5, played[0][0])  # and every recorded move replays legally
    first, second = CountsPlies(game.spec, 0), CountsPlies(game.spec, 1)
    run(game, [GameTask(0, 5, (Entrant("c", first), Entrant("d", second)), (4, 0, 8))])
    assert min(second.asked_at) == 3 and min(first.asked_at) == 4  # ... one with an opening, from ply 3 on


def test_an_illegal_opening_in_the_runner_names_the_game_and_the_ply() -> None:
    game = ttt()
    a, b = (Entrant(n, LinearGreedy(game.spec, k)) for k, n in enumerate("ab"))
    with pytest.raises(RunnerError, match=r"^the opening of game 7 plays action 4 for 'player_1' at ply 2, which is not legal there$"):
        run(game, [GameTask(7, 1, (a, b), (4, 4))])


def test_a_book_reads_names_ids_and_comments_and_skips_what_decides_nothing(tmp_path: Path) -> None:
    game = ttt()
    book = tmp_path / "book.txt"
    book.write_text("# centre openings\nx(1,1) o(0,0)\n4 2   # ids work too\n\n0 3 1 4 2  # x has won: skipped\n"
                    "x(1,1), o(0,0), x(2,2)\n")
    lines, skipped, digest = read_book(game, str(book))
    assert lines == [(4, 0), (4, 2), (4, 0, 8)] and skipped == 1 and len(digest) == 16
    plan = plan_openings(game, [], [("a", "b")], spec_text=str(book), seed=0)
    assert plan.for_pairings([("a", "b"), ("c", "a")], 4) == [[(4, 0), (4, 2), (4, 0, 8), (4, 0)]] * 2  # in order, cycling
    assert plan.header() == f"openings: {book}"
    assert plan.summary() == f"openings: {book}; 1 skipped that ended the game or left a move that ends it"
    shuffled = plan_openings(game, [], [("a", "b")], spec_text=str(book), order="random", seed=3)
    assert sorted(shuffled.book) == sorted(plan.book) and shuffled.key != plan.key


@pytest.mark.parametrize("text, message", [
    ("x(1,1) o(0,0)\n4 x(1,1)\n", r"book.txt line 2: move 2 \(x\(1,1\)\) is not legal for player_1 there$"),
    ("x(1,1) o(0,0)\n4 0 x(9,9)\n", r"book.txt line 2: move 3 \(x\(9,9\)\) is not a move of tic_tac_toe \(action ids 0-8 or names such as"),
    ("4 12\n", r"book.txt line 1: move 2 \(12\) is not an action of tic_tac_toe \(ids 0-8\)$"),
    ("x(1,1) x(0,0)\n", r"book.txt line 1: move 2 \(x\(0,0\)\) is a move of player_0, but player_1 is to move there$"),
    ("# nothing here\n\n", r"the openings file .*book.txt holds no openings"),
    ("0 3 1 4 2\n", r"every opening in .*book.txt ends the game or leaves a move that ends it$"),
    ("0 1 2 3 4 5 6 7 8\n", r"book.txt line 1: 9 moves leave nothing to play in tic_tac_toe"),
])
def test_a_bad_book_is_one_sentence_naming_the_line_and_the_move(tmp_path: Path, text: str, message: str) -> None:
    book = tmp_path / "book.txt"
    book.write_text(text)
    with pytest.raises(OpeningError, match=message) as error:
        read_book(ttt(), str(book))
    assert "\n" not in str(error.value)
    with pytest.raises(OpeningError, match="^cannot read the openings file .*missing.txt: No such file"):
        read_book(ttt(), str(tmp_path / "missing.txt"))


def test_the_default_gives_openings_to_deterministic_pairings_only() -> None:
    game = games.load("connect_four")
    greedy = [Entrant(f"g{k}", LinearGreedy(game.spec, k)) for k in range(2)]
    random_ = resolve(["random"], game.spec)
    pairings = [("g0", "g1"), ("g0", "random"), ("g1", "random")]
    plan = plan_openings(game, greedy + random_, pairings, seed=1)
    assert plan.default and plan.source == "random:4" and plan.key == "auto:random:4"
    both, mixed = plan.for_pairings([("g1", "g0"), ("g0", "random")], 10)
    assert [len(o) for o in both] == [4] * 10 and len(set(both)) == 10 and mixed == [()] * 10
    assert plan.for_pairings([("g0", "g1")], 12)[0][:10] == both  # one pairing, one set of openings, either way round
    assert plan.header().startswith("openings: random:4 for pairings of deterministic entrants (g0, g1)")
    assert not plan_openings(game, greedy, pairings[:1], spec_text="none").active
    stochastic = plan_openings(game, random_ + resolve(["mcts:5"], game.spec), [("random", "mcts:5")])
    assert not stochastic.active and stochastic.header() == "" and stochastic.key == ""
    poker = games.load("kuhn_poker")
    assert not plan_openings(poker, [Entrant("g", LinearGreedy(poker.spec, 0))] * 2, [("g", "g")]).active
    with pytest.raises(OpeningError, match="^random:8 leaves no game of tic_tac_toe open"):
        plan_openings(ttt(), greedy, [("g0", "g1")], spec_text="random:8")  # refused before any game is played
