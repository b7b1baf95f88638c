"""Round-robin tournaments: fair schedules, correct ranking, exact resume after a kill."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

import games
from league.play.entrants import resolve
from league.rate.standings import standings
from league.rate.ratings import Rater
from league.store.database import Store
from league.tournament.config import TournamentConfig, TournamentError, check
from league.tournament.formats import plan, play_tournament


def test_schedule_is_fair_and_paired() -> None:
    spec = games.load("connect_four").spec
    config = TournamentConfig(game="connect_four", entrants=("random", "mcts:5", "mcts:10"), games=6)
    tasks = plan(spec, resolve(config.entrants, spec), config)
    assert len(tasks) == 3 * 6 and sorted(t.index for t in tasks) == list(range(18))
    firsts = Counter((t.lineup[0].name, t.lineup[1].name) for t in tasks)
    assert all(firsts[(a, b)] == firsts[(b, a)] == 3 for a, b in [("random", "mcts:5"), ("random", "mcts:10"), ("mcts:5", "mcts:10")])
    by_index = {t.index: t for t in tasks}
    for k in range(0, 18, 2):  # each pair of games shares a seed, with sides swapped
        assert by_index[k].seed == by_index[k + 1].seed
        assert by_index[k].lineup == by_index[k + 1].lineup[::-1]
    # asymmetric games rotate too: every entrant plays both roles
    tag = games.load("simple_tag").spec
    tag_config = TournamentConfig(game="simple_tag", entrants=("random", "scripted"), games=4)
    assert Counter(t.lineup[0].name for t in plan(tag, resolve(tag_config.entrants, tag), tag_config)) == {"random": 2, "scripted": 2}


def test_bad_configurations_are_refused() -> None:
    spec = games.load("connect_four").spec
    with pytest.raises(TournamentError, match="must be even"):
        check(spec, TournamentConfig(game="connect_four", entrants=("a", "b"), games=3))
    with pytest.raises(TournamentError, match="at least two entrants"):
        check(spec, TournamentConfig(game="connect_four", entrants=("a",), games=2))
    with pytest.raises(TournamentError, match="unknown format 'knockout'"):
        check(spec, TournamentConfig(game="connect_four", entrants=("a", "b"), games=2, format="knockout"))


def test_connect_four_ranks_mcts_strength(tmp_path: Path) -> None:
    game = games.load("connect_four")
    config = TournamentConfig(game="connect_four", entrants=("random", "mcts:25", "mcts:100"), games=40)
    with Store.open(tmp_path, create=True) as store:
        result = play_tournament(store, game, resolve(config.entrants, game.spec), config, Rater())
        assert (result.total, result.played) == (120, 120)
        order = [s.name for s in standings(store)]
        assert order == ["mcts:100", "mcts:25", "random"]
        assert store.count_matches(result.tournament_id) == 120
        assert store.tournament(config.key())["status"] == "finished"
        again = play_tournament(store, game, resolve(config.entrants, game.spec), config, Rater())
        assert (again.played, again.resumed) == (0, 120)
        assert store.count_matches() == 120


def test_cooperative_tournament_rates_teams_on_shared_seeds(tmp_path: Path) -> None:
    game = games.load("simple_spread")
    config = TournamentConfig(game="simple_spread", entrants=("random", "scripted"), games=6)
    with Store.open(tmp_path, create=True) as store:
        play_tournament(store, game, resolve(config.entrants, game.spec), config, Rater())
        matches = store.matches()
        assert len(matches) == 12
        seeds = Counter(m.seed for m in matches)
        assert set(seeds.values()) == {2}  # both teams played every seed
        board = standings(store)
        assert [s.name for s in board] == ["scripted", "random"]
        assert all(s.games == 6 for s in board)  # one free-for-all update per seed


def test_killed_tournament_resumes_to_the_exact_count(tmp_path: Path) -> None:
    run = tmp_path / "run"
    command = [sys.executable, "-m", "league.app.cli", "tournament", "--game", "tic_tac_toe",
               "--entrants", "random,mcts:200,mcts:400", "--games", "40", "--batch", "8", "--run", str(run)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    stored = 0
    deadline = time.time() + 60
    while time.time() < deadline:
        time.sleep(0.05)
        if (run / "league.db").exists():
            try:
                with Store.open(run) as store:
                    stored = store.count_matches()
            except Exception:  # noqa: BLE001 - the file may be mid-creation
                continue
            if stored >= 10:
                break
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    with Store.open(run) as store:
        before = store.count_matches()
    assert 10 <= before < 120, "the kill should land in the middle of the tournament"
    finished = subprocess.run(command, capture_output=True, text=True, check=True)
    assert f"{120 - before} games played, {before} already stored, 120 in the schedule" in finished.stdout
    with Store.open(run) as store:
        matches = store.matches()
        assert len(matches) == 120
        assert sorted(m.game_index for m in matches) == list(range(120))
        assert sum(s.games for s in standings(store)) == 2 * 120  # every game rated exactly once


class LinearGreedy:
    """A deterministic player (a greedy snapshot's behaviour): the best legal action under fixed weights."""

    needs_engine_states = False

    def __init__(self, spec, seed: int):
        import numpy as np

        size = int(np.prod(spec.seats[0].obs_shape))
        self.weights = np.random.default_rng(seed).normal(size=(size, spec.seats[0].n_actions))

    def unsupported(self, spec, seats):
        return None

    def act(self, obs, mask, *, seat, keys, explore=False, engine_states=None):
        import numpy as np

        return np.where(mask, obs.reshape(len(obs), -1) @ self.weights, -np.inf).argmax(1)


def greedy_field(game, n: int = 3):
    from league.play.runner import Entrant

    return [Entrant(f"greedy-{k}", LinearGreedy(game.spec, k)) for k in range(n)]


def test_deterministic_entrants_play_distinct_games_from_openings_and_resume(tmp_path: Path) -> None:
    from league.play.runner import decode_moves

    game = games.load("connect_four")
    field = greedy_field(game)
    names = tuple(e.name for e in field)
    repeated = TournamentConfig(game="connect_four", entrants=names, games=10, openings="none")
    with Store.open(tmp_path / "none", create=True) as store:
        plain = play_tournament(store, game, field, repeated, Rater())
        assert plain.openings.header() == "" and plain.key == repeated.key()
        assert len({m.moves for m in store.matches()}) <= 6  # two games per pairing, repeated
    config = TournamentConfig(game="connect_four", entrants=names, games=10)
    with Store.open(tmp_path / "default", create=True) as store:
        result = play_tournament(store, game, field, config, Rater())
        assert result.openings.header().startswith("openings: random:4 for pairings of deterministic entrants")
        matches = store.matches()
        assert len({m.moves for m in matches}) >= 0.9 * len(matches) == 27
        assert all(decode_moves(m.moves)[1] == 4 for m in matches)
        assert result.key != config.key() and store.tournament(result.key)["status"] == "finished"
        again = play_tournament(store, game, field, config, Rater())  # the same settings: nothing left to play
        assert (again.played, again.resumed, again.key) == (0, 30, result.key)


def test_a_book_gives_every_pair_its_line_in_order(tmp_path: Path) -> None:
    from league.play.runner import decode_moves

    game = games.load("connect_four")
    book = tmp_path / "book.txt"
    book.write_text("x3 o3\nx0 o6 x1\n")
    config = TournamentConfig(game="connect_four", entrants=("random", "mcts:5"), games=6, openings=str(book))
    with Store.open(tmp_path / "run", create=True) as store:
        result = play_tournament(store, game, resolve(config.entrants, game.spec), config, Rater())
        openings = {m.game_index: decode_moves(m.moves) for m in store.matches()}
    lines = [[3, 3], [0, 6, 1], [3, 3]]  # pair k plays line k, cycling
    for index, (actions, opening) in openings.items():
        assert actions[:opening] == lines[index // 2]
    assert result.openings.header() == f"openings: {book}" and result.openings.key.startswith("file:")
    with pytest.raises(TournamentError, match="the openings order must be sequential or random, got 'shuffled'"):
        check(game.spec, TournamentConfig(game="connect_four", entrants=("a", "b"), games=2, openings_order="shuffled"))
    with pytest.raises(TournamentError, match=r"^--openings random:N needs a whole number of plies of at least 1, got 'random:x'$"):
        check(game.spec, TournamentConfig(game="connect_four", entrants=("a", "b"), games=2, openings="random:x"))


def test_a_stream_that_waits_lets_the_runner_idle_until_a_game_is_reported() -> None:
    from league.play.runner import GameTask, RunnerError, run

    game = games.load("tic_tac_toe")
    a, b = resolve(["random", "mcts:5"], game.spec)
    reported: list[int] = []
    handed: list[tuple[int, int]] = []  # (task index, games reported when it was handed out)

    def stream():
        for k in range(6):  # one game at a time: the next only once the last is reported
            while len(reported) < k:
                yield None
            handed.append((k, len(reported)))
            yield GameTask(k, k, (a, b))

    records = run(game, stream(), batch=4, on_record=lambda r: reported.append(r.index))
    assert [r.index for r in records] == list(range(6)) and handed == [(k, k) for k in range(6)]

    def stuck():
        yield GameTask(0, 0, (a, b))
        while True:
            yield None

    with pytest.raises(RunnerError, match="^the stream of games waits for results with no game in flight$"):
        run(game, stuck(), batch=2)
