"""The daemon's errors, and how an exception is worded in a job's status.

Examples
--------
>>> describe_error(NoVideosError("job 'a' has no video files", hint="add videos"))
"NoVideosError: job 'a' has no video files"
>>> status_write_error(PermissionError(13, "Permission denied"), "/d/out/a").message
'cannot write job status in /d/out/a: Permission denied; stopping so that status stays true'
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from neuropose.errors import InputError, Interrupted, NeuroPoseError, ProcessingError, ResourceError
from neuropose.io import DiskFullError
from neuropose.video.errors import NoVideosError

__all__ = [
    "CheckpointRejectedError",
    "ClusterUnavailableError",
    "DaemonStopped",
    "JobVanishedError",
    "NoVideosError",
    "PoisonJobError",
    "RayNotInstalledError",
    "StatusWriteError",
    "WorkerLostError",
    "describe_error",
    "is_disk_full",
    "status_write_error",
]

_DISK_FULL = (errno.ENOSPC, errno.EDQUOT)
_NOT_WRITABLE = (errno.EACCES, errno.EPERM, errno.EROFS)


class JobVanishedError(InputError):
    """The job's input directory disappeared while it was queued or processing."""


class PoisonJobError(ProcessingError):
    """A job crashed the daemon ``max_attempts`` times and was quarantined."""


class CheckpointRejectedError(InputError):
    """A :class:`~neuropose.interfacer.processor.VideoProcessor` refused a checkpoint.

    Raised by ``process_video`` when ``resume`` does not belong to the video
    (another input, model or options); the daemon then starts the video over.
    """


class WorkerLostError(ProcessingError):
    """A Ray actor died while processing a video (killed, out of memory, node lost).

    :class:`~neuropose.interfacer.jobrun.JobRun` records the lost attempt and
    re-runs the video from its last checkpoint; after ``max_attempts``
    attempts of the job the video is failed with this error (a video that
    kills every worker it touches).
    """


class ClusterUnavailableError(ResourceError):
    """The Ray cluster cannot be reached (head gone, address wrong) or has no room.

    The daemon records the running job as ``interrupted`` (it resumes from its
    checkpoints on the next start) and exits with code 4, for a supervisor to
    restart it when the cluster is back.
    """


class RayNotInstalledError(ResourceError):
    """``executor = "ray"`` but Ray is not installed (the ``neuropose[ray]`` extra)."""


class DaemonStopped(Interrupted):
    """The daemon stopped on a signal after checkpointing (exit code 130)."""


class StatusWriteError(ResourceError):
    """A status file could not be written: the daemon stops (exit code 4)."""


def describe_error(exc: BaseException) -> str:
    """``"<ErrorType>: message"`` of an exception (message without the hint)."""
    message = exc.message if isinstance(exc, NeuroPoseError) else str(exc)
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def is_disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` says the filesystem is full or over quota.

    >>> is_disk_full(OSError(errno.ENOSPC, "No space left on device")), is_disk_full(OSError())
    (True, False)
    """
    return isinstance(exc, DiskFullError) or (isinstance(exc, OSError) and exc.errno in _DISK_FULL)


def status_write_error(exc: OSError, where: Path | str) -> StatusWriteError:
    """The daemon's stop when a status file cannot be written: one cause, one hint.

    The cause is read from ``exc`` (disk full, not writable, other I/O error)
    and the hint is the one fix for that cause; the job is left ``processing``
    so that the next start resumes it from its last checkpoint.
    """
    restart = "then restart `neuropose watch`; the job resumes from its last checkpoint"
    if is_disk_full(exc):
        cause = "no space left on device"
        fix = f"free space on the filesystem holding {where}"
    elif isinstance(exc, PermissionError) or exc.errno in _NOT_WRITABLE:
        cause = os.strerror(exc.errno) if exc.errno else "not writable"
        fix = f"make {where} writable by the daemon's user"
    else:
        cause = os.strerror(exc.errno) if exc.errno else str(exc)
        fix = f"check the filesystem holding {where} (`dmesg`, `df`)"
    return StatusWriteError(
        f"cannot write job status in {where}: {cause}; stopping so that status stays true",
        hint=f"{fix}, {restart}",
    )
