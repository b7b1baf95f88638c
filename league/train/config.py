"""The configuration of a training run: TOML in, validated dataclasses out, TOML back to disk.

Every section refuses unknown keys with the closest valid name, so a typo never silently
falls back to a default. The resolved configuration is written to `runs/<name>/config.toml`
and to the store.

Example:
    >>> config = TrainConfig.from_mapping({"game": "tic_tac_toe", "learners": [{"algo": "iql"}],
    ...                                    "snapshots": {"min_steps": 1000}})
    >>> config.learners[0].name, config.snapshots.min_steps, config.snapshots.win_rate
    ('iql', 1000, 0.7)
    >>> try:
    ...     TrainConfig.from_mapping({"stesp": 10})
    ... except ConfigError as error:
    ...     print(error)
    unknown key 'stesp' in the run configuration (did you mean 'steps'?); valid keys: batch_games, checkpoint_every, coop_snapshots, device, evaluation, game, lag, learners, matchmaking, opening_plies, pool_baselines, pool_cache, ratings, round_games, seed, snapshots, steps
"""

from __future__ import annotations

import difflib
import re
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Mapping

import tomli_w

from games.errors import LeagueError
from league.train.matchmaking import MatchmakingError, check_position

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the same parser, as a package (tests/test_config.py hides tomllib)
    import tomli as tomllib


class ConfigError(LeagueError, ValueError):
    """A run configuration that cannot be used as written."""


def parse_toml(text: str) -> dict[str, Any]:
    """TOML text as a dict (tomllib, or tomli on Python 3.10).

    Example:
        >>> parse_toml('game = "kuhn_poker"')
        {'game': 'kuhn_poker'}
    """
    return tomllib.loads(text)


def _check_keys(values: Mapping[str, Any], cls: type, where: str) -> None:
    valid = sorted(f.name for f in fields(cls))
    for key in values:
        if key not in valid:
            close = difflib.get_close_matches(key, valid, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(f"unknown key {key!r} in {where}{hint}; valid keys: {', '.join(valid)}")


def _positive_int(value: Any, name: str, minimum: int = 1, maximum: int = 10**12) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise ConfigError(f"{name} must be an integer from {minimum} to {maximum}, got {value!r}")
    return value


def _text(value: Any, name: str, *, empty: bool = True) -> str:
    """A string setting; `empty=False` refuses "" (a name that would silently mean a default)."""
    if not isinstance(value, str) or (not empty and not value.strip()):
        raise ConfigError(f"{name} must be {'a' if empty else 'a non-empty'} string, got {value!r}")
    return value


def _table(value: Any, name: str) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{name} must be a table such as {{key = value}}, got {value!r}")
    return dict(value)


def _names(value: Any, name: str) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, (list, tuple)) or not all(
            isinstance(v, str) and v.strip() for v in value):
        raise ConfigError(f"{name} is a list of names, e.g. [\"random\", \"mcts:25\"], got {value!r}")
    return tuple(value)


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        raise ConfigError(f"{name} must be a number, got {value!r}")
    return float(value)


DEVICES = ("auto", "cpu", "cuda")
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


@dataclass(frozen=True)
class LearnerSettings:
    """One learner of the league."""

    algo: str  # alphazero | iql | vdn | qmix | mappo | maddpg
    name: str = ""  # unique player name; defaults to the algorithm's name
    role: str = ""  # the role it learns; defaults to the game's first role
    config: dict[str, Any] = field(default_factory=dict)  # hyperparameters, overriding the algorithm's defaults
    matchmaking: dict[str, Any] = field(default_factory=dict)  # latest/past/pfsp/nash weights, weighting, pickup
    seed: int = 0  # added to the run's seed for this learner's networks and exploration
    position: str = ""  # AlphaStar league position: main | main_exploiter | league_exploiter ("" = its matchmaking mix)
    reset: float = 0.0  # chance to return to its initial weights when it snapshots (1 = PSRO's fresh best responses)

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any], index: int) -> "LearnerSettings":
        where = f"learner {index + 1}"
        if not isinstance(values, Mapping):
            raise ConfigError(f"{where} must be a table such as {{algo = \"mappo\"}}, got {values!r}")
        _check_keys(values, cls, where)
        if "algo" not in values:
            raise ConfigError(f"{where} needs an algo, e.g. algo = \"mappo\"")
        _text(values["algo"], f"{where}: algo", empty=False)
        for key in ("name", "position", "role"):  # "" means the default (the algorithm's name, the first role)
            if key in values:
                _text(values[key], f"{where}: {key}")
        for key in ("config", "matchmaking"):
            if key in values:
                _table(values[key], f"{where}: {key}")
        if "seed" in values:
            _positive_int(values["seed"], f"{where}: seed", 0, 2**63 - 1)
        if "reset" in values:
            _number(values["reset"], f"{where}: reset")
        spec = cls(**{k: (dict(v) if k in ("config", "matchmaking") else v) for k, v in values.items()})
        if not spec.name:
            spec = cls(**{**asdict(spec), "name": spec.algo})
        if not _NAME.match(spec.name):
            raise ConfigError(f"learner name {spec.name!r} may only use letters, digits, '.', '_' and '-' (64 at most)")
        if not 0.0 <= float(spec.reset) <= 1.0:
            raise ConfigError(f"{where}: reset is a probability in [0, 1], got {spec.reset!r}")
        try:
            check_position(spec.position)
        except MatchmakingError as error:
            raise ConfigError(f"{where}: {error}") from None
        return spec


@dataclass(frozen=True)
class SnapshotRule:
    """When a learner's frozen copy joins the pool (as in AlphaStar and DI-engine)."""

    min_steps: int = 20_000  # no snapshot before this many of the learner's env steps since its last one
    max_steps: int = 100_000  # a snapshot regardless of results after this many
    win_rate: float = 0.7  # between the two, a snapshot once it beats its recent opponents this often
    eval_games: int = 40  # dedicated games (sides alternated) that measure that win rate
    meta_games: int = 0  # games of each new snapshot against every pool member (PSRO's empirical game; 0 = none)
    growth: float = 0.0  # each snapshot a learner has taken adds this fraction of min_steps and max_steps to both

    def __post_init__(self) -> None:
        _positive_int(self.meta_games, "snapshots.meta_games", 0)
        _positive_int(self.min_steps, "snapshots.min_steps")
        _positive_int(self.max_steps, "snapshots.max_steps")
        _positive_int(self.eval_games, "snapshots.eval_games", 2)
        if self.max_steps < self.min_steps:
            raise ConfigError(f"snapshots.max_steps ({self.max_steps}) must be at least min_steps ({self.min_steps})")
        if not 0.0 < _number(self.win_rate, "snapshots.win_rate") <= 1.0:
            raise ConfigError(f"snapshots.win_rate must be in (0, 1], got {self.win_rate!r}")
        if not 0.0 <= _number(self.growth, "snapshots.growth") <= 10.0:
            raise ConfigError(f"snapshots.growth must be in [0, 10], got {self.growth!r}")

    def steps_after(self, taken: int) -> tuple[int, int]:
        """(min_steps, max_steps) before the next snapshot of a learner that has taken `taken`:
        PSRO's later best responses face harder mixtures, and `growth` gives them longer.

        Example:
            >>> SnapshotRule(min_steps=50_000, max_steps=50_000, growth=0.05).steps_after(20)
            (100000, 100000)
        """
        scale = 1.0 + self.growth * taken
        return round(self.min_steps * scale), round(self.max_steps * scale)


@dataclass(frozen=True)
class Evaluation:
    """Periodic games against reference bots, stored as metrics."""

    every: int = 20_000  # env steps of a learner between evaluations
    opponents: tuple[str, ...] = ("random",)  # baselines: random, mcts:N, scripted
    games: int = 40  # games per opponent (sides alternated)
    exploitability: bool = True  # exact exploitability of learners, snapshots and the pool's Nash mixture, where defined

    def __post_init__(self) -> None:
        _positive_int(self.every, "evaluation.every")
        _positive_int(self.games, "evaluation.games", 2, 1_000_000)
        _names(self.opponents, "evaluation.opponents")
        if not isinstance(self.exploitability, bool):
            raise ConfigError(f"evaluation.exploitability must be true or false, got {self.exploitability!r}")


@dataclass(frozen=True)
class TrainConfig:
    """Everything `league train` needs; see runs/examples/ for complete files."""

    game: str = "connect_four"
    steps: int = 100_000  # env steps each learner trains for (a resumed run continues to this total)
    seed: int = 0
    batch_games: int = 64  # game copies stepped in lockstep
    round_games: int = 256  # games between two rounds of bookkeeping (snapshots, evaluation, display)
    checkpoint_every: int = 20_000  # env steps (of the slowest learner) between checkpoints
    pool_cache: int = 64  # snapshot policies kept loaded; the rest load on demand
    pool_baselines: tuple[str, ...] = ()  # reference bots that join the pool as frozen players (e.g. "scripted")
    coop_snapshots: int = 2  # one-side games: pool members that replay each round's seeds beside the learners
    lag: int = 1  # rounds the actors play ahead of the learners (0: serial, in this process; round r uses weights up to r-1-lag)
    opening_plies: int = 0  # training games start after 0 to N random moves (turn-based games without chance)
    device: str = "auto"  # where learners' networks and buffers live: auto (a GPU if torch sees one) | cpu | cuda
    learners: tuple[LearnerSettings, ...] = ()
    snapshots: SnapshotRule = field(default_factory=SnapshotRule)
    evaluation: Evaluation = field(default_factory=Evaluation)
    matchmaking: dict[str, Any] = field(default_factory=dict)  # default mix for every learner
    ratings: dict[str, Any] = field(default_factory=dict)  # TrueSkill settings and anchors

    def __post_init__(self) -> None:
        _text(self.game, "game", empty=False)
        _positive_int(self.steps, "steps")
        _positive_int(self.batch_games, "batch_games", 1, 65_536)
        _positive_int(self.round_games, "round_games", 1, 10_000_000)
        _table(self.matchmaking, "matchmaking")
        _table(self.ratings, "ratings")
        _names(self.pool_baselines, "pool_baselines") if self.pool_baselines else None
        _positive_int(self.checkpoint_every, "checkpoint_every")
        _positive_int(self.pool_cache, "pool_cache")
        _positive_int(self.coop_snapshots, "coop_snapshots", 0)
        _positive_int(self.lag, "lag", 0)
        _positive_int(self.opening_plies, "opening_plies", 0, 1_000)
        if self.device not in DEVICES and not re.fullmatch(r"cuda:\d+", str(self.device)):
            raise ConfigError(f"device must be one of {', '.join(DEVICES)} (or cuda:N), got {self.device!r}")
        if isinstance(self.pool_baselines, str):
            raise ConfigError("pool_baselines is a list, e.g. [\"scripted\"]")
        _positive_int(self.seed, "seed", 0, 2**63 - 1)
        names = [learner.name for learner in self.learners]
        for name in names:
            if names.count(name) > 1:
                raise ConfigError(f"two learners are called {name!r}; give them distinct names")

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> "TrainConfig":
        _check_keys(values, cls, "the run configuration")
        data = dict(values)
        learners = data.get("learners", [])
        if not isinstance(learners, (list, tuple)):
            raise ConfigError("learners is a list of tables, e.g. [[learners]] algo = \"mappo\"")
        data["learners"] = tuple(LearnerSettings.from_mapping(v, i) for i, v in enumerate(learners))
        data["learners"] = _unique_names(data["learners"])
        if isinstance(data.get("pool_baselines"), list):
            data["pool_baselines"] = tuple(data["pool_baselines"])
        for key, section in (("snapshots", SnapshotRule), ("evaluation", Evaluation)):
            if key in data:
                if not isinstance(data[key], Mapping):
                    raise ConfigError(f"{key} must be a table")
                _check_keys(data[key], section, key)
                sub = dict(data[key])
                if "opponents" in sub and isinstance(sub["opponents"], list):
                    sub["opponents"] = tuple(sub["opponents"])
                data[key] = section(**sub)
        try:
            return cls(**data)
        except TypeError as error:
            raise ConfigError(f"bad run configuration: {error}") from None

    def with_overrides(self, **overrides: Any) -> "TrainConfig":
        """A copy with CLI values (None means not given); `algos` ("algo" or "algo:role") replaces the learners."""
        data = asdict(self)
        algos = overrides.pop("algos", None)
        for key, value in overrides.items():
            if value is not None:
                data[key] = value
        if algos:  # "mappo" or "mappo:prey"
            data["learners"] = [dict(zip(("algo", "role"), a.split(":", 1))) for a in algos]
            for text, learner in zip(algos, data["learners"]):
                if not learner["algo"].strip() or ("role" in learner and not learner["role"].strip()):
                    raise ConfigError(f"--algo takes ALGO or ALGO:ROLE with both names non-empty, got {text!r}")
        return TrainConfig.from_mapping(data)

    def to_toml(self) -> str:
        return tomli_w.dumps(_plain(asdict(self)))


def _unique_names(learners: tuple[LearnerSettings, ...]) -> tuple[LearnerSettings, ...]:
    """Default names of repeated algorithms become mappo, mappo-2, ..."""
    seen: dict[str, int] = {}
    out = []
    for spec in learners:
        count = seen.get(spec.name, 0) + 1
        seen[spec.name] = count
        out.append(spec if count == 1 else LearnerSettings(**{**asdict(spec), "name": f"{spec.name}-{count}"}))
    return tuple(out)


def _plain(value: Any) -> Any:
    """Tuples to lists, None dropped: what TOML can hold."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def load_config(path: str | Path) -> TrainConfig:
    """Read a TOML run configuration; a missing or malformed file is one clear sentence."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"cannot read {path}: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path} is not UTF-8 text, so it is not a TOML configuration") from None
    try:
        values = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path} is not valid TOML: {error}") from None
    return TrainConfig.from_mapping(values)
