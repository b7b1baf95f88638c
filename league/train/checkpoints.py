"""Trainer checkpoints: every learner's full state plus the league's bookkeeping, crash-safe.

Learner files are versioned by round (`checkpoints/<learner>-r<round>.safetensors` + .json)
and written first; `checkpoints/trainer.json`, written last and atomically, names them with
their sha256 and holds the league's own state. It is the commit point: a kill at any moment
leaves either the previous checkpoint or the new one, never a mix.

Example:
    >>> import tempfile
    >>> from league.store.database import Store
    >>> with tempfile.TemporaryDirectory() as tmp, Store.open(tmp, create=True) as store:
    ...     read_trainer_state(store) is None
    True
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping

from agents.base import Learner
from agents.checkpoint import CheckpointError, pack, unpack
from games.errors import LeagueError
from league.store.database import Store, StoreError, sanitize_name

STATE_FILE = "checkpoints/trainer.json"


class ResumeError(LeagueError, RuntimeError):
    """A checkpoint that cannot be resumed from (missing, corrupt, or of another configuration)."""


def save_learner(store: Store, name: str, learner: Learner, round_index: int) -> dict[str, str]:
    """Write one learner's state; returns the paths and digests that trainer.json records."""
    tensors, meta = learner.state_dict()
    blob, manifest = pack(tensors, {**meta, "algorithm": learner.algorithm, "role": learner.role,
                                    "game": learner.spec.name, "learner": name})
    stem = f"checkpoints/{sanitize_name(name)}-r{round_index:06d}"
    weights_sha = store.write_file(f"{stem}.safetensors", blob)
    manifest_sha = store.write_file(f"{stem}.json", json.dumps(manifest, sort_keys=True).encode())
    return {"weights": f"{stem}.safetensors", "weights_sha256": weights_sha,
            "manifest": f"{stem}.json", "manifest_sha256": manifest_sha}


def load_learner(store: Store, learner: Learner, files: Mapping[str, str]) -> None:
    """Restore a learner from the files trainer.json names, checking both digests first."""
    try:
        blob = store.verify_file(files["weights"], files["weights_sha256"]).read_bytes()
        manifest = json.loads(store.verify_file(files["manifest"], files["manifest_sha256"]).read_text())
        tensors, meta = unpack(blob, manifest)
    except (StoreError, CheckpointError, KeyError, ValueError) as error:
        raise ResumeError(f"cannot resume from the last checkpoint: {error}") from None
    if meta.get("algorithm") != learner.algorithm or meta.get("role") != learner.role:
        raise ResumeError(f"the checkpoint of {meta.get('learner')!r} holds a {meta.get('algorithm')} learner "
                          f"for role {meta.get('role')!r}, not {learner.algorithm} for {learner.role!r}")
    learner.load_state_dict(tensors, meta)


def write_trainer_state(store: Store, state: Mapping[str, Any]) -> None:
    """The commit point of a checkpoint: atomic, fsynced."""
    store.write_file(STATE_FILE, json.dumps(state, sort_keys=True).encode())


def read_trainer_state(store: Store) -> dict[str, Any] | None:
    path = store.run_dir / STATE_FILE
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise ResumeError(f"{path} cannot be read ({error}); the run cannot resume") from None


def prune(store: Store, keep: set[str]) -> None:
    """Delete learner checkpoint files that the current trainer.json no longer names."""
    folder = store.run_dir / "checkpoints"
    if not folder.is_dir():
        return
    for path in folder.iterdir():
        relative = f"checkpoints/{path.name}"
        if path.is_file() and relative != STATE_FILE and relative not in keep and not path.name.startswith("."):
            path.unlink(missing_ok=True)


def orphan_snapshot_files(store: Store, players: set[str]) -> None:
    """Remove snapshot files whose player was rolled back (the store no longer knows them)."""
    folder: Path = store.run_dir / "snapshots"
    if not folder.is_dir():
        return
    known = {sanitize_name(name) for name in players}
    for path in folder.iterdir():
        stem = path.name.rsplit(".", 1)[0]
        if path.is_file() and stem not in known and not path.name.startswith("."):
            path.unlink(missing_ok=True)
