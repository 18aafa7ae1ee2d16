"""The estimator: videos and images in, validated predictions and metrics out.

A pure library: :class:`Estimator` streams frames from a video through an
injected :class:`~neuropose.models.base.PoseModel` and returns
:class:`~neuropose.schemas.VideoPredictions`; it writes nothing itself
(checkpoints go to the caller's ``on_checkpoint``).

==========================================  =========================================
module                                      what
==========================================  =========================================
:mod:`neuropose.estimator.pipeline`         :class:`Estimator`: options, resume
                                            checks, threading/failure/resume semantics
:mod:`neuropose.estimator.runner`           decode / infer / collect steps, the
                                            threaded and sequential runners
:mod:`neuropose.estimator.collect`          persons per frame, track ids, the table
:mod:`neuropose.estimator.tracking`         track ids and subject selection
:mod:`neuropose.estimator.provenance`       provenance, time axis and metadata
:mod:`neuropose.estimator.camera`           intrinsics from a camera file
:mod:`neuropose.estimator.metrics`          stage timings, RSS, CPU
==========================================  =========================================

Frames, timestamps and rotation come from :mod:`neuropose.video.reader`.
"""

from neuropose.estimator.camera import load_camera_file
from neuropose.estimator.collect import CheckpointCallback, ProgressCallback
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
from neuropose.estimator.pipeline import Estimator
from neuropose.estimator.provenance import without_run_details
from neuropose.estimator.tracking import Tracker, box_iou, select_subject

__all__ = [
    "CameraFileError",
    "CheckpointCallback",
    "CheckpointMismatchError",
    "EstimationInterrupted",
    "Estimator",
    "ModelFailedError",
    "NoFramesError",
    "ProgressCallback",
    "ShortReadError",
    "StageFailedError",
    "StallError",
    "Tracker",
    "VideoError",
    "VideoNotFoundError",
    "VideoUnreadableError",
    "box_iou",
    "load_camera_file",
    "select_subject",
    "without_run_details",
]
