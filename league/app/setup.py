"""Setting up runs for the command line: defaults, entrant lists, validation before anything is
written, and training with a clean Ctrl-C. No command-line parsing here."""

from __future__ import annotations

import math
import signal
import sys
from typing import Sequence

import numpy as np

from agents.base import PolicyError
from games.errors import LeagueError
from league.app.display import cell, print_table
from league.rate.ratings import Rater
from league.rate.standings import standings
from league.results import PayoffMatrix
from league.store.database import Store, StoreError
from league.store.trust import load_stored_game
from league.tournament.formats import TournamentError
from league.train.config import TrainConfig, parse_toml
from league.rate.ratings import rater_from
from league.train.loop import Trainer

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


def print_rows(columns: Sequence[str], rows: Sequence[Sequence[object]], *, right: Sequence[str] = ()) -> None:
    """display.print_table's layout; when piped, written directly (rich takes seconds over a few hundred rows)."""
    if sys.stdout.isatty():
        print_table(None, columns, rows, right=right)
        return
    from rich.cells import cell_len

    cells = [[str(c) for c in columns]] + [[str(x) for x in row] for row in rows]
    widths = [max(cell_len(line[k]) for line in cells) for k in range(len(columns))]

    def pad(text: str, k: int) -> str:
        gap = " " * (widths[k] - cell_len(text))
        return gap + text if columns[k] in right else text + gap

    print("\n".join("  ".join(pad(text, k) for k, text in enumerate(line)).rstrip() for line in cells))


def print_standings(rows) -> None:
    """The leaderboard table of standings already computed (display.print_leaderboard reads them itself)."""
    columns = ["rank", "name", "kind", "algorithm", "mu", "sigma", "score", "games", "W", "D", "L"]
    extra = [(title, attr) for title, attr in (("forfeits", "forfeits"), ("exploitability", "exploitability"),
                                               ("return/seat", "per_capita"))
             if any(getattr(s, attr) not in (None, 0) for s in rows)]
    print_rows(columns + [title for title, _ in extra], [
        (s.rank, s.name, s.kind, s.algorithm or "-", f"{s.mu:.2f}", f"{s.sigma:.2f}", f"{s.score:.2f}", s.games,
         s.wins, s.draws, s.losses, *(cell(getattr(s, a)) for _, a in extra))
        for s in rows
    ], right=("rank", "mu", "sigma", "score", "games", "W", "D", "L", "forfeits", "exploitability", "return/seat"))
