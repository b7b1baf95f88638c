"""Reading a run's database: paged matches, ratings, histories and the running totals.

Every read is a query whose cost follows what is asked for, not the number of matches
stored: the leaderboard reads one row per player (ratings joined to the totals of
league.store.tally), `matches --limit N` reads N rows through an index, the payoff matrix
one row per pair of the players shown. JSON columns are parsed by `decode_json` alone, and
a database that SQLite finds damaged is reported in the same one sentence (`damaged`).

Example:
    >>> import tempfile
    >>> from league.store.database import NewMatch, Store
    >>> with tempfile.TemporaryDirectory() as tmp, Store.open(tmp, create=True) as store:
    ...     for seed in range(5):
    ...         _ = store.record_match(NewMatch("tournament", "g", seed, ("a", "b"), (1.0, -1.0), (0, 1), 9))
    ...     [m.seed for m in store.matches(player="a", limit=2)], store.results()["b"]
    ([3, 4], (0, 0, 5, 0))
"""

from __future__ import annotations

import json
import math
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, Sequence

from league.store.files import StoreError

if TYPE_CHECKING:
    import sqlite_utils

    from league.store.database import Match, Metric, RatingPoint


def damaged(path: Path | str) -> str:
    """The one sentence for a database that fails SQLite's check or holds unreadable data.

    Example:
        >>> damaged("runs/x/league.db")
        'runs/x/league.db is damaged (it fails its integrity check or holds unreadable data); restore it from a backup.'
    """
    return f"{path} is damaged (it fails its integrity check or holds unreadable data); restore it from a backup."


def decode_json(text: Any, path: Path | str) -> Any:
    """Parse one JSON column; anything that does not parse is the `damaged` sentence.

    Example:
        >>> decode_json('["a", "b"]', "x.db")
        ['a', 'b']
        >>> try:
        ...     decode_json("[oops", "x.db")
        ... except StoreError as error:
        ...     print(str(error).split(" (")[0])
        x.db is damaged
    """
    if not isinstance(text, (str, bytes)):
        raise StoreError(damaged(path))
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        raise StoreError(damaged(path)) from None


# `column IN NAMES` with one parameter, a JSON list of names (any length, no SQL built from names)
NAMES = "(SELECT value FROM json_each(?))"


class StoreReads:
    """The read side of `Store` (a mixin: `Store` supplies the connection and the row decoders)."""

    path: Path
    _db: "sqlite_utils.Database"
    _match: "Callable[[Any], Match]"  # Store's row decoder (league.store.recording)

    def _rows(self, sql: str, args: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """The rows of one query as dicts; a damaged file is one sentence."""
        try:
            cursor = self._db.conn.execute(sql, list(args))
            columns = [c[0] for c in cursor.description]
            return [dict(zip(columns, row)) for row in cursor.fetchall()]
        except sqlite3.DatabaseError as error:
            if isinstance(error, sqlite3.OperationalError) and "malformed" not in str(error):
                raise StoreError(f"cannot read {self.path}: {error}.") from None
            raise StoreError(damaged(self.path)) from None

    def _decode(self, text: Any) -> Any:
        return decode_json(text, self.path)

    # -- matches ----------------------------------------------------------------------------------

    def matches(self, *, player: str | None = None, tournament_id: int | None = None, origin: str | None = None,
                limit: int | None = None) -> "list[Match]":
        """Matches in the order they were stored, optionally filtered; `limit` keeps the newest N.

        `player` finds a side it filled alone and a pick-up side it was a member of. With a
        limit the query reads only those rows (newest first through an index), whatever
        the size of the run.
        """
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
            raise StoreError(f"a match limit must be a whole number of 0 or more, not {limit!r}.")
        return list(reversed(list(self.iter_matches(player=player, tournament_id=tournament_id, origin=origin,
                                                    limit=limit, newest_first=True))))

    def iter_matches(self, *, player: str | None = None, tournament_id: int | None = None,
                     origin: str | None = None, limit: int | None = None, newest_first: bool = False,
                     batch: int = 2000) -> "Iterator[Match]":
        """Matches one batch of rows at a time, so memory stays flat however many are stored."""
        clauses, args = [], []
        source = "matches AS m"
        if player is not None:
            source = "match_players AS p JOIN matches AS m ON m.id = p.match_id"
            clauses.append("p.player = ?")
            args.append(player)
        for column, value in (("tournament_id", tournament_id), ("origin", origin)):
            if value is not None:
                clauses.append(f"m.{column} = ?")  # column names are constants of this module
                args.append(value)
        order = "DESC" if newest_first else "ASC"
        key = "p.match_id" if player is not None else "m.id"
        where = " AND ".join(clauses) or "1"
        remaining = limit
        last: int | None = None
        while remaining is None or remaining > 0:
            page = batch if remaining is None else min(batch, remaining)
            after = "" if last is None else f" AND {key} {'<' if newest_first else '>'} ?"
            rows = self._rows(f"SELECT m.* FROM {source} WHERE {where}{after} ORDER BY {key} {order} LIMIT ?",
                              [*args, *([] if last is None else [last]), page])
            for row in rows:
                yield self._match(row)
            if len(rows) < page:
                return
            last = rows[-1]["id"]
            if remaining is not None:
                remaining -= len(rows)

    def count_matches(self, tournament_id: int | None = None) -> int:
        """How many matches the run holds, or one tournament holds."""
        if tournament_id is None:
            return int(self._rows("SELECT count(*) AS n FROM matches")[0]["n"])
        return int(self._rows("SELECT count(*) AS n FROM matches WHERE tournament_id = ?", [tournament_id])[0]["n"])

    def done_indices(self, tournament_id: int) -> set[int]:
        """The schedule indices of a tournament's stored games, which a resumed tournament skips."""
        rows = self._rows("SELECT game_index FROM matches WHERE tournament_id = ? AND game_index IS NOT NULL",
                          [tournament_id])
        return {int(row["game_index"]) for row in rows}

    # -- ratings ----------------------------------------------------------------------------------

    def rating(self, player: str, system: str = "trueskill") -> tuple[float, float, int] | None:
        """(mu, sigma, games) of one player, or None if it was never rated."""
        rows = self._rows("SELECT mu, sigma, games FROM ratings WHERE player = ? AND system = ?", [player, system])
        return (rows[0]["mu"], rows[0]["sigma"], rows[0]["games"]) if rows else None

    def ratings(self, system: str = "trueskill", *, limit: int | None = None) -> dict[str, tuple[float, float, int]]:
        """Every rated player's (mu, sigma, games), best conservative score (mu - 3 sigma) first;
        with `limit`, only the best that many (sorted in SQL: 10,000 players cost milliseconds)."""
        rows = self._rows("SELECT player, mu, sigma, games FROM ratings WHERE system = ?"
                          " ORDER BY mu - 3 * sigma DESC, mu DESC, player LIMIT ?", [system, -1 if limit is None else limit])
        return {row["player"]: (row["mu"], row["sigma"], row["games"]) for row in rows}

    def rated_count(self, system: str = "trueskill") -> int:
        """How many players have a rating in `system`."""
        return int(self._rows("SELECT count(*) AS n FROM ratings WHERE system = ?", [system])[0]["n"])

    def rating_history(self, player: str, system: str = "trueskill", *, points: int | None = None) -> "list[RatingPoint]":
        """Every rating the player has had, oldest first; with `points`, about that many evenly spaced
        ones (always the last), chosen in SQL so a player of a million games costs no memory."""
        from league.store.database import RatingPoint

        if points is None:
            rows = self._rows("SELECT mu, sigma, match_id, created FROM rating_history WHERE player = ? AND system = ?"
                              " ORDER BY id", [player, system])
        else:
            total = int(self._rows("SELECT count(*) AS n FROM rating_history WHERE player = ? AND system = ?",
                                   [player, system])[0]["n"])
            step = max(1, math.ceil(total / max(1, points)))
            rows = self._rows(
                "SELECT mu, sigma, match_id, created FROM (SELECT *, row_number() OVER (ORDER BY id) AS n"
                " FROM rating_history WHERE player = ? AND system = ?) WHERE (n - 1) % ? = 0 OR n = ? ORDER BY id",
                [player, system, step, total])
        return [RatingPoint(r["mu"], r["sigma"], r["match_id"], r["created"]) for r in rows]

    # -- running totals ---------------------------------------------------------------------------

    def results(self, tournament_id: int | None = None, *,
                names: Sequence[str] | None = None) -> dict[str, tuple[int, int, int, int]]:
        """name -> (wins, draws, losses, forfeits) over every game of two or more sides, or one tournament's;
        with `names`, of those players only (over every game).

        A player on two sides of one game (a learner playing itself) is not counted by it.
        """
        if tournament_id is None and names is not None:
            rows = self._rows("SELECT player, sum(wins) AS w, sum(draws) AS d, sum(losses) AS l, sum(forfeits) AS f"
                              f" FROM results WHERE player IN {NAMES} GROUP BY player", [json.dumps(list(names))])
        elif tournament_id is None:
            rows = self._rows("SELECT player, sum(wins) AS w, sum(draws) AS d, sum(losses) AS l, sum(forfeits) AS f"
                              " FROM results GROUP BY player")
        else:
            rows = self._rows("SELECT player, wins AS w, draws AS d, losses AS l, forfeits AS f FROM results"
                              " WHERE tournament = ?", [tournament_id])
        return {r["player"]: (int(r["w"]), int(r["d"]), int(r["l"]), int(r["f"])) for r in rows
                if r["w"] or r["d"] or r["l"] or r["f"]}

    def pair_results(self, names: Sequence[str] | None = None) -> dict[tuple[str, str], tuple[int, int, int, float]]:
        """(a, b) -> a's (wins, draws, losses, sum of returns) against b, for every ordered pair of sides
        (pick-up sides under their whole name), or only pairs among `names`."""
        if names is None:
            rows = self._rows("SELECT * FROM pairs WHERE wins + draws + losses > 0")
        else:
            wanted = list(dict.fromkeys(names))
            rows = []
            for start in range(0, len(wanted), 400):
                chunk = wanted[start:start + 400]
                marks = ", ".join("?" for _ in chunk)
                rows += self._rows(f"SELECT * FROM pairs WHERE a IN ({marks}) AND b IN ({', '.join('?' for _ in wanted)})"
                                   " AND wins + draws + losses > 0", [*chunk, *wanted])
        return {(r["a"], r["b"]): (int(r["wins"]), int(r["draws"]), int(r["losses"]), float(r["returns"])) for r in rows}

    def pair_names(self) -> list[str]:
        """Every side name that has played a game of two or more sides, sorted."""
        return [r["a"] for r in self._rows("SELECT DISTINCT a FROM pairs WHERE wins + draws + losses > 0 ORDER BY a")]

    def side_returns(self, n_sides: int) -> dict[str, list[tuple[int, float, int]]]:
        """name -> [(side index, total return, games)] over games of `n_sides` sides without self-play."""
        out: dict[str, list[tuple[int, float, int]]] = {}
        for r in self._rows("SELECT player, side, total, games FROM side_returns WHERE sides = ? AND games > 0"
                            " ORDER BY player, side", [n_sides]):
            out.setdefault(r["player"], []).append((int(r["side"]), float(r["total"]), int(r["games"])))
        return out

    # -- metrics ----------------------------------------------------------------------------------

    def metrics(self, *, player: str | None = None, key: str | None = None) -> "list[Metric]":
        """Stored metrics ordered by player, key and step, optionally of one player or one key."""
        from league.store.database import Metric

        clauses, args = [], []
        for column, value in (("player", player), ("key", key)):
            if value is not None:
                clauses.append(f"{column} = ?")
                args.append(value)
        rows = self._rows(f"SELECT * FROM metrics WHERE {' AND '.join(clauses) or '1'} ORDER BY player, key, step, id",
                          args)
        return [Metric(r["player"], r["step"], r["key"], math.nan if r["value"] is None else r["value"], r["created"])
                for r in rows]

    def latest_metric(self, key: str, *, names: Sequence[str] | None = None) -> dict[str, float]:
        """Each player's newest value of one metric (highest step, then the last stored); with
        `names`, of those players only."""
        among = f" AND player IN {NAMES}" if names is not None else ""
        rows = self._rows("SELECT player, value FROM (SELECT player, value, row_number() OVER (PARTITION BY player"
                          f" ORDER BY step DESC, id DESC) AS n FROM metrics WHERE key = ?{among}) WHERE n = 1",
                          [key] + ([json.dumps(list(names))] if names is not None else []))
        return {r["player"]: math.nan if r["value"] is None else float(r["value"]) for r in rows}
