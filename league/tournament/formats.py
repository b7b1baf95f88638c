"""Tournaments: round-robin, gauntlet and Swiss, with paired games, SPRT and resumable play.

Two entrants of a pairing play games in pairs that share a seed, with sides swapped (the
same cards, the same first move), as chess-engine testers play paired openings. Each
pairing's results are kept as pentanomial counts of those pairs; with `sprt` a pairing
stops as soon as the generalised SPRT accepts H0 or H1 (league/sprt.py), otherwise it plays
`games` games and reports an Elo difference with a 95% interval.

- round-robin: every pair of entrants. On a one-side (cooperative) game every entrant plays
  the same seeded episodes and each seed is rated as a free-for-all.
- gauntlet: each challenger against every other entrant (the field).
- swiss: `rounds` rounds (default ceil(log2 n) + 2); each round pairs entrants with equal or
  close scores who have not met yet; an odd entrant out gets a bye worth a win per game.

Every finished game is stored and rated in one transaction before it is reported. A
tournament is keyed by its configuration: running the same command again plays only what
is missing, so a killed tournament resumes and never counts a game twice.

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

import hashlib
import itertools
import json
import math
import time
from dataclasses import asdict, dataclass, field
from typing import Callable, Iterator, Sequence

from games.base import Game, GameSpec, derive_seed
from games.errors import LeagueError
from league.play.runner import Entrant, GameRecord, GameTask, RunnerError
from league.rate.ratings import Rater, Rating
from league.rate.sprt import SPRT, Pentanomial, SPRTError, elo_interval
from league.rate.updates import rate_records
from league.store.database import NewMatch, Store

FORMATS = ("round-robin", "gauntlet", "swiss")
TEAM_SEPARATOR = "+"


class TournamentError(LeagueError, ValueError):
    """A tournament that cannot be played as configured."""


@dataclass(frozen=True)
class TournamentConfig:
    """What defines a tournament; the same config is the same tournament (and resumes it)."""

    game: str  # the game's registry reference
    entrants: tuple[str, ...]
    games: int  # games per pairing (two-side games; the SPRT's cap) or seeded episodes per entrant (one side)
    seed: int = 0
    format: str = "round-robin"
    challengers: tuple[str, ...] = ()  # gauntlet: who plays the field
    rounds: int = 0  # swiss: 0 means ceil(log2 n) + 2
    sprt: str = ""  # e.g. "elo0=0,elo1=10,alpha=0.05,beta=0.05"

    def key(self) -> str:
        text = json.dumps(asdict(self), sort_keys=True)
        return f"{self.format}-{hashlib.sha256(text.encode()).hexdigest()[:16]}"

    def swiss_rounds(self) -> int:
        return self.rounds or math.ceil(math.log2(max(2, len(self.entrants)))) + 2

    def test(self) -> SPRT | None:
        return SPRT.parse(self.sprt) if self.sprt else None


@dataclass(frozen=True)
class TournamentResult:
    tournament_id: int
    total: int  # games in the schedule (the cap when SPRT stops pairings early)
    played: int  # games played by this call
    resumed: int  # games found already stored
    seconds: float
    pairings: tuple["Pairing", ...] = ()


@dataclass
class Pairing:
    """Two entrants' match inside a tournament, with its paired-game statistics."""

    index: int
    a: str
    b: str
    games: int = 0
    points: float = 0.0  # a's points
    pending: dict[int, float] = field(default_factory=dict)  # pair -> a's score in its first finished game
    pairs: list[float] = field(default_factory=list)  # a's points per complete pair
    status: str = "running"  # running | H0 | H1 | done
    llr: float = 0.0

    def pentanomial(self) -> Pentanomial:
        return Pentanomial.from_pairs(self.pairs)

    def elo(self) -> tuple[float, float, float]:
        return elo_interval(self.pentanomial())


def check(spec: GameSpec, config: TournamentConfig) -> None:
    """Refuse a configuration that cannot make a fair tournament, in one sentence."""
    if config.format not in FORMATS:
        raise TournamentError(f"unknown format {config.format!r}; formats: {', '.join(FORMATS)}")
    if len(config.entrants) < 2:
        raise TournamentError("a tournament needs at least two entrants")
    if config.games < 1:
        raise TournamentError(f"--games must be at least 1, got {config.games}")
    if len(spec.sides) == 2 and config.games % 2:
        raise TournamentError(f"--games must be even so that every pair plays both sides equally often, got {config.games}")
    if len(spec.sides) > 2:
        raise TournamentError(f"{spec.name} has {len(spec.sides)} sides; tournaments play games of one or two sides")
    if len(spec.sides) == 1 and config.format != "round-robin":
        raise TournamentError(f"{spec.name} has one side: its entrants are ranked by a round-robin of shared seeds, not a {config.format}")
    for name in config.entrants:
        if TEAM_SEPARATOR in name:
            raise TournamentError(f"entrant names may not contain {TEAM_SEPARATOR!r}: {name!r}")
    if config.format == "gauntlet":
        if not config.challengers:
            raise TournamentError("a gauntlet needs --challengers: the entrants that play the field")
        unknown = [c for c in config.challengers if c not in config.entrants]
        if unknown:
            raise TournamentError(f"challenger {unknown[0]!r} is not among the entrants")
        if len(set(config.challengers)) == len(set(config.entrants)):
            raise TournamentError("a gauntlet needs a field: at least one entrant that is not a challenger")
    elif config.challengers:
        raise TournamentError("--challengers belongs to the gauntlet format")
    if config.rounds and config.format != "swiss":
        raise TournamentError("--rounds belongs to the swiss format")
    if config.rounds < 0:
        raise TournamentError(f"--rounds must be positive, got {config.rounds}")
    try:
        test = config.test()
    except SPRTError as error:
        raise TournamentError(f"--sprt: {error}") from None
    if test is not None and config.format == "swiss":
        raise TournamentError("--sprt stops head-to-head pairings: use it with round-robin or gauntlet")
    if test is not None and len(spec.sides) != 2:
        raise TournamentError("--sprt needs games of two sides")


def fixed_pairings(config: TournamentConfig) -> list[tuple[str, str]]:
    """The pairings of a round-robin or a gauntlet, in schedule order."""
    if config.format == "gauntlet":
        field_ = [e for e in config.entrants if e not in config.challengers]
        return [(c, f) for c in config.challengers for f in field_]
    return list(itertools.combinations(config.entrants, 2))


def _pair_tasks(p: int, a: Entrant, b: Entrant, k: int, config: TournamentConfig, base: int) -> list[GameTask]:
    """The two games of pair k of pairing p: same seed, sides swapped."""
    seed = derive_seed(config.seed, p, k)
    first = base + 2 * k
    return [GameTask(first, seed, (a, b)), GameTask(first + 1, seed, (b, a))]


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


class _Play:
    """One call of `play_tournament`: state, storage and the task streams."""

    def __init__(self, store: Store, game: Game, entrants: Sequence[Entrant], config: TournamentConfig,
                 rater: Rater, batch: int, progress: Callable[[int, int, Sequence[Pairing]], None] | None,
                 stop_on_error: bool = False, move_timeout: float | None = None, backend=None):
        from league.play.backends import LocalBackend

        self.store, self.game, self.config, self.rater, self.batch = store, game, config, rater, batch
        self.forfeits, self.move_timeout = not stop_on_error, move_timeout
        self.backend = backend or LocalBackend()
        self.spec = game.spec
        self.by_name = {e.name: e for e in entrants}
        self.test = config.test()
        self.progress = progress
        key = config.key()
        existing = store.tournament(key)
        self.id = existing["id"] if existing else store.create_tournament(key, config.format, asdict(config))
        for entrant in entrants:
            if store.player(entrant.name) is None:
                store.add_player(entrant.name, "baseline")
        self.ratings = {name: Rating(mu, sigma) for name, (mu, sigma, _) in store.ratings().items()}
        self.stored = {m.game_index: m for m in store.matches(tournament_id=self.id)}
        self.resumed = len(self.stored)
        self.played = 0
        self.pairings: dict[int, Pairing] = {}
        self.total = 0

    # -- recording ----------------------------------------------------------------------------
    def record(self, record: GameRecord, pairing: Pairing | None) -> None:
        update = rate_records([record], self.rater, self.ratings)[0]
        match = NewMatch(origin="tournament", game=self.spec.name, seed=record.seed, sides=record.sides,
                         returns=record.returns, ranks=record.ranks, length=record.length,
                         truncated=record.truncated, tournament_id=self.id, game_index=record.index,
                         forfeit=record.forfeit)
        self.store.record_match(match, {n: (r.mu, r.sigma) for n, r in update.items()})
        self.ratings.update(update)  # only after the commit
        self.played += 1
        if pairing is not None:
            self.count(pairing, record.index, record.sides, record.ranks)
        if self.progress is not None:
            self.progress(self.resumed + self.played, self.total, list(self.pairings.values()))

    def count(self, pairing: Pairing, index: int, sides: Sequence[str], ranks: Sequence[int]) -> None:
        """Add one game to its pairing's statistics (and close its pair, and maybe the SPRT)."""
        k = (index % self.config.games) // 2
        mine = sides.index(pairing.a)
        other = 1 - mine
        s = 1.0 if ranks[mine] < ranks[other] else 0.5 if ranks[mine] == ranks[other] else 0.0
        pairing.games += 1
        pairing.points += s
        if k in pairing.pending:
            pairing.pairs.append(pairing.pending.pop(k) + s)
            if self.test is not None and pairing.status == "running":
                pairing.llr = self.test.llr(pairing.pentanomial())
                pairing.status = self.test.status(pairing.pentanomial())
        else:
            pairing.pending[k] = s

    # -- head-to-head formats -----------------------------------------------------------------
    def head_to_head(self, pairs: list[tuple[str, str]], base_of: Callable[[int], int], offset: int = 0) -> None:
        """Play pairings pair by pair, interleaved, skipping stored games and stopped pairings."""
        for p, (a, b) in enumerate(pairs):
            pairing = self.pairings[offset + p] = Pairing(offset + p, a, b)
            base = base_of(p)
            for g in range(self.config.games):
                match = self.stored.get(base + g)
                if match is not None:
                    self.count(pairing, base + g, match.sides, match.ranks)
        self.total += len(pairs) * self.config.games

        def tasks() -> Iterator[GameTask]:
            for k in range(self.config.games // 2):
                for p, (a, b) in enumerate(pairs):
                    pairing = self.pairings[offset + p]
                    if pairing.status in ("H0", "H1"):
                        continue
                    for task in _pair_tasks(offset + p, self.by_name[a], self.by_name[b], k, self.config, base_of(p)):
                        if task.index not in self.stored:
                            yield task

        owner = {base_of(p) // self.config.games: self.pairings[offset + p] for p in range(len(pairs))}
        self._run(tasks(), lambda record: self.record(record, owner[record.index // self.config.games]))
        for pairing in (self.pairings[offset + p] for p in range(len(pairs))):
            if pairing.status == "running":
                pairing.status = "done"

    def _run(self, tasks, on_record: Callable[[GameRecord], None]) -> None:
        from league.play.backends import EntrantSpec
        from league.play.entrants import snapshot_paths

        def spec_of(entrant: Entrant) -> EntrantSpec:
            player = self.store.player(entrant.name)
            if player is None or not player.weights_path:
                return EntrantSpec(entrant.name)
            weights, manifest = snapshot_paths(entrant.name)
            blob = self.store.verify_file(weights, player.weights_sha256).read_bytes()
            return EntrantSpec(entrant.name, blob, json.loads(
                self.store.verify_file(manifest, player.meta["manifest_sha256"]).read_text()))

        try:
            self.backend.run(self.game, tasks, on_record=on_record, batch=self.batch, forfeits=self.forfeits,
                             move_timeout=self.move_timeout, entrant_specs=spec_of)
        except RunnerError as error:
            raise TournamentError(str(error)) from None

    def swiss(self) -> None:
        """Round by round: pair by score without rematches, play, and carry the scores on."""
        names = list(self.config.entrants)
        per_round = math.ceil(len(names) / 2)
        points = dict.fromkeys(names, 0.0)
        met: set[frozenset[str]] = set()
        byes: set[str] = set()
        for r in range(self.config.swiss_rounds()):
            order = sorted(names, key=lambda n: (-points[n], names.index(n)))
            bye = None
            if len(order) % 2:
                bye = next(n for n in reversed(order) if n not in byes)
                byes.add(bye)
                order.remove(bye)
                points[bye] += self.config.games  # a bye counts as a win per game
            pairs = _swiss_pairs(order, met)
            base = r * per_round * self.config.games
            self.head_to_head(pairs, lambda p, base=base: base + p * self.config.games, offset=r * per_round)
            for p, (a, b) in enumerate(pairs):
                pairing = self.pairings[r * per_round + p]
                points[a] += pairing.points
                points[b] += pairing.games - pairing.points
                met.add(frozenset((a, b)))
        self.total = self.config.swiss_rounds() * (len(names) // 2) * self.config.games

    def cooperative(self, tasks: list[GameTask]) -> None:
        """One-side games: rate every seed's group as a free-for-all once all its games are stored."""
        groups: dict[int, dict[str, GameRecord | None]] = {}
        for task in tasks:
            groups.setdefault(task.index % self.config.games, {})[task.lineup[0].name] = None
        for index, match in self.stored.items():
            g = index % self.config.games
            groups[g][match.sides[0]] = GameRecord(index, match.seed, match.sides, match.returns, (), match.ranks,
                                                   match.length, match.truncated)
        self.total = len(tasks)

        def on_record(record: GameRecord) -> None:
            group = groups[record.index % self.config.games]
            group[record.sides[0]] = record
            update: dict[str, Rating] = {}
            if all(r is not None for r in group.values()):
                update = rate_records(list(group.values()), self.rater, self.ratings)[-1]
            match = NewMatch(origin="tournament", game=self.spec.name, seed=record.seed, sides=record.sides,
                             returns=record.returns, ranks=record.ranks, length=record.length,
                             truncated=record.truncated, tournament_id=self.id, game_index=record.index,
                             forfeit=record.forfeit)
            self.store.record_match(match, {n: (r.mu, r.sigma) for n, r in update.items()})
            self.ratings.update(update)
            self.played += 1
            if self.progress is not None:
                self.progress(self.resumed + self.played, self.total, [])

        self._run([t for t in tasks if t.index not in self.stored], on_record)


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
) -> TournamentResult:
    """Play what is left of the tournament, storing and rating each game as it finishes.

    An entrant that crashes, plays an illegal move or exceeds `move_timeout` seconds a move
    loses that game by forfeit (stored with the reason) and the tournament goes on, unless
    `stop_on_error`. `progress(done, total, pairings)` is called after each stored game.
    `backend` (league.play.backends) plays the games elsewhere; the store is written here only.
    """
    check(game.spec, config)
    if move_timeout is not None and move_timeout <= 0:
        raise TournamentError(f"--move-timeout must be positive, got {move_timeout}")
    state = _Play(store, game, entrants, config, rater, batch, progress, stop_on_error, move_timeout, backend)
    start = time.perf_counter()
    if len(game.spec.sides) == 1:
        state.cooperative(plan(game.spec, entrants, config))
    elif config.format == "swiss":
        state.swiss()
    else:
        state.head_to_head(fixed_pairings(config), lambda p: p * config.games)
    stored = store.count_matches(state.id)
    complete = all(p.status in ("H0", "H1", "done") for p in state.pairings.values())
    if complete and (len(game.spec.sides) == 1 and stored == state.total or len(game.spec.sides) > 1):
        store.finish_tournament(state.id)
    return TournamentResult(state.id, state.total, state.played, state.resumed, time.perf_counter() - start,
                            tuple(state.pairings.values()))
