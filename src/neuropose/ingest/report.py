"""What an ingest may do (:class:`IngestLimits`) and what it did (:class:`IngestReport`).

The report is also the ``--json`` output of ``neuropose ingest``.

>>> IngestLimits().max_members
10000
>>> SkipReason.HIDDEN.value
'hidden file or macOS metadata'
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Literal

from pydantic import Field

from neuropose.config import Settings
from neuropose.schemas.base import FrozenModel
from neuropose.schemas.status import JobState

__all__ = [
    "RATIO_EXEMPT_BYTES",
    "IngestLimits",
    "IngestReport",
    "IngestedJob",
    "IngestedVideo",
    "Mode",
    "ProgressCallback",
    "SkipReason",
    "SkippedMember",
]

#: Videos up to this size (bytes) are exempt from the compression-ratio cap.
RATIO_EXEMPT_BYTES = 64 * 1024

#: How folder and file inputs get into the data directory.
Mode = Literal["copy", "move", "link"]
#: Called as ``progress(bytes_done, bytes_total)``.
ProgressCallback = Callable[[int, int], None]


class IngestLimits(FrozenModel):
    """Bounds that protect the data directory from hostile or mistaken input.

    Attributes
    ----------
    max_members : int
        Most entries (files and folders) an archive or folder may hold.
    max_total_bytes : int
        Most bytes of video one ingest may write (declared sizes, and the
        bytes actually produced).
    max_ratio : float
        Largest accepted ratio of uncompressed to compressed size of one
        archived video (videos up to :data:`RATIO_EXEMPT_BYTES` are exempt).
    """

    max_members: int = Field(default=10_000, ge=1)
    max_total_bytes: int = Field(default=200 * 1024**3, ge=1)
    max_ratio: float = Field(default=200.0, gt=1)

    @classmethod
    def from_settings(cls, settings: Settings) -> IngestLimits:
        """Limits from :class:`neuropose.config.Settings` (``ingest_*`` keys)."""
        return cls(
            max_members=settings.ingest_max_members,
            max_total_bytes=settings.ingest_max_total_bytes,
            max_ratio=settings.ingest_max_ratio,
        )


class SkipReason(StrEnum):
    """Why an input member was not ingested."""

    NOT_VIDEO = "not a video"
    NESTED_ARCHIVE = "nested archive (not expanded)"
    HIDDEN = "hidden file or macOS metadata"
    SYMLINK = "symbolic link (not followed)"
    SPECIAL = "not a regular file"


class SkippedMember(FrozenModel):
    """An input member that was left out, and why."""

    member: str
    reason: SkipReason


class IngestedVideo(FrozenModel):
    """One video placed in a job.

    Attributes
    ----------
    source : str
        Path inside the archive, or the source file path.
    file : str
        File name inside the job directory.
    size_bytes : int
        Size of the placed file, bytes.
    """

    source: str
    file: str
    size_bytes: int = Field(ge=1)


class IngestedJob(FrozenModel):
    """One job directory created in ``in/``.

    Attributes
    ----------
    name : str
        Job name (directory name under ``in/``).
    path : str
        ``in/<name>``, relative to the data directory.
    videos : tuple of IngestedVideo
        Exactly the videos in the job, sorted by file name.
    size_bytes : int
        Total size of the videos, bytes.
    calibration : str or None
        A multi-view job's calibration file in the job directory (staged
        with its videos, and ``cameras.toml`` when given); ``None`` for a
        single-view job.
    replaced : tuple of str
        Directories (relative to the data directory) removed because
        ``force`` replaced this job; empty when nothing was replaced.
    previous_state : JobState or None
        State the daemon's status recorded for a job of this name before it
        was replaced, if any.
    """

    name: str
    path: str
    videos: tuple[IngestedVideo, ...]
    size_bytes: int = Field(ge=0)
    calibration: str | None = None
    replaced: tuple[str, ...] = ()
    previous_state: JobState | None = None


class IngestReport(FrozenModel):
    """What an ingest did (also the ``--json`` output of ``neuropose ingest``).

    Attributes
    ----------
    sources : tuple of str
        The archive, folders or files ingested, as given.
    data_dir : str
        The data directory.
    mode : {"extract", "copy", "move", "link"}
        How the videos got there.
    jobs : tuple of IngestedJob
        Jobs created, sorted by name.
    skipped : tuple of SkippedMember
        Members left out, in input order.
    bytes_written : int
        Bytes of video written (0 for hard links; moved files count when
        they had to be copied across filesystems).
    cleaned_staging : tuple of str
        Leftovers of interrupted ingests removed first.
    dry_run : bool
        ``True`` when nothing was written: the jobs are those that would be
        created (archive data was still read in full and CRC-checked).
    """

    sources: tuple[str, ...]
    data_dir: str
    mode: Literal["extract", "copy", "move", "link"]
    jobs: tuple[IngestedJob, ...]
    skipped: tuple[SkippedMember, ...] = ()
    bytes_written: int = Field(default=0, ge=0)
    cleaned_staging: tuple[str, ...] = ()
    dry_run: bool = False
