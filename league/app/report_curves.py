"""The report's sections drawn over training: every player's rating by training step (or by game)
and by wall time with +/- sigma bands, evaluation scores with Wilson 95% intervals and
exploitability, and the learning curve of every metric (a smoothed line over the faint raw one;
all but the first few in a collapsed section).

Example:
    >>> import tempfile
    >>> from league.app.report_run import gather
    >>> from league.store.database import Store
    >>> with tempfile.TemporaryDirectory() as tmp, Store.open(tmp, create=True) as store:
    ...     store.init_run("demo", "tic_tac_toe", {})
    ...     _ = store.add_player("iql", "learner", algorithm="iql", role="player")
    ...     for step in (100, 200, 300):
    ...         store.add_metrics("iql", step, {"loss": 1.0 / step, "eval/random": step / 400})
    ...     run = gather(store)
    >>> html, plots = training_section(run)
    >>> plots, html.count("<svg"), evaluation_section(run)[1]
    (1, 1, 1)
"""

from __future__ import annotations

from typing import Callable

from league.app.chart_colors import legend
from league.app.chart_stats import smooth, smoothing_window, wilson
from league.app.chart_svg import esc
from league.app.charts import Series, line_chart
from league.app.report_html import html_empty, html_figure
from league.app.report_run import Run, timestamp

OPEN_CURVES = 6  # learning curves shown open; the rest are in a collapsed section


def _style(run: Run, name: str) -> dict:
    if run.is_learner(name):
        return {"width": 2.8, "opacity": 1.0, "band": 0.2}
    if run.kind(name) == "baseline":
        return {"width": 1.6, "opacity": 0.9, "dashed": True, "band": 0.08}
    return {"width": 1.4, "opacity": 0.85, "band": 0.06}


def ratings_section(run: Run) -> tuple[str, int]:
    histories = {}
    for s in run.rows:
        history = run.store.rating_history(s.name)
        if len(history) > 1 and history[0].match_id is None:  # a snapshot's starting rating, before any game
            history = history[1:]
        if history:
            histories[s.name] = history
    if not histories:
        return html_empty("No rating history yet."), 0
    order = {m.id: k for k, m in enumerate(run.matches)}
    created = {m.id: timestamp(m.created) for m in run.matches}

    def series(x_of: Callable) -> list[Series]:
        out = []
        for name, history in histories.items():
            xs = [x_of(p) for p in history]
            mu, sigma = [p.mu for p in history], [p.sigma for p in history]
            out.append(Series(name, xs, mu, [m - s for m, s in zip(mu, sigma)], [m + s for m, s in zip(mu, sigma)],
                              color=run.color(name), **_style(run, name)))
        return out

    def when(point) -> float:
        return created.get(point.match_id, timestamp(point.created))

    y_label = "TrueSkill mu (band: +/- sigma)"
    figures = []
    if run.step_at is not None:
        by_step = series(lambda p: run.step_at(when(p)))
        chart = line_chart(by_step, x_from=0.0, title="Rating by training step",
                           x_label="training step (env steps of the most advanced learner)", y_label=y_label)
        figures.append(html_figure(chart, "Every player's TrueSkill mu after each rated game, by the training step at "
                                          "which it was played; the band is mu +/- sigma. Thick: learners; thin: "
                                          "snapshots (light to dark by age); dashed: reference bots."))
    else:
        by_game = series(lambda p: float(order.get(p.match_id, 0)))
        chart = line_chart(by_game, title="Rating by game", x_label="games stored", y_label=y_label)
        figures.append(html_figure(chart, "Every player's TrueSkill mu after each rated game; the band is mu +/- "
                                          "sigma."))
    by_time = series(lambda p: (when(p) - run.start) / 60)
    chart = line_chart(by_time, x_from=0.0, title="Rating by wall time", x_label="minutes since the first game",
                       y_label=y_label)
    figures.append(html_figure(chart, "The same ratings by wall-clock time since the run's first stored game."))
    key = legend([(n, run.color(n)) for n in histories],
                 dashed=[n for n in histories if run.kind(n) == "baseline"])
    return f'<div class="charts">{"".join(figures)}</div>{key}', len(figures)


def _curve_rank(key: str) -> tuple[int, str]:
    for k, word in enumerate(("return", "reward", "loss", "entropy", "epsilon", "q")):
        if word in key:
            return k, key
    return 9, key


def evaluation_section(run: Run) -> tuple[str, int]:
    keys = sorted(k for k in run.metrics if k.startswith("eval/")) + sorted(
        k for k in run.metrics if k.startswith("exploitability"))
    if not keys:
        return html_empty("No evaluations yet."), 0
    two_sides = run.n_sides() != 1
    figures = []
    for key in keys:
        series = []
        for player, points in sorted(run.metrics[key].items(), key=lambda item: item[0]):
            xs, ys = [float(s) for s, _, _ in points], [v for _, v, _ in points]
            lo = hi = None
            if key.startswith("eval/") and two_sides and run.eval_games:
                bounds = [wilson(min(max(v, 0.0), 1.0), run.eval_games) for v in ys]
                lo, hi = [b[0] for b in bounds], [b[1] for b in bounds]
            series.append(Series(player, xs, ys, lo, hi, color=run.color(player), points=True))
        if key.startswith("eval/"):
            bot = key[5:]
            title, y_label = f"Score against {bot}", "score (win 1, draw 1/2)" if two_sides else "mean return"
            interval = (f" Whiskers: Wilson 95% intervals over {run.eval_games} games." if series[0].lo is not None
                        else "")
            caption = f"Each learner's score against the reference bot {bot}, by its training step.{interval}"
        else:
            title, y_label = key, "exploitability"
            caption = ("Exact exploitability (how much a best response wins against it; 0 is a Nash equilibrium) by "
                       "training step" + ("; meta: the Nash mixture of the pool." if key.endswith("meta") else "."))
        y_range = (0.0, 1.0) if key.startswith("eval/") and two_sides else None
        figures.append(html_figure(line_chart(series, title=title, x_label="training step", y_label=y_label,
                                              y_range=y_range, x_from=0.0),
                                   caption, extra=legend([(s.label, s.color) for s in series])))
    return f'<div class="charts">{"".join(figures)}</div>', len(figures)


def training_section(run: Run) -> tuple[str, int]:
    keys = sorted((k for k in run.metrics if not k.startswith(("eval/", "exploitability"))), key=_curve_rank)
    if not keys:
        return html_empty("No training metrics yet."), 0
    figures = []
    for key in keys:
        series = []
        windows = []
        for player, points in sorted(run.metrics[key].items()):
            xs, ys = [float(s) for s, _, _ in points], [v for _, v, _ in points]
            windows.append(smoothing_window(len(ys)))
            series.append(Series(f"{player} (raw)", xs, ys, color=run.color(player), width=1.0, opacity=0.3))
            series.append(Series(player, xs, smooth(ys, windows[-1]).tolist(), color=run.color(player), width=2.2))
        svg = line_chart(series, title=key, x_label="training step", y_label=key, height=260, x_from=0.0)
        smoothing = (f"the solid line is a centred moving average over {max(windows)} logged values, the faint one "
                     "the raw values" if max(windows) > 1 else "each logged value")
        figures.append(html_figure(svg, f"{key} by the learner's training step: {smoothing}.",
                                   extra=legend([(s.label, s.color) for s in series if not s.label.endswith("(raw)")])))
    shown = f'<div class="charts">{"".join(figures[:OPEN_CURVES])}</div>'
    rest = figures[OPEN_CURVES:]
    if rest:
        names = ", ".join(keys[OPEN_CURVES:])
        shown += (f"<details><summary>{len(rest)} more metrics: {esc(names)}</summary>"
                  f'<div class="charts">{"".join(rest)}</div></details>')
    return shown, len(figures)
