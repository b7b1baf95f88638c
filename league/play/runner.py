"""The batched match runner: plays queues of games in lockstep copies of one game.

Each step, copies that wait on the same entrant and seat are grouped into one batched
`act` call. A finished copy immediately starts the next queued game with that game's own
seed, so every game's moves depend only on its seed and its entrants, never on the batch
it was played in: the same seed gives the same results, batched or one at a time.

Example:
    >>> import games
    >>> from agents.baselines import RandomPolicy
    >>> from league.play.runner import Entrant, play
    >>> game = games.load("tic_tac_toe")
    >>> a, b = Entrant("a", RandomPolicy(game.spec)), Entrant("b", RandomPolicy(game.spec))
    >>> records = play(game, (a, b), n_games=4, seed=7)
    >>> [r.sides for r in records]
    [('a', 'b'), ('b', 'a'), ('a', 'b'), ('b', 'a')]
    >>> records[0].seed == records[1].seed  # paired games share a seed
    True
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Sequence

import numpy as np

from agents.base import StepBatch
from agents.baselines import RandomPolicy
from games.base import Game, GameSpec, IllegalActionError, VecEnv, derive_seed
from league.play.acting import choose_actions
from league.play.records import (  # noqa: F401 - re-exported: the runner's data types live in league.play.records
    NO_ACTION,
    OPENING_END,
    Entrant,
    GameRecord,
    GameTask,
    RunnerError,
    Slot,
    decode_moves,
    encode_moves,
    schedule,
    slot_members,
    slot_name,
)


def play(
    game: Game,
    lineup: Sequence[Slot],
    n_games: int,
    seed: int = 0,
    *,
    swap_sides: bool = True,
    **kwargs: Any,
) -> list[GameRecord]:
    """Play `n_games` games of one lineup; see `run` for the keyword arguments."""
    return run(game, schedule(game.spec, lineup, n_games, seed, swap_sides=swap_sides), **kwargs)


def run(
    game: Game,
    tasks: Iterable[GameTask],
    *,
    batch: int = 256,
    on_record: Callable[[GameRecord], None] | None = None,
    on_step: Callable[[StepBatch], None] | None = None,
    with_state: bool = False,
    env: VecEnv | None = None,
    collect: bool = True,
    forfeits: bool = False,
    move_timeout: float | None = None,
    record_moves: bool = True,
) -> list[GameRecord]:
    """Play every task in lockstep batches of at most `batch` copies; records in task order.

    With `forfeits`, an entrant whose policy raises, answers an illegal or malformed action,
    or takes longer than `move_timeout` seconds a move loses that game by forfeit (the
    record says who and why) and play goes on; without it the first failure raises
    RunnerError naming the entrant.

    `tasks` may be a lazy iterator (training feeds games until its budget is spent).
    `on_record` is called as each game finishes (the tournament stores it there);
    `on_step` receives every step for learners (`with_state` adds the global state).
    `env` reuses a VecEnv across calls; `collect=False` returns no records.

    A task's `opening` is played for its entrants first (its actions, in order, by whichever
    seat is to move). Each record keeps the game's moves (`encode_moves`) unless
    `record_moves=False` or an action is continuous. A lazy stream may yield None for "no
    game can start now" (a tournament holding back a pairing under test): the copy idles and
    the stream is asked again once the next game has been reported.
    """
    spec = game.spec
    seating = _Seating(spec)
    stream = _Stream(tasks)
    if env is not None:
        n = env.n
    else:
        n = min(batch, len(tasks)) if hasattr(tasks, "__len__") else batch  # type: ignore[arg-type]
        if n == 0:
            return []
    first = [task for task in (stream.pull() for _ in range(n)) if task is not None]
    if not first:
        if not stream.ended:
            raise RunnerError("the stream of games waits for results with no game in flight")
        return []
    if env is None:
        env = game.make(n, seed=first[0].seed)
    seat_names = spec.seat_names
    seat_index = {seat: k for k, seat in enumerate(seat_names)}
    who = {seat: np.zeros(n, dtype=np.int64) for seat in seat_names}  # entrant 0 idles
    # Each copy plays `current[c]` and has `upcoming[c]` reserved, whose seed the VecEnv
    # uses when it resets the copy itself: no second reset, no idle step between games.
    current: list[GameTask | None] = [None] * n
    upcoming: list[GameTask | None] = [None] * n
    next_seeds = np.full(n, -1, dtype=np.int64)
    records: dict[int, GameRecord] = {}
    tape = _Tape(spec, n, record_moves)

    def seat_entrants(c: int, task: GameTask | None) -> None:
        seats = seating.seats_of(task) if task is not None else dict.fromkeys(seat_names, 0)
        for seat, eid in seats.items():
            who[seat][c] = eid
        tape.start(c, task)

    def reserve(c: int) -> None:
        upcoming[c] = stream.pull()
        next_seeds[c] = upcoming[c].seed if upcoming[c] is not None else -1

    for c, task in enumerate(first):
        current[c] = task
        seat_entrants(c, task)
    env.reset(seeds=[t.seed for t in first] + [derive_seed(first[0].seed, c) for c in range(len(first), n)],
              copies=list(range(n)))
    for c in range(len(first)):
        reserve(c)

    while any(task is not None for task in current):
        obs_before = mask_before = acting_before = state_before = who_before = None
        if on_step is not None:
            obs_before = {s: env.obs[s].copy() for s in seat_names}
            mask_before = {s: env.mask[s].copy() for s in seat_names}
            acting_before = {s: env.acting[s].copy() for s in seat_names}
            state_before = env.state.copy() if with_state else None
            who_before = {s: who[s].copy() for s in seat_names}
        faults: dict[int, tuple[str, str]] | None = {} if forfeits else None
        forced = tape.forced(env, current)
        searched: dict[str, np.ndarray] | None = {} if on_step is not None else None
        actions = choose_actions(env, spec, seating.entrants, who, seat_index, forfeits=faults,
                                 move_timeout=move_timeout, forced=forced, searched=searched)
        tape.write(env, actions)
        try:
            result = env.step(actions, next_seeds=next_seeds)
        except IllegalActionError as error:
            culprit = seating.entrants[int(who[error.seat][error.copy])].name if error.copy >= 0 else "?"
            raise RunnerError(f"entrant {culprit!r} played an illegal move: {error}", entrant=culprit, seat=error.seat) from None
        if on_step is not None:
            on_step(StepBatch(obs_before, mask_before, acting_before, state_before, actions, result, who_before,
                              tuple(e.name for e in seating.entrants),
                              opening=forced >= 0 if forced is not None else None, search=searched or None))
        finished = result.finished.tolist()
        so_far = env.returns_so_far() if faults else {}
        plies = env.ply.copy() if faults else env.ply  # a forfeited copy's length, before it is reset
        for c in sorted(set(finished) | set(faults or ())):
            task = current[c]
            current[c] = upcoming[c]
            seat_entrants(c, current[c])
            if current[c] is not None:
                reserve(c)
            if c not in finished:  # a forfeit ends the game now: start the copy's next one
                env.reset(seeds=[current[c].seed if current[c] is not None else derive_seed(c, env.episode_seed[c])],
                          copies=[c])
            if task is None:
                continue  # an idle copy finished a throwaway game
            if c in finished:
                row = finished.index(c)
                seat_returns = {seat: float(result.episode_return[seat][row]) for seat in seat_names}
                length, truncated = int(result.episode_length[row]), bool(result.truncated[c])
            else:
                seat_returns = {seat: float(so_far[seat][c]) for seat in seat_names}
                length, truncated = int(plies[c]), False
            side_returns = spec.side_returns(seat_returns)
            fault = (faults or {}).get(c)
            ranks = spec.outcome(side_returns) if fault is None else _forfeit_ranks(task, fault[0])
            reason = None if fault is None else f"{fault[0]} {fault[1]}"
            record = GameRecord(
                index=task.index,
                seed=task.seed,
                sides=tuple(slot_name(s) for s in task.lineup),
                returns=side_returns,
                seat_returns=tuple(seat_returns.items()),
                ranks=ranks,
                length=length,
                truncated=truncated,
                forfeit=reason,
                moves=tape.moves(c, length, len(task.opening), forfeited=fault is not None),
            )
            if collect:
                records[task.index] = record
            if on_record is not None:
                on_record(record)
            stream.waiting = False  # a reported game may let the stream go on
        for c in stream.idle(current):  # copies left idle while the stream waited
            current[c] = stream.pull()
            if current[c] is None:
                break
            seat_entrants(c, current[c])
            env.reset(seeds=[current[c].seed], copies=[c])
            reserve(c)
    if not stream.ended:
        raise RunnerError("the stream of games waits for results with no game in flight")
    return [records[k] for k in sorted(records)]


_END = object()


class _Stream:
    """The runner's side of a task stream, where None means "no game can start now" (ask later)."""

    def __init__(self, tasks: Iterable[GameTask | None]):
        self._tasks = iter(tasks)
        self.ended = False
        self.waiting = False  # the stream said None; ask again once a game has been reported
        self.waited = False  # it ever did: idle copies may need a game later

    def pull(self) -> GameTask | None:
        if self.ended or self.waiting:
            return None
        task = next(self._tasks, _END)
        if task is _END:
            self.ended = True
            return None
        if task is None:
            self.waiting = self.waited = True
        return task  # type: ignore[return-value]

    def idle(self, current: Sequence[GameTask | None]) -> list[int]:
        """Copies without a game, when the stream may have one for them now."""
        if not self.waited or self.ended or self.waiting:
            return []
        return [c for c, task in enumerate(current) if task is None]


class _Tape:
    """Per copy: the opening still to be played for the entrants, and the moves played so far."""

    def __init__(self, spec: GameSpec, n: int, record: bool):
        self.spec = spec
        self.rows = np.arange(n)
        self.opening_length = np.zeros(n, dtype=np.int64)
        self.openings = np.zeros((n, 8), dtype=np.int64)  # (n, longest opening so far)
        self.any_opening = False
        shape = (n, 64) if spec.turn_based else (n, 64, len(spec.seats))  # (copies, plies[, seats]); grows
        self.discrete = all(seat.discrete for seat in spec.seats)
        self.played = np.full(shape, -1, dtype=np.int32) if record and self.discrete else None
        self._step = np.full(n, -1, dtype=np.int32)  # one step's actions (turn-based), reused

    def start(self, c: int, task: GameTask | None) -> None:
        length = len(task.opening) if task is not None else 0
        self.opening_length[c] = length
        if not length:
            return
        if not (self.spec.turn_based and self.discrete):
            raise RunnerError(f"game {task.index} has an opening, but openings need a turn-based game with "
                              f"discrete actions and {self.spec.name} is not one")
        if length > self.openings.shape[1]:
            self.openings = np.pad(self.openings, ((0, 0), (0, length - self.openings.shape[1])))
        self.openings[c, :length] = task.opening
        self.any_opening = True

    def forced(self, env: VecEnv, current: Sequence[GameTask | None]) -> np.ndarray | None:
        """(n,) the opening's action where a copy is still in its opening, else -1; None if nowhere."""
        if not self.any_opening:
            return None
        live = env.ply < self.opening_length
        if not live.any():
            return None
        forced = np.where(live, self.openings[self.rows, np.minimum(env.ply, self.openings.shape[1] - 1)], -1)
        for seat in self.spec.seat_names:
            rows = np.flatnonzero(live & env.acting[seat])
            mask = env.mask[seat]
            wanted = forced[rows]
            legal = (wanted < mask.shape[1]) & mask[rows, np.minimum(wanted, mask.shape[1] - 1)]
            if not legal.all():
                c = int(rows[np.flatnonzero(~legal)[0]])
                raise RunnerError(f"the opening of game {current[c].index} plays action {int(forced[c])} for "
                                  f"{seat!r} at ply {int(env.ply[c]) + 1}, which is not legal there")
        return forced

    def write(self, env: VecEnv, actions: dict[str, np.ndarray]) -> None:
        """Keep this step's actions (call before env.step: it uses the acting seats and plies)."""
        if self.played is None:
            return
        ply = env.ply
        top = int(ply.max())
        if top >= self.played.shape[1]:
            grow = [(0, 0)] * self.played.ndim
            grow[1] = (0, max(self.played.shape[1], top + 1 - self.played.shape[1]))
            self.played = np.pad(self.played, grow, constant_values=-1)
        if self.spec.turn_based:
            step = self._step
            for seat, chosen in actions.items():
                np.copyto(step, chosen, where=env.acting[seat], casting="unsafe")  # one seat acts per copy
            self.played[self.rows, ply] = step
            return
        for k, seat in enumerate(self.spec.seat_names):
            chosen = actions.get(seat)
            self.played[self.rows, ply, k] = -1 if chosen is None else np.where(env.acting[seat], chosen, -1)

    def moves(self, c: int, length: int, opening: int, *, forfeited: bool) -> str | None:
        """Copy c's finished game as text; a forfeited game keeps the moves before the forfeit."""
        if self.played is None:
            return None
        kept = max(0, length - 1) if forfeited else length
        return encode_moves(self.played[c, :kept], opening=min(opening, kept))


def _forfeit_ranks(task: GameTask, culprit: str) -> tuple[int, ...]:
    """The forfeiting entrant's side loses; every other side wins (all forfeiting: a draw)."""
    lost = [any(e.name == culprit for e in (slot if isinstance(slot, tuple) else (slot,))) for slot in task.lineup]
    if all(lost):
        return tuple(0 for _ in lost)
    return tuple(1 if x else 0 for x in lost)


class _Seating:
    """Numbers entrants as tasks arrive (0 is the idle player) and checks each can play its side."""

    def __init__(self, spec: GameSpec):
        self.spec = spec
        self.entrants: list[Entrant] = [Entrant("(idle)", RandomPolicy(spec))]
        self._ids: dict[int, int] = {}
        self._checked: set[tuple[int, int]] = set()

    def seats_of(self, task: GameTask) -> dict[str, int]:
        spec = self.spec
        if len(task.lineup) != len(spec.sides):
            raise RunnerError(f"{spec.name} has {len(spec.sides)} sides ({', '.join(spec.side_names)}), "
                              f"task {task.index} seats {len(task.lineup)}")
        seats: dict[str, int] = {}
        for side, slot in enumerate(task.lineup):
            for seat, entrant in slot_members(spec, side, slot):
                eid = self._ids.get(id(entrant))
                if eid is None:
                    eid = self._ids[id(entrant)] = len(self.entrants)
                    self.entrants.append(entrant)
                seats[seat] = eid
                if (eid, side) not in self._checked:
                    reason = entrant.policy.unsupported(spec, spec.sides[side].seats)
                    if reason:
                        raise RunnerError(f"{entrant.name} cannot play side {spec.sides[side].name!r} of {spec.name}: {reason}",
                                          entrant=entrant.name)
                    self._checked.add((eid, side))
        return seats
