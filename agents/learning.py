"""What every learner does the same way, written once: settings, devices, optimisers, the role
check, counting env steps, the finite-metrics check, and checkpoint assembly.

An algorithm subclasses `LearnerBase`, names its settings dataclass (`config_class`, with
`limits` for ranges), and says which modules, optimisers and extra state make up its
checkpoint; `LearnerBase` turns those into `state_dict`, `load_state_dict` and
`policy_state`, checks checkpoints and snapshots against the learner, and keeps the CPU
copies of the acting networks that actors play with.

Example:
    >>> from dataclasses import dataclass
    >>> @dataclass
    ... class Demo(Settings):
    ...     lr: float = 1e-3
    ...     hidden: tuple[int, ...] = (64,)
    ...     limits = {"lr": POSITIVE, "hidden": SIZES}
    >>> settings_from(Demo, {"lr": 1, "hidden": [32, 32]}, "demo")
    Demo(lr=1.0, hidden=(32, 32))
    >>> settings_from(Demo, {"lrr": 0.5}, "demo")
    Traceback (most recent call last):
    ...
    agents.base.LearnerError: demo has no setting 'lrr'; the closest valid setting is 'lr'.
    >>> settings_from(Demo, {"hidden": []}, "demo")
    Traceback (most recent call last):
    ...
    agents.base.LearnerError: demo setting 'hidden' must list one or more positive numbers, got ().
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import math
import types
import typing
from abc import abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar, Iterable, Mapping

import numpy as np
import torch
from torch import nn

from agents.base import Learner, LearnerError, StepBatch
from agents.checkpoint import (load_module, load_numpy_rng, load_optimizer, load_torch_rng, module_tensors,
                               numpy_rng_state, optimizer_tensors, torch_rng_tensors)
from games.base import GameSpec

# -- settings ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Limit:
    """The allowed range of a numeric setting (of each entry, for a list setting)."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False  # the range excludes `low`
    nonempty: bool = False  # a list setting needs at least one entry

    def describe(self) -> str:
        if self.low == 0 and self.low_open and self.high is None:
            return "positive"
        if self.high is None:
            return f"{'above' if self.low_open else 'at least'} {self.low:g}"
        left = "(" if self.low_open else "["
        return f"in {left}{self.low:g}, {self.high:g}]"

    def allows(self, value: float) -> bool:
        if self.low is not None and (value < self.low or (self.low_open and value == self.low)):
            return False
        return self.high is None or value <= self.high


@dataclass(frozen=True)
class OneOf:
    """A setting that takes one of a few values."""

    choices: tuple[Any, ...]

    def describe(self) -> str:
        return "one of " + ", ".join(repr(c) for c in self.choices)

    def allows(self, value: Any) -> bool:
        return value in self.choices


class Settings:
    """Base of every learner's settings dataclass: `limits` gives the ranges `settings_from` checks."""

    limits: ClassVar[Mapping[str, Limit | OneOf]] = {}


POSITIVE = Limit(0.0, low_open=True)
AT_LEAST_ZERO = Limit(0.0)
UNIT = Limit(0.0, 1.0)
SIZES = Limit(0.0, low_open=True, nonempty=True)  # hidden layer sizes: one or more positive
OPTIONAL_SIZES = Limit(0.0, low_open=True)  # conv channels: may be none


def settings_from(cls: type[Settings], overrides: Mapping[str, Any] | None, algorithm: str) -> Any:
    """An instance of the settings dataclass `cls` with `overrides` applied, checked: unknown
    keys are refused with the closest valid name, values must have the declared type (ints
    pass as floats, lists as tuples), and `cls.limits` ranges hold. One-sentence LearnerError."""
    hints = typing.get_type_hints(cls)
    valid = [f.name for f in dataclasses.fields(cls)]
    values: dict[str, Any] = {}
    for key, value in dict(overrides or {}).items():
        if key not in valid:
            close = difflib.get_close_matches(str(key), valid, n=1, cutoff=0.0)
            raise LearnerError(f"{algorithm} has no setting {key!r}; the closest valid setting is {close[0]!r}.")
        ok, converted = _conform(value, hints[key])
        if not ok:
            raise LearnerError(f"{algorithm} setting {key!r} must be {_describe(hints[key])}, got {value!r}.")
        values[key] = converted
    config = cls(**values)
    for key, limit in cls.limits.items():
        value = getattr(config, key)
        if isinstance(value, tuple):
            if not all(limit.allows(v) for v in value) or (isinstance(limit, Limit) and limit.nonempty and not value):
                some = "one or more " if isinstance(limit, Limit) and limit.nonempty else ""
                raise LearnerError(f"{algorithm} setting {key!r} must list {some}{limit.describe()} numbers, got {value!r}.")
        elif value is not None and not limit.allows(value):
            raise LearnerError(f"{algorithm} setting {key!r} must be {limit.describe()}, got {value!r}.")
    return config


def _arms(hint: Any) -> tuple[Any, ...]:
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return typing.get_args(hint)
    return (hint,)


def _conform(value: Any, hint: Any) -> tuple[bool, Any]:
    """(fits, value converted to the declared type) for the types settings use."""
    for arm in _arms(hint):
        if arm is type(None):
            if value is None:
                return True, None
        elif arm is bool:
            if isinstance(value, bool):
                return True, value
        elif arm is int:
            if isinstance(value, int) and not isinstance(value, bool):
                return True, value
        elif arm is float:
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return True, float(value)
        elif arm is str:
            if isinstance(value, str):
                return True, value
        elif typing.get_origin(arm) is tuple:
            (item, *_) = typing.get_args(arm)
            if isinstance(value, (list, tuple)):
                parts = [_conform(v, item) for v in value]
                if all(ok for ok, _ in parts):
                    return True, tuple(v for _, v in parts)
    return False, value


_NAMES = {bool: "true or false", int: "an integer", float: "a number", str: "a string", type(None): "none"}
_LISTS = {int: "a list of integers", float: "a list of numbers"}


def _describe(hint: Any) -> str:
    out = []
    for arm in _arms(hint):
        if typing.get_origin(arm) is tuple:
            out.append(_LISTS.get(typing.get_args(arm)[0], "a list"))
        else:
            out.append(_NAMES.get(arm, str(arm)))
    return " or ".join(out)


# -- devices and optimisers --------------------------------------------------------------------


def resolve_device(device: str | torch.device = "cpu") -> torch.device:
    """The torch device a learner trains on: "cpu", "cuda" (or "cuda:N"), or "auto" (a GPU when
    torch sees one, else the CPU). A device that is not there is one clear sentence.

    Example:
        >>> resolve_device("cpu")
        device(type='cpu')
        >>> resolve_device("tpu")
        Traceback (most recent call last):
        ...
        agents.base.LearnerError: unknown device 'tpu'; learners run on auto, cpu or cuda (cuda:N for one GPU of several).
    """
    if isinstance(device, str) and device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError, ValueError):
        resolved = None
    if resolved is None or resolved.type not in ("cpu", "cuda"):
        raise LearnerError(f"unknown device {str(device)!r}; learners run on auto, cpu or cuda (cuda:N for one GPU of several).")
    if resolved.type == "cuda":
        if not torch.cuda.is_available():
            raise LearnerError(f"device {str(device)!r} was asked for, but this torch ({torch.__version__}) sees no CUDA "
                               f"GPU; use --device cpu or auto.")
        if resolved.index is not None and resolved.index >= torch.cuda.device_count():
            raise LearnerError(f"device {str(device)!r} does not exist: torch sees {torch.cuda.device_count()} CUDA GPU(s).")
    return resolved


def adam(parameters: Iterable[nn.Parameter], *, lr: float, eps: float = 1e-8) -> torch.optim.Adam:
    """Adam with the fused kernel (one call for every parameter) where this torch has it for the
    parameters' device, else the multi-tensor foreach path; both do the same arithmetic as
    the per-tensor loop, in a handful of kernel calls."""
    params = list(parameters)
    try:
        return torch.optim.Adam(params, lr=lr, eps=eps, fused=True)
    except (RuntimeError, TypeError):
        return torch.optim.Adam(params, lr=lr, eps=eps, foreach=True)


class CpuCopy:
    """The CPU weights actors play with, of a module trained on the learner's device.

    On a CPU learner this is the module itself; on a GPU it is a copy refreshed by `sync()`
    after every update (one device-to-host copy per update, none per move).
    """

    def __init__(self, module: nn.Module, device: torch.device):
        self.source = module
        self.module = module if device.type == "cpu" else copy.deepcopy(module).to("cpu")

    def sync(self) -> None:
        if self.module is not self.source:
            self.module.load_state_dict(self.source.state_dict())


def updates_due(env_steps: int, learning_starts: int, batch_size: int, replay_ratio: float, updates: int) -> int:
    """Gradient steps a replay learner owes: one at `learning_starts`, then one every
    `batch_size / replay_ratio` env steps, so `replay_ratio` samples are replayed per env step.

    Example:
        >>> updates_due(env_steps=1_000, learning_starts=1_000, batch_size=128, replay_ratio=32, updates=0)
        1
        >>> updates_due(env_steps=1_400, learning_starts=1_000, batch_size=128, replay_ratio=32, updates=1)
        100
    """
    if env_steps < learning_starts:
        return 0
    return max(int((env_steps - learning_starts) * replay_ratio // batch_size) + 1 - updates, 0)


# -- the learner plumbing ----------------------------------------------------------------------


class LearnerBase(Learner):
    """`Learner` with the shared plumbing; an algorithm fills in the abstract hooks below."""

    config_class: ClassVar[type[Settings]]
    architecture: ClassVar[tuple[str, ...]] = ("hidden",)  # settings a checkpoint's networks must share
    # the value a setting had before it existed, for checkpoints and snapshots written then
    settings_before: ClassVar[dict[str, Any]] = {"own_view": False}

    def __init__(self, spec: GameSpec, role: str, *, config: Mapping[str, Any] | None = None, seed: int = 0,
                 device: str | torch.device = "cpu"):
        self.check_role(spec, role)
        self.config = settings_from(self.config_class, config, self.algorithm)
        self.spec, self.role, self.seed = spec, role, int(seed)
        self.device = resolve_device(device)
        self.seats = tuple(seat for side in spec.sides_for_role(role) for seat in side.seats)
        self.rng = np.random.default_rng(self.seed)  # replay samples, minibatch orders
        self.torch_rng = torch.Generator().manual_seed(self.seed)  # initial weights, Gumbel noise (on CPU)
        self.env_steps = 0
        self.updates = 0
        self._cpu_copies: list[CpuCopy] = []

    @classmethod
    def check_role(cls, spec: GameSpec, role: str) -> None:
        """The one role check: the game has the role, and this algorithm can learn it."""
        if role not in spec.roles:
            raise LearnerError(f"{cls.algorithm}: {spec.name} has no role {role!r}; roles: {', '.join(spec.roles)}.")
        reason = cls.unsupported(spec, role)
        if reason:
            raise LearnerError(f"{cls.algorithm} cannot learn role {role!r} of {spec.name}: {reason}.")

    @property
    def who(self) -> str:
        """How errors name this learner."""
        return f"{self.algorithm} ({self.role})"

    # -- hooks each algorithm fills in ---------------------------------------------------------
    @abstractmethod
    def learn(self) -> dict[str, float]:
        """Train if the schedule says so; the metrics (empty when nothing was done)."""

    @abstractmethod
    def modules(self) -> dict[str, nn.Module]:
        """Every network of the checkpoint, by name (online and target)."""

    @abstractmethod
    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """Every optimiser of the checkpoint, by name."""

    @abstractmethod
    def policy_modules(self) -> dict[str, nn.Module]:
        """The networks a snapshot holds (the acting ones), by name."""

    def extra_state(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """Buffers, open moves and schedule counters: (arrays, JSON) beyond networks and RNGs."""
        return {}, {}

    def load_extra_state(self, tensors: Mapping[str, Any], meta: Mapping[str, Any]) -> None:
        """Restore what `extra_state` returned."""

    def policy_meta(self) -> dict[str, Any]:
        """What `policy_from_state` needs beyond the identity and the settings."""
        return {}

    # -- shared behaviour ----------------------------------------------------------------------
    def cpu_copy(self, module: nn.Module) -> nn.Module:
        """The CPU module actors play with for `module` (itself on a CPU learner); kept in step
        after every update and every load."""
        mirror = CpuCopy(module, self.device)
        self._cpu_copies.append(mirror)
        return mirror.module

    def count_moves(self, batch: StepBatch, player: str) -> int:
        """Add the copies where `player` moved in this step to `env_steps`; returns how many."""
        moved = int(batch.moved(player, self.seats).sum())
        self.env_steps += moved
        return moved

    def update(self) -> dict[str, float]:
        metrics = self.learn()
        if metrics:
            for key, value in metrics.items():
                if not math.isfinite(value):
                    raise LearnerError(f"{self.who} reported {key}={value} at env step {self.env_steps} "
                                       f"(update {self.updates}); training stopped.")
            for mirror in self._cpu_copies:
                mirror.sync()
        return metrics

    def identity(self) -> dict[str, Any]:
        return {"algorithm": self.algorithm, "game": self.spec.name, "role": self.role, "seats": list(self.seats),
                "config": dataclasses.asdict(self.config)}

    def networks_state(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """Copies of every network's and optimiser's arrays (safe to keep across training)."""
        tensors: dict[str, Any] = {}
        groups: dict[str, Any] = {}
        for name, module in self.modules().items():
            tensors.update({k: v.copy() for k, v in module_tensors(name, module).items()})
        for name, optimizer in self.optimizers().items():
            arrays, groups[name] = optimizer_tensors(name, optimizer)
            tensors.update({k: v.copy() for k, v in arrays.items()})
        return tensors, {"optim": groups}

    def load_networks_state(self, tensors: Mapping[str, Any], meta: Mapping[str, Any]) -> None:
        for name, module in self.modules().items():
            load_module(name, module, tensors)
        for name, optimizer in self.optimizers().items():
            load_optimizer(name, optimizer, tensors, meta["optim"][name])
        for mirror in self._cpu_copies:
            mirror.sync()

    def state_dict(self) -> tuple[dict[str, Any], dict[str, Any]]:
        tensors, meta = self.networks_state()
        tensors.update(torch_rng_tensors("torch_rng", self.torch_rng))
        extra, extra_meta = self.extra_state()
        tensors.update(extra)
        meta.update({**self.identity(), **extra_meta}, numpy_rng=numpy_rng_state(self.rng), env_steps=self.env_steps,
                    updates=self.updates)
        return tensors, meta

    def load_state_dict(self, tensors: Mapping[str, Any], meta: Mapping[str, Any]) -> None:
        self.check_checkpoint(meta)
        self.config = self.stored_settings(meta)
        self.load_networks_state(tensors, meta)
        load_torch_rng("torch_rng", self.torch_rng, tensors)
        load_numpy_rng(self.rng, meta["numpy_rng"])
        self.load_extra_state(tensors, meta)
        self.env_steps, self.updates = int(meta["env_steps"]), int(meta["updates"])

    def check_checkpoint(self, meta: Mapping[str, Any]) -> None:
        """A checkpoint of another algorithm, game or role, or of other network sizes, is one clear error."""
        for key, mine in (("algorithm", self.algorithm), ("game", self.spec.name), ("role", self.role)):
            if meta.get(key) != mine:
                raise LearnerError(f"this checkpoint is for {key} {meta.get(key)!r}, not {mine!r}.")
        theirs = self.stored_settings(meta)
        for key in self.architecture:
            if getattr(theirs, key) != getattr(self.config, key):
                raise LearnerError(f"the checkpoint's networks have {key}={getattr(theirs, key)!r}, this {self.algorithm} "
                                   f"learner's {getattr(self.config, key)!r}; build the learner with the checkpoint's config.")

    def policy_state(self) -> tuple[dict[str, Any], dict[str, Any]]:
        tensors: dict[str, Any] = {}
        for name, module in self.policy_modules().items():
            tensors.update(module_tensors(name, module))
        return tensors, {**self.identity(), **self.policy_meta()}

    @classmethod
    def snapshot_settings(cls, spec: GameSpec, meta: Mapping[str, Any]) -> tuple[Any, tuple[str, ...]]:
        """(settings, seats) of a snapshot's manifest, checked against this algorithm and game."""
        if meta.get("algorithm") != cls.algorithm:
            raise LearnerError(f"the snapshot holds a {meta.get('algorithm')!r} policy, not {cls.algorithm}.")
        seats = tuple(str(s) for s in meta.get("seats", ()))
        missing = [s for s in seats if s not in spec.seat_names]
        if missing or not seats:
            raise LearnerError(f"the {cls.algorithm} snapshot plays seats {missing or list(seats)}, which {spec.name} "
                               f"does not have.")
        return cls.stored_settings(meta), seats

    @classmethod
    def stored_settings(cls, meta: Mapping[str, Any]) -> Any:
        """The settings a checkpoint or snapshot was written with; a setting it predates takes
        the value it had then (`settings_before`), so old snapshots play as they were trained."""
        names = {f.name for f in dataclasses.fields(cls.config_class)}
        before = {k: v for k, v in cls.settings_before.items() if k in names}
        return settings_from(cls.config_class, {**before, **meta.get("config", {})}, cls.algorithm)

    @staticmethod
    def check_exploration(exploration: Mapping[str, float] | None, allowed: tuple[str, ...],
                          algorithm: str) -> dict[str, float]:
        """The exploration values a rebuilt policy reads; keys it does not know are refused.

        Example:
            >>> LearnerBase.check_exploration({"epsilon": 0.1}, ("epsilon",), "iql")
            {'epsilon': 0.1}
            >>> LearnerBase.check_exploration({"epsilon": 0.1}, (), "mappo")
            Traceback (most recent call last):
            ...
            agents.base.LearnerError: mappo policies explore by nothing but their own distribution, not by ['epsilon'].
        """
        given = {str(k): float(v) for k, v in (exploration or {}).items()}
        unknown = sorted(set(given) - set(allowed))
        if unknown:
            what = f"by {', '.join(map(repr, allowed))} only" if allowed else "by nothing but their own distribution"
            raise LearnerError(f"{algorithm} policies explore {what}, not by {unknown}.")
        return given
