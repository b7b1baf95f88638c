"""The pool's Nash mixture as one player, `nash`: the behaviour policy that plays like it.

A meta-game mixture picks member k with probability w_k at the start of a game and plays it
throughout. In a game of perfect recall that is realization-equivalent to one behaviour
policy (PSRO's aggregate policy; OpenSpiel's `PolicyAggregator`): at each information state s
of a player,

    pi(a | s) = sum_k w_k R_k(s) pi_k(a | s) / sum_k w_k R_k(s)

where R_k(s) is member k's own reach of s (the product of its probabilities of the player's
own earlier actions on the way there). An information state that no member reaches plays
uniformly over its legal actions, as OpenSpiel's aggregator does.

`aggregate` computes that policy exactly, as one table per seat (information-state tensor ->
distribution), from the game's information states (`league.play.infostates`, which walks the
OpenSpiel game tree once); it refuses games too large to walk (`infostates.MAX_NODES`).
`TabularMixture` plays the table. The mixture a run uses (members and weights, and the league's own
exploitability figure for it) is recorded in the run as `mixtures/nash.json` (`record_mixture`,
`stored_mixture`); `mixture_policy` turns that record into a playing policy, so `nash` is an
entrant like any other (`league.play.entrants.resolve`).

Example:
    >>> import games
    >>> from agents.baselines import FixedActionPolicy
    >>> spec = games.load("kuhn_poker").spec
    >>> policy = aggregate(spec, [FixedActionPolicy(spec, 0), FixedActionPolicy(spec, 1)], [0.25, 0.75])
    >>> table = policy.tables["player_0"]
    >>> len(table.keys), table.probs[0].round(2).tolist()  # three cards; first move: pass 1/4, bet 3/4
    (6, [0.25, 0.75])
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from agents.base import Policy, PolicyError
from games.base import GameSpec, sample_masked, uniforms
from games.errors import LeagueError
from league.play.infostates import (ZERO_WEIGHT, GivesProbabilities, NotEnumerableError, information_states,
                                    mixture_tables, policy_tables)
from league.store.database import Store, StoreError

MIXTURE_NAME = "nash"  # the entrant name of the pool's Nash mixture
RECORD_PATH = "mixtures/nash.json"  # the run's record of its current mixture


class MixtureError(LeagueError, ValueError):
    """A mixture that cannot be recorded, found, built or played."""


class NotTabularError(MixtureError):
    """A game whose tree is too large (or not of perfect recall) to tabulate the mixture exactly."""


# -- the record ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Mixture:
    """Which frozen players the mixture picks from, with what weights, and what the league measured."""

    role: str
    members: tuple[str, ...]  # snapshot or baseline names, in the pool's order
    weights: tuple[float, ...]  # the Nash weights, summing to 1
    source: str  # where the weights come from, for people
    exploitability: float | None = None  # the league's own figure for this mixture, where computed

    def __post_init__(self) -> None:
        if not self.members or len(self.members) != len(self.weights):
            raise MixtureError(f"a mixture needs one weight per member, not {len(self.weights)} for {len(self.members)}.")
        if MIXTURE_NAME in self.members:
            raise MixtureError(f"a mixture cannot hold itself ({MIXTURE_NAME!r}) as a member.")
        w = np.asarray(self.weights, dtype=np.float64)
        if not np.isfinite(w).all() or (w < 0).any() or abs(w.sum() - 1.0) > 1e-6:
            raise MixtureError(f"mixture weights must be non-negative and sum to 1, not {list(self.weights)}.")

    def playing(self) -> tuple[tuple[str, ...], tuple[float, ...]]:
        """The members with positive weight and their weights, renormalised."""
        keep = [k for k, w in enumerate(self.weights) if w > ZERO_WEIGHT]
        total = sum(self.weights[k] for k in keep)
        return tuple(self.members[k] for k in keep), tuple(self.weights[k] / total for k in keep)

    def to_json(self) -> dict[str, Any]:
        return {"name": MIXTURE_NAME, "role": self.role, "members": list(self.members), "weights": list(self.weights),
                "source": self.source, "exploitability": self.exploitability}

    @classmethod
    def from_json(cls, data: Any) -> "Mixture":
        """Validated: data read from disk is never trusted."""
        ok = (isinstance(data, dict) and isinstance(data.get("role"), str) and isinstance(data.get("source"), str)
              and isinstance(data.get("members"), list) and all(isinstance(m, str) for m in data["members"])
              and isinstance(data.get("weights"), list)
              and all(isinstance(w, (int, float)) and not isinstance(w, bool) for w in data["weights"])
              and (data.get("exploitability") is None or isinstance(data["exploitability"], (int, float))))
        if not ok:
            raise MixtureError("the run's record of its Nash mixture is not readable.")
        return cls(data["role"], tuple(data["members"]), tuple(float(w) for w in data["weights"]), data["source"],
                   None if data.get("exploitability") is None else float(data["exploitability"]))


def record_mixture(store: Store, mixture: Mixture) -> None:
    """Write the run's current mixture (replacing the last one); its sha256 is kept by the store."""
    store.write_file(RECORD_PATH, (json.dumps(mixture.to_json(), indent=2) + "\n").encode())


def stored_mixture(store: Store) -> Mixture | None:
    """The run's recorded mixture, checked against the sha256 the store kept, or None if none was recorded."""
    digest = store.recorded_sha256(RECORD_PATH)
    if digest is None:
        return None
    try:
        data = json.loads(store.verify_file(RECORD_PATH, digest).read_text())
    except StoreError as error:
        raise MixtureError(f"the run's record of its Nash mixture cannot be trusted: {error}") from None
    except ValueError:
        raise MixtureError("the run's record of its Nash mixture is not readable.") from None
    return Mixture.from_json(data)


# -- the exact behaviour policy ----------------------------------------------------------------

@dataclass(frozen=True)
class SeatTable:
    """One seat's information states and the mixture's distribution at each."""

    keys: np.ndarray  # (K, obs_size) float32: the information-state tensors, flattened
    masks: np.ndarray  # (K, A) bool: the legal actions at each
    probs: np.ndarray  # (K, A) float64: the mixture's behaviour, zero where illegal


class TabularMixture:
    """The mixture's behaviour policy as tables: plays from `probabilities`, seeded by `keys`."""

    needs_engine_states = False

    def __init__(self, spec: GameSpec, tables: dict[str, SeatTable]):
        self.spec, self.tables = spec, tables
        self._rows = {seat: {key.tobytes(): k for k, key in enumerate(t.keys)} for seat, t in tables.items()}

    def rows(self, obs: np.ndarray, seat: str) -> np.ndarray:
        """(b,) the table row of each observation (b, *obs_shape); PolicyError for an unknown one."""
        flat = np.ascontiguousarray(np.asarray(obs, dtype=np.float32).reshape(len(obs), -1))  # (b, obs_size)
        found = [self._rows[seat].get(row.tobytes(), -1) for row in flat]
        if -1 in found:
            raise PolicyError(f"an observation of seat {seat!r} is none of the {len(self._rows[seat])} information "
                              f"states of the mixture's table.")
        return np.asarray(found, dtype=np.int64)

    def unsupported(self, spec: GameSpec, seats: Sequence[str]) -> str | None:
        if spec.name != self.spec.name:
            return f"this mixture was built for {self.spec.name}"
        missing = [s for s in seats if s not in self.tables]
        return f"this mixture does not cover seats {missing}" if missing else None

    def probabilities(self, obs: np.ndarray, mask: np.ndarray, *, seat: str) -> np.ndarray:
        """(b, A): the mixture's behaviour at each row's information state."""
        return self.tables[seat].probs[self.rows(obs, seat)]

    def act(self, obs: np.ndarray, mask: np.ndarray, *, seat: str, keys: np.ndarray, explore: bool = False,
            engine_states: Sequence[Any] | None = None) -> np.ndarray:
        u = uniforms(keys, 1)[:, 0]  # (b,)
        return sample_masked(self.probabilities(obs, mask, seat=seat), np.asarray(mask, dtype=bool), u)


def tabular_reason(spec: GameSpec) -> str | None:
    """Why the mixture of this game cannot be tabulated exactly, or None."""
    if spec.backend != "openspiel":
        return f"{spec.name} is a {spec.backend} game, whose information states cannot be enumerated"
    import pyspiel

    info = pyspiel.load_game(spec.source).get_type()
    if info.dynamics != pyspiel.GameType.Dynamics.SEQUENTIAL or not info.provides_information_state_tensor:
        return f"{spec.name} is not a turn-based game with information-state tensors"
    if len(spec.roles) != 1:
        return f"{spec.name} has a role per side, and the mixture plays every seat"
    return None


def aggregate(spec: GameSpec, members: Sequence[GivesProbabilities], weights: Sequence[float]) -> TabularMixture:
    """The exact behaviour policy of the mixture (see the module doc). Members need `probabilities`
    (every network policy and the uniform-random baseline have it)."""
    w = np.asarray(weights, dtype=np.float64)  # (M,)
    if len(members) != len(w) or not len(w) or (w < 0).any() or w.sum() <= 0:
        raise MixtureError("a mixture needs one non-negative weight per member, with a positive sum.")
    for member in members:
        if not isinstance(member, GivesProbabilities):
            raise MixtureError(f"a {type(member).__name__} cannot be a member of a tabular mixture: it gives no "
                               f"action probabilities.")
    reason = tabular_reason(spec)
    if reason:
        raise MixtureError(f"the Nash mixture cannot be tabulated: {reason}.")
    try:
        players = information_states(spec)
    except NotEnumerableError as error:
        raise NotTabularError(f"the Nash mixture of {spec.name} cannot be tabulated: {error}.") from None
    behaviour = mixture_tables([policy_tables(m, spec) for m in members], w, spec)
    tables = {spec.seat_names[p]: SeatTable(states.tensors, states.masks, behaviour[p])
              for p, states in enumerate(players)}
    return TabularMixture(spec, tables)


def mixture_policy(store: Store, spec: GameSpec, load: Callable[[str], Policy]) -> TabularMixture:
    """The run's recorded mixture as a playing policy; `load` gives a member's policy by name."""
    mixture = stored_mixture(store)
    if mixture is None:
        raise MixtureError(f"the run at {store.run_dir} has no Nash mixture recorded; it is the meta-game mixture of "
                           f"a trained pool (`league export --player {MIXTURE_NAME}` records it).")
    members, weights = mixture.playing()
    return aggregate(spec, [load(name) for name in members], weights)
