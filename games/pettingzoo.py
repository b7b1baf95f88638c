"""PettingZoo adapter: AEC and parallel environments as a `VecEnv` of n copies.

Covers the classic board and card games (AEC, action masks in the observation dict), the
mpe2 particle worlds (parallel, global `state()`), and any user environment given as
`module:factory`; each copy is one engine instance.

AEC semantics are kept: `env.rewards` after a step are that step's rewards for every
agent, so a loss that lands on another agent's turn is delivered to the loser at once;
agents that are done are stepped with `None` by the adapter and never asked to act.

Example:
    >>> import games
    >>> env = games.load("simple_spread").make(2, seed=0)
    >>> env.state.shape, env.spec.seat("agent_0").obs_shape
    ((2, 54), (18,))
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import inspect
import os
import re
import sys
import warnings
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from games.base import (
    Box,
    Discrete,
    Game,
    GameError,
    GameSpec,
    KINDS,
    Judge,
    SeatSpec,
    Side,
    StepResult,
    UnknownChoiceError,
    UserGameError,
    VecEnv,
)

try:
    from pettingzoo.utils.env import AECEnv, ParallelEnv
except ImportError as error:  # pragma: no cover - pettingzoo is a dependency
    raise GameError("PettingZoo games need the pettingzoo package: pip install pettingzoo") from error


def _make_factory(source: str, parallel: bool, kwargs: Mapping[str, Any]) -> Callable[[], Any]:
    """A zero-argument constructor for `source`: "mpe2.<module>" or "pettingzoo.classic.<module>"."""
    if source.startswith("pettingzoo.classic."):
        import pettingzoo

        # classic/<name>-v<k> in PettingZoo's registry
        module = source.rsplit(".", 1)[1]
        base, version = module.rsplit("_v", 1)
        env_id = f"classic/{base}-v{version}"

        def make_classic() -> Any:
            return pettingzoo.make("parallel" if parallel else "aec", env_id, **kwargs)

        return make_classic
    module = importlib.import_module(source)

    def make_module() -> Any:
        return (module.parallel_env if parallel else module.env)(**kwargs)

    return make_module


def engine_seed_of(episode_seed: int) -> int:
    """The seed a PettingZoo engine's `reset(seed=...)` gets for an episode seed (engines take 31-bit seeds).

    Example:
        >>> engine_seed_of(2**31 + 5)
        6
    """
    return int(episode_seed) % (2**31 - 1)


ObsEncoder = Callable[[Any], np.ndarray]  # one raw observation -> its flat float32 vector

FLATTENED = "Box, Discrete (one-hot), MultiDiscrete, MultiBinary, Dict and Tuple"  # what observations may be


def _action_space(space: Any, agent: str) -> Discrete | Box:
    """The league's action space for a gymnasium action space (Discrete from 0, or Box)."""
    from gymnasium import spaces

    if isinstance(space, spaces.Discrete):
        if int(space.start) != 0:
            raise UserGameError(f"Discrete action spaces must start at 0, got start={space.start}")
        return Discrete(int(space.n))
    if isinstance(space, spaces.Box):
        low, high = float(np.min(space.low)), float(np.max(space.high))
        return Box(tuple(int(d) for d in space.shape), low, high)
    raise UserGameError(f"unsupported action space {space} of agent {agent!r}; the league plays Discrete and Box actions")


def _box_encoder(raw: Any) -> np.ndarray:
    return np.asarray(raw, dtype=np.float32).reshape(-1)


def observation_encoder(space: Any, agent: str = "agent") -> tuple[tuple[int, ...], bool, ObsEncoder]:
    """(observation shape, masked?, encoder) for a gymnasium observation space.

    A Box keeps its shape. Any other space is flattened with gymnasium's `flatten`: Discrete
    one-hot, MultiDiscrete as concatenated one-hots, Dict in the space's key order, Tuple in
    order. A Dict with an `action_mask` entry carries the legal actions: its `observation`
    entry (or, without one, every other entry) is the observation.

    Example:
        >>> from gymnasium import spaces
        >>> shape, masked, encode = observation_encoder(spaces.Dict({"a": spaces.Discrete(3), "b": spaces.Box(0, 1, (2,))}))
        >>> shape, masked, encode({"a": 1, "b": [0.5, 0.25]}).tolist()
        ((5,), False, [0.0, 1.0, 0.0, 0.5, 0.25])
        >>> observation_encoder(spaces.Sequence(spaces.Discrete(2)), "player_0")
        Traceback (most recent call last):
        ...
        games.base.UserGameError: the observation space of agent 'player_0', Sequence(Discrete(2), stack=False), cannot be flattened; the league reads Box, Discrete (one-hot), MultiDiscrete, MultiBinary, Dict and Tuple observations
    """
    from gymnasium import spaces

    masked = isinstance(space, spaces.Dict) and "action_mask" in space.spaces
    if isinstance(space, spaces.Dict) and ("observation" in space.spaces or masked):
        if "observation" in space.spaces:
            inner, key = space["observation"], "observation"
        else:
            inner, key = spaces.Dict({k: v for k, v in space.spaces.items() if k != "action_mask"}), None
        shape, _, encode = observation_encoder(inner, agent)
        pick: ObsEncoder = (lambda raw: encode(raw[key])) if key else encode
        return shape, masked, lambda raw: pick(raw) if isinstance(raw, Mapping) else encode(raw)
    if isinstance(space, spaces.Box):
        return tuple(int(d) for d in space.shape), False, _box_encoder
    try:
        if not space.is_np_flattenable:
            raise ValueError
        size = int(spaces.flatdim(space))
    except (AttributeError, NotImplementedError, TypeError, ValueError):
        raise UserGameError(f"the observation space of agent {agent!r}, {space}, cannot be flattened; "
                            f"the league reads {FLATTENED} observations") from None
    return (size,), False, lambda raw: np.asarray(spaces.flatten(space, raw), dtype=np.float32).reshape(-1)


# -- what the engines say about their actions ------------------------------------------------

_MPE_MOVES = ("no_action", "move_left", "move_right", "move_down", "move_up")
_CLASSIC_NAMES: dict[str, Callable[[int], tuple[str, ...] | None]] = {  # PettingZoo env name -> names of n actions
    "connect_four_v3": lambda n: tuple(f"column {a}" for a in range(n)),
    "tictactoe_v3": lambda n: tuple(f"({a % 3},{a // 3})" for a in range(n)),  # cells numbered down the columns
    "leduc_holdem_v4": lambda n: ("call", "raise", "fold", "check") if n == 4 else None,
    "rps_v2": lambda n: ("Rock", "Paper", "Scissors", "Lizard", "Spock")[:n] if n in (3, 5) else None,
}
_PERFECT_INFORMATION = {"connect_four_v3", "tictactoe_v3", "chess_v6", "go_v5"}  # PettingZoo's board games


def _engine_action_names(env: Any, agent: str, n: int) -> tuple[str, ...] | None:
    """Names of an agent's n discrete actions where PettingZoo's classic games or mpe2 define them."""
    name = str(getattr(env, "metadata", {}).get("name", ""))
    if name in _CLASSIC_NAMES:
        return _CLASSIC_NAMES[name](n)
    world = getattr(env.unwrapped, "world", None)
    if type(env.unwrapped).__module__.startswith("mpe2.") and world is not None:
        body = next((a for a in world.agents if a.name == agent), None)
        if body is None or world.dim_p != 2:
            return None
        if body.movable and body.silent:
            names: tuple[str, ...] = _MPE_MOVES
        elif body.movable:  # action = move + 5 * say, as mpe2 decodes it
            names = tuple(f"{m}+say_{k}" for k in range(world.dim_c) for m in _MPE_MOVES)
        else:
            names = tuple(f"say_{k}" for k in range(world.dim_c))
        return names if len(names) == n else None
    return None


class PettingZooGame(Game):
    """A PettingZoo environment with the league's metadata (kind, sides, roles).

    `perfect_information` and `action_names` (agent -> names) override what the adapter finds
    itself (PettingZoo's classic board games are of perfect information; mpe2's and the
    classic games' actions are named).
    """

    def __init__(
        self,
        name: str,
        source: str,
        *,
        kind: str,
        sides: Sequence[Side] | None = None,
        judge: Judge | None = None,
        description: str = "",
        parallel: bool = False,
        kwargs: Mapping[str, Any] | None = None,
        factory: Callable[[], Any] | None = None,
        zero_sum: bool = False,
        max_steps: int | None = None,
        ref: str | None = None,
        perfect_information: bool | None = None,
        action_names: Mapping[str, Sequence[str]] | None = None,
    ):
        self.ref = ref or name
        self.source = source
        self.factory = factory or _make_factory(source, parallel, kwargs or {})
        probe = self.factory()
        if isinstance(probe, ParallelEnv):
            self.parallel = True
        elif isinstance(probe, AECEnv):
            self.parallel = False
        else:
            raise UserGameError(f"{source} returned {type(probe).__name__}, which is not a PettingZoo AECEnv or ParallelEnv")
        probe.reset(seed=0)
        agents = tuple(probe.possible_agents)
        seats = []
        masked_obs = False
        self.encoders: dict[str, ObsEncoder] = {}
        for agent in agents:
            obs_shape, masked, self.encoders[agent] = observation_encoder(probe.observation_space(agent), agent)
            action = _action_space(probe.action_space(agent), agent)
            masked_obs = masked_obs or masked
            n = action.n if isinstance(action, Discrete) else 0
            names = (action_names or {}).get(agent) or (_engine_action_names(probe, agent, n) if n else None)
            seats.append(SeatSpec(agent, obs_shape, action, masked=masked, action_names=names))
        self.mask_in_obs = masked_obs
        try:
            native = np.asarray(probe.state(), dtype=np.float32)
        except (NotImplementedError, AttributeError, TypeError, ValueError):  # no state(), or not an array
            native = None
        self.native_state = native is not None and native.ndim >= 1 and native.size > 0
        state_shape = tuple(int(d) for d in native.shape) if self.native_state else (sum(s.obs_size for s in seats),)
        turn_based = not self.parallel
        if max_steps is None:
            cycles = int(getattr(probe.unwrapped, "max_cycles", 0) or 0)
            max_steps = cycles * len(agents) if turn_based else cycles
        if not max_steps:
            max_steps = 10_000  # unknown: a generous bound for user environments
        if perfect_information is None:
            perfect_information = str(getattr(probe, "metadata", {}).get("name", "")) in _PERFECT_INFORMATION
        probe.close()
        if sides is None:
            sides = tuple(Side(agent, (agent,), agent) for agent in agents)
        self.spec = GameSpec(
            name=name,
            kind=kind,  # type: ignore[arg-type]
            backend="pettingzoo",
            turn_based=turn_based,
            max_steps=max_steps,
            seats=tuple(seats),
            sides=tuple(sides),
            state_shape=state_shape,
            zero_sum=zero_sum,
            judge=judge or Judge(),
            description=description,
            source=source,
            perfect_information=bool(perfect_information),
        )

    def make(self, n: int = 1, seed: int = 0) -> "PettingZooVecEnv":
        return PettingZooVecEnv(self, n, seed)


class PettingZooVecEnv(VecEnv):
    """n PettingZoo environments stepped in lockstep."""

    def __init__(self, game: PettingZooGame, n: int, seed: int):
        super().__init__(game.spec, n, seed)
        self.game = game
        self.parallel = game.parallel
        self._encoders = game.encoders
        self.envs = [game.factory() for _ in range(n)]
        self._flat_obs = {seat: self.obs[seat].reshape(n, -1) for seat in self.spec.seat_names}
        self._pending: list[dict[str, Any]] = [{} for _ in range(n)]  # parallel: last obs/infos
        self._state_cache: np.ndarray | None = None
        self.reset()

    # -- reading an engine -------------------------------------------------------------
    def _split(self, raw: Any, info: Mapping[str, Any] | None, seat: SeatSpec) -> tuple[np.ndarray, np.ndarray | None]:
        """(flat float32 observation, bool mask or None) from one raw observation."""
        mask = None
        if isinstance(raw, Mapping) and "action_mask" in raw:
            mask = np.asarray(raw["action_mask"], dtype=bool)
        if mask is None and info and "action_mask" in info:
            mask = np.asarray(info["action_mask"], dtype=bool)
        return self._encoders[seat.name](raw), mask

    def _write_seat(self, i: int, seat: SeatSpec, raw: Any, info: Mapping[str, Any] | None) -> None:
        flat, mask = self._split(raw, info, seat)
        self._flat_obs[seat.name][i] = flat
        self.acting[seat.name][i] = True
        if seat.discrete:
            self.mask[seat.name][i] = True if mask is None else mask

    def _observe_copy(self, i: int) -> None:
        """Refresh acting, obs and mask rows of copy i."""
        env = self.envs[i]
        for seat in self.spec.seats:
            self.acting[seat.name][i] = False
            self.mask[seat.name][i] = False
        if self.parallel:
            obs, infos = self._pending[i].get("obs", {}), self._pending[i].get("infos", {})
            for seat in self.spec.seats:
                if seat.name in env.agents and seat.name in obs:
                    self._write_seat(i, seat, obs[seat.name], infos.get(seat.name))
        else:
            self._skip_dead(env)
            if env.agents:
                agent = env.agent_selection
                seat = self.spec.seat(agent)
                self._write_seat(i, seat, env.observe(agent), env.infos.get(agent))

    @staticmethod
    def _skip_dead(env: Any) -> None:
        """AEC: step `None` for selected agents that are done, as the AEC loop requires."""
        while env.agents and (env.terminations.get(env.agent_selection) or env.truncations.get(env.agent_selection)):
            if all(env.terminations.get(a) or env.truncations.get(a) for a in env.agents):
                return  # the whole episode is over
            env.step(None)

    def _episode_over(self, env: Any) -> tuple[bool, bool]:
        """(over, truncated?) for one engine after a step."""
        if not env.agents:
            return True, False
        done = [env.terminations.get(a, False) or env.truncations.get(a, False) for a in env.agents]
        if all(done):
            truncated = any(env.truncations.get(a, False) for a in env.agents) and not any(
                env.terminations.get(a, False) for a in env.agents
            )
            return True, truncated
        return False, False

    # -- contract ------------------------------------------------------------------------
    def reset(self, seeds: Sequence[int] | None = None, copies: Sequence[int] | None = None) -> None:
        idx, seed_arr = self._reset_targets(seeds, copies)
        for i, s in zip(idx.tolist(), seed_arr.tolist()):
            env = self.envs[i]
            engine_seed = engine_seed_of(s)
            if self.parallel:
                obs, infos = env.reset(seed=engine_seed)
                self._pending[i] = {"obs": obs, "infos": infos}
            else:
                env.reset(seed=engine_seed)
            self.episode_seed[i] = s
            self.episodes[i] += 1
            self.ply[i] = 0
            for seat in self.spec.seat_names:
                self._returns[seat][i] = 0.0
            self._observe_copy(i)
        self._state_cache = None

    def step(self, actions: Mapping[str, np.ndarray], *, next_seeds: np.ndarray | None = None) -> StepResult:
        acts = self._check_actions(actions)
        n = self.n
        seats = self.spec.seat_names
        reward = {seat: np.zeros(n, dtype=np.float32) for seat in seats}
        terminated = np.zeros(n, dtype=bool)
        truncated = np.zeros(n, dtype=bool)
        finals: dict[int, tuple[dict[str, np.ndarray], np.ndarray]] = {}
        for i, env in enumerate(self.envs):
            if self.parallel:
                joint = {a: self._engine_action(a, acts[a][i]) for a in env.agents if self.acting[a][i]}
                obs, rewards, terms, truncs, infos = env.step(joint)
                self._pending[i] = {"obs": obs, "infos": infos}
                over = not env.agents or all(terms.get(a, False) or truncs.get(a, False) for a in joint)
                cut = over and any(truncs.values()) and not any(terms.values())
            else:
                agent = env.agent_selection
                env.step(self._engine_action(agent, acts[agent][i]))
                rewards = env.rewards
                over, cut = self._episode_over(env)
            for agent, value in rewards.items():
                reward[agent][i] += value
            if over:
                terminated[i], truncated[i] = not cut, cut
                finals[i] = self._final(i)
            else:
                self._observe_copy(i)
        self.ply += 1
        for seat in seats:
            self._returns[seat] += reward[seat]
        finished = np.asarray(sorted(finals), dtype=np.int64)
        k = len(finished)
        final_obs = {s.name: np.zeros((k, *s.obs_shape), dtype=np.float32) for s in self.spec.seats}
        final_state = np.zeros((k, *self.spec.state_shape), dtype=np.float32)
        for row, i in enumerate(finished.tolist()):
            obs_i, state_i = finals[i]
            for seat in seats:
                final_obs[seat][row] = obs_i[seat]
            final_state[row] = state_i
        result = StepResult(
            reward=reward,
            terminated=terminated,
            truncated=truncated,
            finished=finished,
            final_obs=final_obs,
            final_state=final_state,
            episode_return={seat: self._returns[seat][finished].copy() for seat in seats},
            episode_length=self.ply[finished].copy(),
            episode_seed=self.episode_seed[finished].copy(),
        )
        if k:
            self.reset(seeds=self._next_seeds(finished, next_seeds), copies=finished)
        self._state_cache = None
        return result

    def _engine_action(self, agent: str, action: Any) -> Any:
        seat = self.spec.seat(agent)
        return int(action) if seat.discrete else np.asarray(action, dtype=np.float32)

    def _all_obs(self, i: int) -> dict[str, np.ndarray]:
        """Every seat's current observation of copy i (flattened later by the caller)."""
        env = self.envs[i]
        out = {}
        for seat in self.spec.seats:
            if self.parallel:
                raw = self._pending[i].get("obs", {}).get(seat.name)
                if raw is None and hasattr(env.unwrapped, "observe"):
                    raw = env.unwrapped.observe(seat.name)
            else:
                raw = env.observe(seat.name)
            if raw is None:
                out[seat.name] = np.zeros(seat.obs_shape, dtype=np.float32)
                continue
            flat, _ = self._split(raw, None, seat)
            out[seat.name] = flat.reshape(seat.obs_shape)
        return out

    def _global_state(self, i: int, obs: Mapping[str, np.ndarray] | None = None) -> np.ndarray:
        if self.game.native_state:
            return np.asarray(self.envs[i].state(), dtype=np.float32).reshape(self.spec.state_shape)
        obs = obs or self._all_obs(i)
        return np.concatenate([obs[s].reshape(-1) for s in self.spec.seat_names]).astype(np.float32)

    def _final(self, i: int) -> tuple[dict[str, np.ndarray], np.ndarray]:
        obs = self._all_obs(i)
        return obs, self._global_state(i, obs)

    @property
    def state(self) -> np.ndarray:
        if self._state_cache is None:
            self._state_cache = np.stack([self._global_state(i) for i in range(self.n)])
        return self._state_cache

    def close(self) -> None:
        for env in self.envs:
            env.close()


# -- user environments ---------------------------------------------------------------------

LOADER_OPTIONS = ("symmetric",)  # options `load_user_factory` reads itself instead of passing them on
_USER_REF = re.compile(r"^\s*([A-Za-z_][\w.]*)\s*:\s*([A-Za-z_]\w*)\s*(\(.*\))?\s*$", re.S)


def parse_user_ref(ref: str) -> tuple[str, str, dict[str, Any]]:
    """Split `module:factory(key=value, ...)` into the module, the factory and Python-literal options.

    Example:
        >>> parse_user_ref("mygame:Nim(stones=5, misere=True)")
        ('mygame', 'Nim', {'stones': 5, 'misere': True})
        >>> parse_user_ref("mygame:env")
        ('mygame', 'env', {})
    """
    from games.registry import parse_ref

    match = _USER_REF.match(ref)
    if not match:
        raise GameError(f"cannot read {ref!r}; a user game is written module:factory or module:factory(key=value, ...), "
                        "e.g. mypkg.envs:make_env(players=3)")
    module, attr, call = match.groups()
    _, options = parse_ref(f"{attr}{call or ''}")
    return module, attr, options


class CurrentDirectoryFinder(importlib.abc.MetaPathFinder):
    """Finds top-level modules in one directory, after every other finder of `sys.meta_path`.

    Appending a directory to `sys.path` is not enough: an editable install's finder runs after
    `sys.path`, so a user's `agents.py` there would still shadow this project's `agents`.
    """

    def __init__(self, directory: str):
        self.directory = directory

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if path is not None or "." in fullname:
            return None
        return importlib.machinery.PathFinder.find_spec(fullname, [self.directory])


def search_current_directory() -> None:
    """Make modules in the current directory importable, searched last so they never shadow others."""
    cwd = os.getcwd()
    if not any(isinstance(f, CurrentDirectoryFinder) and f.directory == cwd for f in sys.meta_path):
        sys.meta_path.append(CurrentDirectoryFinder(cwd))
    importlib.invalidate_caches()


def _import_user_module(module_name: str, ref: str) -> Any:
    search_current_directory()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            return importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name and module_name.split(".")[0] == error.name.split(".")[0]:
            raise UserGameError(f"cannot import {module_name!r} for the game {ref!r}: no such module in the current "
                                f"directory ({os.getcwd()}) or on PYTHONPATH; run from the directory that holds it "
                                "or add that directory to PYTHONPATH") from None
        raise UserGameError(f"cannot import {module_name!r} for the game {ref!r}: {error}") from None
    except Exception as error:  # noqa: BLE001 - any import failure is the user's to fix
        raise UserGameError(f"cannot import {module_name!r} for the game {ref!r}: {type(error).__name__}: {error}") from None


def _check_options(factory: Callable[..., Any], options: Mapping[str, Any], ref: str) -> None:
    """Refuse options the factory does not take, naming those it does."""
    try:
        params = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):  # no signature to read (a builtin): let the call decide
        return
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return
    valid = [p.name for p in params if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)]
    for key in options:
        if key not in valid:
            choices = [*valid, *LOADER_OPTIONS]
            raise UnknownChoiceError(f"{ref.split('(')[0]} has no option {key!r}; its options: {', '.join(choices)}", choices)


def _league_attr(name: str, env: Any, factory: Any) -> Any:
    """A `league_*` setting: from the environment (or what it wraps), else from the factory, else None."""
    for owner in (env, getattr(env, "unwrapped", None), factory):
        value = getattr(owner, name, None) if owner is not None else None
        if value is not None:
            return value
    return None


def _stem(names: Sequence[str]) -> str:
    """What names of one kind share, e.g. ('player_0', 'player_1') -> 'player'."""
    return os.path.commonprefix(list(names)).rstrip("_-0123456789")


def _sides(ref: str, agents: Sequence[str], seats: Mapping[str, SeatSpec], sides_map: Any, roles_map: Any,
           symmetric: bool) -> tuple[Side, ...]:
    """Sides from `league_sides` (default: one per agent) with roles from `league_roles`;
    `symmetric` gives sides of equal spaces one shared role."""
    if sides_map is None:
        sides_map = {agent: [agent] for agent in agents}
    if not isinstance(sides_map, Mapping) or not sides_map or not all(
            isinstance(m, (str, list, tuple)) for m in sides_map.values()):
        raise UserGameError(f"league_sides of {ref} must map side names to lists of agents, e.g. {{'blue': ['a_0', 'a_1']}}")
    members_of = {str(side): (m,) if isinstance(m, str) else tuple(m) for side, m in sides_map.items()}
    listed: list[str] = []
    for side, members in members_of.items():
        for agent in members:
            if agent not in agents:
                raise UnknownChoiceError(f"side {side!r} in league_sides of {ref} names {agent!r}, which is not an agent of "
                                         f"the environment; agents: {', '.join(agents)}", agents)
        listed += members
    if sorted(listed) != sorted(agents):
        missing = [a for a in agents if a not in listed] or sorted({a for a in listed if listed.count(a) > 1})
        raise UserGameError(f"league_sides of {ref} must hold every agent exactly once; check {', '.join(missing)}")
    roles_map = {} if roles_map is None else roles_map
    if not isinstance(roles_map, Mapping) or not all(isinstance(v, str) and v for v in roles_map.values()):
        raise UserGameError(f"league_roles of {ref} must map side names to role names, e.g. {{'blue': 'player', 'red': 'player'}}")
    names = list(members_of)
    for side in roles_map:
        if side not in names:
            raise UnknownChoiceError(f"league_roles of {ref} names the side {side!r}, which league_sides does not have; "
                                     f"sides: {', '.join(names)}", names)

    def shape(side: str) -> tuple:
        return tuple((seats[a].obs_shape, seats[a].action) for a in members_of[side])

    roles = {side: roles_map.get(side, side) for side in names}
    if symmetric:
        groups: dict[tuple, list[str]] = {}
        for side in names:
            if side not in roles_map:
                groups.setdefault(shape(side), []).append(side)
        taken = set(roles_map.values()) | {s for g in groups.values() if len(g) == 1 for s in g}
        for k, group in enumerate(g for g in groups.values() if len(g) > 1):
            role = next(r for r in (_stem(group), "player", f"role_{k}") if r and r not in taken)
            taken.add(role)
            roles.update(dict.fromkeys(group, role))
    for role in set(roles.values()):
        sharing = [side for side in names if roles[side] == role]
        if len({shape(side) for side in sharing}) > 1:
            raise UserGameError(f"sides {', '.join(map(repr, sharing))} of {ref} share the role {role!r} but differ in "
                                "seat count, observation or action spaces; give them different roles in league_roles")
    return tuple(Side(side, members_of[side], roles[side]) for side in names)


def load_user_factory(ref: str) -> PettingZooGame:
    """A PettingZoo environment from `module:factory`, e.g. `mypkg.envs:make_env(players=3)`.

    The factory returns an AECEnv or ParallelEnv; options in the call syntax are passed to it
    as keywords (Python literals only), except `symmetric`, which the loader reads. The module
    is imported from the Python path or, failing that, from the current directory (searched
    last, so it never shadows an installed package).

    The factory or the environment it returns (the environment wins) may carry:
    `league_sides` (side -> list of agents; default: each agent is its own side),
    `league_roles` (side -> role; default: the side's name), `league_kind` (competitive,
    cooperative or mixed), `league_symmetric` (True: sides whose seats have equal spaces share
    one role, like the `symmetric=True` option), `league_perfect_information` (bool) and
    `league_action_names` (agent -> list of names, or one list for every agent).

    Example:
        >>> game = load_user_factory("mpe2.simple_push_v3:parallel_env")
        >>> game.spec.side_names
        ('adversary_0', 'agent_0')
        >>> game = load_user_factory("pettingzoo.classic.rps_v2:env(symmetric=True)")
        >>> [(side.name, side.role) for side in game.spec.sides], game.spec.seat("player_0").obs_shape
        ([('player_0', 'player'), ('player_1', 'player')], (4,))
    """
    from games.registry import canonical_ref

    module_name, attr, options = parse_user_ref(ref)
    canonical = canonical_ref(f"{module_name}:{attr}", options)
    symmetric_option = options.pop("symmetric", None)
    if symmetric_option is not None and not isinstance(symmetric_option, bool):
        raise UserGameError(f"symmetric must be True or False in {canonical}, got {symmetric_option!r}")
    module = _import_user_module(module_name, canonical)
    factory = getattr(module, attr, None)
    if not callable(factory):
        found = sorted(n for n, v in vars(module).items()
                       if callable(v) and not n.startswith("_") and getattr(v, "__module__", None) == module.__name__)
        raise UnknownChoiceError(f"{module_name!r} has no callable {attr!r} for the game {canonical!r}; "
                                 f"its callables: {', '.join(found) or 'none'}", found)
    _check_options(factory, options, canonical)

    def make() -> Any:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            return factory(**options)

    try:
        probe = make()
    except Exception as error:  # noqa: BLE001
        raise UserGameError(f"{canonical} raised while making the environment: {type(error).__name__}: {error}") from None
    if not isinstance(probe, (AECEnv, ParallelEnv)):
        raise UserGameError(f"{canonical} returned {type(probe).__name__}, not a PettingZoo AECEnv or ParallelEnv; "
                            "the factory must return one (e.g. pettingzoo.utils.parallel_to_aec for other APIs)")
    try:
        probe.reset(seed=0)
        agents = tuple(probe.possible_agents)
        seats = {a: SeatSpec(a, observation_encoder(probe.observation_space(a), a)[0],
                             _action_space(probe.action_space(a), a), masked=False) for a in agents}
    except GameError:
        raise
    except Exception as error:  # noqa: BLE001
        raise UserGameError(f"{canonical} raised while reading its agents and spaces: {type(error).__name__}: {error}") from None

    symmetric = _league_attr("league_symmetric", probe, factory) if symmetric_option is None else symmetric_option
    if not isinstance(symmetric, (bool, type(None))):
        raise UserGameError(f"league_symmetric of {canonical} must be True or False, got {symmetric!r}")
    sides_map = _league_attr("league_sides", probe, factory)
    sides = _sides(canonical, agents, seats, sides_map, _league_attr("league_roles", probe, factory), bool(symmetric))
    kind = _league_attr("league_kind", probe, factory)
    if kind is None:
        kind = "cooperative" if len(sides) == 1 else "mixed"
    if kind not in KINDS:
        raise UnknownChoiceError(f"league_kind of {canonical} is {kind!r}; kinds: {', '.join(KINDS)}", KINDS)
    perfect = _league_attr("league_perfect_information", probe, factory)
    names = _league_attr("league_action_names", probe, factory)
    if names is not None and not isinstance(names, Mapping):
        names = dict.fromkeys(agents, names)
    for agent, listed in (names or {}).items():
        if agent not in agents:
            raise UnknownChoiceError(f"league_action_names of {canonical} names {agent!r}, which is not an agent; "
                                     f"agents: {', '.join(agents)}", agents)
        if len(listed) != seats[agent].n_actions:
            raise UserGameError(f"league_action_names of {canonical} gives {len(listed)} names for agent {agent!r}, "
                                f"which has {seats[agent].n_actions} actions")
    probe.close()
    return PettingZooGame(canonical, canonical, kind=kind, sides=sides, factory=make, ref=canonical,
                          perfect_information=None if perfect is None else bool(perfect), action_names=names)
