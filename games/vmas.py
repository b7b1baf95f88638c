"""VMAS adapter: thousands of particle-world copies stepped in one batched torch call.

A `VmasGame` wraps a VMAS scenario (`vmas.make_env(scenario, num_envs=n)`); its `VecEnv`
steps all `n` copies with one `Environment.step` and converts observations and rewards to
numpy once per step. There is no per-copy Python loop on the hot path: actions are encoded
for all copies at once, and finished copies are reset together, vectorised.

Actions. VMAS is always driven in its continuous mode; the league's action for a seat is
encoded into it. Two-dimensional holonomic agents (every MPE port and football) use
mpe2's conventions, so scripted heuristics and action meanings carry over: discrete
`Discrete(9)` is mpe2's five moves [noop, left, right, down, up] followed by the four
diagonals VMAS adds (times 4 for the world_comm leader's `say` channel, `move + 9 * say`);
continuous is mpe2's `Box(0, 1, (5,))` (u = (a2 - a1, a4 - a3), a0 unused) plus any
communication channels. Other agents get VMAS's own flat discrete product, or
`Box(-1, 1, (size + comm,))` scaled by the agent's `u_range`.

Reproducibility. Physics in VMAS is deterministic batched tensor arithmetic, so only the
initial state of an episode is random. For the registered scenarios (the MPE ports and
football) this adapter draws it itself, vectorised, from counter-based uniforms keyed by the
episode seed (`games.uniforms`), with VMAS's distributions: an episode is a pure function of
its seed and the actions, whichever batch or copy plays it. Any other scenario is reset
copy by copy with VMAS's own `reset_at` after `Environment.seed(episode seed)`: also a
function of the seed, but O(n) per reset copy. The global torch/numpy RNGs are left alone.

Example:
    >>> import games
    >>> env = games.load("simple_tag_vmas").make(4, seed=0)
    >>> env.obs["adversary_0"].shape, env.state.shape, env.spec.seat("agent_0").action
    ((4, 16), (4, 62), Discrete(n=9))
"""

from __future__ import annotations

import contextlib
import difflib
import itertools
import math
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Mapping, Sequence

import numpy as np

from games.base import (
    Box,
    Discrete,
    Game,
    GameError,
    GameSpec,
    Judge,
    SeatSpec,
    Side,
    StepResult,
    VecEnv,
    derive_seed,
    uniforms,
)

# mpe2's five moves, then VMAS's four diagonals: (move, 2) as a fraction of the agent's u_range
MOVES = np.array([[0, 0], [-1, 0], [1, 0], [0, -1], [0, 1], [-1, -1], [-1, 1], [1, -1], [1, 1]], dtype=np.float32)
MOVE_NAMES = ("no_action", "move_left", "move_right", "move_down", "move_up",
              "move_left_down", "move_left_up", "move_right_down", "move_right_up")
_RESET_SALT = 0x564D4153  # "VMAS": decorrelates initial states from policy keys of the same seed


def _vmas() -> Any:
    """The vmas package, or one clear sentence when it is missing."""
    try:
        import vmas
    except ImportError:
        raise GameError("VMAS games need the vmas package, which is not installed: pip install vmas") from None
    return vmas


def scenario_names() -> list[str]:
    """Every scenario name VMAS knows (its own, the MPE ports and the debug scenarios).

    Example:
        >>> {"football", "simple_tag", "transport"} <= set(scenario_names())
        True
    """
    vmas = _vmas()
    return sorted(set(vmas.scenarios) | set(vmas.mpe_scenarios) | set(vmas.debug_scenarios))


def check_scenario(scenario: str) -> str:
    """`scenario` if VMAS has it, else a GameError listing the valid names.

    Example:
        >>> check_scenario("footbal")
        Traceback (most recent call last):
        ...
        games.base.GameError: unknown VMAS scenario 'footbal' (did you mean 'football'?); valid scenarios: ...
    """
    valid = scenario_names()
    if scenario not in valid:
        close = difflib.get_close_matches(scenario, valid, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise GameError(f"unknown VMAS scenario {scenario!r}{hint}; valid scenarios: {', '.join(valid)}")
    return scenario


# -- actions ---------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class ActionCodec:
    """How one seat's league action becomes its VMAS agent's continuous action [u, comm]."""

    moves: np.ndarray  # (n_moves, size): each discrete move as a fraction of u_range
    u_range: np.ndarray  # (size,)
    dim_c: int  # communication channels (0 for a silent agent)
    mpe: bool  # mpe2's layout (Box(0, 1, (5 + c,))) rather than VMAS's native Box(-1, 1, (size + c,))

    @property
    def size(self) -> int:
        return len(self.u_range)

    def space(self, continuous: bool) -> Discrete | Box:
        if not continuous:
            return Discrete(len(self.moves) * max(self.dim_c, 1))
        return Box(((5 if self.mpe else self.size) + self.dim_c,), 0.0 if self.mpe else -1.0, 1.0)

    def names(self, continuous: bool) -> tuple[str, ...] | None:
        """Names of the discrete actions (mpe2's layout only: move, then `+say_k` per channel).

        Example:
            >>> ActionCodec(MOVES, np.ones(2, np.float32), 2, True).names(False)[8:10]
            ('move_right_up+say_0', 'no_action+say_1')
        """
        if continuous or not self.mpe:
            return None
        if not self.dim_c:
            return MOVE_NAMES
        return tuple(f"{move}+say_{k}" for k in range(self.dim_c) for move in MOVE_NAMES)

    def encode(self, action: np.ndarray, continuous: bool) -> np.ndarray:
        """(n,) int or (n, d) float league actions -> (n, size + dim_c) float32 VMAS actions.

        Example:
            >>> codec = ActionCodec(MOVES, np.ones(2, np.float32), 0, True)
            >>> codec.encode(np.array([2, 3]), False).tolist()
            [[1.0, 0.0], [0.0, -1.0]]
            >>> codec.encode(np.array([[0, 0.25, 1, 0, 0.5]], np.float32), True).tolist()
            [[0.75, 0.5]]
        """
        if not continuous:
            a = np.asarray(action, dtype=np.int64)  # (n,)
            u = self.moves[a % len(self.moves)]  # (n, size)
            comm = np.eye(self.dim_c, dtype=np.float32)[a // len(self.moves)] if self.dim_c else None  # (n, c)
        elif self.mpe:
            a = np.asarray(action, dtype=np.float32)  # (n, 5 + c)
            u = np.stack([a[:, 2] - a[:, 1], a[:, 4] - a[:, 3]], axis=1)  # (n, 2)
            comm = a[:, 5:] if self.dim_c else None
        else:
            a = np.asarray(action, dtype=np.float32)  # (n, size + c)
            u = a[:, : self.size]
            comm = (a[:, self.size:] + 1.0) / 2.0 if self.dim_c else None  # [-1, 1] -> VMAS's [0, 1]
        u = np.clip(u, -1.0, 1.0) * self.u_range  # (n, size)
        return np.ascontiguousarray(u if comm is None else np.concatenate([u, comm], axis=1), dtype=np.float32)


def _native_moves(nvec: Sequence[int]) -> np.ndarray:
    """VMAS's flat discrete actions (first dimension most significant) as fractions of u_range."""
    rows = []
    for combo in itertools.product(*[range(n) for n in nvec]):
        row = []
        for j, n in zip(combo, nvec):
            if n % 2:  # odd n: action 0 is "stay", as in VMAS
                j = n // 2 if j == 0 else (j - 1 if j <= n // 2 else j)
            row.append(j / (n - 1) * 2.0 - 1.0)
        rows.append(row)
    return np.asarray(rows, dtype=np.float32)


def _codec(env: Any, agent: Any) -> ActionCodec:
    from vmas.simulator.dynamics.holonomic import Holonomic

    u_range = agent.action.u_range_tensor.cpu().numpy().astype(np.float32)  # (size,)
    nvec = list(agent.discrete_action_nvec)
    dim_c = 0 if agent.silent else int(env.world.dim_c)
    mpe = type(agent.dynamics) is Holonomic and len(u_range) == 2 and nvec == [3, 3]  # a force in x and y
    return ActionCodec(MOVES if mpe else _native_moves(nvec), u_range, dim_c, mpe)


# -- vectorised, seeded resets of the registered scenarios -----------------------------------

def _positions(keys: np.ndarray, count: int, low: float, high: float, salt: int) -> np.ndarray:
    """(k, count, 2) float32 positions uniform in [low, high)^2, a pure function of each key."""
    u = uniforms(derive_seed(keys, salt), 2 * count)  # (k, 2 * count)
    return (low + u * (high - low)).astype(np.float32).reshape(len(keys), count, 2)


def _place(entities: Sequence[Any], idx: Any, pos: np.ndarray) -> None:
    import torch

    for j, entity in enumerate(entities):
        entity.state.pos[idx] = torch.from_numpy(pos[:, j])  # (k, 2)
        entity.notify_observers()


def _reset_mpe(low: float, high: float, landmark_low: float, landmark_high: float) -> Callable:
    """A reset drawing agents in [low, high)^2 and landmarks in [landmark_low, landmark_high)^2."""

    def reset(env: Any, idx: Any, keys: np.ndarray) -> None:
        world = env.world
        world.reset(idx)  # zero every entity's state in these copies (VMAS masks by index)
        _place(world.agents, idx, _positions(keys, len(world.agents), low, high, 1))
        _place(world.landmarks, idx, _positions(keys, len(world.landmarks), landmark_low, landmark_high, 2))

    return reset


def _reset_tag(env: Any, idx: Any, keys: np.ndarray) -> None:
    bound = float(env.scenario.bound)
    _reset_mpe(-bound, bound, -(bound - 0.1), bound - 0.1)(env, idx, keys)


def _reset_football(env: Any, idx: Any, keys: np.ndarray) -> None:
    """VMAS football's reset_world_at (random spawn in each half, ball at the centre), vectorised."""
    import torch

    sc = env.scenario
    blue, red = list(sc.blue_agents), list(sc.red_agents)
    for entity in blue + red + [sc.ball]:
        entity._reset(idx)  # walls and goals never move: leave them
    for team, offset, salt in ((blue, sc._reset_agent_offset_blue, 1), (red, sc._reset_agent_offset_red, 2)):
        u = torch.from_numpy(_positions(keys, len(team), 0.0, 1.0, salt))  # (k, players, 2)
        _place(team, idx, (u * sc._reset_agent_range + offset).numpy())
    for agent in red:
        agent.state.rot[idx] = math.pi
    ball = sc.ball.state.pos[idx]  # (k, 2)
    for team, goal, colour, ai in ((blue, sc.right_goal_pos, "blue", sc.ai_blue_agents),
                                   (red, sc.left_goal_pos, "red", sc.ai_red_agents)):
        if ai:
            continue
        dist = torch.stack([a.state.pos[idx] for a in team], 1).sub(ball[:, None]).norm(dim=-1).min(1).values  # (k,)
        getattr(sc, f"min_agent_dist_to_ball_{colour}")[idx] = dist
        getattr(sc.ball, f"pos_shaping_{colour}")[idx] = (ball - goal).norm(dim=-1) * sc.pos_shaping_factor_ball_goal
        getattr(sc.ball, f"pos_shaping_agent_{colour}")[idx] = dist * sc.pos_shaping_factor_agent_ball
    sc._done[idx] = False


RESETS: dict[str, Callable[[Any, Any, np.ndarray], None]] = {
    "simple_tag": _reset_tag,
    "simple_adversary": _reset_mpe(-1.0, 1.0, -1.0, 1.0),
    "simple_spread": _reset_mpe(-1.0, 1.0, -1.0, 1.0),
    "simple_world_comm": _reset_mpe(-1.0, 1.0, -0.9, 0.9),
    "football": _reset_football,
}


def _fast_reset(scenario: str, env: Any) -> Callable[[Any, Any, np.ndarray], None] | None:
    """The vectorised reset for this scenario and configuration, or None (VMAS's own, per copy)."""
    sc = env.scenario
    if scenario == "football" and (sc.ai_blue_agents or sc.ai_red_agents or sc.spawn_in_formation
                                   or sc.enable_shooting or sc.physically_different):
        return None  # VMAS's AI controllers, formations and kicks keep state this reset does not know
    return RESETS.get(scenario)


def _landmark_blocks(env: Any) -> dict[str, int]:
    """simple_adversary: seat -> column where its landmark positions start (good agents see the goal first)."""
    return {a.name: (0 if a.adversary else 2) for a in env.agents}


# -- the game --------------------------------------------------------------------------------

class VmasGame(Game):
    """A VMAS scenario with the league's metadata (kind, sides, roles, judge)."""

    def __init__(
        self,
        name: str,
        scenario: str,
        *,
        kind: str,
        sides: Sequence[Side] | None = None,
        judge: Judge | None = None,
        description: str = "",
        continuous: bool = False,
        max_steps: int = 100,
        scenario_kwargs: Mapping[str, Any] | None = None,
        zero_sum: bool = False,
        ref: str | None = None,
    ):
        _vmas()
        self.ref = ref or name
        self.scenario = check_scenario(scenario)
        self.continuous = bool(continuous)
        self.kwargs = dict(scenario_kwargs or {})
        if int(max_steps) < 1:
            raise GameError(f"max_steps must be at least 1, got {max_steps}")
        probe = self.engine(1, 0)
        self.codecs: dict[str, ActionCodec] = {}
        seats = []
        for agent, space in zip(probe.agents, probe.observation_space):
            if not hasattr(space, "shape") or space.shape is None or len(space.shape) != 1:
                raise GameError(f"VMAS scenario {scenario!r} gives {type(space).__name__} observations; the league reads flat vectors")
            self.codecs[agent.name] = _codec(probe, agent)
            codec = self.codecs[agent.name]
            seats.append(SeatSpec(agent.name, (int(space.shape[0]),), codec.space(self.continuous), masked=False,
                                  action_names=codec.names(self.continuous)))
        self.fast_reset = _fast_reset(scenario, probe)
        self.landmark_blocks = _landmark_blocks(probe) if scenario == "simple_adversary" else {}
        self.n_landmarks = len(probe.world.landmarks)
        if sides is None:  # any other scenario: one cooperative team
            sides = (Side("team", tuple(s.name for s in seats), "agent"),)
        self.spec = GameSpec(
            name=name,
            kind=kind,  # type: ignore[arg-type]
            backend="vmas",
            turn_based=False,
            max_steps=int(max_steps),
            seats=tuple(seats),
            sides=tuple(sides),
            state_shape=(sum(s.obs_size for s in seats),),  # VMAS has no global state: every observation
            zero_sum=zero_sum,
            judge=judge or Judge(),
            description=description,
            source=f"vmas.{scenario}",
        )

    def engine(self, n: int, seed: int) -> Any:
        """A VMAS Environment of n copies on the CPU (continuous actions: see the module docstring)."""
        vmas = _vmas()
        try:
            env = vmas.make_env(self.scenario, num_envs=n, device="cpu", continuous_actions=True,
                                seed=int(seed) % 2**32, **self.kwargs)
        except (AssertionError, ValueError, TypeError) as error:
            raise GameError(f"VMAS could not make {self.scenario!r} with {self.kwargs}: {error}") from None
        if self.scenario == "simple_adversary":
            # VMAS draws one goal for the Environment's lifetime; fix it to landmark 0 (the
            # per-episode landmark shuffle hides it), so no episode depends on the engine seed
            for agent in env.world.agents:
                agent.goal = env.world.landmarks[0]
        return env

    def make(self, n: int = 1, seed: int = 0) -> "VmasVecEnv":
        return VmasVecEnv(self, n, seed)


class VmasVecEnv(VecEnv):
    """n copies of a VMAS scenario in one batched Environment.

    `threads` is torch's intra-op thread count while VMAS runs (restored afterwards): VMAS
    makes many small tensor ops, and on a busy 2-core machine a second OpenMP thread made
    some of them (torch.min over a dim) a hundred times slower.
    """

    threads: int = 1

    def __init__(self, game: VmasGame, n: int, seed: int):
        super().__init__(game.spec, n, seed)
        import torch

        self._torch = torch
        self.game = game
        self.env = game.engine(n, seed)
        self._order = [agent.name for agent in self.env.agents]  # VMAS's agent order
        bounds = np.cumsum([0] + [self.spec.seat(a).obs_size for a in self._order])
        self._columns = {a: (int(bounds[k]), int(bounds[k + 1])) for k, a in enumerate(self._order)}
        self._flat = np.zeros((n, int(bounds[-1])), dtype=np.float32)  # (n, state): every seat's obs
        self._perm = np.tile(np.arange(game.n_landmarks), (n, 1))  # simple_adversary: landmark order per copy
        self._reset_fn = game.fast_reset
        for seat in self.spec.seats:
            self.acting[seat.name][:] = True  # simultaneous moves: every seat acts in every copy
            self.mask[seat.name][:] = True
        self.reset()

    # -- engine <-> numpy ----------------------------------------------------------------
    @contextlib.contextmanager
    def _engine_threads(self) -> Iterator[None]:
        before = self._torch.get_num_threads()
        self._torch.set_num_threads(self.threads)
        try:
            yield
        finally:
            self._torch.set_num_threads(before)

    def _write(self, obs: Sequence[Any]) -> None:
        """Every seat's observation from VMAS's per-agent (n, d) tensors, converted once."""
        flat = self._torch.cat(list(obs), dim=1).numpy()  # (n, sum of d)
        if self.game.landmark_blocks:
            flat = self._shuffle_landmarks(flat)
        self._flat = flat
        for agent, (lo, hi) in self._columns.items():
            np.copyto(self.obs[agent], flat[:, lo:hi])

    def _shuffle_landmarks(self, flat: np.ndarray) -> np.ndarray:
        """simple_adversary: present the landmarks in a per-episode random order.

        VMAS picks one goal landmark for all copies for the Environment's lifetime, so in a
        fixed order the adversary would always find the goal in the same slot; mpe2 draws
        the goal anew each episode. Shuffling each copy's landmark slots restores that.
        """
        flat = flat.copy()
        L = self.game.n_landmarks
        rows = np.arange(self.n)[:, None]
        for agent, start in self.game.landmark_blocks.items():
            lo = self._columns[agent][0] + start
            blocks = flat[:, lo:lo + 2 * L].reshape(self.n, L, 2)  # (n, L, 2)
            flat[:, lo:lo + 2 * L] = blocks[rows, self._perm].reshape(self.n, 2 * L)
        return flat

    def _reset_engine(self, copies: np.ndarray, seeds: np.ndarray) -> None:
        keys = derive_seed(seeds, _RESET_SALT)  # (k,)
        if self._reset_fn is not None:
            idx = self._torch.from_numpy(copies)
            self._reset_fn(self.env, idx, keys)
            self.env.steps[idx] = 0
        else:  # VMAS's own reset, one copy at a time, seeded by the episode
            for i, key in zip(copies.tolist(), keys.tolist()):
                self.env.seed(key % 2**32)
                self.env.reset_at(i, return_observations=False)
        if self.game.landmark_blocks:
            order = np.argsort(uniforms(derive_seed(keys, 3), self.game.n_landmarks), axis=1)  # (k, L)
            self._perm[copies] = order

    # -- contract ------------------------------------------------------------------------
    def reset(self, seeds: Sequence[int] | None = None, copies: Sequence[int] | None = None) -> None:
        idx, seed_arr = self._reset_targets(seeds, copies)
        with self._engine_threads():
            if len(idx):
                self._reset_engine(idx, seed_arr)
            obs = self.env.get_from_scenario(get_observations=True, get_rewards=False, get_infos=False,
                                             get_dones=False)[0]
            self._write(obs)
        self.episode_seed[idx] = seed_arr
        self.episodes[idx] += 1
        self.ply[idx] = 0
        for seat in self.spec.seat_names:
            self._returns[seat][idx] = 0.0

    def step(self, actions: Mapping[str, np.ndarray], *, next_seeds: np.ndarray | None = None) -> StepResult:
        acts = self._check_actions(actions)
        torch = self._torch
        joint = [torch.from_numpy(self.game.codecs[a].encode(acts[a], self.game.continuous)) for a in self._order]
        with self._engine_threads():
            obs, rewards, dones, _ = self.env.step(joint)
            reward_all = torch.stack(rewards, dim=1).numpy().astype(np.float32, copy=False)  # (n, agents)
            terminated = dones.numpy().astype(bool)  # (n,) the scenario's own end (a goal in football)
            self._write(obs)
        self.ply += 1
        truncated = (self.ply >= self.spec.max_steps) & ~terminated
        reward = {a: np.ascontiguousarray(reward_all[:, k]) for k, a in enumerate(self._order)}
        for a in self._order:
            self._returns[a] += reward[a]
        return self._finish_step(reward, terminated, truncated, next_seeds)

    @property
    def state(self) -> np.ndarray:
        return self._flat


# -- football ----------------------------------------------------------------------------------

def football(players: int = 3, continuous: bool = False, max_steps: int = 200, dense_reward: bool = True,
             description: str = "", name: str = "football") -> VmasGame:
    """VMAS football as a team-vs-team game: both teams are league entrants (VMAS's AI is off).

    Red observes and acts in a mirrored frame, so both sides share the role "player". A goal
    ends the episode with +-100 per player (`scoring_reward`) and always decides the game.
    Without one, the higher side return wins: VMAS's dense shaping, mostly 10 per unit the
    ball moved towards that side's target goal, so the team that carried the ball further
    wins; totals within 1 per player (or both zero, with `dense_reward=False`) draw. A
    dribbled goal takes a good player 200-350 steps, hence this tie-break at the default
    `max_steps=200` (VMAS's and BenchMARL's horizon is 500).

    Example:
        >>> spec = football(players=2).spec
        >>> [(s.name, s.seats, s.role) for s in spec.sides]
        [('blue', ('agent_blue_0', 'agent_blue_1'), 'player'), ('red', ('agent_red_0', 'agent_red_1'), 'player')]
    """
    if int(players) < 1:
        raise GameError(f"football needs at least one player per team, got players={players}")
    p = int(players)
    sides = (Side("blue", tuple(f"agent_blue_{i}" for i in range(p)), "player"),
             Side("red", tuple(f"agent_red_{i}" for i in range(p)), "player"))
    kwargs = {"n_blue_agents": p, "n_red_agents": p, "ai_blue_agents": False, "ai_red_agents": False,
              "dense_reward": bool(dense_reward)}
    return VmasGame(name, "football", kind="competitive", sides=sides, judge=Judge(tolerance=1.0 * p),
                    description=description, continuous=continuous, max_steps=max_steps, scenario_kwargs=kwargs)


__all__ = ["ActionCodec", "MOVES", "RESETS", "VmasGame", "VmasVecEnv", "check_scenario", "football", "scenario_names"]
