"""The tables of a schema-1 league database (before moves and running totals), for upgrade tests."""

V1_TABLES = """
CREATE TABLE league_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE runs (id INTEGER PRIMARY KEY, name TEXT NOT NULL, game TEXT NOT NULL, config TEXT NOT NULL,
    created TEXT NOT NULL);
CREATE TABLE players (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('learner', 'snapshot', 'baseline', 'team')),
    algorithm TEXT, role TEXT, parent TEXT REFERENCES players(name), step INTEGER,
    weights_path TEXT, weights_sha256 TEXT, meta TEXT NOT NULL DEFAULT '{}', created TEXT NOT NULL);
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
CREATE TABLE metrics (id INTEGER PRIMARY KEY, player TEXT NOT NULL REFERENCES players(name),
    step INTEGER NOT NULL, key TEXT NOT NULL, value REAL, created TEXT NOT NULL);
INSERT INTO league_meta VALUES ('application', 'league'), ('schema_version', '1');
"""
