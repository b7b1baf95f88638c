"""`league config`: the resolved training configuration, every setting with its value, default and doc.

The docs are the dataclasses' own field documentation, read from their source: an attribute
docstring (a string right under the field, as in agents' hyperparameter classes) or else the
comment at the end of the field's line (as in `league.train.config`). Sections follow the TOML
layout: the run's own settings, `[snapshots]`, `[evaluation]`, `[matchmaking]` (the default
mix), `[ratings]`, then each `[[learners]]` with its matchmaking mix and the hyperparameters
of its algorithm.

Example:
    >>> from league.train.config import TrainConfig
    >>> config = TrainConfig.from_mapping({"game": "tic_tac_toe", "steps": 5000, "learners": [{"algo": "iql"}]})
    >>> rows = {s.key: s for s in config_settings(config)}
    >>> rows["steps"].value, rows["steps"].default, rows["steps"].changed, rows["steps"].doc
    ('5000', '100000', True, 'env steps each learner trains for (a resumed run continues to this total)')
    >>> rows["learners.iql.config.lr"].value, rows["learners.iql.config.lr"].doc
    ('0.0005', 'Adam learning rate (EPyMARL `lr: 0.0005`).')
"""

from __future__ import annotations

import ast
import dataclasses
import difflib
import importlib
import inspect
import io
import json
import textwrap
import tokenize
from dataclasses import dataclass, fields
from functools import lru_cache
from typing import Any, Mapping

from league.rate.ratings import RatingConfig
from league.train.config import ConfigError, Evaluation, LearnerSettings, SnapshotRule, TrainConfig
from league.train.matchmaking import Mix

# Each algorithm's hyperparameter dataclass (the class its learner passes to config_from).
HYPERPARAMETERS: dict[str, str] = {
    "iql": "agents.iql:IQLConfig",
    "vdn": "agents.vdn:VDNConfig",
    "qmix": "agents.qmix:QMIXConfig",
    "mappo": "agents.mappo:MAPPOConfig",
    "maddpg": "agents.maddpg:MADDPGConfig",
    "alphazero": "agents.alphazero:AlphaZeroConfig",
}

SECTIONS = ("learners", "snapshots", "evaluation", "matchmaking", "ratings")  # TrainConfig's tables
SPEC_FIELDS = ("algo", "name", "role", "seed", "position", "reset")


@dataclass(frozen=True)
class Setting:
    """One line of `league config`."""

    section: str  # "run", "snapshots", ..., "learners.mappo", "learners.mappo.config"
    key: str  # the dotted path, e.g. "snapshots.min_steps" or "learners.mappo.config.lr"
    value: str  # as TOML would write it
    default: str
    doc: str  # one line, from the field's docstring or comment ("" when it has none)

    @property
    def changed(self) -> bool:
        return self.value != self.default


def _text(value: Any) -> str:
    """A value as TOML writes it: strings quoted, tuples as lists.

    Example:
        >>> _text("random"), _text(("random", "mcts:25")), _text(0.7), _text(True), _text({})
        ('"random"', '["random", "mcts:25"]', '0.7', 'true', '{}')
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_text(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k} = {_text(v)}" for k, v in value.items()) + "}"
    return str(value)


def first_sentence(text: str) -> str:
    """The first sentence of a docstring on one line (a full stop inside brackets does not end it).

    Example:
        >>> first_sentence("Adam learning rate (EPyMARL `lr: 0.0005`). More details\\n here.")
        'Adam learning rate (EPyMARL `lr: 0.0005`).'
        >>> first_sentence("Hidden sizes (e.g. 64. or 128) of the MLP")
        'Hidden sizes (e.g. 64. or 128) of the MLP'
    """
    flat = " ".join(text.split())
    depth = 0
    for k, char in enumerate(flat):
        depth += char in "([{"
        depth -= char in ")]}"
        if char == "." and depth <= 0 and (k + 1 == len(flat) or flat[k + 1] == " "):
            return flat[:k + 1]
    return flat


@lru_cache(maxsize=None)
def _own_docs(cls: type) -> dict[str, str]:
    """Docs of the fields declared in `cls` itself (not its bases), read from its source."""
    try:
        source = textwrap.dedent(inspect.getsource(cls))
    except (OSError, TypeError):
        return {}
    comments: dict[int, str] = {}
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            comments[token.start[0]] = token.string.lstrip("#").strip()
    body = ast.parse(source).body[0]
    if not isinstance(body, ast.ClassDef):
        return {}
    docs: dict[str, str] = {}
    statements = body.body
    for k, node in enumerate(statements):
        if not (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)):
            continue
        after = statements[k + 1] if k + 1 < len(statements) else None
        if (isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant)
                and isinstance(after.value.value, str)):
            docs[node.target.id] = first_sentence(after.value.value)
        elif node.end_lineno in comments:
            docs[node.target.id] = first_sentence(comments[node.end_lineno])
    return docs


def field_docs(cls: type) -> dict[str, str]:
    """Every field's one-line doc of the dataclass `cls`, inherited fields included.

    Example:
        >>> field_docs(SnapshotRule)["win_rate"]
        'between the two, a snapshot once it beats its recent opponents this often'
        >>> field_docs(RatingConfig)["tau"]
        'Uncertainty added before every game, so ratings can follow a learner that improves.'
    """
    docs: dict[str, str] = {}
    for base in reversed(cls.__mro__):
        if dataclasses.is_dataclass(base):
            docs.update(_own_docs(base))
    return {f.name: docs.get(f.name, "") for f in fields(cls)}


def _default(f: dataclasses.Field) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return None


def _rows(section: str, prefix: str, instance: Any, *, names: tuple[str, ...] | None = None,
          defaults: Any = None) -> list[Setting]:
    """Settings of the dataclass `instance`; `defaults` (an instance) replaces the field defaults."""
    docs = field_docs(type(instance))
    by_name = {f.name: f for f in fields(instance)}
    out = []
    for name in names or tuple(by_name):
        default = getattr(defaults, name) if defaults is not None else _default(by_name[name])
        out.append(Setting(section, f"{prefix}{name}", _text(getattr(instance, name)),
                           "-" if default is None else _text(default), docs.get(name, "")))
    return out


def hyperparameter_class(algo: str) -> type:
    """The hyperparameter dataclass of an algorithm.

    Example:
        >>> hyperparameter_class("mappo").__name__
        'MAPPOConfig'
    """
    module, _, name = HYPERPARAMETERS[algo].partition(":")
    return vars(importlib.import_module(module))[name]


def hyperparameters(cls: type, overrides: Mapping[str, Any], learner: str) -> Any:
    """The algorithm's hyperparameters with a learner's `config` table applied; unknown keys refused.

    Example:
        >>> hyperparameters(hyperparameter_class("iql"), {"lr": 0.01}, "iql").lr
        0.01
        >>> try:
        ...     hyperparameters(hyperparameter_class("iql"), {"lrr": 0.01}, "iql")
        ... except ConfigError as error:
        ...     print(error)
        learner iql has no setting 'lrr' (did you mean 'lr'?)
    """
    valid = [f.name for f in fields(cls)]
    for key in overrides:
        if key not in valid:
            close = difflib.get_close_matches(str(key), valid, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(f"learner {learner} has no setting {key!r}{hint}")
    return dataclasses.replace(cls(), **{k: tuple(v) if isinstance(v, list) else v for k, v in overrides.items()})


def config_settings(config: TrainConfig) -> list[Setting]:
    """Every setting of the resolved `config`, in the order of a TOML file (see the module example)."""
    out = _rows("run", "", config, names=tuple(f.name for f in fields(config) if f.name not in SECTIONS))
    out += _rows("snapshots", "snapshots.", config.snapshots, defaults=SnapshotRule())
    out += _rows("evaluation", "evaluation.", config.evaluation, defaults=Evaluation())
    out += _rows("matchmaking", "matchmaking.", Mix.from_mapping(config.matchmaking), defaults=Mix())
    ratings = dict(config.ratings)
    anchors = ratings.pop("anchors", {}) or {}
    out += _rows("ratings", "ratings.", RatingConfig.from_mapping(ratings), defaults=RatingConfig())
    out.append(Setting("ratings", "ratings.anchors", _text(anchors), "{}",
                       "players whose rating is pinned near a given mu (name = mu)"))
    for spec in config.learners:
        section = f"learners.{spec.name}"
        out += _rows(section, f"{section}.", spec, names=SPEC_FIELDS, defaults=LearnerSettings.from_mapping({"algo": spec.algo}, 0))  # default name: the algorithm
        mix = Mix.from_mapping({**config.matchmaking, **spec.matchmaking})
        out += _rows(section, f"{section}.matchmaking.", mix, defaults=Mix.from_mapping(config.matchmaking))
        if spec.algo in HYPERPARAMETERS:
            cls = hyperparameter_class(spec.algo)
            out += _rows(f"{section}.config", f"{section}.config.", hyperparameters(cls, spec.config, spec.name),
                         defaults=cls())
    return out


SECTION_TITLES = {"run": "run", "snapshots": "[snapshots] when a learner's frozen copy joins the pool",
                  "evaluation": "[evaluation] games against reference bots",
                  "matchmaking": "[matchmaking] the default opponent mix of every learner",
                  "ratings": "[ratings] TrueSkill"}


def format_settings(settings: list[Setting], *, width: int = 100) -> str:
    """The settings as aligned text, a block per section; `*` marks a value that is not the default.

    Example:
        >>> print(format_settings([Setting("run", "steps", "5000", "100000", "env steps per learner")]))
        # run
          setting  value   default  doc
        * steps    5000    100000   env steps per learner
    """
    key_w = max((len(s.key) for s in settings), default=7)
    value_w = min(max((len(s.value) for s in settings), default=5), 24)
    default_w = min(max((len(s.default) for s in settings), default=7), 24)
    lines: list[str] = []
    section = None
    for s in settings:
        if s.section != section:
            section = s.section
            if lines:
                lines.append("")
            title = SECTION_TITLES.get(section, "")
            if not title:
                name = section.split(".")[1]
                title = (f"[[learners]] {name}: hyperparameters" if section.endswith(".config")
                         else f"[[learners]] {name}")
            lines.append(f"# {title}")
            lines.append(f"  {'setting':<{key_w}}  {'value':<{value_w}}  {'default':<{default_w}}  doc")
        mark = "*" if s.changed else " "
        lines.append(f"{mark} {s.key:<{key_w}}  {s.value:<{value_w}}  {s.default:<{default_w}}  {s.doc or '-'}".rstrip())
    return "\n".join(lines)


def format_config(config: TrainConfig) -> str:
    """What `league config` prints for `config`: every setting, then a line on reading it."""
    settings = config_settings(config)
    changed = sum(s.changed for s in settings)
    return (format_settings(settings) + f"\n\n{len(settings)} settings, {changed} changed from their defaults (*); "
            "set them in a TOML file passed with --config (see runs/examples/).")


def config_json(config: TrainConfig) -> str:
    """The settings as a JSON list for scripts (key, value, default, doc, section)."""
    return json.dumps([dataclasses.asdict(s) for s in config_settings(config)], indent=2)
