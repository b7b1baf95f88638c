"""Setting up runs for the command line: defaults, entrant lists, validation before anything is
written, and training with a clean Ctrl-C. No command-line parsing here."""

from __future__ import annotations

import signal
import sys
from typing import Sequence

from agents.base import PolicyError
from games.errors import LeagueError
from league.rate.ratings import Rater
from league.rate.standings import standings
from league.store.database import Store, StoreError
from league.tournament.formats import TournamentError
from league.train.config import TrainConfig
from league.train.loop import League, rater_from

DEFAULT_RUN = "runs/default"
DEFAULT_ENTRANTS = "random,mcts:25,mcts:100"


class RunError(LeagueError, ValueError):
    """A combination of options that makes no run."""


DEFAULT_TRAIN = {
    "game": "connect_four",
    "steps": 120_000,
    "batch_games": 64,
    "round_games": 128,
    "checkpoint_every": 40_000,
    "learners": [{"algo": "mappo"}, {"algo": "iql"}],
    "snapshots": {"min_steps": 10_000, "max_steps": 20_000, "win_rate": 0.7, "eval_games": 20},
    "evaluation": {"every": 20_000, "opponents": ["random", "mcts:25"], "games": 20},
}


def run_name(run_dir: str) -> str:
    return str(run_dir).rstrip("/").rsplit("/", 1)[-1]


def parse_anchors(anchors: Sequence[str]) -> dict[str, float]:
    out = {}
    for text in anchors:
        name, sep, value = text.partition("=")
        try:
            out[name.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep or not name.strip():
            raise RunError(f"--anchor takes NAME=MU, e.g. random=0, got {text!r}")
    return out


def rater_of(config: dict) -> Rater:
    return rater_from((config or {}).get("ratings", {}))


def entrant_names(entrants: str | None, store: Store | None, top: int | None = None,
                   include: str | None = None) -> list[str]:
    if top is not None:
        if entrants is not None:
            raise RunError("give either --entrants or --top, not both")
        if store is None:
            raise StoreError("--top picks snapshots from an existing run; this run does not exist")
        ranked = [s.name for s in standings(store) if (store.player(s.name) or None) and store.player(s.name).weights_path]
        if top < 1 or not ranked:
            raise TournamentError(f"--top needs a positive K and a run with snapshots; {len(ranked)} snapshots here")
        names = ranked[:top]
        if include == "baselines":
            names += [p.name for p in store.players(kind="baseline")]
        return names
    if include:
        raise RunError("--include works with --top")
    if entrants is not None:
        return [name.strip() for name in entrants.split(",")]
    snapshots = [p.name for p in store.players() if p.weights_path] if store is not None else []
    if snapshots:
        return ["random", *snapshots]
    return DEFAULT_ENTRANTS.split(",")


def bots_for(spec) -> list[str]:
    from agents.baselines import make_baseline

    bots = []
    for name in ("random", "mcts:25", "scripted"):
        try:
            make_baseline(name, spec)
        except PolicyError:
            continue
        bots.append(name)
    return bots


def as_mapping(config: TrainConfig) -> dict:
    from dataclasses import asdict

    return asdict(config)


def read_toml(text: str) -> dict:
    import tomllib

    return tomllib.loads(text)


def validate_training(config: TrainConfig, game) -> None:
    """Refuse what cannot train (unknown algorithm, wrong role, bad hyperparameters) before any file is made."""
    import tempfile

    from agents.registry import make_learner
    from league.play.entrants import resolve
    from league.train.matchmaking import Mix

    for k, learner in enumerate(config.learners):
        make_learner(learner.algo, game.spec, learner.role or game.spec.sides[0].role, config=learner.config, seed=k)
        Mix.from_mapping({**config.matchmaking, **learner.matchmaking})
    resolve(list(config.evaluation.opponents), game.spec)
    rater_from(config.ratings)
    with tempfile.TemporaryDirectory() as scratch, Store.open(scratch, create=True) as store:
        League(store, game, config)  # role coverage and the rest of the wiring


def train_until_done_or_interrupted(league_: League) -> None:
    def stop(signum, frame):  # noqa: ARG001
        if league_.stop_requested:
            raise KeyboardInterrupt
        league_.stop_requested = True
        print("stopping after this round (Ctrl-C again to abort without a checkpoint)", file=sys.stderr)

    previous = signal.signal(signal.SIGINT, stop)
    try:
        league_.run()
    finally:
        signal.signal(signal.SIGINT, previous)


