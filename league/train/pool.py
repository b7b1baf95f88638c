"""The league's players by name: its learners' current entrants, the frozen pool (snapshots
and baselines), and who may sit on a side of which role.

One entrant object per frozen player per round (`begin_round`), so the runner batches all of
a snapshot's games into one forward pass (it groups copies by entrant). Store rows of players
are cached: players never change once written, and a rollback builds a new pool.
"""

from __future__ import annotations

from dataclasses import dataclass

from agents.base import Learner
from games.base import GameSpec
from league.play.entrants import SnapshotCache
from league.play.runner import Entrant
from league.store.database import Player, Store

TEAM_ALGORITHMS = ("vdn", "qmix")  # their snapshots are stored as team players


@dataclass(frozen=True)
class Historical:
    """A frozen player the matchmaking can draw: its name, the learner it came from and that learner's position."""

    name: str
    parent: str
    position: str


class Pool:
    """Learners, snapshots and baselines of one run, looked up by name."""

    def __init__(self, store: Store, spec: GameSpec, learners: dict[str, Learner], positions: dict[str, str],
                 baselines: dict[str, Entrant], *, cache_size: int):
        self.store, self.spec = store, spec
        self.learners, self.positions, self.baselines = learners, positions, baselines
        self.snapshots: list[str] = []
        self.cache = SnapshotCache(store, spec, capacity=cache_size)
        self.training = {name: Entrant(name, learner.policy(), explore=True) for name, learner in learners.items()}
        self._rows: dict[str, Player | None] = {}
        self._round_entrants: dict[str, Entrant] = {}

    def begin_round(self) -> None:
        """A new round: frozen entrants are built afresh (a snapshot's weights never change, but
        the cache may have dropped them)."""
        self._round_entrants = {}

    def player(self, name: str) -> Player | None:
        """The store's row of a player (cached: players never change once written)."""
        if name not in self._rows:
            self._rows[name] = self.store.player(name)
        return self._rows[name]

    def parent(self, name: str) -> str:
        """The learner a snapshot was taken from ('' for baselines)."""
        player = self.player(name)
        return (player.parent or "") if player is not None else ""

    def role_of(self, name: str) -> str | None:
        """The role a player plays (None: any role, as baselines do)."""
        if name in self.learners:
            return self.learners[name].role
        if name in self.baselines:
            return None
        player = self.player(name)
        return player.role if player is not None and player.role else None

    def historical(self, role: str) -> list[Historical]:
        """Frozen players that can sit on a side of `role`, oldest first: snapshots, then baselines."""
        out = [Historical(name, self.parent(name), self.positions.get(self.parent(name), ""))
               for name in self.snapshots if self.role_of(name) in (role, None)]
        return out + [Historical(name, "", "") for name in self.baselines]

    def entrant(self, name: str) -> Entrant:
        """The entrant called `name`: a learner exploring, a baseline, or a frozen snapshot."""
        if name in self.training:
            return self.training[name]
        if name in self.baselines:
            return self.baselines[name]
        if name not in self._round_entrants:
            # a frozen player plays its training behaviour (a MAPPO snapshot samples its moves; a frozen
            # Q-policy stays greedy): a pool of argmax players would be a few fixed lines of play
            self._round_entrants[name] = Entrant(name, self.cache.get(self.player(name)), explore=True)
        return self._round_entrants[name]

    def evaluation_entrant(self, name: str) -> Entrant:
        """A learner's evaluation behaviour (no exploration), or the frozen entrant of anyone else."""
        if name in self.learners:
            return Entrant(name, self.learners[name].policy(), explore=False)
        return self.entrant(name)

    def snapshots_of(self, learner: str) -> list[str]:
        return [s for s in self.snapshots if self.parent(s) == learner]

    def other_role(self, role: str) -> str:
        """The opposing role in a two-role game (a symmetric game's roles are all one)."""
        if self.spec.symmetric:
            return role
        return next(side.role for side in self.spec.sides if side.role != role)
