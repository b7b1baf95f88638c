"""Watching a run: TensorBoard event files, plain progress lines in a log, the closing screen, `league config`."""

from __future__ import annotations

import importlib.util
import io
import json
from pathlib import Path

import pytest

from league.app.display import TrainDisplay, final_screen
from league.app.show_config import config_json, config_settings, field_docs, format_config
from league.app.tensorboard import LoggingError, hparams_of, open_logger
from league.store.database import NewMatch, Store
from league.train.config import Evaluation, SnapshotRule, TrainConfig
from league.train.loop import Event

CONFIG = TrainConfig.from_mapping({"game": "tic_tac_toe", "steps": 4000, "learners": [
    {"algo": "iql", "config": {"lr": 0.001}}, {"algo": "mappo"}], "evaluation": {"every": 1000, "games": 20}})


def round_event(k: int, steps: int, metrics: dict | None = None) -> Event:
    data = {"round": k, "steps": {"iql": steps, "mappo": steps - 100}, "steps_per_second": 1000.0, "pool": k // 2,
            "evaluation": {"iql": {"random": 0.8}} if k >= 2 else {"iql": {}}, "games": 128 * k}
    if metrics is not None:
        data["metrics"] = metrics
    return Event("round", f"round {k}", data)


@pytest.fixture()
def store(tmp_path: Path):
    with Store.open(tmp_path / "run", create=True) as store:
        store.init_run("run", "tic_tac_toe", {})
        store.add_player("iql", "learner", algorithm="iql", role="player")
        store.add_player("mappo", "learner", algorithm="mappo", role="player")
        store.add_player("random", "baseline")
        store.record_match(NewMatch("training", "tic_tac_toe", 0, ("iql", "random"), (1.0, -1.0), (0, 1), 7),
                           {"iql": (27.0, 6.0), "random": (23.0, 6.0)})
        yield store


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_log_lines_every_interval_with_every_fact(store: Store) -> None:
    clock, out = Clock(), io.StringIO()
    with TrainDisplay(store, target_steps=6000, interval=30.0, live=False, out=out, clock=clock) as display:
        for k in range(1, 6):  # a round every 10 s
            clock.now += 10.0
            if k == 2:
                display(Event("evaluation", "iql at step 2,000: random 0.800",
                              {"learner": "iql", "step": 2000, "scores": {"random": 0.8}}))
            display(round_event(k, 1000 * k))
    assert out.getvalue().splitlines() == [
        # the first round at once (ETA from its steps/s), then one line per 30 s, then the last round at the end
        "round 1 | steps 900/6,000 (15%) | elapsed 0:10 | ETA 0:10 | 1,000 steps/s | pool 0 "
        "| top: iql 27.0+-6.0, random 23.0+-6.0",
        "iql at step 2,000: random 0.800",
        "round 4 | steps 3,900/6,000 (65%) | elapsed 0:40 | ETA 0:21 | 1,000 steps/s | pool 2 "
        "| eval iql@2,000: random 0.80 | top: iql 27.0+-6.0, random 23.0+-6.0",
        "round 5 | steps 4,900/6,000 (82%) | elapsed 0:50 | ETA 0:11 | 1,000 steps/s | pool 2 "
        "| eval iql@2,000: random 0.80 | top: iql 27.0+-6.0, random 23.0+-6.0",
    ]
    assert sum("steps/s" in line for line in out.getvalue().splitlines()) == 3


def test_log_without_a_target_has_no_eta(store: Store) -> None:
    out = io.StringIO()
    with TrainDisplay(store, live=False, out=out, clock=Clock()) as display:
        display(round_event(1, 500))
    assert out.getvalue().startswith("round 1 | steps 400 | elapsed 0:00 | ETA - | 1,000 steps/s | pool 0")


def test_final_screen_names_the_run_the_champion_and_the_next_commands(store: Store) -> None:
    store.add_player("iql-001", "snapshot", algorithm="iql", parent="iql", step=2048,
                     weights_path="snapshots/iql-001.safetensors")
    store.set_rating("iql-001", 26.5, 2.0)
    assert final_screen(store, "runs/my run").splitlines() == [
        "Run directory: runs/my run (league.db, config.toml, snapshots/, tensorboard/)",
        "Champion: iql-001 (snapshot of iql; step 2,048; mu 26.50, sigma 2.00)",
        "Next:",
        "  league report --run 'runs/my run' --out 'runs/my run/report.html'   # an HTML report: ratings, payoff, curves",
        "  league export --run 'runs/my run' --champion --out champion         # the champion as ONNX, runs without league",
        "  league play --run 'runs/my run' --player iql-001                    # play against it yourself",
        "  league tournament --run 'runs/my run' --top 8                       # a round-robin of the 8 best snapshots",
        "  tensorboard --logdir 'runs/my run/tensorboard'                      # training curves, live while it trains",
    ]


def scalars(directory: Path) -> dict[str, list[tuple[int, float]]]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(directory))
    events.Reload()
    return {tag: [(e.step, round(e.value, 6)) for e in events.Scalars(tag)] for tag in events.Tags()["scalars"]}


def test_tensorboard_records_metrics_evaluations_ratings_and_hparams(store: Store) -> None:
    with open_logger(store, CONFIG) as logger:
        logger(round_event(1, 1000, {"iql": {"loss": 0.5, "epsilon": 0.9}, "mappo": {"entropy": 1.1}}))
        logger(Event("evaluation", "", {"learner": "iql", "step": 1000,
                                        "scores": {"random": 0.75, "exploitability": 0.4}}))
        logger(Event("snapshot", "", {"snapshot": "iql-001", "learner": "iql", "step": 1000, "exploitability": 0.3}))
        logger(round_event(2, 2000, {"iql": {"loss": 0.25}, "mappo": {}}))
    root = store.run_dir / "tensorboard"
    assert sorted(p.name for p in root.iterdir()) == ["iql", "league", "mappo"]
    iql = scalars(root / "iql")
    assert iql == {"train/loss": [(1000, 0.5), (2000, 0.25)], "train/epsilon": [(1000, 0.9)],
                   "eval/random": [(1000, 0.75)], "exploitability": [(1000, 0.4)],
                   "exploitability/snapshot": [(1000, 0.3)]}
    assert scalars(root / "mappo") == {"train/entropy": [(900, 1.1)]}
    league = scalars(root / "league")
    assert league["league/steps_per_second"] == [(1000, 1000.0), (2000, 1000.0)]
    assert league["league/pool_size"] == [(1000, 0.0), (2000, 1.0)]
    assert league["rating/mu/iql"] == [(1000, 27.0), (2000, 27.0)]
    assert league["rating/conservative/random"] == [(1000, 5.0), (2000, 5.0)]
    assert league["league/champion_conservative"][-1] == (2000, 9.0)
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(root / "league"))
    events.Reload()
    plugins = events.PluginTagToContent("hparams")
    assert "_hparams_/experiment" in plugins and "_hparams_/session_start_info" in plugins
    assert b"iql.lr" in plugins["_hparams_/session_start_info"]
    assert "config/text_summary" in events.Tags()["tensors"]


def test_hparams_flatten_every_section() -> None:
    values = hparams_of(CONFIG)
    assert values["steps"] == 4000 and values["evaluation.games"] == 20 and values["evaluation.opponents"] == "random"
    assert values["iql.lr"] == 0.001 and values["mappo.algo"] == "mappo" and values["snapshots.win_rate"] == 0.7


@pytest.mark.skipif(importlib.util.find_spec("wandb") is not None, reason="wandb is installed")
def test_wandb_refused_in_one_sentence_without_the_package(store: Store) -> None:
    with pytest.raises(LoggingError) as error:
        open_logger(store, CONFIG, wandb=True)
    assert str(error.value) == "--wandb needs the wandb package: pip install wandb (it logs offline without an account)."
    assert not (store.run_dir / "tensorboard").exists()


def test_config_lists_every_setting_with_its_default_and_doc() -> None:
    settings = {s.key: s for s in config_settings(CONFIG)}
    for section, cls in (("snapshots", SnapshotRule), ("evaluation", Evaluation)):
        for name, doc in field_docs(cls).items():
            assert settings[f"{section}.{name}"].doc == doc and doc
    assert (settings["steps"].value, settings["steps"].default, settings["steps"].changed) == ("4000", "100000", True)
    assert settings["evaluation.every"].value == "1000" and settings["evaluation.games"].default == "40"
    lr = settings["learners.iql.config.lr"]
    assert (lr.value, lr.default, lr.doc) == ("0.001", "0.0005", "Adam learning rate (EPyMARL `lr: 0.0005`).")
    assert settings["learners.mappo.config.lr"].section == "learners.mappo.config"
    assert settings["ratings.tau"].doc.startswith("Uncertainty added before every game")
    assert settings["matchmaking.nash"].doc.startswith("PSRO")
    text = format_config(CONFIG)
    assert "# [[learners]] iql: hyperparameters" in text and "# [snapshots] when a learner's frozen copy" in text
    line = next(x for x in text.splitlines() if x.split()[:2] == ["*", "steps"])
    assert line.split()[2:4] == ["4000", "100000"] and line.endswith("(a resumed run continues to this total)")
    assert text.endswith(f"{len(settings)} settings, {sum(s.changed for s in settings.values())} changed from "
                         "their defaults (*); set them in a TOML file passed with --config (see runs/examples/).")
    assert [row["key"] for row in json.loads(config_json(CONFIG))] == list(settings)


def test_final_screen_without_tensorboard_names_no_event_files(store: Store) -> None:
    lines = final_screen(store, "runs/quiet", tensorboard=False).splitlines()
    assert lines[0] == "Run directory: runs/quiet (league.db, config.toml, snapshots/)"
    assert not any("tensorboard" in line for line in lines)
