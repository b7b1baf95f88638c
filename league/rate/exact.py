"""Exact values in small two-player zero-sum OpenSpiel games: exploitability of a policy or of a
mixture of policies, and one policy's expected return against another.

A policy is first turned into tables (`league.play.infostates.policy_tables`: its distribution
at every information state, one batched forward pass per seat). Exploitability turns the
tables into an OpenSpiel `TabularPolicy` for OpenSpiel's C++ `exploitability`. Expected
returns are one matrix product over the game's terminal histories, for any number of
opponents at once. A frozen snapshot's tables never change, so a caller that keeps them (the
trainer's evaluator does) pays the forward pass once per snapshot, not once per pair.

A mixture of policies is turned into one behavioural policy exactly as OpenSpiel's
`PolicyAggregator` does (`league.play.infostates.mixture_tables`): each member weighted by its
own reach of each information state, the policy a player would follow by picking a member at
the start of the game and playing it throughout.

Example:
    >>> import games
    >>> from agents.baselines import FixedActionPolicy, RandomPolicy
    >>> spec = games.load("kuhn_poker").spec
    >>> round(exploitability(RandomPolicy(spec), spec), 4)
    0.4583
    >>> always_bet = FixedActionPolicy(spec, 1)
    >>> round(exact_payoff(always_bet, RandomPolicy(spec), spec), 4)  # its mean return, both seats
    0.375
"""

from __future__ import annotations

import functools
from typing import Any, Sequence

import numpy as np

from games.base import GameError, GameSpec
from league.play.infostates import (GivesProbabilities, NotEnumerableError, Tables, game_tree, information_states,
                                    mixture_tables, policy_tables, terminal_reach)


@functools.lru_cache(maxsize=8)
def _engine_of(source: str, name: str, backend: str):
    import pyspiel

    if backend != "openspiel":
        raise GameError(f"exploitability needs an OpenSpiel game; {name} is a {backend} game")
    game = pyspiel.load_game(source)
    info = game.get_type()
    if game.num_players() != 2 or info.utility != pyspiel.GameType.Utility.ZERO_SUM:
        raise GameError(f"exploitability is defined here for two-player zero-sum games; {name} is not one")
    if info.dynamics != pyspiel.GameType.Dynamics.SEQUENTIAL or not info.provides_information_state_tensor:
        raise GameError(f"exploitability needs a turn-based game with information-state tensors; {name} has none")
    return game


def _engine(spec: GameSpec):
    return _engine_of(spec.source, spec.name, spec.backend)


def exploitability_supported(spec: GameSpec) -> str | None:
    """Why exploitability cannot be computed for this game, or None (its tree is walked once here)."""
    try:
        _engine(spec)
        information_states(spec)
    except GameError as error:
        return str(error)
    except NotEnumerableError as error:
        return f"exploitability needs a game small enough to enumerate; {error}"
    return None


def tables(policy: GivesProbabilities, spec: GameSpec) -> Tables:
    """A policy's distribution at every information state of every player (see the module doc)."""
    _engine(spec)
    return policy_tables(policy, spec)


def _openspiel_policy(spec: GameSpec, tabled: Tables) -> Any:
    """The tables as OpenSpiel's C++ TabularPolicy (information-state string -> [(action, prob)])."""
    import pyspiel

    entries: dict[str, list[tuple[int, float]]] = {}
    for states, probs in zip(information_states(spec), tabled):
        for key, legal, row in zip(states.strings, states.masks, probs):
            entries[key] = [(int(a), float(row[a])) for a in legal.nonzero()[0]]
    return pyspiel.TabularPolicy(entries)


def tables_exploitability(tabled: Tables, spec: GameSpec) -> float:
    """Exact exploitability (NashConv / 2) of the policy these tables hold, playing both seats."""
    import pyspiel

    return float(pyspiel.exploitability(_engine(spec), _openspiel_policy(spec, tabled)))


def tables_payoffs(mine: Tables, others: Sequence[Tables], spec: GameSpec) -> np.ndarray:
    """(n,): `mine`'s exact expected return against each of `others`, averaged over both seat orders.

    One pass over the terminal histories z for all opponents at once:
    E[return] = sum_z chance(z) * return_0(z) * reach_mine_0(z) * reach_other_1(z) with mine first,
    and the same with the seats swapped.
    """
    _engine(spec)
    if not others:
        return np.zeros(0)
    ends = game_tree(spec).terminals
    mine_first = terminal_reach(spec, 0, mine[0][None])[0]  # (Z,)
    mine_second = terminal_reach(spec, 1, mine[1][None])[0]  # (Z,)
    others_first = terminal_reach(spec, 0, np.stack([o[0] for o in others]))  # (n, Z)
    others_second = terminal_reach(spec, 1, np.stack([o[1] for o in others]))  # (n, Z)
    first = others_second @ (ends.chance * ends.returns[:, 0] * mine_first)  # (n,): mine moves first
    second = others_first @ (ends.chance * ends.returns[:, 1] * mine_second)  # (n,): mine moves second
    return (first + second) / 2


def exploitability(policy: GivesProbabilities, spec: GameSpec) -> float:
    """Exact exploitability (NashConv / 2) of a policy that plays both seats.

    Example:
        >>> import games
        >>> from agents.baselines import RandomPolicy
        >>> spec = games.load("kuhn_poker").spec
        >>> round(exploitability(RandomPolicy(spec), spec), 4)
        0.4583
    """
    return tables_exploitability(tables(policy, spec), spec)


def mixture_exploitability(policies: Sequence[GivesProbabilities], weights: Sequence[float], spec: GameSpec) -> float:
    """Exploitability of the mixture that picks member k with probability weights[k] for a whole game."""
    return tables_exploitability(mixture_tables([tables(p, spec) for p in policies], weights, spec), spec)


def exact_payoff(policy_a: GivesProbabilities, policy_b: GivesProbabilities, spec: GameSpec) -> float:
    """A's exact expected return against B, averaged over both seat orders (no sampling noise).

    Example:
        >>> import games
        >>> from agents.baselines import RandomPolicy
        >>> spec = games.load("kuhn_poker").spec
        >>> exact_payoff(RandomPolicy(spec), RandomPolicy(spec), spec)
        0.0
    """
    return float(tables_payoffs(tables(policy_a, spec), [tables(policy_b, spec)], spec)[0])
