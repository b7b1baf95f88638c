"""Standings of a run: ratings ordered by the conservative score, with game counts.

Example:
    >>> import tempfile
    >>> from league.store import NewMatch, Store
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

from league.store import Store

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

    def as_dict(self) -> dict:
        return asdict(self)


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


def standings(store: Store, system: str = "trueskill") -> list[Standing]:
    """Every rated player, best conservative score first."""
    players = {p.name: p for p in store.players()}
    wdl = results(store)
    rows = []
    for name, (mu, sigma, games) in store.ratings(system).items():
        player = players.get(name)
        w, d, l = wdl.get(name, [0, 0, 0])
        rows.append((mu - 3 * sigma, mu, name, player, sigma, games, w, d, l))
    rows.sort(key=lambda r: (-r[0], -r[1], r[2]))
    return [
        Standing(rank=k + 1, name=name, kind=player.kind if player else "?", algorithm=player.algorithm if player else None,
                 mu=mu, sigma=sigma, score=score, games=games, wins=w, draws=d, losses=l)
        for k, (score, mu, name, player, sigma, games, w, d, l) in enumerate(rows)
    ]
