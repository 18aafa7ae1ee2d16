"""The estimator: videos and images in, validated predictions and metrics out.

A pure library: :class:`Estimator` streams frames from a video through an
injected :class:`~neuropose.models.base.PoseModel` and returns
:class:`~neuropose.schemas.VideoPredictions`; it writes nothing itself
(checkpoints go to the caller's ``on_checkpoint``). See
:mod:`neuropose.estimator.pipeline` for threading, failure and resume
semantics, :mod:`neuropose.estimator.video` for timestamps and rotation and
:mod:`neuropose.estimator.tracking` for track ids and subject selection.
"""

from neuropose.estimator.errors import (
    CameraFileError,
    CheckpointMismatchError,
    EstimationInterrupted,
    ModelFailedError,
    NoFramesError,
    ShortReadError,
    StageFailedError,
    StallError,
    VideoError,
    VideoNotFoundError,
    VideoUnreadableError,
)
from neuropose.estimator.pipeline import (
    CheckpointCallback,
    Estimator,
    ProgressCallback,
    without_run_details,
)
from neuropose.estimator.tracking import Tracker, box_iou, select_subject
from neuropose.estimator.video import (
    IMAGE_SUFFIXES,
    FrameReader,
    VideoInfo,
    load_camera_file,
    probe_video,
)

__all__ = [
    "IMAGE_SUFFIXES",
    "CameraFileError",
    "CheckpointCallback",
    "CheckpointMismatchError",
    "EstimationInterrupted",
    "Estimator",
    "FrameReader",
    "ModelFailedError",
    "NoFramesError",
    "ProgressCallback",
    "ShortReadError",
    "StageFailedError",
    "StallError",
    "Tracker",
    "VideoError",
    "VideoInfo",
    "VideoNotFoundError",
    "VideoUnreadableError",
    "box_iou",
    "load_camera_file",
    "probe_video",
    "select_subject",
    "sha256_file",
    "without_run_details",
]
