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

from dataclasses import dataclass

from league.store.database import Store


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
        return dict(vars(self))  # flat fields: no deep copy (a leaderboard has thousands of them)


def per_capita_returns(store: Store, seats_per_side: list[int]) -> dict[str, float]:
    """Mean return per seat of each entrant's side over its games against others (Melting Pot's
    focal-vs-background measure for general-sum games), from the store's running totals."""
    out = {}
    for name, by_side in store.side_returns(len(seats_per_side)).items():
        games = sum(n for _, _, n in by_side)
        if games:
            out[name] = sum(total / seats_per_side[k] for k, total, _ in by_side) / games
    return out


def latest_metric(store: Store, key: str) -> dict[str, float]:
    """Each player's newest value of one metric."""
    return store.latest_metric(key)


def forfeit_counts(store: Store) -> dict[str, int]:
    """name -> games it forfeited (the stored reason starts with the entrant's name)."""
    return {name: f for name, (_, _, _, f) in store.results().items() if f}


def results(store: Store) -> dict[str, list[int]]:
    """name -> [wins, draws, losses] over every stored game of two or more sides.

    A learner playing itself (self-play) is on both sides: such games count for nobody. The
    store keeps these totals as games are stored, so this reads one row per player.
    """
    return {name: [w, d, l] for name, (w, d, l, _) in store.results().items()}


def standings(store: Store, system: str = "trueskill", *, spec=None) -> list[Standing]:
    """Every rated player, best conservative score first.

    With the run's game `spec`, mixed (general-sum) games also get per-capita returns.
    """
    players = {p.name: p for p in store.players()}
    totals = store.results()
    wdl = {name: [w, d, l] for name, (w, d, l, _) in totals.items()}
    exploit = latest_metric(store, "exploitability")
    lost = {name: f for name, (_, _, _, f) in totals.items() if f}
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
