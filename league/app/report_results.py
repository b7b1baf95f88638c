"""The report's sections on who beats whom: the summary cards, the leaderboard, the payoff heat
map, the Nash mixture of the pool, and scores per side (first and second) of two-side games.

Example:
    >>> from league.store.database import Match
    >>> m = Match("training", "g", 1, ("a", "b"), (1.0, -1.0), (0, 1), 5, id=1, created="")
    >>> scores = side_scores([m])
    >>> side_rate(scores["a"][0]), side_rate(scores["a"][1])
    (1.0, None)
"""

from __future__ import annotations

from collections import defaultdict
from typing import Sequence

from league.app.chart_svg import esc
from league.app.charts import bar_chart, dumbbell_chart, heat_map
from league.app.report_html import (duration_text, html_empty, html_figure, html_table, percent_text, player_html,
                                    steps_text)
from league.app.report_run import Run, timestamp
from league.rate.metagame import symmetric_payoff, zero_sum_nash
from league.results import PayoffTable, is_pickup, score_against
from league.store.database import Match

MAX_PAYOFF = 50  # players in the heat map (the top of the leaderboard)
MAX_SIDES = 40  # players in the per-side chart


def side_scores(matches: Sequence[Match]) -> dict[str, list[list[float]]]:
    """name -> [[points, games] as the first side, [points, games] as the second], two-side games only.

    Example:
        >>> from league.store.database import Match
        >>> m = Match("training", "g", 1, ("a", "b"), (1.0, -1.0), (0, 1), 5, id=1, created="")
        >>> dict(side_scores([m, m]))
        {'a': [[2.0, 2], [0.0, 0]], 'b': [[0.0, 0], [0.0, 2]]}
    """
    out: dict[str, list[list[float]]] = defaultdict(lambda: [[0.0, 0], [0.0, 0]])
    for m in matches:
        if len(m.sides) != 2 or m.sides[0] == m.sides[1] or any(is_pickup(s) for s in m.sides):
            continue
        for k in (0, 1):
            cell = out[m.sides[k]][k]
            cell[0] += score_against(m.ranks, k, 1 - k)
            cell[1] += 1
    return out


def side_rate(cell: list[float]) -> float | None:
    return cell[0] / cell[1] if cell[1] else None


def summary_section(run: Run) -> str:
    learners = [p for p in run.players.values() if run.is_learner(p.name)]
    steps = {name: max(s for s, _, _ in points) for key in run.metrics.values() for name, points in key.items()
             if name in {p.name for p in learners}}
    # the champion as `league export --champion` picks it: the best rated player with weights
    champion = next((s for s in run.rows if run.players.get(s.name) is not None and run.players[s.name].weights_path),
                    None)
    origins: dict[str, int] = defaultdict(int)
    for m in run.matches:
        origins[m.origin] += 1
    times = [timestamp(m.created) for m in (run.matches[:1] + run.matches[-1:])]
    cards = []
    if champion is not None:
        cards.append(("Champion", player_html(run, champion.name),
                      f"the best rated player with weights: rank {champion.rank}, mu {champion.mu:.2f}, "
                      f"sigma {champion.sigma:.2f}, score {champion.score:.2f}"))
    if learners:
        cards.append(("Learners", ", ".join(player_html(run, p.name) for p in learners),
                      ", ".join(f"{n} {steps_text(s)} steps" for n, s in steps.items()) or "no metrics yet"))
    snapshots = sum(p.kind == "snapshot" or (p.kind == "team" and p.parent is not None) for p in run.players.values())
    cards.append(("Pool", f"{snapshots} snapshots", f"{len(run.players)} players in all"))
    cards.append(("Games", f"{len(run.matches):,}", ", ".join(f"{k} {v:,}" for k, v in sorted(origins.items()))))
    if len(times) == 2:
        cards.append(("Duration", duration_text(times[1] - times[0]), "first to last stored game"))
    for p in learners:
        latest = {key[5:]: points[p.name][-1][1] for key, points in run.metrics.items()
                  if key.startswith("eval/") and p.name in points}
        if latest:
            cards.append((f"Latest evaluation of {p.name}", ", ".join(f"{esc(k)} {v:.2f}" for k, v in latest.items()),
                          f"at step {steps_text(run.metrics['eval/' + next(iter(latest))][p.name][-1][0])}"))
    return '<div class="cards">' + "".join(
        f'<div class="card"><div class="label">{esc(title)}</div><div class="value">{value}</div>'
        f'<div class="note">{esc(note)}</div></div>' for title, value, note in cards) + "</div>"


def leaderboard_section(run: Run) -> str:
    if not run.rows:
        return html_empty("No rated players yet.")
    sides = side_scores(run.matches)
    first, second = run.side_names()
    exploit = any(s.exploitability is not None for s in run.rows)
    columns = (["rank", "player", "kind", "algorithm", "step", "mu", "sigma", "score", "games", "W", "D", "L"]
               + ([f"as {first}", f"as {second}"] if sides else []) + (["exploitability"] if exploit else []))
    body = []
    for s in run.rows:
        player = run.players.get(s.name)
        step = player.step if player is not None else None
        row = [s.rank, player_html(run, s.name), s.kind, s.algorithm or "-", "-" if step is None else steps_text(step),
               f"{s.mu:.2f}", f"{s.sigma:.2f}", f"{s.score:.2f}", s.games, s.wins, s.draws, s.losses]
        if sides:
            row += [percent_text(side_rate(sides[s.name][k])) if s.name in sides else "-" for k in (0, 1)]
        if exploit:
            row.append("-" if s.exploitability is None else f"{s.exploitability:.4f}")
        body.append(row)
    caption = "Ranked by the conservative score mu - 3 sigma (TrueSkill)." + (
        f" 'as {first}/{second}': the player's mean score (win 1, draw 1/2) in two-side games on that side."
        if sides else "")
    return html_table(columns, body, left=(1, 2, 3), raw=(1,)) + f'<p class="note">{esc(caption)}</p>'


def payoff_section(run: Run):
    results = [(m.sides, m.ranks, m.returns) for m in run.matches if len(m.sides) >= 2]
    if not results:
        return html_empty("No games of two or more sides yet."), 0, None
    present = {side for sides, _, _ in results for side in sides}
    order = [s.name for s in run.rows if s.name in present] + sorted(present - {s.name for s in run.rows})
    matrix = PayoffTable.from_results(results).matrix(order[:MAX_PAYOFF])
    svg = heat_map(matrix.names, matrix.score, matrix.games, title="Payoff matrix", colors=run.colors)
    cut = f" Only the top {MAX_PAYOFF} of {len(order)} players are shown." if len(order) > MAX_PAYOFF else ""
    caption = ("Row player's score against the column player in percent (win 100, draw 50) over every stored game; "
               "rows and columns sorted by rating, column numbers match the row numbers; hover a cell for its game "
               f"count.{cut}")
    return html_figure(svg, caption, wide=True), 1, matrix


def nash_section(run: Run, matrix) -> tuple[str, int]:
    if matrix is None or len(matrix.names) < 2:
        return html_empty("The Nash mixture needs a payoff matrix of at least two players."), 0
    weights, value = zero_sum_nash(symmetric_payoff(matrix.score))
    value = 0.0 if abs(value) < 5e-4 else value  # no "-0.000"
    support = [(n, float(w)) for n, w in zip(matrix.names, weights) if w > 1e-6]
    svg = bar_chart([n for n, _ in support], [w for _, w in support], title="Nash mixture", colors=run.colors)
    others = len(matrix.names) - len(support)
    caption = (f"Maximin mixture of the zero-sum game 2 * score - 1 over the players of the payoff matrix (unplayed "
               f"pairs count as even); value {value:+.3f}. Support: {', '.join(f'{n} {w:.3f}' for n, w in support)}"
               + (f"; the other {others} players have weight 0." if others else "."))
    return html_figure(svg, caption), 1


def sides_section(run: Run) -> tuple[str, int]:
    sides = side_scores(run.matches)
    if not sides:
        return html_empty("No two-side games yet."), 0
    first, second = run.side_names()
    names = [s.name for s in run.rows if s.name in sides][:MAX_SIDES]
    rows = [(n, side_rate(sides[n][0]), side_rate(sides[n][1]), run.color(n)) for n in names]
    points = sum(v[0][0] for v in sides.values())
    games = sum(v[0][1] for v in sides.values())
    svg = dumbbell_chart(rows, title="Score per side", labels=(first, second))
    caption = (f"Each player's mean score on the {first} side (filled) and the {second} side (ring) in two-side "
               f"games, best rated first. Over all {games:,} such games the {first} side scored "
               f"{percent_text(points / games)} (draws count half).") if games else "No two-side games."
    return html_figure(svg, caption), 1
