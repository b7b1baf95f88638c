"""The VMAS backend (games/vmas.py): reproducibility, actions, football, the runner, bad input.

The conformance test (tests/test_games_conformance.py) covers every registered VMAS game too.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch

import games
from agents.baselines import RandomPolicy, ScriptedPolicy
from games.base import GameError
from games.vmas import MOVES, VmasGame
from league.play.runner import Entrant, play

VMAS_GAMES = [e.name for e in games.entries() if e.backend == "vmas"]


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny networks: a second thread only adds overhead on a busy 2-core machine
    yield
    torch.set_num_threads(threads)


def random_actions(spec: games.GameSpec, n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    out = {}
    for seat in spec.seats:
        if seat.discrete:
            out[seat.name] = rng.integers(0, seat.n_actions, n)
        else:
            out[seat.name] = rng.uniform(seat.action.low, seat.action.high, (n, *seat.action.shape)).astype(np.float32)
    return out


def trace(name: str, n: int, seed: int, steps: int) -> list:
    """Everything a seeded batch shows over `steps` random joint actions (resets included)."""
    game = games.load(name)
    env = game.make(n, seed=seed)
    rng = np.random.default_rng(seed)
    out = [np.concatenate([env.obs[s] for s in game.spec.seat_names], 1).tolist()]
    for _ in range(steps):
        result = env.step(random_actions(game.spec, n, rng))
        out.append((np.stack([result.reward[s] for s in game.spec.seat_names]).tolist(), result.finished.tolist(),
                    result.terminated.tolist(), env.state.tolist(), env.episode_seed.tolist(),
                    {s: r.tolist() for s, r in result.episode_return.items()}))
    return out


@pytest.mark.parametrize("name", ["simple_tag_vmas", "simple_adversary_vmas", "football"])
def test_a_seeded_batch_is_reproducible(name: str) -> None:
    # 30 steps cross the 25-step resets of the particle worlds
    assert trace(name, 16, 7, 30) == trace(name, 16, 7, 30)
    assert trace(name, 16, 7, 3) != trace(name, 16, 8, 3)


@pytest.mark.parametrize("name", ["simple_tag_vmas", "simple_world_comm_vmas", "football", "vmas"])
def test_an_episode_depends_on_its_seed_not_on_its_batch(name: str) -> None:
    game = games.load(name)
    rng = np.random.default_rng(1)
    moves = [random_actions(game.spec, 8, rng) for _ in range(12)]
    big, one = game.make(8, seed=0), game.make(1, seed=99)
    big.reset(seeds=np.arange(500, 508))
    one.reset(seeds=[505])
    for joint in moves:
        for seat in game.spec.seat_names:
            assert np.array_equal(big.obs[seat][5], one.obs[seat][0])
        a, b = big.step(joint), one.step({s: v[5:6] for s, v in joint.items()})
        for seat in game.spec.seat_names:
            assert a.reward[seat][5] == b.reward[seat][0]


def test_discrete_moves_follow_mpe2_and_continuous_is_mpe2s_box() -> None:
    assert MOVES[:5].tolist() == [[0, 0], [-1, 0], [1, 0], [0, -1], [0, 1]]  # noop, left, right, down, up
    game = games.load("simple_spread_vmas")
    env = game.make(2, seed=0)
    env.step({s: np.array([2, 4]) for s in game.spec.seat_names})  # right in copy 0, up in copy 1
    vel = env.obs["agent_0"][:, 2:4]  # simple_spread: pos | vel | ...
    assert vel[0, 0] > 0 and abs(vel[0, 1]) < 1e-6 and vel[1, 1] > 0 and abs(vel[1, 0]) < 1e-6
    spec = games.load("simple_spread_vmas(continuous=True)").spec
    assert spec.seat("agent_0").action == games.Box((5,), 0.0, 1.0)
    leader = games.load("simple_world_comm_vmas(continuous=True)").spec.seat("lead_adversary_0")
    assert leader.action == games.Box((9,), 0.0, 1.0)  # 5 move entries + 4 words, as mpe2
    assert games.load("simple_world_comm_vmas").spec.seat("lead_adversary_0").action == games.Discrete(36)


def test_the_adversary_cannot_find_the_goal_by_its_slot() -> None:
    env = games.load("simple_adversary_vmas").make(400, seed=2)
    goal = env.obs["agent_0"][:, 0:2]  # good agents: goal | landmarks 2*2 | others
    landmarks = env.obs["agent_0"][:, 2:6].reshape(-1, 2, 2)
    slot = np.abs(landmarks - goal[:, None]).sum(2).argmin(1)
    assert 0.4 < slot.mean() < 0.6  # VMAS alone would always put it in the same slot


def test_a_football_goal_terminates_and_wins() -> None:
    game = games.load("football")
    env = game.make(2, seed=0)
    env.env.scenario.ball.state.pos[0] = torch.tensor([1.6, 0.0])  # over blue's target line, inside the goal
    result = env.step({s: np.zeros(2, np.int64) for s in game.spec.seat_names})
    assert result.terminated.tolist() == [True, False] and not result.truncated.any()
    assert result.reward["agent_blue_0"][0] > 90 and result.reward["agent_red_0"][0] < -90
    returns = game.spec.side_returns({s: r[0] for s, r in result.episode_return.items()})
    assert game.spec.outcome(returns) == (0, 1)
    assert env.ply[0] == 0 and env.episodes[0] == 2  # copy 0 already plays its next episode


def test_football_reset_matches_vmas_shaping() -> None:
    env = games.load("football").make(4, seed=3)
    scenario = env.env.scenario
    ours = [scenario.ball.pos_shaping_blue.clone(), scenario.ball.pos_shaping_agent_red.clone()]
    for i in range(4):
        scenario.reset_ball(i)  # VMAS's own code, from the positions we drew
    assert torch.allclose(ours[0], scenario.ball.pos_shaping_blue)
    assert torch.allclose(ours[1], scenario.ball.pos_shaping_agent_red)
    blue_x = torch.stack([a.state.pos[:, 0] for a in scenario.blue_agents])
    red_x = torch.stack([a.state.pos[:, 0] for a in scenario.red_agents])
    assert (blue_x <= 0).all() and (red_x >= -0.03).all()  # each team spawns in its own half


def test_torch_threads_are_restored() -> None:
    torch.set_num_threads(2)
    game = games.load("simple_tag_vmas")
    env = game.make(2, seed=0)
    env.step(random_actions(game.spec, 2, np.random.default_rng(0)))
    assert torch.get_num_threads() == 2 and env.threads == 1


# -- the runner plays them -------------------------------------------------------------------

def test_scripted_predators_tag_more_than_random_ones() -> None:
    game = games.load("simple_tag_vmas")
    prey = Entrant("prey", RandomPolicy(game.spec))
    tags = {}
    for name, policy in (("scripted", ScriptedPolicy(game.spec)), ("random", RandomPolicy(game.spec))):
        records = play(game, (Entrant(name, policy), prey), 32, seed=3)
        assert all(r.length == 25 and r.truncated for r in records)
        tags[name] = np.mean([dict(r.seat_returns)["adversary_0"] for r in records])
    assert tags["scripted"] > tags["random"]


def test_scripted_football_beats_random_on_both_sides() -> None:
    game = games.load("football")
    scripted, rand = Entrant("scripted", ScriptedPolicy(game.spec)), Entrant("random", RandomPolicy(game.spec))
    records = play(game, (scripted, rand), 4, seed=1)
    assert {r.sides for r in records} == {("scripted", "random"), ("random", "scripted")}  # symmetric: sides swap
    assert all(r.ranks[r.sides.index("scripted")] == 0 and r.ranks[r.sides.index("random")] == 1 for r in records)


def test_scripted_spreaders_and_continuous_actions_play() -> None:
    for ref in ("simple_spread_vmas", "simple_spread_vmas(continuous=True)"):
        game = games.load(ref)
        scripted = play(game, (Entrant("s", ScriptedPolicy(game.spec)),), 8, seed=0)
        rand = play(game, (Entrant("r", RandomPolicy(game.spec)),), 8, seed=0)
        assert np.mean([r.returns[0] for r in scripted]) > np.mean([r.returns[0] for r in rand])


def test_a_learner_trains_on_a_vmas_game() -> None:
    from agents.mappo import MAPPO
    from league.train.selfplay import train

    game = games.load("simple_tag_vmas")
    learner = MAPPO(game.spec, "prey", config={"rollout_steps": 8, "epochs": 1}, seed=0)
    before, _ = learner.policy_state()
    before = {k: np.array(v, copy=True) for k, v in before.items()}
    log = train(game, learner, env_steps=300, opponents=[Entrant("chasers", ScriptedPolicy(game.spec))], batch=16)
    after, _ = learner.policy_state()
    assert learner.env_steps >= 300 and learner.updates >= 1 and log.games >= 8
    # the updates reached the weights, with finite losses: the VMAS steps fed a real gradient
    assert any(not np.allclose(before[k], np.asarray(after[k])) for k in before)
    assert log.metrics and all(np.isfinite(v) for v in log.metrics.values())


# -- bad input ---------------------------------------------------------------------------------

def test_an_unknown_scenario_lists_the_valid_ones() -> None:
    with pytest.raises(GameError, match=r"unknown VMAS scenario 'footbal' \(did you mean 'football'\?\); "
                                        r"valid scenarios: .*balance.*simple_tag.*transport"):
        games.load("vmas(scenario='footbal')")


def test_missing_vmas_is_one_clear_sentence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "vmas", None)  # `import vmas` now raises ImportError
    with pytest.raises(GameError) as error:
        games.load("simple_tag_vmas(max_steps=26)")  # a ref no earlier test cached
    message = str(error.value)
    assert message == "VMAS games need the vmas package, which is not installed: pip install vmas"
    with pytest.raises(GameError, match="need the vmas package"):
        VmasGame("x", "football", kind="competitive")


def test_vmas_games_are_registered_with_their_backend() -> None:
    assert set(VMAS_GAMES) == {"simple_tag_vmas", "simple_adversary_vmas", "simple_spread_vmas",
                               "simple_world_comm_vmas", "football", "vmas"}
    for name in VMAS_GAMES:
        spec = games.load(name).spec
        assert spec.backend == "vmas" and spec.description and spec.source.startswith("vmas.")
    assert games.load("football").spec.symmetric and games.load("football(players=2)").spec.state_shape == (4 * 40,)
