"""Storing finished games, rating them, and rolling back what a trainer stored after its checkpoint.

A mixin of `Store` (league.store.database supplies the connection and the transactions):
every method here writes in one transaction, and every game it stores or removes moves the
running totals of league.store.tally in that same transaction.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from league.store.files import StoreError
from league.store.reads import damaged
from league.store.records import (
    DuplicateMatch,
    Match,
    NewMatch,
    RateFn,
    Ratings,
    check_mu_sigma,
    match_row,
    now,
)
from league.store.tally import TalliedGame, Tally, tally

TEAM_SEPARATOR = "+"


class GameWrites:
    """The game-writing side of `Store`."""

    def record_match(
        self, match: NewMatch, ratings: Ratings | None = None, *, system: str = "trueskill", rated: bool = True
    ) -> int:
        """Store a finished game and its players' new (mu, sigma) in one transaction; returns its id.

        Each rated player's game count goes up by one. If the tournament already holds
        this game it raises DuplicateMatch and changes nothing. `rated=False` stores a game
        to be rated later, in order, by `rate_stored`.

        Example:
            >>> import tempfile
            >>> from league.store.database import Store
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
        new_ratings = {p: check_mu_sigma(p, mu, sigma) for p, (mu, sigma) in (ratings or {}).items()}
        if not rated and new_ratings:
            raise StoreError("a game stored to be rated later cannot carry ratings already.")
        with self._write():
            if match.tournament_id is not None and match.game_index is not None:
                same = self._select("matches", tournament_id=match.tournament_id, game_index=match.game_index)
                if same:
                    raise DuplicateMatch(f"game {match.game_index} of tournament {match.tournament_id}"
                                         f" is already recorded (match {same[0]['id']}).")
            (match_id,) = self._insert_matches([match], rated=rated)
            self._put_ratings([(match_id, new_ratings)], system)
        return match_id

    def record_matches(self, items: "list[tuple[NewMatch, Ratings | None]]", *, system: str = "trueskill") -> list[int]:
        """Store many finished games with their rating updates in ONE transaction (a training round).

        Updates apply in order, as if `record_match` were called for each; all or none are stored.
        """
        checked = [{p: check_mu_sigma(p, mu, sigma) for p, (mu, sigma) in (r or {}).items()} for _, r in items]
        if not items:
            return []
        with self._write():
            ids = self._insert_matches([m for m, _ in items])
            self._put_ratings(list(zip(ids, checked)), system)
        return ids

    def record_rated(self, matches: Sequence[NewMatch], rate: RateFn, *, system: str = "trueskill") -> list[int]:
        """Store games and rate them in ONE transaction, from the ratings stored at that moment.

        `rate(matches, current)` runs inside the transaction, so no other writer can change
        a rating between the read and the write: no update is ever lost.

        Example:
            >>> import tempfile
            >>> from league.store.database import Store
            >>> def plus_one(games, current):  # a toy rating: +1 per win
            ...     now = dict(current)
            ...     out = []
            ...     for g in games:
            ...         winner = g.sides[g.ranks.index(0)]
            ...         now[winner] = (now.get(winner, (0.0, 1.0))[0] + 1, 1.0)
            ...         out.append({winner: now[winner]})
            ...     return out
            >>> with tempfile.TemporaryDirectory() as tmp, Store.open(tmp, create=True) as store:
            ...     _ = store.add_player("a", "baseline"), store.add_player("b", "baseline")
            ...     win = NewMatch("training", "g", 1, ("a", "b"), (1.0, -1.0), (0, 1), 5)
            ...     _ = store.record_rated([win, win], plus_one)
            ...     _ = store.record_rated([win], plus_one)
            ...     store.rating("a")
            (3.0, 1.0, 3)
        """
        if not matches:
            return []
        with self._write():
            current = self._current_ratings(matches, system)
            updates = list(rate(list(matches), current))
            if len(updates) != len(matches):
                raise StoreError(f"the rating function gave {len(updates)} updates for {len(matches)} games.")
            checked = [{p: check_mu_sigma(p, mu, sigma) for p, (mu, sigma) in u.items()} for u in updates]
            ids = self._insert_matches(list(matches))
            self._put_ratings(list(zip(ids, checked)), system)
        return ids

    def rate_stored(self, match_ids: Sequence[int], rate: RateFn, *, system: str = "trueskill") -> int:
        """Rate games stored with `rated=False`, in the order given, in one transaction; returns how many.

        Games already rated are skipped, so a call repeated after a crash rates nothing twice.
        """
        with self._write():
            marks = ", ".join("?" for _ in match_ids)
            rows = {r["id"]: r for r in self._rows(f"SELECT * FROM matches WHERE rated = 0 AND id IN ({marks})",
                                                   list(match_ids))} if match_ids else {}
            games = [self._match(rows[i]) for i in match_ids if i in rows]
            if not games:
                return 0
            updates = list(rate(games, self._current_ratings(games, system)))
            if len(updates) != len(games):
                raise StoreError(f"the rating function gave {len(updates)} updates for {len(games)} games.")
            checked = [{p: check_mu_sigma(p, mu, sigma) for p, (mu, sigma) in u.items()} for u in updates]
            self._put_ratings([(g.id, u) for g, u in zip(games, checked)], system)
            self._db.conn.executemany("UPDATE matches SET rated = 1 WHERE id = ?", [(g.id,) for g in games])
        return len(games)

    def unrated_matches(self, tournament_id: int) -> list[Match]:
        """A tournament's games stored but not rated yet (a killed tournament leaves some)."""
        return [self._match(r) for r in self._select("matches", "rated = 0", tournament_id=tournament_id)]

    def _current_ratings(self, games: Sequence[NewMatch], system: str) -> dict[str, tuple[float, float]]:
        names = sorted({m for g in games for side in g.sides for m in side.split(TEAM_SEPARATOR)})
        out: dict[str, tuple[float, float]] = {}
        for start in range(0, len(names), 500):
            chunk = names[start:start + 500]
            for row in self._db.conn.execute(
                    f"SELECT player, mu, sigma FROM ratings WHERE system = ? AND player IN ({', '.join('?' for _ in chunk)})",
                    [system, *chunk]):
                out[row[0]] = (float(row[1]), float(row[2]))
        return out

    def _insert_matches(self, matches: Sequence[NewMatch], *, rated: bool = True) -> list[int]:
        """Insert games and add them to the running totals (inside the caller's transaction)."""
        rows = [match_row(m, rated) for m in matches]
        for m in matches:
            if m.tournament_id is not None and not self._select("tournaments", id=m.tournament_id):
                raise StoreError(f"there is no tournament {m.tournament_id} in {self.path}.")
        columns = list(rows[0])
        conn = self._db.conn
        first = conn.execute("SELECT coalesce(max(id), 0) FROM matches").fetchone()[0] + 1
        # one statement for all the games: inside this transaction their ids are consecutive
        conn.executemany(f"INSERT INTO matches ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})",
                         [[row[c] for c in columns] for row in rows])
        ids = list(range(first, first + len(rows)))
        self._apply_tally(tally(TalliedGame(i, m.tournament_id, tuple(m.sides), tuple(float(r) for r in m.returns),
                                            tuple(int(r) for r in m.ranks), m.forfeit) for i, m in zip(ids, matches)), +1)
        return ids

    def _apply_tally(self, t: Tally, sign: int) -> None:
        conn = self._db.conn
        if sign > 0:
            conn.executemany("INSERT OR IGNORE INTO match_players (player, match_id) VALUES (?, ?)", t.members)
        else:
            conn.executemany("DELETE FROM match_players WHERE player = ? AND match_id = ?", t.members)
        conn.executemany(
            "INSERT INTO results (player, tournament, wins, draws, losses, forfeits) VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (player, tournament) DO UPDATE SET wins = wins + excluded.wins,"
            " draws = draws + excluded.draws, losses = losses + excluded.losses, forfeits = forfeits + excluded.forfeits",
            [(p, t_id, *(sign * v for v in counts)) for (p, t_id), counts in t.results.items()])
        conn.executemany(
            "INSERT INTO pairs (a, b, wins, draws, losses, returns) VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (a, b) DO UPDATE SET wins = wins + excluded.wins, draws = draws + excluded.draws,"
            " losses = losses + excluded.losses, returns = returns + excluded.returns",
            [(a, b, *(sign * v for v in counts)) for (a, b), counts in t.pairs.items()])
        conn.executemany(
            "INSERT INTO side_returns (player, sides, side, total, games) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (player, sides, side) DO UPDATE SET total = total + excluded.total, games = games + excluded.games",
            [(p, n, k, sign * total, sign * games) for (p, n, k), (total, games) in t.side_returns.items()])

    def match(self, match_id: int) -> Match | None:
        """The match stored under `match_id`, or None."""
        rows = self._rows("SELECT * FROM matches WHERE id = ?", [int(match_id)])
        return self._match(rows[0]) if rows else None

    def _match(self, row: Mapping[str, Any]) -> Match:
        decoded = {key: self._decode(row[key]) for key in ("sides", "returns", "ranks")}
        if not all(isinstance(v, list) and len(v) == len(decoded["sides"]) for v in decoded.values()):
            raise StoreError(damaged(self.path))
        values = {k: v for k, v in row.items() if k != "rated"}
        return Match(**{**values, **{k: tuple(v) for k, v in decoded.items()}, "truncated": bool(row["truncated"]),
                        "rated": bool(row.get("rated", 1))})

    def _tallied(self, row: Sequence[Any]) -> TalliedGame:
        """(id, tournament_id, sides, returns, ranks, forfeit) of a stored match, for the totals."""
        sides, returns, ranks = (self._decode(text) for text in row[2:5])
        return TalliedGame(row[0], row[1], tuple(sides), tuple(returns), tuple(ranks), row[5])

    def _put_ratings(self, updates: Sequence[tuple[int, Mapping[str, tuple[float, float]]]], system: str) -> None:
        """Rating history and current ratings of rated games (inside the caller's transaction)."""
        players = {p for _, ratings in updates for p in ratings}
        if not players:
            return
        conn = self._db.conn
        known = {r[0] for r in conn.execute(
            f"SELECT name FROM players WHERE name IN ({', '.join('?' for _ in players)})", list(players))}
        missing = sorted(players - known)
        if missing:
            raise StoreError(f"cannot rate {missing[0]!r}: no player of that name is in this league.")
        stamp = now()
        history, final, counts = [], {}, {}
        for match_id, ratings in updates:
            for player, (mu, sigma) in ratings.items():
                history.append((player, system, mu, sigma, match_id, stamp))
                final[player] = (mu, sigma)
                counts[player] = counts.get(player, 0) + 1
        conn.executemany("INSERT INTO rating_history (player, system, mu, sigma, match_id, created)"
                         " VALUES (?, ?, ?, ?, ?, ?)", history)
        conn.executemany(
            "INSERT INTO ratings (player, system, mu, sigma, games, updated) VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (player, system) DO UPDATE SET mu = excluded.mu, sigma = excluded.sigma,"
            " games = ratings.games + excluded.games, updated = excluded.updated",
            [(p, system, mu, sigma, counts[p], stamp) for p, (mu, sigma) in final.items()])

    # -- rolling back what a trainer stored after its checkpoint ---------------------------------

    def last_ids(self) -> dict[str, int]:
        """The newest match and metric ids (0 when none): a trainer's checkpoint remembers them."""
        match = self._db.conn.execute("SELECT coalesce(max(id), 0) FROM matches").fetchone()[0]
        metric = self._db.conn.execute("SELECT coalesce(max(id), 0) FROM metrics").fetchone()[0]
        return {"match": int(match), "metric": int(metric)}

    def rollback(self, *, after_match: int, after_metric: int, drop_players: "Sequence[str]" = ()) -> int:
        """Undo what a trainer stored after its last checkpoint, in one transaction.

        Removes training and evaluation matches newer than `after_match` (tournament games
        and games people played stay), their rating history, metrics newer than
        `after_metric`, and the players in `drop_players` (snapshots taken after the
        checkpoint) with their ratings. Every affected rating returns to the player's newest
        remaining history entry. Returns the number of matches removed.
        """
        for what, value in (("after_match", after_match), ("after_metric", after_metric)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise StoreError(f"{what} must be a whole number of 0 or more, not {value!r}.")
        trainer = "origin IN ('training', 'evaluation')"
        with self._write() as db:
            conn = db.conn
            doomed = conn.execute(f"SELECT id, tournament_id, sides, returns, ranks, forfeit FROM matches"
                                  f" WHERE id > ? AND {trainer}", [after_match]).fetchall()
            touched = {r[0] for r in conn.execute(
                f"SELECT DISTINCT player FROM rating_history WHERE match_id IN (SELECT id FROM matches WHERE id > ? AND"
                f" {trainer})", [after_match])}
            self._apply_tally(tally(self._tallied(r) for r in doomed), -1)
            conn.execute(f"DELETE FROM rating_history WHERE match_id IN (SELECT id FROM matches WHERE id > ? AND"
                         f" {trainer})", [after_match])
            conn.execute(f"DELETE FROM matches WHERE id > ? AND {trainer}", [after_match])
            conn.execute("DELETE FROM metrics WHERE id > ?", [after_metric])
            for name in drop_players:
                for table in ("rating_history", "ratings", "metrics"):
                    conn.execute(f"DELETE FROM {table} WHERE player = ?", [name])  # table names are constants
                conn.execute("UPDATE players SET parent = NULL WHERE parent = ?", [name])
                conn.execute("DELETE FROM players WHERE name = ?", [name])
                touched.discard(name)
            for name in sorted(touched):
                for (system,) in conn.execute("SELECT DISTINCT system FROM ratings WHERE player = ?", [name]).fetchall():
                    last = conn.execute(
                        "SELECT mu, sigma FROM rating_history WHERE player = ? AND system = ? ORDER BY id DESC LIMIT 1",
                        [name, system]).fetchone()
                    if last is None:
                        conn.execute("DELETE FROM ratings WHERE player = ? AND system = ?", [name, system])
                        continue
                    games = conn.execute(
                        "SELECT count(*) FROM rating_history WHERE player = ? AND system = ? AND match_id IS NOT NULL",
                        [name, system]).fetchone()[0]
                    conn.execute("UPDATE ratings SET mu = ?, sigma = ?, games = ?, updated = ? WHERE player = ?"
                                 " AND system = ?", [last[0], last[1], games, now(), name, system])
        return len(doomed)
