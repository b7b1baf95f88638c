"""One self-contained HTML report of a run, laid out for reading: inline SVG, no script, no network.

Sections, full width: a summary (champion, steps, pool, games, duration, latest evaluations);
the leaderboard; ratings by training step and by wall time with +/- sigma bands for learners,
snapshots and bots; the payoff heat map sorted by rating with the score in every cell and a
colour legend; the Nash mixture; scores per side (first/second); evaluation win rates with
Wilson 95% intervals and exploitability; learning curves of every metric (a smoothed line over
the faint raw one; the less central ones in collapsed sections); tournaments with
Bradley-Terry Elo and bootstrap 95% intervals. A player has one colour in every chart (a hue
per learner, its snapshots in shades of it from light to dark, bots in neutral tones). The
page is well-formed XML as well as HTML and opens from disk.

This module lays out the page (style, navigation, the sections in order) and writes it; the
sections are drawn by league/app/report_results.py, report_curves.py and report_tournaments.py
from what league/app/report_run.py gathers.

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
    (5, True)
"""

from __future__ import annotations

import importlib.metadata
import os
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from games.errors import LeagueError
from league.app.chart_svg import esc
from league.app.report_curves import evaluation_section, ratings_section, training_section
from league.app.report_results import (leaderboard_section, nash_section, payoff_section, sides_section,
                                       summary_section)
from league.app.report_run import gather
from league.app.report_tournaments import tournaments_section
from league.store.database import Store
from league.store.files import check_report_out

SECTIONS = ("summary", "leaderboard", "ratings", "payoff", "nash", "sides", "evaluation", "training", "tournaments")
TITLES = {"summary": "Summary", "leaderboard": "Leaderboard", "ratings": "Ratings over training",
          "payoff": "Payoff matrix", "nash": "Nash mixture", "sides": "Scores per side",
          "evaluation": "Evaluation", "training": "Learning curves", "tournaments": "Tournaments"}


class ReportError(LeagueError, ValueError):
    """A report that cannot be written (a bad output path)."""


@dataclass(frozen=True)
class ReportResult:
    out: Path
    plots: int  # SVG figures in the page
    sections: tuple[str, ...] = field(default=SECTIONS)


STYLE = """
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0; padding: 0 28px 40px;
  color: #1f2328; background: #fff; }
h1 { font-size: 1.7em; margin: 0.6em 0 0.1em; } h2 { font-size: 1.3em; border-bottom: 1px solid #d0d7de;
  padding-bottom: 0.25em; margin: 1.8em 0 0.7em; } h3 { font-size: 1.05em; margin: 1.4em 0 0.5em; }
nav { position: sticky; top: 0; background: #fffffff0; border-bottom: 1px solid #d0d7de; padding: 8px 0; z-index: 1; }
nav a { margin-right: 1.2em; color: #0969da; text-decoration: none; }
.sub { color: #57606a; margin: 0 0 0.6em; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(230px, 1fr)); gap: 12px; }
.card { border: 1px solid #d0d7de; border-radius: 8px; padding: 10px 14px; }
.card .label { color: #57606a; font-size: 0.85em; } .card .value { font-size: 1.15em; font-weight: 600; }
.card .note { color: #57606a; font-size: 0.85em; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(560px, 1fr)); gap: 18px 32px; }
figure { margin: 0 0 10px; } figure.wide svg { max-width: 1500px; }
figcaption, .note { font-size: 0.88em; color: #57606a; margin-top: 4px; }
svg.plot { display: block; height: auto; } svg.plot text { fill: #24292f; }
svg.plot .grid { stroke: #eaeef2; } svg.plot .frame { fill: none; stroke: #8c959f; } svg.plot .axis { fill: #57606a; }
table { border-collapse: collapse; font-size: 0.92em; font-variant-numeric: tabular-nums; }
th, td { padding: 3px 10px; } th { border-bottom: 1px solid #8c959f; text-align: right; }
.l { text-align: left; } .r { text-align: right; } tbody tr:nth-child(odd) { background: #f6f8fa; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 6px;
  vertical-align: baseline; border: 1px solid transparent; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 16px; font-size: 0.88em; margin: 4px 0; }
.legend .swatch.dashed { background: #fff !important; border-style: dashed; border-width: 2px; }
details { margin-top: 10px; } summary { cursor: pointer; color: #0969da; }
.empty { color: #6e7781; font-style: italic; }
"""


def render_report(store: Store) -> tuple[str, int]:
    """(the page, number of plots) for the run in `store`."""
    run = gather(store)
    ratings_html, n_ratings = ratings_section(run)
    payoff_html, n_payoff, matrix = payoff_section(run)
    nash_html, n_nash = nash_section(run, matrix)
    sides_html, n_sides = sides_section(run)
    evaluation_html, n_evaluation = evaluation_section(run)
    training_html, n_training = training_section(run)
    tournaments_html, n_tournaments = tournaments_section(run)
    bodies = {"summary": summary_section(run), "leaderboard": leaderboard_section(run), "ratings": ratings_html,
              "payoff": payoff_html, "nash": nash_html, "sides": sides_html, "evaluation": evaluation_html,
              "training": training_html, "tournaments": tournaments_html}
    try:
        version = importlib.metadata.version("league")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    nav = "".join(f'<a href="#{key}">{esc(TITLES[key])}</a>' for key in SECTIONS)
    sections = "".join(f'<section id="{key}"><h2>{esc(TITLES[key])}</h2>{bodies[key]}</section>' for key in SECTIONS)
    summary = (f"Game {run.game}; {len(run.players)} players; {len(run.matches):,} games stored; "
               f"generated {now} by league {version}.")
    page = (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"/>'
            f'<meta name="generator" content="league report"/>'
            f"<title>League report: {esc(run.name)}</title>"
            f'<meta name="viewport" content="width=device-width, initial-scale=1"/><style>{STYLE}</style></head>'
            f'<body><h1>League report: {esc(run.name)}</h1><p class="sub">{esc(summary)}</p><nav>{nav}</nav>{sections}'
            f"</body></html>\n")
    return page, n_ratings + n_payoff + n_nash + n_sides + n_evaluation + n_training + n_tournaments


def write_report(store: Store, out: str | Path) -> ReportResult:
    """Write the run's report to `out` atomically (an earlier report there is replaced, nothing else is)."""
    out = Path(out)
    check_report_out(out)
    page, plots = render_report(store)
    tmp = out.parent / f".{out.name}.{secrets.token_hex(6)}.tmp"
    try:
        tmp.write_text(page, encoding="utf-8")
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return ReportResult(out, plots)
