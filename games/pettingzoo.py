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
import warnings
from typing import Any, Callable, Mapping, Sequence

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


def _space_of(space: Any, what: str) -> tuple[Any, bool]:
    """Map a gymnasium space to (obs shape | action space, masked?)."""
    from gymnasium import spaces

    if what == "action":
        if isinstance(space, spaces.Discrete):
            if int(space.start) != 0:
                raise GameError(f"Discrete action spaces must start at 0, got start={space.start}")
            return Discrete(int(space.n)), False
        if isinstance(space, spaces.Box):
            low, high = float(np.min(space.low)), float(np.max(space.high))
            return Box(tuple(int(d) for d in space.shape), low, high), False
        raise GameError(f"unsupported action space {space}; the league plays Discrete and Box actions")
    if isinstance(space, spaces.Dict) and "observation" in space.spaces:
        return tuple(int(d) for d in space["observation"].shape), "action_mask" in space.spaces
    if isinstance(space, spaces.Box):
        return tuple(int(d) for d in space.shape), False
    raise GameError(f"unsupported observation space {space}; the league reads Box observations (or a Dict with 'observation')")


class PettingZooGame(Game):
    """A PettingZoo environment with the league's metadata (kind, sides, roles)."""

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
            raise GameError(f"{source} returned {type(probe).__name__}, which is not a PettingZoo AECEnv or ParallelEnv")
        probe.reset(seed=0)
        agents = tuple(probe.possible_agents)
        seats = []
        masked_obs = False
        for agent in agents:
            obs_shape, masked = _space_of(probe.observation_space(agent), "obs")
            action, _ = _space_of(probe.action_space(agent), "action")
            masked_obs = masked_obs or masked
            seats.append(SeatSpec(agent, obs_shape, action, masked=masked))
        self.mask_in_obs = masked_obs
        try:
            state_shape = tuple(int(d) for d in np.asarray(probe.state()).shape)
            self.native_state = True
        except (NotImplementedError, AttributeError):
            state_shape = (sum(s.obs_size for s in seats),)
            self.native_state = False
        turn_based = not self.parallel
        if max_steps is None:
            cycles = int(getattr(probe.unwrapped, "max_cycles", 0) or 0)
            max_steps = cycles * len(agents) if turn_based else cycles
        if not max_steps:
            max_steps = 10_000  # unknown: a generous bound for user environments
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
        )

    def make(self, n: int = 1, seed: int = 0) -> "PettingZooVecEnv":
        return PettingZooVecEnv(self, n, seed)


class PettingZooVecEnv(VecEnv):
    """n PettingZoo environments stepped in lockstep."""

    def __init__(self, game: PettingZooGame, n: int, seed: int):
        super().__init__(game.spec, n, seed)
        self.game = game
        self.parallel = game.parallel
        self.envs = [game.factory() for _ in range(n)]
        self._flat_obs = {seat: self.obs[seat].reshape(n, -1) for seat in self.spec.seat_names}
        self._pending: list[dict[str, Any]] = [{} for _ in range(n)]  # parallel: last obs/infos
        self._state_cache: np.ndarray | None = None
        self.reset()

    # -- reading an engine -------------------------------------------------------------
    def _split(self, raw: Any, info: Mapping[str, Any] | None, seat: SeatSpec) -> tuple[np.ndarray, np.ndarray | None]:
        """(flat float32 observation, bool mask or None) from one raw observation."""
        mask = None
        if isinstance(raw, Mapping):
            if "action_mask" in raw:
                mask = np.asarray(raw["action_mask"], dtype=bool)
            raw = raw["observation"]
        if mask is None and info and "action_mask" in info:
            mask = np.asarray(info["action_mask"], dtype=bool)
        return np.asarray(raw, dtype=np.float32).reshape(-1), mask

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
            engine_seed = int(s) % (2**31 - 1)
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
                if raw is None:
                    raw = env.unwrapped.observe(seat.name) if hasattr(env.unwrapped, "observe") else np.zeros(seat.obs_shape)
            else:
                raw = env.observe(seat.name)
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

def load_user_factory(ref: str) -> PettingZooGame:
    """A PettingZoo environment from `module:factory`, e.g. `mypkg.envs:make_env`.

    The factory takes no arguments and returns an AECEnv or ParallelEnv. It may carry a
    `league_sides` attribute mapping side names to agent lists (and optionally
    `league_roles`, side -> role, and `league_kind`); otherwise each agent is its own side.

    Example:
        >>> game = load_user_factory("mpe2.simple_push_v3:parallel_env")
        >>> game.spec.side_names
        ('adversary_0', 'agent_0')
    """
    module_name, _, attr = ref.partition(":")
    if not module_name or not attr:
        raise GameError(f"cannot read {ref!r}; a user game is written module:factory, e.g. mypkg.envs:make_env")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            module = importlib.import_module(module_name)
    except Exception as error:  # noqa: BLE001 - any import failure is the user's to fix
        raise GameError(f"cannot import {module_name!r} for the game {ref!r}: {error}") from None
    factory = getattr(module, attr, None)
    if not callable(factory):
        raise GameError(f"{module_name!r} has no callable {attr!r} for the game {ref!r}")

    def make() -> Any:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            return factory()

    try:
        probe = make()
    except Exception as error:  # noqa: BLE001
        raise GameError(f"{ref} raised while making the environment: {error}") from None
    if not isinstance(probe, (AECEnv, ParallelEnv)):
        raise GameError(f"{ref} returned {type(probe).__name__}, not a PettingZoo AECEnv or ParallelEnv")
    sides_map = getattr(factory, "league_sides", None)
    roles = getattr(factory, "league_roles", {}) or {}
    kind = getattr(factory, "league_kind", None)
    sides = None
    if sides_map:
        sides = tuple(Side(name, tuple(agents), roles.get(name, name)) for name, agents in sides_map.items())
    if kind is None:
        kind = "cooperative" if sides is not None and len(sides) == 1 else "mixed"
    return PettingZooGame(ref, ref, kind=kind, sides=sides, factory=make, ref=ref)
