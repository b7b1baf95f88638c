"""What the match runner plays and returns: entrants, game tasks and schedules, game records and their moves.

The plain data of league.play.runner, kept apart from its lockstep engine: who can be
seated (`Entrant`, `Slot`), one game to play (`GameTask`) and a lineup's schedule of them,
one finished game (`GameRecord`) and its moves as compact text (`encode_moves`).

Example:
    >>> import games
    >>> from agents.baselines import RandomPolicy
    >>> spec = games.load("tic_tac_toe").spec
    >>> a, b = Entrant("a", RandomPolicy(spec)), Entrant("b", RandomPolicy(spec))
    >>> [tuple(slot_name(s) for s in t.lineup) for t in schedule(spec, (a, b), 3, seed=7)]
    [('a', 'b'), ('b', 'a'), ('a', 'b')]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from agents.base import Policy
from games.base import GameSpec, derive_seed
from games.errors import LeagueError
from league.results import side_name


class RunnerError(LeagueError, RuntimeError):
    """A game could not be played: a bad lineup, or an entrant that failed or cheated."""

    def __init__(self, message: str, *, entrant: str | None = None, seat: str | None = None):
        super().__init__(message)
        self.entrant = entrant
        self.seat = seat


@dataclass(frozen=True, eq=False)
class Entrant:
    """A player the runner can seat: the name results are stored under, and its policy.

    `explore` asks the policy for its training behaviour (a learner being trained);
    frozen snapshots and reference bots play their evaluation behaviour.
    """

    name: str
    policy: Policy
    explore: bool = False

    def __repr__(self) -> str:
        return f"Entrant({self.name!r})"


# One entrant fills a whole side, or a pick-up team gives one entrant per seat of the side.
Slot = Entrant | tuple[Entrant, ...]


@dataclass(frozen=True)
class GameTask:
    """One game to play: its place in the schedule, its seed, and who sits on each side."""

    index: int
    seed: int
    lineup: tuple[Slot, ...]  # per side, in the spec's side order
    opening: tuple[int, ...] = ()  # action ids played for the entrants before they take over (turn-based games)


@dataclass(frozen=True)
class GameRecord:
    """The result of one finished game."""

    index: int
    seed: int
    sides: tuple[str, ...]  # entrant name per side ("a+b+c" for a pick-up team)
    returns: tuple[float, ...]  # total return per side
    seat_returns: tuple[tuple[str, float], ...]  # (seat, return) in the spec's seat order
    ranks: tuple[int, ...]  # per side, 0 is best; equal ranks are a draw
    length: int
    truncated: bool
    forfeit: str | None = None  # who forfeited the game and why (a crash, an illegal move, a timeout)
    moves: str | None = None  # the game's actions (see encode_moves); None where not recorded or continuous


OPENING_END = "|"  # in encoded moves: the opening's plies come before it
NO_ACTION = "."  # in a simultaneous game's encoded joint action: a seat that did not act
_TOKENS = tuple(str(a) for a in range(4096))  # ids as text, made once (encoding is on the runner's hot path)


def encode_moves(actions: np.ndarray, opening: int = 0) -> str:
    """A game's actions as compact text: ids by spaces, one step's joint action joined by commas.

    `actions` is (plies,) for a turn-based game or (steps, seats) for a simultaneous one, with
    -1 where a seat did not act; the first `opening` plies were the opening. Chance outcomes
    are not stored: they follow from the game's seed.

    Example:
        >>> encode_moves(np.array([3, 3, 4]), opening=2), encode_moves(np.array([[0, 2], [1, -1]]))
        ('3 3 | 4', '0,2 1,.')
    """
    if actions.ndim == 1:
        values = actions.tolist()
        small = not values or (min(values) >= 0 and max(values) < len(_TOKENS))
        tokens = list(map(_TOKENS.__getitem__, values)) if small else [str(a) for a in values]
    else:
        tokens = [",".join(NO_ACTION if a < 0 else str(a) for a in row) for row in actions.tolist()]
    if 0 < opening:
        tokens.insert(min(opening, len(tokens)), OPENING_END)
    return " ".join(tokens)


def decode_moves(text: str) -> tuple[list[int | tuple[int | None, ...]], int]:
    """(actions, opening plies) from `encode_moves` text; a joint action is a tuple (None: no action).

    Example:
        >>> decode_moves("3 3 | 4"), decode_moves("0,2 1,.")
        (([3, 3, 4], 2), ([(0, 2), (1, None)], 0))
    """
    actions: list[int | tuple[int | None, ...]] = []
    opening = 0
    for token in text.split():
        if token == OPENING_END:
            opening = len(actions)
        elif "," in token:
            actions.append(tuple(None if a == NO_ACTION else int(a) for a in token.split(",")))
        else:
            actions.append(int(token))
    return actions, opening


def slot_name(slot: Slot) -> str:
    """The name a side is stored under: the entrant's, or a pick-up team's members joined.

    Example:
        >>> from agents.baselines import RandomPolicy
        >>> import games
        >>> a = Entrant("a", RandomPolicy(games.load("tic_tac_toe").spec))
        >>> slot_name(a), slot_name((a, a))
        ('a', 'a+a')
    """
    return side_name([e.name for e in slot]) if isinstance(slot, tuple) else slot.name


def slot_members(spec: GameSpec, side: int, slot: Slot) -> list[tuple[str, Entrant]]:
    """(seat, entrant) pairs of one side."""
    seats = spec.sides[side].seats
    if isinstance(slot, tuple):
        if len(slot) != len(seats):
            raise RunnerError(
                f"side {spec.sides[side].name!r} of {spec.name} has {len(seats)} seats but the pick-up team has {len(slot)} members"
            )
        return list(zip(seats, slot))
    return [(seat, slot) for seat in seats]


def schedule(
    spec: GameSpec,
    lineup: Sequence[Slot],
    n_games: int,
    seed: int,
    *,
    swap_sides: bool = True,
    any_side: bool = False,
    start_index: int = 0,
) -> list[GameTask]:
    """Tasks for `n_games` games of one lineup (entrants in side order).

    In a symmetric game (or with `any_side`, when every entrant can play every side) the
    entrants rotate through the sides: games come in groups (pairs for two sides) that
    share one seed, so luck of the deal or of the first move is shared.

    Example:
        >>> import games
        >>> spec = games.load("connect_four").spec
        >>> [t.seed == schedule(spec, ("x", "y"), 4, 1)[0].seed for t in schedule(spec, ("x", "y"), 4, 1)]
        [True, True, False, False]
    """
    lineup = tuple(lineup)
    if len(lineup) != len(spec.sides):
        raise RunnerError(f"{spec.name} has {len(spec.sides)} sides ({', '.join(spec.side_names)}), got {len(lineup)} entrants")
    if n_games < 0:
        raise RunnerError(f"n_games must be at least 0, got {n_games}")
    rotate = swap_sides and (spec.symmetric or (any_side and len(spec.sides) > 1))
    group = len(lineup) if rotate else 1
    tasks = []
    for j in range(n_games):
        index = start_index + j
        k = j % group
        order = lineup[k:] + lineup[:k] if rotate else lineup
        tasks.append(GameTask(index=index, seed=derive_seed(seed, index // group), lineup=order))
    return tasks
