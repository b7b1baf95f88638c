"""Matchmaking: PFSP weightings and the decayed payoff table, property-tested."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from league.matchmaking import (
    WEIGHTINGS,
    MatchmakingError,
    Mix,
    PayoffTable,
    choose_opponent,
    pfsp_weights,
)

rates = st.lists(st.floats(0.0, 1.0), min_size=1, max_size=30)


@given(rates, st.sampled_from(WEIGHTINGS))
def test_weights_are_a_distribution(x, weighting) -> None:
    w = pfsp_weights(x, weighting)
    assert w.shape == (len(x),) and np.isfinite(w).all() and (w >= 0).all()
    assert w.sum() == pytest.approx(1.0)


@given(st.lists(st.just(1.0), min_size=1, max_size=10), st.sampled_from(WEIGHTINGS))
def test_all_beaten_falls_back_to_uniform(x, weighting) -> None:
    assert np.allclose(pfsp_weights(x, weighting), 1.0 / len(x))


@given(rates)
def test_squared_prefers_harder_opponents(x) -> None:
    w = pfsp_weights(x, "squared")
    order = np.argsort(x)
    assert all(w[order[i]] >= w[order[i + 1]] - 1e-12 for i in range(len(x) - 1))


@given(rates)
def test_variance_prefers_even_opponents(x) -> None:
    w = pfsp_weights(x, "variance")
    closeness = np.abs(np.asarray(x) - 0.5)
    if w.sum() > 0 and not np.allclose(w, w[0]):
        assert w[np.argmin(closeness)] == pytest.approx(w.max())


@given(rates)
def test_linear_capped_caps_the_weakest_winners(x) -> None:
    raw = np.minimum(0.5, 1.0 - np.asarray(x))
    w = pfsp_weights(x, "linear_capped")
    if raw.sum() > 0:
        assert np.allclose(w, raw / raw.sum())


@given(st.lists(st.tuples(st.sampled_from("abc"), st.sampled_from("xyz"), st.floats(0.0, 1.0)), max_size=200),
       st.floats(0.5, 1.0))
@settings(max_examples=50)
def test_payoff_table_rates_stay_in_range_and_mirror(results, decay) -> None:
    table = PayoffTable(decay=decay, min_games=3)
    for a, b, s in results:
        table.add(a, b, s)
    for a in "abc":
        for b in "xyz":
            x = table.win_rate(a, b)
            assert 0.0 <= x <= 1.0
            if table.games.get((a, b), 0) >= 3:
                assert x + table.win_rate(b, a) == pytest.approx(1.0)
    again = PayoffTable.from_state(table.state())
    assert again.wins == table.wins and again.games == table.games


def test_pairs_with_few_games_count_as_even_and_old_results_fade() -> None:
    table = PayoffTable(decay=0.9, min_games=5)
    for _ in range(4):
        table.add("me", "o", 1.0)
    assert table.win_rate("me", "o") == 0.5
    for _ in range(50):
        table.add("me", "o", 1.0)
    for _ in range(30):
        table.add("me", "o", 0.0)
    # with decay 0.9 the last 30 losses dominate 54 old wins
    assert table.win_rate("me", "o") < 0.1


def test_choose_follows_the_mix() -> None:
    rng = np.random.default_rng(0)
    table = PayoffTable(min_games=1)
    for _ in range(20):
        table.add("me", "beaten", 1.0)
        table.add("me", "tough", 0.0)
    counts = Counter(choose_opponent("me", Mix(latest=0.8, past=0.0, pfsp=0.2, weighting="squared"), ["me"],
                                     ["beaten", "tough"], table, rng) for _ in range(5000))
    assert counts["me"] == pytest.approx(4000, rel=0.05)
    assert counts["beaten"] == 0 and counts["tough"] == pytest.approx(1000, rel=0.15)
    only_past = Counter(choose_opponent("me", Mix(latest=0.0, past=1.0, pfsp=0.0), [], ["a", "b"], table, rng)
                        for _ in range(2000))
    assert only_past["a"] == pytest.approx(1000, rel=0.1)


def test_empty_pool_gives_weight_to_latest_and_bad_mixes_are_refused() -> None:
    rng = np.random.default_rng(1)
    assert choose_opponent("me", Mix(), ["me"], [], PayoffTable(), rng) == "me"
    with pytest.raises(MatchmakingError, match="nobody to play"):
        choose_opponent("me", Mix(), [], [], PayoffTable(), rng)
    with pytest.raises(MatchmakingError, match="did you mean 'pfsp'"):
        Mix.from_mapping({"pfps": 0.5})
    with pytest.raises(MatchmakingError, match="not all zero"):
        Mix(latest=0.0, past=0.0, pfsp=0.0)
    with pytest.raises(MatchmakingError, match="unknown PFSP weighting 'cubic'"):
        pfsp_weights([0.5], "cubic")
