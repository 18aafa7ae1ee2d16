"""The errors ingest raises, each a subclass of a :mod:`neuropose.errors` category.

========================== ================= =========
error                      category          exit code
========================== ================= =========
:class:`IngestError`       InputError        2
:class:`UnsafeArchiveError` InputError       2
:class:`ArchiveLimitError` InputError        2
:class:`NoVideosError`     InputError        2
:class:`JobCollisionError` InputError        2
:class:`JobBusyError`      BusyError         3
:class:`IngestBusyError`   BusyError         3
:class:`InsufficientSpaceError` ResourceError 4
========================== ================= =========
"""

from __future__ import annotations

from collections.abc import Sequence

from neuropose.errors import BusyError, InputError, ResourceError
from neuropose.video.errors import NoVideosError

__all__ = [
    "ArchiveLimitError",
    "IngestBusyError",
    "IngestError",
    "InsufficientSpaceError",
    "JobBusyError",
    "JobCollisionError",
    "NoVideosError",
    "UnsafeArchiveError",
]


class IngestError(InputError):
    """The input cannot be ingested as given (exit code 2)."""


class UnsafeArchiveError(IngestError):
    """Archive members could write outside the data dir or are unreadable.

    ``problems`` lists one line per offending member.
    """

    def __init__(self, message: str, *, problems: Sequence[str] = (), hint: str | None = None):
        super().__init__(message, hint=hint)
        self.problems = tuple(problems)


class ArchiveLimitError(IngestError):
    """A member-count, size or compression-ratio limit was exceeded (exit code 2)."""


class JobCollisionError(IngestError):
    """Job names clash with each other or with existing jobs (exit code 2).

    ``collisions`` maps each job name to what it clashes with.
    """

    def __init__(
        self, message: str, *, collisions: dict[str, list[str]], hint: str | None = None
    ) -> None:
        super().__init__(message, hint=hint)
        self.collisions = collisions


class JobBusyError(BusyError):
    """``force`` would replace a job the daemon is processing (exit code 3)."""


class IngestBusyError(BusyError):
    """Another ingest into the same data directory is running (exit code 3)."""


class InsufficientSpaceError(ResourceError):
    """The data directory's filesystem lacks space for the input (exit code 4)."""
