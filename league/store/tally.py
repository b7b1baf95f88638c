"""Running totals of stored games, so that reads never walk every match.

`tally(games)` turns finished games into increments of four small tables: who is in which
game (`match_players`), wins, draws, losses and forfeits per player and tournament
(`results`), results and returns per ordered pair of sides (`pairs`, the payoff matrix) and returns per
player and side position (`side_returns`, for per-capita returns in general-sum games). The
store adds them in the transaction that stores the games and subtracts them in the one that
rolls games back, so the totals always equal a recount (tests recount).

The counting rules are those of the standings and the payoff matrix: a game of two or more
sides counts for the members of each side (a pick-up side "a+b" for each member) unless a
member is on it twice (self-play tells nothing about anyone); a forfeit counts for the entrant
named first in its reason; pairs count whole side names, every ordered pair of sides.

Example:
    >>> t = tally([TalliedGame(1, None, ("a", "b+c"), (1.0, -1.0), (0, 1), None)])
    >>> sorted(t.results.items())
    [(('a', 0), [1, 0, 0, 0]), (('b', 0), [0, 0, 1, 0]), (('c', 0), [0, 0, 1, 0])]
    >>> t.pairs[("a", "b+c")], t.pairs[("b+c", "a")]
    ([1, 0, 0, 1.0], [0, 0, 1, -1.0])
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Iterable

TEAM_SEPARATOR = "+"


@dataclass(frozen=True)
class TalliedGame:
    """What the totals need of one stored game."""

    match_id: int
    tournament_id: int | None
    sides: tuple[str, ...]
    returns: tuple[float, ...]
    ranks: tuple[int, ...]
    forfeit: str | None


@dataclass
class Tally:
    """Increments for the four tables (each value list is added column by column)."""

    members: list[tuple[str, int]] = field(default_factory=list)  # (player, match_id)
    results: dict[tuple[str, int], list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0, 0, 0]))
    pairs: dict[tuple[str, str], list[float]] = field(default_factory=lambda: defaultdict(lambda: [0, 0, 0, 0.0]))
    side_returns: dict[tuple[str, int, int], list[float]] = field(default_factory=lambda: defaultdict(lambda: [0.0, 0]))


def outcome(ranks: tuple[int, ...], k: int) -> int:
    """0 win (better than every other side), 1 draw (no side better), 2 loss, for side k."""
    mine = ranks[k]
    others = [r for i, r in enumerate(ranks) if i != k]
    return 0 if all(mine < o for o in others) else 1 if all(mine <= o for o in others) else 2


def tally(games: Iterable[TalliedGame]) -> Tally:
    """The increments that these games add to the running totals; see the module example."""
    out = Tally()
    for game in games:
        tournament = game.tournament_id or 0
        members = [m for side in game.sides for m in side.split(TEAM_SEPARATOR)]
        out.members += [(m, game.match_id) for m in sorted(set(members))]
        if game.forfeit:
            out.results[(game.forfeit.split(" ", 1)[0], tournament)][3] += 1
        n = len(game.sides)
        fair = len(set(members)) == len(members)
        if n == 2 and fair:  # nearly every game: both outcomes from one comparison
            r0, r1 = game.ranks
            first = 0 if r0 < r1 else 1 if r0 == r1 else 2
            for k, result in ((0, first), (1, 2 - first)):
                for member in game.sides[k].split(TEAM_SEPARATOR):
                    out.results[(member, tournament)][result] += 1
        elif n > 2 and fair:
            for k, side in enumerate(game.sides):
                result = outcome(game.ranks, k)
                for member in side.split(TEAM_SEPARATOR):
                    out.results[(member, tournament)][result] += 1
        if fair:
            for k, side in enumerate(game.sides):
                for member in side.split(TEAM_SEPARATOR):
                    cell = out.side_returns[(member, n, k)]
                    cell[0] += float(game.returns[k])
                    cell[1] += 1
        for a in range(n):
            for b in range(n):
                if a != b and game.sides[a] != game.sides[b]:
                    ra, rb = game.ranks[a], game.ranks[b]
                    cell = out.pairs[(game.sides[a], game.sides[b])]
                    cell[0 if ra < rb else 1 if ra == rb else 2] += 1
                    cell[3] += float(game.returns[a])
    return out
