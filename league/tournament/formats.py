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

Who sits where is a table (league/tournament/lineups.py): in a symmetric game a combination
of entrants whose games rotate them through every side (two sides: the pair of games with
sides swapped); in an asymmetric game one lineup that seats on each side an entrant of that
side's role, its games each with their own seed (a pair is then two games of one lineup).
Games of three or more sides are rated as free-for-alls and scored per table by the share of
the other sides each entrant finished ahead of; SPRT and openings are for two sides.

- round-robin: every table of distinct entrants. On a one-side (cooperative) game every
  entrant plays the same seeded episodes and each seed is rated as a free-for-all.
- gauntlet: each challenger at every table it can form with the other entrants (the field).
- swiss: `rounds` rounds (default ceil(log2 n) + 2); each round seats entrants with equal or
  close scores at tables they have not sat at yet; an entrant left out gets a bye worth a
  win per game.

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
from league.tournament.config import TournamentConfig, TournamentError, check
from league.tournament.engine import TournamentPlay
from league.tournament.lineups import LineupError, Seating, Table
from league.tournament.openings import NO_OPENINGS, OpeningPlan
from league.tournament.pairing import Pairing, TableScore

OPENINGS_AHEAD = 32  # random openings are drawn this many pairs ahead (an SPRT may stop a pairing long before its cap)


@dataclass(frozen=True)
class TournamentResult:
    tournament_id: int
    total: int  # games in the schedule (the cap when SPRT stops pairings early)
    played: int  # games played by this call
    resumed: int  # games found already stored
    seconds: float
    pairings: tuple[Pairing | TableScore, ...] = ()  # head-to-head pairings; tables of 3+ sides
    openings: OpeningPlan = NO_OPENINGS  # the openings played, and how many were skipped
    key: str = ""  # the tournament's key in the store


def unit(spec: GameSpec, table: Table, games: int) -> int:
    """Games a table hands out at once: a pair in games of two sides (its pentanomial unit), else
    one cycle through its lineups (one game where the cycles do not divide the games)."""
    return 2 if len(spec.sides) == 2 else table.group if games % table.group == 0 else 1


def _table_task(p: int, table: Table, g: int, entrants: dict[str, Entrant], config: TournamentConfig, base: int,
                opening: tuple[int, ...] = ()) -> GameTask:
    """Game g of table p: its lineup cycles through the table's lineups, and one cycle shares a seed
    (two sides, symmetric: the pair of games with sides swapped)."""
    lineup = table.lineups[g % table.group]
    seed = derive_seed(config.seed, p, g // table.group)
    return GameTask(base + g, seed, tuple(entrants[name] for name in lineup), opening)


def fixed_tables(spec: GameSpec, entrants: Sequence[Entrant], config: TournamentConfig) -> list[Table]:
    """The tables of a round-robin or a gauntlet, in schedule order (checked: every entrant can play)."""
    seating = Seating(spec, entrants)
    try:
        seating.check()
        tables = seating.gauntlet(config.challengers) if config.format == "gauntlet" else seating.round_robin()
    except LineupError as error:
        raise TournamentError(str(error)) from None
    if not tables:
        raise TournamentError(f"no lineup of {', '.join(config.entrants)} fills every side of {spec.name} "
                              f"({seating.describe_sides()})")
    return tables


def check_lineups(spec: GameSpec, entrants: Sequence[Entrant], config: TournamentConfig) -> None:
    """Refuse, in one sentence, entrants that cannot fill the game's sides (an entrant that can play
    no side, a side nobody can play, a challenger who can meet nobody).

    Example:
        >>> import games
        >>> from league.play.entrants import resolve
        >>> spec = games.load("simple_tag").spec
        >>> check_lineups(spec, resolve(["random", "scripted"], spec), TournamentConfig("simple_tag", ("random", "scripted"), 2))
    """
    if len(spec.sides) < 2:
        return
    if config.format == "swiss":
        try:
            Seating(spec, entrants).check()
        except LineupError as error:
            raise TournamentError(str(error)) from None
    else:
        fixed_tables(spec, entrants, config)


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
    for p, table in enumerate(fixed_tables(spec, entrants, config)):
        tasks += [_table_task(p, table, g, by_name, config, p * config.games) for g in range(config.games)]
    return tasks


def play_tables(state: TournamentPlay, tables: list[Table], base_of: Callable[[int], int], offset: int = 0) -> None:
    """Play tables unit by unit (a pair of games, or a cycle of lineups), interleaved, skipping stored
    games and pairings an SPRT stopped."""
    two_sides = len(state.spec.sides) == 2
    for p, table in enumerate(tables):
        pairing = state.pairings[offset + p] = (Pairing(offset + p, *table.first) if two_sides
                                                else TableScore(offset + p, table.first))
        base = base_of(p)
        for g in range(state.config.games):
            match = state.stored.get(base + g)
            if match is not None:
                state.count(pairing, base + g, match.sides, match.ranks)
    state.total += len(tables) * state.config.games
    units = [unit(state.spec, table, state.config.games) for table in tables]
    for p in range(len(tables)):
        for g in range(state.config.games):
            state.places[base_of(p) + g] = (offset, g // units[p], p, g % units[p])  # the order tasks() hands them out

    size = [state.config.games // u for u in units]
    cursor = [0] * len(tables)  # per table, the next unit to hand out
    pairs = [table.first[:2] for table in tables]  # openings are drawn per pair of entrants (two sides only)
    openings = state.openings.for_pairings(pairs, min(max(size, default=0), OPENINGS_AHEAD)) if two_sides else None

    def live(p: int) -> bool:
        return cursor[p] < size[p] and state.pairings[offset + p].status not in ("H0", "H1")

    def frontier() -> tuple[float, ...]:
        """Just below the first place that may still be handed out: games are rated up to it."""
        return min(((offset, cursor[p], p, -0.5) for p in range(len(tables)) if live(p)), default=(offset, math.inf))

    def tasks() -> Iterator[GameTask | None]:
        """One unit per table per sweep, in schedule order, holding back a pairing whose SPRT could
        end with the games it has in flight (None: every table left waits)."""
        while True:
            handed = held = False
            for p, table in enumerate(tables):
                pairing = state.pairings[offset + p]
                if not live(p):
                    continue
                if not state.pacer.room(pairing):
                    held = True
                    continue
                k, handed = cursor[p], True
                cursor[p] += 1
                opening: tuple[int, ...] = ()
                if openings is not None:
                    if k >= len(openings[p]):
                        openings[p] = state.openings.for_pairings([pairs[p]], min(size[p], k + OPENINGS_AHEAD))[0]
                    opening = openings[p][k]
                for g in range(k * units[p], (k + 1) * units[p]):
                    task = _table_task(offset + p, table, g, state.by_name, state.config, base_of(p), opening)
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

    owner = {base_of(p) // state.config.games: state.pairings[offset + p] for p in range(len(tables))}
    missing = sum(base_of(p) + g not in state.stored for p in range(len(tables)) for g in range(state.config.games))
    state.run(tasks(), lambda record: state.record(record, owner[record.index // state.config.games]), most=missing)
    state.horizon = (offset, math.inf)  # every game of these tables is stored
    state.rate_in_order()
    for pairing in (state.pairings[offset + p] for p in range(len(tables))):
        if pairing.status == "running":
            pairing.status = "done"


def play_swiss(state: TournamentPlay, seating: Seating) -> None:
    """Round by round: seat entrants by score at tables they have not sat at, play, and carry the scores on.

    In a symmetric game the lowest-placed entrants without a bye yet sit out the remainder (a
    bye counts as a win per game); in an asymmetric game whoever cannot be seated at a table
    of their roles sits out.
    """
    names = list(state.config.entrants)
    size = len(state.spec.sides)
    per_round = math.ceil(len(names) / size)
    points = dict.fromkeys(names, 0.0)
    met: set[frozenset[str]] = set()
    byes: set[str] = set()
    for r in range(state.config.swiss_rounds()):
        order = sorted(names, key=lambda n: (-points[n], names.index(n)))
        if seating.symmetric:
            out = []
            for _ in range(len(order) % size):
                # the lowest-placed entrant without a bye yet; once everyone has had one, the lowest again
                out.append(next((n for n in reversed(order) if n not in byes and n not in out),
                                next(n for n in reversed(order) if n not in out)))
            order = [n for n in order if n not in out]
            try:
                tables, _ = seating.swiss(order, met, byes=0)
            except LineupError as error:
                raise TournamentError(str(error)) from None
        else:
            try:
                tables, out = seating.swiss(order, met)
            except LineupError as error:
                raise TournamentError(str(error)) from None
        for bye in out:
            byes.add(bye)
            points[bye] += state.config.games  # a bye counts as a win per game
        base = r * per_round * state.config.games
        play_tables(state, tables, lambda p, base=base: base + p * state.config.games, offset=r * per_round)
        for p, table in enumerate(tables):
            pairing = state.pairings[r * per_round + p]
            for name in table.entrants:
                points[name] += pairing.points_of(name)
            met.add(frozenset(table.entrants))
    if seating.symmetric:
        state.total = state.config.swiss_rounds() * (len(names) // size) * state.config.games


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

    missing = [t for t in tasks if t.index not in state.stored]
    state.run(missing, on_record, most=len(missing))


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
    check_lineups(game.spec, entrants, config)  # refused before anything is stored
    seating = Seating(game.spec, entrants)
    tables = fixed_tables(game.spec, entrants, config) if len(game.spec.sides) > 1 and config.format != "swiss" else []
    state = TournamentPlay(store, game, entrants, config, rater, batch, progress, stop_on_error, move_timeout,
                           backend, openings)
    start = time.perf_counter()
    if len(game.spec.sides) == 1:
        play_cooperative(state, plan(game.spec, entrants, config))
    elif config.format == "swiss":
        play_swiss(state, seating)
    else:
        play_tables(state, tables, lambda p: p * config.games)
    state.rate_in_order(final=True)
    stored = store.count_matches(state.id)
    complete = all(p.status in ("H0", "H1", "done") for p in state.pairings.values())
    if complete and (len(game.spec.sides) == 1 and stored == state.total or len(game.spec.sides) > 1):
        store.finish_tournament(state.id)
    return TournamentResult(state.id, state.total, state.played, state.resumed, time.perf_counter() - start,
                            tuple(state.pairings.values()), state.openings, state.key)
