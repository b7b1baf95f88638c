"""The run database `runs/<name>/league.db`: one SQLite file per run, the only module on `sqlite3`.

It holds players, matches, ratings and their history, tournaments, training metrics and
checkpoints; open it with sqlite-utils or Datasette to explore. WAL mode and a 30 s busy
timeout let readers share it with the one writer a run has (see league.store.lock); every
write is one `BEGIN IMMEDIATE` transaction, so a crash never leaves half a result. A new run
is built in a temporary file and renamed into place, so a kill leaves no run or a whole one.
What is read back is checked: a file that fails SQLite's `quick_check` or holds a JSON
column that does not parse is refused with one sentence, and a stored game name is data,
never code (league.store.trust). Reads that would walk every match use running totals kept
in the same transactions as the games (league.store.tally, league.store.reads).

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
import os
import secrets
import sqlite3
from pathlib import Path
from typing import Any, Iterator, Mapping

import sqlite_utils

from league.results import TEAM_SEPARATOR
from league.store.files import DB_NAME, RunFiles, StoreError, sanitize_name  # noqa: F401 - re-exported
from league.store.reads import StoreReads, damaged, decode_json
from league.store.recording import GameWrites
from league.store.records import (  # noqa: F401 - re-exported: the store's records are imported from here
    DuplicateMatch,
    Match,
    Metric,
    NewMatch,
    Player,
    RateFn,
    Ratings,
    RatingPoint,
    check_mu_sigma,
    now,
    to_json,
)
from league.store.schema import ORIGINS, SCHEMA, SCHEMA_VERSION, UPGRADE_1_TO_2
from league.store.tally import tally

APPLICATION = "league"
BUSY_TIMEOUT_S = 30.0
PLAYER_KINDS = ("learner", "snapshot", "baseline", "team")
CHECKED_NAME = f"{DB_NAME}.checked"  # size and time of the file when it last passed quick_check
# quick_check reads every page (about 70 ms per MiB here): files up to this size are checked whole
# whenever they changed; larger ones have their small tables checked, and SQLite refuses a damaged
# page of the large ones (matches, rating history, metrics) when a command reads it.
FULL_CHECK_BYTES = 32 * 2**20
SMALL_TABLES = ("league_meta", "runs", "players", "ratings", "results", "pairs", "side_returns", "tournaments",
                "checkpoints", "files")
_SQLITE_MAGIC = b"SQLite format 3\x00"


class Store(RunFiles, StoreReads, GameWrites):
    """One run's database: `Store.open(run_dir)`, then close it (or use `with`); see the module example."""

    def __init__(self, run_dir: Path, conn: sqlite3.Connection):
        """Use `Store.open` or `Store.create`; this only wraps a connection that is already open."""
        self.run_dir = run_dir
        self.path = run_dir / DB_NAME
        self._db = sqlite_utils.Database(conn, execute_plugins=False)
        self._checked: tuple[int, ...] | None = None  # the files' fingerprint when they passed the check
        self._wrote = False  # this connection committed a write (its own changes need no new check)

    # -- opening and creating -------------------------------------------------------------------

    @classmethod
    def open(cls, run_dir: str | Path, *, create: bool = False) -> Store:
        """Open the run at `run_dir`, or make an empty one with `create=True` (see `create` for a new run).

        A file that is not a league database is refused without a byte of it changed, and
        a damaged one with one sentence.

        Example:
            >>> try:
            ...     Store.open("/nonexistent/run")
            ... except StoreError as error:
            ...     print(error)
            no league run at /nonexistent/run; create one with `league train --run /nonexistent/run`.
        """
        run_dir = Path(run_dir)
        if not run_exists(run_dir):
            if not create:
                raise StoreError(f"no league run at {run_dir}; create one with `league train --run {run_dir}`.")
            cls._build(run_dir, None)
        return cls._connect(run_dir)

    @classmethod
    def create(cls, run_dir: str | Path, *, name: str, game: str, config: Mapping[str, Any]) -> Store:
        """Make a new run whose schema and run row appear together, or not at all.

        The database is built in a temporary file beside its final name and linked into
        place, so a kill at any moment leaves either no run or a complete one. An existing
        run is refused (open it instead).

        Example:
            >>> import tempfile
            >>> with tempfile.TemporaryDirectory() as tmp, Store.create(tmp, name="demo", game="tic_tac_toe",
            ...                                                         config={"seed": 1}) as store:
            ...     store.run_info()["game"]
            'tic_tac_toe'
        """
        run_dir = Path(run_dir)
        if not isinstance(name, str) or not name.strip():
            raise StoreError(f"a run needs a non-empty name, not {name!r}.")
        row = {"name": name, "game": game, "config": to_json(dict(config), "the run config"), "created": now()}
        cls._build(run_dir, row)
        return cls._connect(run_dir)

    @classmethod
    def _build(cls, run_dir: Path, run_row: dict[str, Any] | None) -> None:
        path = run_dir / DB_NAME
        try:
            run_dir.mkdir(parents=True, exist_ok=True)
            if path.is_file() and path.stat().st_size == 0:
                path.unlink()  # an empty file left by a kill of an older version: nothing to keep
            tmp = run_dir / f".{DB_NAME}.{secrets.token_hex(8)}.tmp"
        except OSError as error:
            raise StoreError(f"cannot create the run directory {run_dir}: {error.strerror or error}.") from None
        try:
            conn = sqlite3.connect(tmp)
            try:
                conn.executescript(SCHEMA)
                conn.executemany("INSERT INTO league_meta (key, value) VALUES (?, ?)",
                                 [("application", APPLICATION), ("schema_version", str(SCHEMA_VERSION))])
                if run_row is not None:
                    conn.execute("INSERT INTO runs (name, game, config, created) VALUES (:name, :game, :config, :created)",
                                 run_row)
                conn.commit()
                conn.execute("PRAGMA journal_mode = WAL")  # kept in the file's header
            finally:
                conn.close()
            with open(tmp, "rb+") as f:
                os.fsync(f.fileno())
            try:
                os.link(tmp, path)  # unlike rename, never replaces a run another process made meanwhile
            except FileExistsError:
                if run_row is not None:
                    raise StoreError(f"{run_dir} already holds a league run; open it instead.") from None
            _fsync_dir(run_dir)
        except sqlite3.Error as error:
            raise StoreError(f"cannot create {path}: {error}.") from None
        except OSError as error:
            raise StoreError(f"cannot create {path}: {error.strerror or error}.") from None
        finally:
            for leftover in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
                leftover.unlink(missing_ok=True)

    @classmethod
    def _connect(cls, run_dir: Path) -> Store:
        path = run_dir / DB_NAME
        try:
            with open(path, "rb") as f:  # refuse a foreign file before SQLite gets to touch it
                header = f.read(len(_SQLITE_MAGIC))
        except OSError as error:
            raise StoreError(f"cannot open {path}: {error.strerror or error}.") from None
        if header != _SQLITE_MAGIC:
            raise StoreError(f"{path} is not a league database.")
        try:
            store = cls(run_dir, sqlite3.connect(path, timeout=BUSY_TIMEOUT_S))
        except sqlite3.Error as error:
            raise StoreError(f"cannot open {path}: {error}.") from None
        try:
            store._prepare()
        except BaseException as error:
            store.close()
            if isinstance(error, sqlite3.OperationalError) and "malformed" not in str(error):
                raise StoreError(f"cannot open {path}: {error}.") from None
            if isinstance(error, sqlite3.DatabaseError):  # "file is not a database", "malformed", ...
                raise StoreError(damaged(path)) from None
            raise
        return store

    def _prepare(self) -> None:
        # Only reads until the file is known to be ours, so a foreign file stays intact.
        self._db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        self._db.execute("PRAGMA foreign_keys = ON")
        if "league_meta" not in self._db.table_names():
            raise StoreError(f"{self.path} is not a league database.")
        meta = {row["key"]: row["value"] for row in self._db.query("SELECT key, value FROM league_meta")}
        if meta.get("application") != APPLICATION or not str(meta.get("schema_version", "")).isdigit():
            raise StoreError(f"{self.path} is not a league database.")
        version = int(meta["schema_version"])
        if version > SCHEMA_VERSION:
            raise StoreError(f"{self.path} was written by a newer version of league"
                             f" (schema {meta['schema_version']}); upgrade league to open it.")
        self._check_integrity()
        if version < SCHEMA_VERSION:
            self._upgrade(version)
        if self._db.journal_mode != "wal":
            self._db.enable_wal()

    def _fingerprint(self) -> tuple[int, ...]:
        """Size, time and inode of the database file, and of its write-ahead log when that holds anything."""
        out: list[int] = []
        for path in (self.path, Path(f"{self.path}-wal")):
            try:
                stat = path.stat()
            except OSError:
                stat = None
            out += [stat.st_size, stat.st_mtime_ns, stat.st_ino] if stat is not None and stat.st_size else [0, 0, 0]
        return tuple(out)

    def _check_integrity(self) -> None:
        """PRAGMA quick_check, skipped when the files are unchanged since the last check that passed."""
        marker = self.run_dir / CHECKED_NAME
        current = self._fingerprint()
        try:
            if tuple(json.loads(marker.read_text())) == current:
                self._checked = current
                return
        except (OSError, ValueError, TypeError):
            pass
        size = current[0] + current[3]
        if size <= FULL_CHECK_BYTES:
            checks = ["PRAGMA quick_check(1)"]
        else:  # a big run: the tables read whole are checked now, the large ones page by page as they are read
            checks = [f"PRAGMA quick_check('{table}')" for table in SMALL_TABLES]  # constants of this module
        for statement in checks:
            verdict = [row[0] for row in self._db.execute(statement).fetchall()]
            if verdict != ["ok"]:
                raise StoreError(damaged(self.path))
        self._checked = current

    def _remember_check(self) -> None:
        """After closing: note the files' size and time, so the next open need not check them again."""
        if self._checked is None or (not self._wrote and self._fingerprint() != self._checked):
            return  # someone else changed the files since they were checked: the next open checks again
        try:
            (self.run_dir / CHECKED_NAME).write_text(json.dumps(list(self._fingerprint())))
        except OSError:
            pass  # a read-only run is simply checked every time

    def _upgrade(self, version: int) -> None:
        """Bring a database of an older schema to this one, in one transaction."""
        conn = self._db.conn
        conn.execute("PRAGMA foreign_keys = OFF")  # SQLite's table-rebuild procedure
        try:
            conn.executescript("BEGIN IMMEDIATE;")
            current = int(conn.execute("SELECT value FROM league_meta WHERE key = 'schema_version'").fetchone()[0])
            if current == 1:
                for statement in UPGRADE_1_TO_2.split(";"):
                    if statement.strip():
                        conn.execute(statement)
                self._retally()
                self._import_trainerto_json()
            if current < SCHEMA_VERSION:
                conn.execute("UPDATE league_meta SET value = ? WHERE key = 'schema_version'", [str(SCHEMA_VERSION)])
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
        finally:
            conn.execute("PRAGMA foreign_keys = ON")
        del version

    def _retally(self) -> None:
        """Recount every running total from the stored games (inside the caller's transaction)."""
        conn = self._db.conn
        for table in ("match_players", "results", "pairs", "side_returns"):
            conn.execute(f"DELETE FROM {table}")  # table names are constants
        cursor = conn.execute("SELECT id, tournament_id, sides, returns, ranks, forfeit FROM matches ORDER BY id")
        while True:
            rows = cursor.fetchmany(20_000)
            if not rows:
                break
            self._apply_tally(tally(self._tallied(r) for r in rows), +1)

    def _import_trainerto_json(self) -> None:
        """A version-1 run kept its checkpoint in checkpoints/trainer.json: it becomes the first stored one."""
        path = self.run_dir / "checkpoints" / "trainer.json"
        try:
            state = json.loads(path.read_text())
        except (OSError, ValueError):
            return
        if isinstance(state, dict):
            self._db.conn.execute("INSERT INTO checkpoints (round, state, created) VALUES (?, ?, ?)",
                                  [int(state.get("round", 0)) if isinstance(state.get("round"), int) else 0,
                                   json.dumps(state, sort_keys=True), now()])

    def close(self) -> None:
        """Close the database; closing twice is harmless."""
        try:
            self._db.close()
        finally:
            self._remember_check()
            self._checked = None

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
            self._wrote = True
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
        return self._rows(f"SELECT * FROM {table} WHERE {' AND '.join(clauses)} ORDER BY {order_by}", values)

    # -- runs -----------------------------------------------------------------------------------

    def init_run(self, name: str, game: str, config: Mapping[str, Any]) -> None:
        """Record what this run is; later calls only check that the game matches (see `check_game`)."""
        with self._write() as db:
            if self.run_info() is None:
                db["runs"].insert(
                    {"name": name, "game": game, "config": to_json(dict(config), "the run config"), "created": now()}
                )
        self.check_game(game)

    def run_info(self) -> dict[str, Any] | None:
        """The run's name, game, config and creation time, or None before `init_run`."""
        rows = self._select("runs")
        if not rows:
            return None
        config = self._decode(rows[0]["config"])
        if not isinstance(config, dict) or not isinstance(rows[0]["game"], str):
            raise StoreError(damaged(self.path))
        return {**rows[0], "config": config}

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

    # -- players --------------------------------------------------------------------------------

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
        if not isinstance(name, str) or not name.strip() or TEAM_SEPARATOR in name:
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
                    "weights_sha256": weights_sha256, "meta": to_json(dict(meta or {}), "player meta"), "created": now(),
                })
            return existing or self._player(self._select("players", name=name)[0])

    def player(self, name: str) -> Player | None:
        """The player called `name`, or None."""
        rows = self._select("players", name=name)
        return self._player(rows[0]) if rows else None

    def players(self, kind: str | None = None) -> list[Player]:
        """All players in the order they joined, or only those of one kind."""
        if kind is not None:
            _check_kind(kind)
        return [self._player(row) for row in self._select("players", kind=kind)]

    def _player(self, row: Mapping[str, Any]) -> Player:
        meta = self._decode(row["meta"])
        if not isinstance(meta, dict):
            raise StoreError(damaged(self.path))
        return Player(**{**row, "meta": meta})

    # -- ratings ----------------------------------------------------------------------------------

    def set_rating(self, player: str, mu: float, sigma: float, *, system: str = "trueskill") -> None:
        """Set a rating outside any match (an anchor, a reset); the game count stays."""
        mu, sigma = check_mu_sigma(player, mu, sigma)
        with self._write():
            if self.player(player) is None:
                raise StoreError(f"cannot rate {player!r}: no player of that name is in this league.")
            stamp = now()
            self._db.execute(
                "INSERT INTO ratings (player, system, mu, sigma, games, updated) VALUES (?, ?, ?, ?, 0, ?)"
                " ON CONFLICT (player, system) DO UPDATE SET mu = excluded.mu, sigma = excluded.sigma,"
                " updated = excluded.updated", [player, system, mu, sigma, stamp])
            self._db.execute("INSERT INTO rating_history (player, system, mu, sigma, match_id, created)"
                             " VALUES (?, ?, ?, ?, NULL, ?)", [player, system, mu, sigma, stamp])

    # -- tournaments ------------------------------------------------------------------------------

    def create_tournament(self, key: str, format: str, config: Mapping[str, Any]) -> int:
        """Start a tournament under a key derived from its config, and return its id."""
        with self._write() as db:
            existing = self.tournament(key)
            if existing is not None:
                raise StoreError(f"tournament {key!r} already exists (id {existing['id']}); resume it instead.")
            return int(db["tournaments"].insert({
                "key": key, "format": format, "config": to_json(dict(config), "the tournament config"),
                "status": "running", "created": now(), "finished": None,
            }).last_pk)

    def tournament(self, key: str) -> dict[str, Any] | None:
        """The tournament under `key` as a dict (id, key, format, config, status, created, finished), or None."""
        rows = self._select("tournaments", key=key)
        return {**rows[0], "config": self._decode(rows[0]["config"])} if rows else None

    def tournaments(self) -> list[dict[str, Any]]:
        """Every tournament of the run, oldest first (as `tournament` gives one)."""
        return [{**row, "config": self._decode(row["config"])} for row in self._select("tournaments")]

    def finish_tournament(self, tournament_id: int) -> None:
        """Mark a tournament finished; finishing it again keeps the first finish time."""
        with self._write() as db:
            if not self._select("tournaments", id=tournament_id):
                raise StoreError(f"there is no tournament {tournament_id} in {self.path}.")
            db.execute("UPDATE tournaments SET status = 'finished', finished = ? WHERE id = ? AND status = 'running'",
                       [now(), tournament_id])

    # -- metrics ----------------------------------------------------------------------------------

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
        stamp = now()
        with self._write() as db:
            if self.player(player) is None:
                raise StoreError(f"cannot log metrics for {player!r}: no player of that name is in this league.")
            # SQLite stores NaN as NULL; metrics() turns it back into NaN.
            db["metrics"].insert_all({"player": player, "step": int(step), "key": str(key), "value": float(value),
                                      "created": stamp} for key, value in values.items())

    # -- checkpoints and files ----------------------------------------------------------------------

    def save_checkpoint(self, round_index: int, state: Mapping[str, Any]) -> int:
        """Store a trainer checkpoint: the commit point of training, as one row; returns its id.

        Example:
            >>> import tempfile
            >>> with tempfile.TemporaryDirectory() as tmp, Store.open(tmp, create=True) as store:
            ...     _ = store.save_checkpoint(3, {"round": 3})
            ...     store.last_checkpoint()
            {'round': 3}
        """
        if isinstance(round_index, bool) or not isinstance(round_index, int) or round_index < 0:
            raise StoreError(f"a checkpoint's round must be a whole number of 0 or more, not {round_index!r}.")
        with self._write() as db:
            # older rows are kept only as long as they are useful to read: one is enough
            db.execute("DELETE FROM checkpoints")
            db.execute("INSERT INTO checkpoints (round, state, created) VALUES (?, ?, ?)",
                       [round_index, to_json(dict(state), "a trainer checkpoint"), now()])
            return int(db.conn.execute("SELECT max(id) FROM checkpoints").fetchone()[0])

    def last_checkpoint(self) -> dict[str, Any] | None:
        """The newest trainer checkpoint's state, or None before the first."""
        rows = self._rows("SELECT state FROM checkpoints ORDER BY id DESC LIMIT 1")
        if not rows:
            return None
        state = self._decode(rows[0]["state"])
        if not isinstance(state, dict):
            raise StoreError(damaged(self.path))
        return state

    def _record_file(self, relative_path: str, sha256: str) -> None:
        statement = ("INSERT INTO files (path, sha256, updated) VALUES (?, ?, ?)"
                     " ON CONFLICT (path) DO UPDATE SET sha256 = excluded.sha256, updated = excluded.updated")
        if self._db.conn.in_transaction:
            self._db.conn.execute(statement, [relative_path, sha256, now()])
            return
        with self._write() as db:
            db.conn.execute(statement, [relative_path, sha256, now()])

    def recorded_sha256(self, relative_path: str | Path) -> str | None:
        """The sha256 the store recorded when it wrote this file of the run, or None."""
        rows = self._rows("SELECT sha256 FROM files WHERE path = ?", [Path(relative_path).as_posix()])
        return rows[0]["sha256"] if rows else None


def run_exists(run_dir: str | Path) -> bool:
    """Whether `run_dir` holds a run database (an empty file, left by a kill during creation, is none).

    Example:
        >>> run_exists("/nonexistent/run")
        False
    """
    path = Path(run_dir) / DB_NAME
    try:
        return path.is_file() and path.stat().st_size > 0
    except OSError:
        return False


def _fsync_dir(directory: Path) -> None:
    if os.name != "nt":  # a new name survives a power cut only once its directory is synced
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _check_kind(kind: str) -> None:
    if kind not in PLAYER_KINDS:
        raise StoreError(f"player kind must be one of {', '.join(PLAYER_KINDS)}, not {kind!r}.")


__all__ = ["DB_NAME", "DuplicateMatch", "Match", "Metric", "NewMatch", "ORIGINS", "Player", "RateFn", "RatingPoint",
           "Store", "StoreError", "damaged", "decode_json", "sanitize_name"]
