"""Games named by data are data: what a stored run may make this process load.

A run records its game by name (`runs.game`). A `module:factory` name imports and runs a
module, so a name read from a database is loaded only when it is a registry game or an
`openspiel:` string, or when the person running this command passed that very
`module:factory` on its command line (`given`). A game the user names is loaded as asked,
with its options' errors turned into one sentence.

Example:
    >>> load_stored_game("tic_tac_toe").spec.name
    'tic_tac_toe'
    >>> try:
    ...     load_stored_game("os:abort")
    ... except GameLoadError as error:
    ...     print(error)
    the run's game 'os:abort' is a Python module:factory, which is not loaded from stored data because that would run its code; pass --game os:abort to this command if you trust it.
"""

from __future__ import annotations

import games
from games.base import Game, ModuleNotAllowedError
from games.errors import LeagueError
from games.registry import is_module_ref


class GameLoadError(LeagueError, ValueError):
    """A game that cannot be loaded as named: code named by stored data, or options it cannot take."""


def load_user_game(ref: str) -> Game:
    """The game a person named on this command line (a `module:factory` is theirs to run).

    Example:
        >>> try:
        ...     load_user_game("markov_soccer(horizon='x')")
        ... except LeagueError as error:
        ...     print(error)
        markov_soccer's option horizon must be an integer from 1 to 100000, got 'x'
    """
    if not isinstance(ref, str) or not ref.strip():
        raise GameLoadError("a game name is empty; name one such as connect_four (`league games` lists them).")
    return _checked(ref, allow_modules=True)


def load_stored_game(stored: str, *, given: str | None = None) -> Game:
    """The game a run recorded; a `module:factory` only when `given` on this command line names it too."""
    if not isinstance(stored, str) or not stored.strip():
        raise GameLoadError(f"the run records no usable game name ({stored!r}).")
    allowed = given is not None and given.strip() == stored.strip()
    if is_module_ref(stored) and not allowed:
        raise GameLoadError(f"the run's game {stored.strip()!r} is a Python module:factory, which is not loaded from "
                            f"stored data because that would run its code; pass --game {stored.strip()} to this command "
                            f"if you trust it.")
    return _checked(stored, allow_modules=allowed)


def _checked(ref: str, *, allow_modules: bool) -> Game:
    try:
        game = games.load(ref, allow_modules=allow_modules)
    except ModuleNotAllowedError as error:
        raise GameLoadError(str(error)) from None
    except LeagueError:
        raise
    except (ValueError, TypeError, OverflowError) as error:  # a game's own constructor refusing an option value
        raise GameLoadError(f"cannot make the game {ref.strip()!r}: {error}.") from None
    if game.spec.max_steps < 1:
        raise GameLoadError(f"the game {ref.strip()!r} allows {game.spec.max_steps} steps per episode; "
                            f"an episode needs at least one, so check its options.")
    return game
