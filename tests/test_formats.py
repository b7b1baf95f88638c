"""Gauntlet with SPRT, Swiss pairings, rating views on a non-transitive game, and forfeits."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import games
from league.app.cli import cli
from league.play.entrants import resolve
from league.rate.standings import standings
from league.rate.ratings import Rater
from league.play.runner import Entrant
from league.store.database import Store
from league.tournament.config import TournamentConfig, TournamentError, check
from league.tournament.formats import play_tournament


def play(tmp: Path, game: str, config: TournamentConfig, extra: list[Entrant] = (), **options):
    loaded = games.load(game)
    names = [n for n in config.entrants if n not in {e.name for e in extra}]
    roster = resolve(names, loaded.spec) + list(extra)
    store = Store.open(tmp, create=True)
    return store, play_tournament(store, loaded, roster, config, Rater(), **options)


def test_sprt_stops_an_obvious_pairing_early_and_a_close_one_late(tmp_path: Path) -> None:
    from agents.baselines import RandomPolicy

    config = TournamentConfig(game="connect_four", entrants=("mcts:50", "random", "action:3"), games=200,
                              format="gauntlet", challengers=("mcts:50",), sprt="elo0=0,elo1=20")
    store, result = play(tmp_path, "connect_four", config, batch=32)
    by = {p.b: p for p in result.pairings}
    assert by["random"].status == "H1" and by["random"].games < 100  # decided within ~45 pairs
    assert by["action:3"].status == "H1"
    store.close()
    # two equally strong players: the test needs far more games (here it runs to the cap)
    twin = Entrant("random-twin", RandomPolicy(games.load("connect_four").spec))
    close = TournamentConfig(game="connect_four", entrants=("random", "random-twin"), games=200, format="gauntlet",
                             challengers=("random",), sprt="elo0=0,elo1=20")
    store, result = play(tmp_path / "close", "connect_four", close, extra=[twin], batch=64)
    assert result.pairings[0].games == 200 and result.pairings[0].status == "done"
    store.close()


def test_gauntlet_plays_only_challengers_against_the_field(tmp_path: Path) -> None:
    config = TournamentConfig(game="tic_tac_toe", entrants=("mcts:20", "random", "mcts:5", "action:0"), games=4,
                              format="gauntlet", challengers=("mcts:20",))
    store, result = play(tmp_path, "tic_tac_toe", config)
    pairs = Counter(frozenset(m.sides) for m in store.matches())
    assert set(pairs) == {frozenset({"mcts:20", f}) for f in ("random", "mcts:5", "action:0")}
    assert set(pairs.values()) == {4} and result.total == 12
    store.close()


@pytest.mark.parametrize("n", [7, 8])
def test_swiss_pairs_by_score_without_rematches(tmp_path: Path, n: int) -> None:
    entrants = tuple(["random"] + [f"mcts:{2 ** k}" for k in range(n - 1)])
    config = TournamentConfig(game="tic_tac_toe", entrants=entrants, games=2, format="swiss")
    store, result = play(tmp_path, "tic_tac_toe", config)
    rounds = config.swiss_rounds()
    assert rounds == int(np.ceil(np.log2(n))) + 2
    per_round = (n + 1) // 2
    met = Counter(frozenset((p.a, p.b)) for p in result.pairings)
    assert max(met.values()) == 1, "no pair meets twice"
    for r in range(rounds):
        this = [p for p in result.pairings if r * per_round <= p.index < (r + 1) * per_round]
        seated = [x for p in this for x in (p.a, p.b)]
        assert len(seated) == len(set(seated)) == n - (n % 2)  # everyone once, one bye when odd
    assert store.count_matches(result.tournament_id) == rounds * (n // 2) * 2
    # resuming a finished Swiss plays nothing and changes nothing
    again = play_tournament(store, games.load("tic_tac_toe"), resolve(entrants, games.load("tic_tac_toe").spec),
                            config, Rater())
    assert again.played == 0
    store.close()


def test_rps_views_tell_what_trueskill_cannot(tmp_path: Path) -> None:
    runner = CliRunner()
    run = str(tmp_path / "rps")
    out = runner.invoke(cli, ["tournament", "--game", "matrix_rps", "--entrants", "action:0,action:1,action:2",
                              "--games", "20", "--run", run])
    assert out.exit_code == 0
    board = runner.invoke(cli, ["leaderboard", "--by", "nash", "--run", run])
    assert board.stdout == """\
name       nash  alpha-rank  games
action:0  0.333       0.333     40
action:1  0.333       0.333     40
action:2  0.333       0.333     40
"""
    bt = runner.invoke(cli, ["leaderboard", "--by", "bt", "--run", run])
    assert [line.split()[:3] for line in bt.stdout.splitlines()[1:]] == [["1", f"action:{k}", "+0"] for k in range(3)]
    with Store.open(run) as store:
        mus = [s.mu for s in standings(store)]
        assert max(mus) - min(mus) < 2.0  # TrueSkill sees three equal players: no ranking


class Crashes:
    needs_engine_states = False

    def __init__(self, every: int):
        self.every = every

    def unsupported(self, spec, seats):
        return None

    def act(self, obs, mask, *, seat, keys, explore=False, engine_states=None):
        if (keys % self.every == 0).any():
            raise RuntimeError("segfault in the policy")
        return mask.argmax(1)


class Slow(Crashes):
    def act(self, obs, mask, *, seat, keys, explore=False, engine_states=None):
        time.sleep(0.05)
        return mask.argmax(1)


def test_a_crashing_entrant_forfeits_its_games_and_the_tournament_goes_on(tmp_path: Path) -> None:
    crash = Entrant("crashy", Crashes(every=7))
    config = TournamentConfig(game="tic_tac_toe", entrants=("random", "mcts:5", "crashy"), games=10)
    store, result = play(tmp_path, "tic_tac_toe", config, extra=[crash])
    assert result.played == 30
    forfeits = [m for m in store.matches() if m.forfeit]
    assert forfeits and all(m.forfeit.startswith("crashy failed to act") for m in forfeits)
    for m in forfeits:
        assert m.ranks[m.sides.index("crashy")] == 1 and "crashy" in m.sides
    board = {s.name: s for s in standings(store)}
    assert board["crashy"].forfeits == len(forfeits) and board["random"].forfeits == 0
    store.close()
    with pytest.raises(TournamentError, match="entrant 'crashy' failed to act"):
        play(tmp_path / "strict", "tic_tac_toe", config, extra=[crash], stop_on_error=True)


def test_move_timeout_forfeits_the_slow_entrant(tmp_path: Path) -> None:
    slow = Entrant("slowpoke", Slow(every=1))
    config = TournamentConfig(game="tic_tac_toe", entrants=("random", "slowpoke"), games=2)
    store, result = play(tmp_path, "tic_tac_toe", config, extra=[slow], move_timeout=0.01, batch=1)
    assert all(m.forfeit and "exceeded the move timeout" in m.forfeit for m in store.matches())
    assert all(m.ranks[m.sides.index("slowpoke")] == 1 for m in store.matches())
    store.close()


def test_bad_format_options_are_one_sentence() -> None:
    spec = games.load("connect_four").spec
    with pytest.raises(TournamentError, match="a gauntlet needs --challengers"):
        check(spec, TournamentConfig(game="c", entrants=("a", "b"), games=2, format="gauntlet"))
    with pytest.raises(TournamentError, match="--sprt: elo1 must be above elo0"):
        check(spec, TournamentConfig(game="c", entrants=("a", "b"), games=2, sprt="elo0=5,elo1=1"))
    with pytest.raises(TournamentError, match="--sprt stops head-to-head pairings"):
        check(spec, TournamentConfig(game="c", entrants=("a", "b"), games=2, format="swiss", sprt="elo1=5"))
    with pytest.raises(TournamentError, match="--rounds belongs to the swiss format"):
        check(spec, TournamentConfig(game="c", entrants=("a", "b"), games=2, rounds=3))
    code = CliRunner().invoke(cli, ["tournament", "--format", "knockout"])
    assert code.exit_code == 2 and "Invalid value for '--format'" in code.stderr


def pairs_in_completion_order(store: Store, challenger: str) -> list[float]:
    """The challenger's points per pair, in the order the pairs were completed (stored)."""
    from league.results import score_against

    halves: dict[int, float] = {}
    out = []
    for m in store.matches():
        s = score_against(m.ranks, m.sides.index(challenger), 1 - m.sides.index(challenger))
        k = m.game_index // 2
        if k in halves:
            out.append(halves.pop(k) + s)
        else:
            halves[k] = s
    return out


def test_a_decided_pairing_overruns_its_decision_by_a_few_games_only(tmp_path: Path) -> None:
    from league.play.backends import LocalBackend
    from league.rate.sprt import Pentanomial

    class Unpaced(LocalBackend):  # a backend that cannot wait: the stream is not paced
        name = "local-unpaced"

    config = TournamentConfig(game="tic_tac_toe", entrants=("mcts:50", "random"), games=200, format="gauntlet",
                              challengers=("mcts:50",), sprt="elo0=0,elo1=50")
    store, result = play(tmp_path, "tic_tac_toe", config, batch=64)
    pairing = result.pairings[0]
    pairs = pairs_in_completion_order(store, "mcts:50")
    needed = 2 * next(k for k in range(1, len(pairs) + 1)
                      if config.test().status(Pentanomial.from_pairs(pairs[:k])) == "H1")
    assert pairing.status == "H1" and pairing.games <= 2 * needed and pairing.beyond <= 6
    assert store.count_matches(result.tournament_id) == pairing.games  # the overrun is stored and counted
    assert pairing.llr == pytest.approx(config.test().llr(Pentanomial.from_pairs(pairs)))
    assert pairing.decision_llr >= config.test().upper and pairing.decided_at + pairing.beyond == pairing.games
    store.close()
    store, unpaced = play(tmp_path / "unpaced", "tic_tac_toe", config, batch=64, backend=Unpaced())
    assert unpaced.pairings[0].games > 3 * pairing.games  # a whole batch in flight overruns the decision
    store.close()


def test_pentanomial_counts_and_periodic_reports_on_request(tmp_path: Path) -> None:
    from league.tournament.summary import ReportEvery, pairing_rows

    reports = []
    config = TournamentConfig(game="tic_tac_toe", entrants=("random", "mcts:5"), games=10)
    store, result = play(tmp_path, "tic_tac_toe", config,
                         progress=ReportEvery(4, lambda done, total, pairings: reports.append((done, total))))
    assert reports == [(4, 10), (8, 10)]
    columns, rows = pairing_rows(result.pairings, None, pentanomial=True)
    assert columns == ["pairing", "games", "score", "elo [95%]", "ptnml(0-2)"]
    counts = [int(c) for c in rows[0][-1].split()]
    assert sum(counts) == 5 and sum(c * k / 2 for k, c in enumerate(counts)) == result.pairings[0].points
    store.close()
