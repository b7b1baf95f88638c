"""Tournaments: round-robin, gauntlet and Swiss, with paired games, SPRT and resumable play.

Two entrants of a pairing play games in pairs that share a seed, with sides swapped (the
same cards, the same first move), as chess-engine testers play paired openings. Each
pairing's results are kept as pentanomial counts of those pairs; with `sprt` a pairing
stops as soon as the generalised SPRT accepts H0 or H1 (league/rate/sprt.py), otherwise it
plays `games` games and reports an Elo difference with a 95% interval. A pairing under test
never has more games in flight than could end its test (league/tournament/pacing.py), so a
decision is overrun by a few games, which are still stored and counted.

Both games of a pair start from the same opening (league/tournament/openings.py): random
plies, a book, or by default a few random plies where two deterministic entrants would
otherwise replay one game. Every game is stored with its moves (league/tournament/records.py).

- round-robin: every pair of entrants. On a one-side (cooperative) game every entrant plays
  the same seeded episodes and each seed is rated as a free-for-all.
- gauntlet: each challenger against every other entrant (the field).
- swiss: `rounds` rounds (default ceil(log2 n) + 2); each round pairs entrants with equal or
  close scores who have not met yet; an odd entrant out gets a bye worth a win per game.

Every finished game is stored and rated in one transaction before it is reported. A
tournament is keyed by its configuration: running the same command again plays only what
is missing, so a killed tournament resumes and never counts a game twice.

This module holds the formats' schedules and `play_tournament`. The configuration, its key and
its checks are in league/tournament/config.py, a pairing's statistics in pairing.py, and the
engine that hands games to a backend and stores and rates them in engine.py.

Example:
    >>> import games
    >>> from league.play.entrants import resolve
    >>> spec = games.load("tic_tac_toe").spec
    >>> config = TournamentConfig(game="tic_tac_toe", entrants=("random", "mcts:5", "mcts:10"), games=4)
    >>> tasks = plan(spec, resolve(config.entrants, spec), config)
    >>> len(tasks), tasks[0].lineup[0].name, tasks[1].lineup[0].name
    (12, 'random', 'mcts:5')
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Callable, Iterator, Sequence

from games.base import Game, GameSpec, derive_seed
from league.play.runner import Entrant, GameRecord, GameTask
from league.rate.ratings import Rater
from league.rate.updates import stored_game_rater
from league.store.database import Store
from league.tournament.config import TournamentConfig, TournamentError, check, fixed_pairings
from league.tournament.engine import TournamentPlay
from league.tournament.openings import NO_OPENINGS, OpeningPlan
from league.tournament.pairing import Pairing

OPENINGS_AHEAD = 32  # random openings are drawn this many pairs ahead (an SPRT may stop a pairing long before its cap)


@dataclass(frozen=True)
class TournamentResult:
    tournament_id: int
    total: int  # games in the schedule (the cap when SPRT stops pairings early)
    played: int  # games played by this call
    resumed: int  # games found already stored
    seconds: float
    pairings: tuple["Pairing", ...] = ()
    openings: OpeningPlan = NO_OPENINGS  # the openings played, and how many were skipped
    key: str = ""  # the tournament's key in the store


def _pair_tasks(p: int, a: Entrant, b: Entrant, k: int, config: TournamentConfig, base: int,
                opening: tuple[int, ...] = ()) -> list[GameTask]:
    """The two games of pair k of pairing p: same seed, same opening, sides swapped."""
    seed = derive_seed(config.seed, p, k)
    first = base + 2 * k
    return [GameTask(first, seed, (a, b), opening), GameTask(first + 1, seed, (b, a), opening)]


def plan(spec: GameSpec, entrants: Sequence[Entrant], config: TournamentConfig) -> list[GameTask]:
    """The full schedule of a round-robin or gauntlet (no SPRT stops): every game's index, seed, lineup."""
    check(spec, config)
    by_name = {e.name: e for e in entrants}
    tasks: list[GameTask] = []
    if len(spec.sides) == 1:
        for k, entrant in enumerate(entrants):
            for g in range(config.games):
                tasks.append(GameTask(index=k * config.games + g, seed=derive_seed(config.seed, g), lineup=(entrant,)))
        return tasks
    if config.format == "swiss":
        raise TournamentError("a swiss schedule depends on results; it is made round by round while playing")
    for p, (a, b) in enumerate(fixed_pairings(config)):
        for k in range(config.games // 2):
            tasks += _pair_tasks(p, by_name[a], by_name[b], k, config, p * config.games)
    return tasks


def play_head_to_head(state: TournamentPlay, pairs: list[tuple[str, str]], base_of: Callable[[int], int],
                      offset: int = 0) -> None:
    """Play pairings pair by pair, interleaved, skipping stored games and stopped pairings."""
    for p, (a, b) in enumerate(pairs):
        pairing = state.pairings[offset + p] = Pairing(offset + p, a, b)
        base = base_of(p)
        for g in range(state.config.games):
            match = state.stored.get(base + g)
            if match is not None:
                state.count(pairing, base + g, match.sides, match.ranks)
    state.total += len(pairs) * state.config.games
    for p in range(len(pairs)):
        for g in range(state.config.games):
            state.places[base_of(p) + g] = (offset, g // 2, p, g % 2)  # the order tasks() hands them out

    size = state.config.games // 2
    cursor = [0] * len(pairs)  # per pairing, the next pair to hand out
    openings = state.openings.for_pairings(pairs, min(size, OPENINGS_AHEAD))  # per pairing, per pair; more later

    def live(p: int) -> bool:
        return cursor[p] < size and state.pairings[offset + p].status not in ("H0", "H1")

    def frontier() -> tuple[float, ...]:
        """Just below the first place that may still be handed out: games are rated up to it."""
        return min(((offset, cursor[p], p, -0.5) for p in range(len(pairs)) if live(p)), default=(offset, math.inf))

    def tasks() -> Iterator[GameTask | None]:
        """One pair per pairing per sweep, in schedule order, holding back a pairing whose
        SPRT could end with the games it has in flight (None: every pairing left waits)."""
        while True:
            handed = held = False
            for p, (a, b) in enumerate(pairs):
                pairing = state.pairings[offset + p]
                if not live(p):
                    continue
                if not state.pacer.room(pairing):
                    held = True
                    continue
                k, handed = cursor[p], True
                cursor[p] += 1
                if k >= len(openings[p]):
                    openings[p] = state.openings.for_pairings([(a, b)], min(size, k + OPENINGS_AHEAD))[0]
                for task in _pair_tasks(offset + p, state.by_name[a], state.by_name[b], k, state.config, base_of(p),
                                        openings[p][k]):
                    if task.index not in state.stored:
                        pairing.in_flight += 1
                        state.in_flight[task.index] = state.places[task.index]
                        state.horizon = frontier()
                        yield task
            state.horizon = frontier()
            if not handed:
                if not held:
                    return
                yield None

    owner = {base_of(p) // state.config.games: state.pairings[offset + p] for p in range(len(pairs))}
    state.run(tasks(), lambda record: state.record(record, owner[record.index // state.config.games]))
    state.horizon = (offset, math.inf)  # every game of these pairings is stored
    state.rate_in_order()
    for pairing in (state.pairings[offset + p] for p in range(len(pairs))):
        if pairing.status == "running":
            pairing.status = "done"


def play_swiss(state: TournamentPlay) -> None:
    """Round by round: pair by score without rematches, play, and carry the scores on."""
    names = list(state.config.entrants)
    per_round = math.ceil(len(names) / 2)
    points = dict.fromkeys(names, 0.0)
    met: set[frozenset[str]] = set()
    byes: set[str] = set()
    for r in range(state.config.swiss_rounds()):
        order = sorted(names, key=lambda n: (-points[n], names.index(n)))
        bye = None
        if len(order) % 2:
            # the lowest-placed entrant without a bye yet; once everyone has had one, the lowest again
            bye = next((n for n in reversed(order) if n not in byes), order[-1])
            byes.add(bye)
            order.remove(bye)
            points[bye] += state.config.games  # a bye counts as a win per game
        pairs = _swiss_pairs(order, met)
        base = r * per_round * state.config.games
        play_head_to_head(state, pairs, lambda p, base=base: base + p * state.config.games, offset=r * per_round)
        for p, (a, b) in enumerate(pairs):
            pairing = state.pairings[r * per_round + p]
            points[a] += pairing.points
            points[b] += pairing.games - pairing.points
            met.add(frozenset((a, b)))
    state.total = state.config.swiss_rounds() * (len(names) // 2) * state.config.games


def play_cooperative(state: TournamentPlay, tasks: list[GameTask]) -> None:
    """One-side games: rate every seed's group as a free-for-all once all its games are stored."""
    groups: dict[int, dict[str, GameRecord | None]] = {}
    for task in tasks:
        groups.setdefault(task.index % state.config.games, {})[task.lineup[0].name] = None
    for index, match in state.stored.items():
        g = index % state.config.games
        groups[g][match.sides[0]] = GameRecord(index, match.seed, match.sides, match.returns, (), match.ranks,
                                               match.length, match.truncated)
    state.total = len(tasks)

    def on_record(record: GameRecord) -> None:
        groups[record.index % state.config.games][record.sides[0]] = record
        state.store_game(record)
        # seeds are rated in order, each once complete, so a resumed tournament rates as an uninterrupted one
        for g in sorted(groups):
            if any(r is None for r in groups[g].values()):
                break
            ids = [state.unrated.pop(r.index) for r in groups[g].values() if r.index in state.unrated]
            if ids:
                state.store.rate_stored(ids, stored_game_rater(state.rater))
        state.played += 1
        if state.progress is not None:
            state.progress(state.resumed + state.played, state.total, [])

    state.run([t for t in tasks if t.index not in state.stored], on_record)


def _swiss_pairs(order: list[str], met: set[frozenset[str]]) -> list[tuple[str, str]]:
    """Pair neighbours in score order, never twice the same pair (depth-first; rematch only if forced)."""

    def search(rest: list[str]) -> list[tuple[str, str]] | None:
        if not rest:
            return []
        first = rest[0]
        for j in range(1, len(rest)):
            if frozenset((first, rest[j])) in met:
                continue
            tail = search(rest[1:j] + rest[j + 1:])
            if tail is not None:
                return [(first, rest[j])] + tail
        return None

    found = search(order)
    if found is None:  # everyone has met everyone: allow rematches, neighbours in order
        found = [(order[i], order[i + 1]) for i in range(0, len(order) - 1, 2)]
    return found


def play_tournament(
    store: Store,
    game: Game,
    entrants: Sequence[Entrant],
    config: TournamentConfig,
    rater: Rater,
    *,
    batch: int = 128,
    progress: Callable[[int, int, Sequence[Pairing]], None] | None = None,
    stop_on_error: bool = False,
    move_timeout: float | None = None,
    backend=None,
    openings: OpeningPlan | None = None,
) -> TournamentResult:
    """Play what is left of the tournament, storing and rating each game as it finishes.

    An entrant that crashes, plays an illegal move or exceeds `move_timeout` seconds a move
    loses that game by forfeit (stored with the reason) and the tournament goes on, unless
    `stop_on_error`. `progress(done, total, pairings)` is called after each stored game.
    `backend` (league.play.backends) plays the games elsewhere; the store is written here only.
    `openings` is the plan of `plan_openings` (made from the config when not given; pass it
    to print its header before play). Each game's moves are stored with it. With an SPRT
    (on the local backend) a pairing never has more games in flight than could end its test.
    """
    check(game.spec, config)
    if move_timeout is not None and move_timeout <= 0:
        raise TournamentError(f"--move-timeout must be positive, got {move_timeout}")
    state = TournamentPlay(store, game, entrants, config, rater, batch, progress, stop_on_error, move_timeout,
                           backend, openings)
    start = time.perf_counter()
    if len(game.spec.sides) == 1:
        play_cooperative(state, plan(game.spec, entrants, config))
    elif config.format == "swiss":
        play_swiss(state)
    else:
        play_head_to_head(state, fixed_pairings(config), lambda p: p * config.games)
    state.rate_in_order(final=True)
    stored = store.count_matches(state.id)
    complete = all(p.status in ("H0", "H1", "done") for p in state.pairings.values())
    if complete and (len(game.spec.sides) == 1 and stored == state.total or len(game.spec.sides) > 1):
        store.finish_tournament(state.id)
    return TournamentResult(state.id, state.total, state.played, state.resumed, time.perf_counter() - start,
                            tuple(state.pairings.values()), state.openings, state.key)
