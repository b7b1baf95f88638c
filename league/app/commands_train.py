"""`league train` and `league config`: a training run, and the configuration it would use."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import click

from league.app.display import TrainDisplay, final_screen, print_leaderboard
from league.app.mixture import refresh_mixture
from league.app.options import GAME_COPIES, SEED, STEPS, Seconds, backend_options, command_line, run_option
from league.app.setup import (
    check_device,
    default_workers,
    resolve_train_config,
    run_name,
    train_until_done_or_interrupted,
    validate_training,
)
from league.app.show_config import config_json, format_config
from league.app.tensorboard import LoggingError, open_logger
from league.play.backends import make_backend
from league.play.mixture import tabular_reason
from league.store.database import Store, run_exists
from league.store.lock import RunLock
from league.train.loop import Trainer


def config_options(command):
    """--config, --game, --algo, --steps: what both `train` and `config` resolve."""
    for option in reversed([
        click.option("--config", "config_path", default=None, type=click.Path(dir_okay=False),
                     help="A TOML run configuration (see runs/examples/)."),
        click.option("--game", default=None, help="Game to train on (overrides the configuration)."),
        click.option("--algo", "algos", multiple=True, metavar="ALGO[:ROLE]",
                     help="A learner's algorithm, optionally with its role; repeat for several learners in one league."),
        click.option("--steps", type=STEPS, default=None,
                     help="Env steps each learner trains for (a total: resuming continues to it)."),
    ]):
        command = option(command)
    return command


@click.command("train")
@config_options
@click.option("--seed", type=SEED, default=None, help="Seed of the run.")
@click.option("--batch-games", type=GAME_COPIES, default=None, help="Game copies stepped in lockstep.")
@click.option("--lag", type=click.IntRange(0, 16), default=None,
              help="Rounds the actors play ahead of the learners (TOML key lag, default 1); 0 = serial in this process.")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default=None,
              help="Where the learners' networks live (TOML key device, default auto: a GPU if torch sees one).")
@click.option("--log-every", type=Seconds(), default=30.0, show_default=True, metavar="SECONDS",
              help="When output is not a terminal: one progress line every SECONDS.")
@click.option("--tensorboard/--no-tensorboard", default=True, show_default=True,
              help="Write TensorBoard event files under runs/<name>/tensorboard/.")
@click.option("--wandb", is_flag=True, help="Also log to Weights & Biases (offline without an account).")
@backend_options(default=None, help_backend="Where the actors play [default: process, one actor per core but one; "
                                            "local: everything in this process].")
@run_option
def train_command(config_path: str | None, game: str | None, algos: tuple[str, ...], steps: int | None,
                  seed: int | None, batch_games: int | None, lag: int | None, device: str | None, log_every: float,
                  tensorboard: bool, wandb: bool, backend: str | None, address: str | None, workers: int | None,
                  working_dir: str | None, run_dir: str) -> None:
    """Train a self-play league: learners, their snapshots, PFSP matchmaking, TrueSkill ratings.

    With no arguments, trains a small connect-four league (MAPPO and IQL) and prints the
    leaderboard. Actors play on every core but one while the learners update here, --lag
    rounds behind (--backend local --lag 0: the serial loop in one process). Run it again on
    the same --run to resume from the last checkpoint; Ctrl-C finishes the current round,
    checkpoints and exits.

    \b
    Example:
        league train
        league train --game tic_tac_toe --algo iql --steps 200000 --run runs/ttt-iql
        league train --game simple_tag --algo qmix:predator --algo mappo:prey --run runs/tag
        league train --config runs/examples/connect_four.toml --run runs/c4 --device cuda
        league train --backend local --lag 0 --run runs/serial
        nohup league train --log-every 60 > train.log &
    """
    lock = RunLock(run_dir, command_line())
    existing = run_exists(run_dir)
    if existing:
        lock.acquire()  # before the checkpoint is read: a second trainer is refused here
    store = Store.open(run_dir) if existing else None
    executor = None
    try:
        config, loaded = resolve_train_config(store, run_dir, config_path=config_path, game=game, algos=algos,
                                              steps=steps, seed=seed, batch_games=batch_games, lag=lag, device=device)
        check_device(config.device)
        if wandb and importlib.util.find_spec("wandb") is None:
            raise LoggingError("--wandb needs the wandb package: pip install wandb (it logs offline without an account).")
        if store is not None and store.run_info() is not None:
            store.check_game(loaded.ref)
        if store is None:
            # build the league once on a scratch basis first, so a bad configuration leaves no run behind
            validate_training(config, loaded)
        if backend is None:  # actors on every core but one, the learners here
            executor = make_backend("process", workers=workers or default_workers())
        else:
            executor = make_backend(backend, workers=workers, address=address, working_dir=working_dir)
        if store is None:
            lock.acquire()
            store = Store.create(run_dir, name=run_name(run_dir), game=loaded.ref,
                                 config={"train": config.to_toml(), "ratings": config.ratings})
        elif store.run_info() is None:
            store.init_run(run_name(run_dir), loaded.ref, {"train": config.to_toml(), "ratings": config.ratings})
        store.write_file("config.toml", config.to_toml().encode())
        listeners = []

        def on_event(event) -> None:
            for listener in listeners:
                listener(event)

        with TrainDisplay(store, target_steps=config.steps, interval=log_every) as display:
            listeners.append(display)
            trainer = Trainer(store, loaded, config, on_event=on_event, backend=executor)
            try:
                resumed = trainer.resume()
                if resumed:
                    click.echo(f"resuming {run_dir} at round {trainer.state.round}", err=True)
                logger = open_logger(store, config, tensorboard=tensorboard, wandb=wandb,
                                     resumed_steps=trainer.steps if resumed else None)
                listeners.append(logger)
                try:
                    train_until_done_or_interrupted(trainer)
                finally:
                    logger.close()
            finally:
                trainer.close()
        click.echo(f"trained {', '.join(f'{n} {steps:,} steps' for n, steps in trainer.steps.items())}; "
                   f"{len(trainer.snapshots)} snapshots in the pool")
        # in a poker league the champion is the pool's Nash mixture: record it before reporting it
        # (training just wrote its checkpoint, so the pool it is drawn from exists)
        mixture = refresh_mixture(store, loaded.spec) if tabular_reason(loaded.spec) is None else None
        print_leaderboard(store)
        click.echo(final_screen(store, run_dir, tensorboard=tensorboard or (Path(run_dir) / "tensorboard").exists(),
                                mixture=mixture))
    finally:
        if executor is not None:
            executor.close()
        if store is not None:
            store.close()
        lock.release()


@click.command("config")
@config_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@run_option
def config_command(config_path: str | None, game: str | None, algos: tuple[str, ...], steps: int | None,
                   as_json: bool, run_dir: str) -> None:
    """Print the configuration `league train` would run with: every setting, its default and its doc.

    Resolved exactly as train resolves it: an existing run's saved configuration, else
    --config or the built-in default, with --game, --algo and --steps applied. Changed
    settings are marked with *. Nothing is written.

    \b
    Example:
        league config
        league config --game tic_tac_toe --algo iql
        league config --config runs/examples/kuhn_poker.toml --json
        league config --run runs/c4
    """
    store = Store.open(run_dir) if run_exists(run_dir) else None
    try:
        config, _ = resolve_train_config(store, run_dir, config_path=config_path, game=game, algos=algos, steps=steps)
    finally:
        if store is not None:
            store.close()
    click.echo(config_json(config) if as_json else format_config(config))
