"""Pydantic schemas of every persisted NeuroPose document.

All models are frozen and reject unknown fields. Top-level documents
(:class:`JobResults`, :class:`StatusFile`, :class:`JobStatusEntry`) carry a
``schema_version`` and are migrated on load by
:func:`neuropose.io.load_model`.
"""

from neuropose.schemas.base import Document, FrozenModel, array_field
from neuropose.schemas.checkpoint import TrackerState, TrackState, VideoCheckpoint
from neuropose.schemas.metrics import PerformanceMetrics, StageTiming
from neuropose.schemas.predictions import JobResults, SwapCorrection, VideoPredictions
from neuropose.schemas.provenance import CameraIntrinsics, Provenance
from neuropose.schemas.segmentation import Segment, Segmentation, SegmentationFile
from neuropose.schemas.skeleton import Skeleton
from neuropose.schemas.status import (
    AttemptRecord,
    JobState,
    JobStatusEntry,
    StatusFile,
    VideoProgress,
)
from neuropose.schemas.video import VideoMetadata

__all__ = [
    "AttemptRecord",
    "CameraIntrinsics",
    "Document",
    "FrozenModel",
    "JobResults",
    "JobState",
    "JobStatusEntry",
    "PerformanceMetrics",
    "Provenance",
    "Segment",
    "Segmentation",
    "SegmentationFile",
    "Skeleton",
    "StageTiming",
    "StatusFile",
    "SwapCorrection",
    "TrackState",
    "TrackerState",
    "VideoCheckpoint",
    "VideoMetadata",
    "VideoPredictions",
    "VideoProgress",
    "array_field",
]
