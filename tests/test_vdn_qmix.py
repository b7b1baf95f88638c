"""VDN and QMIX: they learn simple_spread as a team, QMIX's mixer is monotonic, team
transitions carry the team reward, resume is exact, and bad input is one clear sentence."""

from __future__ import annotations

import copy
import dataclasses
import warnings

import numpy as np
import pytest
import torch

import games
from agents.base import LearnerError
from agents.baselines import RandomPolicy
from agents.checkpoint import pack, unpack
from agents.qmix import QMIX, QMixer
from agents.registry import load_policy, make_learner
from agents.vdn import VDN
from league.play.runner import Entrant, play
from league.train.selfplay import evaluate, train


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny networks: threads only add overhead on 2 cores
    yield
    torch.set_num_threads(threads)


def recorded_steps(game, policy, n_games: int, seed: int) -> list:
    steps = []
    play(game, (Entrant("me", policy, explore=True),), n_games, seed=seed, batch=4, with_state=True,
         on_step=lambda b: steps.append(dataclasses.replace(b, result=copy.deepcopy(b.result))))
    return steps


@pytest.mark.parametrize("algorithm", ["vdn", "qmix"])
def test_team_learns_simple_spread_better_than_a_random_team(algorithm: str) -> None:
    game = games.load("simple_spread")
    learner = make_learner(algorithm, game.spec, "spreader", config={"epsilon_steps": 10_000}, seed=0)
    random_team = evaluate(game, Entrant("random", RandomPolicy(game.spec)), None, 64)
    untrained = evaluate(game, Entrant("me", learner.frozen_policy()), None, 64)
    train(game, learner, env_steps=20_000, batch=16, seed=1)
    trained = evaluate(game, Entrant("me", learner.frozen_policy()), None, 64)
    # random is about -80 here, the scripted nearest-landmark team about -56
    assert trained > random_team + 5.0, (random_team, untrained, trained)
    assert trained > untrained + 5.0, (random_team, untrained, trained)


def test_qmix_mixer_is_monotonic_in_every_seat() -> None:
    gen = torch.Generator().manual_seed(0)
    for layers in (1, 2):
        mixer = QMixer(n_agents=3, state_dim=54, embed=32, hypernet_layers=layers)
        for p in mixer.parameters():  # far from the init: weights of either sign, large
            p.data = torch.randn(p.shape, generator=gen) * 3.0
        q = (torch.randn(4096, 3, generator=gen) * 20).requires_grad_(True)
        state = torch.randn(4096, 54, generator=gen) * 5
        (grad,) = torch.autograd.grad(mixer(q, state).sum(), q)
        assert (grad >= 0).all()
        assert (grad > 0).float().mean() > 0.5  # not monotonic by being flat


def test_qmix_learner_mixes_with_the_global_state_and_vdn_sums() -> None:
    spec = games.load("simple_spread").spec
    qmix, vdn = QMIX(spec, "spreader", seed=0), VDN(spec, "spreader", seed=0)
    assert qmix.needs_state and not vdn.needs_state
    q, s = torch.randn(5, 3), torch.randn(5, 54)
    assert torch.allclose(vdn.mix(None, q, None), q.sum(1))
    assert not torch.allclose(qmix.mix(qmix.mixer, q, s), qmix.mix(qmix.mixer, q, torch.randn(5, 54)))
    assert qmix.mixer.embed == 32 and isinstance(qmix.mixer.value[0], torch.nn.Linear)


def test_team_transitions_carry_the_team_reward_and_every_seat() -> None:
    game = games.load("simple_spread")
    learner = QMIX(game.spec, "spreader", config={"learning_starts": 10**9}, seed=0)
    steps = recorded_steps(game, learner.policy(), n_games=2, seed=3)
    for batch in steps[:5]:
        learner.observe(batch, "me")
    data = {k: v.numpy() for k, v in learner.buffer.data.items()}
    assert len(learner.buffer) == 4 * 2  # 2 copies in lockstep
    first = steps[0].result.reward
    team = sum(first[s] for s in game.spec.seat_names)  # (n,) step 0's team reward per copy
    assert np.allclose(np.sort(data["reward"][:2]), np.sort(team))
    assert data["state"].shape[1:] == game.spec.state_shape
    for k, seat in enumerate(game.spec.sides[0].seats):
        assert np.array_equal(np.sort(data[f"action_{k}"][:2]), np.sort(steps[0].actions[seat]))
    assert learner.env_steps == 5 * 2


@pytest.mark.parametrize("cls", [VDN, QMIX])
def test_team_learner_resumes_exactly_mid_episode(cls) -> None:
    game = games.load("simple_spread")
    config = {"learning_starts": 60, "batch_size": 32, "replay_ratio": 16.0, "target_update": 0.05}
    a = cls(game.spec, "spreader", config=config, seed=5)
    train(game, a, env_steps=150, batch=4, seed=4)
    steps = recorded_steps(game, a.policy(), n_games=4, seed=6)
    for batch in steps[:12]:  # stop mid-episode
        a.observe(batch, "me")
        a.update()
    blob, manifest = pack(*a.state_dict())
    b = cls(game.spec, "spreader", config=config, seed=77)
    b.load_state_dict(*unpack(blob, manifest))
    for batch in steps[12:]:
        a.observe(batch, "me")
        a.update()
        b.observe(batch, "me")
        b.update()
    assert a.updates == b.updates > 0 and a.env_steps == b.env_steps
    ta, tb = a.state_dict()[0], b.state_dict()[0]
    assert ta.keys() == tb.keys()
    for name in ta:
        assert np.array_equal(np.asarray(ta[name]), np.asarray(tb[name])), name
    # the snapshot of the team policy rebuilds and plays every seat the same
    snapshot = load_policy(game.spec, *unpack(*pack(*b.policy_state())))
    obs = np.random.default_rng(0).normal(size=(6, 18)).astype(np.float32)
    for seat in game.spec.seat_names:
        kw = dict(seat=seat, keys=np.arange(6))
        assert np.array_equal(snapshot.act(obs, np.ones((6, 5), bool), **kw), a.frozen_policy().act(obs, np.ones((6, 5), bool), **kw))


def test_bad_team_configuration_is_one_clear_sentence() -> None:
    spread = games.load("simple_spread").spec
    with pytest.raises(LearnerError, match=r"qmix has no setting 'mixing_embed'; the closest valid setting is 'mixing_embed_dim'\."):
        QMIX(spread, "spreader", config={"mixing_embed": 64})
    with pytest.raises(LearnerError, match=r"vdn has no setting 'mixing_embed_dim'"):
        VDN(spread, "spreader", config={"mixing_embed_dim": 64})  # VDN has no mixer
    with pytest.raises(LearnerError, match=r"^qmix setting 'hypernet_layers' must be one of 1, 2, got 3\.$"):
        QMIX(spread, "spreader", config={"hypernet_layers": 3})
    continuous = games.load("simple_spread(continuous=True)").spec
    for name in ("vdn", "qmix"):
        with pytest.raises(LearnerError, match=rf"{name} cannot learn role 'spreader'.*needs discrete actions"):
            make_learner(name, continuous, "spreader")
    tag = games.load("simple_tag").spec
    with pytest.warns(UserWarning, match="a side of one seat has nothing to decompose"):
        QMIX(tag, "prey")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert QMIX(tag, "predator").seats == ("adversary_0", "adversary_1", "adversary_2")
    with pytest.warns(UserWarning, match="side of one seat"):
        VDN(games.load("tic_tac_toe").spec, "player")
