"""Stored games as moves people and other tools can read: move names, and game-record files.

Every stored game keeps its actions (`Match.moves`, league.play.runner.encode_moves); its
seed gives back any chance events. `move_names` plays a stored game through once more to
name each move as the mover's game names it ("x3", "o(1,1)"); `game_record` writes a two-
player turn-based game as a plain-text block in the manner of PGN (tags, then the moves and
the result), and `write_game_records` a file of them, for tools outside the league.

Example:
    >>> import games
    >>> from league.store.database import Match
    >>> game = games.load("tic_tac_toe")
    >>> match = Match("tournament", "tic_tac_toe", seed=5, sides=("mcts:5", "random"), returns=(1.0, -1.0),
    ...               ranks=(0, 1), length=5, moves="4 0 | 2 1 6", id=3, created="")
    >>> move_names(game, match)[:3]
    ['x(1,1)', 'o(0,0)', 'x(0,2)']
    >>> print(game_record(game, match))
    [Game "tic_tac_toe"]
    [Match "3"]
    [First "mcts:5"]
    [Second "random"]
    [Result "1-0"]
    [Seed "5"]
    [Opening "x(1,1) o(0,0)"]
    [Plies "5"]
    <BLANKLINE>
    x(1,1) o(0,0) x(0,2) o(0,1) x(2,0) 1-0
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, TextIO

import numpy as np

from games.base import Game, GameSpec
from games.errors import LeagueError
from league.play.runner import decode_moves
from league.store.database import Match


class RecordError(LeagueError, ValueError):
    """A stored game that cannot be replayed or written as a game record."""


def stored_actions(match: Match) -> tuple[list[int | tuple[int | None, ...]], int]:
    """(actions, opening plies) of a stored game; a game stored without moves is one sentence."""
    if match.moves is None:
        raise RecordError(f"match {match.id} was stored without its moves (by a league older than move "
                          f"recording, or its game has continuous actions)")
    return decode_moves(match.moves)


def move_names(game: Game, match: Match) -> list[str]:
    """Each move of a stored game by name (the mover's action name, else its id); a
    simultaneous step is its seats' moves joined by "+" ("-" for a seat that did not act)."""
    spec = game.spec
    if spec.name != match.game:
        raise RecordError(f"match {match.id} is a game of {match.game}, not of {spec.name}")
    actions, _ = stored_actions(match)
    if not spec.turn_based:
        return ["+".join("-" if a is None else _name(spec, seat, a) for seat, a in zip(spec.seat_names, step))
                for step in actions if isinstance(step, tuple)]
    return [_name(spec, seat, int(a)) for seat, a in zip(movers(game, match), actions) if isinstance(a, int)]


def movers(game: Game, match: Match) -> list[str]:
    """The seat that made each move of a stored turn-based game (played through again from its seed)."""
    spec = game.spec
    actions, _ = stored_actions(match)
    env = game.make(1, seed=match.seed)
    try:
        env.reset(seeds=[match.seed])
        out = []
        for ply, action in enumerate(actions):
            seat = next((s for s in spec.seat_names if env.acting[s][0]), None)
            if seat is None or not isinstance(action, int):
                raise RecordError(f"match {match.id} cannot be replayed: move {ply + 1} has no seat to make it")
            if not (0 <= action < spec.seat(seat).n_actions and env.mask[seat][0, action]):
                raise RecordError(f"match {match.id} cannot be replayed: move {ply + 1} ({action}) is not legal for "
                                  f"{seat} there")
            out.append(seat)
            result = env.step({seat: np.array([action], dtype=np.int64)})
            if len(result.finished) and ply + 1 < len(actions):
                raise RecordError(f"match {match.id} cannot be replayed: the game ended after move {ply + 1} of "
                                  f"{len(actions)}")
        return out
    finally:
        env.close()


def _name(spec: GameSpec, seat: str, action: int) -> str:
    names = spec.seat(seat).action_names
    return names[action] if names is not None and 0 <= action < len(names) else str(action)


def result_text(match: Match) -> str:
    """"1-0" (the first side won), "0-1" or "1/2-1/2"."""
    first, second = match.ranks[0], match.ranks[1]
    return "1-0" if first < second else "0-1" if second < first else "1/2-1/2"


def check_board_game(spec: GameSpec) -> None:
    """Game records are for two-player turn-based games with discrete moves."""
    if len(spec.sides) != 2 or not spec.turn_based or not all(s.discrete for s in spec.seats):
        raise RecordError(f"game records are written for two-player turn-based games with discrete moves, "
                          f"and {spec.name} is not one")


def game_record(game: Game, match: Match) -> str:
    """One stored game as a text block: tags (game, match, players, result, seed, opening,
    plies, and the forfeit if there was one), a blank line, then the moves and the result."""
    check_board_game(game.spec)
    names = move_names(game, match)
    _, opening = stored_actions(match)
    side_names = [side.name.capitalize() for side in game.spec.sides]
    tags = [("Game", match.game), ("Match", str(match.id)), (side_names[0], match.sides[0]),
            (side_names[1], match.sides[1]), ("Result", result_text(match)), ("Seed", str(match.seed)),
            ("Opening", " ".join(names[:opening])), ("Plies", str(len(names)))]
    if match.forfeit:
        tags.append(("Termination", f"forfeit: {match.forfeit}"))
    head = "\n".join(f'[{key} "{_escape(value)}"]' for key, value in tags)
    return f"{head}\n\n{' '.join(names + [result_text(match)])}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def write_game_records(game: Game, matches: Iterable[Match], out: TextIO | str | Path) -> int:
    """Write each game as a `game_record` block, blocks separated by a blank line; returns how many.

    Games stored without moves are left out (and not counted).
    """
    check_board_game(game.spec)
    if isinstance(out, (str, Path)):
        with open(out, "w", encoding="utf-8") as stream:
            return write_game_records(game, matches, stream)
    written = 0
    for match in matches:
        if match.moves is None:
            continue
        out.write(("\n" if written else "") + game_record(game, match) + "\n")
        written += 1
    return written
