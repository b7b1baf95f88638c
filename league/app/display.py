"""What the league prints: plain tables when piped (exact, for scripts and tests), rich ones,
progress bars and a live training view on a terminal, plain progress lines in a log, and the
closing screen of a training run. No command-line parsing here."""

from __future__ import annotations

import math
import shlex
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence, TextIO

from rich.console import Console
from rich.table import Table

from games.errors import LeagueError
from league.play.mixture import MIXTURE_NAME, Mixture
from league.rate.standings import standings
from league.store.database import Store
from league.store.trust import load_stored_game
from league.tournament.config import TournamentConfig
from league.tournament.formats import play_tournament
from league.tournament.summary import pairing_rows
from league.train.loop import Event


def console() -> Console:
    """A console on stdout; when not a terminal: plain, and wide enough never to cut a cell."""
    plain = not sys.stdout.isatty()
    return Console(highlight=False, soft_wrap=False, width=200 if plain else None)


def plain_table(columns: Sequence[str], rows: Sequence[Sequence[Any]], *, right: Sequence[str] = ()) -> str:
    """Columns aligned with two spaces, no trailing blanks (what tables look like when piped).

    Example:
        >>> print(plain_table(["name", "games"], [("random", 4), ("mcts:5", 12)], right=("games",)))
        name    games
        random      4
        mcts:5     12
    """
    from rich.cells import cell_len

    cells = [[str(c) for c in columns]] + [[str(x) for x in row] for row in rows]
    widths = [max(cell_len(line[k]) for line in cells) for k in range(len(columns))]

    def pad(text: str, k: int) -> str:
        gap = " " * (widths[k] - cell_len(text))
        return gap + text if columns[k] in right else text + gap

    return "\n".join("  ".join(pad(text, k) for k, text in enumerate(line)).rstrip() for line in cells)


def print_table(title: str | None, columns: Sequence[str], rows: Sequence[Sequence[Any]], *,
                right: Sequence[str] = ()) -> None:
    """A table: rich on a terminal; otherwise `plain_table` written directly (exact, for scripts
    and tests; rich takes seconds over a few hundred rows)."""
    if not sys.stdout.isatty():
        print("\n".join(([title] if title else []) + [plain_table(columns, rows, right=right)]))
        return
    table = Table(title=title, title_justify="left", header_style="bold", box=None, pad_edge=False)
    for column in columns:
        table.add_column(column, justify="right" if column in right else "left", no_wrap=True)
    for row in rows:
        table.add_row(*(str(x) for x in row))
    console().print(table)


def print_pairings(pairings, config: TournamentConfig, *, pentanomial: bool = False) -> None:
    """Each pairing's games, score and Elo [95%] (with an SPRT: its LLR and decision; with
    `pentanomial`: the pair counts)."""
    columns, rows = pairing_rows(pairings, config.test(), pentanomial=pentanomial)
    print_table(None, columns, rows, right=("games",))


def play_with_progress(store, game, roster, config, rater, batch, *, wrap=None, **options):
    """play_tournament with a progress bar on a terminal; `wrap(progress)` may wrap the bar's
    callback (None when there is no bar), e.g. in a `ReportEvery`."""
    wrap = wrap or (lambda inner: inner)
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    if not sys.stderr.isatty():
        return play_tournament(store, game, roster, config, rater, batch=batch, progress=wrap(None), **options)
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

        return play_tournament(store, game, roster, config, rater, batch=batch, progress=wrap(progress), **options)


def run_spec(store: Store):
    """The run's game spec when its stored name is safe to load (registry or openspiel:), else None."""
    info = store.run_info()
    if info is None:
        return None
    try:
        return load_stored_game(info["game"]).spec  # a stored name is data: never a module:factory
    except LeagueError:
        return None


def cell(value) -> str:
    if value is None:
        return "-"
    return str(value) if isinstance(value, (int, str)) else f"{value:.4f}"


LEADERBOARD_TOP = 50  # players a leaderboard shows unless asked for more (`league leaderboard --top`)


def print_leaderboard(store: Store, rows: Sequence[Any] | None = None, *, top: int | None = LEADERBOARD_TOP) -> None:
    """The leaderboard table: of `rows` (standings already computed) or the best `top` read from
    the store (None: all), with a last line saying how many more there are."""
    if rows is None:
        rows = standings(store, spec=run_spec(store), top=top)
    columns = ["rank", "name", "kind", "algorithm", "mu", "sigma", "score", "games", "W", "D", "L"]
    extra = [(title, attr) for title, attr in (("role", "role"), ("forfeits", "forfeits"), ("exploitability", "exploitability"),
                                               ("return/seat", "per_capita"))
             if any(getattr(s, attr) not in (None, 0) for s in rows)]
    print_table(None, columns + [title for title, _ in extra], [
        (s.rank, s.name, s.kind, s.algorithm or "-", f"{s.mu:.2f}", f"{s.sigma:.2f}", f"{s.score:.2f}", s.games,
         s.wins, s.draws, s.losses, *(cell(getattr(s, a)) for _, a in extra))
        for s in rows
    ], right=("rank", "mu", "sigma", "score", "games", "W", "D", "L", "forfeits", "exploitability", "return/seat"))
    rated = store.rated_count() if top is not None and len(rows) >= top else len(rows)
    if rated > len(rows):
        print(f"the best {len(rows):,} of {rated:,} rated players; --top 0 shows all")


def clock_text(seconds: float) -> str:
    """Seconds as h:mm:ss (m:ss under an hour).

    Example:
        >>> clock_text(62), clock_text(3725.4)
        ('1:02', '1:02:05')
    """
    seconds = int(round(max(seconds, 0.0)))
    h, m, s = seconds // 3600, seconds % 3600 // 60, seconds % 60
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


@dataclass(frozen=True)
class TrainProgress:
    """What the live view and each plain progress line say about a training run."""

    round: int
    steps: dict[str, int]  # env steps of each learner
    target: int | None  # steps each learner trains for (None: unknown)
    elapsed: float  # seconds since the display started
    steps_per_second: float  # all learners' env steps per second in the last round
    pool: int  # snapshots in the pool
    evaluation: dict[str, dict[str, float]]  # learner -> opponent -> latest score
    eval_steps: dict[str, int]  # learner -> the step of that evaluation
    top: list[tuple[str, float, float]]  # the leaderboard's top (name, mu, sigma), best first
    eta: float | None  # seconds left, when known

    @property
    def done(self) -> int:
        """Steps of the slowest learner: training ends when it reaches the target."""
        return min(self.steps.values(), default=0)

    def line(self) -> str:
        """One plain line with every fact, for logs (`grep steps/s`).

        Example:
            >>> TrainProgress(3, {"iql": 3000, "mappo": 2900}, 12000, 65, 1500.4, 2, {"iql": {"random": 0.85}},
            ...               {"iql": 2000}, [("iql", 27.1, 1.2), ("mappo", 25.0, 1.1)], 130).line()
            'round 3 | steps 2,900/12,000 (24%) | elapsed 1:05 | ETA 2:10 | 1,500 steps/s | pool 2 | eval iql@2,000: random 0.85 | top: iql 27.1+-1.2, mappo 25.0+-1.1'
        """
        parts = [f"round {self.round}", self._steps_text(), f"elapsed {clock_text(self.elapsed)}",
                 f"ETA {clock_text(self.eta) if self.eta is not None else '-'}",
                 f"{self.steps_per_second:,.0f} steps/s", f"pool {self.pool}"]
        shown = "; ".join(f"{name}@{self.eval_steps.get(name, 0):,}: " + ", ".join(f"{k} {v:.2f}" for k, v in e.items())
                          for name, e in self.evaluation.items() if e)
        if shown:
            parts.append(f"eval {shown}")
        if self.top:
            parts.append("top: " + ", ".join(f"{n} {mu:.1f}+-{sigma:.1f}" for n, mu, sigma in self.top))
        return " | ".join(parts)

    def _steps_text(self) -> str:
        if self.target is None:
            return f"steps {self.done:,}"
        return f"steps {self.done:,}/{self.target:,} ({min(self.done / self.target, 1.0):.0%})"


class TrainDisplay:
    """How a training run looks while it runs (use as `on_event`).

    On a terminal: a live view redrawn every round (steps against the target with a bar,
    elapsed time, ETA, steps/s, pool size, each learner's latest evaluation, the top of the
    leaderboard). Otherwise (a log file, `nohup`): one plain progress line (`TrainProgress.line`)
    at the first round, then every `interval` seconds, and at the end. Snapshots and
    evaluations print one line each either way.
    """

    def __init__(self, store: Store, *, target_steps: int | None = None, interval: float = 30.0,
                 live: bool | None = None, out: TextIO | None = None, clock: Callable[[], float] = time.monotonic,
                 top: int = 5):
        self.store = store
        self.target = target_steps
        self.interval = interval
        self.console = Console(stderr=True)
        self.use_live = self.console.is_terminal and sys.stdout.isatty() if live is None else live
        self.out = out
        self.clock = clock
        self.top = top
        self.live = None
        self.start = clock()
        self.first: tuple[float, int] | None = None  # (time, slowest learner's steps) at the first round
        self.last_line = -math.inf
        self.pending: TrainProgress | None = None  # the newest progress not yet printed
        self.eval_steps: dict[str, int] = {}

    def __enter__(self) -> "TrainDisplay":
        self.start = self.clock()
        if self.use_live:
            from rich.live import Live

            self.live = Live(console=self.console, refresh_per_second=2, transient=False)
            self.live.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        if self.live is not None:
            self.live.__exit__(*exc)
        elif self.pending is not None:
            self._print(self.pending.line())

    def _print(self, text: str) -> None:
        if self.live is not None:
            self.live.console.print(text, highlight=False, markup=False)
            return
        out = self.out or sys.stdout
        print(text, file=out, flush=True)

    def __call__(self, event: Event) -> None:
        if event.kind in ("snapshot", "evaluation"):
            if event.kind == "evaluation":
                self.eval_steps[event.data["learner"]] = int(event.data["step"])
            self._print(event.text)
        elif event.kind == "round":
            progress = self.progress(event.data)
            if self.live is not None:
                self.live.update(self._view(progress))
            elif self.first_round or self.clock() - self.last_line >= self.interval:
                self._print(progress.line())
                self.last_line = self.clock()
                self.pending = None
            else:
                self.pending = progress

    @property
    def first_round(self) -> bool:
        return self.last_line == -math.inf

    def progress(self, data: dict) -> TrainProgress:
        """The progress of a `round` event's data (see `League.status`)."""
        now = self.clock()
        steps = {name: int(v) for name, v in data["steps"].items()}
        done = min(steps.values(), default=0)
        if self.first is None:
            self.first = (now, done)
        eta = None
        if self.target is not None and steps:
            t0, s0 = self.first
            rate = (done - s0) / (now - t0) if now > t0 and done > s0 else data["steps_per_second"] / len(steps)
            eta = max(self.target - done, 0) / rate if rate > 0 else None
        top = [(name, mu, sigma) for name, (mu, sigma, _) in list(self.store.ratings().items())[:self.top]]
        return TrainProgress(round=int(data["round"]), steps=steps, target=self.target, elapsed=now - self.start,
                             steps_per_second=float(data["steps_per_second"]), pool=int(data["pool"]),
                             evaluation={k: dict(v) for k, v in data["evaluation"].items()},
                             eval_steps=dict(self.eval_steps), top=top, eta=eta)

    def _view(self, p: TrainProgress):
        from rich.console import Group
        from rich.progress_bar import ProgressBar
        from rich.text import Text

        head = Text(f"round {p.round}   {p._steps_text()}   elapsed {clock_text(p.elapsed)}   ETA "
                    f"{clock_text(p.eta) if p.eta is not None else '-'}   {p.steps_per_second:,.0f} steps/s   "
                    f"pool {p.pool}", style="bold")
        parts: list = [head]
        if p.target:
            bar = Table.grid(padding=(0, 1))
            bar.add_row(ProgressBar(total=p.target, completed=min(p.done, p.target), width=60),
                        Text(f"{min(p.done / p.target, 1.0):.0%}"))
            parts.append(bar)
        learners = Table(title="learners", title_justify="left", box=None, header_style="bold")
        for column in ("learner", "steps", "latest evaluation"):
            learners.add_column(column)
        for name, steps in p.steps.items():
            scores = p.evaluation.get(name, {})
            shown = ", ".join(f"{k} {v:.3f}" for k, v in scores.items())
            when = f" (step {p.eval_steps[name]:,})" if scores and name in p.eval_steps else ""
            learners.add_row(name, f"{steps:,}" + (f" / {p.target:,}" if p.target else ""), (shown or "-") + when)
        top = Table(title=f"leaderboard (top {self.top})", title_justify="left", box=None, header_style="bold")
        for column in ("rank", "name", "mu", "sigma", "score"):
            top.add_column(column, justify="right" if column != "name" else "left")
        for k, (name, mu, sigma) in enumerate(p.top):
            top.add_row(str(k + 1), name, f"{mu:.2f}", f"{sigma:.2f}", f"{mu - 3 * sigma:.2f}")
        return Group(*parts, learners, top)


def final_screen(store: Store, run_dir: str | Path, tensorboard: bool = True, mixture: Mixture | None = None) -> str:
    """What `league train` prints last: where the run is, its champion, and what to run next.

    `tensorboard=False` (a run trained with `--no-tensorboard`) names no event files. With a
    `mixture` (a poker league's pool Nash mixture) the champion is that mixture, `nash`.

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as tmp, Store.open(tmp, create=True) as store:
        ...     store.init_run("demo", "tic_tac_toe", {})
        ...     print(final_screen(store, "runs/demo"))
        Run directory: runs/demo (league.db, config.toml, snapshots/, tensorboard/)
        Champion: none yet (no snapshot with weights)
        Next:
          league report --run runs/demo --out runs/demo/report.html   # an HTML report: ratings, payoff, curves
          tensorboard --logdir runs/demo/tensorboard                  # training curves, live while it trains
    """
    from league.app.export import ExportError, find_champion
    from league.app.human import PLAYABLE

    run = shlex.quote(str(run_dir))
    contents = "league.db, config.toml, snapshots/" + (", tensorboard/" if tensorboard else "")
    lines = [f"Run directory: {run_dir} ({contents})"]
    try:
        champion = find_champion(store)
    except ExportError:
        champion = None
    commands = [(f"league report --run {run} --out {shlex.quote(str(Path(run_dir) / 'report.html'))}",
                 "an HTML report: ratings, payoff, curves")]
    if mixture is not None:
        about = f"; exploitability {mixture.exploitability:.4f}" if mixture.exploitability is not None else ""
        lines.append(f"Champion: {MIXTURE_NAME} (the pool's Nash mixture over {len(mixture.playing()[0])} players{about})")
        commands.append((f"league export --run {run} --champion --out champion",
                         "the mixture as ONNX, runs without league"))
        commands.append((f"league play --run {run} --player {MIXTURE_NAME}", "play against it yourself"))
        commands.append((f"league tournament --run {run} --top 8", "a round-robin of the 8 best snapshots"))
    elif champion is None:
        lines.append("Champion: none yet (no snapshot with weights)")
    else:
        player = store.player(champion)
        rating = store.rating(champion)
        about = [f"{player.kind} of {player.parent}" if player and player.parent else (player.kind if player else "")]
        if player is not None and player.step is not None:
            about.append(f"step {player.step:,}")
        if rating is not None:
            about.append(f"mu {rating[0]:.2f}, sigma {rating[1]:.2f}")
        lines.append(f"Champion: {champion} ({'; '.join(a for a in about if a)})")
        commands.append((f"league export --run {run} --champion --out champion",
                         "the champion as ONNX, runs without league"))
        info = store.run_info()
        if info is not None and info["game"] in PLAYABLE:
            commands.append((f"league play --run {run} --player {shlex.quote(champion)}", "play against it yourself"))
        commands.append((f"league tournament --run {run} --top 8", "a round-robin of the 8 best snapshots"))
    if tensorboard:
        commands.append((f"tensorboard --logdir {shlex.quote(str(Path(run_dir) / 'tensorboard'))}",
                         "training curves, live while it trains"))
    width = max(len(c) for c, _ in commands)
    lines.append("Next:")
    lines += [f"  {command:<{width}}   # {why}" for command, why in commands]
    return "\n".join(lines)
