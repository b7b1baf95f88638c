"""What a tournament prints about its pairings, as rows of text (the CLI lays them out).

Each pairing: games, score, Elo difference with its 95% interval from the paired games;
with an SPRT the final log-likelihood ratio against its bounds and the decision: when it
was made (games, LLR then) and how many games in flight at that moment finished after it;
on request the pentanomial counts of the pairs (0-2, 1/2-3/2, 1-1, 3/2-1/2, 2-0 for the
first player), as fastchess prints them. `ReportEvery` calls a report every N stored games.

Example:
    >>> from league.rate.sprt import SPRT
    >>> from league.tournament.config import TournamentError
    >>> from league.tournament.pairing import Pairing, TableScore
    >>> p = Pairing(0, "mcts:200", "random", games=44, points=44.0, pairs=[2.0] * 22, status="H1", llr=3.9,
    ...             decided_at=40, decision_llr=3.1)
    >>> columns, rows = pairing_rows([p], SPRT(0, 50), pentanomial=True)
    >>> dict(zip(columns, rows[0]))["sprt"], dict(zip(columns, rows[0]))["ptnml(0-2)"]
    ('H1 at 40 (llr +3.10), 4 after', '0 0 0 0 22')
"""

from __future__ import annotations

import math
from typing import Callable, Sequence

from league.rate.sprt import SPRT
from league.tournament.config import TournamentError
from league.tournament.pairing import Pairing, TableScore

PENTANOMIAL = "ptnml(0-2)"


def elo_text(value: float) -> str:
    return f"{value:+.0f}" if not math.isinf(value) else ("+inf" if value > 0 else "-inf")


def decision_text(pairing: Pairing) -> str:
    """"-" (no decision), or "H1 at 40 (llr +2.97), 4 after"."""
    if pairing.status not in ("H0", "H1"):
        return "-"
    if not pairing.decided_at:  # decided before this call (a resumed tournament): the counts say it
        return pairing.status
    return f"{pairing.status} at {pairing.decided_at} (llr {pairing.decision_llr:+.2f}), {pairing.beyond} after"


def pairing_rows(pairings: Sequence[Pairing], test: SPRT | None, *,
                 pentanomial: bool = False) -> tuple[list[str], list[list[str]]]:
    """(columns, rows) of the pairings table: pairing, games, score, elo [95%], then with an
    SPRT "llr (bounds)" (the final LLR, every finished game counted) and "sprt" (the
    decision), then with `pentanomial` the pair counts. Tables of three or more sides: `table_rows`."""
    if pairings and all(isinstance(p, TableScore) for p in pairings):
        return table_rows(pairings)  # type: ignore[arg-type]
    columns = ["pairing", "games", "score", "elo [95%]"]
    if test is not None:
        columns += ["llr (bounds)", "sprt"]
    if pentanomial:
        columns.append(PENTANOMIAL)
    rows = []
    for p in pairings:
        elo, low, high = p.elo()
        interval = "-" if not p.pairs else f"{elo_text(elo)} [{elo_text(low)}, {elo_text(high)}]"
        row = [f"{p.a} vs {p.b}", str(p.games), "-" if not p.games else f"{p.points:g}/{p.games}", interval]
        if test is not None:
            row += [f"{p.llr:+.2f} ({test.lower:.2f}, {test.upper:.2f})", decision_text(p)]
        if pentanomial:
            row.append(" ".join(str(c) for c in p.pentanomial().counts))
        rows.append(row)
    return columns, rows


def table_rows(tables: Sequence[TableScore]) -> tuple[list[str], list[list[str]]]:
    """(columns, rows) of the tables of a game of three or more sides: who sat at each, its games,
    and each entrant's points (per game, the share of the other sides it finished ahead of).

    Example:
        >>> table = TableScore(0, ("a", "b", "c"), games=3, points={"a": 2.0, "b": 1.5, "c": 1.0})
        >>> table_rows([table])
        (['table', 'games', 'points'], [['a vs b vs c', '3', 'a 2, b 1.5, c 1']])
    """
    rows = [[t.name, str(t.games), ", ".join(f"{name} {t.points[name]:g}" for name in t.entrants)] for t in tables]
    return ["table", "games", "points"], rows


class ReportEvery:
    """A `progress(done, total, pairings)` callback for `play_tournament` that calls
    `report(done, total, pairings)` each time another `every` games are stored (and passes
    every call on to `inner`, e.g. a progress bar).

    Example:
        >>> seen = []
        >>> progress = ReportEvery(2, lambda done, total, pairings: seen.append(done))
        >>> for done in range(1, 6):
        ...     progress(done, 5, [])
        >>> seen
        [2, 4]
    """

    def __init__(self, every: int, report: Callable[[int, int, Sequence[Pairing]], None],
                 inner: Callable[[int, int, Sequence[Pairing]], None] | None = None):
        if every < 1:
            raise TournamentError(f"--report-every must be at least 1, got {every}")
        self.every, self.report, self.inner = every, report, inner
        self._next: int | None = None

    def __call__(self, done: int, total: int, pairings: Sequence[Pairing]) -> None:
        if self.inner is not None:
            self.inner(done, total, pairings)
        if self._next is None:  # a resumed tournament reports from where it stands
            self._next = (done // self.every + (1 if done % self.every else 0)) * self.every or self.every
        if done >= self._next:
            self.report(done, total, pairings)
            self._next = (done // self.every + 1) * self.every
