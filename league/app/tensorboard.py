"""TensorBoard (and optionally Weights & Biases) logging of a training run, fed by the trainer's events.

`TrainLogger` is an `on_event` consumer, like the live display. It writes under
`runs/<name>/tensorboard/`:

- `tensorboard/<learner>/`: one TensorBoard run per learner, so learners overlay in each chart:
  `train/<metric>` (every metric the learner's update returns: losses, returns, entropy,
  epsilon, ...) by the learner's env steps, `eval/<bot>` (score against each reference bot),
  `exploitability` and `exploitability/meta` where the game defines them, and
  `exploitability/snapshot` for each of its snapshots.
- `tensorboard/league/`: league-wide scalars by the league step (the most advanced learner's
  env steps): `league/steps_per_second`, `league/pool_size`, `league/games`,
  `league/champion_conservative`, and `rating/mu/<player>`, `rating/sigma/<player>`,
  `rating/conservative/<player>` for every rated player (learners, snapshots, bots); the run's
  configuration as text, its hyperparameters in the HParams tab, and a Custom Scalars layout
  that draws every player's rating in one chart.

Watch it while it trains with `tensorboard --logdir runs/`. Weights & Biases gets the same
scalars when asked (`wandb=True`); without an API key it logs offline into the run directory
(`wandb sync` uploads later).

Example:
    >>> import tempfile
    >>> from league.store.database import Store
    >>> from league.train.config import TrainConfig
    >>> from league.train.loop import Event
    >>> with tempfile.TemporaryDirectory() as tmp, Store.open(tmp, create=True) as store:
    ...     config = TrainConfig.from_mapping({"game": "tic_tac_toe", "learners": [{"algo": "iql"}]})
    ...     with open_logger(store, config) as logger:
    ...         logger(Event("round", "round 1", {"round": 1, "steps": {"iql": 512}, "steps_per_second": 900.0,
    ...                                           "pool": 0, "evaluation": {}, "metrics": {"iql": {"loss": 0.25}}}))
    ...     sorted(p.name for p in (store.run_dir / "tensorboard").iterdir())
    ['iql', 'league']
"""

from __future__ import annotations

import importlib.util
import os
import re
from dataclasses import asdict, fields, is_dataclass
from pathlib import Path
from typing import Any, Mapping, Protocol, Sequence

from games.errors import LeagueError
from league.store.database import Store
from league.train.config import TrainConfig
from league.train.loop import Event

LOG_DIR = "tensorboard"
LEAGUE_RUN = "league"  # the TensorBoard run of league-wide scalars
FLUSH_SECONDS = 5  # how stale the files on disk may be while training


class LoggingError(LeagueError, ValueError):
    """Logging that cannot start as asked (W&B without the wandb package)."""


HParam = float | int | str | bool


class Sink(Protocol):
    """Where scalars go. `run` is a learner's name or `league`; a TensorBoard run each."""

    def scalars(self, run: str, values: Mapping[str, float], step: int) -> None: ...

    def text(self, tag: str, text: str) -> None: ...

    def hparams(self, values: Mapping[str, HParam], metrics: Sequence[str]) -> None: ...

    def close(self) -> None: ...


def run_key(name: str) -> str:
    """A player name as a TensorBoard run directory or tag part (`/` and odd characters become `_`).

    Example:
        >>> run_key("mcts:25"), run_key("mappo/prey 2")
        ('mcts_25', 'mappo_prey_2')
    """
    return re.sub(r"[^A-Za-z0-9._:-]", "_", name).replace(":", "_") or "_"


class TensorBoardSink:
    """One SummaryWriter per run under `log_dir`, created on first use."""

    def __init__(self, log_dir: str | Path, *, purge_steps: Mapping[str, int] | None = None):
        self.log_dir = Path(log_dir)
        self.purge_steps = dict(purge_steps or {})
        self.writers: dict[str, Any] = {}

    def _writer(self, run: str):
        if run not in self.writers:
            from torch.utils.tensorboard import SummaryWriter

            # purge_step hides what a crashed run logged after the checkpoint it resumed from
            self.writers[run] = SummaryWriter(str(self.log_dir / run_key(run)), flush_secs=FLUSH_SECONDS,
                                              purge_step=self.purge_steps.get(run))
        return self.writers[run]

    def scalars(self, run: str, values: Mapping[str, float], step: int) -> None:
        writer = self._writer(run)
        for tag, value in values.items():
            writer.add_scalar(tag, value, step)

    def text(self, tag: str, text: str) -> None:
        self._writer(LEAGUE_RUN).add_text(tag, text)

    def hparams(self, values: Mapping[str, HParam], metrics: Sequence[str]) -> None:
        from torch.utils.tensorboard.summary import hparams

        # written into the league run itself (SummaryWriter.add_hparams would make a new run per call)
        writer = self._writer(LEAGUE_RUN).file_writer
        for summary in hparams(dict(values), {tag: 0.0 for tag in metrics}):
            writer.add_summary(summary)
        self._writer(LEAGUE_RUN).add_custom_scalars(custom_layout())

    def close(self) -> None:
        for writer in self.writers.values():
            writer.close()


class WandbSink:
    """The same scalars in Weights & Biases: one step axis per run (`<run>/step`), so learners'
    env-step counts need not agree."""

    def __init__(self, run_dir: Path, name: str, config: Mapping[str, Any]):
        if importlib.util.find_spec("wandb") is None:
            raise LoggingError("--wandb needs the wandb package: pip install wandb (it logs offline without an account).")
        import wandb

        mode = os.environ.get("WANDB_MODE") or ("online" if os.environ.get("WANDB_API_KEY") else "offline")
        self.wandb = wandb
        self.run = wandb.init(project="league", name=name, dir=str(run_dir), config=dict(config), mode=mode)
        self.defined: set[str] = set()

    def scalars(self, run: str, values: Mapping[str, float], step: int) -> None:
        if run not in self.defined:
            self.run.define_metric(f"{run}/step")
            self.run.define_metric(f"{run}/*", step_metric=f"{run}/step")
            self.defined.add(run)
        self.run.log({f"{run}/step": step, **{f"{run}/{tag}": value for tag, value in values.items()}})

    def text(self, tag: str, text: str) -> None:
        self.run.summary[tag] = text

    def hparams(self, values: Mapping[str, HParam], metrics: Sequence[str]) -> None:
        self.run.config.update(dict(values), allow_val_change=True)

    def close(self) -> None:
        self.run.finish()


def custom_layout() -> dict:
    """TensorBoard's Custom Scalars layout: every player's rating in one chart, each learner's band."""
    return {"League": {
        "rating (mu) of every player": ["Multiline", [r"rating/mu/.*"]],
        "conservative rating (mu - 3 sigma) of every player": ["Multiline", [r"rating/conservative/.*"]],
        "steps per second": ["Multiline", [r"league/steps_per_second"]],
        "pool size": ["Multiline", [r"league/pool_size"]],
    }}


def hparams_of(config: TrainConfig) -> dict[str, HParam]:
    """The run's settings flattened to scalar values, as the HParams tab takes them.

    Example:
        >>> config = TrainConfig.from_mapping({"learners": [{"algo": "iql", "config": {"lr": 0.001}}]})
        >>> values = hparams_of(config)
        >>> values["steps"], values["snapshots.min_steps"], values["iql.algo"], values["iql.lr"]
        (100000, 20000, 'iql', 0.001)
    """
    out: dict[str, HParam] = {}

    def put(key: str, value: Any) -> None:
        if isinstance(value, (bool, int, float, str)):
            out[key] = value
        elif isinstance(value, (list, tuple)):
            out[key] = ", ".join(str(v) for v in value)
        elif isinstance(value, Mapping):
            for k, v in value.items():
                put(f"{key}.{k}", v)

    for f in fields(config):
        value = getattr(config, f.name)  # a dataclass's own fields, by name
        if f.name == "learners":
            for spec in value:
                for key, item in asdict(spec).items():
                    if key == "config":
                        for k, v in item.items():
                            put(f"{spec.name}.{k}", v)
                    elif key != "name":
                        put(f"{spec.name}.{key}", item)
        elif is_dataclass(value):
            put(f.name, asdict(value))
        else:
            put(f.name, value)
    return out


class TrainLogger:
    """Turns the trainer's events into scalars for each sink; use as `on_event` (see the module doc).

    Reads from the events: `round` data (round, steps per learner, steps_per_second, pool, and
    `metrics`: each learner's metrics of that round), `evaluation` data (learner, step, scores)
    and `snapshot` data (learner, step, and `exploitability` when measured). Ratings come from
    the store (one small query per round).
    """

    def __init__(self, store: Store, config: TrainConfig, sinks: Sequence[Sink]):
        self.store = store
        self.config = config
        self.sinks = list(sinks)
        self.games = 0
        metrics = ["league/champion_conservative", "league/steps_per_second"]
        for sink in self.sinks:
            sink.text("config", "```toml\n" + config.to_toml() + "```")
            sink.hparams(hparams_of(config), metrics)

    def __call__(self, event: Event) -> None:
        if event.kind == "round":
            self.round(event.data)
        elif event.kind == "evaluation":
            scores = event.data["scores"]
            values = {(k if k.startswith("exploitability") else f"eval/{k}"): float(v) for k, v in scores.items()}
            self._emit(event.data["learner"], values, int(event.data["step"]))
        elif event.kind == "snapshot" and event.data.get("exploitability") is not None:
            self._emit(event.data["learner"], {"exploitability/snapshot": float(event.data["exploitability"])},
                       int(event.data["step"]))

    def round(self, data: Mapping[str, Any]) -> None:
        steps: Mapping[str, int] = data["steps"]
        for learner, values in data.get("metrics", {}).items():
            if values:
                self._emit(learner, {f"train/{k}": float(v) for k, v in values.items()}, int(steps[learner]))
        league_step = max(steps.values(), default=0)
        values: dict[str, float] = {"league/steps_per_second": float(data["steps_per_second"]),
                                    "league/pool_size": float(data["pool"]), "league/round": float(data["round"])}
        if "games" in data:
            values["league/games"] = float(data["games"])
        ratings = self.store.ratings()
        for name, (mu, sigma, _) in ratings.items():
            key = run_key(name)
            values[f"rating/mu/{key}"] = mu
            values[f"rating/sigma/{key}"] = sigma
            values[f"rating/conservative/{key}"] = mu - 3 * sigma
        if ratings:
            mu, sigma, _ = next(iter(ratings.values()))  # best conservative score first
            values["league/champion_conservative"] = mu - 3 * sigma
        self._emit(LEAGUE_RUN, values, league_step)

    def _emit(self, run: str, values: Mapping[str, float], step: int) -> None:
        for sink in self.sinks:
            sink.scalars(run, values, step)

    def close(self) -> None:
        for sink in self.sinks:
            sink.close()

    def __enter__(self) -> "TrainLogger":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_logger(store: Store, config: TrainConfig, *, tensorboard: bool = True, wandb: bool = False,
                resumed_steps: Mapping[str, int] | None = None) -> TrainLogger:
    """A TrainLogger for the run in `store`: TensorBoard under runs/<name>/tensorboard/, W&B when asked.

    `resumed_steps` (each learner's steps at the checkpoint a run resumed from) hides what a
    crashed run logged after that checkpoint.
    """
    sinks: list[Sink] = []
    if wandb:  # first: refuse before any file is written
        info = store.run_info()
        sinks.append(WandbSink(store.run_dir, info["name"] if info else store.run_dir.name, hparams_of(config)))
    if tensorboard:
        purge = dict(resumed_steps or {})
        if purge:
            purge[LEAGUE_RUN] = max(purge.values())
        sinks.append(TensorBoardSink(store.run_dir / LOG_DIR, purge_steps=purge))
    return TrainLogger(store, config, sinks)
