"""The one results module: sides, scores from ranks, W/D/L and the payoff table."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from league.results import PayoffMatrix, PayoffTable, ResultError, members, outcome, score, score_against, side_name


def test_payoff_matrix_counts_a_hand_made_league() -> None:
    results = [
        (("a", "b"), (0, 1)),  # a beats b
        (("b", "a"), (1, 0)),  # a beats b, sides swapped
        (("a", "b"), (0, 0)),  # a draw
        (("c", "a+b"), (0, 1)),  # c beats the pick-up team a+b
        (("a", "b", "c"), (0, 1, 1)),  # free-for-all: a beats b and c, b draws c
        (("a", "a"), (0, 1)),  # self-play tells nothing
    ]
    m = PayoffTable.from_results((s, r, (0.0,) * len(s)) for s, r in results).matrix()
    assert isinstance(m, PayoffMatrix)
    assert m.names == ("a", "a+b", "b", "c")
    a, ab, b, c = range(4)
    assert m.wins[a, b] == 3 and m.draws[a, b] == 1 and m.losses[a, b] == 0 and m.games[a, b] == 4
    assert m.losses[b, a] == 3 and m.draws[b, a] == 1 and m.games[b, a] == 4
    assert m.wins[c, ab] == 1 and m.losses[ab, c] == 1
    assert m.wins[a, c] == 1 and m.draws[b, c] == 1 and m.draws[c, b] == 1
    assert m.games[a, a] == 0 and m.games[a, ab] == 0
    assert (m.wins == m.losses.T).all() and (m.draws == m.draws.T).all() and (m.games == m.games.T).all()
    score = m.score
    assert score[a, b] == pytest.approx(3.5 / 4) and score[b, c] == 0.5
    assert np.isnan(score[a, a]) and np.isnan(score[a, ab])


def test_payoff_matrix_with_chosen_names() -> None:
    m = PayoffTable.from_results([(("a", "b"), (0, 1), (0, 0)), (("a", "z"), (0, 1), (0, 0))]).matrix(["b", "a"])
    assert m.names == ("b", "a") and m.wins.tolist() == [[0, 0], [1, 0]]
    with pytest.raises(ResultError, match="one rank and one return per side"):
        PayoffTable.from_results([(("a", "b"), (0,), (0, 0))])



def test_scores_and_outcomes_from_ranks() -> None:
    assert [score((0, 1), 0), score((0, 1), 1), score((0, 0), 0)] == [1.0, 0.0, 0.5]
    assert [outcome((2, 0, 1), k) for k in range(3)] == ["L", "W", "L"]
    assert score_against((2, 0, 1), 0, 2) == 0.0 and score_against((1, 1, 0), 0, 1) == 0.5
    assert members(side_name(["x", "y", "z"])) == ["x", "y", "z"]


def test_mean_returns_and_exact_payoffs() -> None:
    table = PayoffTable()
    table.add_game(("a", "b"), (0, 1), (2.0, -2.0))
    table.add_game(("b", "a"), (0, 0), (0.0, 0.0))
    assert table.mean_return("a", "b") == 1.0 and table.mean_return("b", "a") == -1.0
    table.set_exact("a", "b", 0.25)
    assert table.mean_return("a", "b") == 0.25 and table.mean_return("b", "a") == -0.25
    assert table.returns_matrix(["a", "b"]).tolist() == [[0.0, 0.25], [-0.25, 0.0]]
    again = PayoffTable.from_state(table.state())
    assert again.cells == table.cells and again.exact == table.exact


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("abc"), st.sampled_from("abc"), st.sampled_from([0.0, 0.5, 1.0])), max_size=40),
       st.sampled_from([1.0, 0.9, 0.5]))
def test_scores_mirror_and_stay_in_range(games, decay) -> None:
    table = PayoffTable(decay=decay)
    for a, b, s in games:
        if a != b:
            table.add(a, b, s)
    for a in "abc":
        for b in "abc":
            if table.games(a, b):
                assert 0.0 <= table.score(a, b) <= 1.0
                assert table.score(a, b) + table.score(b, a) == pytest.approx(1.0)
    m = table.matrix()
    if decay == 1.0:
        assert (m.wins == m.losses.T).all() and (m.games == m.games.T).all()
        assert isinstance(m, PayoffMatrix) and np.all(m.wins + m.draws + m.losses == m.games)
