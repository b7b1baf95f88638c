"""Matchmaking: who a learner plays next. Pure functions over names, a payoff table and an RNG.

Strategies, mixed per learner by weight (`Mix`; `nash` samples the pool's Nash mixture, as PSRO does):
  - `latest`: self-play against the current learners of the role (OpenAI Five's 80%);
  - `past`: uniform over the frozen snapshots in the pool (OpenAI Five's 20%);
  - `pfsp`: prioritised fictitious self-play (AlphaStar): opponent o is drawn with weight
    f(x_o), x_o the learner's decayed win rate against o, with f one of
      squared       (1 - x)^2        hardest opponents first,
      variance      x (1 - x)        opponents of similar strength,
      linear_capped min(0.5, 1 - x)  every opponent not yet beaten, none favoured too much;
    a pair with too few games counts as x = 0.5, and when every weight is zero the draw
    falls back to uniform.

Example:
    >>> import numpy as np
    >>> table = PayoffTable(decay=0.99, min_games=2)
    >>> for _ in range(10):
    ...     table.add("me", "weak", 1.0)
    ...     table.add("me", "strong", 0.0)
    >>> weights = pfsp_weights([table.score("me", o) for o in ("weak", "strong", "new")], "squared")
    >>> [round(float(w), 3) for w in weights]
    [0.0, 0.8, 0.2]
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from games.errors import LeagueError
from league.results import PayoffTable

WEIGHTINGS = ("squared", "variance", "linear_capped")
STRATEGIES = ("latest", "past", "pfsp", "nash")


class MatchmakingError(LeagueError, ValueError):
    """A matchmaking configuration that cannot work."""


def pfsp_weights(win_rates: Sequence[float], weighting: str = "squared") -> np.ndarray:
    """Normalised PFSP sampling weights from win rates in [0, 1]; uniform when all are zero.

    Example:
        >>> pfsp_weights([1.0, 1.0], "squared").tolist()
        [0.5, 0.5]
    """
    x = np.clip(np.asarray(win_rates, dtype=np.float64), 0.0, 1.0)
    if x.size == 0:
        raise MatchmakingError("PFSP needs at least one candidate opponent")
    if weighting == "squared":
        w = (1.0 - x) ** 2
    elif weighting == "variance":
        w = x * (1.0 - x)
    elif weighting == "linear_capped":
        w = np.minimum(0.5, 1.0 - x)
    else:
        raise MatchmakingError(f"unknown PFSP weighting {weighting!r}; weightings: {', '.join(WEIGHTINGS)}")
    total = w.sum()
    if not np.isfinite(total) or total <= 0:
        return np.full(x.size, 1.0 / x.size)
    return w / total


@dataclass(frozen=True)
class Mix:
    """How one learner picks opponents: a weight per strategy, and the PFSP weighting.

    The default is OpenAI Five's: 80% against the latest learners, 20% against past
    snapshots, here drawn by PFSP (linear-capped) instead of uniformly.
    """

    latest: float = 0.8
    past: float = 0.0
    pfsp: float = 0.2
    nash: float = 0.0  # PSRO: opponents drawn from the Nash mixture over the pool's payoff matrix
    weighting: str = "linear_capped"
    pickup: float = 0.0  # chance that an opposing side of several seats is a pick-up team of pool members

    def __post_init__(self) -> None:
        if not 0.0 <= self.pickup <= 1.0:
            raise MatchmakingError(f"pickup is a probability in [0, 1], got {self.pickup}")
        weights = [self.latest, self.past, self.pfsp, self.nash]
        if any(w < 0 or not np.isfinite(w) for w in weights) or sum(weights) <= 0:
            raise MatchmakingError(f"matchmaking weights must be non-negative and not all zero, got {weights}")
        if self.weighting not in WEIGHTINGS:
            raise MatchmakingError(f"unknown PFSP weighting {self.weighting!r}; weightings: {', '.join(WEIGHTINGS)}")

    @classmethod
    def from_mapping(cls, values: Mapping[str, object]) -> "Mix":
        valid = ("latest", "past", "pfsp", "nash", "weighting", "pickup")
        for key in values:
            if key not in valid:
                close = difflib.get_close_matches(key, valid, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise MatchmakingError(f"unknown matchmaking key {key!r}{hint}; keys: {', '.join(valid)}")
        return cls(**{k: (str(v) if k == "weighting" else float(v)) for k, v in values.items()})  # type: ignore[arg-type]


def choose_opponents(
    me: str,
    mix: Mix,
    latest: Sequence[str],
    past: Sequence[str],
    table: PayoffTable,
    rng: np.random.Generator,
    nash_weights: Sequence[float] | None = None,
    count: int = 1,
) -> list[str]:
    """`count` independent opponent names for learner `me`, drawn together (a round's games).

    `latest` are the current learners that may fill the other side (`me` included for pure
    self-play), `past` the frozen snapshots, `nash_weights` the Nash mixture over `past`
    (when the `nash` strategy is in the mix). A strategy with no candidates gives its weight
    to the others. PFSP's win rates are read once, as they stand when the draw is made.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> picks = choose_opponents("me", Mix(latest=0.0, pfsp=0.0, nash=1.0), [], ["a", "b"], PayoffTable(), rng,
        ...                          [0.0, 1.0], count=3)
        >>> picks
        ['b', 'b', 'b']
    """
    has_nash = past and nash_weights is not None and len(nash_weights) == len(past) and sum(nash_weights) > 0
    weights = np.array([mix.latest if latest else 0.0, mix.past if past else 0.0, mix.pfsp if past else 0.0,
                        mix.nash if has_nash else 0.0])
    if weights.sum() <= 0:
        if latest:
            return [latest[int(i)] for i in rng.integers(len(latest), size=count)]
        if past:
            return [past[int(i)] for i in rng.integers(len(past), size=count)]
        raise MatchmakingError(f"{me} has nobody to play: no current learners or snapshots for the other side")
    strategies = rng.choice(len(STRATEGIES), size=count, p=weights / weights.sum())  # (count,)
    out: list[str] = [""] * count
    for index, strategy in enumerate(STRATEGIES):
        games = np.flatnonzero(strategies == index)  # the draws that took this strategy
        if not len(games):
            continue
        if strategy == "latest":
            names, picks = latest, rng.integers(len(latest), size=len(games))
        elif strategy == "past":
            names, picks = past, rng.integers(len(past), size=len(games))
        else:
            p = (np.asarray(nash_weights, dtype=np.float64) if strategy == "nash"
                 else pfsp_weights([table.score(me, o) for o in past], mix.weighting))
            names, picks = past, rng.choice(len(past), size=len(games), p=p / p.sum())
        for game, pick in zip(games, picks):
            out[game] = names[int(pick)]
    return out


# -- AlphaStar's league positions ------------------------------------------------------------
# A learner's position decides whom it plays (Vinyals et al. 2019, and the pseudocode published
# with the paper): main agents must beat the whole league, main exploiters hunt the main agents'
# weaknesses, league exploiters the whole league's. Snapshots are "historical" players.

POSITIONS = ("main", "main_exploiter", "league_exploiter")


@dataclass(frozen=True)
class Historical:
    """A frozen player of the pool: its name, the learner it was copied from, that learner's position."""

    name: str
    parent: str
    position: str  # "" when the parent had no AlphaStar position (e.g. a baseline)


def check_position(position: str) -> str:
    if position and position not in POSITIONS:
        close = difflib.get_close_matches(position, POSITIONS, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise MatchmakingError(f"unknown league position {position!r}{hint}; positions: {', '.join(POSITIONS)}")
    return position


def _pick(names: Sequence[str], weights: np.ndarray, rng: np.random.Generator) -> str:
    return names[int(rng.choice(len(names), p=weights))]


def _remove_monotonic_suffix(rates: list[float], names: list[str]) -> tuple[list[float], list[str]]:
    """Drop the newest copies while win rates only fall towards the newest (not forgotten yet)."""
    for i in range(len(rates) - 1, 0, -1):
        if rates[i - 1] < rates[i]:
            return rates[: i + 1], names[: i + 1]
    return [], []


def alphastar_opponent(
    me: str,
    position: str,
    mains: Sequence[str],
    pool: Sequence[Historical],
    table: PayoffTable,
    rng: np.random.Generator,
) -> str:
    """One opponent for learner `me` at its AlphaStar `position`.

    `mains` are the current main agents (learners), `pool` the historical players oldest first.

    main: 50% PFSP (squared) over all historical players; otherwise pick a main agent and
      15% of the time verify: exploiters' snapshots it loses to (min win rate < 0.3), then
      its forgotten own copies (< 0.7); else self-play against that main agent, or, when it
      is too strong (win rate <= 0.3), a variance-PFSP curriculum over that agent's copies.
    main_exploiter: a main agent while it wins more than 10%; else variance-PFSP over that
      main agent's snapshots.
    league_exploiter: linear-capped PFSP over every historical player.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> alphastar_opponent("ex", "main_exploiter", ["main"], [], PayoffTable(), rng)
        'main'
    """
    check_position(position)
    names = [h.name for h in pool]

    def rates(candidates: Sequence[str]) -> list[float]:
        return [table.score(me, c) for c in candidates]

    if position == "league_exploiter":
        if not names:
            return _fallback(me, mains, rng)
        return _pick(names, pfsp_weights(rates(names), "linear_capped"), rng)
    if position == "main_exploiter":
        if not mains:
            return _fallback(me, mains, rng)
        main = mains[int(rng.integers(len(mains)))]
        copies = [h.name for h in pool if h.parent == main]
        if table.score(me, main) > 0.1 or not copies:
            return main
        return _pick(copies, pfsp_weights(rates(copies), "variance"), rng)
    # main agent
    coin = rng.random()
    if coin < 0.5 and names:
        return _pick(names, pfsp_weights(rates(names), "squared"), rng)
    if not mains:
        return _fallback(me, mains, rng)
    main = mains[int(rng.integers(len(mains)))]
    if coin < 0.65:
        exploiters = [h.name for h in pool if h.position == "main_exploiter"]
        if exploiters and min(rates(exploiters)) < 0.3:
            return _pick(exploiters, pfsp_weights(rates(exploiters), "squared"), rng)
        own = [h.name for h in pool if h.parent == main]
        forgotten_rates, forgotten = _remove_monotonic_suffix(rates(own), own)
        if forgotten and min(forgotten_rates) < 0.7:
            return _pick(forgotten, pfsp_weights(forgotten_rates, "squared"), rng)
    copies = [h.name for h in pool if h.parent == main]
    if table.score(me, main) > 0.3 or not copies:
        return main
    return _pick(copies, pfsp_weights(rates(copies), "variance"), rng)


def _fallback(me: str, mains: Sequence[str], rng: np.random.Generator) -> str:
    if mains:
        return mains[int(rng.integers(len(mains)))]
    return me  # nobody else yet: self-play
