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
    SeatSpec,
    Side,
    StepResult,
    VecEnv,
    derive_seed,
    sample_masked,
    uniforms,
)
from games.registry import entries, load, names

__all__ = [
    "Box", "Discrete", "Game", "GameError", "GameSpec", "IllegalActionError", "Judge", "SeatSpec",
    "Side", "StepResult", "VecEnv", "derive_seed", "entries", "load", "names", "sample_masked", "uniforms",
]
