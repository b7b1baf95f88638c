"""One self-contained HTML report of a run: plots as inline SVG, no script, no network.

Sections: the leaderboard; rating over time with sigma bands per learner (from the rating
history); the payoff matrix as a heat map; the Nash mixture of the pool (`zero_sum_nash` on
2 * score - 1); training curves (eval/<bot> win rates, exploitability, then other metrics);
tournament results. The page is well-formed XML as well as HTML, so any parser reads it, and
it opens in a browser from disk. Plots are drawn here as SVG, so no plotting library is needed.

Example:
    >>> import tempfile
    >>> from league.store.database import NewMatch, Store
    >>> with tempfile.TemporaryDirectory() as tmp, Store.open(tmp, create=True) as store:
    ...     store.init_run("demo", "tic_tac_toe", {})
    ...     for name in ("a", "b"):
    ...         _ = store.add_player(name, "baseline")
    ...     _ = store.record_match(NewMatch("tournament", "tic_tac_toe", 1, ("a", "b"), (1.0, -1.0), (0, 1), 5),
    ...                            {"a": (29.0, 7.0), "b": (21.0, 7.0)})
    ...     result = write_report(store, f"{tmp}/report.html")
    ...     result.plots, open(result.out).read().startswith("<!DOCTYPE html>")
    (3, True)
"""

from __future__ import annotations

import html
import importlib.metadata
import math
import os
import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Sequence

import numpy as np

from games.errors import LeagueError
from league.rate.metagame import symmetric_payoff, zero_sum_nash
from league.rate.ratings import payoff_matrix
from league.rate.standings import TEAM_SEPARATOR, standings
from league.store.database import Store

SECTIONS = ("leaderboard", "ratings", "payoff", "nash", "training", "tournaments")
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")
MAX_LINES = 10  # learners drawn in one chart
MAX_POINTS = 400  # points per line (longer histories are thinned evenly)
MAX_CURVES = 8  # training-curve charts
MAX_PAYOFF = 30  # players in the heat map


class ReportError(LeagueError, ValueError):
    """A report that cannot be written (a bad output path)."""


@dataclass(frozen=True)
class ReportResult:
    out: Path
    plots: int  # SVG figures in the page
    sections: tuple[str, ...] = field(default=SECTIONS)


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


# -- SVG plots --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Series:
    """One line of a chart, with an optional band [lo, hi] drawn under it."""

    label: str
    xs: Sequence[float]
    ys: Sequence[float]
    lo: Sequence[float] | None = None
    hi: Sequence[float] | None = None


def nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """About n round tick values covering [lo, hi].

    Example:
        >>> nice_ticks(0, 1)
        [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    """
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo]
    raw = (hi - lo) / n
    step = 10 ** math.floor(math.log10(raw))
    step *= next(m for m in (1, 2, 2.5, 5, 10) if m * step >= raw)
    first = math.ceil(lo / step - 1e-9)
    return [round(k * step, 10) for k in range(first, int(math.floor(hi / step + 1e-9)) + 1)]


def _fmt(x: float) -> str:
    return f"{x:g}" if abs(x) < 1e5 else f"{x:.3g}"


def _thin(n: int) -> np.ndarray:
    return np.unique(np.linspace(0, n - 1, min(n, MAX_POINTS)).round().astype(int)) if n else np.zeros(0, int)


def line_chart(series: Sequence[Series], *, title: str, x_label: str, y_label: str, width: int = 760,
               height: int = 320) -> str:
    """A line chart with shaded bands and a legend, as an inline <svg>."""
    left, right, top, bottom = 64, 170, 16, 44
    values_x = [x for s in series for x in s.xs]
    values_y = [y for s in series for part in (s.ys, s.lo or (), s.hi or ()) for y in part if math.isfinite(y)]
    x0, x1 = (min(values_x), max(values_x)) if values_x else (0.0, 1.0)
    y0, y1 = (min(values_y), max(values_y)) if values_y else (0.0, 1.0)
    if x1 <= x0:
        x0, x1 = x0 - 1, x1 + 1
    if y1 <= y0:
        y0, y1 = y0 - 1, y1 + 1
    pad = 0.05 * (y1 - y0)
    y0, y1 = y0 - pad, y1 + pad
    w, h = width - left - right, height - top - bottom

    def px(x: float) -> float:
        return left + (x - x0) / (x1 - x0) * w

    def py(y: float) -> float:
        return top + (1 - (y - y0) / (y1 - y0)) * h

    parts = [f'<svg class="plot" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="{esc(title)}"><title>{esc(title)}</title>']
    for t in nice_ticks(y0, y1):
        parts.append(f'<line x1="{left}" x2="{left + w}" y1="{py(t):.1f}" y2="{py(t):.1f}" class="grid"/>'
                     f'<text x="{left - 6}" y="{py(t) + 4:.1f}" text-anchor="end">{esc(_fmt(t))}</text>')
    for t in nice_ticks(x0, x1):
        parts.append(f'<text x="{px(t):.1f}" y="{top + h + 16}" text-anchor="middle">{esc(_fmt(t))}</text>')
    parts.append(f'<rect x="{left}" y="{top}" width="{w}" height="{h}" class="frame"/>'
                 f'<text x="{left + w / 2:.1f}" y="{height - 6}" text-anchor="middle">{esc(x_label)}</text>'
                 f'<text x="14" y="{top + h / 2:.1f}" text-anchor="middle" '
                 f'transform="rotate(-90 14 {top + h / 2:.1f})">{esc(y_label)}</text>')
    for k, s in enumerate(series):
        color = PALETTE[k % len(PALETTE)]
        keep = _thin(len(s.xs))
        xs, ys = np.asarray(s.xs, float)[keep], np.asarray(s.ys, float)[keep]
        if s.lo is not None and s.hi is not None and len(xs):
            lo, hi = np.asarray(s.lo, float)[keep], np.asarray(s.hi, float)[keep]
            ring = [(px(x), py(y)) for x, y in zip(xs, hi)] + [(px(x), py(y)) for x, y in zip(xs[::-1], lo[::-1])]
            parts.append(f'<polygon points="{" ".join(f"{a:.1f},{b:.1f}" for a, b in ring)}" fill="{color}" '
                         f'fill-opacity="0.15" stroke="none"/>')
        points = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in zip(xs, ys) if math.isfinite(y))
        if len(xs) == 1:
            parts.append(f'<circle cx="{px(xs[0]):.1f}" cy="{py(ys[0]):.1f}" r="3" fill="{color}"/>')
        parts.append(f'<polyline points="{points}" fill="none" stroke="{color}" stroke-width="1.8"/>')
        ly = top + 14 + 18 * k
        parts.append(f'<line x1="{left + w + 12}" x2="{left + w + 30}" y1="{ly - 4}" y2="{ly - 4}" stroke="{color}" '
                     f'stroke-width="3"/><text x="{left + w + 36}" y="{ly}">{esc(s.label[:22])}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _heat_color(score: float) -> str:
    """Red (0) through near-white (0.5) to blue (1); grey where the pair never met."""
    if not math.isfinite(score):
        return "#e5e5e5"
    a, mid, b = np.array([215, 48, 39]), np.array([247, 247, 247]), np.array([69, 117, 180])
    rgb = a + (mid - a) * (score / 0.5) if score <= 0.5 else mid + (b - mid) * ((score - 0.5) / 0.5)
    return "#" + "".join(f"{int(round(c)):02x}" for c in rgb)


def heat_map(names: Sequence[str], score: np.ndarray, games: np.ndarray, *, title: str) -> str:
    """A square heat map of row-vs-column scores with the score written in each cell."""
    n = len(names)
    cell = int(max(26, min(60, 640 / max(n, 1))))
    label = 8 + 7 * max((len(x) for x in names), default=4)
    label = min(label, 180)
    width, height = label + n * cell + 10, label + n * cell + 10
    parts = [f'<svg class="plot" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="{esc(title)}"><title>{esc(title)}</title>']
    for i, name in enumerate(names):
        y = label + i * cell
        parts.append(f'<text x="{label - 6}" y="{y + cell / 2 + 4:.1f}" text-anchor="end">{esc(name[:24])}</text>')
        x = label + i * cell + cell / 2
        parts.append(f'<text x="{x:.1f}" y="{label - 6}" transform="rotate(-45 {x:.1f} {label - 6})">{esc(name[:24])}</text>')
        for j in range(n):
            s = float(score[i, j])
            tip = f"{names[i]} vs {names[j]}: " + (f"{s:.3f} over {int(games[i, j])} games" if math.isfinite(s) else "not played")
            parts.append(f'<rect x="{label + j * cell}" y="{y}" width="{cell}" height="{cell}" fill="{_heat_color(s)}" '
                         f'stroke="#ffffff"><title>{esc(tip)}</title></rect>')
            if math.isfinite(s) and cell >= 34:
                parts.append(f'<text x="{label + j * cell + cell / 2:.1f}" y="{y + cell / 2 + 4:.1f}" '
                             f'text-anchor="middle" class="cell">{s:.2f}</text>')
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(names: Sequence[str], values: Sequence[float], *, title: str) -> str:
    """Horizontal bars of values in [0, 1] (a mixture's weights), labelled with each value."""
    label = min(180, 8 + 7 * max((len(x) for x in names), default=4))
    bar_w, row = 420, 22
    width, height = label + bar_w + 70, 10 + row * len(names)
    parts = [f'<svg class="plot" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="{esc(title)}"><title>{esc(title)}</title>']
    for k, (name, value) in enumerate(zip(names, values)):
        y = 5 + k * row
        parts.append(f'<text x="{label - 6}" y="{y + 15}" text-anchor="end">{esc(name[:24])}</text>'
                     f'<rect x="{label}" y="{y + 3}" width="{max(value, 0.0) * bar_w:.1f}" height="{row - 6}" '
                     f'fill="{PALETTE[0]}"/><text x="{label + max(value, 0.0) * bar_w + 6:.1f}" y="{y + 15}">{value:.3f}</text>')
    parts.append("</svg>")
    return "".join(parts)


# -- the sections -------------------------------------------------------------------------------

def _table(columns: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    head = "".join(f"<th>{esc(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{esc(x)}</td>" for x in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _figure(svg: str, caption: str) -> str:
    return f"<figure>{svg}<figcaption>{esc(caption)}</figcaption></figure>"


def _empty(text: str) -> str:
    return f'<p class="empty">{esc(text)}</p>'


def leaderboard_section(store: Store, rows) -> str:
    if not rows:
        return _empty("No rated players yet.")
    return _table(["rank", "name", "kind", "algorithm", "mu", "sigma", "score", "games", "W", "D", "L"], [
        (s.rank, s.name, s.kind, s.algorithm or "-", f"{s.mu:.2f}", f"{s.sigma:.2f}", f"{s.score:.2f}", s.games,
         s.wins, s.draws, s.losses) for s in rows])


def ratings_section(store: Store, rows) -> tuple[str, int]:
    learners = [p.name for p in store.players(kind="learner")]
    names = [n for n in learners if store.rating_history(n)] or [s.name for s in rows]
    series = []
    for name in names[:MAX_LINES]:
        history = store.rating_history(name)
        xs, last = [], 0
        for point in history:
            last = point.match_id if point.match_id is not None else last
            xs.append(float(last))
        mu = [p.mu for p in history]
        sigma = [p.sigma for p in history]
        series.append(Series(name, xs, mu, [m - s for m, s in zip(mu, sigma)], [m + s for m, s in zip(mu, sigma)]))
    if not series:
        return _empty("No rating history yet."), 0
    who = "learner" if learners and names[0] in learners else "player"
    svg = line_chart(series, title="TrueSkill rating over time", x_label="match id", y_label="mu (band: mu +/- sigma)")
    return _figure(svg, f"TrueSkill mu of each {who} after each of its rated games; the band is mu +/- sigma."), 1


def payoff_section(store: Store, rows):
    results = [(m.sides, m.ranks) for m in store.matches() if len(m.sides) >= 2]
    if not results:
        return _empty("No games of two or more sides yet."), 0, None
    present = {side for sides, _ in results for side in sides}
    order = [s.name for s in rows if s.name in present] + sorted(present - {s.name for s in rows})
    matrix = payoff_matrix(results, names=order[:MAX_PAYOFF])
    svg = heat_map(matrix.names, matrix.score, matrix.games, title="Payoff matrix")
    cut = f" (the top {MAX_PAYOFF} of {len(order)})" if len(order) > MAX_PAYOFF else ""
    caption = f"Row player's score against the column player (win 1, draw 1/2){cut}; grey: never met."
    return _figure(svg, caption), 1, matrix


def nash_section(matrix) -> tuple[str, int]:
    if matrix is None or len(matrix.names) < 2:
        return _empty("The Nash mixture needs a payoff matrix of at least two players."), 0
    weights, value = zero_sum_nash(symmetric_payoff(matrix.score))
    value = 0.0 if abs(value) < 5e-4 else value  # no "-0.000"
    svg = bar_chart(matrix.names, weights.tolist(), title="Nash mixture")
    support = ", ".join(f"{n} {w:.3f}" for n, w in zip(matrix.names, weights) if w > 1e-6)
    caption = (f"Maximin mixture of the zero-sum game 2 * score - 1 (unplayed pairs count as even); value {value:+.3f}. "
               f"Support: {support}.")
    return _figure(svg, caption), 1


def training_section(store: Store) -> tuple[str, int]:
    by_key: dict[str, dict[str, list[tuple[int, float]]]] = defaultdict(lambda: defaultdict(list))
    for metric in store.metrics():
        by_key[metric.key][metric.player].append((metric.step, metric.value))
    if not by_key:
        return _empty("No training metrics yet."), 0
    rank = {"eval": 0, "exploitability": 1}
    keys = sorted(by_key, key=lambda k: (rank.get(k.split("/")[0], 2), k))[:MAX_CURVES]
    figures = []
    for key in keys:
        series = [Series(player, [float(s) for s, _ in points], [v for _, v in points])
                  for player, points in sorted(by_key[key].items())[:MAX_LINES]]
        svg = line_chart(series, title=key, x_label="training step", y_label=key)
        figures.append(_figure(svg, f"{key} by training step."))
    skipped = len(by_key) - len(keys)
    note = _empty(f"{skipped} more metrics are in the run's metrics table.") if skipped > 0 else ""
    return "".join(figures) + note, len(figures)


def tournaments_section(store: Store) -> str:
    games: dict[int, list] = defaultdict(list)
    for match in store.matches(origin="tournament"):
        if match.tournament_id is not None:
            games[match.tournament_id].append(match)
    if not games:
        return _empty("No tournaments yet.")
    listed = {t["id"]: t for t in store.tournaments()} if hasattr(store, "tournaments") else {}  # type: ignore[attr-defined]
    out = []
    for tid in sorted(games):
        table: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
        for match in games[tid]:
            for k, side in enumerate(match.sides):
                others = [r for i, r in enumerate(match.ranks) if i != k]
                mine = match.ranks[k]
                outcome = 0 if all(mine < o for o in others) else 1 if all(mine <= o for o in others) else 2
                for member in side.split(TEAM_SEPARATOR):
                    table[member][outcome] += 1
        rows = sorted(table.items(), key=lambda item: -(item[1][0] + 0.5 * item[1][1]) / max(sum(item[1]), 1))
        info = listed.get(tid, {})
        head = f"Tournament {tid}" + (f": {info.get('format')}, {info.get('status')}" if info else "")
        out.append(f"<h3>{esc(head)} ({len(games[tid])} games)</h3>")
        out.append(_table(["entrant", "games", "W", "D", "L", "score"], [
            (name, sum(wdl), *wdl, f"{(wdl[0] + 0.5 * wdl[1]) / max(sum(wdl), 1):.3f}") for name, wdl in rows]))
    return "".join(out)


STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1000px; color: #222; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: 0.2em; margin-top: 2em; }
table { border-collapse: collapse; font-size: 0.9em; } th, td { padding: 0.2em 0.7em; text-align: right; }
th { border-bottom: 1px solid #999; } td:nth-child(2), th:nth-child(2) { text-align: left; }
tbody tr:nth-child(odd) { background: #f6f6f6; } figure { margin: 1em 0; } figcaption { font-size: 0.85em; color: #555; }
svg.plot text { font-size: 11px; fill: #333; } svg.plot .grid { stroke: #e3e3e3; } svg.plot .frame { fill: none; stroke: #999; }
svg.plot .cell { font-size: 10px; } .empty { color: #777; font-style: italic; } nav a { margin-right: 1em; }
"""


def render_report(store: Store) -> tuple[str, int]:
    """(the page, number of plots) for the run in `store`."""
    info = store.run_info() or {"name": store.run_dir.name, "game": "?"}
    spec = None
    try:
        import games

        spec = games.load(info["game"]).spec
    except (ValueError, KeyError):
        pass
    rows = standings(store, spec=spec)
    ratings_html, n_ratings = ratings_section(store, rows)
    payoff_html, n_payoff, matrix = payoff_section(store, rows)
    nash_html, n_nash = nash_section(matrix)
    training_html, n_training = training_section(store)
    titles = {"leaderboard": "Leaderboard", "ratings": "Rating over time", "payoff": "Payoff matrix",
              "nash": "Nash mixture", "training": "Training curves", "tournaments": "Tournament results"}
    bodies = {"leaderboard": leaderboard_section(store, rows), "ratings": ratings_html, "payoff": payoff_html,
              "nash": nash_html, "training": training_html, "tournaments": tournaments_section(store)}
    try:
        version = importlib.metadata.version("league")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    nav = "".join(f'<a href="#{key}">{esc(titles[key])}</a>' for key in SECTIONS)
    sections = "".join(f'<section id="{key}"><h2>{esc(titles[key])}</h2>{bodies[key]}</section>' for key in SECTIONS)
    summary = (f"Game {info['game']}; {len(store.players())} players; {store.count_matches()} games stored; "
               f"generated {now} by league {version}.")
    page = (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"/>'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"/>'
            f"<title>League report: {esc(info['name'])}</title><style>{STYLE}</style></head>"
            f"<body><h1>League report: {esc(info['name'])}</h1><p>{esc(summary)}</p><nav>{nav}</nav>{sections}"
            f"</body></html>\n")
    return page, n_ratings + n_payoff + n_nash + n_training


def write_report(store: Store, out: str | Path) -> ReportResult:
    """Write the run's report to `out` atomically (an existing report there is replaced)."""
    out = Path(out)
    if out.is_dir():
        raise ReportError(f"{out} is a directory; give a file name such as report.html.")
    if not out.parent.is_dir():
        raise ReportError(f"the directory {out.parent} does not exist.")
    page, plots = render_report(store)
    tmp = out.parent / f".{out.name}.{secrets.token_hex(6)}.tmp"
    try:
        tmp.write_text(page, encoding="utf-8")
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return ReportResult(out, plots)
