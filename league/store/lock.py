"""One writer per run: `runs/<name>/league.lock`, held by the process that trains or plays a tournament.

The lock is an advisory `flock` on the lock file, so the operating system releases it the
moment its holder dies: a lock left by a killed process is taken over by the next writer
without any guessing about pids. The file says who holds it (pid, host, command, since
when), and a second writer is refused with one sentence that names the holder. Commands
that only read (leaderboard, matches, payoff, report) never take it.

Example:
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     with RunLock(tmp, "league train"):
    ...         try:
    ...             RunLock(tmp, "league tournament").acquire()
    ...         except RunLockedError as error:
    ...             print(str(error).split(" (pid")[0].replace(tmp, "TMP"))
    ...     RunLock(tmp, "league tournament").acquire().release()  # free again
    TMP is in use by `league train`
"""

from __future__ import annotations

import json
import os
import socket
import time
from datetime import datetime, timezone
from pathlib import Path

from league.store.files import StoreError

LOCK_NAME = "league.lock"

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: an exclusive create stands in for flock
    fcntl = None  # type: ignore[assignment]


class RunLockedError(StoreError):
    """Another process is writing to this run."""


class RunLock:
    """The write lock of one run directory; `with RunLock(run_dir, command):` or acquire()/release()."""

    def __init__(self, run_dir: str | Path, command: str):
        self.run_dir = Path(run_dir)
        self.path = self.run_dir / LOCK_NAME
        self.command = command
        self._fd: int | None = None

    def acquire(self) -> "RunLock":
        """Take the lock (creating the run directory if needed), or raise RunLockedError naming the holder."""
        if self._fd is not None:
            return self
        try:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError as error:
            raise StoreError(f"cannot write to the run directory {self.run_dir}: "
                             f"{error.strerror or error}.") from None
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise RunLockedError(f"{self.run_dir} is in use by {self._holder()}; wait for it to finish "
                                 f"or stop it, then run this again.") from None
        holder = {"pid": os.getpid(), "host": socket.gethostname(), "command": self.command,
                  "since": datetime.now(timezone.utc).isoformat(timespec="seconds")}
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(holder) + "\n").encode(), 0)
        os.fsync(fd)
        self._fd = fd
        return self

    def release(self) -> None:
        """Let the next writer in; releasing twice is harmless."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            os.ftruncate(fd, 0)  # an empty file: nobody holds it
        finally:
            os.close(fd)  # closing drops the flock

    def _holder(self) -> str:
        """Who holds the lock, in words, from what it wrote (it may be writing right now)."""
        for _ in range(20):
            try:
                text = self.path.read_text()
                info = json.loads(text) if text.strip() else None
            except (OSError, ValueError):
                info = None
            if isinstance(info, dict):
                return (f"`{info.get('command', '?')}` (pid {info.get('pid', '?')} on {info.get('host', '?')}, "
                        f"since {info.get('since', '?')})")
            time.sleep(0.01)
        return "another process"

    def __enter__(self) -> "RunLock":
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()
