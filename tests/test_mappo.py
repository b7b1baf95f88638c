"""MAPPO: it learns connect four by self-play, masks illegal moves, computes GAE per chain, resumes exactly."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

import games
from agents.base import LearnerError, StepBatch
from agents.baselines import RandomPolicy
from agents.buffers import gae
from agents.checkpoint import pack, unpack
from agents.mappo import MAPPO, MAPPOConfig
from agents.nets import masked_entropy
from agents.registry import load_policy, make_learner
from league.play.runner import Entrant
from league.train.selfplay import evaluate, train


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_self_play_beats_uniform_random_at_connect_four() -> None:
    game = games.load("connect_four")
    learner = MAPPO(game.spec, "player", seed=0)
    random = Entrant("random", RandomPolicy(game.spec))
    untrained = evaluate(game, Entrant("mappo", learner.frozen_policy()), random, 100)
    log = train(game, learner, env_steps=120_000, self_play=True, batch=64, seed=0)
    assert learner.updates > 0 and log.metrics["entropy"] < np.log(7)
    trained = evaluate(game, Entrant("mappo", learner.frozen_policy()), random, 100)
    assert trained >= 0.8, (untrained, trained)
    assert trained > untrained


def test_masked_logits_give_illegal_actions_zero_probability() -> None:
    spec = games.load("connect_four").spec
    learner = MAPPO(spec, "player", seed=3)
    with torch.no_grad():  # make the actor prefer the illegal columns strongly
        learner.actor.head[-1].bias.copy_(torch.tensor([9.0, 0.0, 9.0, 0.0, 0.0, 9.0, 0.0]))
    policy = learner.policy()
    mask = np.zeros((64, 7), bool)
    mask[:, [1, 3]] = True
    mask[::2, 6] = True
    obs = np.random.default_rng(0).random((64, 3, 6, 7)).astype(np.float32)
    probs = policy.probabilities(obs, mask, seat="player_1")
    assert (probs[~mask] == 0).all() and np.allclose(probs.sum(1), 1.0)
    for explore in (True, False):
        actions = policy.act(obs, mask, seat="player_0", keys=np.arange(64), explore=explore)
        assert mask[np.arange(64), actions].all()
    # the entropy counts legal actions only: uniform over 2 legal actions is log 2
    log_probs = torch.log(torch.tensor([[0.5, 0.5, 0.0]])).clamp(min=torch.finfo(torch.float32).min)
    assert masked_entropy(log_probs, torch.tensor([[True, True, False]])).item() == pytest.approx(np.log(2))
    x = torch.from_numpy(obs).reshape(64, -1)
    ids = torch.zeros(64, dtype=torch.long)
    entropy = masked_entropy(policy.log_probs(x, ids, torch.from_numpy(mask)), torch.from_numpy(mask))
    assert torch.isfinite(entropy).all() and (entropy <= np.log(3) + 1e-6).all()


def test_gae_matches_a_hand_computed_truncated_and_terminated_episode() -> None:
    gamma, lam = 0.9, 0.8
    # one chain (copy 0, seat 0): episode 1 = steps 0, 1 (cut by the time limit at step 1),
    # episode 2 = step 2 (lost: terminated). A second chain (copy 1) is interleaved.
    reward = np.array([0.5, 1.0, -1.0, 7.0])
    value = np.array([1.0, 2.0, 0.5, 0.0])
    next_value = np.array([2.0, 3.0, 9.0, 1.0])  # 3.0: V(final state) bootstraps the truncation; 9.0 unused
    terminated = np.array([False, False, True, False])
    truncated = np.array([False, True, False, False])
    chain = np.array([0, 0, 0, 1])
    step = np.array([0, 1, 2, 0])
    # by hand: delta = r + gamma * V' * (1 - terminated) - V
    delta2 = -1.0 - 0.5  # terminated: no bootstrap
    delta1 = 1.0 + 0.9 * 3.0 - 2.0  # truncated: bootstrap from the final state, then stop
    delta0 = 0.5 + 0.9 * 2.0 - 1.0
    delta3 = 7.0 + 0.9 * 1.0 - 0.0  # the other chain's only row: its successor is not here yet
    expected = np.array([delta0 + gamma * lam * delta1, delta1, delta2, delta3])
    order = np.array([2, 3, 0, 1])  # rows arrive in any order
    adv, ret = gae(reward[order], value[order], next_value[order], terminated[order], truncated[order],
                   chain[order], step[order], gamma=gamma, lam=lam)
    assert np.allclose(adv, expected[order])
    assert np.allclose(ret, expected[order] + value[order])
    assert np.allclose(expected, [2.524, 1.7, -1.5, 7.9])


def _params(learner) -> dict[str, torch.Tensor]:
    out = {f"actor.{k}": v.clone() for k, v in learner.actor.state_dict().items()}
    out.update({f"critic.{k}": v.clone() for k, v in learner.critic.state_dict().items()})
    return out


def _round_trip(learner, fresh):
    blob, manifest = pack(*learner.state_dict())
    fresh.load_state_dict(*unpack(blob, manifest))
    return fresh


def test_resume_is_exact_between_and_within_training_runs() -> None:
    game = games.load("tic_tac_toe")
    config = {"hidden": (32,), "rollout_steps": 6}
    a = MAPPO(game.spec, "player", config=config, seed=5)
    train(game, a, env_steps=1500, self_play=True, batch=16, seed=1)
    assert a.updates > 0 and len(a.storage) > 0  # a rollout is half gathered
    b = _round_trip(a, MAPPO(game.spec, "player", config=config, seed=99))
    for learner in (a, b):
        train(game, learner, env_steps=1500, self_play=True, batch=16, seed=2)
    pa, pb = _params(a), _params(b)
    assert all(torch.equal(pa[k], pb[k]) for k in pa)
    assert (a.env_steps, a.updates) == (b.env_steps, b.updates)

    # mid-game: save while moves are open, then feed both the same runner steps
    recorder = _round_trip(a, MAPPO(game.spec, "player", config=config, seed=0))
    steps: list[StepBatch] = []
    random = Entrant("random", RandomPolicy(game.spec))
    train(game, recorder, env_steps=800, opponents=[random], self_play=True, batch=16, seed=3, on_step=steps.append,
          name="recorder")
    x = _round_trip(a, MAPPO(game.spec, "player", config=config, seed=1))
    _feed(x, steps[:17], "recorder")
    y = _round_trip(x, MAPPO(game.spec, "player", config=config, seed=2))
    assert any(open_.any() for open_ in y.builder.open.values())  # moves are open at the save
    _feed(x, steps[17:], "recorder")
    _feed(y, steps[17:], "recorder")
    px, py = _params(x), _params(y)
    assert x.updates > a.updates and all(torch.equal(px[k], py[k]) for k in px)
    pr = _params(recorder)  # and the recorder, which learnt while playing, agrees with both
    assert all(torch.equal(px[k], pr[k]) for k in px)


def _feed(learner, batches, player: str) -> None:
    """Replay recorded runner steps into `learner`, as the moves of the entrant `player`."""
    for batch in batches:
        learner.observe(batch, player)
        learner.update()


def test_policy_snapshot_round_trips_through_the_registry() -> None:
    spec = games.load("connect_four").spec
    learner = make_learner("mappo", spec, "player", config={"hidden": (16,)}, seed=2)
    tensors, meta = learner.policy_state()
    blob, manifest = pack(tensors, meta)
    policy = load_policy(spec, *unpack(blob, manifest))
    obs = np.random.default_rng(1).random((8, 3, 6, 7)).astype(np.float32)
    mask = np.ones((8, 7), bool)
    assert np.array_equal(policy.probabilities(obs, mask, seat="player_0"),
                          learner.policy().probabilities(obs, mask, seat="player_0"))
    assert policy.greedy  # connect four has perfect information: greedy when not exploring
    assert not MAPPO(games.load("kuhn_poker").spec, "player").policy().greedy  # poker: sample


def test_bad_configuration_is_refused_in_one_sentence() -> None:
    spec = games.load("connect_four").spec
    with pytest.raises(LearnerError, match="mappo has no setting 'entropy'; the closest valid setting is 'entropy_coef'"):
        MAPPO(spec, "player", config={"entropy": 0.1})
    with pytest.raises(LearnerError, match=r"^mappo setting 'epochs' must be positive, got 0\.$"):
        MAPPO(spec, "player", config={"epochs": 0})
    with pytest.raises(LearnerError, match=r"^mappo setting 'greedy' must be true or false or none, got 'yes'\.$"):
        MAPPO(spec, "player", config={"greedy": "yes"})
    with pytest.raises(LearnerError, match=r"^mappo setting 'conv' must be a list of integers, got \[3\.5\]\.$"):
        MAPPO(spec, "player", config={"conv": [3.5]})
    with pytest.raises(LearnerError, match="mappo cannot learn .* continuous"):
        make_learner("mappo", games.load("simple_adversary(continuous=True)").spec, "good")
    stateless = dataclasses.replace(spec, state_shape=(0,))
    with pytest.raises(LearnerError, match="mappo cannot learn .*global state"):
        MAPPO(stateless, "player")
    with pytest.raises(LearnerError, match=r"mappo policies explore by nothing but their own distribution"):
        MAPPO.policy_from_state(spec, *MAPPO(spec, "player").policy_state(), exploration={"epsilon": 0.1})
    small = MAPPO(spec, "player", config={"hidden": (8,)})
    with pytest.raises(LearnerError, match=r"the checkpoint's networks have hidden=\(64, 64\), this mappo learner's \(8,\)"):
        small.load_state_dict(*MAPPO(spec, "player").state_dict())


def test_every_setting_is_documented_and_range_checked() -> None:
    """Each field carries a docstring naming its source, and every numeric setting has a limit."""
    import ast
    import inspect

    import agents.mappo

    tree = ast.parse(inspect.getsource(agents.mappo))
    body = next(node for node in tree.body if isinstance(node, ast.ClassDef) and node.name == "MAPPOConfig").body
    documented = {stmt.target.id for stmt, after in zip(body, body[1:]) if isinstance(stmt, ast.AnnAssign)
                  and isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant) and len(after.value.value) > 20}
    fields = {f.name for f in dataclasses.fields(MAPPOConfig)}
    assert documented == fields, fields - documented
    numeric = {f.name for f in dataclasses.fields(MAPPOConfig) if f.type in ("int", "float")}
    unchecked = numeric - set(MAPPOConfig.limits) - {"max_grad_norm", "actor_gain"}  # <= 0 means "off" / any gain
    assert not unchecked, unchecked


def test_nan_loss_raises_and_keeps_the_last_good_weights() -> None:
    game = games.load("tic_tac_toe")
    learner = MAPPO(game.spec, "player", config={"hidden": (16,), "rollout_steps": 10_000}, seed=0)
    train(game, learner, env_steps=300, self_play=True, batch=8, seed=0)
    before = _params(learner)
    learner.storage.parts[0]["reward"][:] = np.nan
    learner.config.rollout_steps = 1
    message = r"mappo \(env step \d+, epoch 1\) stopped: the loss became nan at update 1; the parameters were left unchanged"
    with pytest.raises(LearnerError, match=message):
        learner.update()
    after = _params(learner)
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_behaviour_log_probs_recorded_by_remote_actors_are_what_the_ratio_uses() -> None:
    """Steps played by an actor with older weights carry the log-probabilities of those weights;
    the learner, whose weights have moved on since, stores those and not its own."""
    from league.play.backends import EntrantSpec, LearnerSpec, TaskSpec, rollout_chunk

    game = games.load("tic_tac_toe")
    learner = MAPPO(game.spec, "player", config={"hidden": (16,), "rollout_steps": 10_000, "actor_gain": 1.0}, seed=0)
    played_with = learner.frozen_policy()
    blob, manifest = pack(*learner.policy_state())
    tasks = [TaskSpec(k, 100 + k // 2, ("me", "random") if k % 2 == 0 else ("random", "me")) for k in range(8)]
    _, steps = rollout_chunk(game.ref, [LearnerSpec("me", blob, manifest, learner.exploration())],
                             [EntrantSpec("random")], tasks, 4, True)
    for step in steps:
        for seat in game.spec.seat_names:
            mine = step.rows_of("me", seat)
            assert np.isfinite(step.log_prob[seat][mine]).all() and np.isnan(step.log_prob[seat][~mine]).all()
    with torch.no_grad():  # the learner moves on before the steps reach it (a pipelined league)
        learner.actor.head[-1].bias.add_(torch.arange(9.0))
    for step in steps:
        learner.observe(step, "me")
    data = learner.storage.data()
    obs, mask, action = data["obs"].reshape(-1, 3, 3, 3), data["mask"], data["action"]
    seat = [game.spec.seat_names[k] for k in data["seat"]]
    behaviour = np.array([played_with.log_prob(obs[i:i + 1], mask[i:i + 1], action[i:i + 1], seat=seat[i])[0]
                          for i in range(len(action))])
    current = np.array([learner.policy().log_prob(obs[i:i + 1], mask[i:i + 1], action[i:i + 1], seat=seat[i])[0]
                        for i in range(len(action))])
    assert len(action) > 20 and np.allclose(data["logp"], behaviour, atol=1e-6)
    assert not np.allclose(data["logp"], current, atol=1e-3)


def test_opening_moves_are_the_environments_for_mappo_and_data_for_iql() -> None:
    """Training openings (`opening_plies`): MAPPO neither counts nor learns from the moves its
    policy did not choose (its ratio would be wrong), IQL learns from them as from any move."""
    from league.play.openings import training_openings
    from league.play.runner import GameTask, run

    game = games.load("tic_tac_toe")
    me = Entrant("me", RandomPolicy(game.spec))
    openings = training_openings(game, list(range(40)), max_plies=6)
    tasks = [GameTask(index=k, seed=k, lineup=(me, me), opening=openings[k]) for k in range(40)]
    steps: list[StepBatch] = []
    records = run(game, tasks, batch=8, on_step=steps.append, with_state=True)
    mappo = MAPPO(game.spec, "player", config={"rollout_steps": 10_000}, seed=0)
    iql = make_learner("iql", game.spec, "player", config={"learning_starts": 10_000}, seed=0)
    for step in steps:
        mappo.observe(step, "me")
        iql.observe(step, "me")
    every_move = sum(r.length for r in records)
    opening_moves = sum(len(o) for o in openings)
    assert opening_moves > 0 and any(step.opening is not None for step in steps)
    assert iql.env_steps == every_move and mappo.env_steps == every_move - opening_moves
    assert len(mappo.storage) == every_move - opening_moves  # every game finished: each move a transition
