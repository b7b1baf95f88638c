"""Every game replayable: moves kept compactly with each stored game, older databases upgraded,
`league replay`, the moves of `league matches --moves`, and game-record files."""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from v1_schema import V1_TABLES

import games
from league.app.replay import ReplayError, moves_text, replay
from league.play.entrants import resolve
from league.play.runner import Entrant, GameTask, decode_moves, encode_moves, run
from league.rate.ratings import Rater
from league.store.database import Store
from league.tournament.config import TournamentConfig
from league.tournament.formats import play_tournament
from league.tournament.records import RecordError, game_record, movers, write_game_records

# the schema league wrote before it kept moves (schema version 1)
V1_SCHEMA = V1_TABLES + """
INSERT INTO runs VALUES (1, 'old', 'tic_tac_toe', '{}', '2025-01-01T00:00:00+00:00');
INSERT INTO players VALUES (1, 'random', 'baseline', NULL, NULL, NULL, NULL, NULL, NULL, '{}', '2025-01-01'),
    (2, 'mcts:5', 'baseline', NULL, NULL, NULL, NULL, NULL, NULL, '{}', '2025-01-01');
INSERT INTO matches VALUES (1, 'evaluation', NULL, 'tic_tac_toe', NULL, 7, '["random", "mcts:5"]', '[-1.0, 1.0]',
    '[1, 0]', 6, 0, NULL, '2025-01-01T00:00:00+00:00');
"""


@pytest.fixture(scope="module")
def played(tmp_path_factory) -> Path:
    """A small tic-tac-toe tournament, stored with its moves."""
    run_dir = tmp_path_factory.mktemp("ttt")
    game = games.load("tic_tac_toe")
    config = TournamentConfig(game="tic_tac_toe", entrants=("random", "mcts:5"), games=6, openings="random:2")
    with Store.open(run_dir, create=True) as store:
        store.init_run("ttt", game.ref, {})
        play_tournament(store, game, resolve(config.entrants, game.spec), config, Rater())
    return run_dir


def test_moves_are_compact_text_that_decodes_to_what_was_played() -> None:
    assert encode_moves(np.array([3, 3, 4, 2]), opening=2) == "3 3 | 4 2"
    assert decode_moves("3 3 | 4 2") == ([3, 3, 4, 2], 2)
    assert decode_moves(encode_moves(np.array([[0, 2], [1, -1]]))) == ([(0, 2), (1, None)], 0)
    rps = games.load("matrix_rps")
    a, b = resolve(["action:0", "action:2"], rps.spec)
    record = run(rps, [GameTask(0, 1, (a, b))])[0]
    assert record.moves == "0,2"  # a simultaneous step: every seat's action


def test_every_stored_game_replays_to_its_stored_result(played: Path) -> None:
    game = games.load("tic_tac_toe")
    with Store.open(played) as store:
        matches = store.matches()
        assert len(matches) == 6 and all(m.moves is not None for m in matches)
        for m in matches:
            actions, opening = decode_moves(m.moves)
            assert opening == 2 and len(actions) == m.length
            boards = games.replay_text("tic_tac_toe", m.seed, actions)  # legal all the way
            assert len(boards) == m.length + 1 and len(movers(game, m)) == m.length
        pair = [m for m in matches if m.game_index in (0, 1)]
        assert decode_moves(pair[0].moves)[0][:2] == decode_moves(pair[1].moves)[0][:2]  # one opening, both games


def test_league_replay_draws_the_board_after_every_move(played: Path) -> None:
    with Store.open(played) as store:
        match = store.matches()[0]
        text = replay(store, match.id)
        assert text.startswith(f"match {match.id}: tic_tac_toe, seed {match.seed}\nfirst: {match.sides[0]}; "
                               f"second: {match.sides[1]}\nopening (played for the entrants): ")
        assert "start\n...\n...\n..." in text and "1. first (opening): " in text and "3. first (" in text
        assert text.splitlines()[-1].startswith("result: ")
        assert text.count("\n\n") == match.length + 2  # header, start, one block per move, result
        line = moves_text(games.load("tic_tac_toe"), match)
        assert line.split()[2] == "|" and len(line.split()) == match.length + 1


def test_replay_of_a_missing_match_or_an_old_game_is_one_sentence(tmp_path: Path, played: Path) -> None:
    with Store.open(played) as store:
        with pytest.raises(ReplayError, match=r"^there is no match 99 in .*; `league matches` lists them$"):
            replay(store, 99)
    old = tmp_path / "old"
    old.mkdir()
    with sqlite3.connect(old / "league.db") as conn:
        conn.executescript(V1_SCHEMA)
    conn.close()
    with Store.open(old) as store:  # the database is upgraded in place; its old game has no moves
        match = store.match(1)
        assert match is not None and match.moves is None and match.length == 6
        with pytest.raises(ReplayError, match=r"^match 1 was stored without its moves \(by a league older than move "
                                              r"recording, or its game has continuous actions\)$"):
            replay(store, 1)
        assert moves_text(games.load("tic_tac_toe"), match) == "-"
    with sqlite3.connect(old / "league.db") as conn:
        assert conn.execute("SELECT value FROM league_meta WHERE key = 'schema_version'").fetchone()[0] != "1"
        assert "moves" in [row[1] for row in conn.execute("PRAGMA table_info(matches)")]
    conn.close()


def test_a_game_without_boards_prints_its_move_list(tmp_path: Path) -> None:
    game = games.load("connect_four_pz")
    config = TournamentConfig(game="connect_four_pz", entrants=("random", "random-2"), games=2)
    twin = Entrant("random-2", resolve(["random"], game.spec)[0].policy)
    with Store.open(tmp_path, create=True) as store:
        store.init_run("pz", game.ref, {})
        play_tournament(store, game, resolve(["random"], game.spec) + [twin], config, Rater())
        text = replay(store, 1)
    lines = text.splitlines()
    assert lines[2] == "" and lines[3].startswith("1. first (random") and ": column " in lines[3]
    assert lines[-1].startswith("result: ") and "start" not in text


def test_game_records_for_external_tools(played: Path, tmp_path: Path) -> None:
    game = games.load("tic_tac_toe")
    with Store.open(played) as store:
        matches = store.matches()
        out = tmp_path / "games.txt"
        assert write_game_records(game, matches, out) == 6
        blocks = out.read_text().strip().split("\n\n")
        assert len(blocks) == 12  # tags and moves per game
        first = game_record(game, matches[0])
    assert blocks[0] + "\n\n" + blocks[1] == first
    tags = dict(line[1:-1].split(" ", 1) for line in blocks[0].splitlines())
    assert tags["Game"] == '"tic_tac_toe"' and tags["First"] == f'"{matches[0].sides[0]}"'
    assert tags["Result"].strip('"') in ("1-0", "0-1", "1/2-1/2") and blocks[1].endswith(tags["Result"].strip('"'))
    assert len(tags["Opening"].strip('"').split()) == 2 and tags["Plies"] == f'"{matches[0].length}"'
    tag = games.load("simple_tag")
    with pytest.raises(RecordError, match="^game records are written for two-player turn-based games with discrete "
                                          "moves, and simple_tag is not one$"):
        write_game_records(tag, [], io.StringIO())


def test_a_forfeited_game_keeps_the_moves_before_the_forfeit() -> None:
    game = games.load("tic_tac_toe")

    class Cheats:
        needs_engine_states = False

        def unsupported(self, spec, seats):
            return None

        def act(self, obs, mask, *, seat, keys, explore=False, engine_states=None):
            taken = mask.shape[1] - mask.sum(1)
            return np.where(taken >= 2, (~mask).argmax(1), mask.argmax(1))  # an occupied cell from its second move

    a, b = Entrant("cheat", Cheats()), resolve(["random"], game.spec)[0]
    record = run(game, [GameTask(0, 3, (a, b))], forfeits=True)[0]
    actions, _ = decode_moves(record.moves)
    assert record.forfeit.startswith("cheat played an illegal move") and len(actions) == 2 == record.length - 1
