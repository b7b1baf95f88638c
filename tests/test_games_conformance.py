"""Conformance: every registered game honours the VecEnv contract of games/base.py.

The checks live in games/check.py, so `games.check_game` applies the same ones to a user's game.
"""

from __future__ import annotations

import numpy as np
import pytest

import games
from games.base import GameSpec
from games.check import (
    array_problems,
    contract_problems,
    illegal_action_problems,
    random_actions,
    rollout,
    seed_problems,
    spec_problems,
)

GAMES = games.names()


@pytest.mark.parametrize("name", GAMES)
def test_spec_is_well_formed(name: str) -> None:
    spec = games.load(name).spec
    assert isinstance(spec, GameSpec) and spec.name == name
    assert spec_problems(spec) == []


@pytest.mark.parametrize("name", GAMES)
def test_episodes_follow_the_contract(name: str) -> None:
    assert contract_problems(games.load(name)) == []


@pytest.mark.parametrize("name", [e.name for e in games.entries() if e.backend == "openspiel"
                                  or e.backend == "pettingzoo" and e.name.startswith("simple_")])
def test_episodes_end_as_the_engine_says(name: str) -> None:
    """OpenSpiel games end by their rules; mpe2 worlds are cut after 25 steps."""
    game = games.load(name)
    env = game.make(3, seed=11)
    rng = np.random.default_rng(0)
    ended = 0
    while ended < 6:
        result = env.step(random_actions(env, rng))
        for row, c in enumerate(result.finished.tolist()):
            if game.spec.backend == "openspiel":
                assert result.terminated[c] and not result.truncated[c]
            else:
                assert result.truncated[c] and result.episode_length[row] == 25
            ended += 1
    env.close()


def test_the_checks_catch_a_broken_env() -> None:
    """The checks can fail: a mask that allows nothing where a seat acts is reported."""
    env = games.load("tic_tac_toe").make(2, seed=0)
    assert array_problems(env) == []
    env.mask["player_0"][0] = False
    assert any("allows no action" in p for p in array_problems(env))
    bad = GameSpec(**{**vars(games.load("simple_tag").spec), "kind": "cooperative"})
    assert any("cooperative game has one side" in p for p in spec_problems(bad))


@pytest.mark.parametrize("name", GAMES)
def test_only_legal_actions_are_accepted(name: str) -> None:
    assert illegal_action_problems(games.load(name)) == []


@pytest.mark.parametrize("name", GAMES)
def test_same_seed_same_episodes(name: str) -> None:
    assert seed_problems(games.load(name)) == []


@pytest.mark.parametrize("name", ["kuhn_poker", "leduc_poker", "simple_tag", "leduc_holdem_pz", "markov_soccer"])
def test_seed_changes_chance(name: str) -> None:
    game = games.load(name)
    assert rollout(game, 1, 30) != rollout(game, 2, 30)


def test_explicit_reset_seeds_reproduce_an_episode() -> None:
    env = games.load("leduc_poker").make(2, seed=0)
    env.reset(seeds=[99, 99])
    for seat in env.spec.seat_names:
        assert (env.obs[seat][0] == env.obs[seat][1]).all()
        assert (env.acting[seat][0] == env.acting[seat][1])
    assert list(env.episode_seed) == [99, 99]


# -- rewards agree with each engine's own accounting -------------------------------------

def test_openspiel_returns_match_engine_and_reach_the_loser() -> None:
    env = games.load("connect_four").make(1, seed=4)
    rng = np.random.default_rng(2)
    checked = 0
    while checked < 10:
        state = env.states[0]
        mover = env.spec.seat_names[state.current_player()]
        result = env.step(random_actions(env, rng))
        if len(result.finished):
            engine = state.returns()  # the finished pyspiel state, replaced by a fresh one in env
            for p, seat in enumerate(env.spec.seat_names):
                assert result.episode_return[seat][0] == engine[p]
            other = [s for s in env.spec.seat_names if s != mover][0]
            if engine != [0.0, 0.0]:
                # the loser did not move, yet its -1 arrives in this very step
                assert result.reward[mover][0] == 1.0 and result.reward[other][0] == -1.0
            checked += 1


@pytest.mark.parametrize("name", ["connect_four_pz", "leduc_holdem_pz"])
def test_pettingzoo_aec_returns_match_the_reference_loop(name: str) -> None:
    """Replay our actions through PettingZoo's documented agent_iter loop; totals agree."""
    game = games.load(name)
    env = game.make(1, seed=8)
    rng = np.random.default_rng(4)
    for _ in range(5):
        seed = int(env.episode_seed[0])
        moves = []
        while True:
            actions = random_actions(env, rng)
            seat = [s for s in env.spec.seat_names if env.acting[s][0]][0]
            moves.append(int(actions[seat][0]))
            result = env.step(actions)
            if len(result.finished):
                ours = {s: result.episode_return[s][0] for s in env.spec.seat_names}
                break
        raw = game.factory()
        raw.reset(seed=seed % (2**31 - 1))
        totals = dict.fromkeys(raw.possible_agents, 0.0)
        replay = iter(moves)
        for agent in raw.agent_iter():
            _, reward, term, trunc, _ = raw.last()
            totals[agent] += reward
            raw.step(None if term or trunc else next(replay))
        assert totals == pytest.approx(ours)


def test_mpe_parallel_returns_match_the_reference_loop() -> None:
    game = games.load("simple_tag")
    env = game.make(1, seed=5)
    rng = np.random.default_rng(6)
    seed = int(env.episode_seed[0])
    joint_moves = []
    while True:
        actions = random_actions(env, rng)
        joint_moves.append({s: int(a[0]) for s, a in actions.items()})
        result = env.step(actions)
        if len(result.finished):
            ours = {s: result.episode_return[s][0] for s in env.spec.seat_names}
            break
    raw = game.factory()
    raw.reset(seed=seed % (2**31 - 1))
    totals = dict.fromkeys(raw.possible_agents, 0.0)
    for joint in joint_moves:
        _, rewards, _, _, _ = raw.step(joint)
        for agent, value in rewards.items():
            totals[agent] += value
    assert totals == pytest.approx(ours)


def test_continuous_variant_has_box_actions() -> None:
    spec = games.load("simple_adversary(continuous=True)").spec
    assert all(not s.discrete for s in spec.seats)
    env = games.load("simple_adversary(continuous=True)").make(2, seed=0)
    result = env.step(random_actions(env, np.random.default_rng(0)))
    assert set(result.reward) == set(spec.seat_names)
