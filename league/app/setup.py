"""Setting up runs for the command line: defaults, entrant lists, validation before anything is
written, and training with a clean Ctrl-C. No command-line parsing here."""

from __future__ import annotations

import math
import os
import signal
import sys
from typing import Sequence

import numpy as np

from agents.base import PolicyError
from games.errors import LeagueError
from league.rate.ratings import Rater
from league.rate.standings import standings
from league.results import PayoffMatrix
from league.store.database import Store, StoreError
from league.store.trust import load_stored_game
from league.tournament.config import TournamentError
from league.train.config import ConfigError, TrainConfig, load_config, parse_toml
from league.rate.ratings import rater_from
from league.train.loop import Trainer

DEFAULT_RUN = "runs/default"
DEFAULT_ENTRANTS = "random,mcts:25,mcts:100"


class RunError(LeagueError, ValueError):
    """A combination of options that makes no run."""


DEFAULT_TRAIN = {
    "game": "connect_four",
    "steps": 36_000,
    "batch_games": 128,
    "round_games": 256,
    "checkpoint_every": 20_000,
    # one AlphaZero learner (16 simulations a training move, 32 in evaluations) against itself and
    # its past selves. The IQL learner with negamax targets it replaces reached 0.95 against random
    # and 0.47 against MCTS-25 after 1 min 15 s; see the README's results for this one
    "learners": [{"algo": "alphazero"}],
    "matchmaking": {"latest": 0.75, "pfsp": 0.25, "weighting": "variance"},
    "snapshots": {"min_steps": 10_000, "max_steps": 20_000, "win_rate": 0.6, "eval_games": 20},
    "evaluation": {"every": 20_000, "opponents": ["random", "mcts:25"], "games": 20},
}
# the built-in default's learners for a game given with --game: AlphaZero needs a two-player board
# game without chance, so other games get a MAPPO and an IQL learner with general settings
OTHER_GAME_LEARNERS = [{"algo": "mappo"}, {"algo": "iql", "config": {"replay_ratio": 4}}]


def run_name(run_dir: str) -> str:
    return str(run_dir).rstrip("/").rsplit("/", 1)[-1]


def parse_anchors(anchors: Sequence[str], entrants: Sequence[str] | None = None) -> dict[str, float]:
    """NAME=MU pairs; a name that is not among `entrants` (when given) or a mu that is not finite is refused.

    Example:
        >>> parse_anchors(["random=0"], ["random", "mcts:5"])
        {'random': 0.0}
        >>> try:
        ...     parse_anchors(["nosuch=0"], ["random", "mcts:5"])
        ... except RunError as error:
        ...     print(error)
        --anchor names 'nosuch', which is not an entrant here (random, mcts:5)
    """
    out = {}
    for text in anchors:
        name, sep, value = text.partition("=")
        name = name.strip()
        try:
            mu = float(value)
        except ValueError:
            sep = ""
        if not sep or not name or not math.isfinite(mu):
            raise RunError(f"--anchor takes NAME=MU with a finite MU, e.g. random=0, got {text!r}")
        if entrants is not None and name not in entrants:
            raise RunError(f"--anchor names {name!r}, which is not an entrant here ({', '.join(entrants)})")
        out[name] = mu
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
    return parse_toml(text)


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
        Trainer(store, game, config)  # role coverage and the rest of the wiring


def train_until_done_or_interrupted(league_: Trainer) -> None:
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


# -- reading a run: the leaderboard and payoff tables from the store's running totals --------

def payoff_top(store: Store, top: int) -> tuple[PayoffMatrix, int]:
    """The payoff matrix of the first `top` players, from the store's running totals; and how many
    players there are when they are more than that (else 0)."""
    present = set(store.pair_names())
    if not present:
        raise StoreError(f"the run at {store.run_dir} has no games of two or more sides yet")
    order = [n for n in store.ratings() if n in present] + sorted(present - set(store.ratings()))
    names = order[:top]
    index = {name: i for i, name in enumerate(names)}
    wins, draws, losses = (np.zeros((len(names), len(names)), dtype=np.int64) for _ in range(3))
    for (a, b), (w, d, l, _) in store.pair_results(names).items():
        wins[index[a], index[b]], draws[index[a], index[b]], losses[index[a], index[b]] = w, d, l
    return PayoffMatrix(tuple(names), wins, draws, losses, wins + draws + losses), len(order) if len(order) > top else 0


def stored_spec(store: Store):
    """The run's game spec when its stored name is safe to load (registry or openspiel:), else None."""
    info = store.run_info()
    try:
        return load_stored_game(info["game"]).spec if info is not None else None
    except LeagueError:
        return None


# -- the training configuration, resolved once for `league train` and `league config` --------

def resolve_train_config(store: Store | None, run_dir: str, *, config_path: str | None = None,
                         game: str | None = None, algos: Sequence[str] = (), steps: int | None = None,
                         seed: int | None = None, batch_games: int | None = None, lag: int | None = None,
                         device: str | None = None):
    """(TrainConfig, loaded game): a run's saved configuration when it has one (only --steps and
    --device may change then), else --config or the built-in default with the options applied."""
    from league.store.trust import load_user_game
    from league.train.checkpoints import checkpoint_config

    saved = checkpoint_config(store) if store is not None else None
    if saved is not None:  # resume, with the configuration the run was created with
        if config_path or algos or seed is not None or batch_games is not None or lag is not None:
            raise ConfigError(f"{run_dir} is already a training run; only --steps and --device may change when "
                              f"resuming (start a new run with another --run)")
        config = TrainConfig.from_mapping(parse_toml(saved)).with_overrides(steps=steps, device=device)
        if game is not None and game.strip() != config.game.strip():
            raise ConfigError(f"{run_dir} trains {config.game}, not {game}; start a new run with another --run")
        return config, load_stored_game(config.game, given=game)
    base = load_config(config_path) if config_path else TrainConfig.from_mapping(DEFAULT_TRAIN)
    config = base.with_overrides(game=game, steps=steps, seed=seed, batch_games=batch_games, lag=lag, device=device,
                                 algos=list(algos))
    loaded = load_user_game(config.game)
    if not config_path and game:
        # the built-in evaluation bots, kept to those that can play the chosen game
        mapping = {**as_mapping(config), "evaluation": {**as_mapping(config)["evaluation"], "opponents": bots_for(loaded.spec)}}
        if not algos and loaded.spec.name != DEFAULT_TRAIN["game"]:
            mapping["learners"] = OTHER_GAME_LEARNERS
        config = TrainConfig.from_mapping(mapping)
    return config, loaded


def check_device(device: str) -> None:
    """Refuse a CUDA device that torch cannot see, in one sentence, before any run is created."""
    if not device.startswith("cuda"):
        return
    import torch

    if not torch.cuda.is_available():
        raise RunError(f"--device {device} needs a GPU that torch can use, and torch sees none here "
                       f"(torch {torch.__version__}); use --device auto or --device cpu.")


def default_workers() -> int:
    """Actor processes when `league train` is given no --backend: every core but one (the learners')."""
    return max(1, (os.cpu_count() or 1) - 1)
