"""What the league prints: plain tables when piped (exact, for scripts and tests), rich ones,
progress bars and a live training view on a terminal. No command-line parsing here."""

from __future__ import annotations

import sys
import time
from typing import Any, Sequence

from rich.console import Console
from rich.table import Table

import games
from games.base import GameError
from league.rate.standings import standings
from league.store.database import Store
from league.tournament.formats import TournamentConfig, play_tournament
from league.train.loop import Event


def console() -> Console:
    """A console on stdout; when not a terminal: plain, and wide enough never to cut a cell."""
    plain = not sys.stdout.isatty()
    return Console(highlight=False, soft_wrap=False, width=200 if plain else None)


def print_table(title: str | None, columns: Sequence[str], rows: Sequence[Sequence[Any]], *,
                right: Sequence[str] = ()) -> None:
    table = Table(title=title, title_justify="left", header_style="bold", box=None, pad_edge=False)
    for column in columns:
        table.add_column(column, justify="right" if column in right else "left", no_wrap=True)
    for row in rows:
        table.add_row(*(str(x) for x in row))
    out = console()
    if out.is_terminal:
        out.print(table)
        return
    with out.capture() as captured:
        out.print(table)
    print("\n".join(line.rstrip() for line in captured.get().splitlines()))


def elo_text(value: float) -> str:
    return f"{value:+.0f}" if abs(value) != float("inf") else ("+inf" if value > 0 else "-inf")


def print_pairings(pairings, config: TournamentConfig) -> None:
    test = config.test()
    rows = []
    for p in pairings:
        elo, low, high = p.elo()
        interval = "-" if not p.pairs else f"{elo_text(elo)} [{elo_text(low)}, {elo_text(high)}]"
        row = [f"{p.a} vs {p.b}", p.games, "-" if not p.games else f"{p.points:g}/{p.games}", interval]
        if test is not None:
            row += [f"{p.llr:+.2f} ({test.lower:.2f}, {test.upper:.2f})", p.status if p.status != "done" else "-"]
        rows.append(row)
    columns = ["pairing", "games", "score", "elo [95%]"] + (["llr (bounds)", "sprt"] if test is not None else [])
    print_table(None, columns, rows, right=("games",))


def play_with_progress(store, game, roster, config, rater, batch, **options):
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    if not sys.stderr.isatty():
        return play_tournament(store, game, roster, config, rater, batch=batch, **options)
    test = config.test()
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("games"),
               TextColumn("{task.fields[rate]:>7.1f} games/s"), TimeElapsedColumn(), TextColumn("ETA"),
               TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), transient=False) as bar:
        task = bar.add_task(config.format, total=None, rate=0.0)
        start = [None]

        def progress(done: int, total: int, pairings) -> None:
            now = time.perf_counter()
            if start[0] is None:
                start[0] = (now, done)
            elapsed = now - start[0][0]
            rate = (done - start[0][1]) / elapsed if elapsed > 0 else 0.0
            description = config.format
            if test is not None:
                live = [p for p in pairings if p.status == "running"]
                shown = live[0] if live else (pairings[-1] if pairings else None)
                if shown is not None:
                    description = (f"{shown.a} vs {shown.b}: llr {shown.llr:+.2f} "
                                   f"({test.lower:.2f}, {test.upper:.2f})")
            bar.update(task, completed=done, total=total, rate=rate, description=description)

        return play_tournament(store, game, roster, config, rater, batch=batch, progress=progress, **options)


def run_spec(store: Store):
    info = store.run_info()
    if info is None:
        return None
    try:
        return games.load(info["game"]).spec
    except GameError:
        return None


def cell(value) -> str:
    if value is None:
        return "-"
    return str(value) if isinstance(value, int) else f"{value:.4f}"


def print_leaderboard(store: Store) -> None:
    rows = standings(store, spec=run_spec(store))
    columns = ["rank", "name", "kind", "algorithm", "mu", "sigma", "score", "games", "W", "D", "L"]
    extra = [(title, attr) for title, attr in (("forfeits", "forfeits"), ("exploitability", "exploitability"),
                                               ("return/seat", "per_capita"))
             if any(getattr(s, attr) not in (None, 0) for s in rows)]
    print_table(None, columns + [title for title, _ in extra], [
        (s.rank, s.name, s.kind, s.algorithm or "-", f"{s.mu:.2f}", f"{s.sigma:.2f}", f"{s.score:.2f}", s.games,
         s.wins, s.draws, s.losses, *(cell(getattr(s, a)) for _, a in extra))
        for s in rows
    ], right=("rank", "mu", "sigma", "score", "games", "W", "D", "L", "forfeits", "exploitability", "return/seat"))


class TrainDisplay:
    """Live view of a training run: a table redrawn every round on a terminal (steps, steps/s,
    pool size, each learner's latest evaluation, the top of the leaderboard), one printed line
    per snapshot and evaluation either way."""

    def __init__(self, store: Store):
        self.store = store
        self.live = None
        self.console = Console(stderr=True)

    def __enter__(self) -> "TrainDisplay":
        if self.console.is_terminal:
            from rich.live import Live

            self.live = Live(console=self.console, refresh_per_second=2, transient=False)
            self.live.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        if self.live is not None:
            self.live.__exit__(*exc)

    def __call__(self, event: Event) -> None:
        if event.kind in ("snapshot", "evaluation"):
            if self.live is not None:
                self.live.console.print(event.text)
            else:
                print(event.text)
        elif event.kind == "round" and self.live is not None:
            self.live.update(self._table(event.data))

    def _table(self, data: dict):
        from rich.console import Group

        learners = Table(title=f"round {data['round']}: {data['steps_per_second']:,.0f} steps/s, pool {data['pool']}",
                         title_justify="left", box=None)
        for column in ("learner", "steps", "latest evaluation"):
            learners.add_column(column)
        for name, steps in data["steps"].items():
            shown = ", ".join(f"{k} {v:.3f}" for k, v in data["evaluation"].get(name, {}).items()) or "-"
            learners.add_row(name, f"{steps:,}", shown)
        top = Table(title="leaderboard (top 5)", title_justify="left", box=None)
        for column in ("rank", "name", "mu", "sigma", "score"):
            top.add_column(column)
        for row in standings(self.store)[:5]:
            top.add_row(str(row.rank), row.name, f"{row.mu:.2f}", f"{row.sigma:.2f}", f"{row.score:.2f}")
        return Group(learners, top)


