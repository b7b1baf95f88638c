"""Faults on a cluster: Ray's own multi-node test cluster (`ray.cluster_utils.Cluster`, every node on
this machine) loses a whole node in the middle of a tournament and in the middle of a training run.
Nothing is lost or stored twice, the run finishes, and what it stored equals the local backend's."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ray = pytest.importorskip("ray")
from ray.cluster_utils import Cluster

import games
from league.play.backends import LocalBackend, RayBackend, make_backend
from league.play.entrants import resolve
from league.rate.ratings import Rater
from league.store.database import Store
from league.tournament.config import TournamentConfig
from league.tournament.formats import play_tournament
from league.train.config import TrainConfig
from league.train.loop import Trainer

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="finds a node's Ray workers through /proc")

MB = 2**20
NODE = {"num_cpus": 1, "object_store_memory": 80 * MB}  # one worker per node: the machine has few cores
# the head plays nothing (no CPUs for tasks), so only worker nodes are lost; a killed node is
# declared dead after 8 missed health checks 1 s apart instead of Ray's default 30 s (a shorter
# threshold declared the surviving node dead too on a loaded 2-core machine)
HEAD = {"num_cpus": 0, "object_store_memory": 80 * MB, "include_dashboard": False,
        "_system_config": {"health_check_period_ms": 1000, "health_check_failure_threshold": 8}}

TOURNAMENT = TournamentConfig(game="connect_four", entrants=("mcts:80", "mcts:50"), games=24, seed=9)
TRAINING = TrainConfig.from_mapping({
    "game": "tic_tac_toe", "steps": 300, "seed": 4, "batch_games": 16, "round_games": 32, "checkpoint_every": 100000,
    "learners": [{"algo": "iql", "config": {"learning_starts": 100}}, {"algo": "mappo"}],
    "snapshots": {"min_steps": 150, "max_steps": 150, "eval_games": 4},
    "evaluation": {"every": 100000, "opponents": ["random"], "games": 4},
})


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    cluster = Cluster(initialize_head=True, head_node_args=HEAD)
    try:
        for _ in range(2):
            cluster.add_node(**NODE)
        cluster.wait_for_nodes()
        yield cluster
    finally:
        ray.shutdown()
        cluster.shutdown()


@pytest.fixture
def two_nodes(cluster: Cluster) -> Cluster:
    """The cluster with two worker nodes again (a node lost by an earlier test is replaced), connected."""
    while len(cluster.worker_nodes) < 2:
        cluster.add_node(**NODE)  # here: Ray starts nodes from the main thread only
    if not ray.is_initialized() or ray.get_runtime_context().gcs_address != cluster.address:
        ray.shutdown()  # a Ray instance left by another test module would be used instead of the cluster
        ray.init(address=cluster.address, log_to_driver=False)
    return cluster


def _playing(node, task: bytes) -> bool:
    """Whether one of `node`'s workers (children of its raylet) is running `task` now."""
    raylet = node.all_processes["raylet"][0].process.pid
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                parent = int(stat.read().rsplit(")", 1)[1].split()[1])
            if parent == raylet:
                with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                    if cmdline.read().startswith(b"ray::" + task):
                        return True
        except (OSError, ValueError, IndexError):
            continue
    return False


@contextmanager
def node_lost_while_playing(cluster: Cluster, task: bytes) -> Iterator[list[str]]:
    """While the body runs: as soon as a worker node is playing `task`, kill that node as a crash
    would (no graceful drain). Yields the removed nodes' ids."""
    removed: list[str] = []
    done = threading.Event()

    def saboteur() -> None:
        while not done.is_set() and not removed:
            for node in list(cluster.worker_nodes):
                if _playing(node, task):
                    time.sleep(0.2)  # well inside its chunk
                    cluster.remove_node(node, allow_graceful=False)
                    removed.append(node.node_id)
                    return
            time.sleep(0.02)

    thread = threading.Thread(target=saboteur)
    thread.start()
    try:
        yield removed
    finally:
        done.set()
        thread.join()


def tournament(run: Path, backend=None) -> None:
    game = games.load(TOURNAMENT.game)
    with Store.open(run, create=True) as store:
        play_tournament(store, game, resolve(TOURNAMENT.entrants, game.spec), TOURNAMENT, Rater(), batch=8,
                        backend=backend)


def stored(run: Path) -> tuple[list[tuple], dict]:
    """Every stored game (in game order, so one stored twice shows) and the ratings."""
    with Store.open(run) as store:
        matches = sorted((m.origin, m.game_index, m.sides, m.returns, m.ranks, m.length, m.seed) for m in store.matches())
        ratings = {k: (round(mu, 9), round(sigma, 9), n) for k, (mu, sigma, n) in store.ratings().items()}
    return matches, ratings


def test_a_node_lost_mid_tournament_loses_and_duplicates_nothing(two_nodes: Cluster, tmp_path: Path) -> None:
    # Ray's own retries off: the driver itself must play the lost chunk again
    backend = RayBackend(workers=2, address=two_nodes.address, retries=0)
    with node_lost_while_playing(two_nodes, b"play_chunk") as removed:
        tournament(tmp_path / "ray", backend)
    assert removed, "no node was caught playing a chunk"
    assert backend.resubmits >= 1
    matches, ratings = stored(tmp_path / "ray")
    assert [m[1] for m in matches] == list(range(TOURNAMENT.games))  # every game once
    tournament(tmp_path / "local")
    assert (matches, ratings) == stored(tmp_path / "local")


def train(run: Path, backend) -> dict[str, int]:
    with Store.open(run, create=True) as store:
        trainer = Trainer(store, games.load(TRAINING.game), TRAINING, backend=backend)
        trainer.run()
        training = Counter(m.game_index for m in store.matches(origin="training"))
        assert sum(training.values()) == trainer.state.round * TRAINING.round_games  # none lost
        assert set(training.values()) == {1}  # none stored twice
        return dict(trainer.steps)


def test_a_node_lost_mid_training_loses_and_duplicates_nothing(two_nodes: Cluster, tmp_path: Path) -> None:
    backend = make_backend("ray", address=two_nodes.address, workers=2)  # Ray retries the lost chunk
    with node_lost_while_playing(two_nodes, b"rollout_chunk") as removed:
        steps = train(tmp_path / "ray", backend)
    assert removed, "no node was caught playing a rollout"
    assert all(n >= TRAINING.steps for n in steps.values())
    # the local backend sharing each round into as many chunks plays and learns the same
    assert train(tmp_path / "local", LocalBackend(workers=backend.workers)) == steps
    assert stored(tmp_path / "ray") == stored(tmp_path / "local")


def test_a_cluster_without_cpus_is_one_sentence_not_a_hang(two_nodes: Cluster, tmp_path: Path) -> None:
    from league.play.backends import BackendError

    backend = RayBackend(workers=2, address=two_nodes.address, retries=0)
    backend.POLL_S = 0.5
    for node in list(two_nodes.worker_nodes):
        two_nodes.remove_node(node, allow_graceful=False)
    with pytest.raises(BackendError, match="no CPU left to play on"):
        tournament(tmp_path / "ray", backend)
