"""An exclusive, self-describing lock file (one daemon per data directory).

The lock is an ``fcntl.flock`` on ``<data_dir>/neuropose.lock``. The kernel
releases it when the holder exits, however it exits (SIGKILL included), so a
stale file never blocks a new daemon. While held, the file contains JSON
naming the holder (pid, host, start time, command) so that a refused second
instance can say who holds it.

Examples
--------
>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "neuropose.lock"
>>> with ExclusiveLock(p, purpose="doctest") as lock:
...     probe_lock(p).held
True
>>> probe_lock(p).held
False
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from neuropose.errors import BusyError

__all__ = [
    "DAEMON_LOCK_NAME",
    "ExclusiveLock",
    "LockHeldError",
    "LockInfo",
    "daemon_lock_path",
    "probe_lock",
]


#: Name of the daemon's lock file inside a data directory.
DAEMON_LOCK_NAME = "neuropose.lock"


def daemon_lock_path(data_dir: Path | str) -> Path:
    """``<data_dir>/neuropose.lock``: held by ``neuropose watch`` and by operator commands."""
    return Path(data_dir) / DAEMON_LOCK_NAME


class LockHeldError(BusyError):
    """Another process holds the lock (exit code 3)."""


@dataclass(frozen=True)
class LockInfo:
    """State of a lock file as seen by a non-holder.

    ``held`` tells whether some process holds it now; ``holder`` is the JSON
    the holder wrote (pid, host, started_at, purpose), or ``None``.
    """

    held: bool
    holder: dict[str, object] | None

    def describe(self) -> str:
        """One line naming the holder."""
        if not self.holder:
            return "an unknown process"
        h = self.holder
        return (
            f"pid {h.get('pid')} on {h.get('host')} ({h.get('purpose')}) "
            f"since {h.get('started_at')}"
        )


def _read_holder(path: Path) -> dict[str, object] | None:
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def probe_lock(path: Path | str, *, attempts: int = 3) -> LockInfo:
    """Tell whether the lock at ``path`` is held, without keeping it.

    Takes a shared lock for an instant; a holder of the exclusive lock makes
    that fail. A daemon starting during that instant retries (see
    :class:`ExclusiveLock`), so probing never makes a daemon fail to start.
    """
    p = Path(path)
    try:
        fd = os.open(p, os.O_RDONLY)
    except FileNotFoundError:
        return LockInfo(held=False, holder=None)
    try:
        for _ in range(attempts):
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return LockInfo(held=True, holder=_read_holder(p))
            fcntl.flock(fd, fcntl.LOCK_UN)
            return LockInfo(held=False, holder=None)
        return LockInfo(held=False, holder=None)  # pragma: no cover
    finally:
        os.close(fd)


class ExclusiveLock:
    """Context manager holding an exclusive ``flock`` on ``path``.

    Parameters
    ----------
    path : Path
        Lock file; created if missing. Its directory must exist.
    purpose : str
        Recorded in the file, e.g. ``"neuropose watch"``.
    wait_s : float
        How long to retry before giving up. A short wait absorbs a
        concurrent :func:`probe_lock`.

    Raises
    ------
    LockHeldError
        Another process holds the lock; the message names it.
    """

    def __init__(
        self, path: Path | str, *, purpose: str = "neuropose", wait_s: float = 1.0
    ) -> None:
        self.path = Path(path)
        self.purpose = purpose
        self.wait_s = wait_s
        self._fd: int | None = None

    def acquire(self) -> ExclusiveLock:
        """Take the lock (see the class docstring)."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + self.wait_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    info = LockInfo(held=True, holder=_read_holder(self.path))
                    raise LockHeldError(
                        f"{self.path} is held by {info.describe()}",
                        hint="only one daemon may run per data directory; stop the other one "
                        "or use a different data_dir",
                    ) from None
                time.sleep(0.05)
        holder = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started_at": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
            "purpose": self.purpose,
            "argv": sys.argv,
        }
        # Written in place: the file's identity must not change while locked.
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(holder).encode(), 0)
        os.fsync(fd)
        self._fd = fd
        return self

    def release(self) -> None:
        """Release the lock (idempotent). The file is emptied, not removed."""
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(self._fd, 0)
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None

    @property
    def held(self) -> bool:
        """Whether this object holds the lock."""
        return self._fd is not None

    def __enter__(self) -> ExclusiveLock:
        return self.acquire()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
