"""The vectorised simple_tag (games/mpe_tag.py) plays the same game as mpe2's engine."""

import numpy as np
import pytest

import games


def play_both(ref: str, vectorised_ref: str, steps: int, n: int = 16, seed: int = 3):
    """Step mpe2's engine and the numpy one side by side on the same seeds and random actions;
    yield both StepResults and both envs after every step."""
    slow, fast = games.load(ref).make(n, seed=seed), games.load(vectorised_ref).make(n, seed=seed)
    rng = np.random.default_rng(seed)
    yield None, None, slow, fast
    for _ in range(steps):
        actions = {}
        for seat in slow.spec.seats:
            if seat.discrete:
                actions[seat.name] = rng.integers(0, seat.n_actions, n)
            else:
                actions[seat.name] = rng.random((n, *seat.action.shape)).astype(np.float32)
        yield slow.step(actions), fast.step(actions), slow, fast


@pytest.mark.parametrize("options", ["", "continuous=True, "])
def test_same_observations_rewards_states_and_episode_ends_as_mpe2(options):
    tags = 0.0
    for a, b, slow, fast in play_both(f"simple_tag({options}max_cycles=10)", f"simple_tag({options}max_cycles=10, vectorised=True)", 50):
        for seat in slow.spec.seat_names:
            np.testing.assert_allclose(fast.obs[seat], slow.obs[seat], atol=1e-5)
        np.testing.assert_allclose(fast.state, slow.state, atol=1e-5)
        np.testing.assert_array_equal(fast.episode_seed, slow.episode_seed)
        if a is None:
            continue
        for seat in slow.spec.seat_names:
            np.testing.assert_allclose(b.reward[seat], a.reward[seat], atol=1e-4)
            np.testing.assert_allclose(b.final_obs[seat], a.final_obs[seat], atol=1e-5)
            np.testing.assert_allclose(b.episode_return[seat], a.episode_return[seat], atol=1e-3)
        np.testing.assert_array_equal(b.truncated, a.truncated)
        np.testing.assert_array_equal(b.terminated, a.terminated)
        np.testing.assert_array_equal(b.finished, a.finished)
        np.testing.assert_allclose(b.final_state, a.final_state, atol=1e-5)
        tags += float(a.reward["adversary_0"].sum())
    assert tags > 0  # the comparison covered contacts, not only free flight


def test_same_spec_as_mpe2_and_an_own_ref():
    slow, fast = games.load("simple_tag"), games.load("simple_tag(vectorised=True)")
    assert fast.spec == slow.spec
    assert fast.ref == "simple_tag(vectorised=True)"


@pytest.mark.parametrize("ref", ["simple_tag(vectorised=True)", "simple_tag(vectorised=True, continuous=True)"])
def test_vectorised_engine_honours_the_vecenv_contract(ref):
    from games.check import check_game

    assert check_game(ref) == []
