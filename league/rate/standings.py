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

from league.store.database import Player, Store


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
    role: str | None = None  # games whose sides have different roles: the role it plays ("any": a baseline)

    def as_dict(self) -> dict:
        """The fields by name; `role` only where it is set (asymmetric games), so a symmetric game's
        rows keep the columns they always had."""
        values = dict(vars(self))  # flat fields: no deep copy (a leaderboard has thousands of them)
        if values["role"] is None:
            del values["role"]
        return values


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


def role_of(player: Player | None) -> str:
    """The role a player plays: its stored role, or "any" for a player without one (a baseline)."""
    return player.role if player is not None and player.role else "any"


def standings(store: Store, system: str = "trueskill", *, spec=None, top: int | None = None) -> list[Standing]:
    """Every rated player, best conservative score first; with `top`, only the best that many,
    read from the store for those players alone (a 10,000-player run costs milliseconds).

    With the run's game `spec`, mixed (general-sum) games also get per-capita returns, and
    games whose sides have different roles each player's role.
    """
    rated = store.ratings(system, limit=top)
    names = list(rated) if top is not None else None
    players = {p.name: p for p in store.players(names=names)}
    totals = store.results(names=names)
    wdl = {name: [w, d, l] for name, (w, d, l, _) in totals.items()}
    exploit = store.latest_metric("exploitability", names=names)
    lost = {name: f for name, (_, _, _, f) in totals.items() if f}
    capita = per_capita_returns(store, [len(s.seats) for s in spec.sides]) if spec is not None and spec.kind == "mixed" else {}
    roles = spec is not None and len({side.role for side in spec.sides}) > 1
    rows = []
    for name, (mu, sigma, games) in rated.items():
        player = players.get(name)
        w, d, l = wdl.get(name, [0, 0, 0])
        rows.append((mu - 3 * sigma, mu, name, player, sigma, games, w, d, l))
    rows.sort(key=lambda r: (-r[0], -r[1], r[2]))
    return [
        Standing(rank=k + 1, name=name, kind=player.kind if player else "?", algorithm=player.algorithm if player else None,
                 mu=mu, sigma=sigma, score=score, games=games, wins=w, draws=d, losses=l,
                 forfeits=lost.get(name, 0), exploitability=exploit.get(name), per_capita=capita.get(name),
                 role=role_of(player) if roles else None)
        for k, (score, mu, name, player, sigma, games, w, d, l) in enumerate(rows)
    ]
