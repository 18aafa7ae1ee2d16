"""File-system primitives of ingest: bounded copies and a rename that never replaces.

* :func:`write_stream` copies an archive member's stream into a new file,
  counting the bytes actually produced (declared sizes can lie) and
  following the video's container structure as it streams past.
* :func:`copy_file` copies exactly the expected bytes of a source file with
  :func:`copy_chunk` (in-kernel ``copy_file_range``, or read/write where the
  kernel or file system cannot).
* :func:`rename_noreplace` moves a staged job into ``in/`` atomically and
  fails if the target exists (Linux ``renameat2(RENAME_NOREPLACE)``).

Every new file is created with ``O_EXCL`` and ``fsync``'d before it counts.
"""

from __future__ import annotations

import ctypes
import errno
import os
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from neuropose.ingest.errors import ArchiveLimitError, IngestError, UnsafeArchiveError
from neuropose.logs import printable
from neuropose.video.container import TRUNCATED_HINT, ContainerScan

__all__ = [
    "Budget",
    "Meter",
    "copy_chunk",
    "copy_file",
    "rename_noreplace",
    "write_stream",
]

_CHUNK = 1024 * 1024
#: ``copy_file_range`` errors meaning "not here": fall back to read/write.
_NO_KERNEL_COPY = frozenset({errno.EXDEV, errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP})


class Budget:
    """Bytes one ingest may still write (``--max-total-bytes``), counted as produced."""

    def __init__(self, limit: int) -> None:
        self.remaining = limit

    def spend(self, n: int) -> bool:
        """Account for ``n`` bytes; ``False`` once the limit is exceeded."""
        self.remaining -= n
        return self.remaining >= 0


class Meter:
    """Running byte count reported as ``progress(done, total)``."""

    def __init__(self, total: int, progress: Callable[[int, int], None] | None) -> None:
        self.total = total
        self.done = 0
        self._progress = progress

    def __call__(self, n: int) -> None:
        self.done += n
        if self._progress is not None:
            self._progress(self.done, self.total)


def write_stream(
    reader: IO[bytes], dest: Path | None, declared: int, budget: Budget, member: str, meter: Meter
) -> int:
    """Copy ``reader`` to the new file ``dest``, stopping at more than ``declared`` bytes.

    With ``dest=None`` the data is read, counted, checked and CRC-checked
    but not written (dry run). A video whose container is truncated is
    refused (:class:`IngestError`).
    """
    written = 0
    scan = ContainerScan()
    if dest is None:
        out_ctx: Any = open(os.devnull, "wb")  # noqa: SIM115 - closed by the with below
    else:
        out_ctx = os.fdopen(os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644), "wb")
    with out_ctx as out:
        while chunk := reader.read(_CHUNK):
            written += len(chunk)
            if written > declared:
                raise UnsafeArchiveError(
                    f"member {member!r} produced more than its declared {declared} bytes; "
                    "the archive's size fields lie (possible zip bomb)",
                    hint="nothing was written; do not trust this archive",
                )
            if not budget.spend(len(chunk)):
                raise ArchiveLimitError(
                    f"member {member!r}: extraction exceeded the byte limit of this ingest",
                    hint="nothing was written; raise --max-total-bytes if the archive is trusted",
                )
            scan.feed(chunk)
            out.write(chunk)
            meter(len(chunk))
        out.flush()
        if dest is not None:
            os.fsync(out.fileno())
    if written != declared:
        raise UnsafeArchiveError(
            f"member {member!r} produced {written} bytes but declares {declared}; the "
            "archive is corrupt or crafted",
            hint="nothing was written; ask the sender for a new archive",
        )
    problem = scan.verdict()
    if problem is not None:
        raise IngestError(f"member {member!r}: {problem}", hint=TRUNCATED_HINT)
    return written


def copy_chunk(src_fd: int, dst_fd: int, want: int, *, kernel: bool) -> int:
    """Copy up to ``want`` bytes at the current offsets; 0 at the end of the source.

    ``kernel`` uses ``os.copy_file_range`` (no copy through user space);
    otherwise one read and as many writes as it takes.
    """
    if kernel:
        return os.copy_file_range(src_fd, dst_fd, want)
    chunk = os.read(src_fd, want)
    view = memoryview(chunk)
    while view:
        view = view[os.write(dst_fd, view) :]
    return len(chunk)


def copy_file(src: Path, dest: Path, declared: int, budget: Budget, meter: Meter) -> int:
    """Copy exactly ``declared`` bytes of ``src`` to a new, fsync'd ``dest``.

    Source-side problems raise :class:`IngestError` (a source that changes
    size while being copied is "still being written"); destination errors
    (ENOSPC...) propagate as ``OSError`` and are typed by the caller.
    """
    try:
        src_fd = os.open(src, os.O_RDONLY)
    except OSError as exc:
        raise IngestError(f"{printable(src)}: cannot read ({exc.strerror})") from exc
    changed = IngestError(
        f"{printable(src)} changed size while being ingested (expected {declared} bytes)",
        hint="wait until the file is complete and retry; nothing was queued",
    )
    try:
        if os.fstat(src_fd).st_size != declared:
            raise changed
        fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            written = 0
            kernel = hasattr(os, "copy_file_range")
            while written < declared:
                want = min(8 * _CHUNK, declared - written)
                try:
                    n = copy_chunk(src_fd, fd, want, kernel=kernel)
                except OSError as exc:
                    if kernel and written == 0 and exc.errno in _NO_KERNEL_COPY:
                        kernel = False
                        continue
                    raise
                if n == 0:
                    break
                written += n
                if not budget.spend(n):
                    raise ArchiveLimitError(
                        f"{printable(src)}: copying exceeded the byte limit of this ingest",
                        hint="raise --max-total-bytes (setting ingest_max_total_bytes)",
                    )
                meter(n)
            if written != declared or os.fstat(src_fd).st_size != declared:
                raise changed
            os.fsync(fd)
        finally:
            os.close(fd)
    finally:
        os.close(src_fd)
    return written


_AT_FDCWD = -100
_RENAME_NOREPLACE = 1


def _libc_renameat2() -> Any:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return getattr(libc, "renameat2", None)
    except OSError:  # pragma: no cover - no libc (not Linux)
        return None


_RENAMEAT2 = _libc_renameat2()


def rename_noreplace(src: Path, dst: Path) -> None:
    """Rename ``src`` to ``dst`` atomically, failing with ``FileExistsError`` if ``dst`` exists.

    Uses Linux ``renameat2(RENAME_NOREPLACE)``; where that is unavailable
    (other kernels, some filesystems) it falls back to check-then-rename,
    which cannot replace a non-empty directory either.

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> (d / "a").mkdir(); (d / "b").mkdir(); (d / "b" / "x").touch()
    >>> try:
    ...     rename_noreplace(d / "a", d / "b")
    ... except FileExistsError:
    ...     print("refused")
    refused
    """
    if _RENAMEAT2 is not None:
        rc = _RENAMEAT2(_AT_FDCWD, os.fsencode(src), _AT_FDCWD, os.fsencode(dst), _RENAME_NOREPLACE)
        if rc == 0:
            return
        err = ctypes.get_errno()
        if err not in (errno.ENOSYS, errno.EINVAL):
            raise OSError(err, os.strerror(err), str(dst))
    if os.path.lexists(dst):
        raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(dst))
    os.rename(src, dst)
