"""Is a game fit for the league? PettingZoo's own API tests plus this project's contract checks.

`check_game(spec)` loads a game by any name `games.load` takes (a registry name, an
`openspiel:` string or a user's `module:factory`) and returns its problems as plain sentences;
an empty list means the league can play it. The contract checks are the ones
tests/test_games_conformance.py applies to every registered game: a well-formed spec; arrays
of the right shapes and types; masks with a legal action exactly where a seat acts; one
acting seat per copy in turn-based games; rewards that add up to the episode returns;
terminated kept apart from truncated; finished copies reset; illegal actions refused; and
the same episodes from the same seed.

Example:
    >>> check_game("tic_tac_toe")
    []
    >>> check_game("tic_tac_to")
    ["unknown game 'tic_tac_to' (did you mean 'tic_tac_toe'?); valid games: ..."]
"""

from __future__ import annotations

import contextlib
import io
import traceback
import warnings

import numpy as np

from games.base import KINDS, Discrete, Game, GameError, GameSpec, IllegalActionError, VecEnv


def check_game(spec: str, *, steps: int = 400) -> list[str]:
    """Problems of the game `spec` as plain sentences (empty: the league can play it)."""
    from games.registry import load

    try:
        game = load(spec)
    except GameError as error:
        return [str(error)]
    except Exception as error:  # noqa: BLE001 - a user's environment may raise anything while it is probed
        return [f"loading {spec} raised {type(error).__name__}: {error}."]
    problems = spec_problems(game.spec)
    if game.spec.backend == "pettingzoo":
        problems += pettingzoo_api_problems(game)
    problems += contract_problems(game, steps=steps)
    if not problems:  # the rest assume an environment that steps
        problems += illegal_action_problems(game) + seed_problems(game)
    return problems


# -- the spec -------------------------------------------------------------------------------

def spec_problems(spec: GameSpec) -> list[str]:
    """What is wrong with a spec: kind, sides, max_steps, roles shared by unlike sides, action names."""
    problems = []
    if spec.kind not in KINDS:
        problems.append(f"its kind is {spec.kind!r}, not one of {', '.join(KINDS)}.")
    if spec.max_steps < 1:
        problems.append(f"max_steps is {spec.max_steps}; an episode must be allowed at least one step.")
    if spec.kind == "cooperative" and len(spec.sides) != 1:
        problems.append(f"a cooperative game has one side (one team), but it has {len(spec.sides)}.")
    if spec.kind != "cooperative" and len(spec.sides) < 2:
        problems.append(f"a {spec.kind} game needs at least two sides, but it has {len(spec.sides)}; "
                        "set league_sides, or league_kind = 'cooperative' for one team.")
    for role in spec.roles:
        sides = spec.sides_for_role(role)
        shapes = {tuple((spec.seat(s).obs_shape, spec.seat(s).action) for s in side.seats) for side in sides}
        if len(shapes) > 1:
            problems.append(f"sides {', '.join(repr(s.name) for s in sides)} share the role {role!r} but differ in "
                            "seat count, observation or action spaces.")
    for seat in spec.seats:
        if seat.action_names is not None and len(seat.action_names) != seat.n_actions:
            problems.append(f"seat {seat.name!r} has {seat.n_actions} actions but {len(seat.action_names)} action names.")
    return problems


# -- PettingZoo's own tests -------------------------------------------------------------------

def pettingzoo_api_problems(game: Game, *, cycles: int = 100) -> list[str]:
    """PettingZoo's `api_test` (AEC) or `parallel_api_test` (parallel) on a fresh environment."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # it imports PettingZoo's old creation API
        from pettingzoo.test import api_test, parallel_api_test

    name = "parallel_api_test" if getattr(game, "parallel", False) else "api_test"
    try:
        env = game.factory()  # type: ignore[attr-defined]
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if name == "api_test":
                api_test(env, num_cycles=cycles, verbose_progress=False)
            else:
                parallel_api_test(env, num_cycles=cycles)
    except AssertionError as error:
        where = traceback.extract_tb(error.__traceback__)[-1]
        said = str(error).strip().splitlines()[0] if str(error).strip() else f"`{where.line}` is false"
        return [f"PettingZoo's {name} fails: {said} ({where.name} in {where.filename.rsplit('/', 1)[-1]})."]
    except Exception as error:  # noqa: BLE001 - the user's environment may raise anything
        return [f"PettingZoo's {name} raised {type(error).__name__}: {error}."]
    return []


# -- the league's contract --------------------------------------------------------------------

def random_actions(env: VecEnv, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Uniform legal actions for every acting seat (zeros elsewhere).

    Example:
        >>> import games
        >>> env = games.load("tic_tac_toe").make(2, seed=0)
        >>> sorted(random_actions(env, np.random.default_rng(0)))
        ['player_0']
    """
    out = {}
    for seat in env.spec.seats:
        acting = env.acting[seat.name]
        if not acting.any():
            continue
        if seat.discrete:
            scores = rng.random((env.n, seat.n_actions))
            scores[~env.mask[seat.name]] = -1.0
            out[seat.name] = scores.argmax(1)
        else:
            box = seat.action
            out[seat.name] = rng.uniform(box.low, box.high, (env.n, *box.shape)).astype(np.float32)
    return out


def array_problems(env: VecEnv) -> list[str]:
    """What is wrong with the arrays a VecEnv shows now (shapes, types, masks, who acts, state)."""
    spec, n = env.spec, env.n
    problems = []
    acting_count = np.zeros(n, dtype=int)
    for seat in spec.seats:
        obs, mask, acting = env.obs[seat.name], env.mask[seat.name], env.acting[seat.name]
        if obs.shape != (n, *seat.obs_shape) or obs.dtype != np.float32:
            problems.append(f"observations of {seat.name!r} are {obs.dtype} {obs.shape}, not float32 {(n, *seat.obs_shape)}.")
        if mask.shape != (n, seat.n_actions) or mask.dtype != bool:
            problems.append(f"the action mask of {seat.name!r} is {mask.dtype} {mask.shape}, not bool {(n, seat.n_actions)}.")
        if acting.shape != (n,) or acting.dtype != bool:
            problems.append(f"acting[{seat.name!r}] is {acting.dtype} {acting.shape}, not bool ({n},).")
            continue
        if not np.isfinite(obs).all():
            problems.append(f"an observation of {seat.name!r} is not finite (NaN or infinite).")
        if seat.discrete and mask.shape == (n, seat.n_actions):
            if not mask[acting].any(1).all():
                problems.append(f"{seat.name!r} must act in a copy where its action mask allows no action.")
            if mask[~acting].any():
                problems.append(f"{seat.name!r} has legal actions in a copy where it does not act.")
        acting_count += acting
    if not (acting_count >= 1).all():
        problems.append("a copy waits on no seat: every live episode must have a seat to act.")
    elif spec.turn_based and not (acting_count == 1).all():
        problems.append("a copy of a turn-based game waits on several seats at once; it must wait on exactly one.")
    state = env.state
    if state.shape != (n, *spec.state_shape) or state.dtype != np.float32:
        problems.append(f"the global state is {state.dtype} {state.shape}, not float32 {(n, *spec.state_shape)}.")
    elif not np.isfinite(state).all():
        problems.append("the global state is not finite (NaN or infinite).")
    return problems


def contract_problems(game: Game, *, copies: int = 3, seed: int = 11, steps: int = 400, episodes: int = 6) -> list[str]:
    """Random play of `copies` copies for up to `steps` steps or `episodes` finished episodes:
    arrays, rewards against episode returns, terminated vs truncated, lengths and auto-reset.

    Stops at the first step that shows a problem, and says so.
    """
    spec = game.spec
    try:
        env = game.make(copies, seed=seed)
    except Exception as error:  # noqa: BLE001
        return [f"making {copies} copies raised {type(error).__name__}: {error}."]
    rng = np.random.default_rng(0)
    problems = array_problems(env)
    seen = {seat: np.zeros(env.n) for seat in spec.seat_names}
    lengths = np.zeros(env.n, dtype=int)
    finished = 0
    step = 0
    try:
        while not problems and step < steps and finished < episodes:
            step += 1
            result = env.step(random_actions(env, rng))
            lengths += 1
            done = result.terminated | result.truncated
            if (result.terminated & result.truncated).any():
                problems.append("an episode ended both terminated and truncated; it is one or the other "
                                "(terminated: by the rules, truncated: by a time limit).")
            if not np.array_equal(result.finished, np.flatnonzero(done)):
                problems.append(f"finished lists copies {result.finished.tolist()}, but copies "
                                f"{np.flatnonzero(done).tolist()} ended.")
            for seat in spec.seat_names:
                if result.reward[seat].shape != (env.n,):
                    problems.append(f"rewards of {seat!r} have shape {result.reward[seat].shape}, not ({env.n},).")
                    break
                if not np.isfinite(result.reward[seat]).all():
                    problems.append(f"a reward of {seat!r} is not finite (NaN or infinite).")
                seen[seat] += result.reward[seat]
            for row, c in enumerate(result.finished.tolist()):
                if result.episode_length[row] != lengths[c]:
                    problems.append(f"an episode of {lengths[c]} steps was reported as {result.episode_length[row]} steps.")
                if lengths[c] > spec.max_steps:
                    problems.append(f"an episode lasted {lengths[c]} steps, more than max_steps={spec.max_steps}.")
                for seat in spec.seat_names:
                    if abs(result.episode_return[seat][row] - seen[seat][c]) > 1e-4 * max(1.0, abs(seen[seat][c])):
                        problems.append(f"the episode return of {seat!r} is {result.episode_return[seat][row]:g}, but its "
                                        f"rewards add up to {seen[seat][c]:g}.")
                    if result.final_obs[seat].shape != (len(result.finished), *spec.seat(seat).obs_shape):
                        problems.append(f"final observations of {seat!r} have shape {result.final_obs[seat].shape}.")
                    seen[seat][c] = 0.0
                if result.final_state.shape != (len(result.finished), *spec.state_shape):
                    problems.append(f"final states have shape {result.final_state.shape}, not "
                                    f"{(len(result.finished), *spec.state_shape)}.")
                if env.ply[c] != 0:
                    problems.append(f"copy {c} finished an episode but did not start a new one (ply {env.ply[c]}).")
                lengths[c] = 0
                finished += 1
            problems += array_problems(env)
    except IllegalActionError as error:
        problems.append(f"a legal action (allowed by the mask) was refused at step {step}: {error}.")
    except Exception as error:  # noqa: BLE001 - the user's environment may raise anything
        problems.append(f"step {step} of random play raised {type(error).__name__}: {error}.")
    finally:
        env.close()
    if problems:
        where = f"at step {step} of random play" if step else "after reset"
        return [f"{where}: {problems[0]}", *dict.fromkeys(problems[1:])]
    if finished < episodes:
        problems.append(f"only {finished} episodes of {copies} copies ended in {steps} steps of random play; "
                        "the league needs episodes that end (add a time limit such as max_cycles).")
    return problems


def illegal_action_problems(game: Game, *, seed: int = 3) -> list[str]:
    """Actions out of range, not legal, outside the box, or missing must be refused with IllegalActionError."""
    env = game.make(2, seed=seed)
    problems: list[str] = []

    def refused(actions: dict[str, np.ndarray], what: str, needle: str) -> None:
        try:
            env.step(actions)
        except IllegalActionError as error:
            if needle not in str(error):
                problems.append(f"{what} was refused, but the message does not say {needle!r}: {error}.")
            return
        problems.append(f"{what} was accepted; it must raise IllegalActionError.")

    try:
        for seat in game.spec.seats:
            if not env.acting[seat.name].any():
                continue
            copy = int(np.flatnonzero(env.acting[seat.name])[0])
            actions = random_actions(env, np.random.default_rng(1))
            bad = actions[seat.name].copy()
            if isinstance(seat.action, Discrete):
                bad[copy] = seat.n_actions
                refused({**actions, seat.name: bad}, f"an out-of-range action of {seat.name!r}", f"seat='{seat.name}'")
                illegal = np.flatnonzero(~env.mask[seat.name][copy])
                if len(illegal):
                    bad[copy] = illegal[0]
                    refused({**actions, seat.name: bad}, f"a masked-out action of {seat.name!r}", "not legal")
            else:
                bad[copy] = seat.action.high + 1.0
                refused({**actions, seat.name: bad}, f"an action of {seat.name!r} outside its box", "outside")
            refused({k: v for k, v in actions.items() if k != seat.name}, f"a step without {seat.name!r}, which must act",
                    "no action")
            break
    finally:
        env.close()
    return problems


def rollout(game: Game, seed: int, steps: int) -> list[tuple]:
    """Observations and rewards of `steps` steps of seeded random play in 2 copies (for comparisons)."""
    env = game.make(2, seed=seed)
    rng = np.random.default_rng(5)
    trace = []
    try:
        for _ in range(steps):
            result = env.step(random_actions(env, rng))
            trace.append(tuple(np.round(env.obs[s], 5).tobytes() for s in env.spec.seat_names)
                         + tuple(result.reward[s].tobytes() for s in env.spec.seat_names))
    finally:
        env.close()
    return trace


def seed_problems(game: Game, *, seed: int = 21, steps: int = 30) -> list[str]:
    """Two runs from one seed must play the same episodes."""
    first, second = rollout(game, seed, steps), rollout(game, seed, steps)
    for step, (a, b) in enumerate(zip(first, second)):
        if a != b:
            return [f"two runs from seed {seed} differ at step {step + 1}: the environment must depend only on the "
                    "seed given to reset(seed=...) (seed its random generators there)."]
    return []
