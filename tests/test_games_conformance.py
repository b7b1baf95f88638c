"""Conformance: every registered game honours the VecEnv contract of games/base.py."""

from __future__ import annotations

import numpy as np
import pytest

import games
from games.base import Discrete, GameSpec, IllegalActionError, VecEnv

GAMES = games.names()


def random_actions(env: VecEnv, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Uniform legal actions for every acting seat (zeros elsewhere)."""
    out = {}
    for seat in env.spec.seats:
        acting = env.acting[seat.name]
        if not acting.any():
            continue
        if seat.discrete:
            scores = rng.random((env.n, seat.n_actions))
            scores[~env.mask[seat.name]] = -1.0
            out[seat.name] = scores.argmax(1)
        else:
            box = seat.action
            out[seat.name] = rng.uniform(box.low, box.high, (env.n, *box.shape)).astype(np.float32)
    return out


def check_arrays(env: VecEnv) -> None:
    spec = env.spec
    n = env.n
    acting_count = np.zeros(n, dtype=int)
    for seat in spec.seats:
        obs, mask, acting = env.obs[seat.name], env.mask[seat.name], env.acting[seat.name]
        assert obs.shape == (n, *seat.obs_shape) and obs.dtype == np.float32
        assert mask.shape == (n, seat.n_actions) and mask.dtype == bool
        assert acting.shape == (n,) and acting.dtype == bool
        assert np.isfinite(obs).all()
        if seat.discrete:
            assert mask[acting].any(1).all(), f"{seat.name}: an acting copy has no legal action"
            assert not mask[~acting].any(), f"{seat.name}: a seat that does not act has legal actions"
        acting_count += acting
    assert (acting_count >= 1).all(), "every copy must wait on at least one seat"
    if spec.turn_based:
        assert (acting_count == 1).all(), "turn-based copies wait on exactly one seat"
    state = env.state
    assert state.shape == (n, *spec.state_shape) and state.dtype == np.float32
    assert np.isfinite(state).all()


@pytest.mark.parametrize("name", GAMES)
def test_spec_is_well_formed(name: str) -> None:
    spec = games.load(name).spec
    assert isinstance(spec, GameSpec) and spec.name == name
    assert spec.kind in ("competitive", "cooperative", "mixed")
    seats = [s for side in spec.sides for s in side.seats]
    assert sorted(seats) == sorted(spec.seat_names)
    assert spec.max_steps >= 1
    if spec.kind == "cooperative":
        assert len(spec.sides) == 1
    else:
        assert len(spec.sides) >= 2
    # sides that share a role must be interchangeable: same seat count and shapes
    for role in spec.roles:
        sides = spec.sides_for_role(role)
        shapes = {tuple((spec.seat(s).obs_shape, spec.seat(s).action) for s in side.seats) for side in sides}
        assert len(shapes) == 1, f"sides of role {role!r} differ in shape"


@pytest.mark.parametrize("name", GAMES)
def test_episodes_follow_the_contract(name: str) -> None:
    game = games.load(name)
    spec = game.spec
    env = game.make(3, seed=11)
    rng = np.random.default_rng(0)
    check_arrays(env)
    seen_returns = {seat: np.zeros(env.n) for seat in spec.seat_names}
    lengths = np.zeros(env.n, dtype=int)
    finished_episodes = 0
    for _ in range(400):
        result = env.step(random_actions(env, rng))
        lengths += 1
        done = result.terminated | result.truncated
        assert not (result.terminated & result.truncated).any()
        assert (result.finished == np.flatnonzero(done)).all()
        for seat in spec.seat_names:
            assert result.reward[seat].shape == (env.n,)
            seen_returns[seat] += result.reward[seat]
        for row, c in enumerate(result.finished.tolist()):
            assert result.episode_length[row] == lengths[c] <= spec.max_steps
            for seat in spec.seat_names:
                # the episode return is the sum of the rewards delivered step by step
                assert result.episode_return[seat][row] == pytest.approx(seen_returns[seat][c], abs=1e-4)
                seen_returns[seat][c] = 0.0
                assert result.final_obs[seat].shape == (len(result.finished), *spec.seat(seat).obs_shape)
            assert result.final_state.shape == (len(result.finished), *spec.state_shape)
            lengths[c] = 0
            finished_episodes += 1
            if spec.backend == "openspiel":
                assert result.terminated[c], "OpenSpiel games end by their rules"
            elif spec.name.startswith("simple_"):
                assert result.truncated[c] and result.episode_length[row] == 25, "mpe2 worlds are cut after 25 steps"
        check_arrays(env)
        if finished_episodes >= 6:
            break
    assert finished_episodes >= 6
    env.close()


@pytest.mark.parametrize("name", GAMES)
def test_only_legal_actions_are_accepted(name: str) -> None:
    game = games.load(name)
    env = game.make(2, seed=3)
    for seat in game.spec.seats:
        if not env.acting[seat.name].any():
            continue
        copy = int(np.flatnonzero(env.acting[seat.name])[0])
        actions = random_actions(env, np.random.default_rng(1))
        bad = actions[seat.name].copy()
        if isinstance(seat.action, Discrete):
            bad[copy] = seat.n_actions  # out of range
            with pytest.raises(IllegalActionError, match=f"seat='{seat.name}'"):
                env.step({**actions, seat.name: bad})
            illegal = np.flatnonzero(~env.mask[seat.name][copy])
            if len(illegal):
                bad[copy] = illegal[0]
                with pytest.raises(IllegalActionError, match="not legal"):
                    env.step({**actions, seat.name: bad})
        else:
            bad[copy] = seat.action.high + 1.0
            with pytest.raises(IllegalActionError, match="outside"):
                env.step({**actions, seat.name: bad})
        # a missing acting seat is refused too
        with pytest.raises(IllegalActionError, match="no action"):
            env.step({k: v for k, v in actions.items() if k != seat.name})
        break
    env.close()


def rollout(name: str, seed: int, steps: int) -> list[tuple]:
    env = games.load(name).make(2, seed=seed)
    rng = np.random.default_rng(5)
    trace = []
    for _ in range(steps):
        result = env.step(random_actions(env, rng))
        trace.append(tuple(np.round(env.obs[s], 5).tobytes() for s in env.spec.seat_names)
                     + tuple(result.reward[s].tobytes() for s in env.spec.seat_names))
    env.close()
    return trace


@pytest.mark.parametrize("name", GAMES)
def test_same_seed_same_episodes(name: str) -> None:
    assert rollout(name, 21, 30) == rollout(name, 21, 30)


@pytest.mark.parametrize("name", ["kuhn_poker", "leduc_poker", "simple_tag", "leduc_holdem_pz", "markov_soccer"])
def test_seed_changes_chance(name: str) -> None:
    assert rollout(name, 1, 30) != rollout(name, 2, 30)


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
