"""Game options (`name(key=value)`) have types and ranges: a bad value is one sentence naming the option
and what it takes, before any run is created (games/options.py, the schemas in games/registry.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

import games
from games.options import GameOptionError
from league.app.cli import cli

BAD_OPTIONS = [
    ("simple_spread(max_cycles=0)", "simple_spread's option max_cycles must be an integer from 1 to 100000, got 0"),
    ("markov_soccer(horizon=-5)", "markov_soccer's option horizon must be an integer from 1 to 100000, got -5"),
    ("iterated_prisoners_dilemma(rounds=0)",
     "iterated_prisoners_dilemma's option rounds must be an integer from 1 to 10000, got 0"),
    ("markov_soccer(horizon='x')", "markov_soccer's option horizon must be an integer from 1 to 100000, got 'x'"),
    ("markov_soccer(horizon=100001)", "markov_soccer's option horizon must be an integer from 1 to 100000, got 100001"),
    ("markov_soccer(horizon=2.5)", "markov_soccer's option horizon must be an integer from 1 to 100000, got 2.5"),
    ("markov_soccer(horizon=True)", "markov_soccer's option horizon must be an integer from 1 to 100000, got True"),
    ("simple_tag(continuous=1)", "simple_tag's option continuous must be True or False, got 1"),
]


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("ref, sentence", BAD_OPTIONS)
def test_train_refuses_a_bad_option_before_creating_the_run(tmp_path: Path, ref: str, sentence: str) -> None:
    run = tmp_path / "X"
    code, out, err = invoke("train", "--game", ref, "--run", str(run))
    assert (code, out, err) == (1, "", f"Error: {sentence}\n")
    assert not run.exists()


@pytest.mark.parametrize("ref, sentence", BAD_OPTIONS[:4])
def test_tournament_refuses_a_bad_option_before_creating_the_run(tmp_path: Path, ref: str, sentence: str) -> None:
    run = tmp_path / "X"
    code, out, err = invoke("tournament", "--game", ref, "--entrants", "random,random", "--run", str(run))
    assert (code, out, err) == (1, "", f"Error: {sentence}\n")
    assert not run.exists()


def test_algos_names_the_bad_option() -> None:
    code, out, err = invoke("algos", "--game", "markov_soccer(horizon='x')")
    assert (code, out, err) == (1, "", f"Error: {BAD_OPTIONS[3][1]}\n")


@pytest.mark.parametrize("entry", games.entries(), ids=lambda e: e.name)
def test_every_option_has_a_type_and_integers_a_range(entry) -> None:
    for name, option in entry.schema.items():
        assert isinstance(option.default, (bool, int, str)), name
        if isinstance(option.default, int) and not isinstance(option.default, bool):
            assert option.minimum is not None and option.maximum is not None, f"{entry.name}.{name} has no range"
            with pytest.raises(GameOptionError, match=f"^{entry.name}'s option {name} must be an integer from "):
                games.load(f"{entry.name}({name}={option.minimum - 1})")
            with pytest.raises(GameOptionError, match=f"^{entry.name}'s option {name} must be an integer from "):
                games.load(f"{entry.name}({name}={option.maximum + 1})")


def test_good_options_are_kept_and_the_ref_lists_changed_ones() -> None:
    assert games.load("markov_soccer(horizon=50)").ref == "markov_soccer(horizon=50)"
    assert games.load("iterated_prisoners_dilemma(rounds=1)").ref == "iterated_prisoners_dilemma(rounds=1)"
    assert games.load("simple_spread(max_cycles=25)").ref == "simple_spread"
