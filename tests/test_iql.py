"""IQL: it learns tic-tac-toe, its targets respect masks, it resumes exactly, it counts its own moves,
it trains on the device it is given, remote actors explore as it does, it refuses bad input."""

from __future__ import annotations

import dataclasses
import copy

import numpy as np
import pytest
import torch

import games
from agents.base import LearnerError
from agents.baselines import RandomPolicy
from agents.checkpoint import pack, unpack
from agents.iql import IQL
from agents.nets import double_q_values
from agents.registry import load_policy, make_learner
from league.play.runner import Entrant, play
from league.train.selfplay import train
from league.train.tactics import positions, tactics


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny networks: threads only add overhead on 2 cores
    yield
    torch.set_num_threads(threads)


def win_rate(game, policy, opponent, n_games: int, seed: int = 99) -> float:
    """Fraction of games `policy` wins outright (sides alternate)."""
    records = play(game, (Entrant("me", policy), Entrant("them", opponent)), n_games, seed=seed)
    return float(np.mean([r.ranks[r.sides.index("me")] == 0 and len(set(r.ranks)) > 1 for r in records]))


def recorded_steps(game, policy, opponent, n_games: int, seed: int) -> list:
    """Runner steps of a few games of `policy` (exploring) against `opponent`, safe to replay."""
    steps = []
    lineup = (Entrant("me", policy, explore=True),) + tuple(Entrant(f"o{k}", opponent) for k in range(len(game.spec.sides) - 1))
    play(game, lineup, n_games, seed=seed, batch=4, with_state=True,
         on_step=lambda b: steps.append(dataclasses.replace(b, result=copy.deepcopy(b.result))))
    return steps


def test_iql_learns_tic_tac_toe_against_random() -> None:
    game = games.load("tic_tac_toe")
    random = RandomPolicy(game.spec)
    learner = IQL(game.spec, "player", config={"epsilon_steps": 8_000}, seed=0)
    before = win_rate(game, learner.frozen_policy(), random, 100)
    train(game, learner, env_steps=20_000, opponents=[Entrant("random", random)], batch=16, seed=1)
    after = win_rate(game, learner.frozen_policy(), random, 100)
    assert after >= 0.8, (before, after)
    assert after > before + 0.2


def test_negamax_iql_learns_one_move_tactics_by_self_play_alone() -> None:
    game = games.load("tic_tac_toe")
    at = positions("tic_tac_toe", 400)  # random-play positions with a win in one, or a threat to parry
    config = {"epsilon_steps": 8_000, "negamax": True, "batch_size": 64, "replay_ratio": 32.0, "target_update": 100}
    learner = IQL(game.spec, "player", config=config, seed=0)
    took_before, safe_before = tactics(learner.frozen_policy(), game.spec, at)
    train(game, learner, env_steps=20_000, self_play=True, batch=16, seed=1)  # never sees another player
    took, safe = tactics(learner.frozen_policy(), game.spec, at)
    # measured: 0.92 and 0.61 (without negamax 0.71 and 0.50; a random move is safe 0.18 of the time)
    assert took >= 0.85 and safe >= 0.5, (took_before, safe_before, took, safe)
    assert safe > at.random_safe_rate + 0.25


def test_negamax_targets_take_the_replying_seats_value_with_the_sign_flipped() -> None:
    game = games.load("tic_tac_toe")
    learner = IQL(game.spec, "player", config={"negamax": True, "learning_starts": 10**9}, seed=0)
    for batch in recorded_steps(game, learner.policy(), RandomPolicy(game.spec), n_games=16, seed=3):
        learner.observe(batch, "me")
    data = {k: v[: len(learner.buffers[0])].numpy() for k, v in learner.buffers[0].data.items()}
    live = ~data["terminated"]
    assert live.any() and (~live).any()
    assert (data["next_id"][live] == 1 - data["id"][live]).all()  # the other seat replies
    assert (data["sign"][live] == -1).all() and (data["sign"][~live] == 1).all()
    marks = data["obs"].reshape(-1, 3, 9)[:, 1:].sum((1, 2))
    next_marks = data["next_obs"].reshape(-1, 3, 9)[:, 1:].sum((1, 2))
    assert (next_marks[live] == marks[live] + 1).all()  # one ply later, not two
    # the target of a live move is -gamma * (the replying seat's best legal value)
    learner.q_target = learner.q
    b = {k: torch.from_numpy(v[live][:4]) for k, v in data.items()}
    reply = learner.q.forward_group(0, b["next_obs"], b["next_id"]).masked_fill(~b["next_mask"], -1e9).max(1).values
    own = learner.q.forward_group(0, b["next_obs"], b["id"]).masked_fill(~b["next_mask"], -1e9).max(1).values
    assert not torch.allclose(reply, own)  # the two seats' values differ, so the test can tell them apart
    captured = {}
    original = torch.nn.functional.mse_loss
    torch.nn.functional.mse_loss = lambda prediction, target: captured.setdefault("target", target) * 0 + original(prediction, target)
    try:
        learner.buffers[0].sample = lambda n, rng: {k: v.repeat(n // 4 + 1, *[1] * (v.dim() - 1))[:n] for k, v in b.items()}
        learner.config.batch_size = 8
        learner.train_step()
    finally:
        torch.nn.functional.mse_loss = original
    assert torch.allclose(captured["target"][:4], -learner.config.gamma * reply, atol=1e-5)


def test_negamax_needs_a_two_player_game_of_alternating_moves_with_perfect_information() -> None:
    for name, role in (("kuhn_poker", "player"), ("simple_tag", "predator")):
        with pytest.raises(LearnerError, match=rf"^iql cannot use negamax on {name}: it needs a two-player zero-sum game "
                                               r"of alternating moves with perfect information\.$"):
            IQL(games.load(name).spec, role, config={"negamax": True})


def test_double_q_targets_pick_only_legal_actions() -> None:
    gen = torch.Generator().manual_seed(0)
    online = torch.randn(500, 9, generator=gen)
    target = torch.randn(500, 9, generator=gen)
    mask = torch.rand(500, 9, generator=gen) < 0.3
    mask[torch.arange(500), torch.randint(0, 9, (500,), generator=gen)] = True  # at least one legal action
    online[~mask] += 100.0  # illegal actions look best to the online network
    actions, values = double_q_values(online, target, mask)
    assert mask[torch.arange(500), actions].all()
    assert torch.equal(values, target[torch.arange(500), actions])
    best_legal = online.masked_fill(~mask, -1e9).argmax(1)
    assert torch.equal(actions, best_legal)


def test_iql_stored_masks_are_the_legal_moves_and_targets_stay_inside_them() -> None:
    game = games.load("tic_tac_toe")
    learner = IQL(game.spec, "player", config={"learning_starts": 200, "batch_size": 32}, seed=3)
    train(game, learner, env_steps=2_000, opponents=[Entrant("random", RandomPolicy(game.spec))], batch=8, seed=2)
    data = {k: v.numpy() for k, v in learner.buffers[0].data.items()}
    size = len(learner.buffers[0])
    live = ~data["terminated"][:size]
    empty = data["next_obs"][:size, 0].reshape(size, 9) > 0.5  # plane 0: empty cells = legal moves
    assert np.array_equal(data["next_mask"][:size][live], empty[live])
    with torch.no_grad():
        obs, ids = torch.from_numpy(data["next_obs"][:size]), torch.from_numpy(data["id"][:size])
        online = learner.q.forward_group(0, obs, ids)
        online[~torch.from_numpy(empty)] += 1e3  # tempt the argmax towards occupied cells
        actions, _ = double_q_values(online, learner.q_target.forward_group(0, obs, ids),
                                     torch.from_numpy(data["next_mask"][:size]))
    assert empty[live][np.arange(int(live.sum())), actions.numpy()[live]].all()


@pytest.mark.parametrize("variant", [{}, {"negamax": True}, {"negamax": True, "conv": (4,), "own_view": True}],
                         ids=["plain", "negamax", "negamax-conv-own-view"])
def test_iql_resumes_exactly_mid_episode(variant: dict) -> None:
    game = games.load("tic_tac_toe")
    config = {"learning_starts": 100, "batch_size": 32, "replay_ratio": 16.0, "target_update": 10, **variant}
    a = IQL(game.spec, "player", config=config, seed=5)
    train(game, a, env_steps=600, opponents=[Entrant("random", RandomPolicy(game.spec))], batch=8, seed=4)
    steps = recorded_steps(game, a.policy(), RandomPolicy(game.spec), n_games=24, seed=6)
    half = len(steps) // 2  # mid-episode: go on until some move of ours is still open
    for batch in steps[:half]:
        a.observe(batch, "me")
        a.update()
    while not any(open_.any() for open_ in a.builder.open.values()):
        a.observe(steps[half], "me")
        a.update()
        half += 1
    assert half < len(steps) - 4
    blob, manifest = pack(*a.state_dict())
    b = IQL(game.spec, "player", config=config, seed=123)
    b.load_state_dict(*unpack(blob, manifest))
    for batch in steps[half:]:  # the same entrant's steps, read by name
        a.observe(batch, "me")
        a.update()
        b.observe(batch, "me")
        b.update()
    assert a.updates == b.updates and a.env_steps == b.env_steps and a.updates > 0
    for name, value in a.state_dict()[0].items():
        assert np.array_equal(np.asarray(value), np.asarray(b.state_dict()[0][name])), name
    for p, q in zip(a.q.parameters(), b.q.parameters()):
        assert torch.equal(p, q)


def test_snapshot_policy_acts_like_the_frozen_policy() -> None:
    game = games.load("tic_tac_toe")
    learner = IQL(game.spec, "player", config={"learning_starts": 100, "batch_size": 32}, seed=1)
    train(game, learner, env_steps=500, opponents=[Entrant("random", RandomPolicy(game.spec))], batch=8)
    blob, manifest = pack(*learner.policy_state())
    snapshot = load_policy(game.spec, *unpack(blob, manifest))
    env = game.make(8, seed=3)
    for seat in game.spec.seat_names:
        obs, mask, keys = env.obs[seat], np.ones((8, 9), bool), np.arange(8)
        assert np.array_equal(snapshot.act(obs, mask, seat=seat, keys=keys),
                              learner.frozen_policy().act(obs, mask, seat=seat, keys=keys, explore=True))


def test_nan_loss_stops_with_a_clear_error_and_leaves_the_learner_unchanged() -> None:
    game = games.load("tic_tac_toe")
    learner = IQL(game.spec, "player", config={"learning_starts": 100, "batch_size": 32}, seed=2)
    train(game, learner, env_steps=400, opponents=[Entrant("random", RandomPolicy(game.spec))], batch=8)
    learner.buffers[0].data["reward"][:] = np.nan
    before, meta_before = learner.state_dict()
    updates = learner.updates
    with pytest.raises(LearnerError, match=r"iql \(player\) stopped: the loss became nan at update \d+"):
        learner.train_step()
    after, meta_after = learner.state_dict()
    assert learner.updates == updates
    assert all(np.array_equal(before[k], after[k], equal_nan=True) for k in before)
    assert meta_after["numpy_rng"] == meta_before["numpy_rng"]  # the replay sample is undone too


def test_bad_configuration_is_one_clear_sentence() -> None:
    spec = games.load("tic_tac_toe").spec
    with pytest.raises(LearnerError, match=r"iql has no setting 'learning_rate'; the closest valid setting is 'learning_starts'\."):
        IQL(spec, "player", config={"learning_rate": 1e-3})
    with pytest.raises(LearnerError, match=r"the closest valid setting is 'epsilon_end'"):
        IQL(spec, "player", config={"epsilon_final": 0.1})
    with pytest.raises(LearnerError, match=r"^iql setting 'lr' must be positive, got -1\.0\.$"):
        IQL(spec, "player", config={"lr": -1.0})
    with pytest.raises(LearnerError, match=r"^iql setting 'batch_size' must be an integer, got '64'\.$"):
        IQL(spec, "player", config={"batch_size": "64"})
    with pytest.raises(LearnerError, match=r"^iql setting 'gamma' must be in \[0, 1\], got 1\.5\.$"):
        IQL(spec, "player", config={"gamma": 1.5})
    with pytest.raises(LearnerError, match=r"^iql setting 'hidden' must list one or more positive numbers, got \(\)\.$"):
        IQL(spec, "player", config={"hidden": []})
    with pytest.raises(LearnerError, match=r"^iql setting 'double_q' must be true or false, got 1\.$"):
        IQL(spec, "player", config={"double_q": 1})
    with pytest.raises(LearnerError, match=r"^iql: tic_tac_toe has no role 'hunter'; roles: player\.$"):
        make_learner("iql", spec, "hunter")
    tag = games.load("simple_tag(continuous=True)").spec
    with pytest.raises(LearnerError, match=r"iql cannot learn role 'predator'.*needs discrete actions"):
        IQL(tag, "predator")
    with pytest.raises(LearnerError, match="needs discrete actions"):
        make_learner("iql", tag, "prey")
    learner = make_learner("iql", games.load("simple_tag").spec, "predator")  # discrete: fine
    assert learner.seats == ("adversary_0", "adversary_1", "adversary_2")
    with pytest.raises(LearnerError, match="checkpoint is for game"):
        IQL(spec, "player").load_state_dict(*learner.state_dict())
    wide = IQL(spec, "player", config={"hidden": (32,)})
    with pytest.raises(LearnerError, match=r"the checkpoint's networks have hidden=\(64, 64\), this iql learner's \(32,\)"):
        wide.load_state_dict(*IQL(spec, "player").state_dict())


@pytest.mark.parametrize("algorithm", ["iql", "mappo"])
def test_env_steps_count_the_game_steps_in_which_the_learner_moved(algorithm: str) -> None:
    """One side of tic-tac-toe against random: env_steps is the number of the learner's own moves,
    whatever the algorithm (not copies, not per-seat transitions, not the opponent's moves)."""
    game = games.load("tic_tac_toe")
    learner = make_learner(algorithm, game.spec, "player", config={"hidden": (16,)}, seed=0)
    log = train(game, learner, env_steps=300, opponents=[Entrant("random", RandomPolicy(game.spec))], batch=8,
                seed=5, keep_records=True)
    my_moves = sum((r.length + 1) // 2 if r.sides[0] == "learner" else r.length // 2 for r in log.records)
    assert learner.env_steps == log.env_steps == my_moves >= 300
    assert {r.sides.index("learner") for r in log.records} == {0, 1}  # it played both sides


def test_devices_cpu_and_auto_train_and_cuda_without_cuda_is_one_sentence() -> None:
    game = games.load("tic_tac_toe")
    for device in ("cpu", "auto", torch.device("cpu")):
        learner = make_learner("iql", game.spec, "player", config={"learning_starts": 50, "batch_size": 16}, device=device)
        train(game, learner, env_steps=100, opponents=[Entrant("random", RandomPolicy(game.spec))], batch=4)
        assert learner.updates > 0
        assert learner.device == (torch.device("cuda") if torch.cuda.is_available() and device == "auto" else torch.device("cpu"))
        assert all(p.device.type == "cpu" for p in learner.frozen_policy().net.parameters())  # actors get CPU weights
    if not torch.cuda.is_available():
        with pytest.raises(LearnerError, match=r"^device 'cuda' was asked for, but this torch \(.*\) sees no CUDA GPU; "
                                               r"use --device cpu or auto\.$"):
            make_learner("mappo", game.spec, "player", device="cuda")
    with pytest.raises(LearnerError, match=r"^unknown device 'gpu'"):
        make_learner("iql", game.spec, "player", device="gpu")


def test_a_remote_actor_rebuilt_from_the_policy_state_explores_like_the_learner() -> None:
    game = games.load("tic_tac_toe")
    learner = IQL(game.spec, "player", config={"learning_starts": 100, "batch_size": 32, "epsilon_steps": 1000}, seed=1)
    train(game, learner, env_steps=500, opponents=[Entrant("random", RandomPolicy(game.spec))], batch=8)
    assert 0.05 < learner.exploration()["epsilon"] < 1.0
    blob, manifest = pack(*learner.policy_state())
    actor = load_policy(game.spec, *unpack(blob, manifest), exploration=learner.exploration())
    frozen = load_policy(game.spec, *unpack(blob, manifest))
    env = game.make(64, seed=3)
    obs, mask, keys = env.obs["player_0"], env.mask["player_0"], np.arange(64)
    live = learner.policy().act(obs, mask, seat="player_0", keys=keys, explore=True)
    assert np.array_equal(actor.act(obs, mask, seat="player_0", keys=keys, explore=True), live)
    greedy = frozen.act(obs, mask, seat="player_0", keys=keys, explore=True)  # a snapshot never explores
    assert not np.array_equal(greedy, live) and len(set(greedy.tolist())) == 1
    with pytest.raises(LearnerError, match=r"iql policies explore by 'epsilon' only, not by \['noise'\]"):
        load_policy(game.spec, *unpack(blob, manifest), exploration={"noise": 0.1})
