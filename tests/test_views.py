"""The database's views, indexes and Datasette metadata, checked with SQL on a real small run."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

import pytest

from league.rate.standings import standings
from league.store.database import NewMatch, Store
from league.store.views import INDEXES, VIEWS, create_views, datasette_metadata, drop_views, metadata_json, views_outdated

# (sides, ranks, returns, origin): a learner, its snapshot, two bots; one 3-side and one 1-side game
GAMES = [
    (("iql", "random"), (0, 1), (1.0, -1.0), "training"),
    (("random", "iql"), (1, 0), (-1.0, 1.0), "training"),
    (("random", "iql"), (0, 0), (0.0, 0.0), "training"),
    (("iql", "iql-001"), (1, 0), (-1.0, 1.0), "training"),
    (("iql-001", "iql"), (0, 1), (1.0, -1.0), "training"),
    (("iql", "iql"), (0, 1), (1.0, -1.0), "training"),  # self-play: counts for nobody
    (("mcts:5", "iql"), (0, 1), (1.0, -1.0), "evaluation"),
    (("iql", "random", "mcts:5"), (1, 2, 0), (0.5, -1.0, 2.0), "training"),
    (("iql",), (0,), (7.5,), "evaluation"),
]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run = tmp_path_factory.mktemp("views") / "run"
    with Store.open(run, create=True) as store:
        store.init_run("run", "tic_tac_toe", {})
        store.add_player("iql", "learner", algorithm="iql", role="player")
        store.add_player("iql-001", "snapshot", algorithm="iql", parent="iql", step=1000)
        for bot in ("random", "mcts:5"):
            store.add_player(bot, "baseline")
        mu = 25.0
        items = []
        for k, (sides, ranks, returns, origin) in enumerate(GAMES):
            mu += 0.5
            items.append((NewMatch(origin, "tic_tac_toe", k, sides, returns, ranks, 9),
                          {name: (mu - 0.1 * j, 8.0 - 0.1 * k) for j, name in enumerate(dict.fromkeys(sides))}))
        store.record_matches(items)
        tid = store.create_tournament("rr-test", "round-robin", {})
        store.record_match(NewMatch("tournament", "tic_tac_toe", 99, ("random", "mcts:5"), (-1.0, 1.0), (1, 0), 5,
                                    tournament_id=tid, game_index=0), {"mcts:5": (30.0, 5.0), "random": (20.0, 5.0)})
        store.add_metrics("iql", 1000, {"eval/random": 0.75, "loss": 0.5})
        store.add_metrics("iql", 2000, {"eval/random": 0.9, "eval/mcts:5": 0.25})
    conn = sqlite3.connect(run / "league.db")
    with conn:
        create_views(conn)
    conn.close()
    return run


@pytest.fixture()
def db(run: Path):
    conn = sqlite3.connect(f"file:{run / 'league.db'}?mode=ro", uri=True)
    yield conn
    conn.close()


def test_views_and_indexes_exist_and_are_current(run: Path, db: sqlite3.Connection) -> None:
    names = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type IN ('view', 'index')")}
    assert set(VIEWS) | set(INDEXES) <= names
    assert not views_outdated(db)
    conn = sqlite3.connect(run / "league.db")
    assert create_views(conn) == 0  # nothing to redo: no write
    conn.close()
    with Store.open(run) as store:  # the store opens a database that has views, and still reads it
        assert len(store.matches()) == len(GAMES) + 1


def test_match_sides_one_row_per_side(db: sqlite3.Connection) -> None:
    rows = db.execute("SELECT match_id, side, seat, player, result, score, return, opponent, self_play FROM match_sides"
                      " ORDER BY match_id, side").fetchall()
    assert len(rows) == sum(len(g[0]) for g in GAMES) + 2
    assert rows[:2] == [(1, 0, "first", "iql", "win", 1.0, 1.0, "random", 0),
                        (1, 1, "second", "random", "loss", 0.0, -1.0, "iql", 0)]
    assert rows[4:6] == [(3, 0, "first", "random", "draw", 0.5, 0.0, "iql", 0),
                         (3, 1, "second", "iql", "draw", 0.5, 0.0, "random", 0)]
    assert [r[8] for r in rows if r[0] == 6] == [1, 1]
    three = [r for r in rows if r[0] == 8]
    assert [(r[2], r[3], r[4], r[7]) for r in three] == [
        ("first", "iql", "loss", "random, mcts:5"), ("second", "random", "loss", "iql, mcts:5"),
        ("third", "mcts:5", "win", "iql, random")]
    assert [r[3:8] for r in rows if r[0] == 9] == [("iql", None, None, 7.5, None)]
    # the question the issue asked: games of X as the second player, without json_extract
    assert db.execute("SELECT count(*), sum(score) FROM match_sides WHERE player = 'iql' AND seat = 'second'"
                      " AND NOT self_play").fetchone() == (4, 1.5)


def test_leaderboard_view_matches_league_leaderboard(run: Path, db: sqlite3.Connection) -> None:
    with Store.open(run) as store:
        expected = [(s.rank, s.name, s.kind, round(s.mu, 9), round(s.score, 9), s.games) for s in standings(store)]
    rows = db.execute("SELECT rank, player, kind, round(mu, 9), round(conservative, 9), games FROM leaderboard"
                      " WHERE system = 'trueskill' ORDER BY rank").fetchall()
    assert rows == expected


def test_player_and_pair_results(run: Path, db: sqlite3.Connection) -> None:
    with Store.open(run) as store:
        wdl = {s.name: (s.wins, s.draws, s.losses) for s in standings(store)}
    rows = {r[0]: r[1:] for r in db.execute("SELECT player, wins, draws, losses FROM player_results")}
    assert rows == {name: counts for name, counts in wdl.items() if sum(counts)}
    pairs = {(r[0], r[1]): r[2:] for r in db.execute(
        "SELECT player, opponent, games, wins, draws, losses, score, games_first, score_first FROM pair_results")}
    assert pairs[("iql", "random")] == (3, 2, 1, 0, 5 / 6, 1, 1.0)
    assert pairs[("random", "iql")] == (3, 0, 1, 2, 1 / 6, 2, 0.25)
    assert pairs[("iql-001", "iql")] == (2, 2, 0, 0, 1.0, 1, 1.0)
    assert ("iql", "iql") not in pairs and not any(", " in b for _, b in pairs)


def test_latest_ratings_evaluations_and_tournaments(run: Path, db: sqlite3.Connection) -> None:
    with Store.open(run) as store:
        current = store.ratings()
    latest = {r[0]: r[1:] for r in db.execute("SELECT player, mu, sigma, match_id FROM latest_ratings")}
    assert {name: (mu, sigma) for name, (mu, sigma, _) in latest.items()} == {
        name: (mu, sigma) for name, (mu, sigma, _) in current.items()}
    assert latest["mcts:5"][2] == len(GAMES) + 1
    assert db.execute("SELECT player, step, opponent, score FROM evaluations ORDER BY step, opponent").fetchall() == [
        ("iql", 1000, "random", 0.75), ("iql", 2000, "mcts:5", 0.25), ("iql", 2000, "random", 0.9)]
    assert db.execute("SELECT id, format, status, games FROM tournament_summary").fetchall() == [
        (1, "round-robin", "running", 1)]


def test_leaderboard_query_uses_the_index(db: sqlite3.Connection) -> None:
    plan = " ".join(r[3] for r in db.execute(
        "EXPLAIN QUERY PLAN SELECT * FROM ratings WHERE system = ? ORDER BY mu - 3 * sigma DESC, player", ["trueskill"]))
    assert "ratings_leaderboard" in plan and "TEMP B-TREE" not in plan


def test_drop_views_then_create_again(tmp_path: Path, run: Path) -> None:
    copy = tmp_path / "league.db"
    copy.write_bytes((run / "league.db").read_bytes())
    conn = sqlite3.connect(copy)
    drop_views(conn)
    assert views_outdated(conn)
    assert not {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'view'")} & set(VIEWS)
    assert create_views(conn) == len(VIEWS)
    conn.close()


def test_metadata_describes_every_table_view_and_column(run: Path, db: sqlite3.Connection) -> None:
    meta = json.loads(metadata_json("run"))
    assert meta == datasette_metadata("run") and meta["title"] == "League run run"
    described = meta["databases"]["league"]["tables"]
    names = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')"
                                      " AND name NOT LIKE 'sqlite_%'")]
    for name in names:
        assert described.get(name, {}).get("description"), f"{name} needs a description"
        columns = [r[1] for r in db.execute(f'PRAGMA table_info("{name}")')]
        missing = [c for c in columns if not described[name]["columns"].get(c)]
        assert not missing, f"{name}: columns without a description: {missing}"


def test_datasette_loads_the_run_with_its_metadata(run: Path) -> None:
    datasette_app = pytest.importorskip("datasette.app")

    async def fetch() -> tuple[dict, list, str]:
        ds = datasette_app.Datasette([str(run / "league.db")], metadata=datasette_metadata("run"))
        tables = (await ds.client.get("/league.json")).json()
        rows = (await ds.client.get("/league/match_sides.json?_shape=array&player=iql&seat=second")).json()
        page = (await ds.client.get("/league/leaderboard")).text
        return tables, rows, page

    tables, rows, page = asyncio.run(fetch())
    assert {"match_sides", "leaderboard", "pair_results", "latest_ratings"} <= {v["name"] for v in tables["views"]}
    assert len(rows) == 5 and all(r["seat"] == "second" for r in rows)
    assert "ranked by the conservative score" in page
