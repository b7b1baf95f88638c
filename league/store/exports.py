"""Checking an exported player (`league export --verify`) against what the run recorded.

An export's manifest.json lists every model file with its sha256, but a manifest can vouch
only for itself: whoever replaces a model can rewrite its sha256 too. So:

- every seat of the player's role must be present (the game says which seats those are);
- every model must match its manifest entry;
- with the run (`store`), every model must also match the sha256 the run recorded when it
  made the export (`exports/<player>.json`, whose own sha256 is kept in the run database),
  and the manifest must list exactly the seats recorded there;
- without the run, the result says plainly that only the export's self-consistency was
  checked.

Example:
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     try:
    ...         verify_export_dir(tmp)
    ...     except ExportCheckError as error:
    ...         print(str(error).replace(tmp, "TMP"))
    TMP is not a league export (no readable manifest.json).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from games.errors import LeagueError
from league.store.files import EXPORT_FORMAT, EXPORT_MANIFEST, StoreError, sanitize_name
from league.store.trust import load_stored_game

if TYPE_CHECKING:
    from league.store.database import Store


class ExportCheckError(LeagueError, ValueError):
    """An export that is incomplete, changed since it was made, or unknown to the run."""


@dataclass(frozen=True)
class ExportCheck:
    """What `verify_export_dir` found: the manifest, and whether the run's record was checked too."""

    manifest: dict[str, Any]
    seats: int
    against_run: bool  # False: only the export's own manifest vouches for its models

    def summary(self, directory: str | Path) -> str:
        """One line for people, saying how far the check went."""
        m = self.manifest
        what = (f"{directory}: {m['player']} ({m['game']['name']}, role {m['role']}), {self.seats} models")
        if self.against_run:
            return f"{what} match the sha256 the run recorded when it exported them"
        return (f"{what} match their own manifest; only the export's self-consistency was checked "
                f"(pass --run with the run that made it to check them against its record)")


def verify_export_dir(directory: str | Path, store: "Store | None" = None) -> ExportCheck:
    """Check an export directory; see the module doc. Raises ExportCheckError with one sentence."""
    directory = Path(directory)
    path = directory / EXPORT_MANIFEST
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError):
        raise ExportCheckError(f"{directory} is not a league export (no readable {EXPORT_MANIFEST}).") from None
    if (not isinstance(manifest, dict) or manifest.get("format") != EXPORT_FORMAT
            or not isinstance(manifest.get("seats"), dict) or not isinstance(manifest.get("game"), dict)
            or not isinstance(manifest.get("player"), str) or not isinstance(manifest.get("role"), str)):
        raise ExportCheckError(f"{path} is not a league export manifest (format {EXPORT_FORMAT}).")
    seats: dict[str, Any] = manifest["seats"]
    required = _role_seats(manifest, path)
    missing = sorted(required - set(seats))
    if missing or not seats:
        raise ExportCheckError(f"{path} lists no model for seat {(missing or ['any'])[0]!r}; a player of role "
                               f"{manifest['role']!r} needs one per seat ({', '.join(sorted(required))}).")
    extra = sorted(set(seats) - required)
    if extra:
        raise ExportCheckError(f"{path} lists seat {extra[0]!r}, which role {manifest['role']!r} does not have.")
    recorded = _recorded_seats(store, manifest["player"]) if store is not None else None
    if recorded is not None and set(recorded) != set(seats):
        raise ExportCheckError(f"{path} lists seats {sorted(seats)}, but the run recorded {sorted(recorded)} for this "
                               f"export, so the league refuses it.")
    for seat, entry in seats.items():
        name = str(entry.get("file", "")) if isinstance(entry, dict) else ""
        if sanitize_name(name) != name or not name.endswith(".onnx"):
            raise ExportCheckError(f"{path} names an unsafe model file {name!r}.")
        file = directory / name
        if not file.is_file():
            raise ExportCheckError(f"{file} is missing.")
        digest = _sha256(file)
        if digest != entry.get("sha256"):
            raise ExportCheckError(f"{file} does not match the sha256 recorded in its manifest: its weights were "
                                   f"changed or corrupted, so the league refuses it.")
        if recorded is not None and (recorded.get(seat) or {}).get("sha256") != digest:
            raise ExportCheckError(f"{file} does not match the sha256 the run recorded when it was exported, so the "
                                   f"league refuses it.")
    return ExportCheck(manifest, len(seats), recorded is not None)


def _role_seats(manifest: dict[str, Any], path: Path) -> set[str]:
    """The seats a player of the manifest's role fills, from the game itself (never code: see trust)."""
    ref = manifest["game"].get("ref") or manifest["game"].get("name")
    try:
        spec = load_stored_game(str(ref)).spec
    except LeagueError as error:
        raise ExportCheckError(f"{path}: cannot tell which seats its game needs ({error})") from None
    if manifest["role"] not in spec.roles:
        raise ExportCheckError(f"{path} names role {manifest['role']!r}, which {spec.name} does not have "
                               f"(roles: {', '.join(spec.roles)}).")
    return {seat for side in spec.sides_for_role(manifest["role"]) for seat in side.seats}


def _recorded_seats(store: "Store", player: str) -> dict[str, Any]:
    """The seats of the run's record of this player's export, checked against the sha256 the database keeps."""
    relative = f"exports/{sanitize_name(player)}.json"
    expected = store.recorded_sha256(relative)
    if expected is None:
        raise ExportCheckError(f"the run at {store.run_dir} has no record of an export of {player!r}, so the "
                               f"export cannot be checked against it.")
    try:
        record = json.loads(store.verify_file(relative, expected).read_text())
    except StoreError as error:
        raise ExportCheckError(f"the run's record of the export of {player!r} cannot be trusted: {error}") from None
    except ValueError:
        raise ExportCheckError(f"the run's record of the export of {player!r} is not readable.") from None
    seats = record.get("seats") if isinstance(record, dict) else None
    if not isinstance(seats, dict):
        raise ExportCheckError(f"the run's record of the export of {player!r} lists no seats.")
    return seats


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
