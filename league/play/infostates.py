"""Every information state of a small turn-based OpenSpiel game, found once per process.

The exact computations on small games (the Nash mixture as one behaviour policy, exact
exploitability and expected returns) all start from the same walk of the game tree: each
player's information states, with their OpenSpiel strings and tensors, their legal actions,
and the player's own previous decision (perfect recall). `information_states` walks the tree
once per game and keeps the result; `policy_tables` then turns any policy with
`probabilities` into one (K, A) table per player with one batched forward pass per seat.

Example:
    >>> import games
    >>> from agents.baselines import RandomPolicy
    >>> spec = games.load("kuhn_poker").spec
    >>> players = information_states(spec)
    >>> [len(p.strings) for p in players], players[0].strings[0]
    ([6, 6], '2')
    >>> policy_tables(RandomPolicy(spec), spec)[0][0].tolist()  # uniform over pass and bet
    [0.5, 0.5]
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Protocol, Sequence, runtime_checkable

import numpy as np

from games.base import GameSpec
from games.errors import LeagueError

MAX_NODES = 1_000_000  # game-tree nodes the walk may visit (Leduc poker has about 10,000)
ZERO_WEIGHT = 1e-9  # mixture members weighted at most this are left out


class NotEnumerableError(LeagueError, ValueError):
    """A game whose tree is too large to walk, or that does not have perfect recall."""


@runtime_checkable
class GivesProbabilities(Protocol):
    """The optional part of the Policy contract the exact computations need: its behaviour as a distribution."""

    def probabilities(self, obs: np.ndarray, mask: np.ndarray, *, seat: str) -> np.ndarray:
        """(b, n_actions) for a discrete seat."""
        ...


@dataclass(frozen=True)
class PlayerStates:
    """One player's information states, in the order the walk found them (parents before children).
    Shared by every caller of `information_states`: read, never write."""

    strings: tuple[str, ...]  # OpenSpiel's information-state strings
    tensors: np.ndarray  # (K, obs_size) float32: the information-state tensors, flattened
    masks: np.ndarray  # (K, A) bool: the legal actions at each
    parents: np.ndarray  # (K, 2) int64: (row, action) of the player's own previous decision; (-1, -1) for none


Tables = tuple[np.ndarray, ...]  # one (K_p, A) float64 table per player: a policy's distribution at each state


@dataclass(frozen=True)
class Terminals:
    """Every end of the game (each terminal history), for exact expected returns."""

    chance: np.ndarray  # (Z,) float64: the chance events' probability of reaching it
    returns: np.ndarray  # (Z, P) float64: each player's return there
    last: np.ndarray  # (Z, P, 2) int64: each player's last decision (row, action) on the way; (-1, -1) for none


@dataclass(frozen=True)
class GameTree:
    """A game's information states per player and its terminal histories."""

    players: tuple[PlayerStates, ...]
    terminals: Terminals


def information_states(spec: GameSpec, max_nodes: int | None = None) -> tuple[PlayerStates, ...]:
    """Every player's information states (kept per game and limit: the tree is walked once).

    NotEnumerableError when the tree has more than `max_nodes` nodes (default MAX_NODES) or
    the game does not have perfect recall. The game must be a turn-based OpenSpiel game with
    information-state tensors; callers check that first.
    """
    return game_tree(spec, max_nodes).players


def game_tree(spec: GameSpec, max_nodes: int | None = None) -> GameTree:
    """The game's information states and terminal histories (see `information_states`)."""
    return _walk(spec.source, MAX_NODES if max_nodes is None else max_nodes)


@functools.lru_cache(maxsize=8)
def _walk(source: str, max_nodes: int) -> GameTree:
    import pyspiel

    game = pyspiel.load_game(source)
    n_actions, n_players = game.num_distinct_actions(), game.num_players()
    index: list[dict[str, int]] = [{} for _ in range(n_players)]
    tensors: list[list[np.ndarray]] = [[] for _ in index]
    masks: list[list[np.ndarray]] = [[] for _ in index]
    parents: list[list[tuple[int, int]]] = [[] for _ in index]
    chance, returns, lasts = [], [], []
    none = (-1, -1)
    # (state, chance probability so far, each player's own previous (row, action))
    stack: list[tuple[Any, float, tuple]] = [(game.new_initial_state(), 1.0, (none,) * n_players)]
    nodes = 0
    while stack:
        state, reach, last = stack.pop()
        nodes += 1
        if nodes > max_nodes:
            raise NotEnumerableError(f"its game tree has over {max_nodes:,} nodes")
        if state.is_terminal():
            chance.append(reach)
            returns.append(state.returns())
            lasts.append(last)
            continue
        if state.is_chance_node():
            stack += [(state.child(a), reach * p, last) for a, p in state.chance_outcomes()]
            continue
        p = state.current_player()
        key = state.information_state_string(p)
        row = index[p].get(key)
        if row is None:
            row = index[p][key] = len(tensors[p])
            tensors[p].append(np.asarray(state.information_state_tensor(p), dtype=np.float32))
            masks[p].append(np.asarray(state.legal_actions_mask(p), dtype=bool)[:n_actions])
            parents[p].append(last[p])
        elif parents[p][row] != last[p]:
            raise NotEnumerableError("the game does not have perfect recall")
        for a in state.legal_actions(p):
            stack.append((state.child(a), reach, last[:p] + ((row, a),) + last[p + 1:]))
    players = tuple(PlayerStates(tuple(index[p]), np.stack(tensors[p]), np.stack(masks[p]),
                                 np.asarray(parents[p], dtype=np.int64).reshape(-1, 2)) for p in range(n_players))
    terminals = Terminals(np.asarray(chance, dtype=np.float64), np.asarray(returns, dtype=np.float64),
                          np.asarray(lasts, dtype=np.int64).reshape(-1, n_players, 2))
    return GameTree(players, terminals)


def _normalised(probs: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """(K, A) float64: masked and normalised; uniform over the legal actions where a row gives nothing."""
    probs = np.where(masks, np.asarray(probs, dtype=np.float64), 0.0)
    total = probs.sum(1, keepdims=True)
    uniform = masks / np.maximum(masks.sum(1, keepdims=True), 1)
    return np.where(total > 0, probs / np.where(total > 0, total, 1.0), uniform)


def policy_tables(policy: GivesProbabilities, spec: GameSpec) -> Tables:
    """A policy's distribution at every information state: one batched forward pass per seat."""
    tables = []
    for player, states in enumerate(information_states(spec)):
        obs = states.tensors.reshape(len(states.tensors), *spec.seats[player].obs_shape)
        probs = policy.probabilities(obs, states.masks, seat=spec.seat_names[player])  # (K, A)
        tables.append(_normalised(probs, states.masks))
    return tuple(tables)


def own_reach(states: PlayerStates, tables: np.ndarray) -> np.ndarray:
    """(M, K): each of M policies' own reach of each state (its probabilities of the player's own
    earlier actions on the way there), from `tables` (M, K, A)."""
    reach = np.ones(tables.shape[:2])  # (M, K)
    for row, (parent, action) in enumerate(states.parents):  # parents come before their children
        if parent >= 0:
            reach[:, row] = reach[:, parent] * tables[:, parent, action]
    return reach


def terminal_reach(spec: GameSpec, player: int, tables: np.ndarray) -> np.ndarray:
    """(M, Z): each of M policies' probability of its own actions on the way to each terminal
    history, as `player`, from `tables` (M, K, A)."""
    tree = game_tree(spec)
    reach = own_reach(tree.players[player], tables)  # (M, K)
    row, action = tree.terminals.last[:, player, 0], tree.terminals.last[:, player, 1]  # (Z,), (Z,)
    moved = row >= 0
    out = np.ones((len(tables), len(row)))  # (M, Z): a player who never moved reaches it surely
    out[:, moved] = reach[:, row[moved]] * tables[:, row[moved], action[moved]]
    return out


def mixture_tables(members: Sequence[Tables], weights: Sequence[float], spec: GameSpec) -> Tables:
    """The behaviour policy of the mixture that picks member k with probability weights[k] for a
    whole game (PSRO's aggregate policy, as OpenSpiel's PolicyAggregator):

        pi(a | s) = sum_k w_k R_k(s) pi_k(a | s) / sum_k w_k R_k(s)

    with R_k(s) member k's own reach of s; a state no member reaches plays uniformly. Members
    weighted at most ZERO_WEIGHT are left out."""
    w = np.asarray(weights, dtype=np.float64)  # (M,)
    kept = np.flatnonzero(w > ZERO_WEIGHT)
    w = w[kept] / w[kept].sum()
    out = []
    for player, states in enumerate(information_states(spec)):
        probs = np.stack([members[k][player] for k in kept])  # (M, K, A)
        mass = np.einsum("m,mk,mka->ka", w, own_reach(states, probs), probs)  # (K, A)
        out.append(_normalised(mass, states.masks))
    return tuple(out)
