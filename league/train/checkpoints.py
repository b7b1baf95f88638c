"""Trainer checkpoints: every learner's full state plus the league's bookkeeping, crash-safe.

Learner files are versioned by round (`checkpoints/<learner>-r<round>.safetensors` + .json)
and written first; the trainer state, which names them with their sha256 and holds the
league's own bookkeeping, is then stored as one row of the run database (`checkpoints`),
in one transaction. That row is the commit point: a kill at any moment leaves either the
previous checkpoint or the new one, never a mix. Nothing outside the database is trusted:
`checkpoints/trainer.json` is a copy for people to read, written after the commit and never
read back, and a stored state whose ids or files do not make sense is refused in one
sentence before anything is rolled back.

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
    """The commit point of a checkpoint: one row of the run database; then a readable copy in trainer.json."""
    check_trainer_state(store, state)
    round_index = state.get("round", 0)
    store.save_checkpoint(round_index if isinstance(round_index, int) and not isinstance(round_index, bool) else 0,
                          state)
    store.write_file(STATE_FILE, json.dumps(state, sort_keys=True).encode())


def read_trainer_state(store: Store) -> dict[str, Any] | None:
    """The last committed trainer state, checked (see `check_trainer_state`), or None before the first."""
    state = store.last_checkpoint()
    if state is not None:
        check_trainer_state(store, state)
    return state


def check_trainer_state(store: Store, state: Mapping[str, Any]) -> None:
    """Refuse a trainer state that cannot drive a resume: its store ids decide what a rollback deletes,
    and its learner files are loaded only through the sha256 it records.

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as tmp, Store.open(tmp, create=True) as store:
        ...     try:
        ...         check_trainer_state(store, {})
        ...     except ResumeError as error:
        ...         print(str(error).replace(tmp, "TMP"))
        the checkpoint of TMP is incomplete (it has no store ids); the run cannot resume from it.
    """
    where = f"the checkpoint of {store.run_dir}"
    if not isinstance(state, Mapping):
        raise ResumeError(f"{where} is not a table of values; the run cannot resume from it.")
    ids = state.get("store")
    if not isinstance(ids, Mapping) or not {"match", "metric"} <= set(ids):
        raise ResumeError(f"{where} is incomplete (it has no store ids); the run cannot resume from it.")
    newest = store.last_ids()
    for key in ("match", "metric"):
        value = ids[key]
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= newest[key]:
            raise ResumeError(f"{where} names {key} id {value!r}, which is not between 0 and the newest stored "
                              f"({newest[key]}); the run cannot resume from it.")
    learners = state.get("learners")
    if not isinstance(learners, Mapping) or not learners:
        raise ResumeError(f"{where} names no learner files; the run cannot resume from it.")
    for name, files in learners.items():
        keys = ("weights", "weights_sha256", "manifest", "manifest_sha256")
        if not isinstance(files, Mapping) or not all(isinstance(files.get(k), str) and files.get(k) for k in keys):
            raise ResumeError(f"{where} does not name the files and sha256 of learner {name!r}; "
                              f"the run cannot resume from it.")
    if not isinstance(state.get("config"), str):
        raise ResumeError(f"{where} holds no configuration; the run cannot resume from it.")


def checkpoint_config(store: Store) -> str | None:
    """The TOML configuration of the run's last checkpoint, or else the one it was created with, or None.

    A run killed before its first checkpoint resumes with the configuration it was created
    with, never with the defaults.
    """
    state = read_trainer_state(store)
    if state is not None:
        return str(state["config"])
    info = store.run_info()
    stored = (info or {}).get("config", {}).get("train")
    return stored if isinstance(stored, str) else None


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
