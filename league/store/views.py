"""SQL views and indexes that make a run's database readable, and its Datasette metadata.

The tables (see `league.store.database`) keep each match's sides, returns and ranks as JSON
arrays, which is compact but hard to query by hand. The views below unfold them, so
questions such as "every game of X as the second player" are one plain `WHERE`:

- `leaderboard`: the current ratings, ranked by the conservative score mu - 3 sigma
  (the order of `league leaderboard`), with each player's kind, algorithm and step.
- `match_sides`: one row per side per match: player, side index, seat (first, second,
  ...), result, score (1 / 0.5 / 0), return, rank and the opponent(s).
- `pair_results`: games, wins, draws, losses and mean score of each ordered pair of players.
- `player_results`: each player's totals, and its mean score on each of the first two sides.
- `latest_ratings`: the newest rating-history entry of each player (the match that set it).
- `evaluations`: learners' scores against reference bots by training step.
- `tournament_summary`: each tournament's format, status and stored games.

`create_views(conn)` (re)creates the views and indexes that are missing or out of date
and leaves the rest alone; `views_outdated(conn)` tells whether that call would write;
`drop_views(conn)` clears the views before a schema upgrade rebuilds a table.
`datasette_metadata()` describes every table, view and column for Datasette
(`datasette runs/<name>/league.db -m runs/<name>/metadata.json`).

Example:
    >>> import sqlite3
    >>> conn = sqlite3.connect(":memory:")
    >>> _ = conn.executescript(
    ...     "CREATE TABLE players (id INTEGER PRIMARY KEY, name TEXT UNIQUE, kind TEXT, algorithm TEXT, role TEXT,"
    ...     " parent TEXT, step INTEGER);"
    ...     "CREATE TABLE matches (id INTEGER PRIMARY KEY, origin TEXT, tournament_id INTEGER, game TEXT,"
    ...     " game_index INTEGER, seed INTEGER, sides TEXT, returns TEXT, ranks TEXT, length INTEGER,"
    ...     " truncated INTEGER, forfeit TEXT, created TEXT);"
    ...     "CREATE TABLE ratings (player TEXT, system TEXT, mu REAL, sigma REAL, games INTEGER, updated TEXT);"
    ...     "CREATE TABLE rating_history (id INTEGER PRIMARY KEY, player TEXT, system TEXT, mu REAL, sigma REAL,"
    ...     " match_id INTEGER, created TEXT);"
    ...     "CREATE TABLE metrics (id INTEGER PRIMARY KEY, player TEXT, step INTEGER, key TEXT, value REAL, created TEXT);"
    ...     "CREATE TABLE tournaments (id INTEGER PRIMARY KEY, key TEXT, format TEXT, config TEXT, status TEXT,"
    ...     " created TEXT, finished TEXT);"
    ...     "INSERT INTO matches VALUES (1, 'tournament', NULL, 'g', NULL, 0, '[\\"a\\", \\"b\\"]', '[1.0, -1.0]',"
    ...     " '[0, 1]', 5, 0, NULL, '2024-01-01T00:00:00');")
    >>> views_outdated(conn), create_views(conn), views_outdated(conn)
    (True, 10, False)
    >>> conn.execute("SELECT player, seat, result, score, opponent FROM match_sides ORDER BY side").fetchall()
    [('a', 'first', 'win', 1.0, 'b'), ('b', 'second', 'loss', 0.0, 'a')]
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

# Pieces of match_sides: two-side games (nearly all) take the direct path, others a subquery.
_MY_RANK = "json_extract(m.ranks, '$[' || s.key || ']')"
_BEST_OTHER = ("(CASE WHEN json_array_length(m.sides) = 2 THEN json_extract(m.ranks, '$[' || (1 - s.key) || ']')"
               " ELSE (SELECT min(r.value) FROM json_each(m.ranks) AS r WHERE r.key != s.key) END)")
_OPPONENT = ("(CASE WHEN json_array_length(m.sides) = 2 THEN json_extract(m.sides, '$[' || (1 - s.key) || ']')"
             " ELSE (SELECT group_concat(o.value, ', ') FROM json_each(m.sides) AS o WHERE o.key != s.key) END)")
_SELF_PLAY = ("(CASE WHEN json_array_length(m.sides) = 2 THEN s.value = json_extract(m.sides, '$[' || (1 - s.key) || ']')"
              " ELSE EXISTS (SELECT 1 FROM json_each(m.sides) AS o WHERE o.key != s.key AND o.value = s.value) END)")

# Every statement is stored by SQLite verbatim in sqlite_master, so comparing texts tells
# whether a database already has this version of a view or index.
VIEWS: dict[str, str] = {
    "match_sides": f"""CREATE VIEW match_sides AS
SELECT m.id AS match_id, m.origin, m.tournament_id, m.game, m.created,
    json_array_length(m.sides) AS sides,
    CAST(s.key AS INTEGER) AS side,
    CASE CAST(s.key AS INTEGER) WHEN 0 THEN 'first' WHEN 1 THEN 'second' WHEN 2 THEN 'third' WHEN 3 THEN 'fourth'
        ELSE 'side ' || (s.key + 1) END AS seat,
    s.value AS player,
    json_extract(m.returns, '$[' || s.key || ']') AS return,
    {_MY_RANK} AS rank,
    CASE WHEN json_array_length(m.sides) < 2 THEN NULL WHEN {_MY_RANK} < {_BEST_OTHER} THEN 'win'
        WHEN {_MY_RANK} = {_BEST_OTHER} THEN 'draw' ELSE 'loss' END AS result,
    CASE WHEN json_array_length(m.sides) < 2 THEN NULL WHEN {_MY_RANK} < {_BEST_OTHER} THEN 1.0
        WHEN {_MY_RANK} = {_BEST_OTHER} THEN 0.5 ELSE 0.0 END AS score,
    {_OPPONENT} AS opponent,
    {_SELF_PLAY} AS self_play,
    m.length, m.truncated, m.forfeit
FROM matches AS m, json_each(m.sides) AS s""",
    "leaderboard": """CREATE VIEW leaderboard AS
SELECT row_number() OVER (PARTITION BY r.system ORDER BY r.mu - 3 * r.sigma DESC, r.mu DESC, r.player) AS rank,
    r.player, p.kind, p.algorithm, p.role, p.parent, p.step, r.mu, r.sigma,
    r.mu - 3 * r.sigma AS conservative, r.games, r.system, r.updated
FROM ratings AS r LEFT JOIN players AS p ON p.name = r.player
ORDER BY r.system, rank""",
    "pair_results": """CREATE VIEW pair_results AS
SELECT player, opponent, count(*) AS games, sum(result = 'win') AS wins, sum(result = 'draw') AS draws,
    sum(result = 'loss') AS losses, avg(score) AS score, avg(return) AS mean_return,
    sum(side = 0) AS games_first, avg(CASE WHEN side = 0 THEN score END) AS score_first,
    sum(side = 1) AS games_second, avg(CASE WHEN side = 1 THEN score END) AS score_second
FROM match_sides WHERE sides = 2 AND NOT self_play
GROUP BY player, opponent""",
    "player_results": """CREATE VIEW player_results AS
SELECT player, count(*) AS games, sum(result = 'win') AS wins, sum(result = 'draw') AS draws,
    sum(result = 'loss') AS losses, avg(score) AS score,
    sum(side = 0) AS games_first, avg(CASE WHEN side = 0 THEN score END) AS score_first,
    sum(side = 1) AS games_second, avg(CASE WHEN side = 1 THEN score END) AS score_second
FROM match_sides WHERE sides >= 2 AND NOT self_play
GROUP BY player""",
    "latest_ratings": """CREATE VIEW latest_ratings AS
SELECT h.player, h.system, h.mu, h.sigma, h.mu - 3 * h.sigma AS conservative, h.match_id, h.created
FROM rating_history AS h
JOIN (SELECT player, system, max(id) AS id FROM rating_history GROUP BY player, system) AS newest ON newest.id = h.id""",
    "evaluations": """CREATE VIEW evaluations AS
SELECT player, step, substr(key, 6) AS opponent, value AS score, created
FROM metrics WHERE key >= 'eval/' AND key < 'eval0'""",
    "tournament_summary": """CREATE VIEW tournament_summary AS
SELECT t.id, t.key, t.format, t.status, t.created, t.finished,
    (SELECT count(*) FROM matches AS m WHERE m.tournament_id = t.id) AS games
FROM tournaments AS t""",
}

# Indexes for the queries the CLI and the report run (the schema's own indexes cover players
# by kind, matches by origin and by tournament, ratings history by player and metrics by key).
INDEXES: dict[str, str] = {
    "ratings_leaderboard": "CREATE INDEX ratings_leaderboard ON ratings (system, (mu - 3 * sigma) DESC, player)",
    "matches_created": "CREATE INDEX matches_created ON matches (created)",
    "players_parent": "CREATE INDEX players_parent ON players (parent)",
}


def _stored(conn: sqlite3.Connection) -> dict[str, str]:
    rows = conn.execute("SELECT name, sql FROM sqlite_master WHERE type IN ('view', 'index') AND sql IS NOT NULL")
    return {name: sql for name, sql in rows}


def views_outdated(conn: sqlite3.Connection) -> bool:
    """Whether any view or index is missing or differs from this version's (a read, no lock)."""
    stored = _stored(conn)
    return any(stored.get(name) != sql for name, sql in {**VIEWS, **INDEXES}.items())


def drop_views(conn: sqlite3.Connection) -> None:
    """Drop every view of this module: call it before rebuilding a table they read (a schema
    upgrade), since SQLite refuses to rename a table while a view refers to a missing one."""
    for name in VIEWS:
        conn.execute(f'DROP VIEW IF EXISTS "{name}"')  # names are this module's constants


def create_views(conn: sqlite3.Connection) -> int:
    """Create or replace the views and indexes that are missing or out of date; returns how many.

    Run it inside the caller's write transaction (the store's `_write()`): it only issues
    DROP and CREATE statements, never COMMIT.
    """
    stored = _stored(conn)
    changed = 0
    # views depend on each other (pair_results reads match_sides): drop every stale one first
    stale = [name for name, sql in VIEWS.items() if stored.get(name) != sql]
    for name in stale:
        conn.execute(f'DROP VIEW IF EXISTS "{name}"')  # names are this module's constants
    for name in stale:
        conn.execute(VIEWS[name])
        changed += 1
    for name, sql in INDEXES.items():
        if stored.get(name) != sql:
            conn.execute(f'DROP INDEX IF EXISTS "{name}"')
            conn.execute(sql)
            changed += 1
    return changed


# -- Datasette ------------------------------------------------------------------------------------

_UNITS = "Units: returns in the game's reward units; mu and sigma in TrueSkill points (25 +/- 8.33 at the start)."

TABLES: dict[str, dict[str, Any]] = {
    "league_meta": {
        "description": "What wrote this file: the application name and the schema version.",
        "columns": {"key": "application or schema_version", "value": "its value"},
    },
    "runs": {
        "description": "The run: its name, its game and the resolved configuration it was started with.",
        "columns": {"id": "row id", "name": "run name (the directory under runs/)",
                    "game": "the game's registry name", "config": "JSON: the training configuration (TOML text) "
                    "and rating settings", "created": "when the run started (ISO 8601, UTC)"},
    },
    "players": {
        "description": "Everyone who plays: learners, their frozen snapshots, reference bots and teams.",
        "columns": {"id": "row id", "name": "unique player name (snapshots: <learner>-NNN)",
                    "kind": "learner | snapshot | baseline | team", "algorithm": "iql, vdn, qmix, mappo or maddpg",
                    "role": "the role it plays (a side's role of the game)",
                    "parent": "the learner a snapshot was copied from", "step": "training step (env steps of its "
                    "learner) its weights were taken at", "weights_path": "file of its weights, relative to the run "
                    "directory", "weights_sha256": "sha256 of that file, checked when it loads",
                    "meta": "JSON: other facts (league position, ...)", "created": "when it joined (ISO 8601, UTC)"},
    },
    "matches": {
        "description": "Every finished game, one row each; match_sides unfolds its JSON arrays, one row per side.",
        "columns": {"id": "match id, in the order games were stored",
                    "origin": "training (league games), evaluation (against reference bots, snapshot tests), "
                    "tournament or human (league play)", "tournament_id": "the tournament it belongs to",
                    "game": "the game's name", "game_index": "its place in its tournament's schedule",
                    "seed": "the seed it was played with (replays it exactly)",
                    "sides": "JSON list: the entrant of each side, in the game's side order (first mover first); "
                    "a pick-up team is written a+b", "returns": "JSON list: each side's total return (reward units)",
                    "ranks": "JSON list: each side's rank, 0 best; equal ranks draw",
                    "length": "game length in env steps", "truncated": "1 when a step limit ended it",
                    "forfeit": "why the game was forfeited (crash, illegal move, timeout), if it was",
                    "moves": "the game's actions, encoded (replays it move by move); empty where not kept",
                    "rated": "1 once its rating update is stored (a tournament rates in schedule order)",
                    "created": "when it was stored (ISO 8601, UTC)"},
    },
    "match_players": {
        "description": "Which player is in which match (each member of a pick-up team too): the index behind "
                       "one player's games.",
        "columns": {"player": "player name", "match_id": "the match (matches.id)"},
    },
    "results": {
        "description": "Running totals of each player's results per tournament (0: games outside tournaments), "
                       "kept in step with matches.",
        "columns": {"player": "player name", "tournament": "tournament id, 0 for training and evaluation games",
                    "wins": "games won", "draws": "games drawn", "losses": "games lost",
                    "forfeits": "games it forfeited (crash, illegal move, timeout)"},
    },
    "pairs": {
        "description": "Running totals of head-to-head results of each ordered pair of sides (the payoff matrix).",
        "columns": {"a": "the row side", "b": "the column side", "wins": "a's wins against b",
                    "draws": "draws", "losses": "a's losses against b", "returns": "sum of a's returns (reward units)"},
    },
    "side_returns": {
        "description": "Running totals of each player's returns per side position (per-capita returns in "
                       "general-sum games).",
        "columns": {"player": "player name", "sides": "number of sides of the game", "side": "0-based side index",
                    "total": "sum of the side's returns (reward units)", "games": "games"},
    },
    "checkpoints": {
        "description": "Trainer checkpoints: the commit points a training run resumes from.",
        "columns": {"id": "checkpoint id", "round": "training round", "state": "JSON: the trainer's state",
                    "created": "ISO 8601, UTC"},
    },
    "files": {
        "description": "Every file written beside the database, with the sha256 checked when it is read.",
        "columns": {"path": "relative to the run directory", "sha256": "hex digest", "updated": "ISO 8601, UTC"},
    },
    "ratings": {
        "description": "Each player's current rating; the leaderboard view ranks them.",
        "columns": {"player": "player name", "system": "rating system (trueskill)",
                    "mu": "estimated skill (TrueSkill points)", "sigma": "uncertainty of mu (TrueSkill points)",
                    "games": "rated games", "updated": "time of the last update (ISO 8601, UTC)"},
    },
    "rating_history": {
        "description": "Every rating each player has had, oldest first: one row per rated game or manual setting.",
        "columns": {"id": "row id (chronological)", "player": "player name", "system": "rating system",
                    "mu": "skill after this game (TrueSkill points)", "sigma": "uncertainty (TrueSkill points)",
                    "match_id": "the game that set it (empty: set by hand, e.g. a new snapshot's start)",
                    "created": "ISO 8601, UTC"},
    },
    "tournaments": {
        "description": "Tournaments played on this run (league tournament); their games are matches.",
        "columns": {"id": "tournament id", "key": "format and hash of its configuration (the same config resumes it)",
                    "format": "round-robin | gauntlet | swiss", "config": "JSON: its configuration",
                    "status": "running | finished", "created": "ISO 8601, UTC", "finished": "ISO 8601, UTC"},
    },
    "metrics": {
        "description": "Training metrics of learners by training step: losses, returns, entropy, epsilon, "
                       "eval/<bot> scores, exploitability.",
        "columns": {"id": "row id (chronological)", "player": "learner or snapshot",
                    "step": "the learner's env steps when it was logged", "key": "metric name",
                    "value": "its value (empty: NaN)", "created": "ISO 8601, UTC"},
    },
}

VIEW_DOCS: dict[str, dict[str, Any]] = {
    "leaderboard": {
        "description": "Current ratings ranked by the conservative score mu - 3 sigma, as `league leaderboard` "
                       "shows them.",
        "columns": {"rank": "1 is best, per rating system", "player": "player name", "kind": "learner | snapshot | "
                    "baseline | team", "algorithm": "its algorithm", "role": "its role", "parent": "a snapshot's "
                    "learner", "step": "training step of a snapshot's weights", "mu": "skill (TrueSkill points)",
                    "sigma": "uncertainty (TrueSkill points)", "conservative": "mu - 3 sigma (TrueSkill points)",
                    "games": "rated games", "system": "rating system", "updated": "ISO 8601, UTC"},
    },
    "match_sides": {
        "description": "One row per side per match: who played which side, the result and the return. "
                       "Example: games of X as second player: WHERE player = 'X' AND seat = 'second'.",
        "columns": {"match_id": "the match (matches.id)", "origin": "training | evaluation | tournament | human",
                    "tournament_id": "its tournament", "game": "game name", "created": "ISO 8601, UTC",
                    "sides": "number of sides in the game", "side": "0-based side index in the game's order",
                    "seat": "the side's position in words: first (moves first), second, ...",
                    "player": "the side's entrant (a+b for a pick-up team)",
                    "return": "the side's total return (reward units)", "rank": "0 is best; equal ranks draw",
                    "result": "win | draw | loss (empty in one-side games)", "score": "1 win, 0.5 draw, 0 loss",
                    "opponent": "the other side's entrant (several: comma-separated)",
                    "self_play": "1 when the same entrant filled another side too",
                    "length": "game length (env steps)", "truncated": "1 when a step limit ended it",
                    "forfeit": "why it was forfeited"},
    },
    "pair_results": {
        "description": "Head-to-head results of each ordered pair in two-side games (self-play left out).",
        "columns": {"player": "the row player", "opponent": "the column player", "games": "games between them",
                    "wins": "player's wins", "draws": "draws", "losses": "player's losses",
                    "score": "player's mean score (win 1, draw 0.5)", "mean_return": "player's mean return",
                    "games_first": "games with player on the first side", "score_first": "its mean score there",
                    "games_second": "games on the second side", "score_second": "its mean score there"},
    },
    "player_results": {
        "description": "Each player's results over every game of two or more sides, overall and per side.",
        "columns": {"player": "player name", "games": "games", "wins": "wins", "draws": "draws", "losses": "losses",
                    "score": "mean score (win 1, draw 0.5)", "games_first": "games as the first side",
                    "score_first": "mean score as the first side", "games_second": "games as the second side",
                    "score_second": "mean score as the second side"},
    },
    "latest_ratings": {
        "description": "The newest rating-history entry of each player and the match that set it.",
        "columns": {"player": "player name", "system": "rating system", "mu": "TrueSkill points",
                    "sigma": "TrueSkill points", "conservative": "mu - 3 sigma (TrueSkill points)",
                    "match_id": "the match that set it", "created": "ISO 8601, UTC"},
    },
    "evaluations": {
        "description": "Scores of learners against reference bots by training step (metrics eval/<bot>).",
        "columns": {"player": "learner", "step": "its env steps", "opponent": "the reference bot",
                    "score": "win rate (draws count half), or mean return in one-side games",
                    "created": "ISO 8601, UTC"},
    },
    "tournament_summary": {
        "description": "Each tournament with its format, status and how many games are stored.",
        "columns": {"id": "tournament id", "key": "its key", "format": "round-robin | gauntlet | swiss",
                    "status": "running | finished", "created": "ISO 8601, UTC", "finished": "ISO 8601, UTC",
                    "games": "games stored"},
    },
}

METADATA_NAME = "metadata.json"


def datasette_metadata(run_name: str = "league") -> dict[str, Any]:
    """Datasette metadata for a run database: a title, and a description of every table, view and column.

    The database is called `league` in Datasette (the file is league.db).

    Example:
        >>> meta = datasette_metadata("c4")
        >>> tables = meta["databases"]["league"]["tables"]
        >>> meta["title"], tables["match_sides"]["columns"]["seat"]
        ('League run c4', "the side's position in words: first (moves first), second, ...")
    """
    tables = {name: {"description": doc["description"], "columns": dict(doc["columns"])}
              for name, doc in {**TABLES, **VIEW_DOCS}.items()}
    return {
        "title": f"League run {run_name}",
        "description": "A self-play league: players, every game, ratings and training metrics. Start with the "
                       "leaderboard, match_sides and pair_results views. " + _UNITS,
        "databases": {"league": {"description": "One run of `league train` or `league tournament`.",
                                 "tables": tables}},
    }


def metadata_json(run_name: str = "league") -> str:
    """`datasette_metadata` as the text of metadata.json (sorted keys, two-space indents, final newline)."""
    return json.dumps(datasette_metadata(run_name), indent=2, sort_keys=True) + "\n"
