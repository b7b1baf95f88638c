"""The pool's Nash mixture of a trained run, read from the trainer's last checkpoint.

The trainer keeps its meta-game (the payoff table between pool members, exact on poker) and
its pool in every checkpoint, and training ends with one. `pool_mixture` takes the Nash
weights of that meta-game over the same pool the trainer's evaluation uses (every snapshot
of the role, then the pool's baselines), so the mixture and its exploitability are the
league's own. `refresh_mixture` records it in the run (`league.play.mixture`), where the
`nash` entrant reads it.

In an imperfect-information league whose mixture can be tabulated (poker), the mixture is
the champion: `champion_is_mixture`.

Example:
    >>> import tempfile, games
    >>> from league.store.database import Store
    >>> with tempfile.TemporaryDirectory() as tmp, Store.open(tmp, create=True) as store:
    ...     print(pool_mixture(store, games.load("kuhn_poker").spec))  # no training yet: no meta-game
    None
"""

from __future__ import annotations

from games.base import GameSpec
from league.play.entrants import resolve
from league.play.mixture import (
    MIXTURE_NAME,
    Mixture,
    MixtureError,
    record_mixture,
    stored_mixture,
    tabular_reason,
)
from league.rate.exact import exploitability_supported, mixture_exploitability
from league.store.database import Store
from league.train.checkpoints import read_trainer_state
from league.train.config import TrainConfig, parse_toml
from league.train.metagame import MetaGame


def pool_mixture(store: Store, spec: GameSpec, *, measure: bool = True) -> Mixture | None:
    """The Nash mixture of the run's last checkpoint, or None before training has a pool.

    `measure`: compute its exact exploitability where the game allows (the trainer's own function).
    """
    state = read_trainer_state(store)
    if state is None or len(spec.roles) != 1:
        return None
    role = spec.roles[0]
    try:
        config = TrainConfig.from_mapping(parse_toml(state["config"]))
        snapshots = [str(name) for name in state.get("snapshots", [])]
        metagame = MetaGame.from_state(state["metagame"])
    except (KeyError, TypeError, ValueError) as error:
        raise MixtureError(f"the meta-game in the checkpoint of {store.run_dir} is not readable ({error}).") from None
    players = {p.name: p for p in store.players()}
    members = [name for name in snapshots if name in players and players[name].role in (role, None, "")]
    members += [name for name in config.pool_baselines if name not in members]
    if not members:
        return None
    weights = [max(0.0, w) for w in metagame.nash_weights(members)]
    total = sum(weights)
    weights = [w / total for w in weights]
    value = None
    if measure and exploitability_supported(spec) is None:
        value = mixture_exploitability([e.policy for e in resolve(members, spec, store)], weights, spec)
    return Mixture(role, tuple(members), tuple(weights),
                   f"the Nash mixture of the trainer's meta-game in its last checkpoint (round {state.get('round')})",
                   value)


def refresh_mixture(store: Store, spec: GameSpec) -> Mixture | None:
    """Record the run's current mixture (when it changed since the last record); None if it has none.

    Once `nash` is a player of the run (it played a tournament or a person), its exploitability
    is stored as its metric too, so the leaderboard shows it beside the snapshots'.
    """
    stored = stored_mixture(store)
    current = pool_mixture(store, spec, measure=False)
    if current is None:
        return stored
    if stored is None or (stored.members, stored.weights, stored.source) != (current.members, current.weights,
                                                                              current.source):
        stored = pool_mixture(store, spec)
        if stored is None:
            return None
        record_mixture(store, stored)
    _store_exploitability(store, stored)
    return stored


def _store_exploitability(store: Store, mixture: Mixture) -> None:
    """The mixture's exploitability as the `nash` player's metric, at the pool's newest step, once per change."""
    if mixture.exploitability is None or store.player(MIXTURE_NAME) is None:
        return
    steps = [p.step for p in store.players() if p.name in mixture.members and p.step is not None]
    step = max(steps, default=0)
    known = store.metrics(player=MIXTURE_NAME, key="exploitability")
    if not known or (known[-1].step, known[-1].value) != (step, mixture.exploitability):
        store.add_metrics(MIXTURE_NAME, step, {"exploitability": mixture.exploitability})


def champion_is_mixture(store: Store, spec: GameSpec) -> bool:
    """True in a trained imperfect-information league whose mixture can be tabulated (poker): there the
    meta-strategy, not any one snapshot, is the league's best player."""
    return tabular_reason(spec) is None and pool_mixture(store, spec, measure=False) is not None
