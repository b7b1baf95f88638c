"""Entrants by name: reference bots and the frozen snapshots stored in a run.

A name is a baseline ("random", "mcts:N", "scripted") or a player of the run whose
weights live in `runs/<name>/snapshots/`. Snapshot files are checked against the sha256
recorded in the store before anything is read from them, and a bounded number of loaded
policies stay cached, so a pool of thousands of snapshots fits in memory.

Example:
    >>> import games
    >>> spec = games.load("connect_four").spec
    >>> [e.name for e in resolve(["random", "mcts:25"], spec)]
    ['random', 'mcts:25']
"""

from __future__ import annotations

import json
from collections import OrderedDict
from typing import Any, Sequence

from agents.base import Policy, PolicyError
from agents.baselines import BASELINES, is_baseline_name, make_baseline
from agents.checkpoint import CheckpointError, pack, unpack
from agents.registry import load_policy
from games.base import GameSpec
from games.errors import LeagueError
from league.play.mixture import MIXTURE_NAME, MixtureError, mixture_policy
from league.play.runner import Entrant
from league.store.database import Player, Store, StoreError, sanitize_name


class EntrantError(LeagueError, ValueError):
    """An entrant name that is not a baseline nor a player of the run, or unusable weights."""


def snapshot_paths(name: str) -> tuple[str, str]:
    """(weights, manifest) paths of a snapshot, relative to the run directory."""
    stem = f"snapshots/{sanitize_name(name)}"
    return f"{stem}.safetensors", f"{stem}.json"


def save_snapshot(store: Store, name: str, tensors: dict[str, Any], meta: dict[str, Any], *,
                  kind: str = "snapshot", parent: str | None = None, step: int | None = None) -> Player:
    """Write a frozen policy's weights and manifest atomically, then record the player.

    The files are on disk (fsynced) before the player row exists, so a crash never leaves
    a player without its weights.
    """
    weights_path, manifest_path = snapshot_paths(name)
    blob, manifest = pack(tensors, {**meta, "player": name, "parent": parent, "step": step})
    sha = store.write_file(weights_path, blob)
    manifest_sha = store.write_file(manifest_path, json.dumps(manifest, indent=2, sort_keys=True).encode())
    return store.add_player(name, kind, algorithm=meta.get("algorithm"), role=meta.get("role"), parent=parent,
                            step=step, weights_path=weights_path, weights_sha256=sha,
                            meta={"manifest_sha256": manifest_sha, "seats": meta.get("seats")})


class SnapshotCache:
    """Loads snapshot policies on first use and keeps at most `capacity` of them."""

    def __init__(self, store: Store, spec: GameSpec, capacity: int = 64):
        self.store = store
        self.spec = spec
        self.capacity = capacity
        self._policies: OrderedDict[str, Policy] = OrderedDict()

    def get(self, player: Player) -> Policy:
        policy = self._policies.get(player.name)
        if policy is not None:
            self._policies.move_to_end(player.name)
            return policy
        policy = load_snapshot(self.store, player, self.spec)
        self._policies[player.name] = policy
        if len(self._policies) > self.capacity:
            self._policies.popitem(last=False)
        return policy

    def __len__(self) -> int:
        return len(self._policies)


def load_snapshot(store: Store, player: Player, spec: GameSpec) -> Policy:
    """The frozen policy of a stored player, after checking its files' integrity."""
    if not player.weights_path or not player.weights_sha256:
        raise EntrantError(f"player {player.name!r} has no weights to play with")
    try:
        weights_path, manifest_path = snapshot_paths(player.name)  # never a path read from the database
        weights = store.verify_file(weights_path, player.weights_sha256).read_bytes()
        manifest_sha = (player.meta or {}).get("manifest_sha256")
        if not manifest_sha:
            raise EntrantError(f"player {player.name!r} has no recorded manifest digest")
        manifest = json.loads(store.verify_file(manifest_path, manifest_sha).read_text())
        tensors, meta = unpack(weights, manifest)
    except (StoreError, CheckpointError, OSError, ValueError) as error:
        raise EntrantError(f"cannot load snapshot {player.name!r}: {error}") from None
    if meta.get("game") not in (None, spec.name):
        raise EntrantError(f"snapshot {player.name!r} was trained on {meta.get('game')}, not {spec.name}")
    return load_policy(spec, tensors, meta)


def latest_snapshot(store: Store, learner: str) -> str | None:
    """The newest snapshot taken of `learner` (by step, then name), or None if it has none."""
    snaps = [p for p in store.players() if p.parent == learner and p.weights_path]
    return max(snaps, key=lambda p: (p.step or 0, p.name)).name if snaps else None


def learners_as_snapshots(store: Store | None, names: Sequence[str]) -> tuple[list[str], list[str]]:
    """Names with each learner replaced by its latest snapshot, and one note per replacement.

    A learner has no stored weights of its own; users who name it (the top of the leaderboard,
    often) mean its latest frozen copy.
    """
    out, notes = [], []
    for name in names:
        player = store.player(name.strip()) if store is not None and name.strip() else None
        if player is not None and not player.weights_path and player.kind in ("learner", "team"):
            snap = latest_snapshot(store, player.name)
            if snap is not None:
                notes.append(f"{player.name} is a learner: its latest snapshot {snap} plays for it")
                out.append(snap)
                continue
        out.append(name)
    return out, notes


def resolve(names: Sequence[str], spec: GameSpec, store: Store | None = None,
            cache: SnapshotCache | None = None) -> list[Entrant]:
    """Entrants for `names`: baselines, players of the run with weights, or `nash`, the run's Nash mixture.

    Raises EntrantError listing the valid names when one is unknown.
    """
    out = []
    seen = set()
    for raw in names:
        name = raw.strip()
        if not name:
            raise EntrantError("an entrant name is empty; separate names with commas, e.g. random,mcts:25")
        if name in seen:
            raise EntrantError(f"entrant {name!r} is listed twice")
        seen.add(name)
        if is_baseline_name(name):
            try:
                out.append(Entrant(name, make_baseline(name, spec)))
            except PolicyError as error:
                raise EntrantError(str(error)) from None
            continue
        if name == MIXTURE_NAME and store is not None:  # the pool's Nash mixture as one player
            try:
                mixture = mixture_policy(store, spec, lambda member: resolve([member], spec, store, cache)[0].policy)
            except MixtureError as error:
                raise EntrantError(str(error)) from None
            out.append(Entrant(name, mixture))
            continue
        player = store.player(name) if store is not None else None
        if player is None or not player.weights_path:
            players = [p.name for p in store.players() if p.weights_path] if store is not None else []
            valid = ", ".join([*BASELINES, *players])
            raise EntrantError(f"unknown entrant {name!r}; valid entrants: {valid}")
        policy = (cache or SnapshotCache(store, spec, capacity=1)).get(player)
        out.append(Entrant(name, policy))
    return out
