"""Paired-game statistics: the GSPRT agrees with fastchess, bounds and intervals behave."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from league.rate.sprt import SPRT, Pentanomial, SPRTError, elo_interval, elo_to_score, score_to_elo


def test_normalized_llr_matches_fastchess_published_run() -> None:
    # fastchess printed LLR 2.96 for Ptnml [0, 0, 2, 0, 37] at [0, 20] and accepted H1
    test = SPRT(0, 20)
    counts = Pentanomial(ll=0, ld=0, dd_wl=2, wd=0, ww=37)
    assert test.llr(counts) == pytest.approx(2.96, abs=0.005)
    assert test.status(counts) == "H1"


def test_wald_bounds() -> None:
    test = SPRT(alpha=0.05, beta=0.05)
    assert test.lower == pytest.approx(math.log(0.05 / 0.95))
    assert test.upper == pytest.approx(math.log(0.95 / 0.05))
    lopsided = SPRT(alpha=0.01, beta=0.2)
    assert lopsided.upper > -lopsided.lower


@pytest.mark.parametrize("model", ["normalized", "logistic"])
def test_evidence_points_the_right_way(model: str) -> None:
    test = SPRT(0, 10, model=model)
    strong = Pentanomial(ll=10, ld=40, dd_wl=200, wd=60, ww=20)
    weak = Pentanomial(ll=20, ld=60, dd_wl=200, wd=40, ww=10)
    assert test.llr(strong) > 0 > test.llr(weak)
    assert test.llr(Pentanomial(ll=1000, ld=2000, dd_wl=4000, wd=2000, ww=1000)) < test.lower  # even: reject H1
    assert test.status(Pentanomial(ww=1000)) == "H1"
    assert test.status(Pentanomial(ll=1000)) == "H0"


@given(st.lists(st.integers(0, 60), min_size=5, max_size=5))
@settings(max_examples=100)
def test_llr_is_finite_and_more_pairs_of_the_same_kind_mean_more_evidence(counts) -> None:
    test = SPRT(0, 5)
    one = Pentanomial(*counts)
    value = test.llr(one)
    assert math.isfinite(value)
    if one.pairs:
        double = Pentanomial(*(2 * c for c in counts))
        assert abs(test.llr(double)) >= abs(value) - 1e-6 or abs(value) < 1e-3


def test_parse_and_refuse() -> None:
    assert SPRT.parse("elo0=0,elo1=5,alpha=0.1,beta=0.2") == SPRT(0, 5, 0.1, 0.2)
    assert SPRT.parse("elo1=20,model=logistic").model == "logistic"
    with pytest.raises(SPRTError, match="elo1 must be above elo0"):
        SPRT.parse("elo0=10,elo1=5")
    with pytest.raises(SPRTError, match=r"alpha and beta must be in \(0, 0.5\)"):
        SPRT.parse("alpha=0.7")
    with pytest.raises(SPRTError, match="cannot read 'gamma=1'"):
        SPRT.parse("gamma=1")
    with pytest.raises(SPRTError, match="elo0 must be a number"):
        SPRT.parse("elo0=zero")


def test_elo_conversions_and_interval() -> None:
    assert score_to_elo(elo_to_score(123.0)) == pytest.approx(123.0)
    assert score_to_elo(1.0) == math.inf and score_to_elo(0.0) == -math.inf
    elo, low, high = elo_interval(Pentanomial(ll=10, ld=20, dd_wl=40, wd=30, ww=20))
    assert low < elo < high and elo > 0
    wide = elo_interval(Pentanomial(ll=1, ld=2, dd_wl=4, wd=3, ww=2))
    assert wide[2] - wide[1] > high - low  # fewer pairs, wider interval
    assert Pentanomial.from_pairs([0, 0.5, 1, 1.5, 2, 2]).counts == (1, 1, 1, 1, 2)


@pytest.mark.parametrize("counts, bounds, model, expected", [
    ((3, 5, 20, 7, 4), (0, 10), "normalized", 0.128168),
    ((0, 1, 30, 2, 0), (0, 5), "normalized", 0.060717),
    ((10, 40, 200, 60, 20), (0, 10), "logistic", 2.653773),
    ((0, 0, 2, 0, 37), (0, 20), "logistic", 2.180485),
    ((1, 0, 0, 0, 50), (-5, 5), "normalized", 1.994433),
])
def test_the_newton_solver_gives_the_bisection_llrs(counts, bounds, model, expected) -> None:
    # values of the earlier 200-step bisection solver, which this one replaces ~9x faster
    assert SPRT(*bounds, model=model).llr(Pentanomial(*counts)) == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize("counts", [(), (0, 0, 0, 0, 15), (0, 3, 10, 3, 0), (2, 4, 10, 6, 9), (14, 0, 0, 0, 0)])
def test_pairs_to_decide_is_the_fewest_extreme_pairs_that_end_the_test(counts) -> None:
    test = SPRT(0, 50)
    now = Pentanomial(*counts)

    def ends(k: int) -> bool:
        won, lost = Pentanomial(*now.counts[:4], now.ww + k), Pentanomial(now.ll + k, *now.counts[1:])
        return test.status(won) == "H1" or test.status(lost) == "H0"

    brute = next(k for k in range(200) if ends(k))
    assert test.pairs_to_decide(now, 200) == brute
    assert test.pairs_to_decide(now, 3) == min(brute, 3)  # never more than the limit asked about
    assert SPRT(0, 5).pairs_to_decide(Pentanomial(ld=20, dd_wl=40, wd=20), 50) == 50
    assert test.verdict(3.0) == "H1" and test.verdict(-3.0) == "H0" and test.verdict(0.0) == "running"
