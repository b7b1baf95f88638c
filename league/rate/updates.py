"""From finished games to rating updates: one-on-one, team, pick-up team and free-for-all.

- A side filled by one entrant (a single player or a team player such as a QMIX team) is
  one TrueSkill rating.
- A pick-up side ("a+b+c": one entrant per seat) is a TrueSkill team whose members each
  move by their share of the side (partial-play weight 1/k).
- A one-side (cooperative) game ranks the entrants that played the same seed by return, as
  one free-for-all update, stored with the group's last game.
- A game of three or more sides is one free-for-all (or multi-team) update, ranked by the
  game's outcome. An entrant on several of its sides (a learner among its own snapshots, a
  baseline filling every other side of an evaluation) plays through stand-ins, one per side,
  rated as distinct players from its rating; its new rating is their mean, so it is neither
  favoured nor punished for holding more seats. With fewer than two distinct entrants the
  game rates nobody.
- A player on both sides of a two-side game (a learner playing itself) is not rated by that game.

Example:
    >>> from league.rate.ratings import Rater
    >>> from league.play.runner import GameRecord
    >>> rater = Rater()
    >>> game = GameRecord(0, 7, ("a+b+c", "d"), (30.0, -10.0), (), (0, 1), 25, True)
    >>> updates = rate_records([game], rater, {})
    >>> sorted(updates[0]), updates[0]["a"].mu > 25 > updates[0]["d"].mu
    (['a', 'b', 'c', 'd'], True)
    >>> three = GameRecord(1, 7, ("me", "random", "random"), (2.0, -1.0, -1.0), (), (0, 1, 1), 3, False)
    >>> (update,) = rate_records([three], rater, {})
    >>> update["me"].mu > 25 > update["random"].mu
    True
"""

from __future__ import annotations

from typing import Mapping, Sequence

from league.play.runner import GameRecord
from league.rate.ratings import Rater, Rating
from league.results import members



def rate_records(records: Sequence[GameRecord], rater: Rater, current: Mapping[str, Rating],
                 *, tolerance: float = 1e-9) -> list[dict[str, Rating]]:
    """New ratings to store with each record, applying the records in order."""
    ratings = dict(current)
    out: list[dict[str, Rating]] = [{} for _ in records]

    def rating_of(name: str) -> Rating:
        return rater.anchors.get(name) or ratings.get(name) or rater.initial()

    if records and len(records[0].sides) == 1:
        groups: dict[int, list[int]] = {}
        for k, record in enumerate(records):
            groups.setdefault(record.seed, []).append(k)
        for seed, ks in groups.items():
            names = [records[k].sides[0] for k in ks]
            if len(set(names)) < 2 or len(set(names)) < len(names):
                continue  # nothing to compare, or one entrant twice on the same seed
            new = rater.rate_free_for_all([(n, rating_of(n)) for n in names], [records[k].returns[0] for k in ks],
                                          tolerance)
            updates = dict(zip(names, new))
            ratings.update(updates)
            out[ks[-1]] = updates
        return out
    for k, record in enumerate(records):
        teams = [[(m, rating_of(m)) for m in members(side)] for side in record.sides]
        everyone = [m for team in teams for m, _ in team]
        weights = [[1.0 / len(team)] * len(team) for team in teams]
        if len(set(everyone)) < len(everyone):
            if len(record.sides) < 3 or len(set(everyone)) < 2:
                continue
            updates = _rate_with_stand_ins(rater, teams, record.ranks, weights)
        else:
            rated = rater.rate(teams, record.ranks, weights if any(len(t) > 1 for t in teams) else None)
            updates = {m: r for team, new in zip(teams, rated) for (m, _), r in zip(team, new)}
        ratings.update(updates)
        out[k] = updates
    return out


def _rate_with_stand_ins(rater: Rater, teams: list[list[tuple[str, Rating]]], ranks: Sequence[int],
                         weights: list[list[float]]) -> dict[str, Rating]:
    """Rate a game in which an entrant holds several seats: one stand-in per seat (distinct players
    with the entrant's rating), then each entrant's new rating is the mean of its stand-ins'."""
    stand_ins = [[(f"{name}\x00{side}.{j}", rating) for j, (name, rating) in enumerate(team)]
                 for side, team in enumerate(teams)]
    rated = rater.rate(stand_ins, ranks, weights if any(len(t) > 1 for t in teams) else None)
    copies: dict[str, list[Rating]] = {}
    for team, new in zip(teams, rated):
        for (name, _), rating in zip(team, new):
            copies.setdefault(name, []).append(rating)
    return {name: rater.anchors.get(name) or Rating(sum(r.mu for r in rs) / len(rs), sum(r.sigma for r in rs) / len(rs))
            for name, rs in copies.items()}


def stored_game_rater(rater: Rater):
    """`rate(games, current)` for the store (`Store.record_rated`, `Store.rate_stored`): the store calls
    it inside the transaction that writes the games, with the ratings stored at that moment, so
    no concurrent update can be lost. One-side games are rated as one free-for-all per seed.

    Example:
        >>> from league.store.database import NewMatch
        >>> rate = stored_game_rater(Rater())
        >>> (update,) = rate([NewMatch("tournament", "g", 1, ("a", "b"), (1.0, -1.0), (0, 1), 5)], {})
        >>> update["a"][0] > 25 > update["b"][0]
        True
    """
    def rate(games, current):
        records = [GameRecord(g.game_index or 0, g.seed, tuple(g.sides), tuple(g.returns), (), tuple(g.ranks),
                              g.length, g.truncated) for g in games]
        ratings = {name: Rating(mu, sigma) for name, (mu, sigma) in current.items()}
        return [{name: (r.mu, r.sigma) for name, r in update.items()} for update in rate_records(records, rater, ratings)]

    return rate
