"""Matchmaking: PFSP weightings and the decayed payoff table, property-tested."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from league.train.matchmaking import (
    WEIGHTINGS,
    MatchmakingError,
    Mix,
    PayoffTable,
    choose_opponents,
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
        closest = closeness == closeness.min()  # ties in floating point (x and x + 1e-313) all count
        assert w[closest].max() == pytest.approx(w.max())


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
            x = table.score(a, b)
            assert 0.0 <= x <= 1.0
            if table.games(a, b) >= 3:
                assert x + table.score(b, a) == pytest.approx(1.0)
    again = PayoffTable.from_state(table.state())
    assert again.cells == table.cells


def test_pairs_with_few_games_count_as_even_and_old_results_fade() -> None:
    table = PayoffTable(decay=0.9, min_games=5)
    for _ in range(4):
        table.add("me", "o", 1.0)
    assert table.score("me", "o") == 0.5
    for _ in range(50):
        table.add("me", "o", 1.0)
    for _ in range(30):
        table.add("me", "o", 0.0)
    # with decay 0.9 the last 30 losses dominate 54 old wins
    assert table.score("me", "o") < 0.1


def test_choose_follows_the_mix() -> None:
    rng = np.random.default_rng(0)
    table = PayoffTable(min_games=1)
    for _ in range(20):
        table.add("me", "beaten", 1.0)
        table.add("me", "tough", 0.0)
    counts = Counter(choose_opponents("me", Mix(latest=0.8, past=0.0, pfsp=0.2, weighting="squared"), ["me"],
                                      ["beaten", "tough"], table, rng, count=5000))
    assert counts["me"] == pytest.approx(4000, rel=0.05)
    assert counts["beaten"] == 0 and counts["tough"] == pytest.approx(1000, rel=0.15)
    only_past = Counter(choose_opponents("me", Mix(latest=0.0, past=1.0, pfsp=0.0), [], ["a", "b"], table, rng,
                                         count=2000))
    # drawn one at a time, the same mix
    one_by_one = Counter(choose_opponents("me", Mix(latest=0.0, past=1.0, pfsp=0.0), [], ["a", "b"], table, rng)[0]
                         for _ in range(2000))
    assert one_by_one["a"] == pytest.approx(1000, rel=0.1)
    assert only_past["a"] == pytest.approx(1000, rel=0.1)


def test_empty_pool_gives_weight_to_latest_and_bad_mixes_are_refused() -> None:
    rng = np.random.default_rng(1)
    assert choose_opponents("me", Mix(), ["me"], [], PayoffTable(), rng, count=3) == ["me", "me", "me"]
    with pytest.raises(MatchmakingError, match="nobody to play"):
        choose_opponents("me", Mix(), [], [], PayoffTable(), rng)
    with pytest.raises(MatchmakingError, match="did you mean 'pfsp'"):
        Mix.from_mapping({"pfps": 0.5})
    with pytest.raises(MatchmakingError, match="not all zero"):
        Mix(latest=0.0, past=0.0, pfsp=0.0)
    with pytest.raises(MatchmakingError, match="unknown PFSP weighting 'cubic'"):
        pfsp_weights([0.5], "cubic")


# -- AlphaStar positions -------------------------------------------------------------------

from league.train.matchmaking import Historical, alphastar_opponent, check_position  # noqa: E402


def league_with(results: dict[tuple[str, str], float]) -> PayoffTable:
    table = PayoffTable(min_games=1)
    for (a, b), score in results.items():
        for _ in range(10):
            table.add(a, b, score)
    return table


POOL = [Historical("main-001", "main", "main"), Historical("main-002", "main", "main"),
        Historical("exp-001", "exp", "main_exploiter"), Historical("lex-001", "lex", "league_exploiter")]


def draws(position: str, me: str, table: PayoffTable, n: int = 3000) -> Counter:
    rng = np.random.default_rng(7)
    return Counter(alphastar_opponent(me, position, ["main"], POOL, table, rng) for _ in range(n))


def test_main_exploiter_plays_mains_until_it_cannot_win() -> None:
    assert set(draws("main_exploiter", "exp", league_with({("exp", "main"): 0.5}))) == {"main"}
    # hopeless against the current main: a curriculum over that main's snapshots
    hopeless = draws("main_exploiter", "exp", league_with({("exp", "main"): 0.0, ("exp", "main-001"): 0.5,
                                                            ("exp", "main-002"): 0.0}))
    assert set(hopeless) == {"main-001"}  # variance weighting: zero weight for opponents it never beats


def test_league_exploiter_draws_from_the_whole_pool() -> None:
    counts = draws("league_exploiter", "lex", league_with({("lex", h.name): 0.5 for h in POOL}))
    assert set(counts) == {h.name for h in POOL} and "main" not in counts


def test_main_agent_mixes_pfsp_selfplay_and_verification() -> None:
    table = league_with({("main", "main-001"): 0.9, ("main", "main-002"): 0.9, ("main", "exp-001"): 0.1,
                         ("main", "lex-001"): 0.9})
    counts = draws("main", "main", table, 6000)
    # squared PFSP concentrates on the exploiter that beats it; verification adds to it
    assert counts["exp-001"] > counts["main-001"] and counts["exp-001"] > 0.45 * 6000
    assert counts["main"] == pytest.approx(0.35 * 6000, rel=0.12)  # the self-play share
    with pytest.raises(MatchmakingError, match="unknown league position 'mian' \\(did you mean 'main'\\?\\)"):
        check_position("mian")


@given(st.lists(st.floats(0.0, 1.0), min_size=4, max_size=4), st.sampled_from(["main", "main_exploiter", "league_exploiter"]))
@settings(max_examples=60)
def test_positions_always_name_a_known_opponent(rates_, position) -> None:
    table = league_with({("me", h.name): r for h, r in zip(POOL, rates_)} | {("me", "main"): rates_[0]})
    rng = np.random.default_rng(0)
    for _ in range(20):
        assert alphastar_opponent("me", position, ["main"], POOL, table, rng) in {"main", *(h.name for h in POOL)}
    assert alphastar_opponent("me", position, [], [], PayoffTable(), rng) == "me"
