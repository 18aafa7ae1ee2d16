"""Pydantic schemas of every persisted NeuroPose document.

All models are frozen and reject unknown fields. Top-level documents
(:class:`JobResults`, :class:`StatusFile`, :class:`JobStatusEntry`) carry a
``schema_version`` and are migrated on load by
:func:`neuropose.io.load_model`.

Names are exported lazily (PEP 562): importing one submodule, e.g.
:mod:`neuropose.schemas.status` for ``neuropose status``, does not build
every model (nor import NumPy for the array-bearing ones).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from neuropose.schemas.base import Document, FrozenModel, array_field
    from neuropose.schemas.checkpoint import TrackerState, TrackState, VideoCheckpoint
    from neuropose.schemas.metrics import PerformanceMetrics, StageTiming
    from neuropose.schemas.predictions import JobResults, SwapCorrection, VideoPredictions
    from neuropose.schemas.provenance import CameraIntrinsics, Provenance
    from neuropose.schemas.segmentation import Segment, Segmentation, SegmentationFile
    from neuropose.schemas.signals import SignalsProvenance
    from neuropose.schemas.skeleton import Skeleton
    from neuropose.schemas.status import (
        AttemptRecord,
        JobState,
        JobStatusEntry,
        StatusFile,
        VideoProgress,
    )
    from neuropose.schemas.video import VideoMetadata

#: Exported name -> submodule defining it.
_EXPORTS = {
    "AttemptRecord": "status",
    "CameraIntrinsics": "provenance",
    "Document": "base",
    "FrozenModel": "base",
    "JobResults": "predictions",
    "JobState": "status",
    "JobStatusEntry": "status",
    "PerformanceMetrics": "metrics",
    "Provenance": "provenance",
    "Segment": "segmentation",
    "Segmentation": "segmentation",
    "SegmentationFile": "segmentation",
    "SignalsProvenance": "signals",
    "Skeleton": "skeleton",
    "StageTiming": "metrics",
    "StatusFile": "status",
    "SwapCorrection": "predictions",
    "TrackState": "checkpoint",
    "TrackerState": "checkpoint",
    "VideoCheckpoint": "checkpoint",
    "VideoMetadata": "video",
    "VideoPredictions": "predictions",
    "VideoProgress": "status",
    "array_field": "base",
}

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
    "SignalsProvenance",
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


def __getattr__(name: str) -> Any:
    try:
        module = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
