"""An exclusive, self-describing lock file (one daemon or ingest per data directory).

The lock is an ``fcntl.flock`` on a file (the daemon's is
``<data_dir>/neuropose.lock``, ingest's ``<data_dir>/.staging/ingest.lock``).
The kernel releases it when the holder exits, however it exits (SIGKILL
included), so a stale file never blocks anyone. While held, the file
contains JSON naming the holder (pid, host, start time, purpose, command) so
that a refused second instance can say who holds it. A holder may delete the
lock file before releasing it (``on_release``): an acquirer re-checks after
locking that the path still names the inode it locked, and retries
otherwise, so two processes never both believe they hold it.

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
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from neuropose.datadir.layout import DataDir
from neuropose.errors import BusyError
from neuropose.timefmt import utc_iso

__all__ = [
    "ExclusiveLock",
    "LockHeldError",
    "LockInfo",
    "daemon_lock_path",
    "probe_lock",
]


_DAEMON_HINT = (
    "only one daemon may run per data directory; stop the other one or use a different data_dir"
)


def daemon_lock_path(data_dir: Path | str) -> Path:
    """``<data_dir>/neuropose.lock``: held by ``neuropose watch`` and by operator commands."""
    return DataDir(data_dir).lock


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
        Lock file; created if missing.
    purpose : str
        Recorded in the file, e.g. ``"neuropose watch"``.
    wait_s : float
        How long to retry before giving up. A short wait absorbs a
        concurrent :func:`probe_lock`.
    make_parent : bool
        Create the lock file's directory (on every attempt: a previous
        holder may have removed it).
    on_release : callable, optional
        Called with the lock while it is still held, just before it is
        released, e.g. to delete the lock file and its then empty folder.
    busy_hint : str, optional
        Hint of the :class:`LockHeldError` (default: the daemon's).

    Raises
    ------
    LockHeldError
        Another process holds the lock; the message names it.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x" / "a.lock"
    >>> with ExclusiveLock(p, purpose="doctest", make_parent=True) as lock:
    ...     ExclusiveLock(p, wait_s=0).try_acquire(), probe_lock(p).holder["purpose"]
    (False, 'doctest')
    """

    def __init__(
        self,
        path: Path | str,
        *,
        purpose: str = "neuropose",
        wait_s: float = 1.0,
        make_parent: bool = False,
        on_release: Callable[[ExclusiveLock], None] | None = None,
        busy_hint: str | None = None,
    ) -> None:
        self.path = Path(path)
        self.purpose = purpose
        self.wait_s = wait_s
        self.make_parent = make_parent
        self.on_release = on_release
        self.busy_hint = busy_hint or _DAEMON_HINT
        self._fd: int | None = None

    def _open(self) -> int | None:
        if self.make_parent:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            return os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except FileNotFoundError:
            if self.make_parent:
                return None  # the folder was removed meanwhile: try again
            raise

    def try_acquire(self) -> bool:
        """Take the lock, retrying for ``wait_s``; ``False`` when another process holds it."""
        deadline = time.monotonic() + self.wait_s
        while True:
            fd = self._open()
            if fd is None:
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                if time.monotonic() >= deadline:
                    return False
                time.sleep(0.05)
                continue
            try:
                same = os.stat(self.path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if not same:  # the previous holder deleted the file: lock the new one
                os.close(fd)
                continue
            break
        holder = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started_at": utc_iso(),
            "purpose": self.purpose,
            "argv": sys.argv,
        }
        # Written in place: the file's identity must not change while locked.
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(holder).encode(), 0)
            os.fsync(fd)
        except BaseException:
            # A disk full (or an interrupt) while recording the holder: give the
            # lock back rather than keep it on a descriptor nobody will close.
            os.close(fd)
            raise
        self._fd = fd
        return True

    def acquire(self) -> ExclusiveLock:
        """Take the lock (see the class docstring); raises :class:`LockHeldError`."""
        if not self.try_acquire():
            raise LockHeldError(
                f"{self.path} is held by {self.describe_holder()}", hint=self.busy_hint
            )
        return self

    def describe_holder(self) -> str:
        """One line naming the process that wrote the lock file."""
        return LockInfo(held=True, holder=_read_holder(self.path)).describe()

    def release(self) -> None:
        """Release the lock (idempotent). The file is emptied, not removed, unless
        ``on_release`` removes it."""
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(self._fd, 0)
        if self.on_release is not None:
            self.on_release(self)
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
