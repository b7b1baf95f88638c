"""The run database `runs/<name>/league.db`: one SQLite file per run, as one `Store` object.

It holds players, matches, ratings and their history, tournaments, training metrics and
checkpoints; open it with sqlite-utils or Datasette to explore. This module keeps the runs,
players, ratings set by hand, tournaments, metrics and checkpoints; `Store` gets opening,
checking and transactions from league.store.lifecycle, reads from league.store.reads and
game writes from league.store.recording.

WAL mode and a 30 s busy timeout let readers share it with the one writer a run has (see
league.store.lock); every write is one `BEGIN IMMEDIATE` transaction, so a crash never leaves half a result. A new run
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

import json
from pathlib import Path
from typing import Any, Mapping, Sequence

from league.results import TEAM_SEPARATOR
from league.store.files import DB_NAME, RunFiles, StoreError, sanitize_name  # noqa: F401 - re-exported
from league.store.lifecycle import (  # noqa: F401 - re-exported: opening and checking the file live there
    APPLICATION,
    BUSY_TIMEOUT_S,
    CHECKED_NAME,
    FULL_CHECK_BYTES,
    SMALL_TABLES,
    StoreLifecycle,
    run_exists,
)
from league.store.reads import NAMES, StoreReads, damaged, decode_json
from league.store.recording import GameWrites
from league.store.records import (  # noqa: F401 - re-exported: the store's records are imported from here
    DuplicateMatch,
    Match,
    Metric,
    NewMatch,
    Player,
    RateFn,
    RatingPoint,
    Ratings,
    check_mu_sigma,
    now,
    to_json,
)
from league.store.schema import ORIGINS  # noqa: F401 - re-exported

PLAYER_KINDS = ("learner", "snapshot", "baseline", "team")


class Store(StoreLifecycle, RunFiles, StoreReads, GameWrites):
    """One run's database: `Store.open(run_dir)`, then close it (or use `with`); see the module example."""

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

    def players(self, kind: str | None = None, *, names: Sequence[str] | None = None) -> list[Player]:
        """All players in the order they joined, or only those of one kind, or of those `names`."""
        if kind is not None:
            _check_kind(kind)
        if names is not None:
            return [self._player(row) for row in self._select("players", f"name IN {NAMES}", (json.dumps(list(names)),),
                                                              kind=kind)]
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


def _check_kind(kind: str) -> None:
    if kind not in PLAYER_KINDS:
        raise StoreError(f"player kind must be one of {', '.join(PLAYER_KINDS)}, not {kind!r}.")


__all__ = ["DB_NAME", "DuplicateMatch", "Match", "Metric", "NewMatch", "ORIGINS", "Player", "RateFn", "RatingPoint",
           "Store", "StoreError", "damaged", "decode_json", "sanitize_name"]
