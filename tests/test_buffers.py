"""Transitions from runner steps: turn-based rewards reach the loser, truncation keeps final obs."""

from __future__ import annotations

import numpy as np

import games
from agents.baselines import RandomPolicy
from agents.buffers import ReplayBuffer, TransitionBuilder, linear_schedule
from league.play.runner import Entrant, play


def collect(game_name: str, n_games: int, with_state: bool = False):
    game = games.load(game_name)
    me, other = RandomPolicy(game.spec), RandomPolicy(game.spec)
    builder = TransitionBuilder(game.spec, game.spec.seat_names, with_state=with_state)
    steps = []
    lineup = (Entrant("me", me),) + tuple(Entrant("other", other) for _ in game.spec.sides[1:])
    records = play(game, lineup, n_games, seed=1, batch=4, with_state=with_state,
                   on_step=lambda batch: steps.append((batch, builder.add(batch, "me"))))
    return game, records, steps


def test_turn_based_transitions_run_move_to_move_and_reach_the_loser() -> None:
    game, records, steps = collect("tic_tac_toe", 12)
    transitions = [t for _, done in steps for t in done.values()]
    total = sum(len(t) for t in transitions)
    my_moves = 0
    for r in records:
        me_first = r.sides[0] == "me"
        # the first player makes ceil(length/2) moves
        my_moves += (r.length + 1) // 2 if me_first else r.length // 2
    assert total == my_moves  # one transition per move, none lost, none doubled
    finals = [(t.reward[i], t.terminated[i]) for t in transitions for i in range(len(t)) if t.done[i]]
    assert len(finals) == len(records) and all(term for _, term in finals)
    my_results = sorted(r.returns[r.sides.index("me")] for r in records)
    assert sorted(float(reward) for reward, _ in finals) == my_results  # the loss lands on my last move
    for t in transitions:
        live = ~t.done
        assert (t.reward[live] == 0).all()  # tic-tac-toe pays only at the end
        assert not t.next_mask[t.done].any()
        assert t.next_mask[live].any(1).all()
        # after my move and the reply, the board has exactly two more marks
        marks = lambda obs: obs.reshape(len(obs), 3, 9)[:, 1:].sum((1, 2))  # noqa: E731
        assert (marks(t.next_obs[live]) == marks(t.obs[live]) + 2).all()


def test_simultaneous_transitions_are_one_step_and_truncation_is_kept() -> None:
    game, records, steps = collect("simple_spread", 4, with_state=True)
    transitions = [t for _, done in steps for t in done.values()]
    assert sum(len(t) for t in transitions) == 4 * 25 * 3
    cut = [t for t in transitions if t.truncated.any()]
    assert sum(int(t.truncated.sum()) for t in cut) == 4 * 3
    assert not any(t.terminated.any() for t in transitions)
    for t in transitions:
        assert t.state is not None and t.next_state.shape == t.state.shape
    # a step's reward equals the engine's reward for that seat in that step
    for seat, t in steps[1][1].items():
        assert np.allclose(t.reward, steps[0][0].result.reward[seat][t.copy])


def test_replay_buffer_wraps_and_round_trips() -> None:
    buffer = ReplayBuffer(capacity=4)
    buffer.add({"x": np.arange(3, dtype=np.float32), "a": np.arange(3)})
    buffer.add({"x": np.arange(3, 6, dtype=np.float32), "a": np.arange(3, 6)})
    assert len(buffer) == 4 and sorted(buffer.data["x"].tolist()) == [2.0, 3.0, 4.0, 5.0]
    tensors, meta = buffer.state_dict()
    again = ReplayBuffer(capacity=1)
    again.load_state_dict(tensors, meta)
    rng1, rng2 = np.random.default_rng(3), np.random.default_rng(3)
    assert (again.sample(8, rng1)["x"] == buffer.sample(8, rng2)["x"]).all()


def test_linear_schedule() -> None:
    assert linear_schedule(1.0, 0.05, 10, 0) == 1.0
    assert linear_schedule(1.0, 0.05, 10, 10) == 0.05
    assert linear_schedule(1.0, 0.05, 10, 99) == 0.05


def test_plies_end_a_move_at_the_reply_with_what_the_replying_seat_sees() -> None:
    game = games.load("tic_tac_toe")
    builder = TransitionBuilder(game.spec, game.spec.seat_names, plies=True)
    steps = []
    lineup = (Entrant("me", RandomPolicy(game.spec)), Entrant("other", RandomPolicy(game.spec)))
    records = play(game, lineup, 12, seed=1, batch=4, on_step=lambda batch: steps.append((batch, builder.add(batch, "me"))))
    by_seat = [(seat, t) for _, done in steps for seat, t in done.items()]
    transitions = [t for _, t in by_seat]
    my_moves = sum((r.length + 1) // 2 if r.sides[0] == "me" else r.length // 2 for r in records)
    assert sum(len(t) for t in transitions) == my_moves  # one per move of mine, none lost, none doubled
    marks = lambda obs: obs.reshape(len(obs), 3, 9)[:, 1:].sum((1, 2))  # noqa: E731
    for seat, t in by_seat:
        live = ~t.done
        assert (t.next_seat[t.done] == -1).all()
        # the reply is the other seat's, one mark later, seen by it; my reward is my own move's (0 unless it ended)
        assert (t.next_seat[live] == 1 - game.spec.seat_names.index(seat)).all()
        assert (marks(t.next_obs[live]) == marks(t.obs[live]) + 1).all()
        assert (t.reward[live] == 0).all()
    finals = [float(t.reward[i]) for t in transitions for i in range(len(t)) if t.done[i]]
    # a game I end gives +1 or 0 on my last move; a game the other ends gives my last move no reward
    mine_ended = [r.returns[r.sides.index("me")] for r in records
                  if (r.length % 2 == 1) == (r.sides[0] == "me")]
    assert sorted(finals) == sorted(mine_ended)

