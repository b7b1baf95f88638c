"""Backends: the same tournament on a process pool and on Ray equals the local one, game by game;
a killed Ray worker loses and duplicates nothing; clear errors for a missing Ray or cluster."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from pathlib import Path

import pytest

import games
from league.play.backends import BackendError, make_backend
from league.play.entrants import resolve
from league.rate.ratings import Rater
from league.store.database import Store
from league.tournament.config import TournamentConfig
from league.tournament.formats import play_tournament

CONFIG = TournamentConfig(game="connect_four", entrants=("random", "mcts:10", "mcts:40"), games=12, seed=5)


def games_of(run: Path) -> dict[int, tuple]:
    with Store.open(run) as store:
        return {m.game_index: (m.sides, m.returns, m.ranks, m.length, m.seed) for m in store.matches()}


def tournament(run: Path, backend=None, config: TournamentConfig = CONFIG) -> None:
    game = games.load(config.game)
    with Store.open(run, create=True) as store:
        play_tournament(store, game, resolve(config.entrants, game.spec), config, Rater(), batch=8, backend=backend)


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> dict[int, tuple]:
    run = tmp_path_factory.mktemp("local") / "run"
    tournament(run)
    return games_of(run)


@pytest.fixture(scope="module")
def ray_backend():
    ray = pytest.importorskip("ray")
    backend = make_backend("ray", workers=2)
    yield backend
    ray.shutdown()


def test_process_pool_plays_the_same_games(local, tmp_path: Path) -> None:
    backend = make_backend("process", workers=2)
    try:
        tournament(tmp_path / "run", backend)
    finally:
        backend.close()
    assert games_of(tmp_path / "run") == local


def test_ray_plays_the_same_games(local, ray_backend, tmp_path: Path) -> None:
    tournament(tmp_path / "run", ray_backend)
    assert games_of(tmp_path / "run") == local


def _play_chunk_pids() -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    if b"ray::play_chunk" in f.read():
                        pids.append(int(entry))
            except OSError:
                continue
    return pids


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="finds Ray workers through /proc")
def test_a_killed_ray_worker_loses_and_duplicates_nothing(ray_backend, tmp_path: Path) -> None:
    config = TournamentConfig(game="connect_four", entrants=("mcts:300", "mcts:200"), games=32, seed=9)
    killed = []

    def assassin() -> None:
        deadline = time.time() + 60
        while time.time() < deadline and not killed:
            pids = _play_chunk_pids()
            if pids:
                time.sleep(0.3)  # let it get into its chunk
                os.kill(pids[0], signal.SIGKILL)
                killed.append(pids[0])
            time.sleep(0.05)

    thread = threading.Thread(target=assassin)
    thread.start()
    tournament(tmp_path / "run", ray_backend, config)
    thread.join()
    assert killed, "no Ray worker was found to kill"
    played = games_of(tmp_path / "run")
    assert sorted(played) == list(range(32))
    reference = tmp_path / "reference"
    tournament(reference, None, config)
    assert played == games_of(reference)


def test_missing_ray_is_one_sentence(monkeypatch) -> None:
    import builtins

    real = builtins.__import__

    def no_ray(name, *args, **kwargs):
        if name == "ray":
            raise ImportError("No module named 'ray'")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_ray)
    with pytest.raises(BackendError, match=r"the ray backend needs Ray: pip install -e '\.\[ray\]'"):
        make_backend("ray")


def test_unreachable_cluster_is_one_sentence() -> None:
    pytest.importorskip("ray")
    with pytest.raises(BackendError, match="cannot reach the Ray cluster at 127.0.0.1:9: "):
        make_backend("ray", address="127.0.0.1:9")
    with pytest.raises(BackendError, match="unknown backend 'spark'"):
        make_backend("spark")


def _pids(name: bytes) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    if name in f.read():
                        pids.append(int(entry))
            except OSError:
                continue
    return pids


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="finds Ray workers through /proc")
def test_training_on_ray_survives_a_killed_rollout_worker(ray_backend, tmp_path: Path) -> None:
    from collections import Counter

    from league.train.config import TrainConfig
    from league.train.loop import Trainer

    config = TrainConfig.from_mapping({
        "game": "tic_tac_toe", "steps": 500, "batch_games": 16, "round_games": 32, "checkpoint_every": 100000,
        "learners": [{"algo": "iql", "config": {"learning_starts": 100}}, {"algo": "mappo"}],
        "snapshots": {"min_steps": 200, "max_steps": 200, "eval_games": 4},
        "evaluation": {"every": 100000, "opponents": ["random"], "games": 4},
    })
    killed = []

    def assassin() -> None:
        deadline = time.time() + 90
        while time.time() < deadline and not killed:
            pids = _pids(b"ray::rollout_chunk")
            if pids:
                os.kill(pids[0], signal.SIGKILL)
                killed.append(pids[0])
            time.sleep(0.02)

    thread = threading.Thread(target=assassin)
    thread.start()
    with Store.open(tmp_path / "run", create=True) as store:
        league = Trainer(store, games.load("tic_tac_toe"), config, backend=ray_backend)
        league.run()
        thread.join()
        training = store.matches(origin="training")
        indices = Counter(m.game_index for m in training)
        assert killed, "no rollout worker was found to kill"
        assert len(training) == league.state.round * 32 and max(indices.values()) == 1  # nothing lost, nothing twice
        assert all(league.steps[n] >= 500 for n in league.learners)
        assert any(p.kind == "snapshot" for p in store.players())
