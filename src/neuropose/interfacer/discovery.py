"""Finding jobs in ``data_dir/in/`` and deciding when they are safe to process.

A job is a directory ``in/<job>/`` whose name passes
:func:`neuropose.datadir.layout.check_job_name`. Names starting with ``.``
are reserved (copy tools use them for work in progress): such a directory is
never processed, and the daemon logs once why and how to fix it. A job is *stable*,
and only then picked up, when all of these hold:

* no file name in it looks like a partial copy: ``*.part``, ``*.tmp``,
  ``*.crdownload`` or ``.~*``;
* when ``require_ready_marker`` is set, a file named ``READY`` exists;
* no file changed size or mtime between the previous scan and this one, and
  the newest mtime is at least ``settle_seconds`` old.

A writer that appends to a video slowly keeps bumping its mtime and size, so
the job stays unstable until the writer has been quiet for ``settle_seconds``.

Videos of a job are its top-level regular files with a known video or image
extension (case-insensitive), in name order; other files are ignored.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from neuropose.datadir.layout import READY_MARKER, InvalidJobNameError, check_job_name
from neuropose.video.suffixes import INPUT_SUFFIXES

__all__ = [
    "PARTIAL_PATTERNS",
    "READY_MARKER",
    "VIDEO_EXTENSIONS",
    "JobCandidate",
    "StabilityTracker",
    "is_partial_name",
    "list_job_dirs",
    "list_videos",
    "split_job_dirs",
]

logger = logging.getLogger(__name__)

#: Extensions treated as inputs (videos and still images).
VIDEO_EXTENSIONS = INPUT_SUFFIXES

#: Suffixes and prefixes of files still being written by a copy tool.
PARTIAL_PATTERNS = ("*.part", "*.tmp", "*.crdownload", ".~*")


def is_partial_name(name: str) -> bool:
    """Whether ``name`` looks like a file still being copied.

    >>> [is_partial_name(n) for n in ("a.mp4", "a.mp4.part", ".~lock.a#", "x.TMP")]
    [False, True, True, True]
    """
    lower = name.lower()
    return lower.endswith((".part", ".tmp", ".crdownload")) or name.startswith(".~")


def split_job_dirs(in_dir: Path) -> tuple[list[Path], list[InvalidJobNameError]]:
    """Job directories in ``in_dir`` (unordered), and why other directories are not jobs.

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> for n in ("walk1", ".staging"):
    ...     (d / n).mkdir()
    >>> jobs, refused = split_job_dirs(d)
    >>> [p.name for p in jobs], len(refused)
    (['walk1'], 1)
    """
    try:
        entries = list(os.scandir(in_dir))
    except FileNotFoundError:
        return [], []
    jobs: list[Path] = []
    refused: list[InvalidJobNameError] = []
    for e in entries:
        if not e.is_dir(follow_symlinks=False):
            continue
        try:
            check_job_name(e.name, source=str(Path(in_dir) / e.name))
        except InvalidJobNameError as exc:
            refused.append(exc)
            continue
        jobs.append(Path(e.path))
    return jobs, refused


def list_job_dirs(in_dir: Path) -> list[Path]:
    """Job directories in ``in_dir`` (reserved names excluded), unordered."""
    return split_job_dirs(in_dir)[0]


def list_videos(job_dir: Path) -> list[Path]:
    """Input files of a job: top-level files with a known extension, by name."""
    try:
        entries = list(os.scandir(job_dir))
    except FileNotFoundError:
        return []
    return sorted(
        (
            Path(e.path)
            for e in entries
            if e.is_file()
            and not e.name.startswith(".")
            and Path(e.name).suffix.lower() in VIDEO_EXTENSIONS
        ),
        key=lambda p: p.name,
    )


@dataclass(frozen=True)
class JobCandidate:
    """One job directory as seen by a scan.

    Attributes
    ----------
    job_id : str
        Directory name.
    path : Path
        ``in/<job>``.
    arrived : float
        Arrival time (seconds since the epoch): the directory's ctime, which a
        rename into ``in/`` sets.
    stable : bool
        Whether the job may be processed now.
    reason : str
        Why it is not stable (empty when stable).
    """

    job_id: str
    path: Path
    arrived: float
    stable: bool
    reason: str = ""


Signature = tuple[tuple[str, int, int], ...]


def _signature(job_dir: Path) -> tuple[Signature, float, str]:
    """(name, size, mtime_ns) of every file under ``job_dir``, newest mtime, blocker."""
    items: list[tuple[str, int, int]] = []
    newest = 0.0
    blocker = ""
    for root, dirs, files in os.walk(job_dir):
        dirs.sort()
        for name in sorted(files):
            if is_partial_name(name) and not blocker:
                blocker = f"partial file {name!r} present"
            try:
                st = os.stat(os.path.join(root, name))
            except FileNotFoundError:
                blocker = blocker or f"file {name!r} vanished during the scan"
                continue
            rel = os.path.relpath(os.path.join(root, name), job_dir)
            items.append((rel, st.st_size, st.st_mtime_ns))
            newest = max(newest, st.st_mtime_ns / 1e9)
    try:
        newest = max(newest, os.stat(job_dir).st_mtime)
    except FileNotFoundError:
        blocker = blocker or "job directory vanished"
    return tuple(items), newest, blocker


@dataclass
class StabilityTracker:
    """Remembers each job's file signature between scans.

    Parameters
    ----------
    settle_seconds : float
        Quiet time required before a job is stable.
    require_ready_marker : bool
        Whether a ``READY`` file is required.
    clock : callable
        Wall-clock time source (seconds since the epoch), for tests.
    """

    settle_seconds: float
    require_ready_marker: bool = False
    clock: object = time.time
    _seen: dict[str, Signature] = field(default_factory=dict)
    _refused: set[str] = field(default_factory=set)

    def scan(self, in_dir: Path) -> list[JobCandidate]:
        """Every job in ``in_dir``, oldest arrival first (ties by name)."""
        now = self.clock()  # type: ignore[operator]
        out = []
        present = set()
        jobs, refused = split_job_dirs(in_dir)
        self._report_refused(refused)
        for job_dir in jobs:
            name = job_dir.name
            present.add(name)
            try:
                arrived = job_dir.stat().st_ctime
            except FileNotFoundError:
                continue
            sig, newest, blocker = _signature(job_dir)
            previous = self._seen.get(name)
            self._seen[name] = sig
            reason = blocker
            if not reason and self.require_ready_marker and not (job_dir / READY_MARKER).is_file():
                reason = f"waiting for a {READY_MARKER} marker"
            if not reason and previous is not None and previous != sig:
                reason = "files are still changing"
            if not reason and now - newest < self.settle_seconds:
                reason = f"files changed less than {self.settle_seconds:g} s ago"
            out.append(JobCandidate(name, job_dir, arrived, not reason, reason))
        for gone in set(self._seen) - present:
            del self._seen[gone]
        out.sort(key=lambda c: (c.arrived, c.job_id))
        return out

    def _report_refused(self, refused: list[InvalidJobNameError]) -> None:
        """Log each directory that cannot be a job once (while it stays)."""
        now = {exc.message for exc in refused}
        for exc in refused:
            if exc.message not in self._refused:
                logger.warning(
                    "not processed: %s (%s)",
                    exc.message,
                    exc.hint,
                    extra={"fields": {"event": "job_refused"}},
                )
        self._refused = now
