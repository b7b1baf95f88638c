"""One lockstep step's actions: a batched `act` call per (entrant, seat) group, and who forfeits.

Part of league.play.runner's engine: it asks each entrant for the actions of every copy
where it is to move, checks the answers (shape, legality, the move timeout), and either
raises RunnerError naming the entrant or, with forfeits on, finds the games really at
fault and gives them a legal placeholder action.
"""

from __future__ import annotations

import time
from typing import Sequence

import numpy as np

from agents.base import Policy, SearchPolicy
from games.base import GameSpec, VecEnv, move_keys
from league.play.records import Entrant, RunnerError


class Fault(Exception):
    """One entrant's failure in some copies (raised, timed out, malformed or illegal actions)."""

    def __init__(self, entrant: str, seat: str, copies: np.ndarray, reason: str):
        super().__init__(reason)
        self.entrant, self.seat, self.copies, self.reason = entrant, seat, copies, reason


def _call(policy: Policy, entrant: Entrant, env: VecEnv, seat: str, rows: np.ndarray, seat_index: int,
          expected_tail: tuple[int, ...]) -> np.ndarray:
    """One batched act call; raises Fault naming the entrant on an exception or a malformed answer."""
    keys = move_keys(env.episode_seed[rows], env.ply[rows], seat_index)
    states = env.engine_states(rows) if getattr(policy, "needs_engine_states", False) else None  # type: ignore[attr-defined]
    try:
        chosen = np.asarray(policy.act(env.obs[seat][rows], env.mask[seat][rows], seat=seat, keys=keys,
                                       explore=entrant.explore, engine_states=states))
    except Exception as error:  # noqa: BLE001 - any failure of a policy is its entrant's fault
        raise Fault(entrant.name, seat, rows, f"failed to act for seat {seat!r}: {type(error).__name__}: {error}") from error
    if chosen.shape != (len(rows), *expected_tail):
        raise Fault(entrant.name, seat, rows,
                     f"returned actions of shape {chosen.shape} for seat {seat!r}, expected {(len(rows), *expected_tail)}")
    return chosen


_SEARCHES: dict[type, bool] = {}


def _searches(policy: Policy) -> bool:
    """Whether `policy` is a `SearchPolicy`. The runtime protocol check costs ~60 us, and it
    would run on every exploring act call of every learner, so it runs once per class."""
    kind = type(policy)
    if kind not in _SEARCHES:
        _SEARCHES[kind] = isinstance(policy, SearchPolicy)
    return _SEARCHES[kind]


def choose_actions(env: VecEnv, spec: GameSpec, everyone: Sequence[Entrant], who: dict[str, np.ndarray],
         seat_index: dict[str, int], *, forfeits: dict[int, tuple[str, str]] | None = None,
         move_timeout: float | None = None, forced: np.ndarray | None = None,
         searched: dict[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """One batched `act` call per (entrant, seat) group of acting copies.

    Without `forfeits` any failure raises RunnerError. With it, a failing entrant forfeits
    only the games it failed in: `forfeits[copy]` gets (entrant, reason), and the copy gets a legal
    placeholder action (the runner ends that game right after the step). Where `forced` (n,)
    holds an action (an opening's), that action is played and no entrant is asked. Given
    `searched`, an exploring `SearchPolicy`'s move distributions go to `searched[seat]`
    (n, n_actions), NaN in rows it did not search.

    Example:
        >>> import games
        >>> from agents.baselines import RandomPolicy
        >>> game = games.load("tic_tac_toe")
        >>> env = game.make(2, seed=1)
        >>> env.reset(seeds=[1, 2], copies=[0, 1])
        >>> who = {seat: np.zeros(2, dtype=np.int64) for seat in game.spec.seat_names}  # entrant 0 everywhere
        >>> actions = choose_actions(env, game.spec, [Entrant("a", RandomPolicy(game.spec))], who,
        ...                          {"player_0": 0, "player_1": 1})
        >>> sorted(actions), actions["player_0"].shape  # only the seat to move is asked
        (['player_0'], (2,))
    """
    actions: dict[str, np.ndarray] = {}
    for seat_spec in spec.seats:
        seat = seat_spec.name
        acting = env.acting[seat]
        if not acting.any():
            continue
        tail = () if seat_spec.discrete else tuple(seat_spec.action.shape)
        out = np.zeros(env.n, dtype=np.int64) if seat_spec.discrete else \
            np.full((env.n, *tail), seat_spec.action.low, dtype=np.float32)
        ids = who[seat]
        book = None
        if forced is not None:
            book = np.flatnonzero(acting & (forced >= 0))
            acting = acting & (forced < 0)  # the opening moves here, not the entrant
        for eid in np.unique(ids[acting]).tolist():
            rows = np.flatnonzero(acting & (ids == eid))
            entrant = everyone[eid]
            try:
                started = time.perf_counter()
                chosen = _call(entrant.policy, entrant, env, seat, rows, seat_index[seat], tail)
                per_move = (time.perf_counter() - started) / len(rows)
                if move_timeout is not None and per_move > move_timeout:
                    raise Fault(entrant.name, seat, rows, f"exceeded the move timeout ({per_move:.3g} s > {move_timeout:g} s)")
                bad = _illegal(env, seat_spec, rows, chosen)
                if len(bad):
                    c = int(rows[bad[0]])
                    shown = chosen[bad[0]].tolist() if chosen.ndim > 1 else int(chosen[bad[0]])
                    raise Fault(entrant.name, seat, rows[bad],
                                 f"played an illegal move: action={shown} is not legal for seat={seat!r} in copy {c}")
                out[rows] = chosen
                if searched is not None and entrant.explore and _searches(entrant.policy):
                    if seat not in searched:
                        searched[seat] = np.full((env.n, seat_spec.n_actions), np.nan, np.float32)
                    searched[seat][rows] = entrant.policy.last_search
            except Fault as fault:
                if forfeits is None:
                    raise RunnerError(f"entrant {fault.entrant!r} {fault.reason}", entrant=fault.entrant, seat=seat) from None
                out[rows] = _salvage(env, seat_spec, entrant, rows, seat_index[seat], tail, fault, forfeits)
        if book is not None:
            out[book] = forced[book]
        actions[seat] = out
    return actions


def _illegal(env: VecEnv, seat_spec, rows: np.ndarray, chosen: np.ndarray) -> np.ndarray:
    """Indices (into rows) of actions the game would refuse."""
    if seat_spec.discrete:
        in_range = (chosen >= 0) & (chosen < seat_spec.n_actions)
        legal = np.zeros(len(rows), dtype=bool)
        legal[in_range] = env.mask[seat_spec.name][rows[in_range], chosen[in_range].astype(np.int64)]
        return np.flatnonzero(~legal)
    box = seat_spec.action
    flat = chosen.reshape(len(rows), -1)
    ok = np.isfinite(flat).all(1) & (flat >= box.low - 1e-6).all(1) & (flat <= box.high + 1e-6).all(1)
    return np.flatnonzero(~ok)


def _placeholder(env: VecEnv, seat_spec, rows: np.ndarray) -> np.ndarray:
    if seat_spec.discrete:
        return env.mask[seat_spec.name][rows].argmax(1).astype(np.int64)
    return np.full((len(rows), *seat_spec.action.shape), seat_spec.action.low, dtype=np.float32)


def _salvage(env, seat_spec, entrant, rows, seat_index, tail, fault: Fault,
             forfeits: dict[int, tuple[str, str]]) -> np.ndarray:
    """After a batched failure, find the games really at fault (one row at a time) and forfeit those."""
    chosen = _placeholder(env, seat_spec, rows)
    if "timeout" in fault.reason or len(rows) == 1:  # a slow entrant forfeits every game it held up
        for c in fault.copies.tolist():
            forfeits.setdefault(int(c), (entrant.name, fault.reason))
        return chosen
    for k, c in enumerate(rows.tolist()):
        single = rows[k:k + 1]
        try:
            answer = _call(entrant.policy, entrant, env, seat_spec.name, single, seat_index, tail)
            if len(_illegal(env, seat_spec, single, answer)):
                raise Fault(entrant.name, seat_spec.name, single, f"played an illegal move for seat {seat_spec.name!r}")
            chosen[k] = answer[0]
        except Fault as own:
            forfeits.setdefault(int(c), (entrant.name, own.reason))
    return chosen
