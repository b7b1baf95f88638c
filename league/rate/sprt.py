"""Paired-game statistics as chess-engine testers compute them: pentanomial counts, the
generalised SPRT, and Elo differences with 95% intervals.

Games are played in pairs that share a seed, with sides swapped. A pair scores 0, 1/2, 1,
3/2 or 2 points (two losses ... two wins): the pentanomial model. Pairs are far less
noisy than single games because the luck of the seed cancels, so the variance is measured
on pairs, not games.

The GSPRT is Michel Van den Bergh's ("Comments on Normalized Elo"), as fishtest and
fastchess use it: under each hypothesis the pentanomial distribution of maximum likelihood
that satisfies it; the log-likelihood ratio of the two, compared with Wald's bounds
log(beta / (1 - alpha)) and log((1 - beta) / alpha). Two models, as in fastchess:

- normalized (the default): elo0/elo1 are normalized Elo, t = (mean - 1/2) / (sqrt(2) sigma)
  with sigma the spread of pair scores (it reproduces fastchess's LLR of 2.96 for 37 won
  pairs and 2 split ones at [0, 20]);
- logistic: elo0/elo1 are logistic Elo, hypotheses on the mean score alone.

Empty pentanomial cells count 1e-3 so that the maximum-likelihood problem stays defined.

Example:
    >>> test = SPRT.parse("elo0=0,elo1=10,alpha=0.05,beta=0.05")
    >>> round(test.lower, 3), round(test.upper, 3)
    (-2.944, 2.944)
    >>> test.status(Pentanomial(ww=5)), test.status(Pentanomial(ww=80))
    ('running', 'H1')
    >>> round(SPRT(0, 20).llr(Pentanomial(dd_wl=2, ww=37)), 2)
    2.96
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from games.errors import LeagueError

SCORES = (0.0, 0.25, 0.5, 0.75, 1.0)  # a pair's score per game: 0, 1/2, 1, 3/2, 2 points out of 2


class SPRTError(LeagueError, ValueError):
    """SPRT settings that do not make a test."""


@dataclass(frozen=True)
class Pentanomial:
    """How many game pairs ended 0-2, 1/2-3/2, 1-1, 3/2-1/2 and 2-0 for the first player."""

    ll: int = 0
    ld: int = 0
    dd_wl: int = 0  # two draws, or a win and a loss
    wd: int = 0
    ww: int = 0

    @property
    def counts(self) -> tuple[int, int, int, int, int]:
        return (self.ll, self.ld, self.dd_wl, self.wd, self.ww)

    @property
    def pairs(self) -> int:
        return sum(self.counts)

    @classmethod
    def from_pairs(cls, pair_scores: list[float]) -> "Pentanomial":
        """From each pair's points (0, 0.5, 1, 1.5 or 2).

        Example:
            >>> Pentanomial.from_pairs([2, 1, 1, 0.5])
            Pentanomial(ll=0, ld=1, dd_wl=2, wd=0, ww=1)
        """
        bins = [0, 0, 0, 0, 0]
        for points in pair_scores:
            k = int(round(points * 2))
            if not 0 <= k <= 4:
                raise SPRTError(f"a pair scores 0 to 2 points, got {points}")
            bins[k] += 1
        return cls(*bins)

    def mean_and_variance(self) -> tuple[float, float]:
        """Mean score per game and the variance of a pair's mean score."""
        n = self.pairs
        if n == 0:
            return 0.5, 0.0
        mean = sum(c * s for c, s in zip(self.counts, SCORES)) / n
        var = sum(c * (s - mean) ** 2 for c, s in zip(self.counts, SCORES)) / n
        return mean, var


def elo_to_score(elo: float) -> float:
    """Expected score of a player `elo` points stronger (logistic model)."""
    return 1.0 / (1.0 + 10.0 ** (-elo / 400.0))


def score_to_elo(score: float) -> float:
    """Elo difference for a mean score; +-inf for a perfect or nil score.

    Example:
        >>> round(score_to_elo(0.75), 1), score_to_elo(1.0)
        (190.8, inf)
    """
    if score >= 1.0:
        return math.inf
    if score <= 0.0:
        return -math.inf
    return -400.0 * math.log10(1.0 / score - 1.0)


def elo_interval(counts: Pentanomial, z: float = 1.959963984540054) -> tuple[float, float, float]:
    """(Elo difference, lower, upper) of the 95% interval from paired results.

    Example:
        >>> elo, low, high = elo_interval(Pentanomial(ll=5, ld=10, dd_wl=20, wd=10, ww=5))
        >>> abs(round(elo, 6)), low < 0 < high
        (0.0, True)
    """
    mean, var = counts.mean_and_variance()
    n = counts.pairs
    if n == 0:
        return 0.0, -math.inf, math.inf
    half = z * math.sqrt(var / n)
    return score_to_elo(mean), score_to_elo(mean - half), score_to_elo(mean + half)


def _solve(frequencies: list[float], phi: list[float]) -> list[float]:
    """p_i = f_i / (1 + theta phi_i) with theta solving g(theta) = sum f_i phi_i / (1 + theta phi_i) = 0.

    g decreases in theta on the interval where every denominator stays positive: Newton's
    method from theta = 0, kept inside a shrinking bracket by bisection when a step leaves it.
    """
    lo = -1.0 / max(phi) + 1e-12 if max(phi) > 0 else -1e12
    hi = -1.0 / min(phi) - 1e-12 if min(phi) < 0 else 1e12
    theta = 0.0
    for _ in range(200):
        g = slope = 0.0
        for f, x in zip(frequencies, phi):
            d = 1.0 + theta * x
            g += f * x / d
            slope -= f * x * x / (d * d)
        if g > 0:
            lo = theta
        else:
            hi = theta
        step = theta - g / slope if slope < 0 else 0.5 * (lo + hi)
        if not lo < step < hi:
            step = 0.5 * (lo + hi)
        if abs(step - theta) <= 1e-15 * max(1.0, abs(theta)):
            theta = step
            break
        theta = step
    return [f / (1.0 + theta * x) for f, x in zip(frequencies, phi)]


def _mle(frequencies: list[float], mu: float) -> list[float]:
    """The distribution on SCORES closest in likelihood to `frequencies` whose mean is `mu`.

    p_i = f_i / (1 + lam (a_i - mu)), lam solving sum f_i (a_i - mu) / (1 + lam (a_i - mu)) = 0.
    """
    p = _solve(frequencies, [a - mu for a in SCORES])
    total = sum(p)
    return [x / total for x in p]


def _mle_normalized(frequencies: list[float], t: float, tolerance: float = 1e-4) -> list[float]:
    """The most likely distribution on SCORES with (mean - 1/2) / sigma = t (Van den Bergh, section 4.1).

    A fixed-point iteration from the uniform distribution: linearise the constraint around
    the current estimate and solve the resulting mean-type problem, until it stops moving.
    """
    p = [1.0 / len(SCORES)] * len(SCORES)
    for _ in range(1000):
        mu = sum(a * q for a, q in zip(SCORES, p))
        sigma = math.sqrt(max(sum(q * (a - mu) ** 2 for a, q in zip(SCORES, p)), 1e-300))
        phi = [a - 0.5 - 0.5 * t * sigma * (1.0 + ((a - mu) / sigma) ** 2) for a in SCORES]
        new = _solve(frequencies, phi)
        moved = max(abs(x - y) for x, y in zip(new, p))
        p = new
        if moved < tolerance:
            break
    return p


@dataclass(frozen=True)
class SPRT:
    """A generalised SPRT between elo0 (H0) and elo1 (H1) with error rates alpha and beta."""

    elo0: float = 0.0
    elo1: float = 10.0
    alpha: float = 0.05
    beta: float = 0.05
    model: str = "normalized"  # or "logistic"

    def __post_init__(self) -> None:
        if self.model not in ("normalized", "logistic"):
            raise SPRTError(f"model must be normalized or logistic, got {self.model!r}")
        if not (0.0 < self.alpha < 0.5 and 0.0 < self.beta < 0.5):
            raise SPRTError(f"alpha and beta must be in (0, 0.5), got alpha={self.alpha}, beta={self.beta}")
        if not self.elo1 > self.elo0:
            raise SPRTError(f"elo1 must be above elo0, got elo0={self.elo0}, elo1={self.elo1}")
        if not (-1000.0 < self.elo0 < 1000.0 and -1000.0 < self.elo1 < 1000.0):
            raise SPRTError(f"elo0 and elo1 must lie within +-1000, got {self.elo0}, {self.elo1}")

    @classmethod
    def parse(cls, text: str) -> "SPRT":
        """From "elo0=0,elo1=10,alpha=0.05,beta=0.05[,model=logistic]" (any subset of the keys)."""
        values: dict[str, float | str] = {}
        for part in filter(None, (p.strip() for p in text.split(","))):
            key, sep, value = part.partition("=")
            if not sep or key.strip() not in ("elo0", "elo1", "alpha", "beta", "model"):
                raise SPRTError(f"cannot read {part!r}; write --sprt elo0=0,elo1=10,alpha=0.05,beta=0.05")
            if key.strip() == "model":
                values["model"] = value.strip()
                continue
            try:
                values[key.strip()] = float(value)
            except ValueError:
                raise SPRTError(f"{key.strip()} must be a number, got {value!r}") from None
        return cls(**values)

    @property
    def lower(self) -> float:
        return math.log(self.beta / (1.0 - self.alpha))

    @property
    def upper(self) -> float:
        return math.log((1.0 - self.beta) / self.alpha)

    def llr(self, counts: Pentanomial) -> float:
        """Log-likelihood ratio of H1 against H0 given the pairs so far."""
        if counts.pairs == 0:
            return 0.0
        regularised = [c if c > 0 else 1e-3 for c in counts.counts]
        total = sum(regularised)
        f = [c / total for c in regularised]
        if self.model == "logistic":
            p0, p1 = _mle(f, elo_to_score(self.elo0)), _mle(f, elo_to_score(self.elo1))
        else:
            scale = math.sqrt(2.0) / (800.0 / math.log(10.0))  # normalized Elo -> t, pentanomial
            p0, p1 = _mle_normalized(f, self.elo0 * scale), _mle_normalized(f, self.elo1 * scale)
        return total * sum(fi * math.log(b / a) for fi, a, b in zip(f, p0, p1))

    def pairs_to_decide(self, counts: Pentanomial, limit: int) -> int:
        """The fewest more pairs that could end the test (all won: H1; all lost: H0), at most `limit`.

        A tournament keeps no more pairs of a pairing in flight than this, so that a decision
        is not followed by a batch of games that no longer matter.

        Example:
            >>> test = SPRT(0, 50)
            >>> test.pairs_to_decide(Pentanomial(), 100), test.pairs_to_decide(Pentanomial(ww=15), 100)
            (14, 2)
            >>> SPRT(0, 5).pairs_to_decide(Pentanomial(ld=20, dd_wl=40, wd=20), 50)  # even: no end in sight
            50
        """
        best = max(0, int(limit))
        for won in (True, False):

            def ends(k: int) -> bool:
                more = replace(counts, ww=counts.ww + k) if won else replace(counts, ll=counts.ll + k)
                value = self.llr(more)
                return value >= self.upper if won else value <= self.lower

            if best == 0 or not ends(best):
                continue
            lo, hi = 0, best  # ends(hi); the LLR moves monotonically with more pairs of one kind
            while hi - lo > 1:
                mid = (lo + hi) // 2
                lo, hi = (lo, mid) if ends(mid) else (mid, hi)
            best = hi if lo or not ends(0) else 0
        return best

    def status(self, counts: Pentanomial) -> str:
        """'H1' (accept: stronger by elo1), 'H0' (accept: not stronger than elo0), or 'running'."""
        return self.verdict(self.llr(counts))

    def verdict(self, value: float) -> str:
        """`status` for an LLR already computed."""
        if value >= self.upper:
            return "H1"
        if value <= self.lower:
            return "H0"
        return "running"
