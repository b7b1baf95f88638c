"""The run database: round trips, atomic writes, concurrent writers and refused files."""

from __future__ import annotations

import hashlib
import math
import multiprocessing
import os
import sqlite3
import time
from pathlib import Path
from typing import Iterator

import pytest
from v1_schema import V1_TABLES

from league.store.database import (
    DB_NAME,
    DuplicateMatch,
    Match,
    NewMatch,
    Store,
    StoreError,
    sanitize_name,
)


def new_match(**overrides: object) -> NewMatch:
    fields: dict[str, object] = dict(
        origin="training", game="tic_tac_toe", seed=7, sides=("a", "b"), returns=(1.0, -1.0), ranks=(0, 1), length=9
    )
    fields.update(overrides)
    return NewMatch(**fields)  # type: ignore[arg-type]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "run", create=True) as s:
        yield s


def dump(run_dir: Path) -> list[str]:
    """Every row of every table, as SQL, read by a connection of its own."""
    conn = sqlite3.connect(run_dir / DB_NAME)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def test_reopen_finds_everything(tmp_path: Path) -> None:
    run = tmp_path / "run"
    with Store.open(run, create=True) as s:
        s.init_run("demo", "tic_tac_toe", {"seed": 3, "algos": ["iql"]})
        s.add_player("a", "learner", algorithm="iql", role="first", meta={"lr": 0.001})
        s.add_player("a-100", "snapshot", parent="a", step=100, weights_path="snapshots/a-100.safetensors",
                     weights_sha256="ab" * 32)
        s.add_player("b", "baseline")
        t = s.create_tournament("rr:abc", "round-robin", {"games": 2})
        m1 = s.record_match(new_match(origin="tournament", tournament_id=t, game_index=0), {"a": (27.0, 7.0)})
        m2 = s.record_match(new_match(sides=("a-100+b", "a"), ranks=(0, 0), truncated=True, forfeit="timeout"),
                            {"a": (26.0, 6.5), "b": (24.0, 6.5)})
        s.set_rating("b", 0.0, 1.0)
        s.finish_tournament(t)
        s.add_metrics("a", 10, {"loss": 0.25, "nan": math.nan})
        s.add_metrics("a", 20, {"loss": 0.125})

    assert (run / DB_NAME).is_file()
    with Store.open(run) as s:
        info = s.run_info()
        assert info is not None and info["name"] == "demo" and info["game"] == "tic_tac_toe"
        assert info["config"] == {"seed": 3, "algos": ["iql"]}
        s.check_game("tic_tac_toe")
        with pytest.raises(StoreError, match="holds a league of tic_tac_toe, not connect_four"):
            s.check_game("connect_four")

        assert [p.name for p in s.players()] == ["a", "a-100", "b"]
        assert [p.name for p in s.players("snapshot")] == ["a-100"]
        a, snap = s.player("a"), s.player("a-100")
        assert a is not None and a.algorithm == "iql" and a.role == "first" and a.meta == {"lr": 0.001}
        assert snap is not None and snap.parent == "a" and snap.step == 100 and snap.weights_sha256 == "ab" * 32
        assert s.player("nobody") is None

        matches = s.matches()
        assert [m.id for m in matches] == [m1, m2]
        assert isinstance(matches[1], Match)
        assert matches[1].sides == ("a-100+b", "a") and matches[1].ranks == (0, 0)
        assert matches[1].truncated and matches[1].forfeit == "timeout" and matches[1].tournament_id is None
        assert matches[0].returns == (1.0, -1.0) and matches[0].seed == 7 and matches[0].length == 9
        assert [m.id for m in s.matches(player="b")] == [m1, m2]  # alone, then as a pick-up member
        assert [m.id for m in s.matches(player="a-100")] == [m2]
        assert s.matches(player="a-10") == []  # a prefix of a member is not a member
        assert [m.id for m in s.matches(tournament_id=t)] == [m1]
        assert [m.id for m in s.matches(origin="training")] == [m2]
        assert s.count_matches() == 2 and s.count_matches(t) == 1 and s.done_indices(t) == {0}

        assert s.rating("a") == (26.0, 6.5, 2)
        assert s.rating("b") == (0.0, 1.0, 1)  # set_rating keeps the game count
        assert s.rating("a", system="elo") is None
        assert list(s.ratings()) == ["a", "b"]
        history = s.rating_history("a")
        assert [(h.mu, h.sigma, h.match_id) for h in history] == [(27.0, 7.0, m1), (26.0, 6.5, m2)]
        assert s.rating_history("b")[-1].match_id is None

        tournament = s.tournament("rr:abc")
        assert tournament is not None and tournament["id"] == t and tournament["status"] == "finished"
        assert tournament["config"] == {"games": 2} and tournament["finished"] is not None
        assert s.tournament("other") is None

        metrics = s.metrics(player="a")
        assert [(m.key, m.step) for m in metrics] == [("loss", 10), ("loss", 20), ("nan", 10)]
        assert math.isnan(metrics[-1].value)
        assert [m.value for m in s.metrics(key="loss")] == [0.25, 0.125]
        assert s.rating("a") is not None


def test_wal_and_foreign_keys_are_on(store: Store) -> None:
    with sqlite3.connect(store.path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        meta = dict(conn.execute("SELECT key, value FROM league_meta"))
    assert meta == {"application": "league", "schema_version": "2"}


def test_add_player_rules(store: Store) -> None:
    first = store.add_player("a", "learner", algorithm="iql")
    assert store.add_player("a", "learner", algorithm="mappo") == first  # the stored row wins
    with pytest.raises(StoreError, match="already exists as a learner, not a snapshot"):
        store.add_player("a", "snapshot")
    with pytest.raises(StoreError, match="player kind must be one of"):
        store.add_player("c", "robot")
    with pytest.raises(StoreError, match="without '\\+'"):
        store.add_player("a+b", "team")
    with pytest.raises(StoreError, match="parent 'ghost'"):
        store.add_player("c", "snapshot", parent="ghost")


def test_record_match_is_atomic(store: Store) -> None:
    store.add_player("a", "learner")
    store.add_player("b", "learner")
    store.record_match(new_match(), {"a": (26.0, 8.0), "b": (24.0, 8.0)})
    before = dump(store.run_dir)
    # "a" and "b" are rated before "ghost" fails, so a partial write would show.
    with pytest.raises(StoreError, match="cannot rate 'ghost'"):
        store.record_match(new_match(), {"a": (30.0, 5.0), "b": (20.0, 5.0), "ghost": (25.0, 5.0)})
    assert dump(store.run_dir) == before
    assert store.count_matches() == 1
    assert store.rating("a") == (26.0, 8.0, 1) and len(store.rating_history("a")) == 1


def test_record_match_rolls_back_on_a_crash_midway(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    store.add_player("a", "learner")
    before = dump(store.run_dir)

    def crash(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(Store, "_put_ratings", crash)
    with pytest.raises(KeyboardInterrupt):
        store.record_match(new_match(), {"a": (30.0, 5.0)})
    monkeypatch.undo()
    assert dump(store.run_dir) == before
    store.record_match(new_match(), {"a": (30.0, 5.0)})  # the connection is usable again
    assert store.count_matches() == 1


def test_duplicate_match_changes_nothing(store: Store) -> None:
    store.add_player("a", "learner")
    t = store.create_tournament("k", "gauntlet", {})
    m = new_match(origin="tournament", tournament_id=t, game_index=3)
    store.record_match(m, {"a": (26.0, 8.0)})
    before = dump(store.run_dir)
    with pytest.raises(DuplicateMatch, match="game 3 of tournament 1 is already recorded"):
        store.record_match(m, {"a": (99.0, 1.0)})
    assert dump(store.run_dir) == before
    assert store.rating("a") == (26.0, 8.0, 1)
    assert store.done_indices(t) == {3}


def test_bad_matches_and_tournaments_are_refused(store: Store) -> None:
    with pytest.raises(StoreError, match="one return and one rank per side"):
        store.record_match(new_match(ranks=(0,)))
    with pytest.raises(StoreError, match="origin must be one of"):
        store.record_match(new_match(origin="friendly"))
    with pytest.raises(StoreError, match="no tournament 9"):
        store.record_match(new_match(tournament_id=9, game_index=0))
    with pytest.raises(StoreError, match="finite"):
        store.record_match(new_match(returns=(math.nan, 0.0)))
    store.create_tournament("k", "swiss", {})
    with pytest.raises(StoreError, match="already exists"):
        store.create_tournament("k", "swiss", {})
    with pytest.raises(StoreError, match="no tournament 5"):
        store.finish_tournament(5)
    assert store.count_matches() == 0


def _writer(run_dir: str, worker: int, start: object, n: int) -> None:
    with Store.open(run_dir) as s:
        start.wait()  # type: ignore[attr-defined]  # both processes are ready: race from here
        for i in range(n):
            s.record_match(new_match(seed=worker * 10_000 + i), {"shared": (25.0 + i * 1e-3, 8.0)})
            time.sleep(0.0005)  # a runner plays between writes; without a pause one writer hogs the lock


def test_two_writer_processes(tmp_path: Path) -> None:
    run = tmp_path / "run"
    with Store.open(run, create=True) as s:
        s.add_player("shared", "learner")
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Barrier(2)
    procs = [ctx.Process(target=_writer, args=(str(run), w, start, 200)) for w in (1, 2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    assert [p.exitcode for p in procs] == [0, 0]
    with Store.open(run) as s:
        seeds = {m.seed for m in s.matches()}
        assert s.count_matches() == 400 and len(seeds) == 400
        rating = s.rating("shared")
        assert rating is not None and rating[2] == 400  # no lost read-modify-write of the game count
        assert len(s.rating_history("shared")) == 400


def _assert_refused(path: Path, message: str) -> None:
    before = path.read_bytes()
    with pytest.raises(StoreError, match=message):
        Store.open(path.parent)
    with pytest.raises(StoreError, match=message):
        Store.open(path.parent, create=True)
    assert path.read_bytes() == before


def test_random_bytes_are_not_a_league_database(tmp_path: Path) -> None:
    path = tmp_path / DB_NAME
    path.write_bytes(os.urandom(4096))
    _assert_refused(path, "is not a league database")


def test_unrelated_sqlite_is_not_a_league_database(tmp_path: Path) -> None:
    path = tmp_path / DB_NAME
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
        conn.execute("INSERT INTO notes (body) VALUES ('hello')")
    conn.close()
    _assert_refused(path, "is not a league database")


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    Store.open(tmp_path, create=True).close()
    conn = sqlite3.connect(tmp_path / DB_NAME)
    with conn:
        conn.execute("UPDATE league_meta SET value = '99' WHERE key = 'schema_version'")
    conn.close()
    _assert_refused(tmp_path / DB_NAME, r"written by a newer version of league \(schema 99\); upgrade league")


def test_missing_run_is_not_created(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no league run at"):
        Store.open(tmp_path / "nope")
    assert not (tmp_path / "nope").exists()
    with pytest.raises(StoreError, match="no league run at"):
        Store.open(tmp_path)  # the directory exists, the database does not
    assert not (tmp_path / DB_NAME).exists()


def test_write_and_verify_files(store: Store) -> None:
    data = b"weights" * 1000
    digest = store.write_file("snapshots/a.safetensors", data)
    assert digest == hashlib.sha256(data).hexdigest()
    path = store.verify_file("snapshots/a.safetensors", digest)
    assert path.read_bytes() == data
    assert [p.name for p in path.parent.iterdir()] == ["a.safetensors"]  # no temporary left behind
    assert store.write_file("snapshots/a.safetensors", b"new") == hashlib.sha256(b"new").hexdigest()

    path.write_bytes(b"tampered")
    with pytest.raises(StoreError, match=r"a\.safetensors is corrupt or was changed \(sha256 mismatch\)"):
        store.verify_file("snapshots/a.safetensors", digest)
    with pytest.raises(StoreError, match="is missing"):
        store.verify_file("snapshots/b.safetensors", digest)


@pytest.mark.parametrize(
    "bad", ["../outside.bin", "snapshots/../../outside.bin", "/etc/passwd", "", ".", DB_NAME, f"{DB_NAME}-wal"]
)
def test_paths_outside_the_run_are_refused(store: Store, bad: str) -> None:
    with pytest.raises(StoreError):
        store.write_file(bad, b"x")
    with pytest.raises(StoreError):
        store.verify_file(bad, "0" * 64)
    assert not (store.run_dir.parent / "outside.bin").exists()


def test_symlink_out_of_the_run_is_refused(store: Store, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (store.run_dir / "link").symlink_to(outside, target_is_directory=True)
    with pytest.raises(StoreError, match="not a file path inside the run directory"):
        store.write_file("link/x.bin", b"x")
    assert not (outside / "x.bin").exists()


def test_sanitize_name() -> None:
    assert sanitize_name("mappo-predators_0.12") == "mappo-predators_0.12"
    assert sanitize_name("a/b\\c d") == "a_b_c_d"
    assert sanitize_name("..") == "_."
    assert sanitize_name(".hidden") == "_hidden"
    with pytest.raises(StoreError):
        sanitize_name("")


V1_SCHEMA = V1_TABLES + """
INSERT INTO players (name, kind, created) VALUES ('a', 'learner', 'then'), ('b', 'baseline', 'then');
INSERT INTO matches (origin, game, seed, sides, returns, ranks, length, truncated, created) VALUES
    ('training', 'g', 1, '["a", "b"]', '[1.0, -1.0]', '[0, 1]', 5, 0, 'then'),
    ('evaluation', 'g', 2, '["b", "a"]', '[0.0, 0.0]', '[0, 0]', 5, 0, 'then');
INSERT INTO ratings VALUES ('a', 'trueskill', 27.0, 7.0, 2, 'then');
INSERT INTO rating_history (player, system, mu, sigma, match_id, created) VALUES ('a', 'trueskill', 27.0, 7.0, 1, 'then');
"""


def test_a_version_1_database_is_upgraded_in_place(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / DB_NAME)
    conn.executescript(V1_SCHEMA)
    conn.close()
    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "checkpoints" / "trainer.json").write_text('{"round": 4, "store": {"match": 1, "metric": 0}}')
    with Store.open(tmp_path) as store:
        assert store.results() == {"a": (1, 1, 0, 0), "b": (0, 1, 1, 0)}
        assert store.pair_results()[("a", "b")] == (1, 1, 0, 1.0)
        assert [m.id for m in store.matches(player="a", limit=1)] == [2]
        assert store.last_checkpoint() == {"round": 4, "store": {"match": 1, "metric": 0}}
        store.record_match(new_match(origin="human", sides=("b", "a")))  # the new origin is accepted
        assert store.rating("a") == (27.0, 7.0, 2) and len(store.rating_history("a")) == 1
    with sqlite3.connect(tmp_path / DB_NAME) as conn:
        assert conn.execute("SELECT value FROM league_meta WHERE key = 'schema_version'").fetchone() == ("2",)
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    conn.close()
