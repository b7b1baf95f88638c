"""A person plays a turn-based OpenSpiel game against a stored policy or a baseline, in a terminal.

`play_game` draws the board after every move, asks for moves through `ask` (bad input is
asked again, with the legal moves listed), lets the opponent answer through the same
`Policy.act` the runner uses, then prints the result and stores the game as a match of
origin "human". A person's games are stored but not rated (one game against a person would
move a policy's TrueSkill rating by an untested amount), and a trainer resuming from a
checkpoint never rolls them back. A person plays under a name of their own: a name that
belongs to a policy of the run is refused before the game starts (`check_human_name`).

This module does no input or output of its own: the caller passes `ask(prompt) -> str`
(raising EOFError when input ends) and `say(text)`, so the command line and tests share it.

Example:
    >>> import games, tempfile
    >>> from league.store.database import Store
    >>> moves = iter(["4", "0", "8", "2", "6", "1", "3", "5", "7"])
    >>> with tempfile.TemporaryDirectory() as tmp, Store.open(tmp, create=True) as store:
    ...     result = play_game(store, games.load("tic_tac_toe"), "random", ask=lambda prompt: next(moves),
    ...                        say=lambda text: None, seed=1)
    ...     result.sides, len(store.matches(player="human"))
    (('human', 'random'), 1)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

import numpy as np

from agents.base import PolicyError
from agents.baselines import is_baseline_name
from games.base import Game, GameSpec, move_keys
from games.errors import LeagueError
from league.play.entrants import EntrantError, resolve
from league.store.database import NewMatch, Store

PLAYABLE = ("connect_four", "tic_tac_toe", "kuhn_poker")
_HUMAN_NAME = re.compile(r"^[A-Za-z0-9 ._-]{1,64}$")
KUHN_CARDS = "JQK"


class PlayError(LeagueError, ValueError):
    """A game that cannot be played in the terminal, an unusable opponent, or an abandoned game."""


@dataclass(frozen=True)
class PlayResult:
    """A finished game against a person, as stored."""

    match_id: int
    sides: tuple[str, ...]  # names in side order
    returns: tuple[float, ...]
    ranks: tuple[int, ...]
    length: int
    seed: int
    human: int  # the person's side index


def check_human_name(store: Store | None, name: str, opponent: str) -> None:
    """Refuse a name that is empty, unusable, the opponent's, or another player's of the run.

    Example:
        >>> for bad in ("", "a+b", "random"):
        ...     try:
        ...         check_human_name(None, bad, "mcts:5")
        ...     except PlayError as error:
        ...         print(error)
        your name '' must be 1 to 64 letters, digits, spaces or '._-'; choose another with --name.
        your name 'a+b' must be 1 to 64 letters, digits, spaces or '._-'; choose another with --name.
        your name 'random' is a reference bot's; choose another with --name.
    """
    if not isinstance(name, str) or not _HUMAN_NAME.match(name) or not name.strip():
        raise PlayError(f"your name {name!r} must be 1 to 64 letters, digits, spaces or '._-'; "
                        f"choose another with --name.")
    if name == opponent:
        raise PlayError(f"your name {name!r} is also the opponent's; choose another with --name.")
    if is_baseline_name(name):
        raise PlayError(f"your name {name!r} is a reference bot's; choose another with --name.")
    player = store.player(name) if store is not None else None
    if player is not None and not player.meta.get("human"):
        raise PlayError(f"{name!r} is a {player.kind} of this run, so a person's games cannot be counted as its; "
                        f"choose another with --name.")


def check_playable(spec: GameSpec) -> None:
    """Refuse games a person cannot play here (simultaneous, not OpenSpiel, not two single seats)."""
    if spec.backend != "openspiel" or not spec.turn_based or len(spec.sides) != 2 or any(len(s.seats) != 1 for s in spec.sides):
        raise PlayError(f"league play needs a turn-based two-player OpenSpiel game such as connect_four, tic_tac_toe "
                        f"or kuhn_poker; {spec.name} is not one.")


# -- drawing ----------------------------------------------------------------------------------

def render(spec: GameSpec, state, viewer: int) -> str:
    """The board as `viewer` (an OpenSpiel player id) may see it; the whole state once it is over."""
    if spec.name == "connect_four":
        rows = [" ".join(line) for line in str(state).strip().splitlines()]
        return "\n".join([" ".join(str(c) for c in range(len(rows[0].split()))), *rows])
    if spec.name == "tic_tac_toe":
        rows = str(state).strip().splitlines()
        return "\n".join(f"{' '.join(row)}   {' '.join(str(3 * r + c) for c in range(3))}" for r, row in enumerate(rows))
    if spec.name == "kuhn_poker":
        history = state.history()
        cards, bets = history[:2], [("pass", "bet")[a] for a in history[2:]]
        shown = f"your card {KUHN_CARDS[cards[viewer]]}" if len(cards) > viewer else "no card yet"
        if state.is_terminal():
            shown = f"cards: player_0 {KUHN_CARDS[cards[0]]}, player_1 {KUHN_CARDS[cards[1]]}"
        return f"{shown}; bets so far: {', '.join(bets) or 'none'}"
    if state.is_terminal() or spec.name not in PLAYABLE and _perfect(state):
        return str(state)
    return state.information_state_string(viewer)


def _perfect(state) -> bool:
    import pyspiel

    return state.get_game().get_type().information == pyspiel.GameType.Information.PERFECT_INFORMATION


def move_label(spec: GameSpec, state, player: int, action: int) -> str:
    if spec.name == "connect_four":
        return f"column {action}"
    if spec.name == "tic_tac_toe":
        return f"cell {action}"
    return state.action_to_string(player, action)


def legal_list(spec: GameSpec, state, player: int, legal: list[int]) -> str:
    if spec.name in ("connect_four", "tic_tac_toe"):
        return " ".join(str(a) for a in legal)
    return ", ".join(f"{a} ({state.action_to_string(player, a)})" for a in legal)


def parse_move(text: str, legal: list[int], names: dict[int, str]) -> int | None:
    """The legal action `text` names (its number, or its name in any case), else None.

    Example:
        >>> parse_move(" bet ", [0, 1], {0: "Pass", 1: "Bet"}), parse_move("7", [0, 1], {}), parse_move("1", [0, 1], {})
        (1, None, 1)
    """
    text = text.strip()
    if text.lstrip("-").isdigit():
        return int(text) if int(text) in legal else None
    by_name = {name.lower(): a for a, name in names.items() if a in legal}
    return by_name.get(text.lower())


# -- the game ---------------------------------------------------------------------------------

def play_game(store: Store, game: Game, opponent: str, *, ask: Callable[[str], str], say: Callable[[str], None],
              human_first: bool = True, seed: int = 0, name: str = "human") -> PlayResult:
    """Play one game between a person (`ask`/`say`) and `opponent`, then store it; see the module doc."""
    spec = game.spec
    check_playable(spec)
    check_human_name(store, name, opponent)
    try:
        (entrant,) = resolve([opponent], spec, store)
    except (EntrantError, PolicyError) as error:
        raise PlayError(str(error)) from None
    human = 0 if human_first else 1
    seats = [side.seats[0] for side in spec.sides]
    reason = entrant.policy.unsupported(spec, [seats[1 - human]])
    if reason:
        raise PlayError(f"{opponent} cannot play {spec.sides[1 - human].name} in {spec.name}: {reason}.")
    env = game.make(1, seed=seed)
    names = [name, opponent] if human == 0 else [opponent, name]
    marks = {"connect_four": "xo", "tic_tac_toe": "xo"}.get(spec.name)
    you = f" ({marks[human]})" if marks else ""
    say(f"{spec.name}: you ({name}) play {spec.sides[human].name}{you} against {opponent}.")
    final = None
    while final is None:
        state = env.engine_states(np.array([0]))[0]
        seat = next(s for s in seats if env.acting[s][0])
        player = seats.index(seat)  # turn-based two-player OpenSpiel games: seat k is player k
        if player == human:
            say(render(spec, state, human))
            action = _ask_move(spec, state, player, ask, say)
        else:
            keys = move_keys(env.episode_seed[:1], env.ply[:1], spec.seat_names.index(seat))
            states = [state] if getattr(entrant.policy, "needs_engine_states", False) else None
            action = int(entrant.policy.act(env.obs[seat][:1], env.mask[seat][:1], seat=seat, keys=keys,
                                            explore=False, engine_states=states)[0])
            say(f"{opponent} plays {move_label(spec, state, player, action)}")
        after = state.clone()
        after.apply_action(action)
        result = env.step({seat: np.array([action])})
        if len(result.finished):
            final = (after, result)
    after, result = final
    say(render(spec, after, human))
    returns = spec.side_returns({s: float(result.episode_return[s][0]) for s in spec.seat_names})
    ranks = spec.outcome(returns)
    if store.player(name) is None:
        store.add_player(name, "baseline", meta={"human": True})
    if store.player(opponent) is None:
        store.add_player(opponent, "baseline")
    match = NewMatch(origin="human", game=spec.name, seed=int(result.episode_seed[0]), sides=tuple(names),
                     returns=returns, ranks=ranks, length=int(result.episode_length[0]))
    match_id = store.record_match(match)
    mine = returns[human]
    verdict = "Draw" if ranks[0] == ranks[1] else ("You win" if ranks[human] == 0 else f"{opponent} wins")
    say(f"{verdict} (your return {mine:+g}); stored as match {match_id}.")
    return PlayResult(match_id, tuple(names), returns, ranks, match.length, match.seed, human)


def _ask_move(spec: GameSpec, state, player: int, ask: Callable[[str], str], say: Callable[[str], None]) -> int:
    legal = state.legal_actions(player)
    names = {a: state.action_to_string(player, a) for a in legal}
    while True:
        try:
            text = ask("Your move:")
        except EOFError:
            raise PlayError("the game was abandoned before it ended; nothing was stored.") from None
        action = parse_move(text, legal, names)
        if action is not None:
            return action
        say(f"{text.strip()!r} is not a legal move; legal moves: {legal_list(spec, state, player, legal)}")
