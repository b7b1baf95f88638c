"""Run configurations: TOML in, validated dataclasses out, on every supported Python."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from league.train.config import ConfigError, TrainConfig, parse_toml

ROOT = Path(__file__).resolve().parents[1]


def test_the_python_310_path_reads_toml_without_tomllib() -> None:
    """Python 3.10 has no tomllib: configuration files and resumed runs are read with tomli."""
    script = textwrap.dedent('''
        import sys, types, tomllib as real
        fake = types.ModuleType("tomli")
        fake.loads, fake.load, fake.TOMLDecodeError = real.loads, real.load, real.TOMLDecodeError
        sys.modules["tomli"] = fake
        sys.modules["tomllib"] = None  # what `import tomllib` finds on Python 3.10
        from league.app.setup import read_toml
        from league.train.config import load_config
        print(read_toml('game = "kuhn_poker"')["game"], load_config("runs/examples/kuhn_poker.toml").game)
    ''')
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["kuhn_poker", "kuhn_poker"]


def test_lag_and_device_are_checked() -> None:
    assert TrainConfig.from_mapping({"lag": 0, "device": "cpu"}).lag == 0
    with pytest.raises(ConfigError, match="lag must be"):
        TrainConfig.from_mapping({"lag": -1})
    with pytest.raises(ConfigError, match="device must be one of auto, cpu, cuda"):
        TrainConfig.from_mapping({"device": "tpu"})
    assert parse_toml("steps = 5") == {"steps": 5}
