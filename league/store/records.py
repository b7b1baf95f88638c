"""The records a run's database holds, as the store hands them out and takes them in.

Example:
    >>> NewMatch("tournament", "tic_tac_toe", 1, ("a", "b"), (1.0, -1.0), (0, 1), 9).sides
    ('a', 'b')
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Mapping, Sequence

from league.store.files import StoreError
from league.store.schema import ORIGINS


class DuplicateMatch(StoreError):
    """This game of this tournament is already recorded."""


@dataclass(frozen=True)
class Player:
    """A row of `players`: a learner, a frozen snapshot, a reference bot or a team."""

    id: int
    name: str
    kind: str  # learner | snapshot | baseline | team
    algorithm: str | None
    role: str | None
    parent: str | None  # the player this one was copied from
    step: int | None  # the training step its weights were taken at
    weights_path: str | None  # relative to the run directory
    weights_sha256: str | None
    meta: dict[str, Any] = field(hash=False)
    created: str  # ISO 8601, UTC


@dataclass(frozen=True)
class NewMatch:
    """A finished game, as `record_match` takes it."""

    origin: str  # tournament | training | evaluation | human (a person's game: stored, never rated nor rolled back)
    game: str
    seed: int
    sides: tuple[str, ...]  # entrant name per side; "a+b" for a pick-up team
    returns: tuple[float, ...]  # total return per side
    ranks: tuple[int, ...]  # per side, 0 is best, equal ranks draw
    length: int
    truncated: bool = False
    tournament_id: int | None = None
    game_index: int | None = None  # the game's place in its tournament's schedule
    forfeit: str | None = None  # why the game was forfeited, if it was
    moves: str | None = None  # the game's actions (league.play.runner.encode_moves); None where not kept


@dataclass(frozen=True)
class Match(NewMatch):
    """A row of `matches`: a NewMatch with its id, the time it was stored and whether it is rated yet."""

    id: int = field(kw_only=True)
    created: str = field(kw_only=True)
    rated: bool = field(default=True, kw_only=True)


@dataclass(frozen=True)
class RatingPoint:
    """One entry of a rating history; `match_id` is None for a rating set by hand."""

    mu: float
    sigma: float
    match_id: int | None
    created: str


@dataclass(frozen=True)
class Metric:
    """One training metric of one player at one step (NaN survives as NaN)."""

    player: str
    step: int
    key: str
    value: float
    created: str


Ratings = Mapping[str, "tuple[float, float]"]
# rate(games, current) -> one {player: (mu, sigma)} per game, applied in order; `current` holds the
# stored rating of every rated member of those games, read inside the transaction that stores them
RateFn = Callable[[Sequence[NewMatch], Ratings], Sequence[Ratings]]


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def to_json(value: Any, what: str) -> str:
    try:
        return json.dumps(value, allow_nan=False, sort_keys=True)  # NaN is not JSON; SQLite would choke on it
    except (TypeError, ValueError):
        raise StoreError(f"{what} must be JSON-serialisable with finite numbers, not {value!r}.") from None


_LIST_ENCODER = json.JSONEncoder(allow_nan=False)  # built once: a training round encodes thousands of lists


def to_json_list(value: list[Any], what: str) -> str:
    try:
        return _LIST_ENCODER.encode(value)
    except (TypeError, ValueError):
        raise StoreError(f"{what} must be JSON-serialisable with finite numbers, not {value!r}.") from None


def check_mu_sigma(player: str, mu: float, sigma: float) -> tuple[float, float]:
    mu, sigma = float(mu), float(sigma)
    if not (math.isfinite(mu) and math.isfinite(sigma) and sigma > 0):
        raise StoreError(f"the rating of {player!r} needs a finite mu and a sigma above 0, not ({mu}, {sigma}).")
    return mu, sigma


def match_row(match: NewMatch, rated: bool = True) -> dict[str, Any]:
    """Check a NewMatch and turn it into a row of `matches`."""
    if match.origin not in ORIGINS:
        raise StoreError(f"match origin must be one of {', '.join(ORIGINS)}, not {match.origin!r}.")
    n = len(match.sides)
    if n == 0 or len(match.returns) != n or len(match.ranks) != n:
        raise StoreError(f"a match needs one return and one rank per side, got {n} sides,"
                         f" {len(match.returns)} returns and {len(match.ranks)} ranks.")
    if not all(isinstance(side, str) and side for side in match.sides):
        raise StoreError(f"every side of a match needs an entrant name, not {match.sides!r}.")
    return {
        "origin": match.origin, "game": match.game, "seed": int(match.seed),
        "tournament_id": None if match.tournament_id is None else int(match.tournament_id),
        "game_index": None if match.game_index is None else int(match.game_index),
        "sides": to_json_list(list(match.sides), "match sides"),
        "returns": to_json_list([float(r) for r in match.returns], "match returns"),
        "ranks": to_json_list([int(r) for r in match.ranks], "match ranks"),
        "length": int(match.length), "truncated": int(bool(match.truncated)), "forfeit": match.forfeit,
        "moves": match.moves, "rated": int(bool(rated)), "created": now(),
    }
