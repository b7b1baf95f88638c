"""Who sits where: the tables of a tournament, for games of any number of sides and roles.

A table is the entrants of one pairing and the lineups (an entrant per side, in side order)
its games cycle through. Games of one cycle share a seed, so the luck of the deal is shared:

- a symmetric game (every side of one role): a table is a combination of entrants and its
  lineups are the combination's rotations, so every entrant plays every side equally often
  (two sides: the pair of games with sides swapped);
- an asymmetric game (sides of different roles): a table is one lineup that seats on each
  side an entrant able to play that side's role (a trained snapshot plays its own role,
  a baseline any); its games each have their own seed ("a pairing is a lineup"). Entrants
  who can play every side (baselines) still rotate, as in a symmetric game.

Round-robins take every table of distinct entrants, gauntlets every table holding one
challenger and the rest from the field, and Swiss rounds (`swiss_tables`) seat entrants of
close scores at tables they have not sat at before.

Example:
    >>> import games
    >>> from league.play.entrants import resolve
    >>> kuhn3 = games.load("openspiel:kuhn_poker(players=3)").spec
    >>> seating = Seating(kuhn3, resolve(["random", "action:0", "action:1"], kuhn3))
    >>> [table.lineups for table in seating.round_robin()]
    [(('random', 'action:0', 'action:1'), ('action:0', 'action:1', 'random'), ('action:1', 'random', 'action:0'))]
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Sequence

from games.base import GameSpec
from games.errors import LeagueError
from league.play.runner import Entrant

SWISS_SEARCH_BUDGET = 20_000  # tables tried by one Swiss round's search before rematches are allowed


class LineupError(LeagueError, ValueError):
    """Entrants that cannot be seated at any table of the game."""


@dataclass(frozen=True)
class Table:
    """One pairing: its entrants, and the lineups (entrant names in side order) its games cycle through.

    Example:
        >>> Table(("a", "b"), (("a", "b"), ("b", "a"))).group
        2
    """

    entrants: tuple[str, ...]
    lineups: tuple[tuple[str, ...], ...]

    @property
    def group(self) -> int:
        """Games in one cycle through the lineups (they share a seed)."""
        return len(self.lineups)

    @property
    def first(self) -> tuple[str, ...]:
        """The first lineup: who plays which side when the table plays once."""
        return self.lineups[0]


class Seating:
    """Which sides each entrant can play, and the tables they can form."""

    def __init__(self, spec: GameSpec, entrants: Sequence[Entrant]):
        self.spec = spec
        self.names = [e.name for e in entrants]
        self.symmetric = len({side.role for side in spec.sides}) == 1
        # side index -> entrants that can play it (a policy says which seats it covers)
        self.sides_of = {e.name: frozenset(k for k, side in enumerate(spec.sides)
                                           if e.policy.unsupported(spec, side.seats) is None) for e in entrants}

    def describe_sides(self) -> str:
        """"adversary (role adversary), good (role good)": the sides and the roles that may play them."""
        return ", ".join(f"{side.name} (role {side.role})" for side in self.spec.sides)

    def check(self) -> None:
        """Refuse entrants that can play no side, and sides nobody can play, in one sentence each."""
        for name in self.names:
            if not self.sides_of[name]:
                raise LineupError(f"entrant {name!r} cannot play any side of {self.spec.name}, whose sides are "
                                  f"{self.describe_sides()}")
        for k, side in enumerate(self.spec.sides):
            if not any(k in sides for sides in self.sides_of.values()):
                raise LineupError(f"no entrant can play side {side.name!r} (role {side.role}) of {self.spec.name}; "
                                  f"add a snapshot of role {side.role} or a baseline such as random")

    def fits(self, lineup: Sequence[str]) -> bool:
        """Every entrant of `lineup` can play its side."""
        return all(k in self.sides_of[name] for k, name in enumerate(lineup))

    def tables_of(self, group: Sequence[str]) -> list[Table]:
        """The tables a group of distinct entrants forms: its rotations in a symmetric game; in an
        asymmetric game one table per lineup that seats everyone on a side they can play, those
        that are rotations of one another together (entrants who can play every side, such as
        baselines, still swap sides).

        Example:
            >>> import games
            >>> from league.play.entrants import resolve
            >>> spec = games.load("simple_tag").spec
            >>> seating = Seating(spec, resolve(["random", "scripted"], spec))
            >>> [t.lineups for t in seating.tables_of(("random", "scripted"))]
            [(('random', 'scripted'), ('scripted', 'random'))]
        """
        group = tuple(group)

        def rotations(lineup: tuple[str, ...]) -> list[tuple[str, ...]]:
            return [lineup[k:] + lineup[:k] for k in range(len(lineup))]

        tables, seated = [], set()
        for lineup in itertools.permutations(group):
            if lineup in seated or not self.fits(lineup):
                continue
            orbit = tuple(r for r in rotations(lineup) if self.fits(r))
            seated.update(orbit)
            tables.append(Table(lineup, orbit))
        # a symmetric game: the combination's own rotations are enough (every side equally often),
        # the other orders would only multiply the games
        return tables[:1] if self.symmetric else tables

    def round_robin(self) -> list[Table]:
        """Every table of distinct entrants, in the order of the entrants' combinations."""
        return [t for group in itertools.combinations(self.names, len(self.spec.sides)) for t in self.tables_of(group)]

    def gauntlet(self, challengers: Sequence[str]) -> list[Table]:
        """Each challenger at every table it can form with entrants of the field (the others)."""
        field = [n for n in self.names if n not in challengers]
        tables = []
        for challenger in challengers:
            mine = [t for rest in itertools.combinations(field, len(self.spec.sides) - 1)
                    for t in self.tables_of((challenger, *rest))]
            if not mine:
                raise LineupError(f"challenger {challenger!r} cannot meet anyone of the field: nobody in it can play "
                                  f"the other sides of {self.spec.name} ({self.describe_sides()})")
            tables += mine
        return tables

    def swiss(self, order: Sequence[str], met: set[frozenset[str]], *, byes: int | None = None) -> tuple[list[Table], list[str]]:
        """(tables, byes) of one Swiss round: entrants in score `order` seated with their closest
        neighbours at tables they have not sat at (rematches only when nothing else is left).
        With `byes`, exactly that many entrants (the last ones seated) sit out; otherwise the fewest
        that lets everyone else be seated, those who cannot be seated.

        Example:
            >>> import games
            >>> from league.play.entrants import resolve
            >>> spec = games.load("tic_tac_toe").spec
            >>> seating = Seating(spec, resolve(["random", "action:0", "action:1", "mcts:5", "action:2"], spec))
            >>> tables, byes = seating.swiss(["random", "action:0", "action:1", "mcts:5"], {frozenset(("random", "action:0"))})
            >>> [t.entrants for t in tables], byes
            ([('random', 'action:1'), ('action:0', 'mcts:5')], [])
        """
        size = len(self.spec.sides)
        budget = [SWISS_SEARCH_BUDGET]

        def search(rest: tuple[str, ...], left: int, fresh: bool) -> tuple[list[Table], list[str]] | None:
            if len(rest) <= left:
                return [], list(rest)
            if budget[0] <= 0:
                return None
            first = rest[0]
            for others in itertools.combinations(range(1, len(rest)), size - 1):
                budget[0] -= 1
                group = (first, *(rest[j] for j in others))
                if fresh and frozenset(group) in met:
                    continue
                tables = self.tables_of(group)
                if not tables:
                    continue
                tail = search(tuple(n for j, n in enumerate(rest) if j and j not in others), left, fresh)
                if tail is not None:
                    return [tables[0], *tail[0]], tail[1]
                if budget[0] <= 0:
                    return None
            if left:
                tail = search(rest[1:], left - 1, fresh)
                if tail is not None:
                    return tail[0], [first, *tail[1]]
            return None

        counts = [byes] if byes is not None else range(len(order) % size, len(order) + 1, size)
        for fresh in (True, False):
            for left in counts:
                budget[0] = SWISS_SEARCH_BUDGET
                found = search(tuple(order), left, fresh)
                if found is not None and found[0]:
                    return found
        raise LineupError(f"no table of {self.spec.name} can be formed from {', '.join(order)}")
