"""Files kept beside a run's database: written atomically, read back only if their sha256 matches.

Weights and exports are written to a temporary name in the same directory, flushed, fsynced
and renamed into place (and the directory fsynced), so a crash leaves the old file or the new
one, never half of one. Paths are always relative to the run directory and sanitised.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
from pathlib import Path

from games.errors import LeagueError

DB_NAME = "league.db"
EXPORT_FORMAT = "league-export/1"  # the `format` of an export's manifest.json
EXPORT_MANIFEST = "manifest.json"
REPORT_MARKERS = ('<meta name="generator" content="league report"', "<title>League report: ")
_RUN_MARKERS = (DB_NAME, "league.lock", "checkpoints", "snapshots", "config.toml")


class StoreError(LeagueError, RuntimeError):
    """The run database or a file of the run cannot be used as asked."""


def sanitize_name(name: str) -> str:
    """A safe file-name component for a player name: letters, digits and `._-` survive.

    Anything else, and a leading dot, becomes `_`, so the result is never hidden, `.`
    or `..`. Different names can map to one file name, so store the path you used.

    Example:
        >>> sanitize_name("mappo/predators v2:0012"), sanitize_name("..")
        ('mappo_predators_v2_0012', '_.')
    """
    if not isinstance(name, str) or not name:
        raise StoreError(f"a file name needs a non-empty player name, not {name!r}.")
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", name)
    safe = "_" + safe[1:] if safe.startswith(".") else safe
    return safe[:200]  # file systems cap a name at 255 bytes; leave room for suffixes


class RunFiles:
    """File access of a run directory (`run_dir`); the Store inherits it."""

    run_dir: Path

    def _inside(self, relative_path: str | Path) -> Path:
        rel, root = Path(relative_path), self.run_dir.resolve()
        target = (root / rel).resolve()  # resolves symlinks too, so a link cannot lead out
        if (str(relative_path) in ("", ".") or rel.is_absolute() or rel.drive or ".." in rel.parts
                or target == root or not target.is_relative_to(root)):
            raise StoreError(f"{str(relative_path)!r} is not a file path inside the run directory {self.run_dir}.")
        if target.parent == root and target.name.startswith(DB_NAME):
            raise StoreError(f"{str(relative_path)!r} belongs to the run database and cannot be used as a file.")
        return target

    def write_file(self, relative_path: str | Path, data: bytes) -> str:
        """Write `data` under the run directory atomically and return its sha256 hex digest.

        Example:
            >>> import tempfile
            >>> from league.store.database import Store
            >>> with tempfile.TemporaryDirectory() as tmp, Store.open(tmp, create=True) as store:
            ...     digest = store.write_file("snapshots/a.json", b"{}")
            ...     store.verify_file("snapshots/a.json", digest).read_bytes()
            b'{}'
        """
        target = self._inside(relative_path)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.parent / f".{target.name}.{secrets.token_hex(8)}.tmp"
        # os.open with 0o666 lets the umask decide the permissions, as a plain open() would.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        if os.name != "nt":  # the rename survives a power cut only once the directory is synced
            dir_fd = os.open(target.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        digest = hashlib.sha256(data).hexdigest()
        self._record_file(target.relative_to(self.run_dir.resolve()).as_posix(), digest)
        return digest

    def _record_file(self, relative_path: str, sha256: str) -> None:
        """Remember a written file's sha256 (the Store keeps it in its `files` table)."""

    def verify_file(self, relative_path: str | Path, sha256: str) -> Path:
        """Check a file of the run against its recorded sha256, and return its path.

        Example:
            >>> import tempfile
            >>> from league.store.database import Store, StoreError
            >>> with tempfile.TemporaryDirectory() as tmp, Store.open(tmp, create=True) as store:
            ...     _ = store.write_file("w.bin", b"abc")
            ...     try:
            ...         store.verify_file("w.bin", "0" * 64)
            ...     except StoreError as error:
            ...         print(str(error).replace(tmp, "TMP"))
            TMP/w.bin is corrupt or was changed (sha256 mismatch).
        """
        target = self._inside(relative_path)
        if not target.is_file():
            raise StoreError(f"{self.run_dir / relative_path} is missing.")
        digest = hashlib.sha256()
        with open(target, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
        if digest.hexdigest() != str(sha256).lower():
            raise StoreError(f"{self.run_dir / relative_path} is corrupt or was changed (sha256 mismatch).")
        return target




# -- outputs: --out never destroys what it did not make ---------------------------------------

def check_export_out(out: str | Path, *, force: bool) -> None:
    """Refuse an export directory that would destroy anything but a previous export.

    A new path is fine. An existing one is replaced only with `force` and only when it is an
    earlier export (its manifest.json and the model files it names, nothing else); a run,
    a database, a file or a directory holding anything else is refused even with `force`.

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     _ = (Path(tmp) / "league.db").write_bytes(b"")
        ...     try:
        ...         check_export_out(tmp, force=True)
        ...     except StoreError as error:
        ...         print(str(error).replace(tmp, "TMP"))
        TMP holds a league run; an export never replaces it, so choose another --out.
    """
    out = Path(out)
    if not out.exists() and not out.is_symlink():
        _check_writable(out)
        return
    if out.is_symlink() or not out.is_dir():
        raise StoreError(f"{out} is {'a link' if out.is_symlink() else 'a file'}; an export is a new directory, "
                         f"so choose another --out.")
    entries = {p.name for p in out.iterdir()}
    if entries & set(_RUN_MARKERS) or any(name.startswith(DB_NAME) for name in entries):
        raise StoreError(f"{out} holds a league run; an export never replaces it, so choose another --out.")
    if entries and not _is_export(out, entries):
        raise StoreError(f"{out} holds files that are not a league export; an export never replaces them, "
                         f"so choose another --out.")
    if not force:
        raise StoreError(f"{out} already exists; choose another --out or pass --force to replace it.")
    _check_writable(out)


def check_report_out(out: str | Path) -> None:
    """Refuse a report path that would overwrite anything but an earlier report.

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     _ = (Path(tmp) / "notes.html").write_text("my notes")
        ...     try:
        ...         check_report_out(Path(tmp) / "notes.html")
        ...     except StoreError as error:
        ...         print(str(error).replace(tmp, "TMP"))
        TMP/notes.html exists and is not a league report; a report never replaces other files, so choose another --out.
    """
    out = Path(out)
    if out.is_dir():
        raise StoreError(f"{out} is a directory; give a file name such as report.html.")
    if not out.parent.is_dir():
        raise StoreError(f"the directory {out.parent} does not exist.")
    if out.exists() or out.is_symlink():
        if out.is_symlink() or not _is_report(out):
            raise StoreError(f"{out} exists and is not a league report; a report never replaces other files, "
                             f"so choose another --out.")
    _check_writable(out)


def _is_export(out: Path, entries: set[str]) -> bool:
    try:
        manifest = json.loads((out / EXPORT_MANIFEST).read_text())
    except (OSError, ValueError):
        return False
    if not isinstance(manifest, dict) or manifest.get("format") != EXPORT_FORMAT:
        return False
    seats = manifest.get("seats")
    files = {str(e.get("file")) for e in seats.values() if isinstance(e, dict)} if isinstance(seats, dict) else set()
    return entries <= files | {EXPORT_MANIFEST} and all((out / name).is_file() for name in entries)


def _is_report(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            head = f.read(4096).decode("utf-8", errors="replace")
    except OSError:
        return False
    return head.startswith("<!DOCTYPE html>") and any(marker in head for marker in REPORT_MARKERS)


def _check_writable(path: Path) -> None:
    """The nearest existing directory at or above `path` must be writable."""
    probe = path if path.is_dir() else path.parent
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not os.access(probe, os.W_OK | os.X_OK):
        raise StoreError(f"cannot write {path}: {probe} is read-only.")
