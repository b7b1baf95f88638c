"""TrueSkill updates, anchors and win probabilities."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from league.rate.ratings import (
    Rater,
    Rating,
    RatingConfig,
    RatingError,
)

NAMES = ["a", "b", "c", "d", "e", "f"]
FAST = settings(max_examples=250, deadline=None)

# One game: sides of distinct players (1v1, teams, or a free-for-all), a rank per side
# and partial-play weights.
Game = tuple[list[list[str]], list[int], list[list[float]]]


@st.composite
def games(draw: st.DrawFn) -> Game:
    n_sides = draw(st.integers(2, 3))
    sizes = draw(st.lists(st.integers(1, 2), min_size=n_sides, max_size=n_sides))
    players = draw(st.permutations(NAMES))
    teams, start = [], 0
    for size in sizes:
        teams.append(list(players[start : start + size]))
        start += size
    ranks = draw(st.lists(st.integers(0, 2), min_size=n_sides, max_size=n_sides))
    # The first member of a side always played some of the game; the others may have sat out.
    weights = [
        [draw(st.sampled_from([1.0, 0.5, 0.1]))] + [draw(st.sampled_from([1.0, 0.5, 0.0])) for _ in team[1:]]
        for team in teams
    ]
    return teams, ranks, weights


def play(rater: Rater, ratings: dict[str, Rating], game: Game) -> dict[str, Rating]:
    """Rate one game and return the ratings of everyone in it, before the update."""
    teams, ranks, weights = game
    before = {n: ratings.get(n, rater.initial()) for team in teams for n in team}
    new = rater.rate([[(n, before[n]) for n in team] for team in teams], ranks, weights)
    for team, rated in zip(teams, new):
        ratings.update(zip(team, rated))
    return before


@FAST
@given(st.lists(games(), min_size=1, max_size=25))
def test_ratings_stay_finite(sequence: list[Game]) -> None:
    rater, ratings = Rater(), {}
    for game in sequence:
        play(rater, ratings, game)
    for r in ratings.values():
        assert math.isfinite(r.mu) and math.isfinite(r.sigma) and r.sigma > 0


@FAST
@given(st.lists(games(), min_size=1, max_size=25))
def test_sigma_never_grows_without_tau(sequence: list[Game]) -> None:
    rater, ratings = Rater(config=RatingConfig(tau=0.0)), {}
    for game in sequence:
        before = play(rater, ratings, game)
        for name, old in before.items():
            assert ratings[name].sigma <= old.sigma * (1 + 1e-12)


@FAST
@given(st.lists(st.tuples(st.lists(st.sampled_from(NAMES[2:]), max_size=3, unique=True), st.randoms()),
                min_size=1, max_size=30))
def test_a_constant_winner_ends_above_a_constant_loser(rounds: list) -> None:
    # "a" wins and "b" loses every game; others join in between them, alone or as a's or b's partner.
    rater, ratings = Rater(), {}
    for others, rnd in rounds:
        layout = [["a"], ["b"]]
        for name in others:
            choice = rnd.randrange(3)
            if choice < 2:
                layout[choice].append(name)
            else:
                layout.insert(1, [name])
        ranks = list(range(len(layout)))
        play(rater, ratings, (layout, ranks, [[1.0] * len(t) for t in layout]))
    a, b = ratings["a"], ratings["b"]
    assert a.mu > b.mu
    assert a.conservative > b.conservative


@FAST
@given(st.lists(games(), min_size=1, max_size=20))
def test_anchors_never_move(sequence: list[Game]) -> None:
    anchors = {"a": Rating(0.0, 1.0), "b": Rating(40.0, 0.5)}
    rater, ratings = Rater(anchors=anchors), dict(anchors)
    for game in sequence:
        play(rater, ratings, game)
        assert ratings["a"] == anchors["a"] and ratings["b"] == anchors["b"]


def test_an_anchor_still_informs_its_opponent() -> None:
    rater = Rater(anchors={"random": Rating(0.0, 1.0)})
    (loser,), (anchor,) = rater.rate([[("x", rater.initial())], [("random", Rating(50.0, 5.0))]], [1, 0])
    assert anchor == Rating(0.0, 1.0)  # rated at its pinned value, whatever the caller passed
    assert loser.mu < 25.0 - 5.0  # losing to a player pinned far below is very bad news


def test_an_extreme_upset_is_rated_in_extended_precision() -> None:
    pytest.importorskip("mpmath")
    rater = Rater(config=RatingConfig(beta=1.0))
    # 100 sigmas apart: double precision gives up (FloatingPointError) and mpmath takes over.
    (fav,), (underdog,) = rater.rate([[("fav", Rating(100.0, 0.5))], [("dog", Rating(0.0, 0.5))]], [1, 0])
    assert math.isfinite(fav.mu) and math.isfinite(underdog.mu)
    assert fav.mu < 100.0 and underdog.mu > 0.0 and fav.sigma < 0.5


ratings_st = st.builds(Rating, st.floats(-50, 100), st.floats(0.01, 20))


@settings(max_examples=200, deadline=None)
@given(st.lists(ratings_st, min_size=1, max_size=4), st.lists(ratings_st, min_size=1, max_size=4))
def test_win_probability_is_a_symmetric_probability(team_a: list[Rating], team_b: list[Rating]) -> None:
    rater = Rater()
    p, q = rater.win_probability(team_a, team_b), rater.win_probability(team_b, team_a)
    assert 0.0 <= p <= 1.0 and 0.0 <= q <= 1.0
    assert p + q == pytest.approx(1.0, abs=1e-12)


@FAST
@given(st.lists(st.integers(-3, 3).map(float), min_size=2, max_size=6))
def test_free_for_all_orders_by_score(scores: list[float]) -> None:
    rater = Rater()
    players = [(f"team{i}", rater.initial()) for i in range(len(scores))]
    new = rater.rate_free_for_all(players, scores)
    for i in range(len(scores)):
        for j in range(len(scores)):
            if scores[i] > scores[j]:
                assert new[i].mu > new[j].mu


def test_free_for_all_tolerance_makes_close_scores_draw() -> None:
    rater = Rater()
    players = [(n, rater.initial()) for n in "xyz"]
    close = rater.rate_free_for_all(players, [1.0, 1.0 + 1e-12, 0.0])
    # A draw, up to TrueSkill's iterative message passing; a real win moves mu by about 2.
    assert close[0].mu == pytest.approx(close[1].mu, abs=0.05) and close[1].mu > close[2].mu
    apart = rater.rate_free_for_all(players, [1.0, 1.5, 0.0], tolerance=0.1)
    assert apart[1].mu > apart[0].mu > apart[2].mu


def test_pick_up_team_members_move_by_their_weights() -> None:
    rater = Rater()
    r0 = rater.initial()
    (full, half, idle), (opp,) = rater.rate(
        [[("p", r0), ("q", r0), ("r", r0)], [("o", r0)]], [0, 1], weights=[[1.0, 0.5, 0.0], [1.0]]
    )
    assert full.mu > half.mu > r0.mu and idle.mu == pytest.approx(r0.mu, abs=1e-3)
    assert opp.mu < r0.mu


def test_bad_games_are_refused() -> None:
    rater, r = Rater(), Rating(25.0, 8.0)
    with pytest.raises(RatingError, match="at least two sides"):
        rater.rate([[("a", r)]], [0])
    with pytest.raises(RatingError, match="one rank per side"):
        rater.rate([[("a", r)], [("b", r)]], [0])
    with pytest.raises(RatingError, match="appears more than once"):
        rater.rate([[("a", r)], [("a", r)]], [0, 1])
    with pytest.raises(RatingError, match="sigma above 0"):
        rater.rate([[("a", r)], [("b", Rating(25.0, math.nan))]], [0, 1])
    with pytest.raises(RatingError, match="no player with a weight above 0"):
        rater.rate([[("a", r)], [("b", r), ("c", r)]], [0, 1], weights=[[1.0], [0.0, 0.0]])
    with pytest.raises(RatingError, match="between 0 and 1"):
        rater.rate([[("a", r)], [("b", r)]], [0, 1], weights=[[2.0], [1.0]])
    with pytest.raises(RatingError, match="draw_probability is 0"):
        Rater(config=RatingConfig(draw_probability=0.0)).rate([[("a", r)], [("b", r)]], [0, 0])
    with pytest.raises(RatingError, match="one score per player"):
        rater.rate_free_for_all([("a", r), ("b", r)], [1.0])


def test_conservative_and_expose() -> None:
    assert Rating(30.0, 2.0).conservative == 24.0
    assert Rater().expose(Rating(30.0, 2.0)) == 24.0


def test_config_from_mapping() -> None:
    config = RatingConfig.from_mapping({"mu": 0.0, "sigma": 2.0, "draw_probability": 0.0})
    assert (config.mu, config.sigma, config.beta, config.draw_probability) == (0.0, 2.0, 25 / 6, 0.0)
    with pytest.raises(RatingError, match="unknown rating setting 'draw_probabilty'; did you mean 'draw_probability'"):
        RatingConfig.from_mapping({"draw_probabilty": 0.2})
    with pytest.raises(RatingError, match="did you mean 'tau'"):
        RatingConfig.from_mapping({"tua": 0.1})
    for bad in ({"sigma": 0.0}, {"beta": -1.0}, {"tau": -0.1}, {"draw_probability": 1.0}, {"mu": "high"}):
        with pytest.raises(RatingError):
            RatingConfig.from_mapping(bad)


def test_closed_form_one_on_one_matches_the_trueskill_library() -> None:
    """The fast two-player path gives the library's numbers (its own normal tables differ by ~1e-5)."""
    import random

    import trueskill

    rng = random.Random(1)
    for config in (RatingConfig(), RatingConfig(tau=0.0), RatingConfig(draw_probability=0.3, beta=3.0)):
        rater = Rater(config=config)
        env = trueskill.TrueSkill(mu=config.mu, sigma=config.sigma, beta=config.beta, tau=config.tau,
                                  draw_probability=config.draw_probability, backend=None)
        checked = 0
        for _ in range(500):
            a = Rating(rng.uniform(0, 50), rng.uniform(0.3, 9))
            b = Rating(rng.uniform(0, 50), rng.uniform(0.3, 9))
            ranks = rng.choice([(0, 1), (1, 0), (0, 0)])
            fast = rater._one_on_one(a, b, *ranks)
            if fast is None:
                continue
            checked += 1
            library = env.rate([(env.create_rating(a.mu, a.sigma),), (env.create_rating(b.mu, b.sigma),)], list(ranks))
            for mine, (theirs,) in zip(fast, library):
                assert abs(mine.mu - theirs.mu) < 1e-4 and abs(mine.sigma - theirs.sigma) < 1e-4
        assert checked > 300
