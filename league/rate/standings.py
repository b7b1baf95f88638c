"""Standings of a run: ratings ordered by the conservative score, with game counts.

Example:
    >>> import tempfile
    >>> from league.store.database import NewMatch, Store
    >>> with tempfile.TemporaryDirectory() as tmp, Store.open(tmp, create=True) as store:
    ...     for name in ("a", "b"):
    ...         _ = store.add_player(name, "baseline")
    ...     _ = store.record_match(NewMatch("tournament", "g", 1, ("a", "b"), (1.0, -1.0), (0, 1), 5),
    ...                            {"a": (29.0, 7.0), "b": (21.0, 7.0)})
    ...     [(s.rank, s.name, s.wins, s.losses) for s in standings(store)]
    [(1, 'a', 1, 0), (2, 'b', 0, 1)]
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass

from league.store.database import Store

TEAM_SEPARATOR = "+"


@dataclass(frozen=True)
class Standing:
    rank: int
    name: str
    kind: str
    algorithm: str | None
    mu: float
    sigma: float
    score: float  # conservative: mu - 3 sigma
    games: int  # rated games
    wins: int
    draws: int
    losses: int
    forfeits: int = 0  # games it lost by crashing, an illegal move or a timeout
    exploitability: float | None = None  # latest exact exploitability, where the game defines it
    per_capita: float | None = None  # mixed games: mean return per seat of its side, against the pool

    def as_dict(self) -> dict:
        return asdict(self)


def per_capita_returns(store: Store, seats_per_side: list[int]) -> dict[str, float]:
    """Mean return per seat of each entrant's side over its games against others (Melting Pot's
    focal-vs-background measure for general-sum games)."""
    sums: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for match in store.matches():
        members = [m for side in match.sides for m in side.split(TEAM_SEPARATOR)]
        if len(match.sides) != len(seats_per_side) or len(set(members)) < len(members):
            continue
        for k, side in enumerate(match.sides):
            for member in side.split(TEAM_SEPARATOR):
                sums[member][0] += match.returns[k] / seats_per_side[k]
                sums[member][1] += 1
    return {name: total / n for name, (total, n) in sums.items() if n}


def latest_metric(store: Store, key: str) -> dict[str, float]:
    """Each player's newest value of one metric."""
    out: dict[str, tuple[int, float]] = {}
    for metric in store.metrics(key=key):
        if metric.player not in out or metric.step >= out[metric.player][0]:
            out[metric.player] = (metric.step, metric.value)
    return {name: value for name, (_, value) in out.items()}


def forfeit_counts(store: Store) -> dict[str, int]:
    """name -> games it forfeited (the stored reason starts with the entrant's name)."""
    counts: dict[str, int] = defaultdict(int)
    for match in store.matches():
        if match.forfeit:
            counts[match.forfeit.split(" ", 1)[0]] += 1
    return counts


def results(store: Store) -> dict[str, list[int]]:
    """name -> [wins, draws, losses] over every stored game of two or more sides.

    A learner playing itself (self-play) is on both sides: such games count for nobody.
    """
    table: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for match in store.matches():
        members = [m for side in match.sides for m in side.split(TEAM_SEPARATOR)]
        if len(match.sides) < 2 or len(set(members)) < len(members):
            continue
        for k, side in enumerate(match.sides):
            mine = match.ranks[k]
            others = [r for i, r in enumerate(match.ranks) if i != k]
            outcome = 0 if all(mine < o for o in others) else 1 if all(mine <= o for o in others) else 2
            for member in side.split(TEAM_SEPARATOR):
                table[member][outcome] += 1
    return table


def standings(store: Store, system: str = "trueskill", *, spec=None) -> list[Standing]:
    """Every rated player, best conservative score first.

    With the run's game `spec`, mixed (general-sum) games also get per-capita returns.
    """
    players = {p.name: p for p in store.players()}
    wdl = results(store)
    exploit = latest_metric(store, "exploitability")
    lost = forfeit_counts(store)
    capita = per_capita_returns(store, [len(s.seats) for s in spec.sides]) if spec is not None and spec.kind == "mixed" else {}
    rows = []
    for name, (mu, sigma, games) in store.ratings(system).items():
        player = players.get(name)
        w, d, l = wdl.get(name, [0, 0, 0])
        rows.append((mu - 3 * sigma, mu, name, player, sigma, games, w, d, l))
    rows.sort(key=lambda r: (-r[0], -r[1], r[2]))
    return [
        Standing(rank=k + 1, name=name, kind=player.kind if player else "?", algorithm=player.algorithm if player else None,
                 mu=mu, sigma=sigma, score=score, games=games, wins=w, draws=d, losses=l,
                 forfeits=lost.get(name, 0), exploitability=exploit.get(name), per_capita=capita.get(name))
        for k, (score, mu, name, player, sigma, games, w, d, l) in enumerate(rows)
    ]
