"""The engine under every tournament format: one call of `play_tournament`'s state (the
tournament's row in the store, what is stored and unrated, the pairings), the task streams
handed to a backend, and the recording of each finished game, stored as it finishes and rated
in schedule order, so a resumed tournament ends with the ratings of an uninterrupted one.

The formats (league/tournament/formats.py) say which games to hand out, and in what order;
this module plays them and keeps the books.

Example:
    >>> import tempfile
    >>> import games
    >>> from league.play.entrants import resolve
    >>> from league.rate.ratings import Rater
    >>> game = games.load("tic_tac_toe")
    >>> config = TournamentConfig(game="tic_tac_toe", entrants=("random", "action:0"), games=2)
    >>> with tempfile.TemporaryDirectory() as tmp, Store.open(tmp, create=True) as store:
    ...     store.init_run("demo", "tic_tac_toe", {})
    ...     state = TournamentPlay(store, game, resolve(config.entrants, game.spec), config, Rater(), batch=2,
    ...                            progress=None)
    ...     state.key == config.key(state.openings.key), state.resumed, [p.name for p in store.players()]
    (True, 0, ['random', 'action:0'])
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict
from typing import Callable, Sequence

from games.base import Game
from league.play.backends import EntrantSpec, LocalBackend
from league.play.runner import Entrant, GameRecord, RunnerError
from league.rate.ratings import Rater
from league.rate.recorder import match_of
from league.rate.updates import stored_game_rater
from league.store.database import Store
from league.tournament.config import TournamentConfig, TournamentError, possible_pairings
from league.tournament.openings import NO_OPENINGS, OpeningPlan, plan_openings
from league.tournament.pacing import Pacer
from league.tournament.pairing import Pairing, TableScore


class TournamentPlay:
    """One call of `play_tournament`: state, storage and the task streams."""

    def __init__(self, store: Store, game: Game, entrants: Sequence[Entrant], config: TournamentConfig,
                 rater: Rater, batch: int, progress: Callable[[int, int, Sequence[Pairing | TableScore]], None] | None,
                 stop_on_error: bool = False, move_timeout: float | None = None, backend=None,
                 openings: OpeningPlan | None = None):
        self.store, self.game, self.config, self.rater, self.batch = store, game, config, rater, batch
        self.forfeits, self.move_timeout = not stop_on_error, move_timeout
        self.backend = backend or LocalBackend()
        self.spec = game.spec
        self.by_name = {e.name: e for e in entrants}
        self.test = config.test()
        self.progress = progress
        if openings is None:
            openings = plan_openings(game, entrants, possible_pairings(config), spec_text=config.openings,
                                     order=config.openings_order, seed=config.seed) \
                if len(game.spec.sides) == 2 else NO_OPENINGS
        self.openings = openings
        self.pacer = Pacer(self.test, waits=self.backend.name == "local")
        key = self.key = config.key(openings.key)
        existing = store.tournament(key)
        self.id = existing["id"] if existing else store.create_tournament(key, config.format, asdict(config))
        for entrant in entrants:
            if store.player(entrant.name) is None:
                store.add_player(entrant.name, "baseline")
        # Games are stored as they finish and rated in schedule order (`rate_in_order`), so a
        # resumed tournament ends with the ratings of an uninterrupted one.
        self.places: dict[int, tuple[float, ...]] = {}  # game index -> its place in the schedule
        self.in_flight: dict[int, tuple[float, ...]] = {}  # handed to the backend, not stored yet
        self.horizon: tuple[float, ...] | None = None  # every place up to here is handed out (or never will be)
        self.unrated = {m.game_index: m.id for m in store.unrated_matches(self.id)}
        self.stored = {m.game_index: m for m in store.matches(tournament_id=self.id)}
        self.resumed = len(self.stored)
        self.played = 0
        self.pairings: dict[int, Pairing | TableScore] = {}  # head-to-head pairings, or tables of 3+ sides
        self.total = 0

    # -- recording ----------------------------------------------------------------------------
    def store_game(self, record: GameRecord) -> None:
        """Store a finished game, unrated (`rate_in_order` rates it)."""
        match = match_of(record, origin="tournament", game=self.spec.name, tournament_id=self.id,
                         game_index=record.index)
        self.unrated[record.index] = self.store.record_match(match, rated=False)

    def record(self, record: GameRecord, pairing: Pairing | TableScore | None) -> None:
        self.store_game(record)
        self.in_flight.pop(record.index, None)
        if pairing is not None:
            pairing.in_flight -= 1
        self.rate_in_order()
        self.played += 1
        if pairing is not None:
            self.count(pairing, record.index, record.sides, record.ranks)
        if self.progress is not None:
            self.progress(self.resumed + self.played, self.total, list(self.pairings.values()))

    def rate_in_order(self, *, final: bool = False) -> None:
        """Rate stored games in schedule order up to the first place a game may still come from
        (`final`: all of them), each rating read from and written to the store in one transaction."""
        limit = min(self.in_flight.values(), default=None)
        ready = []
        for place, index in sorted((self.places.get(i, (math.inf,)), i) for i in self.unrated):
            if not final and (self.horizon is None or place > self.horizon or (limit is not None and place >= limit)):
                break
            ready.append(self.unrated.pop(index))
        if ready:
            self.store.rate_stored(ready, stored_game_rater(self.rater))

    def count(self, pairing: Pairing | TableScore, index: int, sides: Sequence[str], ranks: Sequence[int]) -> None:
        """Add one game to its pairing's statistics (and close its pair, and maybe the SPRT)."""
        pairing.count((index % self.config.games) // 2, sides, ranks, self.test)

    # -- playing ------------------------------------------------------------------------------
    def run(self, tasks, on_record: Callable[[GameRecord], None], most: int | None = None) -> None:
        """Play `tasks` on the backend, passing each finished game to `on_record`; snapshots travel
        as their verified weights and manifest. `most`: how many games the tasks hold at most (no
        more copies of the game are made than that)."""
        from league.play.entrants import snapshot_paths  # here, so importing this module does not load torch


        def spec_of(entrant: Entrant) -> EntrantSpec:
            player = self.store.player(entrant.name)
            if player is None or not player.weights_path:
                return EntrantSpec(entrant.name)
            weights, manifest = snapshot_paths(entrant.name)
            blob = self.store.verify_file(weights, player.weights_sha256).read_bytes()
            return EntrantSpec(entrant.name, blob, json.loads(
                self.store.verify_file(manifest, player.meta["manifest_sha256"]).read_text()))

        try:
            batch = self.batch if most is None else max(1, min(self.batch, most))
            self.backend.run(self.game, tasks, on_record=on_record, batch=batch, forfeits=self.forfeits,
                             move_timeout=self.move_timeout, entrant_specs=spec_of)
        except RunnerError as error:
            raise TournamentError(str(error)) from None
