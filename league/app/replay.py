"""`league replay MATCH_ID` and `league matches --moves`: stored games, move by move.

A stored game is its seed and its actions, so it can be played again exactly. OpenSpiel
games are drawn after every move in the engine's own text form (the connect-four grid, the
tic-tac-toe board); other games print their list of moves, named as the game names them.

Example:
    >>> import tempfile
    >>> from league.store.database import NewMatch, Store
    >>> with tempfile.TemporaryDirectory() as tmp, Store.open(tmp, create=True) as store:
    ...     store.init_run("demo", "tic_tac_toe", {})
    ...     _ = store.record_match(NewMatch("evaluation", "tic_tac_toe", seed=5, sides=("me", "you"),
    ...                                     returns=(1.0, -1.0), ranks=(0, 1), length=5, moves="4 0 | 2 1 6"))
    ...     text = replay(store, 1)
    >>> print(text.split("\\n\\n")[0])
    match 1: tic_tac_toe, seed 5
    first: me; second: you
    opening (played for the entrants): x(1,1) o(0,0)
    >>> print(text.split("\\n\\n")[-2]); print(text.split("\\n\\n")[-1])
    5. first (me): x(2,0)
    oox
    .x.
    x..
    result: first (me) wins, returns +1 -1
"""

from __future__ import annotations

import games  # noqa: F401 - doctest examples
from league.store.trust import load_stored_game
from games.base import Game, GameError
from games.errors import LeagueError
from league.store.database import Match, Store
from league.tournament.records import RecordError, move_names, movers, stored_actions


class ReplayError(LeagueError, ValueError):
    """A replay that cannot be shown: no such match, or one stored without its moves."""


def find_match(store: Store, match_id: int) -> tuple[Game, Match]:
    """The stored match and its game; a missing match is one sentence."""
    match = store.match(match_id)
    if match is None:
        raise ReplayError(f"there is no match {match_id} in {store.path}; `league matches` lists them")
    info = store.run_info()
    try:
        game = load_stored_game(info["game"]) if info is not None else load_stored_game(match.game)
        if game.spec.name != match.game:
            game = load_stored_game(match.game)
    except GameError as error:
        raise ReplayError(f"match {match_id} is a game of {match.game}, which cannot be loaded here: {error}") from None
    return game, match


def replay(store: Store, match_id: int) -> str:
    """The stored game as text: who played, the opening, then each move (and the board after
    it, for OpenSpiel games), then the result."""
    game, match = find_match(store, match_id)
    try:
        actions, opening = stored_actions(match)
        names = move_names(game, match)
        seats = movers(game, match) if game.spec.turn_based else ["all"] * len(actions)
    except RecordError as error:
        raise ReplayError(str(error)) from None
    spec = game.spec
    side_of_seat = {seat: k for k, side in enumerate(spec.sides) for seat in side.seats}
    lines = [f"match {match.id}: {match.game}, seed {match.seed}",
             "; ".join(f"{side.name}: {who}" for side, who in zip(spec.sides, match.sides))]
    if opening:
        lines.append(f"opening (played for the entrants): {' '.join(names[:opening])}")
    blocks = ["\n".join(lines)]
    boards = _boards(game, match, actions)
    if boards is not None:
        blocks.append(f"start\n{boards[0]}")
    for ply, (seat, name) in enumerate(zip(seats, names)):
        if seat in side_of_seat:
            k = side_of_seat[seat]
            who = f"{spec.sides[k].name} ({'opening' if ply < opening else match.sides[k]})"
        else:
            who = "all"
        move = f"{ply + 1}. {who}: {name}"
        blocks.append(move if boards is None else f"{move}\n{boards[ply + 1]}")
    blocks.append(result_line(game, match))
    if boards is None:  # a move list reads better without blank lines between moves
        return "\n\n".join([blocks[0], "\n".join(blocks[1:-1]), blocks[-1]])
    return "\n\n".join(blocks)


def _boards(game: Game, match: Match, actions: list) -> list[str] | None:
    """The engine's text of the position before and after every move (OpenSpiel games), else None."""
    if game.spec.backend != "openspiel":
        return None
    joint = [a if isinstance(a, int) else [0 if x is None else x for x in a] for a in actions]
    try:
        return [text.rstrip("\n") for text in games.replay_text(game.spec, match.seed, joint)]
    except GameError as error:
        raise ReplayError(f"match {match.id} cannot be replayed: {error}") from None


def result_line(game: Game, match: Match) -> str:
    returns = " ".join(f"{r:+g}" for r in match.returns)
    best = min(match.ranks)
    winners = [k for k, r in enumerate(match.ranks) if r == best]
    sides = game.spec.sides
    if len(winners) == len(match.ranks):
        verdict = "a draw"
    else:
        verdict = " and ".join(f"{sides[k].name} ({match.sides[k]})" for k in winners) + \
            (" wins" if len(winners) == 1 else " win")
    forfeit = f", by forfeit: {match.forfeit}" if match.forfeit else ""
    return f"result: {verdict}, returns {returns}{forfeit}"


def moves_text(game: Game, match: Match) -> str:
    """A match's moves on one line for `league matches --moves` ("-" when it was stored without)."""
    if match.moves is None:
        return "-"
    try:
        names = move_names(game, match)
    except RecordError:
        return match.moves  # the raw ids still say what was played
    _, opening = stored_actions(match)
    if opening:
        names = names[:opening] + ["|"] + names[opening:]
    return " ".join(names)
