"""OpenSpiel adapter: any pyspiel game as a `VecEnv` of n copies.

Sequential and simultaneous moves, chance nodes (sampled with each copy's seeded RNG) and
imperfect information (information-state tensors where the game has them, observation
tensors otherwise). Seats are named "player_0", "player_1", ...

Turn-based games take a fast path: one Python loop over the copies per step, with at most
five engine calls per copy (apply, terminal?, whose turn, observe, legal actions); every
other piece of bookkeeping is a vectorised numpy operation over all copies.

Example:
    >>> from games.openspiel import OpenSpielGame
    >>> game = OpenSpielGame("hex_3", "hex(board_size=3)")
    >>> game.spec.turn_based, game.spec.kind, game.spec.seat_names
    (True, 'competitive', ('player_0', 'player_1'))
"""

from __future__ import annotations

import random
from itertools import chain
from typing import Callable, Mapping, Sequence

import numpy as np
import pyspiel
from open_spiel.python.observation import INFO_STATE_OBS_TYPE, make_observation

from games.base import (
    Discrete,
    Game,
    GameError,
    GameSpec,
    Judge,
    SeatSpec,
    Side,
    StepResult,
    VecEnv,
)

_NOTHING: list[int] = []  # the legal actions of a finished copy


def load_pyspiel(source: str) -> pyspiel.Game:
    """Load an OpenSpiel game by its string, e.g. "connect_four" or "hex(board_size=5)"."""
    try:
        return pyspiel.load_game(source)
    except pyspiel.SpielError as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else "unknown error"
        raise GameError(f"OpenSpiel cannot load {source!r}: {first}") from None


def _observer(game: pyspiel.Game):
    """An observation object: the information state where the game has one, else the observation."""
    kind = game.get_type()
    if kind.provides_information_state_tensor:
        return make_observation(game, INFO_STATE_OBS_TYPE)
    if kind.provides_observation_tensor:
        return make_observation(game)
    raise GameError(f"OpenSpiel game {kind.short_name!r} provides no observation tensor")


def state_observer(engine: pyspiel.Game) -> Callable[[pyspiel.State, int], np.ndarray]:
    """`observe(state, player)` -> (obs_size,) float32: what the league's env shows `player` in
    `state` (the same tensor, as a copy); for search bots that evaluate positions off the board.

    Example:
        >>> engine = pyspiel.load_game("tic_tac_toe")
        >>> state_observer(engine)(engine.new_initial_state(), 0).shape
        (27,)
    """
    observation = _observer(engine)
    set_from = _set_from(observation)

    def observe(state: pyspiel.State, player: int) -> np.ndarray:
        set_from(state, player)
        return np.array(observation.tensor, dtype=np.float32).reshape(-1)

    return observe


def _chance_action(outcomes: Sequence[tuple[int, float]], u: float) -> int:
    """The chance outcome that a uniform `u` in [0, 1) picks (inverse CDF over `outcomes`)."""
    total = 0.0
    for a, p in outcomes:
        total += p
        if u < total:
            return a
    return outcomes[-1][0]


_NAME_PROBE_PLIES = 2_000  # engine steps spent looking for every action's name ...
_NAME_PROBE_EPISODES = 8  # ... in at most this many playouts (bridge, which scores each deal by search, takes ~4 s)


def action_names(engine: pyspiel.Game) -> list[tuple[str, ...] | None]:
    """Per player, the name of each action, where OpenSpiel's names are stable, else None.

    Names are read only for legal actions (some games crash on others), along seeded random
    playouts, until every action of a player was seen legal; a player keeps its names if every
    action was named, each the same way in every state where it was legal, all distinct.

    Example:
        >>> [names[:3] for names in action_names(pyspiel.load_game("connect_four"))]
        [('x0', 'x1', 'x2'), ('o0', 'o1', 'o2')]
        >>> action_names(pyspiel.load_game("chess"))
        [None, None]
    """
    players, n = engine.num_players(), engine.num_distinct_actions()
    seen: list[dict[int, str]] = [{} for _ in range(players)]
    unstable = [False] * players
    try:
        _walk_names(engine, seen, unstable, random.Random(0))
    except pyspiel.SpielError:  # a game that objects to being walked this way: no names
        return [None] * players
    out: list[tuple[str, ...] | None] = []
    for p in range(players):
        names = tuple(seen[p].get(a, "") for a in range(n))
        ok = not unstable[p] and len(seen[p]) == n and len(set(names)) == n
        out.append(names if ok else None)
    return out


def _walk_names(engine: pyspiel.Game, seen: list[dict[int, str]], unstable: list[bool], rng: random.Random) -> None:
    """Seeded random playouts recording each player's legal actions' names (see `action_names`)."""
    players, n = engine.num_players(), engine.num_distinct_actions()
    plies = 0
    for _ in range(_NAME_PROBE_EPISODES):
        if plies >= _NAME_PROBE_PLIES or all(unstable[p] or len(seen[p]) == n for p in range(players)):
            return
        state = engine.new_initial_state()
        while not state.is_terminal() and plies < _NAME_PROBE_PLIES:
            plies += 1
            if state.is_chance_node():
                state.apply_action(_chance_action(state.chance_outcomes(), rng.random()))
                continue
            movers = range(players) if state.is_simultaneous_node() else [state.current_player()]
            joint = []
            for p in movers:
                legal = state.legal_actions(p)
                for a in legal:
                    name = state.action_to_string(p, a)
                    unstable[p] = unstable[p] or seen[p].setdefault(a, name) != name
                joint.append(rng.choice(legal) if legal else 0)
            if state.is_simultaneous_node():
                state.apply_actions(joint)
            else:
                state.apply_action(joint[0])


def replay_text(source: str, seed: int, actions: Sequence[int | Sequence[int]]) -> list[str]:
    """The OpenSpiel state as text before and after each of `actions` in an episode of `seed`.

    `seed` is the episode seed (`StepResult.episode_seed`): chance outcomes are drawn exactly
    as `OpenSpielVecEnv` draws them. A turn-based game takes one action per step; a
    simultaneous one takes each step's joint action (one per player).

    Example:
        >>> replay_text("tic_tac_toe", 0, [4, 0])[-1].splitlines()
        ['o..', '.x.', '...']
    """
    engine = load_pyspiel(source)
    rng = random.Random(int(seed))
    state = engine.new_initial_state()

    def settle() -> None:
        while state.is_chance_node():
            state.apply_action(_chance_action(state.chance_outcomes(), rng.random()))

    settle()
    out = [str(state)]
    for step, action in enumerate(actions):
        if state.is_terminal():
            raise GameError(f"the episode of {source!r} was over before action {step} ({action!r})")
        if state.is_simultaneous_node():
            joint = [int(a) for a in action]  # type: ignore[union-attr]
            legal = [state.legal_actions(p) for p in range(engine.num_players())]
            if len(joint) != len(legal) or any(a not in ok for a, ok in zip(joint, legal) if ok):
                raise GameError(f"step {step} of {source!r} needs one legal action per player, got {action!r}")
            state.apply_actions(joint)
        else:
            player = state.current_player()
            move = int(action[player] if isinstance(action, Sequence) else action)
            if move not in state.legal_actions():
                raise GameError(f"action {move} is not legal for player {player} at step {step} of {source!r}; "
                                f"legal: {state.legal_actions()}")
            state.apply_action(move)
        settle()
        out.append(str(state))
    return out


# Board games whose observation tensor is absolute (the same for both players): the two planes
# that hold player 0's and player 1's pieces. Player 1 sees them swapped (`SeatSpec.own_view`),
# so one network plays either side from its own point of view, as AlphaZero's inputs do.
PLAYER_PLANES = {"connect_four": (0, 1), "tic_tac_toe": (1, 2)}


def own_view(short_name: str, obs_shape: tuple[int, ...], player: int) -> tuple[int, ...] | None:
    """The flat indices that show `player` its own pieces in player 0's plane, or None.

    Example:
        >>> view = own_view("tic_tac_toe", (3, 3, 3), 1)
        >>> view[9:12], view[18:21]   # o's plane comes first, x's second
        ((18, 19, 20), (9, 10, 11))
        >>> own_view("tic_tac_toe", (3, 3, 3), 0) is None
        True
    """
    if short_name not in PLAYER_PLANES or player == 0 or len(obs_shape) != 3:
        return None
    first, second = PLAYER_PLANES[short_name]
    planes = list(range(obs_shape[0]))
    planes[first], planes[second] = second, first
    index = np.arange(int(np.prod(obs_shape))).reshape(obs_shape)[planes]  # (C, H, W), the two planes swapped
    return tuple(int(i) for i in index.reshape(-1))


def _set_from(observation):
    """The fastest `set_from(state, player)` callable of an observation object."""
    inner = getattr(observation, "_observation", None)
    return inner.set_from if inner is not None else observation.set_from


class OpenSpielGame(Game):
    """An OpenSpiel game with the league's metadata (kind, sides, roles)."""

    def __init__(
        self,
        name: str,
        source: str,
        *,
        kind: str | None = None,
        sides: Sequence[Side] | None = None,
        judge: Judge | None = None,
        description: str = "",
        ref: str | None = None,
    ):
        self.source = source
        self.ref = ref or name
        self.engine = load_pyspiel(source)
        info = self.engine.get_type()
        if info.dynamics not in (pyspiel.GameType.Dynamics.SEQUENTIAL, pyspiel.GameType.Dynamics.SIMULTANEOUS):
            raise GameError(f"OpenSpiel game {source!r} is neither sequential nor simultaneous")
        players = self.engine.num_players()
        seat_names = tuple(f"player_{p}" for p in range(players))
        obs_shape = tuple(int(d) for d in _observer(self.engine).tensor.shape)
        if info.provides_information_state_tensor:
            obs_shape = tuple(self.engine.information_state_tensor_shape())
        elif info.provides_observation_tensor:
            obs_shape = tuple(self.engine.observation_tensor_shape())
        n_actions = self.engine.num_distinct_actions()
        names = action_names(self.engine)
        seats = tuple(SeatSpec(name, obs_shape, Discrete(n_actions), masked=True, action_names=names[p],
                               own_view=own_view(info.short_name, obs_shape, p))
                      for p, name in enumerate(seat_names))
        utility = info.utility
        zero_sum = utility in (pyspiel.GameType.Utility.ZERO_SUM, pyspiel.GameType.Utility.CONSTANT_SUM)
        if kind is None:
            kind = {
                pyspiel.GameType.Utility.ZERO_SUM: "competitive",
                pyspiel.GameType.Utility.CONSTANT_SUM: "competitive",
                pyspiel.GameType.Utility.IDENTICAL: "cooperative",
            }.get(utility, "mixed")
        if sides is None:
            if kind == "cooperative":
                sides = (Side("team", seat_names, "player"),)
            elif players == 2:
                sides = (Side("first", (seat_names[0],), "player"), Side("second", (seat_names[1],), "player"))
            else:
                sides = tuple(Side(f"seat_{p}", (seat_names[p],), "player") for p in range(players))
        size = int(np.prod(obs_shape))
        self.spec = GameSpec(
            name=name,
            kind=kind,  # type: ignore[arg-type]
            backend="openspiel",
            turn_based=info.dynamics == pyspiel.GameType.Dynamics.SEQUENTIAL,
            max_steps=int(self.engine.max_game_length()),
            seats=seats,
            sides=tuple(sides),
            state_shape=(size * players,),
            zero_sum=zero_sum,
            judge=judge or Judge(),
            description=description,
            source=source,
            perfect_information=info.information == pyspiel.GameType.Information.PERFECT_INFORMATION,
        )

    def make(self, n: int = 1, seed: int = 0) -> "OpenSpielVecEnv":
        return OpenSpielVecEnv(self, n, seed)


class OpenSpielVecEnv(VecEnv):
    """n OpenSpiel states stepped in lockstep."""

    def __init__(self, game: OpenSpielGame, n: int, seed: int):
        super().__init__(game.spec, n, seed)
        self.engine = game.engine
        info = self.engine.get_type()
        self.players = self.engine.num_players()
        self.seats = self.spec.seat_names
        self.n_actions = self.engine.num_distinct_actions()
        self.has_chance = info.chance_mode != pyspiel.GameType.ChanceMode.DETERMINISTIC
        self.terminal_rewards = info.reward_model == pyspiel.GameType.RewardModel.TERMINAL
        self.turn_based = self.spec.turn_based
        self.obs_size = int(np.prod(self.spec.seats[0].obs_shape))
        self.rngs = [random.Random(0) for _ in range(n)]
        self.states: list[pyspiel.State] = [None] * n  # type: ignore[list-item]
        # Turn-based: one observation buffer per copy (only one seat acts per copy).
        # Simultaneous: one per (copy, seat).
        per_copy = 1 if self.turn_based else self.players
        self._observations = [[_observer(self.engine) for _ in range(per_copy)] for _ in range(n)]
        self._views = [[o.tensor for o in row] for row in self._observations]
        self._setters = [[_set_from(o) for o in row] for row in self._observations]
        self._scratch = _observer(self.engine)  # for final observations and global states
        self._turn_setters = [row[0] for row in self._setters]
        self._turn_views = [row[0] for row in self._views]
        self._arange = np.arange(n)
        self._current = np.zeros(n, dtype=np.int64)  # whose turn (turn-based)
        self._flat_obs = {seat: self.obs[seat].reshape(n, -1) for seat in self.seats}
        self._state_cache: np.ndarray | None = None
        self.reset()

    # -- episode start -------------------------------------------------------------------
    def reset(self, seeds: Sequence[int] | None = None, copies: Sequence[int] | None = None) -> None:
        idx, seed_arr = self._reset_targets(seeds, copies)
        for i, s in zip(idx.tolist(), seed_arr.tolist()):
            self._start(i, s)
        self._state_cache = None

    def _start(self, i: int, seed: int) -> None:
        """Begin a new episode in copy i and observe it (slow path, once per episode)."""
        if self.has_chance:
            self.rngs[i].seed(seed)
        self.episode_seed[i] = seed
        self.episodes[i] += 1
        self.ply[i] = 0
        for seat in self.seats:
            self._returns[seat][i] = 0.0
        state = self.engine.new_initial_state()
        self.states[i] = state
        self._resolve_chance(i)
        self._observe_copy(i)

    def _resolve_chance(self, i: int) -> list[float] | None:
        """Sample chance outcomes in copy i with its RNG; returns rewards collected on the way."""
        state = self.states[i]
        collected = None
        while state.is_chance_node():
            state.apply_action(_chance_action(state.chance_outcomes(), self.rngs[i].random()))
            if not self.terminal_rewards:
                r = state.rewards()
                collected = r if collected is None else [x + y for x, y in zip(collected, r)]
        return collected

    def _observe_copy(self, i: int) -> None:
        """Refresh acting, obs and mask rows of copy i from its state (slow path)."""
        state = self.states[i]
        for p, seat in enumerate(self.seats):
            self.acting[seat][i] = False
            self.mask[seat][i] = False
        if state.is_terminal():
            return
        if state.is_simultaneous_node():
            players = [p for p in range(self.players) if state.legal_actions(p)]
        else:
            players = [state.current_player()]
        for p in players:
            seat = self.seats[p]
            slot = 0 if self.turn_based else p
            self._setters[i][slot](state, p)
            self._flat_obs[seat][i] = self._views[i][slot]
            self.acting[seat][i] = True
            self.mask[seat][i, state.legal_actions(p)] = True
        if self.turn_based:
            self._current[i] = players[0]

    # -- stepping -------------------------------------------------------------------------
    def step(self, actions: Mapping[str, np.ndarray], *, next_seeds: np.ndarray | None = None) -> StepResult:
        acts = self._check_actions(actions)
        n = self.n
        reward = {seat: np.zeros(n, dtype=np.float32) for seat in self.seats}
        terminated = np.zeros(n, dtype=bool)
        if self.turn_based:
            ended = self._step_turns(acts, reward, terminated)
        else:
            ended = self._step_simultaneous(acts, reward, terminated)
        self.ply += 1
        for seat in self.seats:
            self._returns[seat] += reward[seat]
        truncated = np.zeros(n, dtype=bool)  # OpenSpiel games end by their own rules
        finished = np.asarray(sorted(ended), dtype=np.int64)
        result = self._finish(finished, reward, terminated, truncated, next_seeds)
        self._state_cache = None
        return result

    def _step_turns(self, acts: dict[str, np.ndarray], reward: dict[str, np.ndarray], terminated: np.ndarray) -> list[int]:
        n = self.n
        # (players, n) -> one action per copy, chosen by whose turn it is
        table = np.zeros((self.players, n), dtype=np.int64)
        for p, seat in enumerate(self.seats):
            if seat in acts:
                table[p] = acts[seat]
        chosen = table[self._current, np.arange(n)].tolist()
        terminal_rewards = self.terminal_rewards
        ended: list[int] = []
        legal: list[list[int]] = []
        players: list[int] = []
        step_rewards: list[tuple[int, list[float]]] = []
        add_legal, add_player = legal.append, players.append
        # Hot loop: four engine calls per copy (apply, whose turn, observe, legal actions);
        # a negative player id (terminal, chance) sends the copy down the slow path.
        for i, (state, action, observe) in enumerate(zip(self.states, chosen, self._turn_setters)):
            state.apply_action(action)
            if not terminal_rewards:
                step_rewards.append((i, state.rewards()))
            p = state.current_player()
            if p < 0:
                if state.is_chance_node():
                    extra = self._resolve_chance(i)
                    if extra is not None:
                        step_rewards.append((i, extra))
                    p = state.current_player()
                if state.is_terminal():
                    ended.append(i)
                    add_legal(_NOTHING)
                    add_player(0)
                    continue
            observe(state, p)
            add_player(p)
            add_legal(state.legal_actions())
        for i, r in step_rewards:
            for p, seat in enumerate(self.seats):
                reward[seat][i] += r[p]
        for i in ended:
            terminated[i] = True
            if terminal_rewards:
                for p, value in enumerate(self.states[i].returns()):
                    reward[self.seats[p]][i] += value
        self._current[:] = players
        # (n, obs) gathered in one C call (joining the copies' buffers beats np.stack 8x);
        # each seat keeps its rows where it acts
        stacked = np.frombuffer(b"".join(self._turn_views), dtype=np.float32).reshape(n, self.obs_size)
        mask_all = np.zeros((n, self.n_actions), dtype=bool)
        lengths = list(map(len, legal))
        mask_all[np.repeat(self._arange, lengths), np.fromiter(chain.from_iterable(legal), np.int64, sum(lengths))] = True
        live = ~terminated
        for p, seat in enumerate(self.seats):
            acting = self.acting[seat]
            np.logical_and(self._current == p, live, out=acting)
            np.copyto(self._flat_obs[seat], stacked, where=acting[:, None])
            np.logical_and(mask_all, acting[:, None], out=self.mask[seat])
        return ended

    def _step_simultaneous(self, acts: dict[str, np.ndarray], reward: dict[str, np.ndarray], terminated: np.ndarray) -> list[int]:
        ended: list[int] = []
        acting_now = {seat: self.acting[seat].copy() for seat in self.seats}
        for i, state in enumerate(self.states):
            if state.is_simultaneous_node():
                joint = [int(acts[seat][i]) if acting_now[seat][i] else 0 for seat in self.seats]
                state.apply_actions(joint)
            else:
                p = state.current_player()
                state.apply_action(int(acts[self.seats[p]][i]))
            if not self.terminal_rewards:
                for p, value in enumerate(state.rewards()):
                    reward[self.seats[p]][i] += value
            if self.has_chance and state.is_chance_node():
                extra = self._resolve_chance(i)
                if extra is not None:
                    for p, value in enumerate(extra):
                        reward[self.seats[p]][i] += value
            if state.is_terminal():
                ended.append(i)
                terminated[i] = True
                if self.terminal_rewards:
                    for p, value in enumerate(state.returns()):
                        reward[self.seats[p]][i] += value
            self._observe_copy(i)
        return ended

    def _finish(self, finished: np.ndarray, reward, terminated, truncated, next_seeds) -> StepResult:
        """Collect finished copies' final observations and returns, then reset them."""
        k = len(finished)
        final_obs = {s.name: np.zeros((k, *s.obs_shape), dtype=np.float32) for s in self.spec.seats}
        final_state = np.zeros((k, *self.spec.state_shape), dtype=np.float32)
        episode_return = {seat: np.zeros(k, dtype=np.float64) for seat in self.seats}
        episode_length = self.ply[finished].copy()
        episode_seed = self.episode_seed[finished].copy()
        for row, i in enumerate(finished.tolist()):
            state_vec = self._global_state(self.states[i])
            final_state[row] = state_vec
            for p, seat in enumerate(self.seats):
                final_obs[seat][row] = state_vec[p * self.obs_size:(p + 1) * self.obs_size].reshape(self.spec.seats[p].obs_shape)
                episode_return[seat][row] = self._returns[seat][i]
        if k:
            self.reset(seeds=self._next_seeds(finished, next_seeds), copies=finished)
        return StepResult(
            reward=reward,
            terminated=terminated,
            truncated=truncated,
            finished=finished,
            final_obs=final_obs,
            final_state=final_state,
            episode_return=episode_return,
            episode_length=episode_length,
            episode_seed=episode_seed,
        )

    # -- global state ---------------------------------------------------------------------
    def _global_state(self, state: pyspiel.State) -> np.ndarray:
        """Every seat's observation of `state`, concatenated: (players * obs_size,)."""
        out = np.empty(self.obs_size * self.players, dtype=np.float32)
        for p in range(self.players):
            self._scratch.set_from(state, p)
            out[p * self.obs_size:(p + 1) * self.obs_size] = self._scratch.tensor
        return out

    @property
    def state(self) -> np.ndarray:
        if self._state_cache is None:
            self._state_cache = np.stack([self._global_state(s) for s in self.states])
        return self._state_cache

    def engine_states(self, copies: np.ndarray) -> list[pyspiel.State]:
        """The pyspiel states of `copies` (for search bots such as MCTS); do not mutate them."""
        return [self.states[i] for i in np.asarray(copies).tolist()]
