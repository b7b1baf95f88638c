"""Skill ratings for the league: TrueSkill updates, pinned anchors and the payoff matrix.

This is the only module that imports `trueskill`. Everything here is pure: ratings go
in, ratings come out, and the store decides what to keep. A `Rater` wraps its own
`trueskill.TrueSkill` environment (never the library's global one), so two runs with
different settings can share a process.

Players are ordered by the conservative score mu - 3 sigma: a newcomer with few games
starts near zero and climbs as its uncertainty shrinks. Anchors are pinned players,
such as the uniform-random baseline, whose rating never moves; they keep the numbers of
one run comparable with another.

Example:
    >>> rater = Rater()
    >>> (a,), (b,) = rater.rate([[("a", rater.initial())], [("b", rater.initial())]], [0, 1])
    >>> a.mu > 25.0 > b.mu
    True
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass, fields
from statistics import NormalDist
from typing import Any, Mapping, Sequence

import numpy as np
import trueskill

from games.errors import LeagueError

# mu - CONSERVATIVE_K * sigma is the score that orders a leaderboard.
CONSERVATIVE_K = 3.0


class RatingError(LeagueError, ValueError):
    """A rating setting or a game result that cannot be rated."""


@dataclass(frozen=True)
class RatingConfig:
    """TrueSkill settings; the defaults are TrueSkill's own.

    Example:
        >>> RatingConfig().beta
        4.166666666666667
        >>> try:
        ...     RatingConfig(sigma=0.0)
        ... except RatingError as error:
        ...     print(error)
        rating setting sigma must be above 0, not 0.0.
    """

    mu: float = 25.0
    """The mean skill a new player starts with."""
    sigma: float = 25.0 / 3.0
    """The starting uncertainty about that skill (one standard deviation)."""
    beta: float = 25.0 / 6.0
    """The performance noise of one game: a skill gap of beta wins about 76% of games."""
    tau: float = 25.0 / 300.0
    """Uncertainty added before every game, so ratings can follow a learner that improves."""
    draw_probability: float = 0.10
    """How often two equally skilled players draw; it sets the draw margin."""

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise RatingError(f"rating setting {f.name} must be a number, not {value!r}.")
            if not math.isfinite(value):
                raise RatingError(f"rating setting {f.name} must be finite, not {value!r}.")
        for name in ("sigma", "beta"):
            if getattr(self, name) <= 0:
                raise RatingError(f"rating setting {name} must be above 0, not {getattr(self, name)!r}.")
        if self.tau < 0:
            raise RatingError(f"rating setting tau must be 0 or more, not {self.tau!r}.")
        if not 0.0 <= self.draw_probability < 1.0:
            raise RatingError(
                f"rating setting draw_probability must be in [0, 1), not {self.draw_probability!r}."
            )

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> RatingConfig:
        """Build a config from a mapping such as a `[ratings]` table of a TOML file.

        Example:
            >>> RatingConfig.from_mapping({"tau": 0.0}).tau
            0.0
            >>> try:
            ...     RatingConfig.from_mapping({"sigmaa": 5.0})
            ... except RatingError as error:
            ...     print(error)
            unknown rating setting 'sigmaa'; did you mean 'sigma'?
        """
        if not isinstance(values, Mapping):
            raise RatingError(f"rating settings must be a table of names and numbers, not {values!r}.")
        valid = [f.name for f in fields(cls)]
        for key in values:
            if key not in valid:
                close = difflib.get_close_matches(str(key), valid, n=1, cutoff=0.0)
                raise RatingError(f"unknown rating setting {key!r}; did you mean {close[0]!r}?")
        return cls(**dict(values))


@dataclass(frozen=True)
class Rating:
    """One player's skill belief: mean `mu` and standard deviation `sigma`.

    Example:
        >>> Rating(25.0, 5.0).conservative
        10.0
    """

    mu: float
    sigma: float

    @property
    def conservative(self) -> float:
        """The skill the player has with high confidence, mu - 3 sigma; leaderboards sort by it."""
        return self.mu - CONSERVATIVE_K * self.sigma


def _check_rating(name: str, rating: Rating) -> None:
    if not isinstance(rating, Rating):
        raise RatingError(f"the rating of {name!r} must be a Rating, not {rating!r}.")
    if not (math.isfinite(rating.mu) and math.isfinite(rating.sigma) and rating.sigma > 0):
        raise RatingError(f"the rating of {name!r} must have a finite mu and a sigma above 0, not {rating}.")


def _normal_cdf(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


class Rater:
    """TrueSkill with pinned anchors, for one-player sides, pick-up teams and free-for-alls.

    Example:
        >>> rater = Rater(anchors={"random": Rating(0.0, 1.0)})
        >>> (me,), (rnd,) = rater.rate([[("me", rater.initial())], [("random", Rating(0.0, 1.0))]], [0, 1])
        >>> rnd
        Rating(mu=0.0, sigma=1.0)
        >>> me.sigma < rater.initial().sigma
        True
    """

    def __init__(self, *, config: RatingConfig = RatingConfig(), anchors: Mapping[str, Rating] | None = None):
        self.config = config
        self.anchors: dict[str, Rating] = dict(anchors or {})
        for name, rating in self.anchors.items():
            _check_rating(name, rating)
        self._env = self._make_env(backend=None)
        self._precise_env: trueskill.TrueSkill | None = None

    def _make_env(self, backend: str | None) -> trueskill.TrueSkill:
        c = self.config
        return trueskill.TrueSkill(
            mu=c.mu, sigma=c.sigma, beta=c.beta, tau=c.tau, draw_probability=c.draw_probability, backend=backend
        )

    def initial(self) -> Rating:
        """The rating of a player that has not played yet.

        Example:
            >>> Rater().initial()
            Rating(mu=25.0, sigma=8.333333333333334)
        """
        return Rating(self.config.mu, self.config.sigma)

    def rate(
        self,
        teams: Sequence[Sequence[tuple[str, Rating]]],
        ranks: Sequence[int],
        weights: Sequence[Sequence[float]] | None = None,
    ) -> list[list[Rating]]:
        """Update the ratings of everyone in one game; lower rank is better, equal ranks draw.

        `teams` holds one list of (name, rating) per side, for two or more sides: one
        member when a single player fills the side, several for a pick-up team, whose
        members each move by their partial-play `weights` (1 by default, 0 for a member
        who sat the game out; someone on every side must weigh more than 0). An anchored
        name is rated at its pinned rating, whatever rating is passed, and keeps it.

        Example:
            >>> rater = Rater()
            >>> new = rater.rate([[("a", rater.initial()), ("b", rater.initial())],
            ...                   [("c", rater.initial())]], [1, 0])
            >>> [[round(r.mu, 2) for r in team] for team in new]
            [[16.27, 16.27], [33.73]]
        """
        self._check_game(teams, ranks, weights)
        pinned = [[(n, self.anchors.get(n, r)) for n, r in team] for team in teams]
        if len(pinned) == 2 and len(pinned[0]) == len(pinned[1]) == 1 and weights is None:
            fast = self._one_on_one(pinned[0][0][1], pinned[1][0][1], int(ranks[0]), int(ranks[1]))
            if fast is not None:
                return [[self.anchors.get(pinned[k][0][0], fast[k])] for k in range(2)]
        groups = [tuple(self._env.create_rating(r.mu, r.sigma) for _, r in team) for team in pinned]
        weight_groups = None if weights is None else [tuple(float(w) for w in ws) for ws in weights]
        rated = self._run(groups, [int(r) for r in ranks], weight_groups)
        return [
            [self.anchors.get(name, Rating(float(new.mu), float(new.sigma))) for (name, _), new in zip(team, group)]
            for team, group in zip(pinned, rated)
        ]

    def rate_free_for_all(
        self, players: Sequence[tuple[str, Rating]], scores: Sequence[float], tolerance: float = 1e-9
    ) -> list[Rating]:
        """Rate teams that each played the same seeded episodes of a cooperative game.

        Higher score ranks first; scores within `tolerance` of the best score of their
        group draw. Returns the new ratings in the order of `players`.

        Example:
            >>> rater = Rater()
            >>> new = rater.rate_free_for_all([(n, rater.initial()) for n in "abc"], [1.0, 3.0, 2.0])
            >>> new[1].mu > new[2].mu > new[0].mu
            True
        """
        if len(players) != len(scores):
            raise RatingError(f"got {len(players)} players but {len(scores)} scores; give one score per player.")
        if not (isinstance(tolerance, (int, float)) and math.isfinite(tolerance) and tolerance >= 0):
            raise RatingError(f"tolerance must be a finite number of 0 or more, not {tolerance!r}.")
        for (name, _), score in zip(players, scores):
            if not math.isfinite(float(score)):
                raise RatingError(f"the score of {name!r} must be finite, not {score!r}.")
        ranks = _ranks_from_scores([float(s) for s in scores], tolerance)
        rated = self.rate([[player] for player in players], ranks)
        return [team[0] for team in rated]

    def expose(self, rating: Rating) -> float:
        """The conservative score mu - 3 sigma that orders a leaderboard.

        Example:
            >>> Rater().expose(Rating(30.0, 2.0))
            24.0
        """
        return rating.conservative

    def win_probability(self, team_a: Sequence[Rating], team_b: Sequence[Rating]) -> float:
        """The chance that `team_a` beats `team_b`, ignoring draws (TrueSkill's formula).

        Example:
            >>> rater = Rater()
            >>> rater.win_probability([Rating(25.0, 1.0)], [Rating(25.0, 1.0)])
            0.5
            >>> round(rater.win_probability([Rating(30.0, 1.0)], [Rating(20.0, 1.0)]), 3)
            0.951
        """
        if not team_a or not team_b:
            raise RatingError("each team needs at least one rating to predict a game.")
        for rating in (*team_a, *team_b):
            _check_rating("a team member", rating)
        delta_mu = sum(r.mu for r in team_a) - sum(r.mu for r in team_b)
        sum_sigma2 = sum(r.sigma**2 for r in (*team_a, *team_b))
        size = len(team_a) + len(team_b)
        return _normal_cdf(delta_mu / math.sqrt(size * self.config.beta**2 + sum_sigma2))

    def _check_game(
        self,
        teams: Sequence[Sequence[tuple[str, Rating]]],
        ranks: Sequence[int],
        weights: Sequence[Sequence[float]] | None,
    ) -> None:
        if len(teams) < 2:
            raise RatingError(f"a game needs at least two sides to be rated, got {len(teams)}.")
        if len(ranks) != len(teams):
            raise RatingError(f"got {len(teams)} sides but {len(ranks)} ranks; give one rank per side.")
        for rank in ranks:
            if isinstance(rank, bool) or not isinstance(rank, (int, np.integer)):
                raise RatingError(f"ranks must be integers, not {rank!r}.")
        if len(set(int(r) for r in ranks)) < len(ranks) and self.config.draw_probability == 0:
            raise RatingError("a draw cannot be rated when draw_probability is 0; set it above 0.")
        seen: set[str] = set()
        for side, team in enumerate(teams):
            if not team:
                raise RatingError(f"side {side} has no players; every side needs at least one.")
            for name, rating in team:
                if not isinstance(name, str) or not name:
                    raise RatingError(f"player names must be non-empty strings, not {name!r}.")
                if name in seen:
                    raise RatingError(f"player {name!r} appears more than once in one game.")
                seen.add(name)
                _check_rating(name, rating)
        if weights is None:
            return
        if len(weights) != len(teams) or any(len(w) != len(t) for w, t in zip(weights, teams)):
            raise RatingError("weights must have the same shape as teams: one weight per player per side.")
        for side, ws in enumerate(weights):
            for w in ws:
                if not (isinstance(w, (int, float, np.number)) and 0.0 <= float(w) <= 1.0):
                    raise RatingError(f"partial-play weights must be between 0 and 1, not {w!r}.")
            # A side nobody played has no performance, and TrueSkill divides by it.
            if not any(float(w) > 0 for w in ws):
                raise RatingError(f"side {side} has no player with a weight above 0, so it cannot be ranked.")

    def _one_on_one(self, a: Rating, b: Rating, rank_a: int, rank_b: int) -> tuple[Rating, Rating] | None:
        """The closed form of TrueSkill's two-player update (Herbrich et al. 2007).

        The factor graph of two one-player teams is solved exactly by one message pass, so
        this gives the trueskill library's numbers (tests check it) ~50x faster, which
        matters when every training game is rated. None where the library must decide
        (extreme upsets that need more precision).
        """
        c = self.config
        var_a, var_b = a.sigma ** 2 + c.tau ** 2, b.sigma ** 2 + c.tau ** 2
        c2 = 2 * c.beta ** 2 + var_a + var_b
        scale = math.sqrt(c2)
        margin = _NORMAL.inv_cdf((c.draw_probability + 1) / 2) * math.sqrt(2) * c.beta / scale
        if abs(a.mu - b.mu) / scale > 4.0:
            return None  # deep in the tails the library's own arithmetic decides (and may need mpmath)
        if rank_a == rank_b:
            t = (a.mu - b.mu) / scale
            high, low = margin - abs(t), -margin - abs(t)
            denom = _NORMAL.cdf(high) - _NORMAL.cdf(low)
            if denom <= 1e-300:
                return None
            v = (_NORMAL.pdf(low) - _NORMAL.pdf(high)) / denom * (-1 if t < 0 else 1)
            w = (v * v) + (high * _NORMAL.pdf(high) - low * _NORMAL.pdf(low)) / denom
            if not 0 < w < 1:
                return None
            sign = 1.0
        else:
            winner_first = rank_a < rank_b
            t = ((a.mu - b.mu) if winner_first else (b.mu - a.mu)) / scale
            x = t - margin
            denom = _NORMAL.cdf(x)
            if denom <= 1e-300:
                return None
            v = _NORMAL.pdf(x) / denom
            w = v * (v + x)
            if not 0 < w < 1:
                return None
            sign = 1.0 if winner_first else -1.0
        mu_a = a.mu + sign * var_a / scale * v
        mu_b = b.mu - sign * var_b / scale * v
        sigma_a = math.sqrt(var_a * (1 - var_a / c2 * w))
        sigma_b = math.sqrt(var_b * (1 - var_b / c2 * w))
        return Rating(mu_a, sigma_a), Rating(mu_b, sigma_b)

    def _run(
        self,
        groups: list[tuple[trueskill.Rating, ...]],
        ranks: list[int],
        weights: list[tuple[float, ...]] | None,
    ) -> list[tuple[trueskill.Rating, ...]]:
        try:
            rated = self._env.rate(groups, ranks, weights)
        except FloatingPointError:
            # An upset far beyond what double precision can score; TrueSkill's own advice
            # is the arbitrary-precision mpmath backend, which torch's sympy brings along.
            rated = self._rate_precisely(groups, ranks, weights)
        for group in rated:
            for r in group:
                if not (math.isfinite(float(r.mu)) and math.isfinite(float(r.sigma)) and float(r.sigma) > 0):
                    raise RatingError("TrueSkill produced a non-finite rating for this game; it was not rated.")
        return rated

    def _rate_precisely(
        self,
        groups: list[tuple[trueskill.Rating, ...]],
        ranks: list[int],
        weights: list[tuple[float, ...]] | None,
    ) -> list[tuple[trueskill.Rating, ...]]:
        try:
            if self._precise_env is None:
                self._precise_env = self._make_env(backend="mpmath")
            return self._precise_env.rate(groups, ranks, weights)
        except ImportError:
            message = "this result is too unlikely to rate in double precision; install mpmath to rate it."
        except FloatingPointError:
            message = "this result is too unlikely for TrueSkill to rate, even in extended precision."
        raise RatingError(message)


_NORMAL = NormalDist()


def _ranks_from_scores(scores: Sequence[float], tolerance: float) -> list[int]:
    """Dense ranks, best score first; a score within tolerance of its group's best draws."""
    order = sorted(range(len(scores)), key=lambda i: -scores[i])
    ranks = [0] * len(scores)
    rank, group_best = -1, math.inf
    for i in order:
        if group_best - scores[i] > tolerance:
            rank, group_best = rank + 1, scores[i]
        ranks[i] = rank
    return ranks


def rater_from(settings: Mapping[str, Any] | None) -> Rater:
    """A Rater from a run's `ratings` settings: TrueSkill keys plus `anchors = {name = mu}`.

    Example:
        >>> rater = rater_from({"mu": 25.0, "anchors": {"random": 0.0}})
        >>> rater.anchors["random"].mu
        0.0
    """
    values = dict(settings or {})
    anchors = values.pop("anchors", {}) or {}
    config = RatingConfig.from_mapping(values)
    return Rater(config=config, anchors={name: Rating(float(mu), config.sigma / 10) for name, mu in anchors.items()})
