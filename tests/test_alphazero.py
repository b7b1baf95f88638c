"""AlphaZero: its search finds tactics, its network learns tic-tac-toe from its own searches, the
runner hands the searches to the learner, it resumes exactly, exports its prior, refuses bad input."""

from __future__ import annotations

import copy
import dataclasses

import numpy as np
import pyspiel
import pytest
import torch

import games
from agents.alphazero import AlphaZero
from agents.base import LearnerError, SearchPolicy
from agents.baselines import RandomPolicy
from agents.checkpoint import pack, unpack
from agents.registry import load_policy, make_learner
from agents.search import PUCTSearch
from league.play.runner import Entrant, play
from league.train.selfplay import evaluate, train


def uniform(obs, mask, players):
    """A network that knows nothing: uniform priors over legal moves, every position even."""
    return mask / mask.sum(1, keepdims=True), np.zeros(len(obs))


def connect_four_after(moves: list[int]):
    state = pyspiel.load_game("connect_four").new_initial_state()
    for move in moves:
        state.apply_action(move)
    return state


def test_search_with_a_blank_network_takes_a_win_and_blocks_a_loss_in_connect_four() -> None:
    search = PUCTSearch(pyspiel.load_game("connect_four"), c_puct=2.0)
    win = connect_four_after([0, 6, 1, 6, 2, 5])  # x has 0-1-2 on the bottom row: 3 wins
    block = connect_four_after([0, 6, 1, 6, 2])  # o to move: x threatens 3
    visits = search.run([win, block], uniform, simulations=200)
    assert visits.sum(1).tolist() == [200, 200]  # every simulation is one visit at the root
    assert visits.argmax(1).tolist() == [3, 3]


def test_the_searching_policy_is_a_pure_function_of_its_keys_and_plays_legal_moves() -> None:
    game = games.load("connect_four")
    learner = AlphaZero(game.spec, "player", config={"simulations": 8, "eval_simulations": 8}, seed=0)
    policy = learner.policy()
    assert isinstance(policy, SearchPolicy)
    env = game.make(16, seed=3)
    states, obs, mask, keys = env.engine_states(np.arange(16)), env.obs["player_0"], env.mask["player_0"], np.arange(16)
    first = policy.act(obs, mask, seat="player_0", keys=keys, explore=True, engine_states=states)
    searched = policy.last_search.copy()
    again = policy.act(obs, mask, seat="player_0", keys=keys, explore=True, engine_states=states)
    assert np.array_equal(first, again) and np.array_equal(searched, policy.last_search)
    assert mask[np.arange(16), first].all()
    assert np.allclose(searched.sum(1), 1.0) and searched.shape == (16, 7)
    assert len(set(first.tolist())) > 1  # the root's noise and the temperature make the opening moves vary
    greedy = policy.act(obs, mask, seat="player_0", keys=keys, explore=False, engine_states=states)
    assert np.array_equal(greedy, policy.last_search.argmax(1))
    with pytest.raises(Exception, match="searches the engine's game states"):
        policy.act(obs, mask, seat="player_0", keys=keys)


def test_the_runner_hands_an_exploring_search_to_the_learner_and_nothing_else() -> None:
    game = games.load("tic_tac_toe")
    learner = AlphaZero(game.spec, "player", config={"simulations": 4}, seed=0)
    steps = []
    play(game, (Entrant("me", learner.policy(), explore=True), Entrant("random", RandomPolicy(game.spec))), 8,
         seed=1, batch=8, on_step=steps.append)
    mine = theirs = 0
    for step in steps:
        for seat in game.spec.seat_names:
            rows, others = step.rows_of("me", seat), step.rows_of("random", seat)
            target = (step.search or {}).get(seat)
            if rows.any():
                assert np.allclose(target[rows].sum(1), 1.0)
                assert (target[rows][~step.mask[seat][rows]] == 0).all()  # no visits to illegal moves
                mine += int(rows.sum())
            if others.any() and target is not None:
                assert np.isnan(target[others]).all()
            theirs += int(others.sum())
    assert mine > 0 and theirs > 0
    steps = []
    play(game, (Entrant("me", learner.policy(), explore=False), Entrant("random", RandomPolicy(game.spec))), 4,
         seed=1, batch=4, on_step=steps.append)
    assert all(step.search is None for step in steps)  # evaluation games teach nothing


def test_alphazero_learns_tic_tac_toe_by_self_play() -> None:
    """The network alone (one simulation plays the prior's favourite move) beats random more
    often after training on its searches than before."""
    game = games.load("tic_tac_toe")
    config = {"simulations": 16, "eval_simulations": 1, "learning_starts": 500, "batch_size": 64, "hidden": (64,),
              "replay_ratio": 16.0, "lr": 3e-3}
    learner = AlphaZero(game.spec, "player", config=config, seed=0)
    random = Entrant("random", RandomPolicy(game.spec))
    before = evaluate(game, Entrant("az", learner.frozen_policy()), random, 200, seed=7)
    train(game, learner, env_steps=4_000, opponents=[], self_play=True, batch=32, seed=1)
    after = evaluate(game, Entrant("az", learner.frozen_policy()), random, 200, seed=7)
    assert learner.updates > 50
    assert after >= 0.8 and after > before + 0.15, (before, after)


def recorded_steps(game, policy, n_games: int, seed: int) -> list:
    steps = []
    play(game, (Entrant("me", policy, explore=True), Entrant("random", RandomPolicy(game.spec))), n_games, seed=seed,
         batch=4, on_step=lambda b: steps.append(dataclasses.replace(b, result=copy.deepcopy(b.result))))
    return steps


def test_alphazero_resumes_exactly_with_games_still_open() -> None:
    game = games.load("tic_tac_toe")
    config = {"simulations": 4, "learning_starts": 40, "batch_size": 16, "replay_ratio": 8.0}
    a = AlphaZero(game.spec, "player", config=config, seed=5)
    steps = recorded_steps(game, a.policy(), n_games=24, seed=6)
    half = len(steps) // 2
    for batch in steps[:half]:
        a.observe(batch, "me")
        a.update()
    while not a._pending:  # mid-game: some searched positions still wait for their result
        a.observe(steps[half], "me")
        a.update()
        half += 1
    assert half < len(steps) - 4 and a.updates > 0
    blob, manifest = pack(*a.state_dict())
    b = AlphaZero(game.spec, "player", config=config, seed=123)
    b.load_state_dict(*unpack(blob, manifest))
    for batch in steps[half:]:
        for learner in (a, b):
            learner.observe(batch, "me")
            learner.update()
    assert a.updates == b.updates and a.env_steps == b.env_steps and len(a.buffer) == len(b.buffer)
    for name, value in a.state_dict()[0].items():
        assert np.array_equal(np.asarray(value), np.asarray(b.state_dict()[0][name])), name


def test_value_targets_are_each_movers_result() -> None:
    """Every stored position's value target is the final result of the player who moved there."""
    game = games.load("tic_tac_toe")
    learner = AlphaZero(game.spec, "player", config={"simulations": 2, "buffer_size": 10_000}, seed=0)
    records = play(game, (Entrant("me", learner.policy(), explore=True), Entrant("random", RandomPolicy(game.spec))),
                   16, seed=2, batch=16, on_step=lambda b: learner.observe(b, "me"))
    assert not learner._pending
    my_results = {}
    for r in records:
        mine = r.sides.index("me")
        my_results.setdefault(float(r.returns[mine]), 0)
        my_results[float(r.returns[mine])] += (r.length + (1 - mine)) // 2
    z = learner.buffer.data["z"][:len(learner.buffer)].numpy()
    assert {float(v): int((z == v).sum()) for v in np.unique(z)} == my_results


def test_snapshot_and_frozen_policies_search_alike_and_export_the_prior() -> None:
    game = games.load("connect_four")
    learner = AlphaZero(game.spec, "player", config={"simulations": 4, "eval_simulations": 6}, seed=1)
    blob, manifest = pack(*learner.policy_state())
    snapshot = load_policy(game.spec, *unpack(blob, manifest))
    env = game.make(8, seed=3)
    states, obs, mask, keys = env.engine_states(np.arange(8)), env.obs["player_0"], env.mask["player_0"], np.arange(8)
    assert np.array_equal(snapshot.act(obs, mask, seat="player_0", keys=keys, engine_states=states),
                          learner.frozen_policy().act(obs, mask, seat="player_0", keys=keys, engine_states=states))
    exported = snapshot.export_seat("player_0")
    logits = exported.module(torch.from_numpy(obs)).detach()
    prior = torch.softmax(logits.masked_fill(~torch.from_numpy(mask), -torch.inf), 1).numpy()
    assert np.allclose(prior, snapshot.probabilities(obs, mask, seat="player_0"), atol=1e-6)
    with pytest.raises(LearnerError, match=r"alphazero policies explore by nothing but their own distribution"):
        load_policy(game.spec, *unpack(blob, manifest), exploration={"epsilon": 0.1})


@pytest.mark.parametrize("name, role, reason", [
    ("kuhn_poker", "player", "it needs a two-player zero-sum game with perfect information"),
    ("simple_tag", "predator", "it searches turn-based OpenSpiel games only"),
    ("connect_four_pz", "player", "it searches turn-based OpenSpiel games only"),
])
def test_games_it_cannot_search_are_one_sentence(name: str, role: str, reason: str) -> None:
    spec = games.load(name).spec
    with pytest.raises(LearnerError, match=rf"^alphazero cannot learn role '{role}' of {name}: {reason}\.$"):
        make_learner("alphazero", spec, role)


def test_bad_settings_are_one_sentence() -> None:
    spec = games.load("tic_tac_toe").spec
    with pytest.raises(LearnerError, match=r"^alphazero setting 'simulations' must be at least 1, got 0\.$"):
        make_learner("alphazero", spec, "player", config={"simulations": 0})
    with pytest.raises(LearnerError, match=r"^alphazero has no setting 'simulation'; the closest valid setting is 'simulations'\.$"):
        make_learner("alphazero", spec, "player", config={"simulation": 8})


def test_every_searched_move_from_actor_processes_is_stored_once(tmp_path) -> None:
    """In league train's pipelined loop with actor processes, each move the learner searched comes
    back with its visit counts and is stored exactly once, with its game's result."""
    from league.play.backends import make_backend
    from league.store.database import Store
    from league.train.config import TrainConfig
    from league.train.loop import Trainer

    config = TrainConfig.from_mapping({
        "game": "tic_tac_toe", "steps": 600, "batch_games": 16, "round_games": 32, "checkpoint_every": 10**6,
        "learners": [{"algo": "alphazero", "config": {"simulations": 4, "eval_simulations": 4, "learning_starts": 100,
                                                     "batch_size": 32}}],
        "snapshots": {"min_steps": 200, "max_steps": 200, "eval_games": 4},
        "evaluation": {"every": 10**6, "opponents": ["random"], "games": 4},
    })
    backend = make_backend("process", workers=2)
    try:
        with Store.open(tmp_path / "run", create=True) as store:
            league = Trainer(store, games.load("tic_tac_toe"), config, backend=backend)
            league.run()
            learner = league.learners["alphazero"]
            assert league.steps["alphazero"] >= 600 and learner.updates > 0 and not learner._pending
            assert len(learner.buffer) == learner.env_steps  # every move once: none lost, none twice
            z = learner.buffer.data["z"][:len(learner.buffer)].numpy()
            assert set(np.unique(z).tolist()) <= {-1.0, 0.0, 1.0} and len(np.unique(z)) > 1
    finally:
        backend.close()
