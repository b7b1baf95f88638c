"""The report's tournaments section: per tournament its format and status, the Bradley-Terry Elo
of each entrant with bootstrap 95% intervals, and a table of W/D/L, score and scores per side.

Example:
    >>> import tempfile
    >>> from league.app.report_run import gather
    >>> from league.store.database import NewMatch, Store
    >>> with tempfile.TemporaryDirectory() as tmp, Store.open(tmp, create=True) as store:
    ...     store.init_run("demo", "tic_tac_toe", {})
    ...     for name in ("a", "b"):
    ...         _ = store.add_player(name, "baseline")
    ...     tid = store.create_tournament("rr-demo", "round-robin", {})
    ...     for k, sides in enumerate([("a", "b"), ("b", "a")]):
    ...         _ = store.record_match(NewMatch("tournament", "tic_tac_toe", k, sides, (1.0, -1.0), (0, 1), 5,
    ...                                         tournament_id=tid, game_index=k))
    ...     html, plots = tournaments_section(gather(store))
    >>> plots, html[:html.index("</h3>")]
    (1, '<h3>Tournament 1: round-robin, running (2 games)')
"""

from __future__ import annotations

from collections import defaultdict

from league.app.chart_svg import esc
from league.app.charts import Interval, interval_chart
from league.app.report_html import html_empty, html_figure, html_table, percent_text, player_html, signed_elo
from league.app.report_results import side_rate, side_scores
from league.app.report_run import Run
from league.rate.views import bradley_terry
from league.results import WDL_INDEX, members, outcome
from league.store.database import Match

BOOTSTRAP = 200  # Bradley-Terry resamples for the tournaments' intervals


def tournaments_section(run: Run) -> tuple[str, int]:
    games: dict[int, list[Match]] = defaultdict(list)
    for match in run.matches:
        if match.origin == "tournament" and match.tournament_id is not None:
            games[match.tournament_id].append(match)
    if not games:
        return html_empty("No tournaments yet."), 0
    listed = {t["id"]: t for t in run.store.tournaments()}
    first, second = run.side_names()
    out, plots = [], 0
    for tid in sorted(games):
        info = listed.get(tid, {})
        head = f"Tournament {tid}" + (f": {info['format']}, {info['status']}" if info else "")
        out.append(f"<h3>{esc(head)} ({len(games[tid])} games)</h3>")
        wdl: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
        for match in games[tid]:
            for k, side in enumerate(match.sides):
                for member in members(side):
                    wdl[member][WDL_INDEX[outcome(match.ranks, k)]] += 1
        sides = side_scores(games[tid])
        bt = bradley_terry([(m.sides, m.ranks) for m in games[tid]], bootstrap=BOOTSTRAP, seed=tid)
        names = [r.name for r in bt] + sorted(set(wdl) - {r.name for r in bt})
        if bt:
            rows = [Interval(r.name, r.elo, r.lower, r.upper, run.color(r.name),
                             f"{signed_elo(r.elo)} [{signed_elo(r.lower)}, {signed_elo(r.upper)}]") for r in bt]
            svg = interval_chart(rows, title=f"Tournament {tid}: Bradley-Terry Elo", x_label="Elo (mean 0)",
                                 reference=0.0)
            out.append(html_figure(svg, "Bradley-Terry Elo of each entrant from this tournament's games (draws "
                                        f"count half), with bootstrap 95% intervals over {BOOTSTRAP} resamples. Rank: "
                                        "1 + the number of entrants whose interval lies wholly above this one's."))
            plots += 1
        by_bt = {r.name: r for r in bt}
        table = []
        for name in names:
            w, d, l = wdl[name]
            r = by_bt.get(name)
            table.append([r.rank if r else "-", player_html(run, name), signed_elo(r.elo) if r else "-",
                          f"[{signed_elo(r.lower)}, {signed_elo(r.upper)}]" if r else "-", w + d + l, w, d, l,
                          f"{(w + 0.5 * d) / max(w + d + l, 1):.3f}",
                          percent_text(side_rate(sides[name][0])) if name in sides else "-",
                          percent_text(side_rate(sides[name][1])) if name in sides else "-"])
        out.append(html_table(["rank", "entrant", "elo", "95% interval", "games", "W", "D", "L", "score",
                               f"as {first}", f"as {second}"], table, raw=(1,)))
    return "".join(out), plots
