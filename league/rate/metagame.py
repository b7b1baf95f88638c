"""The meta-game over a pool of players: Nash mixtures of a payoff matrix, and exact
exploitability of policies (and of mixtures of them) in two-player zero-sum OpenSpiel games.

Exploitability comes from OpenSpiel's own `exploitability` on a tabular copy of the policy;
the table is filled by one batched forward pass per seat over every information state.
A mixture of policies is turned into one behavioural policy by OpenSpiel's
`PolicyAggregator`, which weights each member by its reach probability: the policy a player
would follow by picking a member at the start of the game and playing it throughout.

Example:
    >>> import numpy as np
    >>> rps = np.array([[0.0, -1.0, 1.0], [1.0, 0.0, -1.0], [-1.0, 1.0, 0.0]])
    >>> weights, value = zero_sum_nash(rps)
    >>> np.round(weights, 3).tolist(), abs(round(value, 6))
    ([0.333, 0.333, 0.333], 0.0)
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from games.base import GameError, GameSpec


def zero_sum_nash(payoff: np.ndarray) -> tuple[np.ndarray, float]:
    """Maximin mixture of the row player of a zero-sum matrix game, and the game's value.

    Solves  max v  s.t.  sum_i x_i A[i, j] >= v for every column j,  x a distribution.
    `payoff[i, j]` is the row player's payoff (e.g. 2 * score - 1 from a payoff matrix).
    """
    from scipy.optimize import linprog

    a = np.asarray(payoff, dtype=np.float64)
    n, m = a.shape
    if n == 0 or m == 0:
        raise ValueError("the payoff matrix is empty")
    # variables: x_1..x_n, v; minimise -v
    c = np.zeros(n + 1)
    c[-1] = -1.0
    a_ub = np.hstack([-a.T, np.ones((m, 1))])  # v - sum_i x_i a_ij <= 0
    b_ub = np.zeros(m)
    a_eq = np.hstack([np.ones((1, n)), np.zeros((1, 1))])
    bounds = [(0.0, None)] * n + [(None, None)]
    result = linprog(c, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=[1.0], bounds=bounds, method="highs")
    if not result.success:
        raise ValueError(f"the Nash linear program failed: {result.message}")
    x = np.clip(result.x[:n], 0.0, None)
    return x / x.sum(), float(result.x[-1])


def symmetric_payoff(score: np.ndarray) -> np.ndarray:
    """Zero-sum payoffs 2 * score - 1 from a score matrix (NaN, e.g. the diagonal, counts as even)."""
    s = np.where(np.isnan(score), 0.5, np.asarray(score, dtype=np.float64))
    return 2.0 * s - 1.0


# -- exploitability -----------------------------------------------------------------------

def _engine(spec: GameSpec):
    import pyspiel

    if spec.backend != "openspiel":
        raise GameError(f"exploitability needs an OpenSpiel game; {spec.name} is a {spec.backend} game")
    game = pyspiel.load_game(spec.source)
    info = game.get_type()
    if game.num_players() != 2 or info.utility != pyspiel.GameType.Utility.ZERO_SUM:
        raise GameError(f"exploitability is defined here for two-player zero-sum games; {spec.name} is not one")
    if info.dynamics != pyspiel.GameType.Dynamics.SEQUENTIAL or not info.provides_information_state_tensor:
        raise GameError(f"exploitability needs a turn-based game with information-state tensors; {spec.name} has none")
    return game


def exploitability_supported(spec: GameSpec) -> str | None:
    """Why exploitability cannot be computed for this game, or None."""
    try:
        _engine(spec)
    except GameError as error:
        return str(error)
    return None


def tabulate(policy: Any, spec: GameSpec):
    """An OpenSpiel TabularPolicy holding `policy`'s action probabilities at every information state.

    `policy` needs `probabilities(obs, mask, *, seat) -> (b, n_actions)`.
    """
    from open_spiel.python.policy import TabularPolicy

    game = _engine(spec)
    table = TabularPolicy(game)
    n_actions = game.num_distinct_actions()
    by_player: dict[int, list[int]] = {}
    for index, state in enumerate(table.states):
        by_player.setdefault(state.current_player(), []).append(index)
    for player, rows in by_player.items():
        obs = np.array([table.states[i].information_state_tensor(player) for i in rows], dtype=np.float32)
        obs = obs.reshape(len(rows), *spec.seats[player].obs_shape)
        mask = np.array([table.states[i].legal_actions_mask(player) for i in rows], dtype=bool)[:, :n_actions]
        probs = np.asarray(policy.probabilities(obs, mask, seat=spec.seat_names[player]), dtype=np.float64)  # (b, A)
        probs = np.where(mask, probs, 0.0)
        total = probs.sum(1, keepdims=True)
        probs = np.where(total > 0, probs / np.where(total > 0, total, 1.0), mask / mask.sum(1, keepdims=True))
        table.action_probability_array[rows] = probs
    return table


def exploitability(policy: Any, spec: GameSpec) -> float:
    """Exact exploitability (NashConv / 2) of a policy that plays both seats.

    Example:
        >>> import games
        >>> from agents.baselines import RandomPolicy
        >>> spec = games.load("kuhn_poker").spec
        >>> round(exploitability(RandomPolicy(spec), spec), 4)
        0.4583
    """
    from open_spiel.python.algorithms import exploitability as os_exploitability

    return float(os_exploitability.exploitability(_engine(spec), tabulate(policy, spec)))


def mixture_exploitability(policies: Sequence[Any], weights: Sequence[float], spec: GameSpec) -> float:
    """Exploitability of the mixture that picks member k with probability weights[k] for a whole game."""
    from open_spiel.python.algorithms import exploitability as os_exploitability
    from open_spiel.python.algorithms.policy_aggregator import PolicyAggregator

    game = _engine(spec)
    w = np.asarray(weights, dtype=np.float64)
    keep = w > 1e-9
    tables = [tabulate(p, spec) for p, k in zip(policies, keep) if k]
    w = (w[keep] / w[keep].sum()).tolist()
    if len(tables) == 1:
        return float(os_exploitability.exploitability(game, tables[0]))
    aggregate = PolicyAggregator(game).aggregate([0, 1], [tables, tables], [w, w])
    return float(os_exploitability.exploitability(game, aggregate))


def exact_payoff(policy_a: Any, policy_b: Any, spec: GameSpec) -> float:
    """A's exact expected return against B, averaged over both seat orders (no sampling noise).

    Example:
        >>> import games
        >>> from agents.baselines import RandomPolicy
        >>> spec = games.load("kuhn_poker").spec
        >>> exact_payoff(RandomPolicy(spec), RandomPolicy(spec), spec)
        0.0
    """
    from open_spiel.python.algorithms.expected_game_score import policy_value

    game = _engine(spec)
    a, b = tabulate(policy_a, spec), tabulate(policy_b, spec)
    first = policy_value(game.new_initial_state(), [a, b])[0]  # A moves first
    second = policy_value(game.new_initial_state(), [b, a])[1]  # A moves second
    return float((first + second) / 2)
