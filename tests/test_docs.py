"""Documentation: every command has help with an example and a README section."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from league.cli import cli

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()
COMMANDS = sorted(cli.commands)


@pytest.mark.parametrize("name", COMMANDS)
def test_command_has_help_with_an_example(name: str) -> None:
    command = cli.commands[name]
    assert command.help and len(command.help.split()) >= 5, f"league {name} needs help text"
    assert "Example:" in command.help, f"league {name} needs an Example: in its help"
    for option in command.params:
        if option.param_type_name == "option":
            assert option.help, f"league {name} {option.opts[0]} needs help text"


@pytest.mark.parametrize("name", COMMANDS)
def test_command_has_a_readme_section(name: str) -> None:
    assert re.search(rf"^### `league {re.escape(name)}`$", README, re.M), f"README needs a section '### `league {name}`'"


def test_readme_starts_with_the_two_commands() -> None:
    block = README.split("```")[1].strip().splitlines()
    assert block[0] == "bash"
    commands = block[1:]
    assert len(commands) == 2
    assert commands[0].endswith("league tournament") and "pip install torch==2.13.0" in commands[0]
    assert commands[1].endswith("python -m pytest") and ".[test]" in commands[1]
