"""The run database `runs/<name>/league.db` and the files kept beside it.

This is the only module that imports `sqlite3` or `sqlite_utils`. One SQLite file per
run holds players, matches, ratings and their history, tournaments and training
metrics; open it with sqlite-utils or Datasette to explore. WAL mode and a 30 s busy
timeout let several processes (a trainer, a tournament, a leaderboard) share it; every
write is one `BEGIN IMMEDIATE` transaction, so a crash never leaves half a result.
Files such as weights are written to a temporary name, fsynced and renamed into place,
and their sha256 is returned so the caller can record it and check it when loading.

Example:
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp, Store.open(f"{tmp}/demo", create=True) as store:
    ...     _ = store.add_player("a", "learner"), store.add_player("b", "baseline")
    ...     match = NewMatch("training", "tic_tac_toe", seed=1, sides=("a", "b"), returns=(1.0, -1.0),
    ...                      ranks=(0, 1), length=7)
    ...     _ = store.record_match(match, {"a": (29.2, 7.2), "b": (20.8, 7.2)})
    ...     store.rating("a"), len(store.matches(player="b"))
    ((29.2, 7.2, 1), 1)
"""

from __future__ import annotations

import contextlib
import json
import math
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator, Mapping

import sqlite_utils

from league.store.files import DB_NAME, RunFiles, StoreError, sanitize_name  # noqa: F401 - re-exported

SCHEMA_VERSION = 1
APPLICATION = "league"
BUSY_TIMEOUT_S = 30.0
PLAYER_KINDS = ("learner", "snapshot", "baseline", "team")
ORIGINS = ("tournament", "training", "evaluation")
TEAM_SEPARATOR = "+"  # a pick-up side is stored as its members' names joined by this
_SQLITE_MAGIC = b"SQLite format 3\x00"

# Plain DDL because sqlite-utils' create() cannot express CHECK or a composite UNIQUE.
_SCHEMA = """
CREATE TABLE league_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE runs (id INTEGER PRIMARY KEY, name TEXT NOT NULL, game TEXT NOT NULL, config TEXT NOT NULL,
    created TEXT NOT NULL);
CREATE TABLE players (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('learner', 'snapshot', 'baseline', 'team')),
    algorithm TEXT, role TEXT, parent TEXT REFERENCES players(name), step INTEGER,
    weights_path TEXT, weights_sha256 TEXT, meta TEXT NOT NULL DEFAULT '{}', created TEXT NOT NULL);
CREATE INDEX players_kind ON players(kind);
CREATE TABLE tournaments (id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, format TEXT NOT NULL,
    config TEXT NOT NULL, status TEXT NOT NULL CHECK (status IN ('running', 'finished')),
    created TEXT NOT NULL, finished TEXT);
CREATE TABLE matches (id INTEGER PRIMARY KEY,
    origin TEXT NOT NULL CHECK (origin IN ('tournament', 'training', 'evaluation')),
    tournament_id INTEGER REFERENCES tournaments(id), game TEXT NOT NULL, game_index INTEGER,
    seed INTEGER NOT NULL, sides TEXT NOT NULL, returns TEXT NOT NULL, ranks TEXT NOT NULL,
    length INTEGER NOT NULL, truncated INTEGER NOT NULL CHECK (truncated IN (0, 1)), forfeit TEXT,
    created TEXT NOT NULL, UNIQUE (tournament_id, game_index));
CREATE INDEX matches_origin ON matches(origin);
CREATE TABLE ratings (player TEXT NOT NULL REFERENCES players(name), system TEXT NOT NULL,
    mu REAL NOT NULL, sigma REAL NOT NULL, games INTEGER NOT NULL, updated TEXT NOT NULL,
    PRIMARY KEY (player, system));
CREATE TABLE rating_history (id INTEGER PRIMARY KEY, player TEXT NOT NULL REFERENCES players(name),
    system TEXT NOT NULL, mu REAL NOT NULL, sigma REAL NOT NULL, match_id INTEGER REFERENCES matches(id),
    created TEXT NOT NULL);
CREATE INDEX rating_history_player ON rating_history(player, system);
CREATE INDEX rating_history_match ON rating_history(match_id);
CREATE TABLE metrics (id INTEGER PRIMARY KEY, player TEXT NOT NULL REFERENCES players(name),
    step INTEGER NOT NULL, key TEXT NOT NULL, value REAL, created TEXT NOT NULL);
CREATE INDEX metrics_player_key ON metrics(player, key, step);
CREATE INDEX metrics_key ON metrics(key);
"""

# A player is in a match when it filled a side, or was one member of a pick-up side "a+b".
_PLAYER_IN_SIDES = (
    "EXISTS (SELECT 1 FROM json_each(matches.sides) AS side"
    " WHERE instr('+' || side.value || '+', '+' || ? || '+') > 0)"
)


class DuplicateMatch(StoreError):
    """This game of this tournament is already recorded."""


@dataclass(frozen=True)
class Player:
    """A row of `players`: a learner, a frozen snapshot, a reference bot or a team."""

    id: int
    name: str
    kind: str  # learner | snapshot | baseline | team
    algorithm: str | None
    role: str | None
    parent: str | None  # the player this one was copied from
    step: int | None  # the training step its weights were taken at
    weights_path: str | None  # relative to the run directory
    weights_sha256: str | None
    meta: dict[str, Any] = field(hash=False)
    created: str  # ISO 8601, UTC


@dataclass(frozen=True)
class NewMatch:
    """A finished game, as `record_match` takes it."""

    origin: str  # tournament | training | evaluation
    game: str
    seed: int
    sides: tuple[str, ...]  # entrant name per side; "a+b" for a pick-up team
    returns: tuple[float, ...]  # total return per side
    ranks: tuple[int, ...]  # per side, 0 is best, equal ranks draw
    length: int
    truncated: bool = False
    tournament_id: int | None = None
    game_index: int | None = None  # the game's place in its tournament's schedule
    forfeit: str | None = None  # why the game was forfeited, if it was


@dataclass(frozen=True)
class Match(NewMatch):
    """A row of `matches`: a NewMatch with its id and the time it was stored."""

    id: int = field(kw_only=True)
    created: str = field(kw_only=True)


@dataclass(frozen=True)
class RatingPoint:
    """One entry of a rating history; `match_id` is None for a rating set by hand."""

    mu: float
    sigma: float
    match_id: int | None
    created: str


@dataclass(frozen=True)
class Metric:
    """One training metric of one player at one step (NaN survives as NaN)."""

    player: str
    step: int
    key: str
    value: float
    created: str


class Store(RunFiles):
    """One run's database: `Store.open(run_dir)`, then close it (or use `with`); see the module example."""

    def __init__(self, run_dir: Path, conn: sqlite3.Connection):
        """Use `Store.open`; this only wraps a connection that is already open."""
        self.run_dir = run_dir
        self.path = run_dir / DB_NAME
        self._db = sqlite_utils.Database(conn, execute_plugins=False)

    @classmethod
    def open(cls, run_dir: str | Path, *, create: bool = False) -> Store:
        """Open the run at `run_dir`, or make a new one with `create=True`.

        A file that is not a league database is refused without a byte of it changed.

        Example:
            >>> try:
            ...     Store.open("/nonexistent/run")
            ... except StoreError as error:
            ...     print(error)
            no league run at /nonexistent/run; create one with `league train --run /nonexistent/run`.
        """
        run_dir = Path(run_dir)
        path = run_dir / DB_NAME
        if path.is_file():
            with open(path, "rb") as f:  # refuse a foreign file before SQLite gets to touch it
                header = f.read(len(_SQLITE_MAGIC))
            if header and header != _SQLITE_MAGIC:
                raise StoreError(f"{path} is not a league database.")
        elif not create:
            raise StoreError(f"no league run at {run_dir}; create one with `league train --run {run_dir}`.")
        else:
            run_dir.mkdir(parents=True, exist_ok=True)
        try:
            store = cls(run_dir, sqlite3.connect(path, timeout=BUSY_TIMEOUT_S))
        except sqlite3.Error as error:
            raise StoreError(f"cannot open {path}: {error}.") from None
        try:
            store._prepare(create)
        except BaseException as error:
            store.close()
            if isinstance(error, sqlite3.OperationalError):
                raise StoreError(f"cannot open {path}: {error}.") from None
            if isinstance(error, sqlite3.DatabaseError):  # "file is not a database", "malformed", ...
                raise StoreError(f"{path} is not a league database.") from None
            raise
        return store

    def _prepare(self, create: bool) -> None:
        # Only reads until the file is known to be ours, so a foreign file stays intact.
        self._db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        self._db.execute("PRAGMA foreign_keys = ON")
        tables = self._db.table_names()
        if "league_meta" not in tables:
            if not create or tables:
                raise StoreError(f"{self.path} is not a league database.")
            with self._write() as db:
                if "league_meta" not in db.table_names():  # another process may have created it meanwhile
                    db.executescript(_SCHEMA)
                    db["league_meta"].insert_all([{"key": "application", "value": APPLICATION},
                                                  {"key": "schema_version", "value": str(SCHEMA_VERSION)}])
        meta = {row["key"]: row["value"] for row in self._db.query("SELECT key, value FROM league_meta")}
        if meta.get("application") != APPLICATION or not str(meta.get("schema_version", "")).isdigit():
            raise StoreError(f"{self.path} is not a league database.")
        if int(meta["schema_version"]) > SCHEMA_VERSION:
            raise StoreError(f"{self.path} was written by a newer version of league"
                             f" (schema {meta['schema_version']}); upgrade league to open it.")
        if self._db.journal_mode != "wal":
            self._db.enable_wal()

    def close(self) -> None:
        """Close the database; closing twice is harmless."""
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite_utils.Database]:
        # IMMEDIATE takes the write lock up front: concurrent writers then queue on the busy
        # timeout, where a deferred BEGIN could fail outright when upgrading a read lock.
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            raise StoreError(f"{self.path} stayed locked by another process for too long ({error}).") from None
        try:
            yield self._db
            self._db.commit()
        except BaseException:
            self._db.rollback()
            raise

    def _select(
        self, table: str, where: str = "1", args: tuple[Any, ...] = (), *, order_by: str = "id", **equal: Any
    ) -> list[dict[str, Any]]:
        """Rows of `table` matching `where`, and where each non-None keyword equals its column."""
        clauses, values = [where], list(args)
        for column, value in equal.items():
            if value is not None:
                clauses.append(f"{column} = ?")  # column names come from this module, never a caller
                values.append(value)
        return list(self._db[table].rows_where(" AND ".join(clauses), values, order_by=order_by))

    # runs

    def init_run(self, name: str, game: str, config: Mapping[str, Any]) -> None:
        """Record what this run is; later calls only check that the game matches (see `check_game`)."""
        with self._write() as db:
            if self.run_info() is None:
                db["runs"].insert(
                    {"name": name, "game": game, "config": _json(dict(config), "the run config"), "created": _now()}
                )
        self.check_game(game)

    def run_info(self) -> dict[str, Any] | None:
        """The run's name, game, config and creation time, or None before `init_run`."""
        rows = self._select("runs")
        return {**rows[0], "config": json.loads(rows[0]["config"])} if rows else None

    def check_game(self, game: str) -> None:
        """Refuse to mix games in one run (before `init_run` any game passes).

        Example:
            >>> import tempfile
            >>> with tempfile.TemporaryDirectory() as tmp, Store.open(tmp, create=True) as store:
            ...     store.init_run("demo", "connect_four", {"seed": 1})
            ...     store.init_run("demo", "connect_four", {"seed": 2})  # a second call changes nothing
            ...     print(store.run_info()["config"])
            ...     try:
            ...         store.check_game("simple_tag")
            ...     except StoreError as error:
            ...         print(str(error).replace(tmp, "TMP"))
            {'seed': 1}
            TMP/league.db holds a league of connect_four, not simple_tag.
        """
        info = self.run_info()
        if info is not None and info["game"] != game:
            raise StoreError(f"{self.path} holds a league of {info['game']}, not {game}.")

    # players

    def add_player(self, name: str, kind: str, *, algorithm: str | None = None, role: str | None = None,
                   parent: str | None = None, step: int | None = None, weights_path: str | None = None,
                   weights_sha256: str | None = None, meta: Mapping[str, Any] | None = None) -> Player:
        """Add a player; adding a name that exists with the same kind returns the stored row.

        Example:
            >>> import tempfile
            >>> with tempfile.TemporaryDirectory() as tmp, Store.open(tmp, create=True) as store:
            ...     p = store.add_player("iql-0", "learner", algorithm="iql", role="first")
            ...     (p.name, p.kind, p.algorithm), store.add_player("iql-0", "learner") == p
            (('iql-0', 'learner', 'iql'), True)
        """
        if not isinstance(name, str) or not name or TEAM_SEPARATOR in name:
            raise StoreError(f"a player name must be a non-empty string without {TEAM_SEPARATOR!r}, not {name!r}.")
        _check_kind(kind)
        if step is not None and (isinstance(step, bool) or int(step) != step or step < 0):
            raise StoreError(f"a player's step must be a whole number of 0 or more, not {step!r}.")
        with self._write() as db:
            existing = self.player(name)
            if existing is not None and existing.kind != kind:
                raise StoreError(f"player {name!r} already exists as a {existing.kind}, not a {kind}.")
            if existing is None:
                if parent is not None and self.player(parent) is None:
                    raise StoreError(f"the parent {parent!r} of player {name!r} is not in this league.")
                db["players"].insert({
                    "name": name, "kind": kind, "algorithm": algorithm, "role": role, "parent": parent,
                    "step": None if step is None else int(step), "weights_path": weights_path,
                    "weights_sha256": weights_sha256, "meta": _json(dict(meta or {}), "player meta"), "created": _now(),
                })
            return existing or _player(self._select("players", name=name)[0])

    def player(self, name: str) -> Player | None:
        """The player called `name`, or None."""
        rows = self._select("players", name=name)
        return _player(rows[0]) if rows else None

    def players(self, kind: str | None = None) -> list[Player]:
        """All players in the order they joined, or only those of one kind."""
        if kind is not None:
            _check_kind(kind)
        return [_player(row) for row in self._select("players", kind=kind)]

    # matches and ratings

    def record_match(
        self, match: NewMatch, ratings: Mapping[str, tuple[float, float]] | None = None, *, system: str = "trueskill"
    ) -> int:
        """Store a finished game and its players' new (mu, sigma) in one transaction; returns its id.

        Each rated player's game count goes up by one. If the tournament already holds
        this game it raises DuplicateMatch and changes nothing.

        Example:
            >>> import tempfile
            >>> with tempfile.TemporaryDirectory() as tmp, Store.open(tmp, create=True) as store:
            ...     t = store.create_tournament("rr-1", "round-robin", {})
            ...     m = NewMatch("tournament", "g", seed=3, sides=("x", "y"), returns=(0.0, 0.0), ranks=(0, 0),
            ...                  length=9, tournament_id=t, game_index=0)
            ...     store.record_match(m)
            ...     try:
            ...         store.record_match(m)
            ...     except DuplicateMatch as error:
            ...         print(error)
            1
            game 0 of tournament 1 is already recorded (match 1).
        """
        row = _match_row(match)
        new_ratings = {p: _check_mu_sigma(p, mu, sigma) for p, (mu, sigma) in (ratings or {}).items()}
        with self._write() as db:
            if match.tournament_id is not None and not self._select("tournaments", id=match.tournament_id):
                raise StoreError(f"there is no tournament {match.tournament_id} in {self.path}.")
            if match.tournament_id is not None and match.game_index is not None:
                same = self._select("matches", tournament_id=match.tournament_id, game_index=match.game_index)
                if same:
                    raise DuplicateMatch(f"game {match.game_index} of tournament {match.tournament_id}"
                                         f" is already recorded (match {same[0]['id']}).")
            match_id = int(db["matches"].insert(row).last_pk)
            for player, (mu, sigma) in new_ratings.items():
                self._put_rating(player, mu, sigma, system=system, match_id=match_id, count_game=True)
        return match_id

    def record_matches(
        self, items: "list[tuple[NewMatch, Mapping[str, tuple[float, float]] | None]]", *, system: str = "trueskill"
    ) -> list[int]:
        """Store many finished games with their rating updates in ONE transaction (a training round).

        Updates apply in order, as if `record_match` were called for each; all or none are stored.
        """
        rows = [(_match_row(m), {p: _check_mu_sigma(p, mu, sigma) for p, (mu, sigma) in (r or {}).items()})
                for m, r in items]
        if not rows:
            return []
        columns = list(rows[0][0])
        insert = f"INSERT INTO matches ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
        now = _now()
        with self._write() as db:
            players = {p for _, ratings in rows for p in ratings}
            known = {r["name"] for r in db.query(
                f"SELECT name FROM players WHERE name IN ({', '.join('?' for _ in players)})", list(players))} \
                if players else set()
            missing = sorted(players - known)
            if missing:
                raise StoreError(f"cannot rate {missing[0]!r}: no player of that name is in this league.")
            conn = db.conn
            first = conn.execute("SELECT coalesce(max(id), 0) FROM matches").fetchone()[0] + 1
            # one statement for all the games: inside this transaction their ids are consecutive
            conn.executemany(insert, [[row[c] for c in columns] for row, _ in rows])
            ids = list(range(first, first + len(rows)))
            history, final, counts = [], {}, {}
            for match_id, (_, ratings) in zip(ids, rows):
                for player, (mu, sigma) in ratings.items():
                    history.append((player, system, mu, sigma, match_id, now))
                    final[player] = (mu, sigma)
                    counts[player] = counts.get(player, 0) + 1
            conn.executemany("INSERT INTO rating_history (player, system, mu, sigma, match_id, created)"
                             " VALUES (?, ?, ?, ?, ?, ?)", history)
            conn.executemany(
                "INSERT INTO ratings (player, system, mu, sigma, games, updated) VALUES (?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (player, system) DO UPDATE SET mu = excluded.mu, sigma = excluded.sigma,"
                " games = ratings.games + excluded.games, updated = excluded.updated",
                [(p, system, mu, sigma, counts[p], now) for p, (mu, sigma) in final.items()])
        return ids

    def last_ids(self) -> dict[str, int]:
        """The newest match and metric ids (0 when none): a trainer's checkpoint remembers them."""
        match = next(self._db.query("SELECT coalesce(max(id), 0) AS n FROM matches"))["n"]
        metric = next(self._db.query("SELECT coalesce(max(id), 0) AS n FROM metrics"))["n"]
        return {"match": int(match), "metric": int(metric)}

    def rollback(self, *, after_match: int, after_metric: int, drop_players: "list[str]" = ()) -> int:
        """Undo what a trainer stored after its last checkpoint, in one transaction.

        Removes training and evaluation matches newer than `after_match` (tournament games
        stay), their rating history, metrics newer than `after_metric`, and the players in
        `drop_players` (snapshots taken after the checkpoint) with their ratings. Every
        affected rating returns to the player's newest remaining history entry. Returns the
        number of matches removed.
        """
        with self._write() as db:
            doomed = [r["id"] for r in db.query(
                "SELECT id FROM matches WHERE id > ? AND origin IN ('training', 'evaluation')", [after_match])]
            touched = {r["player"] for r in db.query(
                "SELECT DISTINCT player FROM rating_history WHERE match_id > ? AND match_id IN "
                "(SELECT id FROM matches WHERE origin IN ('training', 'evaluation'))", [after_match])}
            db.execute("DELETE FROM rating_history WHERE match_id > ? AND match_id IN "
                       "(SELECT id FROM matches WHERE origin IN ('training', 'evaluation'))", [after_match])
            db.execute("DELETE FROM matches WHERE id > ? AND origin IN ('training', 'evaluation')", [after_match])
            db.execute("DELETE FROM metrics WHERE id > ?", [after_metric])
            for name in drop_players:
                for table in ("rating_history", "ratings", "metrics"):
                    db.execute(f"DELETE FROM {table} WHERE player = ?", [name])  # table names are constants
                db.execute("UPDATE players SET parent = NULL WHERE parent = ?", [name])
                db.execute("DELETE FROM players WHERE name = ?", [name])
                touched.discard(name)
            for name in sorted(touched):
                for (system,) in db.execute("SELECT DISTINCT system FROM ratings WHERE player = ?", [name]).fetchall():
                    last = db.execute(
                        "SELECT mu, sigma FROM rating_history WHERE player = ? AND system = ? ORDER BY id DESC LIMIT 1",
                        [name, system]).fetchone()
                    if last is None:
                        db.execute("DELETE FROM ratings WHERE player = ? AND system = ?", [name, system])
                        continue
                    games = db.execute(
                        "SELECT count(*) FROM rating_history WHERE player = ? AND system = ? AND match_id IS NOT NULL",
                        [name, system]).fetchone()[0]
                    db.execute("UPDATE ratings SET mu = ?, sigma = ?, games = ?, updated = ? WHERE player = ? AND system = ?",
                               [last[0], last[1], games, _now(), name, system])
        return len(doomed)

    def matches(
        self, *, player: str | None = None, tournament_id: int | None = None, origin: str | None = None
    ) -> list[Match]:
        """Matches in the order they were stored, optionally filtered.

        `player` finds a side it filled alone and a pick-up side it was a member of.
        """
        where, args = (_PLAYER_IN_SIDES, (player,)) if player is not None else ("1", ())
        return [_match(r) for r in self._select("matches", where, args, tournament_id=tournament_id, origin=origin)]

    def count_matches(self, tournament_id: int | None = None) -> int:
        """How many matches the run holds, or one tournament holds."""
        if tournament_id is None:
            return self._db["matches"].count
        return self._db["matches"].count_where("tournament_id = ?", [tournament_id])

    def done_indices(self, tournament_id: int) -> set[int]:
        """The schedule indices of a tournament's stored games, which a resumed tournament skips."""
        rows = self._select("matches", "game_index IS NOT NULL", tournament_id=tournament_id)
        return {int(row["game_index"]) for row in rows}

    def rating(self, player: str, system: str = "trueskill") -> tuple[float, float, int] | None:
        """(mu, sigma, games) of one player, or None if it was never rated."""
        rows = self._select("ratings", order_by="player", player=player, system=system)
        return (rows[0]["mu"], rows[0]["sigma"], rows[0]["games"]) if rows else None

    def ratings(self, system: str = "trueskill") -> dict[str, tuple[float, float, int]]:
        """Every rated player's (mu, sigma, games), best conservative score (mu - 3 sigma) first."""
        rows = self._select("ratings", order_by="mu - 3 * sigma DESC, player", system=system)
        return {row["player"]: (row["mu"], row["sigma"], row["games"]) for row in rows}

    def set_rating(self, player: str, mu: float, sigma: float, *, system: str = "trueskill") -> None:
        """Set a rating outside any match (an anchor, a reset); the game count stays."""
        mu, sigma = _check_mu_sigma(player, mu, sigma)
        with self._write():
            self._put_rating(player, mu, sigma, system=system, match_id=None, count_game=False)

    def rating_history(self, player: str, system: str = "trueskill") -> list[RatingPoint]:
        """Every rating the player has had, oldest first."""
        rows = self._select("rating_history", player=player, system=system)
        return [RatingPoint(r["mu"], r["sigma"], r["match_id"], r["created"]) for r in rows]

    def _put_rating(
        self, player: str, mu: float, sigma: float, *, system: str, match_id: int | None, count_game: bool
    ) -> None:
        # Checked inside the caller's transaction, so an unknown name undoes the match too.
        if self.player(player) is None:
            raise StoreError(f"cannot rate {player!r}: no player of that name is in this league.")
        now = _now()
        self._db.execute(
            "INSERT INTO ratings (player, system, mu, sigma, games, updated) VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (player, system) DO UPDATE SET mu = excluded.mu, sigma = excluded.sigma,"
            " games = ratings.games + excluded.games, updated = excluded.updated",
            [player, system, mu, sigma, int(count_game), now],
        )
        self._db["rating_history"].insert(
            {"player": player, "system": system, "mu": mu, "sigma": sigma, "match_id": match_id, "created": now}
        )

    # tournaments

    def create_tournament(self, key: str, format: str, config: Mapping[str, Any]) -> int:
        """Start a tournament under a key derived from its config, and return its id."""
        with self._write() as db:
            existing = self.tournament(key)
            if existing is not None:
                raise StoreError(f"tournament {key!r} already exists (id {existing['id']}); resume it instead.")
            return int(db["tournaments"].insert({
                "key": key, "format": format, "config": _json(dict(config), "the tournament config"),
                "status": "running", "created": _now(), "finished": None,
            }).last_pk)

    def tournament(self, key: str) -> dict[str, Any] | None:
        """The tournament under `key` as a dict (id, key, format, config, status, created, finished), or None."""
        rows = self._select("tournaments", key=key)
        return {**rows[0], "config": json.loads(rows[0]["config"])} if rows else None

    def finish_tournament(self, tournament_id: int) -> None:
        """Mark a tournament finished; finishing it again keeps the first finish time."""
        with self._write() as db:
            if not self._select("tournaments", id=tournament_id):
                raise StoreError(f"there is no tournament {tournament_id} in {self.path}.")
            db.execute("UPDATE tournaments SET status = 'finished', finished = ? WHERE id = ? AND status = 'running'",
                       [_now(), tournament_id])

    # metrics

    def add_metrics(self, player: str, step: int, values: Mapping[str, float]) -> None:
        """Store a player's training metrics at one step, all or none.

        Example:
            >>> import tempfile
            >>> with tempfile.TemporaryDirectory() as tmp, Store.open(tmp, create=True) as store:
            ...     _ = store.add_player("ppo", "learner")
            ...     store.add_metrics("ppo", 100, {"loss": 0.5, "entropy": 1.2})
            ...     [(m.key, m.step, m.value) for m in store.metrics(player="ppo")]
            [('entropy', 100, 1.2), ('loss', 100, 0.5)]
        """
        if isinstance(step, bool) or int(step) != step:
            raise StoreError(f"a metric step must be a whole number, not {step!r}.")
        now = _now()
        with self._write() as db:
            if self.player(player) is None:
                raise StoreError(f"cannot log metrics for {player!r}: no player of that name is in this league.")
            # SQLite stores NaN as NULL; metrics() turns it back into NaN.
            db["metrics"].insert_all({"player": player, "step": int(step), "key": str(key), "value": float(value),
                                      "created": now} for key, value in values.items())

    def metrics(self, *, player: str | None = None, key: str | None = None) -> list[Metric]:
        """Stored metrics ordered by player, key and step, optionally of one player or one key."""
        rows = self._select("metrics", order_by="player, key, step, id", player=player, key=key)
        return [Metric(r["player"], r["step"], r["key"], math.nan if r["value"] is None else r["value"],
                       r["created"]) for r in rows]

def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def _json(value: Any, what: str) -> str:
    try:
        return json.dumps(value, allow_nan=False, sort_keys=True)  # NaN is not JSON; SQLite would choke on it
    except (TypeError, ValueError):
        raise StoreError(f"{what} must be JSON-serialisable with finite numbers, not {value!r}.") from None


def _check_kind(kind: str) -> None:
    if kind not in PLAYER_KINDS:
        raise StoreError(f"player kind must be one of {', '.join(PLAYER_KINDS)}, not {kind!r}.")


def _check_mu_sigma(player: str, mu: float, sigma: float) -> tuple[float, float]:
    mu, sigma = float(mu), float(sigma)
    if not (math.isfinite(mu) and math.isfinite(sigma) and sigma > 0):
        raise StoreError(f"the rating of {player!r} needs a finite mu and a sigma above 0, not ({mu}, {sigma}).")
    return mu, sigma


def _player(row: Mapping[str, Any]) -> Player:
    return Player(**{**row, "meta": json.loads(row["meta"])})


def _match_row(match: NewMatch) -> dict[str, Any]:
    """Check a NewMatch and turn it into a row of `matches`."""
    if match.origin not in ORIGINS:
        raise StoreError(f"match origin must be one of {', '.join(ORIGINS)}, not {match.origin!r}.")
    n = len(match.sides)
    if n == 0 or len(match.returns) != n or len(match.ranks) != n:
        raise StoreError(f"a match needs one return and one rank per side, got {n} sides,"
                         f" {len(match.returns)} returns and {len(match.ranks)} ranks.")
    if not all(isinstance(side, str) and side for side in match.sides):
        raise StoreError(f"every side of a match needs an entrant name, not {match.sides!r}.")
    return {
        "origin": match.origin, "game": match.game, "seed": int(match.seed),
        "tournament_id": None if match.tournament_id is None else int(match.tournament_id),
        "game_index": None if match.game_index is None else int(match.game_index),
        "sides": _json(list(match.sides), "match sides"),
        "returns": _json([float(r) for r in match.returns], "match returns"),
        "ranks": _json([int(r) for r in match.ranks], "match ranks"),
        "length": int(match.length), "truncated": int(bool(match.truncated)), "forfeit": match.forfeit,
        "created": _now(),
    }


def _match(row: Mapping[str, Any]) -> Match:
    decoded = {key: tuple(json.loads(row[key])) for key in ("sides", "returns", "ranks")}
    return Match(**{**row, **decoded, "truncated": bool(row["truncated"])})
