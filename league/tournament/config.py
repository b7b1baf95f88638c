"""What defines a tournament: its configuration, the key it is stored (and resumed) under, the
checks that refuse a configuration that cannot make a fair tournament, and who meets whom.

Example:
    >>> config = TournamentConfig(game="tic_tac_toe", entrants=("a", "b", "c"), games=4, format="gauntlet",
    ...                           challengers=("a",))
    >>> fixed_pairings(config), config.key().startswith("gauntlet-")
    ([('a', 'b'), ('a', 'c')], True)
    >>> TournamentConfig(game="tic_tac_toe", entrants=tuple("abcdefgh"), games=2, format="swiss").swiss_rounds()
    5
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from dataclasses import asdict, dataclass

from games.base import GameSpec
from games.errors import LeagueError
from league.rate.sprt import SPRT, SPRTError
from league.results import TEAM_SEPARATOR
from league.tournament.openings import OpeningError, check_spec

FORMATS = ("round-robin", "gauntlet", "swiss")


class TournamentError(LeagueError, ValueError):
    """A tournament that cannot be played as configured."""


@dataclass(frozen=True)
class TournamentConfig:
    """What defines a tournament; the same config is the same tournament (and resumes it)."""

    game: str  # the game's registry reference
    entrants: tuple[str, ...]
    games: int  # games per pairing or table (the SPRT's cap) or seeded episodes per entrant (one side)
    seed: int = 0
    format: str = "round-robin"
    challengers: tuple[str, ...] = ()  # gauntlet: who plays the field
    rounds: int = 0  # swiss: 0 means ceil(log2 n) + 2
    sprt: str = ""  # e.g. "elo0=0,elo1=10,alpha=0.05,beta=0.05"
    openings: str = ""  # "" (the default, see league/tournament/openings.py), "none", "random:N" or a file
    openings_order: str = "sequential"  # a file's openings in order, or shuffled by the seed ("random")

    def key(self, openings: str = "") -> str:
        """The tournament's identity; `openings` is its opening plan's key ("" when it plays none).

        A tournament without openings keeps the key it had before openings existed.
        """
        values = asdict(self)
        del values["openings"], values["openings_order"]
        if openings:
            values["openings"] = openings
        text = json.dumps(values, sort_keys=True)
        return f"{self.format}-{hashlib.sha256(text.encode()).hexdigest()[:16]}"

    def swiss_rounds(self) -> int:
        return self.rounds or math.ceil(math.log2(max(2, len(self.entrants)))) + 2

    def test(self) -> SPRT | None:
        return SPRT.parse(self.sprt) if self.sprt else None



def check(spec: GameSpec, config: TournamentConfig) -> None:
    """Refuse a configuration that cannot make a fair tournament, in one sentence."""
    if config.format not in FORMATS:
        raise TournamentError(f"unknown format {config.format!r}; formats: {', '.join(FORMATS)}")
    if len(config.entrants) < 2:
        raise TournamentError("a tournament needs at least two entrants")
    if config.games < 1:
        raise TournamentError(f"--games must be at least 1, got {config.games}")
    sides = len(spec.sides)
    if sides == 2 and config.games % 2:
        what = "every pair plays both sides equally often" if spec.symmetric else "games come in pairs"
        raise TournamentError(f"--games must be even so that {what}, got {config.games}")
    if sides > 2 and spec.symmetric and config.games % sides:
        raise TournamentError(f"--games must be a multiple of {sides} so that every entrant plays each of the "
                              f"{sides} sides of {spec.name} equally often, got {config.games}")
    if sides > 2 and len(set(config.entrants)) < sides:
        raise TournamentError(f"{spec.name} has {sides} sides: a tournament needs at least {sides} entrants, "
                              f"got {len(set(config.entrants))}")
    if len(spec.sides) == 1 and config.format != "round-robin":
        raise TournamentError(f"{spec.name} has one side: its entrants are ranked by a round-robin of shared seeds, not a {config.format}")
    for name in config.entrants:
        if TEAM_SEPARATOR in name:
            raise TournamentError(f"entrant names may not contain {TEAM_SEPARATOR!r}: {name!r}")
    if config.format == "gauntlet":
        if not config.challengers:
            raise TournamentError("a gauntlet needs --challengers: the entrants that play the field")
        unknown = [c for c in config.challengers if c not in config.entrants]
        if unknown:
            raise TournamentError(f"challenger {unknown[0]!r} is not among the entrants "
                                  f"({', '.join(config.entrants)})")
        field_size = len(set(config.entrants) - set(config.challengers))
        if field_size < max(1, sides - 1):
            needed = "at least one entrant" if sides <= 2 else f"at least {sides - 1} entrants"
            raise TournamentError(f"a gauntlet needs a field: {needed} that {'is' if sides <= 2 else 'are'} "
                                  f"not a challenger")
    elif config.challengers:
        raise TournamentError("--challengers belongs to the gauntlet format")
    if config.rounds and config.format != "swiss":
        raise TournamentError("--rounds belongs to the swiss format")
    if config.rounds < 0:
        raise TournamentError(f"--rounds must be positive, got {config.rounds}")
    try:
        test = config.test()
    except SPRTError as error:
        raise TournamentError(f"--sprt: {error}") from None
    if test is not None and config.format == "swiss":
        raise TournamentError("--sprt stops head-to-head pairings: use it with round-robin or gauntlet")
    if test is not None and len(spec.sides) != 2:
        raise TournamentError("--sprt needs games of two sides")
    try:
        check_spec(config.openings, config.openings_order)
    except OpeningError as error:
        raise TournamentError(str(error)) from None
    if config.openings not in ("", "none") and len(spec.sides) != 2:
        raise TournamentError(f"--openings needs a game of two sides; {spec.name} has {len(spec.sides)}")


def fixed_pairings(config: TournamentConfig) -> list[tuple[str, str]]:
    """Who may meet whom in a round-robin or a gauntlet, by name (the openings are drawn per such
    pair); the tables actually played also depend on the sides each entrant can play
    (league/tournament/lineups.py)."""
    if config.format == "gauntlet":
        field_ = [e for e in config.entrants if e not in config.challengers]
        return [(c, f) for c in config.challengers for f in field_]
    return list(itertools.combinations(config.entrants, 2))


def possible_pairings(config: TournamentConfig) -> list[tuple[str, str]]:
    """Who may meet: the fixed pairings, or for a swiss any two entrants."""
    if config.format == "swiss":
        return list(itertools.combinations(config.entrants, 2))
    return fixed_pairings(config)
