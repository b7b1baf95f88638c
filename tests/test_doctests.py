"""Every `Example:` in the code runs and says what it shows."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import agents
import games
import league

MODULES = sorted(
    info.name
    for package in (games, agents, league)
    for info in pkgutil.walk_packages(package.__path__, prefix=f"{package.__name__}.")
    if not info.ispkg
)


@pytest.mark.parametrize("name", MODULES)
def test_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} example(s) of {name} failed"
