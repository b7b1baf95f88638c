"""Reference players nobody here trained: uniform random, OpenSpiel's MCTS, scripted heuristics.

Baselines are addressed by name: "random" (every game), "action:K" (always action K where
legal: pure strategies), "alphabeta" (a perfect player by whole-tree alpha-beta, for small
games such as tic-tac-toe), "mcts:N" (OpenSpiel's C++ MCTS bot
with N simulations and random rollouts, for perfect-information turn-based OpenSpiel
games), "scripted" (particle worlds: chasers run at the nearest prey, prey runs from the
nearest chaser; spreaders each head for their nearest landmark).

Example:
    >>> import games
    >>> from agents.baselines import make_baseline
    >>> make_baseline("mcts:25", games.load("connect_four").spec).simulations
    25
    >>> make_baseline("scripted", games.load("tic_tac_toe").spec)
    Traceback (most recent call last):
    ...
    agents.base.PolicyError: 'scripted' has no heuristic for tic_tac_toe; it plays football, simple_spread, simple_spread_vmas, simple_tag, simple_tag_vmas
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from agents.base import PolicyError
from games.base import Discrete, GameSpec, derive_seed, sample_masked, uniforms

BASELINES = ("random", "mcts:N", "alphabeta", "scripted", "action:K")


class RandomPolicy:
    """Uniform over the legal actions (discrete) or over the box (continuous)."""

    needs_engine_states = False

    def __init__(self, spec: GameSpec):
        self.spec = spec

    def unsupported(self, spec: GameSpec, seats: Sequence[str]) -> str | None:
        return None

    def probabilities(self, obs, mask, *, seat) -> np.ndarray:
        """(b, n_actions): uniform over each row's legal actions."""
        mask = np.asarray(mask, dtype=np.float64)
        return mask / np.maximum(mask.sum(1, keepdims=True), 1.0)

    def act(self, obs, mask, *, seat, keys, explore=False, engine_states=None) -> np.ndarray:
        space = self.spec.seat(seat).action
        if isinstance(space, Discrete):
            u = uniforms(keys, 1)[:, 0]
            return sample_masked(np.ones(mask.shape), mask, u)
        size = int(np.prod(space.shape))
        u = uniforms(keys, size).reshape(len(keys), *space.shape)
        return (space.low + u * (space.high - space.low)).astype(np.float32)


class FixedActionPolicy:
    """Always action `k` where it is legal (else the lowest legal action): pure strategies such
    as rock, paper and scissors in `matrix_rps`, useful to show non-transitive leagues."""

    needs_engine_states = False

    def __init__(self, spec: GameSpec, k: int):
        self.spec = spec
        self.k = int(k)

    def unsupported(self, spec: GameSpec, seats: Sequence[str]) -> str | None:
        for seat in seats:
            space = spec.seat(seat).action
            if not isinstance(space, Discrete):
                return f"action:{self.k} plays discrete actions and seat {seat!r} of {spec.name} is continuous"
            if self.k >= space.n:
                return f"action:{self.k} does not exist for seat {seat!r} of {spec.name} (actions 0..{space.n - 1})"
        return None

    def probabilities(self, obs, mask, *, seat) -> np.ndarray:
        mask = np.asarray(mask, dtype=bool)
        chosen = np.where(mask[:, self.k], self.k, mask.argmax(1))
        out = np.zeros(mask.shape)
        out[np.arange(len(mask)), chosen] = 1.0
        return out

    def act(self, obs, mask, *, seat, keys, explore=False, engine_states=None) -> np.ndarray:
        return self.probabilities(obs, mask, seat=seat).argmax(1).astype(np.int64)


class AlphaBetaPolicy:
    """A perfect player for small games: full-depth alpha-beta (OpenSpiel's), uniform among the
    moves with the best game-theoretic value, so repeated games are not all the same game."""

    needs_engine_states = True
    MAX_LENGTH = 16  # whole-tree search: tic-tac-toe yes, connect four no

    def __init__(self, spec: GameSpec):
        self.spec = spec
        self._game = None
        self._values: dict[str, float] = {}

    def unsupported(self, spec: GameSpec, seats: Sequence[str]) -> str | None:
        import pyspiel

        if spec.backend != "openspiel" or not spec.turn_based:
            return f"alphabeta plays turn-based OpenSpiel games only, and {spec.name} is not one"
        game = pyspiel.load_game(spec.source)
        info = game.get_type()
        if info.information != pyspiel.GameType.Information.PERFECT_INFORMATION or game.num_players() != 2 \
                or info.utility != pyspiel.GameType.Utility.ZERO_SUM:
            return f"alphabeta needs a two-player zero-sum game of perfect information; {spec.name} is not one"
        if game.max_game_length() > self.MAX_LENGTH:
            return f"alphabeta searches the whole game tree, and {spec.name} is too long for that"
        return None

    def _value(self, state, player: int) -> float:
        """The game value of `state` for `player` (memoised by position)."""
        from open_spiel.python.algorithms import minimax

        key = f"{player}:{state}"
        if key not in self._values:
            if state.is_terminal():
                self._values[key] = state.returns()[player]
            else:
                self._values[key] = minimax.alpha_beta_search(self._game, state.clone(), maximizing_player_id=player)[0]
        return self._values[key]

    def act(self, obs, mask, *, seat, keys, explore=False, engine_states=None) -> np.ndarray:
        import pyspiel

        if engine_states is None:
            raise PolicyError("alphabeta needs the engine's game states, which this game does not provide")
        if self._game is None:
            self._game = pyspiel.load_game(self.spec.source)
        u = uniforms(keys, 1)[:, 0]
        actions = np.empty(len(engine_states), dtype=np.int64)
        for row, state in enumerate(engine_states):
            player = state.current_player()
            legal = state.legal_actions()
            values = [self._value(state.child(a), player) for a in legal]
            best = [a for a, v in zip(legal, values) if v >= max(values) - 1e-9]
            actions[row] = best[min(int(u[row] * len(best)), len(best) - 1)]
        return actions


class MCTSPolicy:
    """OpenSpiel's MCTS bot (C++): UCT with c=2, random rollouts, MCTS-Solver backups.

    Each move searches from scratch with `simulations` simulations, seeded by the row's key.
    """

    needs_engine_states = True

    def __init__(self, spec: GameSpec, simulations: int, *, uct_c: float = 2.0, rollouts: int = 1):
        if simulations < 1:
            raise PolicyError(f"mcts needs at least one simulation, got {simulations}")
        self.spec = spec
        self.simulations = int(simulations)
        self.uct_c = float(uct_c)
        self.rollouts = int(rollouts)
        self._game = None

    def unsupported(self, spec: GameSpec, seats: Sequence[str]) -> str | None:
        if spec.backend != "openspiel" or not spec.turn_based:
            return f"mcts plays turn-based OpenSpiel games only, and {spec.name} is a {spec.backend} game" + (
                "" if spec.turn_based else " with simultaneous moves")
        if not spec.perfect_information:
            return f"mcts needs perfect information, and {spec.name} hides information"
        return None

    def act(self, obs, mask, *, seat, keys, explore=False, engine_states=None) -> np.ndarray:
        import pyspiel

        if engine_states is None:
            raise PolicyError("mcts needs the engine's game states, which this game does not provide")
        if self._game is None:
            self._game = pyspiel.load_game(self.spec.source)
        seeds = (derive_seed(keys, 0x3C7) % (2**31 - 1)).tolist()
        actions = np.empty(len(engine_states), dtype=np.int64)
        for row, (state, seed) in enumerate(zip(engine_states, seeds)):
            evaluator = pyspiel.RandomRolloutEvaluator(self.rollouts, seed)
            bot = pyspiel.MCTSBot(self._game, evaluator, self.uct_c, self.simulations, 1 << 14, True, seed, False)
            actions[row] = bot.step(state)
        return actions


# -- scripted particle-world players -------------------------------------------------------
# mpe2 layouts (full observability; others are listed adversaries first, then good agents):
#   simple_tag predator: vel 2 | pos 2 | obstacles 2*2 | other predators 2*2 | prey 2 | prey vel 2
#   simple_tag prey:     vel 2 | pos 2 | obstacles 2*2 | predators 2*3
#   simple_spread agent: vel 2 | pos 2 | landmarks 2*3 | other agents 2*2 | comm 2*2


def _towards(direction: np.ndarray, space: Any) -> np.ndarray:
    """Turn (b, 2) desired directions into MPE actions: [noop, left, right, down, up]."""
    dx, dy = direction[:, 0], direction[:, 1]
    if isinstance(space, Discrete):
        horizontal = np.abs(dx) >= np.abs(dy)
        action = np.where(horizontal, np.where(dx > 0, 2, 1), np.where(dy > 0, 4, 3))
        still = (np.abs(dx) + np.abs(dy)) < 1e-9
        return np.where(still, 0, action).astype(np.int64)
    norm = np.maximum(np.linalg.norm(direction, axis=1, keepdims=True), 1e-9)
    unit = direction / norm  # (b, 2)
    out = np.zeros((len(direction), *space.shape), dtype=np.float32)
    out[:, 1] = np.maximum(-unit[:, 0], 0)
    out[:, 2] = np.maximum(unit[:, 0], 0)
    out[:, 3] = np.maximum(-unit[:, 1], 0)
    out[:, 4] = np.maximum(unit[:, 1], 0)
    return np.clip(out, space.low, space.high)


def _nearest(rel: np.ndarray) -> np.ndarray:
    """rel (b, k, 2) relative positions -> (b, 2) the nearest one."""
    dist = np.linalg.norm(rel, axis=2)  # (b, k)
    return rel[np.arange(len(rel)), dist.argmin(1)]


def _tag_predator(obs: np.ndarray) -> np.ndarray:
    return obs[:, 12:14]  # the prey, relative


def _tag_prey(obs: np.ndarray) -> np.ndarray:
    pos = obs[:, 2:4]
    away = -_nearest(obs[:, 8:14].reshape(-1, 3, 2))
    away = away / np.maximum(np.linalg.norm(away, axis=1, keepdims=True), 1e-9)
    # the arena penalises leaving |x| < 0.9: steer back towards the centre near the edge
    home = -pos * np.clip((np.abs(pos).max(1, keepdims=True) - 0.6) * 5.0, 0.0, 3.0)
    return away + home


def _spread(obs: np.ndarray) -> np.ndarray:
    return _nearest(obs[:, 4:10].reshape(-1, 3, 2))


# game name -> seat prefix -> heuristic giving a (b, 2) direction from (b, obs) observations
SCRIPTS: dict[str, dict[str, Callable[[np.ndarray], np.ndarray]]] = {
    "simple_tag": {"adversary": _tag_predator, "agent": _tag_prey},
    "simple_spread": {"agent": _spread},
}


class ScriptedPolicy:
    """Hand-written particle-world players, used as fixed references."""

    needs_engine_states = False

    def __init__(self, spec: GameSpec):
        if spec.name not in SCRIPTS:
            raise PolicyError(f"'scripted' has no heuristic for {spec.name}; it plays {', '.join(sorted(SCRIPTS))}")
        self.spec = spec
        self.script = SCRIPTS[spec.name]

    def _heuristic(self, seat: str) -> Callable[[np.ndarray], np.ndarray]:
        prefix = seat.rsplit("_", 1)[0]
        if prefix not in self.script:
            raise PolicyError(f"'scripted' has no heuristic for seat {seat!r} of {self.spec.name}")
        return self.script[prefix]

    def unsupported(self, spec: GameSpec, seats: Sequence[str]) -> str | None:
        if spec.name not in SCRIPTS:
            return f"'scripted' has no heuristic for {spec.name}"
        missing = [s for s in seats if s.rsplit("_", 1)[0] not in SCRIPTS[spec.name]]
        return f"'scripted' has no heuristic for seats {missing} of {spec.name}" if missing else None

    def act(self, obs, mask, *, seat, keys, explore=False, engine_states=None) -> np.ndarray:
        direction = self._heuristic(seat)(obs.reshape(len(obs), -1))
        return _towards(direction, self.spec.seat(seat).action)


def make_baseline(name: str, spec: GameSpec):
    """The baseline policy called `name` for the game `spec`.

    Raises PolicyError naming the valid baselines when `name` is unknown.
    """
    name = name.strip()
    if name == "random":
        return RandomPolicy(spec)
    if name == "scripted":
        return ScriptedPolicy(spec)
    if name == "alphabeta":
        policy = AlphaBetaPolicy(spec)
        reason = policy.unsupported(spec, spec.seat_names)
        if reason:
            raise PolicyError(reason)
        return policy
    if name.startswith("action:"):
        text = name.partition(":")[2]
        if not text.isdigit():
            raise PolicyError(f"{name!r} needs an action number, e.g. action:0")
        policy = FixedActionPolicy(spec, int(text))
        reason = policy.unsupported(spec, spec.seat_names)
        if reason:
            raise PolicyError(reason)
        return policy
    if name.startswith("mcts:") or name == "mcts":
        text = name.partition(":")[2]
        if not text.isdigit() or int(text) < 1:
            raise PolicyError(f"{name!r} needs a positive number of simulations, e.g. mcts:100")
        policy = MCTSPolicy(spec, int(text))
        reason = policy.unsupported(spec, spec.seat_names)
        if reason:
            raise PolicyError(reason)
        return policy
    raise PolicyError(f"unknown baseline {name!r}; baselines: {', '.join(BASELINES)}")


def is_baseline_name(name: str) -> bool:
    return name in ("random", "scripted", "alphabeta") or name.startswith(("mcts:", "action:"))


__all__ = ["AlphaBetaPolicy", "BASELINES", "FixedActionPolicy", "MCTSPolicy", "RandomPolicy", "ScriptedPolicy", "is_baseline_name", "make_baseline"]


# -- scripted players for the VMAS particle worlds (games/vmas.py) ------------------------------
# The VMAS games keep mpe2's action conventions (Discrete(9) starts with mpe2's five moves;
# continuous is mpe2's Box(0, 1, (5,))), so `_towards` serves them unchanged. Layouts:
#   simple_tag_vmas: as mpe2 (predator 16, prey 14)
#   simple_spread_vmas agent: pos 2 | vel 2 | landmarks 2*3 | other agents 2*2 (landmarks at 4:10, as mpe2)
#   football player, p per team, in its own frame (the opponents' goal to the right):
#     force 2 | me-ball 2 | my vel-ball vel 2 | ball-goal 2 | ball vel 2 | ball force 2 | me-goal 2 | vel 2
#     | opponents 8*p | teammates 8*(p-1), each block starting with me-them

_FOOTBALL_GOAL_X = 1.51  # VMAS football's goal line: pitch_length / 2 + ball_size / 2 (default pitch)


def _football(obs: np.ndarray) -> np.ndarray:
    """The player nearest the ball gets behind it and pushes it at the opponents' goal; the
    others hold the midpoint between the ball and their own goal.

    Example:
        >>> obs = np.zeros((1, 56), np.float32); obs[0, 2:4] = [0.5, 0.0]; obs[0, 6:8] = [-1.0, 0.0]
        >>> np.round(_football(obs).astype(float), 2).tolist()  # the ball is behind me: go round it
        [[-0.55, 0.1]]
    """
    players = (obs.shape[1] - 8) // 16
    to_ball = -obs[:, 2:4]  # (b, 2) the ball, relative to me
    ahead = -obs[:, 6:8] / np.maximum(np.linalg.norm(obs[:, 6:8], axis=1, keepdims=True), 1e-9)  # (b, 2) ball -> goal
    behind = to_ball - 0.05 * ahead  # (b, 2) the spot just behind the ball
    wrong_side = (to_ball * ahead).sum(1, keepdims=True) < 0  # (b, 1) I stand between the ball and their goal
    turn = np.sign(to_ball[:, :1] * ahead[:, 1:] - to_ball[:, 1:] * ahead[:, :1] + 1e-9)  # (b, 1) round it on this side
    sideways = np.stack([-ahead[:, 1], ahead[:, 0]], axis=1) * turn  # (b, 2)
    attack = np.where(np.linalg.norm(behind, axis=1, keepdims=True) < 0.03, ahead,
                      behind + np.where(wrong_side, 0.1 * sideways, 0.0))
    first = 16 + 8 * players  # the teammates' blocks
    mine = np.linalg.norm(to_ball, axis=1)  # (b,)
    nearest = np.ones(len(obs), dtype=bool)
    for j in range(players - 1):
        mate_to_ball = to_ball + obs[:, first + 8 * j:first + 8 * j + 2]  # ball - mate = (ball - me) + (me - mate)
        nearest &= mine <= np.linalg.norm(mate_to_ball, axis=1)
    own_goal = -obs[:, 12:14] - np.array([2 * _FOOTBALL_GOAL_X, 0.0], dtype=np.float32)  # (b, 2) relative to me
    return np.where(nearest[:, None], attack, 0.5 * (to_ball + own_goal))


SCRIPTS["simple_tag_vmas"] = {"adversary": _tag_predator, "agent": _tag_prey}
SCRIPTS["simple_spread_vmas"] = {"agent": _spread}
SCRIPTS["football"] = {"agent_blue": _football, "agent_red": _football}
