"""Batched PUCT search (AlphaZero's MCTS, Silver et al. 2018) over OpenSpiel game states.

Each row of a batch grows its own tree from a root state; every simulation walks each tree
down to one new leaf, the leaves of all rows are evaluated in one batched call of a
policy-value function, and their values are backed up. A leaf's value is from the view of
the player to move there; a finished game's value is its exact return. Two-player zero-sum
games of alternating moves with perfect information and no chance nodes only (the caller checks).

Selection maximises Q(s, a) + c_puct * P(s, a) * sqrt(N(s)) / (1 + N(s, a)) over legal moves,
Q from the mover's view (0 for an unvisited move), with Dirichlet noise on the root's priors
when exploring. The search's answer is the root's visit counts.

Example:
    >>> import numpy as np, pyspiel
    >>> game = pyspiel.load_game("tic_tac_toe")
    >>> state = game.new_initial_state()
    >>> for a in (0, 3, 1, 4):            # x threatens 0-1-2, o threatens 3-4-5
    ...     state.apply_action(a)
    >>> search = PUCTSearch(game, c_puct=1.5)
    >>> uniform = lambda obs, mask, players: (mask / mask.sum(1, keepdims=True), np.zeros(len(obs)))
    >>> visits = search.run([state], uniform, simulations=100)
    >>> int(visits[0].argmax())           # the win in one
    2
"""

from __future__ import annotations

import math
from typing import Any, Callable, Sequence

import numpy as np

# (obs (k, obs_size) float32, mask (k, A) bool, players (k,) int64) -> (priors (k, A), values (k,))
Evaluate = Callable[[np.ndarray, np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


class Node:
    """One searched position: its state, and per move its prior, visits and summed values."""

    __slots__ = ("state", "player", "legal", "prior", "visits", "value_sum", "children", "total")

    def __init__(self, state: Any):
        self.state = state
        self.player = state.current_player()
        self.legal: np.ndarray | None = None  # (A,) bool, set on expansion
        self.prior: np.ndarray | None = None  # (A,)
        self.visits: np.ndarray | None = None  # (A,)
        self.value_sum: np.ndarray | None = None  # (A,) from this node's mover's view
        self.children: dict[int, Node] = {}
        self.total = 0  # visits through this node's moves

    def expand(self, legal: np.ndarray, prior: np.ndarray) -> None:
        self.legal = legal
        self.prior = prior
        self.visits = np.zeros(len(prior), np.float64)
        self.value_sum = np.zeros(len(prior), np.float64)

    def select(self, c_puct: float) -> int:
        """The move with the highest PUCT score among legal moves."""
        q = self.value_sum / np.maximum(self.visits, 1.0)  # (A,), 0 where unvisited
        score = q + c_puct * self.prior * math.sqrt(self.total + 1) / (1.0 + self.visits)  # (A,)
        return int(np.where(self.legal, score, -np.inf).argmax())


class PUCTSearch:
    """AlphaZero's search for a batch of root states; `observe` turns a state into the network's input.

    The tree is not kept between moves: each call searches from scratch (as OpenSpiel's MCTS bot does).
    """

    def __init__(self, game: Any, *, c_puct: float = 1.5, observe: Callable[[Any, int], np.ndarray] | None = None):
        self.game = game
        self.c_puct = float(c_puct)
        self.n_actions = game.num_distinct_actions()
        self.observe = observe if observe is not None else (
            lambda state, player: np.asarray(state.observation_tensor(player), np.float32))

    def _leaf_inputs(self, nodes: Sequence[Node]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        obs = np.stack([self.observe(n.state, n.player) for n in nodes]).astype(np.float32, copy=False)  # (k, obs)
        mask = np.zeros((len(nodes), self.n_actions), dtype=bool)  # (k, A)
        for k, n in enumerate(nodes):
            mask[k, n.state.legal_actions()] = True
        players = np.array([n.player for n in nodes], np.int64)  # (k,)
        return obs, mask, players

    def run(self, states: Sequence[Any], evaluate: Evaluate, *, simulations: int,
            noise: Sequence[np.ndarray] | None = None, noise_weight: float = 0.25) -> np.ndarray:
        """Visit counts (b, A) of each root's moves after `simulations` simulations per root.

        `noise[i]` (A,) is a distribution mixed into root i's priors with `noise_weight`
        (AlphaZero's Dirichlet noise; drawn by the caller, from the row's key)."""
        roots = [Node(s.clone()) for s in states]
        obs, mask, players = self._leaf_inputs(roots)
        priors, _ = evaluate(obs, mask, players)  # (b, A)
        for i, root in enumerate(roots):
            prior = priors[i]
            if noise is not None:
                legal_noise = np.where(mask[i], noise[i], 0.0)  # (A,) renormalised over the legal moves
                prior = (1.0 - noise_weight) * prior + noise_weight * legal_noise / legal_noise.sum()
            root.expand(mask[i], prior)
        for _ in range(simulations):
            paths: list[list[tuple[Node, int]]] = []
            leaves: list[Node] = []
            for root in roots:
                node, path = root, []
                while True:
                    move = node.select(self.c_puct)
                    path.append((node, move))
                    child = node.children.get(move)
                    if child is None:
                        state = node.state.clone()
                        state.apply_action(move)
                        child = node.children[move] = Node(state)
                    if child.state.is_terminal():
                        self._backup(path, np.asarray(child.state.returns(), np.float64))
                        break
                    if child.prior is None:
                        paths.append(path)
                        leaves.append(child)
                        break
                    node = child
            if not leaves:
                continue
            obs, mask, players = self._leaf_inputs(leaves)
            priors, values = evaluate(obs, mask, players)  # (k, A), (k,)
            for leaf, path, legal, prior, value in zip(leaves, paths, mask, priors, values):
                leaf.expand(legal, prior)
                returns = np.full(self.game.num_players(), -float(value))  # zero-sum: the others lose what the mover wins
                returns[leaf.player] = float(value)
                self._backup(path, returns)
        return np.stack([root.visits for root in roots])  # (b, A)

    @staticmethod
    def _backup(path: list[tuple[Node, int]], returns: np.ndarray) -> None:
        """Add one visit and the value, from each mover's view, along the path."""
        for node, move in path:
            node.visits[move] += 1.0
            node.value_sum[move] += returns[node.player]
            node.total += 1


__all__ = ["Evaluate", "Node", "PUCTSearch"]
