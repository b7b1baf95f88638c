"""Typed, range-checked options of registry games (`name(key=value)`).

Each registry game declares its options as `Option`s: a default, whose type is the option's
type (bool, int or str), and for integers an inclusive range. `check_options` turns the
options a user wrote into checked values before the game is built, so a bad value is one
sentence naming the option and what it takes, and nothing is created.

Example:
    >>> schema = {"horizon": Option(200, minimum=1, maximum=100_000)}
    >>> check_options("markov_soccer", schema, {"horizon": 50})
    {'horizon': 50}
    >>> check_options("markov_soccer", schema, {"horizon": -5})
    Traceback (most recent call last):
    ...
    games.options.GameOptionError: markov_soccer's option horizon must be an integer from 1 to 100000, got -5
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from games.base import GameError


class GameOptionError(GameError):
    """A game option with a value of the wrong type or out of its range."""


@dataclass(frozen=True)
class Option:
    """One option of a registry game: its default (which fixes its type) and, for integers, its range.

    Example:
        >>> Option(25, minimum=1, maximum=100_000).describe()
        'an integer from 1 to 100000'
        >>> Option(False).describe(), Option("transport").describe()
        ('True or False', 'a non-empty string')
    """

    default: bool | int | str
    minimum: int | None = None
    maximum: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.default, (bool, int, str)):
            raise TypeError(f"an option's default is a bool, int or str, got {type(self.default).__name__}")
        if (self.minimum is not None or self.maximum is not None) and not self._is_int():
            raise TypeError("only integer options have a range")
        if self._is_int() and not self._accepts(self.default):
            raise ValueError(f"the default {self.default} is outside {self.describe()}")

    def _is_int(self) -> bool:
        return isinstance(self.default, int) and not isinstance(self.default, bool)

    def describe(self) -> str:
        """What the option takes, in words."""
        if isinstance(self.default, bool):
            return "True or False"
        if isinstance(self.default, str):
            return "a non-empty string"
        if self.minimum is not None and self.maximum is not None:
            return f"an integer from {self.minimum} to {self.maximum}"
        if self.minimum is not None:
            return f"an integer of at least {self.minimum}"
        if self.maximum is not None:
            return f"an integer of at most {self.maximum}"
        return "an integer"

    def _accepts(self, value: Any) -> bool:
        if isinstance(self.default, bool):
            return isinstance(value, bool)
        if isinstance(self.default, str):
            return isinstance(value, str) and bool(value.strip())
        if not isinstance(value, int) or isinstance(value, bool):
            return False
        return (self.minimum is None or value >= self.minimum) and (self.maximum is None or value <= self.maximum)

    def check(self, game: str, name: str, value: Any) -> bool | int | str:
        """`value` if this option takes it, else a GameOptionError naming the option and its range.

        Example:
            >>> Option(10, minimum=1, maximum=10_000).check("iterated_prisoners_dilemma", "rounds", 0)
            Traceback (most recent call last):
            ...
            games.options.GameOptionError: iterated_prisoners_dilemma's option rounds must be an integer from 1 to 10000, got 0
        """
        if not self._accepts(value):
            raise GameOptionError(f"{game}'s option {name} must be {self.describe()}, got {value!r}")
        return value


def check_options(game: str, schema: Mapping[str, Option], options: Mapping[str, Any]) -> dict[str, Any]:
    """The options a user gave, each checked against the game's declared schema (names already known)."""
    return {name: schema[name].check(game, name, value) for name, value in options.items()}


__all__ = ["GameOptionError", "Option", "check_options"]
