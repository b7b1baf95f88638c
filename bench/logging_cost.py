"""What watching a run costs: the share of a training round spent in TensorBoard logging and log lines.

Trains one small league (tic-tac-toe, IQL and MAPPO) with `league train`'s own loop and times,
in the same process, every call of the TensorBoard writer (league.app.tensorboard.TrainLogger)
and of the plain progress lines (league.app.display.TrainDisplay, here forced to write a line
every round, its worst case) against the wall time of the rounds. Then the same seeded league
trains again without either, for an end-to-end A/B (which includes the writer's background
thread, and the noise of a shared machine). The target is < 3% of a round.

    python bench/logging_cost.py [--steps 30000] [--game tic_tac_toe]
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import games  # noqa: E402
from league.app.display import TrainDisplay  # noqa: E402
from league.app.tensorboard import open_logger  # noqa: E402
from league.store.database import Store  # noqa: E402
from league.threads import limit_threads  # noqa: E402
from league.train.config import TrainConfig  # noqa: E402
from league.train.loop import Event, Trainer  # noqa: E402

limit_threads()


class WiredTrainer(Trainer):
    """The trainer with its round's learner metrics in the round event, as the logger reads them
    (the wiring asked of league/train/loop.py: status() carries `metrics` and `games`)."""

    round_metrics: dict = {}

    def record(self, played) -> None:
        super().record(played)
        self.round_metrics = {name: dict(values) for name, values in played.metrics.items()}

    def status(self) -> dict:
        return {**super().status(), "metrics": self.round_metrics, "games": self.state.games}


class Timed:
    """An on_event consumer that adds the seconds spent in it to `seconds`."""

    def __init__(self, consumer) -> None:
        self.consumer = consumer
        self.seconds = 0.0
        self.calls = 0

    def __call__(self, event: Event) -> None:
        start = time.perf_counter()
        self.consumer(event)
        self.seconds += time.perf_counter() - start
        self.calls += 1


def train(config: TrainConfig, folder: str, log: bool) -> dict:
    store = Store.open(folder, create=True)
    store.init_run("bench", config.game, {"train": config.to_toml(), "ratings": config.ratings})
    logger = open_logger(store, config) if log else None
    display = TrainDisplay(store, target_steps=config.steps, interval=0.0, live=False, out=io.StringIO())
    timed_logger = Timed(logger if logger is not None else (lambda event: None))
    timed_display = Timed(display if log else (lambda event: None))
    scalars = {"n": 0}
    if logger is not None:  # count what reaches the event files
        for sink in logger.sinks:
            write = sink.scalars

            def counting(run, values, step, write=write):
                scalars["n"] += len(values)
                write(run, values, step)
            sink.scalars = counting  # type: ignore[method-assign]

    def on_event(event: Event) -> None:
        timed_logger(event)
        timed_display(event)

    trainer = WiredTrainer(store, games.load(config.game), config, on_event=on_event)
    trainer.register_players()
    wall = 0.0
    with display:
        while not trainer.done():
            start = time.perf_counter()
            trainer.iteration()
            wall += time.perf_counter() - start
    closing = time.perf_counter()
    if logger is not None:
        logger.close()  # flushes the event files
    wall += time.perf_counter() - closing
    timed_logger.seconds += time.perf_counter() - closing
    rounds = trainer.state.round
    trainer.close()
    store.close()
    return {"wall": wall, "rounds": rounds, "steps": sum(trainer.state.steps.values()), "logger": timed_logger.seconds,
            "display": timed_display.seconds, "scalars": scalars["n"], "games": trainer.state.games}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=30_000, help="env steps per learner")
    parser.add_argument("--game", default="tic_tac_toe")
    args = parser.parse_args()
    config = TrainConfig.from_mapping({
        "game": args.game, "steps": args.steps, "seed": 7, "round_games": 128, "checkpoint_every": 10**9,
        "learners": [{"algo": "iql"}, {"algo": "mappo"}],
        "snapshots": {"min_steps": 5_000, "max_steps": 10_000, "eval_games": 20},
        "evaluation": {"every": 5_000, "opponents": ["random"], "games": 20}})
    with tempfile.TemporaryDirectory() as tmp:
        logged = train(config, f"{tmp}/logged", log=True)
        plain = train(config, f"{tmp}/plain", log=False)
        files = sum(f.stat().st_size for f in Path(f"{tmp}/logged/tensorboard").rglob("*") if f.is_file())
    per_round = logged["wall"] / logged["rounds"]
    print(f"logging cost: {args.game}, IQL + MAPPO, {logged['rounds']} rounds of 128 games, "
          f"{logged['steps']:,} learner steps")
    print(f"  training with logging   {logged['wall']:7.1f} s   {per_round * 1e3:7.1f} ms per round")
    print(f"  TensorBoard writer      {logged['logger']:7.3f} s   {logged['logger'] / logged['rounds'] * 1e3:7.2f} ms "
          f"per round   {100 * logged['logger'] / logged['wall']:5.2f}% of a round   "
          f"({logged['scalars'] / logged['rounds']:.0f} scalars per round, {files / 1024:.0f} KiB of event files)")
    print(f"  progress lines          {logged['display']:7.3f} s   "
          f"{logged['display'] / logged['rounds'] * 1e3:7.2f} ms per round   "
          f"{100 * logged['display'] / logged['wall']:5.2f}% of a round   (a line every round: the worst case)")
    share = (logged["logger"] + logged["display"]) / logged["wall"]
    print(f"  both                                                  {100 * share:5.2f}% of a round   "
          f"(target < 3%: {'met' if share < 0.03 else 'NOT met'})")
    print(f"  A/B, the same seeded league without logging: {plain['wall']:.1f} s, with: {logged['wall']:.1f} s, "
          f"ratio {logged['wall'] / plain['wall']:.3f} (rounds {plain['rounds']} vs {logged['rounds']}; "
          "a shared machine's noise included)")


if __name__ == "__main__":
    main()
