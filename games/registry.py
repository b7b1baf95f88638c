"""Named games of the league, with their kind, sides and roles.

`load(ref)` builds a game from its registry name, optionally with options in OpenSpiel's
call syntax; `openspiel:<game string>` loads any OpenSpiel game and `module:factory` any
PettingZoo environment a user provides.

Example:
    >>> from games.registry import load, names
    >>> "connect_four" in names() and "simple_tag" in names()
    True
    >>> spec = load("simple_tag(continuous=True)").spec
    >>> [(side.name, len(side.seats), side.role) for side in spec.sides]
    [('predators', 3, 'predator'), ('prey', 1, 'prey')]
    >>> spec.seat("adversary_0").action
    Box(shape=(5,), low=0.0, high=1.0)
"""

from __future__ import annotations

import ast
import difflib
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable, Sequence

from games.base import Game, GameError, GameSpec, Judge, ModuleNotAllowedError, Side, UnknownChoiceError
from games.options import Option, check_options

STEPS_MAX = 100_000  # the longest episode an option may ask for (a game's steps are stored with it)


@dataclass(frozen=True)
class Entry:
    """One registered game: how to build it and what to tell users about it.

    `schema` declares each option's default, type and range (games/options.py); values a user
    writes in `name(key=value)` are checked against it before the game is built.

    Example:
        >>> from games.registry import entries
        >>> soccer = next(e for e in entries() if e.name == "markov_soccer")
        >>> soccer.options, soccer.schema["horizon"].describe()
        ({'horizon': 200}, 'an integer from 1 to 100000')
    """

    name: str
    backend: str
    kind: str
    build: Callable[..., Game]
    summary: str
    schema: dict[str, Option] = field(default_factory=dict)  # option -> its default, type and range

    @property
    def options(self) -> dict[str, Any]:
        """Each option's default."""
        return {name: option.default for name, option in self.schema.items()}


_REGISTRY: dict[str, Entry] = {}


def register(entry: Entry) -> Entry:
    if entry.name in _REGISTRY:
        raise GameError(f"a game named {entry.name!r} is already registered")
    _REGISTRY[entry.name] = entry
    return entry


def names() -> list[str]:
    """Registered game names, sorted."""
    return sorted(_REGISTRY)


def entries() -> list[Entry]:
    return [_REGISTRY[name] for name in names()]


def unknown_game(name: str) -> GameError:
    close = difflib.get_close_matches(name, names(), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return UnknownChoiceError(f"unknown game {name!r}{hint}; valid games: {', '.join(names())}", names())


_REF = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\((.*)\))?\s*$", re.S)


def parse_ref(ref: str) -> tuple[str, dict[str, Any]]:
    """Split "name(key=value, ...)" into the name and Python-literal options.

    Example:
        >>> parse_ref("simple_tag(continuous=True, max_cycles=50)")
        ('simple_tag', {'continuous': True, 'max_cycles': 50})
    """
    match = _REF.match(ref)
    if not match:
        raise GameError(f"cannot read the game {ref!r}; write a name such as 'connect_four' or 'simple_tag(continuous=True)'")
    name, args = match.group(1), match.group(2)
    options: dict[str, Any] = {}
    if args and args.strip():
        try:
            call = ast.parse(f"f({args})", mode="eval").body
            if not isinstance(call, ast.Call) or call.args:
                raise ValueError
            for keyword in call.keywords:
                if keyword.arg is None:
                    raise ValueError
                options[keyword.arg] = ast.literal_eval(keyword.value)
        except (SyntaxError, ValueError):
            raise GameError(f"cannot read the options of {ref!r}; write them as key=value, e.g. continuous=True") from None
    return name, options


def canonical_ref(name: str, options: dict[str, Any]) -> str:
    if not options:
        return name
    return f"{name}({', '.join(f'{k}={v!r}' for k, v in sorted(options.items()))})"


_MODULE_REF = re.compile(r"^\s*[A-Za-z_][\w.]*\s*:")


def is_module_ref(ref: str) -> bool:
    """Whether `ref` names a user's `module:factory` (importing it would run code).

    Example:
        >>> is_module_ref("mygame:env(stones=7)"), is_module_ref("openspiel:hex"), is_module_ref("vmas(scenario='a:b')")
        (True, False, False)
    """
    return bool(_MODULE_REF.match(ref)) and not ref.strip().startswith("openspiel:")


def load(ref: str, *, allow_modules: bool = True) -> Game:
    """The game named `ref`: a registry name with options, `openspiel:<game>` or `module:factory`.

    Raises GameError with the list of valid names when the name is unknown. With
    `allow_modules=False` (for names read from stored data), a `module:factory` name is
    refused, since loading it imports and runs that module.

    Example:
        >>> load("tic_tac_toe") is load("tic_tac_toe")
        True
        >>> load("os:abort", allow_modules=False)
        Traceback (most recent call last):
        ...
        games.base.ModuleNotAllowedError: the game 'os:abort' names a Python module (module:factory), which is not loaded here because that would run its code; registry games and openspiel: games are allowed
    """
    if not isinstance(ref, str):
        raise GameError(f"a game is named by a string, got {type(ref).__name__}")
    text = ref.strip()
    if not allow_modules and is_module_ref(text):
        raise ModuleNotAllowedError(f"the game {text!r} names a Python module (module:factory), which is not loaded here "
                                    "because that would run its code; registry games and openspiel: games are allowed")
    return _load(ref)


@lru_cache(maxsize=64)
def _load(ref: str) -> Game:
    ref = ref.strip()
    if ref.startswith("openspiel:"):
        from games.openspiel import OpenSpielGame

        source = ref[len("openspiel:"):]
        return OpenSpielGame(ref, source, ref=ref)
    if is_module_ref(ref):
        from games.pettingzoo import load_user_factory

        return load_user_factory(ref)
    name, options = parse_ref(ref)
    entry = _REGISTRY.get(name)
    if entry is None:
        raise unknown_game(name)
    bad = sorted(set(options) - set(entry.options))
    if bad:
        valid = ", ".join(sorted(entry.options)) or "none"
        raise UnknownChoiceError(f"{name} has no option {bad[0]!r}; its options: {valid}", sorted(entry.options))
    merged = {**entry.options, **check_options(name, entry.schema, options)}
    game = entry.build(**merged)
    # the canonical ref lists only options that differ from the defaults
    game.ref = canonical_ref(name, {k: v for k, v in merged.items() if entry.options.get(k) != v})
    return game


load.cache_clear = _load.cache_clear  # type: ignore[attr-defined]


def replay_text(game: str | GameSpec, seed: int, actions: Sequence[int | Sequence[int]]) -> list[str]:
    """An OpenSpiel game's state as text, before and after each action of one episode.

    `game` is a game name (as for `load`) or a spec; `seed` the episode seed
    (`StepResult.episode_seed`), so chance events replay as they were played; `actions`
    one action per step (a joint action, one per player, in simultaneous-move games).

    Example:
        >>> replay_text("connect_four", 0, [3, 3])[-1].splitlines()[-2:]
        ['...o...', '...x...']
    """
    if isinstance(game, str) and is_module_ref(game):
        raise GameError(f"text replays need an OpenSpiel game; {game.strip()} is a PettingZoo game of your own")
    spec = game if isinstance(game, GameSpec) else load(game).spec
    if spec.backend != "openspiel":
        raise GameError(f"text replays need an OpenSpiel game; {spec.name} is a {spec.backend} game")
    from games.openspiel import replay_text as replay

    return replay(spec.source, seed, actions)


# -- OpenSpiel -------------------------------------------------------------------------------

TWO_PLAYERS = (Side("first", ("player_0",), "player"), Side("second", ("player_1",), "player"))


def _openspiel(name: str, source: str, kind: str, summary: str, options: dict[str, Option] | None = None,
               source_with: Callable[..., str] | None = None) -> Entry:
    def build(**opts: Any) -> Game:
        from games.openspiel import OpenSpielGame

        return OpenSpielGame(name, source_with(**opts) if source_with else source, kind=kind, sides=TWO_PLAYERS, description=summary)

    return register(Entry(name, "openspiel", kind, build, summary, options or {}))


_openspiel("connect_four", "connect_four", "competitive", "Connect four on a 6x7 board (OpenSpiel).")
_openspiel("tic_tac_toe", "tic_tac_toe", "competitive", "Tic-tac-toe (OpenSpiel).")
_openspiel("kuhn_poker", "kuhn_poker", "competitive",
           "Kuhn poker, 3 cards, information-state tensors (OpenSpiel).")
_openspiel("leduc_poker", "leduc_poker", "competitive",
           "Leduc hold'em, 6 cards, information-state tensors (OpenSpiel).")
_openspiel("markov_soccer", "markov_soccer", "competitive",
           "Littman's soccer on a 4x5 grid, simultaneous moves; a draw after `horizon` steps (OpenSpiel).",
           options={"horizon": Option(200, minimum=1, maximum=STEPS_MAX)},
           source_with=lambda horizon: f"markov_soccer(horizon={int(horizon)})")
_openspiel("matrix_rps", "matrix_rps", "competitive", "Rock-paper-scissors, one simultaneous move (OpenSpiel).")
_openspiel("iterated_prisoners_dilemma", "", "mixed",
           "Prisoner's dilemma repeated `rounds` times, simultaneous moves, last round observed (OpenSpiel).",
           options={"rounds": Option(10, minimum=1, maximum=10_000)},
           source_with=lambda rounds: f"repeated_game(stage_game=matrix_pd(),num_repetitions={int(rounds)})")


# -- PettingZoo classic --------------------------------------------------------------------

def _pz_classic(name: str, module: str, summary: str, max_steps: int) -> Entry:
    def build() -> Game:
        from games.pettingzoo import PettingZooGame

        return PettingZooGame(
            name, f"pettingzoo.classic.{module}", kind="competitive",
            sides=(Side("first", ("player_0",), "player"), Side("second", ("player_1",), "player")),
            description=summary, zero_sum=True, max_steps=max_steps,
        )

    return register(Entry(name, "pettingzoo", "competitive", build, summary))


_pz_classic("connect_four_pz", "connect_four_v3", "Connect four through PettingZoo's AEC API (connect_four_v3).", 42)
_pz_classic("leduc_holdem_pz", "leduc_holdem_v4", "Leduc hold'em through PettingZoo's AEC API (leduc_holdem_v4, rlcard).", 16)


# -- mpe2 particle worlds --------------------------------------------------------------------

def _mpe(name: str, module: str, kind: str, sides: tuple[Side, ...], summary: str,
         judge: Judge | None = None, kwargs: dict[str, Any] | None = None, vectorised: bool = False) -> Entry:
    """An mpe2 world; with `vectorised`, the game also takes `vectorised=True`, its numpy port
    (games/mpe_tag.py for simple_tag), the same game stepped for all copies at once."""
    options = {"continuous": Option(False), "max_cycles": Option(25, minimum=1, maximum=STEPS_MAX)}
    if vectorised:
        options["vectorised"] = Option(False)

    def build(continuous: bool, max_cycles: int, vectorised: bool = False) -> Game:
        from games.pettingzoo import PettingZooGame

        if vectorised:
            from games.mpe_tag import build as build_vectorised

            return build_vectorised(name, f"mpe2.{module}", continuous, max_cycles, kind=kind, sides=sides,
                                    description=summary, judge=judge)
        return PettingZooGame(
            name, f"mpe2.{module}", kind=kind, sides=sides, description=summary, judge=judge,
            parallel=True,
            kwargs={**(kwargs or {}), "continuous_actions": bool(continuous), "max_cycles": int(max_cycles)},
        )

    return register(Entry(name, "pettingzoo", kind, build, summary, options))


_PREDATORS = ("adversary_0", "adversary_1", "adversary_2")
_mpe("simple_tag", "simple_tag_v3", "competitive",
     (Side("predators", _PREDATORS, "predator"), Side("prey", ("agent_0",), "prey")),
     "Predator-prey: 3 slow predators chase 1 fast prey around 2 obstacles; predators win an "
     "episode by tagging the prey at least once (mpe2 simple_tag_v3, 25 steps). vectorised=True "
     "steps the same game for all copies at once in numpy (games/mpe_tag.py), many times faster.",
     judge=Judge(rule="threshold", side=0, value=0.0), vectorised=True)
_mpe("simple_adversary", "simple_adversary_v3", "competitive",
     (Side("adversary", ("adversary_0",), "adversary"), Side("good", ("agent_0", "agent_1"), "good")),
     "Physical deception: 2 good agents cover the target landmark while 1 adversary, who does not "
     "know which it is, tries to reach it; the good side wins when its return is positive "
     "(mpe2 simple_adversary_v3, 25 steps).",
     judge=Judge(rule="threshold", side=1, value=0.0))
_mpe("simple_push", "simple_push_v3", "competitive",
     (Side("adversary", ("adversary_0",), "adversary"), Side("good", ("agent_0",), "good")),
     "Keep-away: 1 agent reaches its landmark while 1 adversary pushes it off; the adversary wins "
     "when its return is positive (mpe2 simple_push_v3, 25 steps).",
     judge=Judge(rule="threshold", side=0, value=0.0))
_mpe("simple_world_comm", "simple_world_comm_v3", "mixed",
     (Side("adversaries", ("leadadversary_0", "adversary_0", "adversary_1", "adversary_2"), "adversary"),
      Side("good", ("agent_0", "agent_1"), "good")),
     "Predator-prey with forests, food and a leader who talks: 4 adversaries (1 leader) vs 2 good "
     "agents; adversaries win by tagging at least once (mpe2 simple_world_comm_v3, 25 steps).",
     judge=Judge(rule="threshold", side=0, value=0.0))
_mpe("simple_spread", "simple_spread_v3", "cooperative",
     (Side("team", ("agent_0", "agent_1", "agent_2"), "spreader"),),
     "Cooperative navigation: 3 agents cover 3 landmarks without colliding; one side, rated by "
     "team return (mpe2 simple_spread_v3, 25 steps).")


# -- VMAS particle worlds (vectorised in torch, games/vmas.py) -------------------------------
# Same worlds as the mpe2 games above, but not the same games: physics, rewards, observation
# layouts and action sets differ (each summary says how), so never compare results across them.

def _vmas_mpe(name: str, scenario: str, kind: str, sides: tuple[Side, ...], summary: str,
              judge: Judge | None = None) -> Entry:
    def build(continuous: bool, max_steps: int) -> Game:
        from games.vmas import VmasGame

        return VmasGame(name, scenario, kind=kind, sides=sides, judge=judge, description=summary,
                        continuous=bool(continuous), max_steps=int(max_steps))

    return register(Entry(name, "vmas", kind, build, summary,
                          {"continuous": Option(False), "max_steps": Option(25, minimum=1, maximum=STEPS_MAX)}))


_vmas_mpe("simple_tag_vmas", "simple_tag", "competitive",
          (Side("predators", _PREDATORS, "predator"), Side("prey", ("agent_0",), "prey")),
          "Predator-prey on VMAS: 3 predators chase 1 prey around 2 obstacles; predators win by tagging "
          "at least once; 25 steps. Unlike mpe2's simple_tag: VMAS physics (10 substeps), walls at "
          "|x|, |y| = 1 instead of the prey's out-of-bounds penalty (rewards are +-10 per contact only), "
          "9 discrete moves (mpe2's 5, then diagonals); observation layout as mpe2 (predator 16, prey 14).",
          judge=Judge(rule="threshold", side=0, value=0.0))
_vmas_mpe("simple_adversary_vmas", "simple_adversary", "competitive",
          (Side("adversary", ("adversary_0",), "adversary"), Side("good", ("agent_0", "agent_1"), "good")),
          "Physical deception on VMAS: 1 adversary vs 2 good agents and 2 landmarks, one the goal; the "
          "good side wins when its return is positive; 25 steps. Unlike mpe2's simple_adversary: VMAS "
          "physics, 9 discrete moves, and VMAS keeps one goal landmark for every copy, so the adapter "
          "shuffles each episode's landmark slots to hide it; rewards and layout (8, 10) as mpe2.",
          judge=Judge(rule="threshold", side=1, value=0.0))
_vmas_mpe("simple_world_comm_vmas", "simple_world_comm", "mixed",
          (Side("adversaries", ("lead_adversary_0", "adversary_1", "adversary_2", "adversary_3"), "adversary"),
           Side("good", ("agent_0", "agent_1"), "good")),
          "Predator-prey with forests, food and a talking leader on VMAS: 4 adversaries vs 2 good agents; "
          "adversaries win by tagging at least once; 25 steps. Unlike mpe2's simple_world_comm: other seat "
          "names, observations of 60/56 (VMAS lists others once per forest and shows them to non-leaders "
          "only inside a shared forest) not 34/28, walls instead of a boundary penalty, leader 36 actions.",
          judge=Judge(rule="threshold", side=0, value=0.0))
_vmas_mpe("simple_spread_vmas", "simple_spread", "cooperative",
          (Side("team", ("agent_0", "agent_1", "agent_2"), "spreader"),),
          "Cooperative navigation on VMAS: 3 agents cover 3 landmarks; one side, rated by team return; "
          "25 steps. Unlike mpe2's simple_spread: observations of 14 (pos, vel, landmarks, others; no "
          "comm) not 18, and each agent gets the whole team reward (-3x the summed landmark-to-nearest-"
          "agent distances, -2 per overlapping pair), so team returns are about 6x mpe2's.")


_FOOTBALL = ("VMAS football, 3 v 3 (option players): both teams are league entrants (VMAS's scripted AI is "
             "off); red plays mirrored, so blue and red share the role 'player'. A goal ends the episode "
             "(+-100 per player) and wins; else, after max_steps (200 steps of 0.1 s; VMAS uses 500), the "
             "higher return wins: dense shaping, mostly ball progress towards the goal (dense_reward=True). "
             "No mpe2 twin.")


def _build_football(players: int, continuous: bool, max_steps: int, dense_reward: bool) -> Game:
    from games.vmas import football

    return football(int(players), bool(continuous), int(max_steps), bool(dense_reward), description=_FOOTBALL)


register(Entry("football", "vmas", "competitive", _build_football, _FOOTBALL,
               {"players": Option(3, minimum=1, maximum=11), "continuous": Option(False),
                "max_steps": Option(200, minimum=1, maximum=STEPS_MAX), "dense_reward": Option(True)}))


def _build_vmas(scenario: str, continuous: bool, max_steps: int) -> Game:
    from games.vmas import VmasGame

    return VmasGame("vmas", str(scenario), kind="cooperative", continuous=bool(continuous), max_steps=int(max_steps),
                    description=f"VMAS scenario {scenario!r} as one cooperative team.")


register(Entry("vmas", "vmas", "cooperative", _build_vmas,
               "Any VMAS scenario as one cooperative team of all its agents, e.g. vmas(scenario='balance'); "
               "reset copy by copy with VMAS's own code, so slower at thousands of copies.",
               {"scenario": Option("transport"), "continuous": Option(False),
                "max_steps": Option(100, minimum=1, maximum=STEPS_MAX)}))
