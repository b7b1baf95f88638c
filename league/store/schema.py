"""The run database's tables, and the upgrade of databases written by older versions.

Version 2 adds each game's moves (`matches.moves`, league.play.runner.encode_moves; NULL for
games stored before) and what makes reads scale and trust possible: a human origin for games people
play (never rolled back), a `rated` flag for games stored before they are rated (a
tournament rates in schedule order), `match_players` (which player is in which game, for
paging one player's games), running totals of results per player and per pair (leaderboard
and payoff read these instead of every match), trainer checkpoints (the commit point of a
training run, checksummed by SQLite itself) and the sha256 of every file written beside
the database.

Example:
    >>> import sqlite3
    >>> conn = sqlite3.connect(":memory:")
    >>> conn.executescript(SCHEMA) and None
    >>> sorted(r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'"))[:4]
    ['checkpoints', 'files', 'league_meta', 'match_players']
"""

from __future__ import annotations

SCHEMA_VERSION = 2
ORIGINS = ("tournament", "training", "evaluation", "human")

_MATCHES = """
CREATE TABLE {table} (id INTEGER PRIMARY KEY,
    origin TEXT NOT NULL CHECK (origin IN ('tournament', 'training', 'evaluation', 'human')),
    tournament_id INTEGER REFERENCES tournaments(id), game TEXT NOT NULL, game_index INTEGER,
    seed INTEGER NOT NULL, sides TEXT NOT NULL, returns TEXT NOT NULL, ranks TEXT NOT NULL,
    length INTEGER NOT NULL, truncated INTEGER NOT NULL CHECK (truncated IN (0, 1)), forfeit TEXT,
    moves TEXT,
    rated INTEGER NOT NULL DEFAULT 1 CHECK (rated IN (0, 1)),
    created TEXT NOT NULL, UNIQUE (tournament_id, game_index));
"""
_MATCH_INDEXES = """
CREATE INDEX matches_origin ON matches(origin);
CREATE INDEX matches_unrated ON matches(tournament_id) WHERE rated = 0;
"""

# Plain DDL because sqlite-utils' create() cannot express CHECK or a composite UNIQUE.
_V2_TABLES = """
CREATE TABLE match_players (player TEXT NOT NULL, match_id INTEGER NOT NULL, PRIMARY KEY (player, match_id))
    WITHOUT ROWID;
CREATE TABLE results (player TEXT NOT NULL, tournament INTEGER NOT NULL, wins INTEGER NOT NULL,
    draws INTEGER NOT NULL, losses INTEGER NOT NULL, forfeits INTEGER NOT NULL, PRIMARY KEY (player, tournament))
    WITHOUT ROWID;
CREATE TABLE pairs (a TEXT NOT NULL, b TEXT NOT NULL, wins INTEGER NOT NULL, draws INTEGER NOT NULL,
    losses INTEGER NOT NULL, returns REAL NOT NULL, PRIMARY KEY (a, b)) WITHOUT ROWID;
CREATE TABLE side_returns (player TEXT NOT NULL, sides INTEGER NOT NULL, side INTEGER NOT NULL,
    total REAL NOT NULL, games INTEGER NOT NULL, PRIMARY KEY (player, sides, side)) WITHOUT ROWID;
CREATE TABLE checkpoints (id INTEGER PRIMARY KEY, round INTEGER NOT NULL, state TEXT NOT NULL, created TEXT NOT NULL);
CREATE TABLE files (path TEXT PRIMARY KEY, sha256 TEXT NOT NULL, updated TEXT NOT NULL);
"""

SCHEMA = """
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
""" + _MATCHES.format(table="matches") + _MATCH_INDEXES + """
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
""" + _V2_TABLES

# Version 1 -> 2 (run with foreign keys off, as SQLite's table-rebuild procedure asks): the
# matches table is rebuilt, since a CHECK constraint cannot be altered, and the new tables are
# created; league.store.database then fills the running totals from the stored games.
UPGRADE_1_TO_2 = _MATCHES.format(table="matches_v2") + """
INSERT INTO matches_v2 (id, origin, tournament_id, game, game_index, seed, sides, returns, ranks, length, truncated,
    forfeit, rated, created)
    SELECT id, origin, tournament_id, game, game_index, seed, sides, returns, ranks, length, truncated, forfeit, 1,
    created FROM matches;
DROP TABLE matches;
ALTER TABLE matches_v2 RENAME TO matches;
""" + _MATCH_INDEXES + _V2_TABLES
