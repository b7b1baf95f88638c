"""A tournament's openings: `--openings random:N | FILE | none`, and the default.

- `random:N`: pair k of a pairing starts from N uniformly random legal plies drawn from the
  tournament's seed, the two entrants and k (both games of the pair, sides swapped).
- `FILE`: one opening per line, moves by action id or name (`x3 o3 x4`; names may hold
  spaces, "column 3"; commas between moves are allowed); `#` starts a comment. Pair k takes line k in file order
  (`order=sequential`) or in an order shuffled by the seed (`order=random`), cycling.
- Openings that end the game, or leave the side to move a move that ends it, are skipped
  and counted.
- The default: pairings of two deterministic entrants (greedy snapshots) in a turn-based
  game with perfect information and no chance get `random:<default_plies>`, and the header
  says so; other pairings are left alone. `none` turns openings off.

Example:
    >>> import games
    >>> from league.play.entrants import resolve
    >>> game = games.load("tic_tac_toe")
    >>> plan = plan_openings(game, resolve(["random", "mcts:5"], game.spec), [("random", "mcts:5")],
    ...                      spec_text="random:2", seed=0)
    >>> [len(o) for o in plan.for_pairings([("random", "mcts:5")], 3)[0]], plan.header()
    ([2, 2, 2], 'openings: random:2')
    >>> plan.opening("mcts:5", "random", 1) == plan.for_pairings([("random", "mcts:5")], 3)[0][1]
    True
"""

from __future__ import annotations

import hashlib
import random
from pathlib import Path
from typing import Sequence

from games.base import Game, GameSpec, derive_seed
from league.play.openings import (
    IllegalOpening,
    OpeningError,
    default_plies,
    plays_deterministically,
    random_openings,
    replay_openings,
    unsuitable,
)
from league.play.runner import Entrant

ORDERS = ("sequential", "random")
_OPENING_SEED = 0x0FE2


class OpeningPlan:
    """Which pairings start from openings, the opening of each of their pairs, and what to print.

    Random openings are drawn per pairing when it first needs them (one batch for many
    pairings), from the tournament's seed, the two entrants and the pair: the same pairing
    gets the same openings in any format and on resume.
    """

    def __init__(self, source: str = "none", *, game: Game | None = None, plies: int = 0,
                 book: Sequence[tuple[int, ...]] = (), pairings: frozenset[frozenset[str]] | None = None,
                 default: bool = False, key: str = "", seed: int = 0, entrants: Sequence[str] = (), skipped: int = 0):
        self.source = source  # "none", "random:N" or the file's path
        self.game, self.plies, self.book = game, plies, tuple(book)
        self.pairings = pairings  # who plays from openings (None: every pairing)
        self.default = default  # chosen by the league, not asked for
        self.key = key  # what identifies these openings in the tournament's key ("" for none)
        self.seed = seed
        self.skipped = skipped  # openings that ended the game or left a move that ends it
        self._order = {name: k for k, name in enumerate(entrants)}
        self._drawn: dict[tuple[str, str], list[tuple[int, ...]]] = {}

    @property
    def active(self) -> bool:
        return bool(self.plies or self.book)

    def applies(self, a: str, b: str) -> bool:
        return self.active and (self.pairings is None or frozenset((a, b)) in self.pairings)

    def for_pairings(self, pairings: Sequence[tuple[str, str]], pairs: int) -> list[list[tuple[int, ...]]]:
        """The opening of each of the first `pairs` pairs of each pairing (empty ones where none apply)."""
        if self.plies:
            wanted = {self._id(a, b): range(len(self._drawn.get(self._id(a, b), ())), pairs)
                      for a, b in pairings if self.applies(a, b)}
            seeds = [self._seed(*ids, k) for ids, more in wanted.items() for k in more]
            if seeds:
                drawn = random_openings(self.game, seeds, self.plies)  # type: ignore[arg-type]
                self.skipped += drawn.skipped
                fresh = iter(drawn.openings)
                for ids, more in wanted.items():
                    self._drawn.setdefault(ids, []).extend(next(fresh) for _ in more)
        out = []
        for a, b in pairings:
            if not self.applies(a, b):
                out.append([()] * pairs)
            elif self.plies:
                out.append(self._drawn[self._id(a, b)][:pairs])
            else:
                out.append([self.book[k % len(self.book)] for k in range(pairs)])
        return out

    def opening(self, a: str, b: str, pair: int) -> tuple[int, ...]:
        """The opening of pair `pair` between `a` and `b` (empty if they play without)."""
        return self.for_pairings([(a, b)], pair + 1)[0][pair]

    def _id(self, a: str, b: str) -> tuple[str, str]:
        return (a, b) if self._order.get(a, 0) <= self._order.get(b, 0) else (b, a)

    def _seed(self, a: str, b: str, pair: int) -> int:
        first, second = self._id(a, b)
        return derive_seed(self.seed, _OPENING_SEED, self._order.get(first, 0), self._order.get(second, 0), pair)

    def header(self) -> str:
        """One line for the top of the tournament's output ("" when there are no openings)."""
        if not self.active:
            return ""
        if self.default:
            names = sorted({n for pair in self.pairings or () for n in pair})
            return (f"openings: {self.source} for pairings of deterministic entrants ({', '.join(names)}), whose "
                    f"games would otherwise repeat; --openings none plays without")
        return f"openings: {self.source}"

    def summary(self) -> str:
        """`header`, with how many openings were skipped so far (for the end of the output)."""
        if not self.active:
            return ""
        skipped = f"; {self.skipped} skipped that ended the game or left a move that ends it" if self.skipped else ""
        return self.header() + skipped


NO_OPENINGS = OpeningPlan()


def check_spec(text: str, order: str) -> None:
    """Refuse a malformed `--openings` value or order, in one sentence (no file is read)."""
    if order not in ORDERS:
        raise OpeningError(f"the openings order must be {' or '.join(ORDERS)}, got {order!r}")
    if text.startswith("random:"):
        _plies(text)


def _plies(text: str) -> int:
    value = text.partition(":")[2]
    if not value.isdigit() or int(value) < 1:
        raise OpeningError(f"--openings random:N needs a whole number of plies of at least 1, got {text!r}")
    return int(value)


def plan_openings(game: Game, entrants: Sequence[Entrant], pairings: Sequence[tuple[str, str]], *,
                  spec_text: str = "", order: str = "sequential", seed: int = 0) -> OpeningPlan:
    """The openings of a two-side tournament between `entrants` over these `pairings`.

    `spec_text` is "" (the default), "none", "random:N" or a file's path. A file is read and
    checked here, and random:N checked against the game; random openings are drawn as play
    needs them.
    """
    check_spec(spec_text, order)
    names = [e.name for e in entrants]
    if spec_text == "none" or len(game.spec.sides) != 2:
        if spec_text not in ("", "none"):
            raise OpeningError(f"openings need a game of two sides; {game.spec.name} has {len(game.spec.sides)}")
        return NO_OPENINGS
    if spec_text == "":
        return _default(game, entrants, pairings, seed)
    if spec_text.startswith("random:"):
        plies = _plies(spec_text)
        random_openings(game, [derive_seed(seed, _OPENING_SEED)], plies)  # refuses what cannot work, before play
        return OpeningPlan(spec_text, game=game, plies=plies, key=spec_text, seed=seed, entrants=names)
    lines, skipped, digest = read_book(game, spec_text)
    if order == "random":
        lines = list(lines)
        random.Random(derive_seed(seed, _OPENING_SEED)).shuffle(lines)
    return OpeningPlan(spec_text, game=game, book=lines, skipped=skipped, key=f"file:{digest}:{order}", seed=seed,
                       entrants=names)


def _default(game: Game, entrants: Sequence[Entrant], pairings: Sequence[tuple[str, str]], seed: int) -> OpeningPlan:
    """random:<default_plies> for pairings of two deterministic entrants, in a game where that repeats."""
    spec = game.spec
    if not spec.perfect_information or unsuitable(game) is not None:
        return NO_OPENINGS
    by_name = {e.name: e for e in entrants}
    known: dict[str, bool] = {}

    def deterministic(name: str) -> bool:
        if name not in known:
            try:
                known[name] = name in by_name and plays_deterministically(game, by_name[name])
            except Exception:  # noqa: BLE001 - an entrant that fails here is not ours to judge; it plays as it is
                known[name] = False
        return known[name]

    chosen = frozenset(frozenset((a, b)) for a, b in pairings if deterministic(a) and deterministic(b))
    if not chosen:
        return NO_OPENINGS
    plies = default_plies(spec)
    return OpeningPlan(f"random:{plies}", game=game, plies=plies, pairings=chosen, default=True,
                       key=f"auto:random:{plies}", seed=seed, entrants=[e.name for e in entrants])


def read_book(game: Game, path: str) -> tuple[list[tuple[int, ...]], int, str]:
    """The usable openings of a file (action ids), how many were skipped, and the file's sha256 (16 hex).

    Every error names the file, the line and the move, in one sentence.
    """
    spec = game.spec
    reason = unsuitable(game)
    if reason is not None:
        raise OpeningError(f"--openings {path}: openings need a turn-based game without chance: {reason}")
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise OpeningError(f"cannot read the openings file {path}: {error.strerror or error}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise OpeningError(f"the openings file {path} is not UTF-8 text") from None
    names = _move_names(spec)
    parsed: list[tuple[int, list[tuple[str, int]]]] = []  # (line number, [(token, id)])
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        moves = [(token, _action_id(spec, names, token, path, number, position))
                 for position, token in enumerate(_tokens(line, names), start=1)]
        parsed.append((number, moves))
    if not parsed:
        raise OpeningError(f"the openings file {path} holds no openings (one a line: moves by action id or name)")
    longest = max(len(moves) for _, moves in parsed)
    if longest >= spec.max_steps:
        number = next(n for n, moves in parsed if len(moves) == longest)
        raise OpeningError(f"{path} line {number}: {longest} moves leave nothing to play in {spec.name}, whose games "
                           f"last at most {spec.max_steps} plies")
    try:
        replayed = replay_openings(game, [[a for _, a in moves] for _, moves in parsed])
    except IllegalOpening as error:
        number, moves = parsed[error.line]
        token = moves[error.ply][0]
        raise OpeningError(f"{path} line {number}: move {error.ply + 1} ({token}) is not legal for {error.seat} "
                           f"there") from None
    for (number, moves), movers in zip(parsed, replayed.movers):
        for position, ((token, _), seat) in enumerate(zip(moves, movers), start=1):
            owners = names.get(token)
            if owners is not None and seat not in owners:
                raise OpeningError(f"{path} line {number}: move {position} ({token}) is a move of "
                                   f"{' or '.join(sorted(owners))}, but {seat} is to move there")
    usable = [tuple(a for _, a in moves) for (_, moves), ok in zip(parsed, replayed.usable) if ok]
    if not usable:
        raise OpeningError(f"every opening in {path} ends the game or leaves a move that ends it")
    return usable, len(parsed) - len(usable), hashlib.sha256(data).hexdigest()[:16]


def _tokens(line: str, names: dict[str, dict[str, int]]) -> list[str]:
    """The moves of a line: words split by whitespace (a trailing comma dropped), with words
    joined back where together they make one name ("column 3").

    Example:
        >>> _tokens("column 3, column 4 2", {"column 3": {}, "column 4": {}})
        ['column 3', 'column 4', '2']
    """
    words = [w[:-1] if w.endswith(",") and len(w) > 1 else w for w in line.split()]
    words = [w for w in words if w != ","]
    tokens, i = [], 0
    while i < len(words):
        j = next((j for j in range(len(words), i + 1, -1) if " ".join(words[i:j]) in names), i + 1)
        tokens.append(" ".join(words[i:j]))
        i = j
    return tokens


def _move_names(spec: GameSpec) -> dict[str, dict[str, int]]:
    """name -> {seat: action id} over every seat that names its actions."""
    out: dict[str, dict[str, int]] = {}
    for seat in spec.seats:
        for action, name in enumerate(seat.action_names or ()):
            out.setdefault(name, {})[seat.name] = action
    return out


def _action_id(spec: GameSpec, names: dict[str, dict[str, int]], token: str, path: str, line: int,
               position: int) -> int:
    n_actions = spec.seats[0].n_actions
    if token in names:
        ids = set(names[token].values())
        if len(ids) > 1:
            raise OpeningError(f"{path} line {line}: move {position} ({token}) names different actions for "
                               f"different seats; use the action id")
        return ids.pop()
    if token.lstrip("-").isdigit():
        action = int(token)
        if not 0 <= action < n_actions:
            raise OpeningError(f"{path} line {line}: move {position} ({token}) is not an action of {spec.name} "
                               f"(ids 0-{n_actions - 1})")
        return action
    examples = ", ".join(sorted(names)[:3])
    hint = f"action ids 0-{n_actions - 1} or names such as {examples}" if names else f"action ids 0-{n_actions - 1}"
    raise OpeningError(f"{path} line {line}: move {position} ({token}) is not a move of {spec.name} ({hint})")


__all__ = ["NO_OPENINGS", "ORDERS", "OpeningError", "OpeningPlan", "check_spec", "plan_openings", "read_book"]
