"""Games layer: one contract (`games.base`) over OpenSpiel and PettingZoo.

Example:
    >>> import games
    >>> game = games.load("connect_four")
    >>> game.spec.kind, game.spec.side_names
    ('competitive', ('first', 'second'))
"""

from games.base import (
    Box,
    Discrete,
    Game,
    GameError,
    GameSpec,
    IllegalActionError,
    Judge,
    ModuleNotAllowedError,
    SeatSpec,
    Side,
    StepResult,
    UnknownChoiceError,
    UserGameError,
    VecEnv,
    derive_seed,
    sample_masked,
    uniforms,
)
from games.check import check_game
from games.registry import entries, load, names, replay_text

__all__ = [
    "Box", "Discrete", "Game", "GameError", "GameSpec", "IllegalActionError", "Judge", "ModuleNotAllowedError",
    "SeatSpec", "Side", "StepResult", "UnknownChoiceError", "UserGameError", "VecEnv", "check_game", "derive_seed",
    "entries", "load", "names", "replay_text", "sample_masked", "uniforms",
]
