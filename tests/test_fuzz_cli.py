"""Fuzzing the command line and the configuration files (issue 16): whatever a user types, the
outcome is a success or one clear sentence with a non-zero exit, never a traceback, and a
refused command changes nothing in an existing run (nor creates a new one)."""

from __future__ import annotations

import itertools
import os
import sqlite3
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from league.app.cli import cli
from league.store.database import DB_NAME

# FUZZ_EXAMPLES=500 HYPOTHESIS_PROFILE=explore python -m pytest tests/test_fuzz_cli.py searches longer
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "40"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
NUMBERS = st.sampled_from(["0", "-1", "1", "2", "3", "nan", "inf", "-inf", "1e309", str(2**70), "", " ", "x", "2.5",
                           "0x10", "100000000"])
NAMES = st.sampled_from(["", " ", "random", "mcts:2", "nosuch", "a+b", "../x", "random,", ",", "random,random",
                         "action:0", "tic_tac_toe", "connect_four", "markov_soccer(horizon=-5)",
                         "tic_tac_toe(x=1)", "openspiel:tic_tac_toe", "mcts:0", "mcts:-3", "\u00e9\u00e8"])
OPTIONS = {
    "tournament": {"--games": NUMBERS, "--seed": NUMBERS, "--batch": NUMBERS, "--rounds": NUMBERS, "--top": NUMBERS,
                   "--move-timeout": NUMBERS, "--workers": NUMBERS, "--anchor": st.sampled_from(["random=0", "x=1", "=",
                   "random=nan", "random"]), "--entrants": NAMES, "--game": NAMES,
                   "--format": st.sampled_from(["swiss", "gauntlet", "knockout"]), "--challengers": NAMES,
                   "--sprt": st.sampled_from(["elo0=0,elo1=10", "elo0=10,elo1=0", "alpha=2", "x"])},
    "matches": {"--limit": NUMBERS, "--player": NAMES},
    "payoff": {"--top": NUMBERS},
    "leaderboard": {"--by": st.sampled_from(["trueskill", "bt", "nash", "elo"])},
    "export": {"--games": NUMBERS, "--player": NAMES, "--out": st.sampled_from(["RUN", "RUN/league.db", "NEW", ""])},
    "report": {"--out": st.sampled_from(["RUN/league.db", "RUN", "RUN/config.toml", "NEW.html", ""])},
    "play": {"--player": NAMES, "--name": NAMES, "--seed": NUMBERS, "--game": NAMES},
    "train": {"--seed": NUMBERS, "--steps": NUMBERS, "--batch-games": NUMBERS, "--algo": NAMES, "--game": NAMES},
}
WRITERS = {"tournament", "train", "play", "export"}


def invoke(args: list[str]) -> tuple[int, str]:
    result = CliRunner().invoke(cli, args, input="")
    return result.exit_code, result.output


def dump(run: Path) -> list[str]:
    conn = sqlite3.connect(run / DB_NAME)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def check_outcome(code: int, output: str, args: list[str]) -> None:
    assert "Traceback" not in output, (args, output)
    assert code in (0, 1, 2), (args, code, output)
    if code:
        last = output.strip().splitlines()[-1] if output.strip() else ""
        assert last.startswith("Error: ") and len(last) < 600, (args, output)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("fuzz") / "run"
    code, out = invoke(["tournament", "--game", "tic_tac_toe", "--entrants", "random,mcts:2", "--games", "2",
                        "--run", str(path)])
    assert code == 0, out
    return path


@st.composite
def command_lines(draw) -> tuple[str, list[tuple[str, str]]]:
    command = draw(st.sampled_from(sorted(OPTIONS)))
    keys = draw(st.lists(st.sampled_from(sorted(OPTIONS[command])), min_size=1, max_size=3, unique=True))
    return command, [(key, draw(OPTIONS[command][key])) for key in keys]


@FUZZ
@given(line=command_lines())
@example(line=("tournament", [("--format", "swiss")]))  # found by this test: a swiss of 3 ran out of byes
def test_any_command_line_succeeds_or_says_why(run: Path, line: tuple[str, list[tuple[str, str]]]) -> None:
    command, options = line
    with tempfile.TemporaryDirectory() as scratch:
        args = [command]
        for key, value in options:
            value = value.replace("RUN", str(run)).replace("NEW", f"{scratch}/new")
            args += [key, value]
        if command == "tournament" and "--games" in args:
            if args[args.index("--games") + 1] not in ("2", "0", "-1", "1", "3", "x", "", " "):
                return  # a huge but valid schedule is a long tournament, not a fuzzing outcome
        if command == "train" and not any(k in ("--steps", "--batch-games", "--seed", "--algo") for k, _ in options):
            return  # the default league trains for minutes
        before = dump(run)
        code, output = invoke([*args, "--run", str(run)])
        check_outcome(code, output, args)
        if code or command not in WRITERS:
            assert dump(run) == before, (args, output)


BASE = {
    "game": '"tic_tac_toe"', "steps": "40", "batch_games": "4", "round_games": "4", "checkpoint_every": "1000",
    "seed": "0", "learners.algo": '"iql"', "learners.config": "{ learning_starts = 1000, hidden = [8] }",
    "learners.role": '"player"', "learners.matchmaking": "{ latest = 1.0 }", "snapshots.min_steps": "1000",
    "snapshots.max_steps": "1000", "snapshots.growth": "0", "snapshots.win_rate": "0.7", "snapshots.eval_games": "2",
    "evaluation.every": "100000",
    "evaluation.opponents": '["random"]', "evaluation.games": "2", "evaluation.exploitability": "false",
}
VALUES = st.sampled_from(['"x"', '""', "5", "-5", "0", "1.5", "nan", "inf", "true", "[1, 2]", '["random", 3]', "[]",
                          "{}", "{ a = 1 }", str(2**63), "-9223372036854775808", '"mcts:2"', '"tic_tac_toe(rounds=0)"',
                          '"markov_soccer(horizon=-5)"'])


def toml_of(values: dict[str, str]) -> str:
    lines = [f"{k} = {v}" for k, v in values.items() if "." not in k]
    for table, group in itertools.groupby(sorted(k for k in values if "." in k), key=lambda k: k.split(".")[0]):
        lines.append(f"[[{table}]]" if table == "learners" else f"[{table}]")
        lines += [f"{k.split('.', 1)[1]} = {values[k]}" for k in group]
    return "\n".join(lines) + "\n"


@settings(max_examples=max(25, EXAMPLES // 2), deadline=None, suppress_health_check=list(HealthCheck))
@given(changes=st.dictionaries(st.sampled_from(sorted(BASE) + ["stesp", "snapshots.oops"]), VALUES, min_size=1,
                               max_size=2),
       garbage=st.sampled_from([b"", b"", b"\xff\xfe\x00", b"[[[", b"= 1"]))
def test_any_configuration_file_trains_or_says_why(changes: dict[str, str], garbage: bytes) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        path, run = Path(scratch) / "run.toml", Path(scratch) / "run"
        path.write_bytes(toml_of({**BASE, **changes}).encode() + garbage)
        code, output = invoke(["train", "--config", str(path), "--run", str(run)])
        check_outcome(code, output, [toml_of(changes)])
        if code:
            assert not run.exists(), output  # a refused configuration leaves no run behind
