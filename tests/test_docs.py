"""Documentation: every command has help with an example and a README section."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from league.app.cli import cli

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
    assert commands[0].endswith("league train") and "pip install torch==2.13.0" in commands[0]
    assert commands[1].endswith("python -m pytest -n auto --dist loadfile") and ".[test," in commands[1]


def test_readme_configuration_example_is_a_valid_league(tmp_path: Path) -> None:
    import games
    from league.train.config import load_config
    from league.app.setup import validate_training

    toml = re.search(r"```toml\n(.*?)```", README, re.S)
    assert toml, "README needs a ```toml configuration example"
    (tmp_path / "run.toml").write_text(toml.group(1))
    config = load_config(tmp_path / "run.toml")
    validate_training(config, games.load(config.game))
    assert config.learners[0].matchmaking["pfsp"] == 0.2


def _readme_output(command: str) -> str:
    """The lines the README shows after `$ <command>` in a code block."""
    block = README[README.index(f"$ {command}\n") + len(command) + 3:]
    return block[:block.index("```")]


def test_readme_reading_results_examples_are_real_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    tournament = "tournament --game tic_tac_toe --entrants random,mcts:5,mcts:50 --games 8 --run runs/ttt"
    assert f"league {tournament}" in README
    assert runner.invoke(cli, tournament.split()).exit_code == 0
    for command in ("leaderboard --run runs/ttt", "matches --run runs/ttt --player mcts:5 --limit 3",
                    "payoff --run runs/ttt"):
        result = runner.invoke(cli, command.split())
        assert result.exit_code == 0, result.output
        assert result.output == _readme_output(f"league {command}"), command


def test_readme_new_command_examples_are_real_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    assert runner.invoke(cli, "tournament --game tic_tac_toe --entrants random,mcts:5,mcts:50 --games 8 --run runs/ttt"
                         .split()).exit_code == 0
    for command in ("check-game tic_tac_toe", "matches --run runs/ttt --player mcts:5 --limit 3 --moves",
                    "tournament --game tic_tac_toe --entrants random,mcts:5 --games 4 --openings random:2 "
                    "--pentanomial --run runs/openings"):
        result = runner.invoke(cli, command.split())
        assert result.exit_code == 0, result.output
        assert result.stdout == _readme_output(f"league {command}"), command
    replay = runner.invoke(cli, ["replay", "24", "--run", "runs/ttt"])
    assert "league replay 24 --run runs/ttt" in README
    shown = README[README.index("9. first (mcts:5): x(0,2)"):]
    assert replay.exit_code == 0 and replay.stdout.endswith(shown[:shown.index("```")])
    records = runner.invoke(cli, "matches --run runs/ttt --records ttt-games.txt --limit 100".split())
    assert "--records ttt-games.txt --limit 100   # " + records.stdout.strip() in README
    assert "datasette runs/ttt/league.db -m runs/ttt/metadata.json" in README
    assert runner.invoke(cli, "datasette-metadata --run runs/ttt".split()).exit_code == 0
    assert (tmp_path / "runs/ttt/metadata.json").exists()


def test_readme_log_line_is_what_a_log_gets() -> None:
    from league.app.display import TrainProgress

    line = TrainProgress(3, {"iql": 3000, "mappo": 2900}, 12000, 65, 1500.4, 2, {"iql": {"random": 0.85}},
                         {"iql": 2000}, [("iql", 27.1, 1.2), ("mappo", 25.0, 1.1)], 130).line()
    assert f"```\n{line}\n```" in README and "grep steps/s train.log" in README
    assert "![A league report](bench/report.png)" in README and (Path(__file__).resolve().parents[1] / "bench/report.png").exists()


def test_readme_bring_your_own_game_is_real_output(monkeypatch: pytest.MonkeyPatch) -> None:
    """The step-by-step example checks runs/examples/my_game.py from its own directory."""
    from click.testing import CliRunner

    monkeypatch.chdir(Path(__file__).resolve().parents[1] / "runs" / "examples")
    command = "league check-game 'my_game:env(stones=7)'"
    result = CliRunner().invoke(cli, ["check-game", "my_game:env(stones=7)"])
    assert (result.exit_code, result.output) == (0, _readme_output(command))
