"""Opening, creating, checking, upgrading and closing a run database, and its write transactions.

A mixin of `Store` (league.store.database): a new run is built in a temporary file and
linked into place, so a kill leaves no run or a whole one; a file that is not a league
database is refused before SQLite touches it, and one that fails `quick_check` with one
sentence (the check is skipped while the files are unchanged since it last passed). An
older schema is upgraded in one transaction, and every write is one `BEGIN IMMEDIATE`
transaction (`_write`).

Example:
    >>> import tempfile
    >>> from league.store.database import Store
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     before = run_exists(tmp)
    ...     Store.open(tmp, create=True).close()
    ...     before, run_exists(tmp)
    (False, True)
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import sqlite3
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence, TypeVar

import sqlite_utils

from league.store.files import DB_NAME, StoreError
from league.store.reads import damaged
from league.store.records import now, to_json
from league.store.schema import SCHEMA, SCHEMA_VERSION, UPGRADE_1_TO_2
from league.store.tally import TalliedGame, Tally, tally
from league.store.views import create_views, views_outdated

APPLICATION = "league"
BUSY_TIMEOUT_S = 30.0
CHECKED_NAME = f"{DB_NAME}.checked"  # size and time of the file when it last passed quick_check
# quick_check reads every page (about 70 ms per MiB here): files up to this size are checked whole
# whenever they changed; larger ones have their small tables checked, and SQLite refuses a damaged
# page of the large ones (matches, rating history, metrics) when a command reads it.
FULL_CHECK_BYTES = 32 * 2**20
SMALL_TABLES = ("league_meta", "runs", "players", "ratings", "results", "pairs", "side_returns", "tournaments",
                "checkpoints", "files")
_SQLITE_MAGIC = b"SQLite format 3\x00"

_Opened = TypeVar("_Opened", bound="StoreLifecycle")


class StoreLifecycle:
    """The connection side of `Store`: open or create it, then close it (or use `with`)."""

    _apply_tally: Callable[[Tally, int], None]  # Store's running totals (league.store.recording)
    _tallied: Callable[[Sequence[Any]], TalliedGame]

    def __init__(self, run_dir: Path, conn: sqlite3.Connection):
        """Use `Store.open` or `Store.create`; this only wraps a connection that is already open."""
        self.run_dir = run_dir
        self.path = run_dir / DB_NAME
        self._db = sqlite_utils.Database(conn, execute_plugins=False)
        self._checked: tuple[int, ...] | None = None  # the files' fingerprint when they passed the check
        self._wrote = False  # this connection committed a write (its own changes need no new check)

    # -- opening and creating -------------------------------------------------------------------

    @classmethod
    def open(cls: type[_Opened], run_dir: str | Path, *, create: bool = False) -> _Opened:
        """Open the run at `run_dir`, or make an empty one with `create=True` (see `create` for a new run).

        A file that is not a league database is refused without a byte of it changed, and
        a damaged one with one sentence.

        Example:
            >>> from league.store.database import Store
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
    def create(cls: type[_Opened], run_dir: str | Path, *, name: str, game: str,
               config: Mapping[str, Any]) -> _Opened:
        """Make a new run whose schema and run row appear together, or not at all.

        The database is built in a temporary file beside its final name and linked into
        place, so a kill at any moment leaves either no run or a complete one. An existing
        run is refused (open it instead).

        Example:
            >>> import tempfile
            >>> from league.store.database import Store
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
    def _connect(cls: type[_Opened], run_dir: Path) -> _Opened:
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
        self._refresh_views()
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

    def _refresh_views(self) -> None:
        """Create the views and indexes this version reads when they are missing or outdated (one
        write transaction); a read-only file keeps what it has."""
        conn = self._db.conn
        if not views_outdated(conn):
            return
        try:
            conn.executescript("BEGIN IMMEDIATE;")
        except sqlite3.OperationalError:  # read-only file or directory, or a writer holding the lock
            return
        try:
            create_views(conn)
            conn.commit()
        except sqlite3.OperationalError:
            conn.rollback()

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

    def __enter__(self: _Opened) -> _Opened:
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
