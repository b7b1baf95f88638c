"""Exact values on small games (league.rate.exact) against OpenSpiel's own Python algorithms:
exploitability of a policy, of a mixture (OpenSpiel's PolicyAggregator), and expected returns
(OpenSpiel's policy_value), on Kuhn and Leduc poker with untrained networks and baselines."""

from __future__ import annotations

import numpy as np
import pytest

import games
from agents.baselines import FixedActionPolicy, RandomPolicy
from agents.mappo import MAPPO
from league.play import infostates
from league.play.infostates import NotEnumerableError, information_states
from league.rate.exact import (exact_payoff, exploitability, exploitability_supported, mixture_exploitability, tables,
                               tables_payoffs)


def openspiel_table(policy, spec):
    """The reference: OpenSpiel's own TabularPolicy, filled state by state from the policy."""
    import pyspiel
    from open_spiel.python.policy import TabularPolicy

    table = TabularPolicy(pyspiel.load_game(spec.source))
    for row, state in enumerate(table.states):
        player = state.current_player()
        obs = np.asarray(state.information_state_tensor(player), dtype=np.float32)[None]
        obs = obs.reshape(1, *spec.seats[player].obs_shape)
        mask = np.asarray(state.legal_actions_mask(player), dtype=bool)[None]
        probs = np.where(mask, policy.probabilities(obs, mask, seat=spec.seat_names[player]), 0.0)[0]
        table.action_probability_array[row] = probs / probs.sum()
    return table


def members(spec):
    return [MAPPO(spec, "player", config={"hidden": (16,)}, seed=seed).policy() for seed in range(3)] + [
        RandomPolicy(spec), FixedActionPolicy(spec, 1)]


@pytest.mark.parametrize("name", ["kuhn_poker", "leduc_poker"])
def test_exact_values_are_openspiels(name: str) -> None:
    import pyspiel
    from open_spiel.python.algorithms import exploitability as os_exploitability
    from open_spiel.python.algorithms.expected_game_score import policy_value
    from open_spiel.python.algorithms.policy_aggregator import PolicyAggregator

    spec = games.load(name).spec
    game = pyspiel.load_game(spec.source)
    policies = members(spec)
    references = [openspiel_table(p, spec) for p in policies]
    for policy, reference in zip(policies, references):
        expected = os_exploitability.exploitability(game, reference)
        assert exploitability(policy, spec) == pytest.approx(expected, abs=1e-6)
    # expected returns against every other member at once, both seat orders averaged
    values = tables_payoffs(tables(policies[0], spec), [tables(p, spec) for p in policies[1:]], spec)
    for value, reference in zip(values, references[1:]):
        first = policy_value(game.new_initial_state(), [references[0], reference])[0]
        second = policy_value(game.new_initial_state(), [reference, references[0]])[1]
        assert value == pytest.approx((first + second) / 2, abs=1e-6)
    assert exact_payoff(policies[0], policies[1], spec) == pytest.approx(values[0], abs=1e-12)
    # a mixture whose members reach states differently: OpenSpiel's aggregate policy
    weights = [0.1, 0.2, 0.3, 0.15, 0.25]
    aggregate = PolicyAggregator(game).aggregate([0, 1], [references, references], [weights, weights])
    assert mixture_exploitability(policies, weights, spec) == pytest.approx(
        os_exploitability.exploitability(game, aggregate), abs=1e-6)


def test_a_zero_weight_member_changes_nothing() -> None:
    spec = games.load("kuhn_poker").spec
    a, b, c = members(spec)[:3]
    assert mixture_exploitability([a, b, c], [0.5, 0.5, 0.0], spec) == pytest.approx(
        mixture_exploitability([a, b], [0.5, 0.5], spec), abs=1e-12)


def test_games_without_exact_values_say_why(monkeypatch: pytest.MonkeyPatch) -> None:
    assert exploitability_supported(games.load("kuhn_poker").spec) is None
    assert "two-player zero-sum" in exploitability_supported(games.load("openspiel:kuhn_poker(players=3)").spec)
    assert "OpenSpiel game" in exploitability_supported(games.load("connect_four_pz").spec)
    with pytest.raises(NotEnumerableError, match="over 10 nodes"):
        information_states(games.load("kuhn_poker").spec, max_nodes=10)
    monkeypatch.setattr(infostates, "MAX_NODES", 10)  # a game too large to walk is refused, not walked forever
    assert exploitability_supported(games.load("kuhn_poker").spec) == (
        "exploitability needs a game small enough to enumerate; its game tree has over 10 nodes")
