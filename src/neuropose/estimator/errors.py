"""Errors raised by the estimator, each a subclass of an :mod:`neuropose.errors` category.

The input-media errors (:class:`VideoError` and its subclasses) are defined in
:mod:`neuropose.video.errors` and re-exported here, because the estimator
raises them for the video it was given.

================================  ==================  ====
class                             category            exit
================================  ==================  ====
:class:`VideoNotFoundError`       InputError          2
:class:`VideoUnreadableError`     InputError          2
:class:`NoFramesError`            InputError          2
:class:`ShortReadError`           InputError          2
:class:`CameraFileError`          InputError          2
:class:`CheckpointMismatchError`  InputError          2
:class:`ModelFailedError`         ProcessingError     1
:class:`StageFailedError`         ProcessingError     1
:class:`StallError`               ProcessingError     1
:class:`EstimationInterrupted`    Interrupted         130
================================  ==================  ====
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from neuropose.errors import InputError, Interrupted, ProcessingError
from neuropose.video.errors import (
    NoFramesError,
    ShortReadError,
    VideoError,
    VideoNotFoundError,
    VideoUnreadableError,
)

if TYPE_CHECKING:
    from neuropose.schemas.checkpoint import VideoCheckpoint

__all__ = [
    "CameraFileError",
    "CheckpointMismatchError",
    "EstimationInterrupted",
    "ModelFailedError",
    "NoFramesError",
    "ShortReadError",
    "StageFailedError",
    "StallError",
    "VideoError",
    "VideoNotFoundError",
    "VideoUnreadableError",
]


class CameraFileError(InputError):
    """A camera intrinsics file is missing, unparsable or lacks fx/fy/cx/cy."""


class CheckpointMismatchError(InputError):
    """A checkpoint does not belong to this input file, model or options."""


class ModelFailedError(ProcessingError):
    """The pose model raised; the original exception is chained as ``__cause__``."""


class StageFailedError(ProcessingError):
    """The decode or collect stage failed unexpectedly (original chained)."""


class StallError(ProcessingError):
    """No frame moved through the pipeline for ``stall_timeout_s`` seconds."""


class EstimationInterrupted(Interrupted):
    """Processing stopped on request after emitting a checkpoint.

    Attributes
    ----------
    checkpoint : VideoCheckpoint
        State from which :meth:`Estimator.process_video` can resume exactly.
    """

    def __init__(self, message: str, *, checkpoint: VideoCheckpoint):
        super().__init__(message, hint="resume from the checkpoint to continue")
        self.checkpoint = checkpoint
