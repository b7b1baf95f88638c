"""The batched runner: side alternation, batching equals one-at-a-time, errors name the entrant."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import games
from agents.baselines import make_baseline
from agents.nets import CategoricalPolicy, mlp
from league.play.runner import Entrant, GameTask, RunnerError, play, run, schedule


def entrant(name: str, game: str) -> Entrant:
    return Entrant(name, make_baseline(name, games.load(game).spec))


def mlp_entrant(name: str, game: str, seed: int) -> Entrant:
    spec = games.load(game).spec
    torch.manual_seed(seed)
    seat = spec.seats[0]
    return Entrant(name, CategoricalPolicy(spec, mlp(seat.obs_size, seat.n_actions), seats=spec.seat_names))


def test_sides_alternate_and_pairs_share_a_seed() -> None:
    game = games.load("connect_four")
    a, b = entrant("random", "connect_four"), mlp_entrant("net", "connect_four", 0)
    records = play(game, (a, b), n_games=6, seed=3)
    assert [r.sides for r in records] == [("random", "net"), ("net", "random")] * 3
    assert [r.index for r in records] == list(range(6))
    seeds = [r.seed for r in records]
    assert seeds[0] == seeds[1] and seeds[2] == seeds[3] and seeds[0] != seeds[2]


def test_asymmetric_games_never_swap_sides() -> None:
    game = games.load("simple_tag")
    s, r = entrant("scripted", "simple_tag"), entrant("random", "simple_tag")
    records = play(game, (s, r), n_games=4, seed=0)
    assert all(rec.sides == ("scripted", "random") for rec in records)
    assert len({rec.seed for rec in records}) == 4


@pytest.mark.parametrize("name, lineup", [
    ("connect_four", ("mcts:5", "random")),
    ("leduc_poker", ("random", "net")),
    ("tic_tac_toe", ("net", "net2")),
    ("simple_tag", ("scripted", "random")),
    ("markov_soccer", ("random", "random")),
    ("connect_four_pz", ("net", "random")),
])
def test_batched_equals_one_game_at_a_time(name: str, lineup: tuple[str, str]) -> None:
    game = games.load(name)

    def make(who: str) -> Entrant:
        return mlp_entrant(who, name, seed=len(who)) if who.startswith("net") else entrant(who, name)

    entrants = tuple(make(w) for w in lineup)
    tasks = schedule(game.spec, entrants, 12, seed=5)
    batched = run(game, tasks, batch=5)
    single = [run(game, [task], batch=1)[0] for task in tasks]
    assert batched == single


def test_same_seed_same_results_different_seed_differs() -> None:
    game = games.load("kuhn_poker")
    lineup = (entrant("random", "kuhn_poker"), mlp_entrant("net", "kuhn_poker", 1))
    first = play(game, lineup, 20, seed=9, batch=7)
    assert first == play(game, lineup, 20, seed=9, batch=16)
    assert first != play(game, lineup, 20, seed=10, batch=7)


def test_records_report_returns_ranks_and_lengths() -> None:
    game = games.load("tic_tac_toe")
    lineup = (entrant("mcts:50", "tic_tac_toe"), entrant("random", "tic_tac_toe"))
    seen = []
    records = play(game, lineup, 10, seed=1, on_record=seen.append)
    assert sorted(seen, key=lambda r: r.index) == records
    for r in records:
        assert 5 <= r.length <= 9
        assert sum(r.returns) == 0
        assert r.ranks in ((0, 1), (1, 0), (0, 0))
        assert r.ranks == game.spec.outcome(r.returns)
        assert dict(r.seat_returns)["player_0"] == r.returns[0]


def test_mcts_beats_random_at_connect_four() -> None:
    game = games.load("connect_four")
    mcts, rand = entrant("mcts:100", "connect_four"), entrant("random", "connect_four")
    records = play(game, (mcts, rand), n_games=20, seed=0)
    wins = sum(r.ranks[r.sides.index("mcts:100")] == 0 and len(set(r.ranks)) == 2 for r in records)
    assert wins >= 19


def test_cooperative_game_plays_one_side() -> None:
    game = games.load("simple_spread")
    records = play(game, (entrant("scripted", "simple_spread"),), 6, seed=0)
    assert all(r.ranks == (0,) and r.length == 25 and r.truncated for r in records)
    scripted = np.mean([r.returns[0] for r in records])
    rand = np.mean([r.returns[0] for r in play(game, (entrant("random", "simple_spread"),), 6, seed=0)])
    assert scripted > rand


def test_pick_up_team_fills_a_side_seat_by_seat() -> None:
    game = games.load("simple_tag")
    s, r = entrant("scripted", "simple_tag"), entrant("random", "simple_tag")
    records = play(game, ((s, r, s), r), 2, seed=0)
    assert records[0].sides == ("scripted+random+scripted", "random")
    with pytest.raises(RunnerError, match="3 seats but the pick-up team has 2"):
        play(game, ((s, r), r), 2, seed=0)


class Cheater:
    needs_engine_states = False

    def unsupported(self, spec, seats):
        return None

    def act(self, obs, mask, *, seat, keys, explore=False, engine_states=None):
        return np.full(len(obs), 4)  # the centre, every time


class Crasher(Cheater):
    def act(self, obs, mask, *, seat, keys, explore=False, engine_states=None):
        raise ZeroDivisionError("boom")


def test_illegal_move_names_the_entrant_seat_and_action() -> None:
    game = games.load("tic_tac_toe")
    cheat = Entrant("cheater", Cheater())
    with pytest.raises(RunnerError, match=r"entrant 'cheater' played an illegal move: action=4 is not legal for seat='player_\d' in copy \d"):
        play(game, (cheat, cheat), 2, seed=0)


def test_crashing_or_unsuitable_entrants_are_named() -> None:
    game = games.load("tic_tac_toe")
    with pytest.raises(RunnerError, match="entrant 'crash' failed to act for seat 'player_0': ZeroDivisionError: boom"):
        play(game, (Entrant("crash", Crasher()), entrant("random", "tic_tac_toe")), 2, seed=0)
    tag = games.load("simple_tag")
    mcts = Entrant("mcts:5", make_baseline("mcts:5", games.load("connect_four").spec))
    with pytest.raises(RunnerError, match="mcts:5 cannot play side 'predators' of simple_tag: mcts plays turn-based OpenSpiel games only"):
        play(tag, (mcts, entrant("random", "simple_tag")), 2, seed=0)


def test_wrong_number_of_sides_is_refused() -> None:
    game = games.load("connect_four")
    with pytest.raises(RunnerError, match="connect_four has 2 sides"):
        play(game, (entrant("random", "connect_four"),), 2, seed=0)


def test_tasks_with_explicit_indices_come_back_in_order() -> None:
    game = games.load("tic_tac_toe")
    r = entrant("random", "tic_tac_toe")
    tasks = [GameTask(index=i, seed=100 + i, lineup=(r, r)) for i in (5, 2, 9)]
    assert [rec.index for rec in run(game, tasks, batch=2)] == [2, 5, 9]
