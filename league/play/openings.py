"""Openings: moves played for the entrants before they take over, so that games differ.

A deterministic player (a greedy snapshot, alpha-beta) plays the same game every time from
the same position, so forty games between two of them are two games repeated. Chess-engine
testers start each pair of games from a different opening; so does the league. An opening
is a tuple of action ids that the runner plays first (`GameTask.opening`), whichever seat is
to move; the two games of a pair share a seed and so share their opening, sides swapped.

- `random_openings` draws N uniformly random legal plies per seed, a pure function of it.
- `replay_openings` checks given openings (an opening book) move by move.
- An opening that ends the game, or leaves the side to move a move that ends it, decides
  nothing: it is skipped (redrawn) and counted.
- `needs_openings` says whether a lineup repeats itself without openings (deterministic
  entrants in a turn-based game without chance); `with_openings` gives each task of a
  schedule the opening of its seed, so training evaluations use what tournaments use.

Example:
    >>> import games
    >>> game = games.load("tic_tac_toe")
    >>> drawn = random_openings(game, [11, 12, 11], plies=2)
    >>> [len(o) for o in drawn.openings], drawn.openings[0] == drawn.openings[2]
    ([2, 2, 2], True)
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Sequence

import numpy as np

from games.base import Game, GameSpec, derive_seed, sample_masked, uniforms
from games.errors import LeagueError
from league.play.runner import Entrant, GameTask

_SALT = 0x0FE1  # opening draws have their own stream of a seed
_TRAINING_SALT = 0x0FE2  # training openings: another stream, so they never match a tournament's
_CHUNK = 2048  # game copies stepped at once when screening openings
ATTEMPTS = 64  # draws per seed before random:N is declared unable to leave a game open


class OpeningError(LeagueError, ValueError):
    """Openings that cannot be played: a wrong game, too many plies, an illegal move."""


class IllegalOpening(OpeningError):
    """Move `ply` (0-based) of opening `line` (0-based) is not legal, or comes after the game ended."""

    def __init__(self, message: str, *, line: int, ply: int, action: int, seat: str):
        super().__init__(message)
        self.line, self.ply, self.action, self.seat = line, ply, action, seat


@dataclass(frozen=True)
class Drawn:
    """Openings drawn at random, one per seed, and how many draws were skipped on the way."""

    openings: tuple[tuple[int, ...], ...]
    skipped: int


@dataclass(frozen=True)
class Replayed:
    """Given openings played through: who moved each ply, and which openings decide nothing."""

    movers: tuple[tuple[str, ...], ...]  # per opening, the seat that played each of its moves
    ended: tuple[bool, ...]  # the game ended within the opening
    ends_next: tuple[bool, ...]  # the side to move after it has a move that ends the game

    @property
    def usable(self) -> tuple[bool, ...]:
        return tuple(not (e or n) for e, n in zip(self.ended, self.ends_next))


def unsuitable(game: Game) -> str | None:
    """Why openings cannot be used in this game, or None: they need turn-based play, discrete
    actions, and no chance (the same moves must give the same position whatever the seed).

    Example:
        >>> import games
        >>> unsuitable(games.load("connect_four")) is None, unsuitable(games.load("kuhn_poker"))
        (True, 'kuhn_poker has chance events (deals, dice): its games already differ')
    """
    spec = game.spec
    if not spec.turn_based:
        return f"{spec.name} moves simultaneously, and openings are played one move at a time"
    if not all(seat.discrete for seat in spec.seats):
        return f"{spec.name} has continuous actions"
    if _has_chance(game):
        return f"{spec.name} has chance events (deals, dice): its games already differ"
    return None


_CHANCE: dict[str, bool] = {}  # game ref -> whether its games depend on the seed


def _has_chance(game: Game, plies: int = 12, copies: int = 4) -> bool:
    """Whether seeds give different games under the same moves (a deal, a die, a random start)."""
    if game.ref in _CHANCE:
        return _CHANCE[game.ref]
    env = game.make(copies, seed=0)
    try:
        env.reset(seeds=list(range(1, copies + 1)))
        differs = False
        for ply in range(plies + 1):
            differs = any(not (np.all(env.obs[seat] == env.obs[seat][:1]) and np.all(env.mask[seat] == env.mask[seat][:1])
                               and np.all(env.acting[seat] == env.acting[seat][0]))
                          for seat in game.spec.seat_names)
            if differs or ply == plies:
                break
            actions = {}
            for seat in game.spec.seat_names:
                legal = np.flatnonzero(env.mask[seat][0])
                pick = int(legal[(ply * 7) % len(legal)]) if len(legal) else 0
                actions[seat] = np.full(copies, pick, dtype=np.int64)
            finished = len(env.step(actions).finished)
            if finished:
                differs = finished < copies
                break
    finally:
        env.close()
    _CHANCE[game.ref] = differs
    return differs


def default_plies(spec: GameSpec) -> int:
    """The opening the league gives deterministic entrants: 4 plies, at most half the longest game.

    Four plies give thousands of openings in hex, connect four and tic-tac-toe (where two
    give only 72, and 40 pairs of games would repeat many of them).

    Example:
        >>> import games
        >>> default_plies(games.load("connect_four").spec), default_plies(games.load("tic_tac_toe").spec)
        (4, 4)
    """
    return max(1, min(4, spec.max_steps // 2))


def plays_deterministically(game: Game, entrant: Entrant, *, copies: int = 4, plies: int = 4) -> bool:
    """Whether the entrant's moves ignore its random keys: the same positions, two sets of
    keys, the same answers (positions along seeded random playouts, every seat it can play;
    an entrant that can play no seat of the game is not deterministic here)."""
    spec = game.spec
    env = game.make(copies, seed=0x0DE7)
    probed = False
    try:
        env.reset(seeds=[derive_seed(0x0DE7, c) for c in range(copies)])
        for ply in range(plies):
            for k, seat in enumerate(spec.seat_names):
                rows = np.flatnonzero(env.acting[seat])
                if not len(rows) or entrant.policy.unsupported(spec, spec.sides[spec.side_of(seat)].seats):
                    continue
                states = env.engine_states(rows) if entrant.policy.needs_engine_states else None  # type: ignore[attr-defined]
                answers = [np.asarray(entrant.policy.act(env.obs[seat][rows], env.mask[seat][rows], seat=seat,
                                                         keys=derive_seed(np.asarray(rows), salt, ply, k),
                                                         explore=entrant.explore, engine_states=states))
                           for salt in (1, 2)]
                if not np.array_equal(*answers):
                    return False
                probed = True
            u = uniforms(derive_seed(np.arange(copies), 0x0DE7, ply))[:, 0]
            env.step({seat: sample_masked(env.mask[seat].astype(np.float64), env.mask[seat], u)
                      for seat in spec.seat_names})
        return probed
    finally:
        env.close()


def needs_openings(game: Game, entrants: Sequence[Entrant]) -> bool:
    """Whether these entrants, left alone, would repeat the same games: each plays
    deterministically and the game is turn-based with perfect information and no chance."""
    spec = game.spec
    if not spec.perfect_information or unsuitable(game) is not None:
        return False
    return all(plays_deterministically(game, e) for e in entrants)


def random_openings(game: Game, seeds: Sequence[int], plies: int, *, attempts: int = ATTEMPTS) -> Drawn:
    """One opening of `plies` uniformly random legal moves per seed (a pure function of the seed).

    A draw that ends the game, or after which the side to move has a move that ends it, is
    skipped and drawn again from the seed's next stream.
    """
    spec = game.spec
    reason = unsuitable(game)
    if reason is not None:
        raise OpeningError(f"random openings need a turn-based game without chance: {reason}")
    if plies < 1:
        raise OpeningError(f"random:N needs at least one ply, got random:{plies}")
    if plies >= spec.max_steps:
        raise OpeningError(f"random:{plies} leaves nothing to play in {spec.name}, whose games last at most "
                           f"{spec.max_steps} plies")
    seeds_arr = np.asarray([int(s) for s in seeds], dtype=np.int64)
    found: list[tuple[int, ...] | None] = [None] * len(seeds_arr)
    todo = np.arange(len(seeds_arr))
    skipped = 0
    for attempt in range(attempts):
        if not len(todo):
            break
        for start in range(0, len(todo), _CHUNK):
            chunk = todo[start:start + _CHUNK]
            lines, ended_at = _draw(game, seeds_arr[chunk], plies, _SALT, attempt)
            ended = ended_at < plies
            ends_next = np.zeros(len(chunk), dtype=bool)
            open_ = np.flatnonzero(~ended)
            if len(open_):
                ends_next[open_] = _ends_next(game, lines[open_], seeds_arr[chunk][open_])
            for i, c in enumerate(chunk.tolist()):
                if ended[i] or ends_next[i]:
                    skipped += 1
                else:
                    found[c] = tuple(int(a) for a in lines[i])
        todo = np.asarray([c for c in todo.tolist() if found[c] is None], dtype=np.int64)
    if len(todo):
        raise OpeningError(f"random:{plies} leaves no game of {spec.name} open: {attempts} draws in a row ended it "
                           f"or left a move that ends it; use fewer plies")
    return Drawn(tuple(o for o in found if o is not None), skipped)


def training_openings_problem(game: Game, max_plies: int) -> str | None:
    """Why training games of `game` cannot start after up to `max_plies` random moves, or None.

    Example:
        >>> import games
        >>> training_openings_problem(games.load("tic_tac_toe"), 9)
        'opening_plies must be below 9, the longest game of tic_tac_toe; got 9'
    """
    reason = unsuitable(game)
    if reason is not None:
        return f"opening_plies needs a turn-based game without chance: {reason}"
    if max_plies >= game.spec.max_steps:
        return f"opening_plies must be below {game.spec.max_steps}, the longest game of {game.spec.name}; got {max_plies}"
    return None


def training_openings(game: Game, seeds: Sequence[int], max_plies: int) -> list[tuple[int, ...]]:
    """Per seed, the opening of a training game: a uniformly random number (0 to `max_plies`) of
    uniformly random legal moves, cut before any move that would end the game. A pure function
    of each seed, so a resumed run plays the same games again.

    Self-play repeats its own lines; games that start from scattered positions show a learner
    the positions an opponent unlike itself leads to (`opening_plies` in a run's configuration).

    Example:
        >>> import games
        >>> game = games.load("connect_four")
        >>> drawn = training_openings(game, [5, 6, 5, 7], max_plies=8)
        >>> drawn[0] == drawn[2], all(len(o) <= 8 for o in drawn)
        (True, True)
    """
    problem = training_openings_problem(game, max_plies)
    if problem is not None:
        raise OpeningError(problem)
    seeds_arr = np.asarray([int(s) for s in seeds], dtype=np.int64)
    out: list[tuple[int, ...]] = []
    for start in range(0, len(seeds_arr), _CHUNK):
        chunk = seeds_arr[start:start + _CHUNK]
        drawn = np.floor(uniforms(derive_seed(chunk, _TRAINING_SALT))[:, 0] * (max_plies + 1)).astype(np.int64)  # (k,)
        lines, ended_at = _draw(game, chunk, int(drawn.max(initial=0)), _TRAINING_SALT)  # (k, plies), (k,)
        lengths = np.minimum(drawn, ended_at)  # stop before the move that ends the game
        out.extend(tuple(int(a) for a in lines[i, :lengths[i]]) for i in range(len(chunk)))
    return out


def _acting_mask(env, spec: GameSpec) -> tuple[np.ndarray, np.ndarray]:
    """(n,) index of the seat to move and (n, n_actions) its legal actions, per copy (turn-based)."""
    mover = np.zeros(env.n, dtype=np.int64)
    mask = np.zeros((env.n, spec.seats[0].n_actions), dtype=bool)
    for k, seat in enumerate(spec.seat_names):
        rows = env.acting[seat]
        mover[rows] = k
        mask[rows] = env.mask[seat][rows]
    return mover, mask


def _step_all(env, spec: GameSpec, mover: np.ndarray, chosen: np.ndarray):
    return env.step({seat: np.where(mover == k, chosen, 0) for k, seat in enumerate(spec.seat_names)})


def _draw(game: Game, seeds: np.ndarray, plies: int, *stream: int) -> tuple[np.ndarray, np.ndarray]:
    """(k, plies) random legal moves from each seed's `stream`, and (k,) the ply whose move ended
    the game (`plies` where none did)."""
    spec = game.spec
    env = game.make(max(1, len(seeds)), seed=0)
    try:
        env.reset(seeds=seeds.tolist())
        lines = np.zeros((len(seeds), plies), dtype=np.int64)
        ended_at = np.full(len(seeds), plies, dtype=np.int64)
        for ply in range(plies):
            mover, mask = _acting_mask(env, spec)
            u = uniforms(derive_seed(seeds, *stream, ply))[:, 0]
            chosen = sample_masked(mask.astype(np.float64), mask, u)
            lines[:, ply] = chosen
            ended = _step_all(env, spec, mover, chosen).finished
            ended_at[ended] = np.minimum(ended_at[ended], ply)
        return lines, ended_at
    finally:
        env.close()


def _ends_next(game: Game, lines: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    """(k,) whether, after each opening, some legal move of the side to move ends the game."""
    spec = game.spec
    n_actions = spec.seats[0].n_actions
    out = np.zeros(len(lines), dtype=bool)
    per = max(1, _CHUNK // n_actions)
    for start in range(0, len(lines), per):
        part = lines[start:start + per]
        k = len(part)
        # copy (i, a) plays opening i, then action a
        env = game.make(k * n_actions, seed=0)
        try:
            env.reset(seeds=np.repeat(seeds[start:start + k], n_actions).tolist())
            for ply in range(part.shape[1]):
                mover, _ = _acting_mask(env, spec)
                _step_all(env, spec, mover, np.repeat(part[:, ply], n_actions))
            mover, mask = _acting_mask(env, spec)
            tried = np.tile(np.arange(n_actions), k)
            legal = mask[np.arange(k * n_actions), tried]
            result = _step_all(env, spec, mover, np.where(legal, tried, mask.argmax(1)))
            done = np.zeros(k * n_actions, dtype=bool)
            done[result.finished] = True
            out[start:start + k] = (done & legal).reshape(k, n_actions).any(1)
        finally:
            env.close()
    return out


def replay_openings(game: Game, openings: Sequence[Sequence[int]], *, seed: int = 0) -> Replayed:
    """Play each opening through, checking every move; raises IllegalOpening at the first illegal one.

    Openings of every length may be mixed. One that ends the game (moves after the end are
    not played) or leaves a move that ends it is not `Replayed.usable`.
    """
    spec = game.spec
    reason = unsuitable(game)
    if reason is not None:
        raise OpeningError(f"openings need a turn-based game without chance: {reason}")
    movers: list[tuple[str, ...]] = [()] * len(openings)
    ended = [False] * len(openings)
    ends_next = [False] * len(openings)
    by_length: dict[int, list[int]] = {}
    for i, opening in enumerate(openings):
        by_length.setdefault(len(opening), []).append(i)
    for length, members in sorted(by_length.items()):
        for start in range(0, len(members), _CHUNK):
            group = members[start:start + _CHUNK]
            lines = np.asarray([list(openings[i]) for i in group], dtype=np.int64).reshape(len(group), length)
            seeds = np.full(len(group), seed, dtype=np.int64)
            who, over = _replay(game, lines, seeds, group)
            open_ = np.flatnonzero(~over)
            nxt = np.zeros(len(group), dtype=bool)
            if len(open_):
                nxt[open_] = _ends_next(game, lines[open_], seeds[open_])
            for j, i in enumerate(group):
                movers[i] = tuple(spec.seat_names[k] for k in who[j])
                ended[i], ends_next[i] = bool(over[j]), bool(nxt[j])
    return Replayed(tuple(movers), tuple(ended), tuple(ends_next))


def _replay(game: Game, lines: np.ndarray, seeds: np.ndarray, names: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """(k, plies) the seat index that moved, and (k,) whether the game ended within the opening."""
    spec = game.spec
    k, plies = lines.shape
    env = game.make(max(1, k), seed=0)
    try:
        env.reset(seeds=seeds.tolist())
        who = np.zeros((k, plies), dtype=np.int64)
        over = np.zeros(k, dtype=bool)
        n_actions = spec.seats[0].n_actions
        for ply in range(plies):
            mover, mask = _acting_mask(env, spec)
            wanted = lines[:, ply]
            legal = (wanted >= 0) & (wanted < n_actions) & mask[np.arange(k), np.clip(wanted, 0, n_actions - 1)]
            bad = np.flatnonzero(~legal & ~over)  # moves after the end are not played: that opening is skipped
            if len(bad):
                j = int(bad[0])
                seat = spec.seat_names[int(mover[j])]
                legal_now = " ".join(map(str, np.flatnonzero(mask[j]).tolist()))
                raise IllegalOpening(f"opening {names[j] + 1}: move {ply + 1} ({int(wanted[j])}) is not legal for "
                                     f"{seat} there (legal: {legal_now})",
                                     line=names[j], ply=ply, action=int(wanted[j]), seat=seat)
            who[:, ply] = mover
            over[_step_all(env, spec, mover, np.where(over, mask.argmax(1), wanted)).finished] = True
        return who, over
    finally:
        env.close()


def with_openings(game: Game, tasks: Sequence[GameTask], plies: int) -> tuple[list[GameTask], int]:
    """The tasks with a random opening of `plies` plies each, the same for tasks that share a
    seed (a pair's two games); and how many drawn openings were skipped.

    Example:
        >>> import games
        >>> from agents.baselines import make_baseline
        >>> from league.play.runner import schedule
        >>> game = games.load("connect_four")
        >>> a, b = (Entrant(n, make_baseline("random", game.spec)) for n in "ab")
        >>> tasks, skipped = with_openings(game, schedule(game.spec, (a, b), 4, seed=3), plies=4)
        >>> [len(t.opening) for t in tasks], tasks[0].opening == tasks[1].opening != tasks[2].opening
        ([4, 4, 4, 4], True)
    """
    seeds = sorted({t.seed for t in tasks})
    drawn = random_openings(game, seeds, plies)
    of_seed = dict(zip(seeds, drawn.openings))
    return [replace(t, opening=of_seed[t.seed]) for t in tasks], drawn.skipped
