"""What every section of the HTML report reads, gathered once from the run's store: standings,
players and their colours, stored games, metrics by player, and the map from wall time to the
league's training step.

Example:
    >>> import tempfile
    >>> from league.store.database import Store
    >>> with tempfile.TemporaryDirectory() as tmp, Store.open(tmp, create=True) as store:
    ...     store.init_run("demo", "tic_tac_toe", {"train": "[evaluation]\\ngames = 20\\n"})
    ...     _ = store.add_player("iql", "learner", algorithm="iql", role="player")
    ...     run = gather(store)
    >>> run.name, run.is_learner("iql"), run.color("iql"), run.eval_games, run.side_names()
    ('demo', True, '#1f77b4', 20, ('first', 'second'))
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Callable

import numpy as np

from games.base import GameSpec
from games.errors import LeagueError
from league.app.chart_colors import player_colors
from league.rate.standings import Standing, standings
from league.store.database import Match, Player, Store

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib


def timestamp(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


@dataclass
class Run:
    """What every section reads, gathered once."""

    store: Store
    name: str
    game: str
    spec: GameSpec | None  # None when the game no longer loads
    rows: list[Standing]
    players: dict[str, Player]
    matches: list[Match]
    colors: dict[str, str]
    metrics: dict[str, dict[str, list[tuple[int, float, float]]]]  # key -> player -> [(step, value, time)]
    step_at: Callable[[float], float] | None  # wall time -> league step (None without training metrics)
    start: float  # wall time of the first stored game or metric
    eval_games: int | None  # games per evaluation, from the run's configuration

    def color(self, name: str) -> str:
        return self.colors.get(name, "#888888")

    def kind(self, name: str) -> str:
        player = self.players.get(name)
        return player.kind if player is not None else "baseline"

    def is_learner(self, name: str) -> bool:
        player = self.players.get(name)
        return player is not None and player.kind in ("learner", "team") and player.parent is None

    def n_sides(self) -> int | None:
        return len(self.spec.sides) if self.spec is not None else None

    def side_names(self) -> tuple[str, str]:
        sides = self.spec.sides if self.spec is not None else ()
        return (sides[0].name, sides[1].name) if len(sides) == 2 else ("first", "second")


def gather(store: Store) -> Run:
    info = store.run_info() or {"name": store.run_dir.name, "game": "?", "config": {}}
    spec = None
    try:
        from league.store.trust import load_stored_game

        spec = load_stored_game(info["game"]).spec  # stored data: never a module:factory
    except (LeagueError, ValueError, KeyError, ImportError):
        pass
    rows = standings(store, spec=spec)
    players = {p.name: p for p in store.players()}
    order = list(players) + [s.name for s in rows if s.name not in players]  # snapshots in the order they were taken
    colors = player_colors([(n, players[n].kind if n in players else "baseline",
                             players[n].parent if n in players else None) for n in order])
    metrics: dict[str, dict[str, list[tuple[int, float, float]]]] = defaultdict(lambda: defaultdict(list))
    anchors = []
    for m in store.metrics():
        t = timestamp(m.created)
        metrics[m.key][m.player].append((m.step, m.value, t))
        if players.get(m.player) is not None and players[m.player].kind in ("learner", "team"):
            anchors.append((t, m.step))
    matches = store.matches()
    times = [t for t, _ in anchors] + ([timestamp(matches[0].created)] if matches else [])
    start = min(times) if times else 0.0
    step_at = None
    if anchors:
        anchors.sort()
        at = np.array([t for t, _ in anchors])
        steps = np.maximum.accumulate(np.array([s for _, s in anchors], dtype=float))  # the most advanced learner

        def step_at(t: float) -> float:
            return float(np.interp(t, at, steps, left=0.0))
    return Run(store, info["name"], info["game"], spec, rows, players, matches, colors, metrics, step_at, start,
               _eval_games(info.get("config", {})))


def _eval_games(config: dict) -> int | None:
    """Games per evaluation in the run's configuration (its TOML text), if it says."""
    try:
        train = tomllib.loads(config.get("train", "")) if isinstance(config.get("train"), str) else {}
    except tomllib.TOMLDecodeError:
        return None
    value = train.get("evaluation", {}).get("games", 40 if train else None)  # 40: the Evaluation default
    return value if isinstance(value, int) and value > 0 else None
