"""One-move tactics of a connect-four or tic-tac-toe policy: does it take a win in one, and does
it avoid handing the opponent one?

Positions come from uniform random play (seeded). For each position where the side to move
can win at once, the greedy policy should take such a move; for each position where some
moves let the opponent win next and others do not, it should pick a safe move (a random
legal move is safe at the rate printed beside it). The one-ply rule, which does exactly
this and plays randomly otherwise, scores 0.66 against MCTS-100 in connect four, so these
two rates say how far a learner is from that strength.

`bench/learner_settings.py --tactics` prints them beside each score.

Example:
    >>> import games
    >>> from agents.baselines import RandomPolicy
    >>> at = positions("tic_tac_toe", 200)
    >>> len(at.wins) > 0 and len(at.threats) > 0
    True
    >>> took, safe = tactics(RandomPolicy(games.load("tic_tac_toe").spec), games.load("tic_tac_toe").spec, at)
    >>> 0.0 <= took <= 1.0 and 0.0 <= safe <= 1.0
    True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyspiel

from agents.base import Policy
from games.base import GameSpec


@dataclass
class Positions:
    """Random-play positions with a win in one (and its moves), and positions needing a safe move."""

    wins: list[tuple[pyspiel.State, list[int]]]
    threats: list[tuple[pyspiel.State, list[int]]]  # (state, the safe moves)

    @property
    def random_safe_rate(self) -> float:
        return float(np.mean([len(safe) / len(s.legal_actions()) for s, safe in self.threats]))


def winning_moves(state: pyspiel.State) -> list[int]:
    player = state.current_player()
    out = []
    for action in state.legal_actions():
        after = state.child(action)
        if after.is_terminal() and after.returns()[player] > 0:
            out.append(action)
    return out


def gives_a_win(after: pyspiel.State) -> bool:
    """Whether the player to move in `after` can win at once."""
    return not after.is_terminal() and bool(winning_moves(after))


def random_play_state(engine: pyspiel.Game, rng: np.random.Generator) -> pyspiel.State | None:
    """The position after a random number of uniformly random moves, or None if the game ended."""
    state = engine.new_initial_state()
    for _ in range(int(rng.integers(2, max(3, engine.max_game_length() - 4)))):
        if state.is_terminal():
            break
        state.apply_action(int(rng.choice(state.legal_actions())))
    return None if state.is_terminal() else state


def positions(game_name: str, n: int = 600, seed: int = 1) -> Positions:
    """`n` random-play positions of `game_name`, sorted into the two kinds (others dropped)."""
    engine = pyspiel.load_game(game_name)
    rng = np.random.default_rng(seed)
    wins, threats = [], []
    for _ in range(n):
        state = random_play_state(engine, rng)
        if state is None:
            continue
        win = winning_moves(state)
        if win:
            wins.append((state, win))
            continue
        safe = [a for a in state.legal_actions() if not gives_a_win(state.child(a))]
        if 0 < len(safe) < len(state.legal_actions()):
            threats.append((state, safe))
    return Positions(wins, threats)


def greedy_moves(policy: Policy, spec: GameSpec, states: list[pyspiel.State]) -> np.ndarray:
    """(n,) the greedy policy's move in each state, one batched call per seat to move."""
    moves = np.zeros(len(states), np.int64)
    players = np.array([s.current_player() for s in states])
    for player in np.unique(players):
        seat = spec.seats[player]
        rows = np.flatnonzero(players == player)
        obs = np.stack([np.asarray(states[r].observation_tensor(int(player)), np.float32).reshape(seat.obs_shape)
                        for r in rows])  # (b, *obs_shape)
        mask = np.zeros((len(rows), seat.n_actions), bool)  # (b, A)
        for k, r in enumerate(rows):
            mask[k, states[r].legal_actions()] = True
        moves[rows] = policy.act(obs, mask, seat=seat.name, keys=np.zeros(len(rows), np.int64), explore=False)
    return moves


def tactics(policy: Policy, spec: GameSpec, at: Positions) -> tuple[float, float]:
    """(share of wins in one taken, share of safe moves where the opponent threatens one)."""
    rates = []
    for cases in (at.wins, at.threats):
        chosen = greedy_moves(policy, spec, [state for state, _ in cases])
        rates.append(float(np.mean([move in good for move, (_, good) in zip(chosen, cases)])))
    return rates[0], rates[1]
