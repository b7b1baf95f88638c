"""Tournaments: formats, their schedules, and resumable play into the store.

A round-robin plays every pair of entrants `games` times; in a two-side game the pair
swaps sides every game and each pair of games shares a seed (the same cards, the same
luck), as chess-engine testers play paired openings. On a one-side (cooperative) game every
entrant plays the same seeded episodes and each seed is rated as a free-for-all.

Every finished game is stored and rated in one transaction before it is reported. A
tournament is keyed by its configuration: running the same command again skips the
games already stored, so a killed tournament resumes and never counts a game twice.

Example:
    >>> import games
    >>> from league.entrants import resolve
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
import time
from dataclasses import asdict, dataclass
from typing import Callable, Sequence

from games.base import Game, GameSpec, derive_seed
from league.ratings import Rater, Rating
from league.runner import Entrant, GameRecord, GameTask, RunnerError, run, schedule
from league.store import NewMatch, Store

FORMATS = ("round-robin",)
TEAM_SEPARATOR = "+"


class TournamentError(ValueError):
    """A tournament that cannot be played as configured."""


@dataclass(frozen=True)
class TournamentConfig:
    """What defines a tournament; the same config is the same tournament (and resumes it)."""

    game: str  # the game's registry reference
    entrants: tuple[str, ...]
    games: int  # games per pair (two-side games) or seeded episodes per entrant (one side)
    seed: int = 0
    format: str = "round-robin"

    def key(self) -> str:
        text = json.dumps(asdict(self), sort_keys=True)
        return f"{self.format}-{hashlib.sha256(text.encode()).hexdigest()[:16]}"


@dataclass(frozen=True)
class TournamentResult:
    tournament_id: int
    total: int  # games in the schedule
    played: int  # games played by this call
    resumed: int  # games found already stored
    seconds: float


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
        raise TournamentError(f"{spec.name} has {len(spec.sides)} sides; round-robin plays games of one or two sides")
    for name in config.entrants:
        if TEAM_SEPARATOR in name:
            raise TournamentError(f"entrant names may not contain {TEAM_SEPARATOR!r}: {name!r}")


def plan(spec: GameSpec, entrants: Sequence[Entrant], config: TournamentConfig) -> list[GameTask]:
    """The full schedule: game index, seed and lineup of every game."""
    check(spec, config)
    tasks: list[GameTask] = []
    if len(spec.sides) == 1:
        # entrant k plays seed g as game k * games + g; all entrants share each seed
        for k, entrant in enumerate(entrants):
            for g in range(config.games):
                tasks.append(GameTask(index=k * config.games + g, seed=derive_seed(config.seed, g), lineup=(entrant,)))
        return tasks
    for p, (a, b) in enumerate(itertools.combinations(entrants, 2)):
        # each entrant plays each side equally often, even in asymmetric games (baselines play any side)
        tasks.extend(schedule(spec, (a, b), config.games, derive_seed(config.seed, p),
                              start_index=p * config.games, any_side=True))
    return tasks


def play_tournament(
    store: Store,
    game: Game,
    entrants: Sequence[Entrant],
    config: TournamentConfig,
    rater: Rater,
    *,
    batch: int = 128,
    progress: Callable[[int, int], None] | None = None,
) -> TournamentResult:
    """Play what is left of the tournament, storing and rating each game as it finishes.

    `progress(done, total)` is called after each stored game.
    """
    spec = game.spec
    tasks = plan(spec, entrants, config)
    existing = store.tournament(config.key())
    tournament_id = existing["id"] if existing else store.create_tournament(config.key(), config.format, asdict(config))
    for entrant in entrants:
        if store.player(entrant.name) is None:
            store.add_player(entrant.name, "baseline")
    done = store.done_indices(tournament_id)
    todo = [t for t in tasks if t.index not in done]
    total, resumed = len(tasks), len(done)
    ratings = {name: Rating(mu, sigma) for name, (mu, sigma, _) in store.ratings().items()}
    rate = _FreeForAll(store, tournament_id, config, rater, ratings) if len(spec.sides) == 1 else None
    counter = {"done": resumed}

    def rating_of(name: str) -> Rating:
        return rater.anchors.get(name) or ratings.get(name) or rater.initial()

    def on_record(record: GameRecord) -> None:
        match = NewMatch(origin="tournament", game=spec.name, seed=record.seed, sides=record.sides,
                         returns=record.returns, ranks=record.ranks, length=record.length,
                         truncated=record.truncated, tournament_id=tournament_id, game_index=record.index)
        if rate is not None:
            rate.record(match)
        else:
            teams = [[(member, rating_of(member)) for member in side.split(TEAM_SEPARATOR)] for side in record.sides]
            new = rater.rate(teams, record.ranks)
            updates = {name: r for team, rated in zip(teams, new) for (name, _), r in zip(team, rated)}
            store.record_match(match, {name: (r.mu, r.sigma) for name, r in updates.items()})
            ratings.update(updates)  # only after the commit
        counter["done"] += 1
        if progress is not None:
            progress(counter["done"], total)

    start = time.perf_counter()
    if todo:
        try:
            run(game, todo, batch=batch, on_record=on_record, collect=False)
        except RunnerError as error:
            raise TournamentError(str(error)) from None
    if store.count_matches(tournament_id) == total:
        store.finish_tournament(tournament_id)
    return TournamentResult(tournament_id, total, len(todo), resumed, time.perf_counter() - start)


class _FreeForAll:
    """Cooperative games: once every entrant has played seed g, rate them on their returns.

    The rating update is committed with the group's last match, so a kill between two
    matches of a group never leaves a group half rated.
    """

    def __init__(self, store: Store, tournament_id: int, config: TournamentConfig, rater: Rater,
                 ratings: dict[str, Rating]):
        self.store, self.config, self.rater, self.ratings = store, config, rater, ratings
        self.groups: dict[int, dict[str, float]] = {}
        for match in store.matches(tournament_id=tournament_id):
            self.groups.setdefault(match.game_index % config.games, {})[match.sides[0]] = match.returns[0]

    def record(self, match: NewMatch) -> None:
        g = match.game_index % self.config.games
        group = self.groups.setdefault(g, {})
        group[match.sides[0]] = match.returns[0]
        if len(group) < len(self.config.entrants):
            self.store.record_match(match)
            return
        names = list(self.config.entrants)
        players = [(n, self.rater.anchors.get(n) or self.ratings.get(n) or self.rater.initial()) for n in names]
        new = self.rater.rate_free_for_all(players, [group[n] for n in names])
        self.store.record_match(match, {n: (r.mu, r.sigma) for n, r in zip(names, new)})
        self.ratings.update(dict(zip(names, new)))
