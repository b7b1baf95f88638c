"""MADDPG: it learns continuous simple_adversary, joins a side's seats per step, resumes exactly."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

import games
from agents.base import LearnerError, StepBatch
from agents.baselines import RandomPolicy
from agents.checkpoint import pack, unpack
from agents.maddpg import MADDPG
from agents.nets import gumbel_softmax_st
from agents.registry import load_policy, make_learner
from league.play.runner import Entrant, play
from league.train.selfplay import train

FAST = {"learning_starts": 2000, "replay_ratio": 256 / 50, "batch_size": 256}


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def good_return(game, policy) -> float:
    """Mean return of the good side (two agents) against a uniform random adversary."""
    records = play(game, (Entrant("random", RandomPolicy(game.spec)), Entrant("maddpg", policy)), 64, seed=777, batch=64)
    return float(np.mean([r.returns[1] for r in records]))


def test_good_agents_improve_against_a_random_adversary_in_continuous_simple_adversary() -> None:
    game = games.load("simple_adversary(continuous=True)")
    learner = MADDPG(game.spec, "good", config=FAST, seed=0)
    untrained = good_return(game, learner.frozen_policy())
    # 24,000 game steps: the 48,000 per-seat transitions of the two good agents that this test always used
    train(game, learner, env_steps=24_000, opponents=[Entrant("random", RandomPolicy(game.spec))], batch=32, seed=0)
    assert learner.updates > 100
    trained = good_return(game, learner.frozen_policy())
    assert trained > untrained + 5.0, (untrained, trained)


def test_side_transitions_are_joined_per_step_with_each_seat_reward() -> None:
    game = games.load("simple_adversary(continuous=True)")
    learner = MADDPG(game.spec, "good", config={**FAST, "learning_starts": 10**9}, seed=0)
    steps: list[StepBatch] = []
    train(game, learner, env_steps=2 * 4 * 25, opponents=[Entrant("random", RandomPolicy(game.spec))], batch=4, seed=0,
          on_step=steps.append)
    replay = learner.replays[0]
    assert len(replay) == sum(int(b.rows_of("learner", "agent_0").sum()) for b in steps)  # one joint row per copy and step
    assert learner.env_steps == len(replay) >= 2 * 4 * 25  # env steps: copy-steps in which the side moved
    assert learner.env_steps % (4 * 25) == 0  # whole 25-step episodes in 4 copies
    data = {k: v.numpy() for k, v in replay.data.items()}
    rewards = data["reward_0"][:4], data["reward_1"][:4]
    assert np.allclose(rewards[0], steps[0].result.reward["agent_0"])
    assert np.allclose(rewards[1], steps[0].result.reward["agent_1"])
    assert np.allclose(data["action_1"][:4], steps[0].actions["agent_1"])
    assert data["truncated"].sum() == len(replay) // 25 and not data["terminated"].any()


def test_actions_respect_their_spaces() -> None:
    continuous = games.load("simple_adversary(continuous=True)").spec
    policy = MADDPG(continuous, "good", seed=1).policy()
    obs = np.random.default_rng(0).normal(size=(50, 10)).astype(np.float32) * 10
    for explore in (False, True):
        actions = policy.act(obs, np.zeros((50, 0), bool), seat="agent_0", keys=np.arange(50), explore=explore)
        assert actions.shape == (50, 5) and actions.min() >= 0.0 and actions.max() <= 1.0
    again = policy.act(obs, np.zeros((50, 0), bool), seat="agent_0", keys=np.arange(50), explore=True)
    assert np.array_equal(actions, again)  # exploration noise is a function of the keys alone

    soccer = games.load("markov_soccer").spec  # simultaneous moves with legal-action masks
    policy = MADDPG(soccer, "player", seed=1).policy()
    mask = np.zeros((40, 5), bool)
    mask[:, [0, 3]] = True
    obs = np.random.default_rng(1).random((40, 6, 4, 5)).astype(np.float32)
    for explore in (False, True):
        actions = policy.act(obs, mask, seat="player_1", keys=np.arange(40), explore=explore)
        assert mask[np.arange(40), actions].all()

    logits = torch.zeros(6, 5, requires_grad=True)
    legal = torch.tensor([[False, True, True, False, False]] * 6)
    sample = gumbel_softmax_st(logits, legal, torch.Generator().manual_seed(0))
    assert torch.equal(sample.sum(1), torch.ones(6)) and (sample[~legal] == 0).all()
    (sample * torch.arange(5.0)).sum().backward()  # straight-through: the soft sample's gradient flows
    assert logits.grad.abs().sum() > 0


def _params(learner) -> dict[str, torch.Tensor]:
    out = {}
    for name in ("actors", "critics", "target_actors", "target_critics"):
        out.update({f"{name}.{k}": v.clone() for k, v in getattr(learner, name).state_dict().items()})
    return out


def _round_trip(learner, fresh):
    blob, manifest = pack(*learner.state_dict())
    fresh.load_state_dict(*unpack(blob, manifest))
    return fresh


def test_resume_is_exact_between_and_within_training_runs() -> None:
    game = games.load("simple_adversary")
    config = {"learning_starts": 300, "replay_ratio": 64 / 20, "batch_size": 64, "hidden": (32, 32)}
    random = Entrant("random", RandomPolicy(game.spec))
    a = MADDPG(game.spec, "good", config=config, seed=4)
    train(game, a, env_steps=1200, opponents=[random], batch=8, seed=1)
    assert a.updates > 0
    b = _round_trip(a, MADDPG(game.spec, "good", config=config, seed=11))
    for learner in (a, b):
        train(game, learner, env_steps=800, opponents=[random], batch=8, seed=2)
    pa, pb = _params(a), _params(b)
    assert all(torch.equal(pa[k], pb[k]) for k in pa) and a.updates == b.updates

    # mid-episode: save with moves open, then feed both the same recorded runner steps
    recorder = _round_trip(a, MADDPG(game.spec, "good", config=config, seed=0))
    steps: list[StepBatch] = []
    train(game, recorder, env_steps=800, opponents=[random], batch=8, seed=3, on_step=steps.append, name="recorder")
    x = _round_trip(a, MADDPG(game.spec, "good", config=config, seed=1))
    _feed(x, steps[:13], "recorder")
    y = _round_trip(x, MADDPG(game.spec, "good", config=config, seed=2))
    _feed(x, steps[13:], "recorder")
    _feed(y, steps[13:], "recorder")
    px, py, pr = _params(x), _params(y), _params(recorder)
    assert x.updates > a.updates
    assert all(torch.equal(px[k], py[k]) and torch.equal(px[k], pr[k]) for k in px)


def _feed(learner, batches, player: str) -> None:
    for batch in batches:
        learner.observe(batch, player)
        learner.update()


def test_policy_snapshot_round_trips_through_the_registry() -> None:
    spec = games.load("simple_tag").spec
    learner = make_learner("maddpg", spec, "predator", config={"hidden": (16,)}, seed=2)
    policy = load_policy(spec, *unpack(*pack(*learner.policy_state())))
    obs = np.random.default_rng(1).random((8, 16)).astype(np.float32)
    mask = np.ones((8, 5), bool)
    for seat in ("adversary_0", "adversary_2"):
        assert np.array_equal(policy.act(obs, mask, seat=seat, keys=np.arange(8)),
                              learner.policy().act(obs, mask, seat=seat, keys=np.arange(8)))


def test_bad_configuration_is_refused_in_one_sentence() -> None:
    discrete = games.load("simple_adversary").spec
    continuous = games.load("simple_adversary(continuous=True)").spec
    with pytest.raises(LearnerError, match=r"maddpg is configured for continuous actions \(continuous=True\), but seat "
                                           r"'agent_0' of simple_adversary has discrete actions"):
        MADDPG(discrete, "good", config={"continuous": True})
    with pytest.raises(LearnerError, match="maddpg is configured for discrete actions"):
        MADDPG(continuous, "good", config={"continuous": False})
    with pytest.raises(LearnerError, match="maddpg has no setting 'tua'; the closest valid setting is 'tau'"):
        MADDPG(discrete, "good", config={"tua": 0.1})
    with pytest.raises(LearnerError, match="maddpg: critic_input='state' needs the game's global state"):
        MADDPG(dataclasses.replace(discrete, state_shape=(0,)), "good", config={"critic_input": "state"})
    with pytest.raises(LearnerError, match=r"^maddpg setting 'critic_input' must be one of 'obs', 'state', got 'obs\+state'\.$"):
        MADDPG(discrete, "good", config={"critic_input": "obs+state"})
    with pytest.raises(LearnerError, match=r"^maddpg setting 'tau' must be in \[0, 1\], got 2\.0\.$"):
        MADDPG(discrete, "good", config={"tau": 2})
    with pytest.raises(LearnerError, match="maddpg cannot learn role 'player' of connect_four: .*turn-based"):
        make_learner("maddpg", games.load("connect_four").spec, "player")
    assert MADDPG(discrete, "good", config={"critic_input": "state"}).needs_state


def test_nan_loss_raises_and_keeps_the_last_good_weights() -> None:
    game = games.load("simple_adversary")
    learner = MADDPG(game.spec, "good", config={"learning_starts": 100, "replay_ratio": 0.01, "batch_size": 32}, seed=0)
    train(game, learner, env_steps=400, opponents=[Entrant("random", RandomPolicy(game.spec))], batch=4, seed=0)
    assert learner.updates == 1  # the first step at learning_starts, none due since
    before = _params(learner)
    learner.replays[0].data["reward_1"][:] = np.nan
    learner.config.replay_ratio = 10.0  # now steps are due
    message = r"maddpg \(critic of seat 'agent_1', env step \d+\) stopped: the loss became nan at update \d+"
    with pytest.raises(LearnerError, match=message):
        learner.update()
    after = _params(learner)
    assert all(torch.equal(before[k], after[k]) for k in before)
