"""Mid-video checkpoint of the estimator: everything needed to resume exactly.

The estimator emits a :class:`VideoCheckpoint` every
``checkpoint_every_frames`` collected frames and when stopped; the daemon
persists it atomically (``neuropose.io.write_model_atomic``) and passes it
back as ``resume=`` after a restart. Frames ``0 .. next_frame - 1`` are
complete in the checkpoint; decoding restarts at ``next_frame`` (earlier
frames are decoded and discarded, never seeked, so indices stay exact).

Arrays use the layout of :class:`~neuropose.schemas.VideoPredictions`
(column tables sorted by frame); ``timestamps_ms`` holds the raw container
presentation times of frames ``0 .. next_frame - 1`` in milliseconds
(NaN for still images).

``model_state`` is the pose model's frame-to-frame state after frame
``next_frame - 1`` (:meth:`neuropose.models.base.StatefulPoseModel.get_state`;
for BlazePose a :class:`BlazePoseState`), so that a resumed run equals an
uninterrupted one. Version 1 checkpoints have none; they migrate with
``model_state = None`` and resume with the model reset (logged).
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, JsonValue, model_validator

from neuropose.schemas.base import Document, FrozenModel, array_field
from neuropose.schemas.provenance import CameraIntrinsics, JsonScalar

__all__ = [
    "BlazePoseState",
    "OneEuroState",
    "RoiTrackState",
    "TrackState",
    "TrackerState",
    "VideoCheckpoint",
]


class TrackState(FrozenModel):
    """One live track: id, last box (x, y, w, h, score; pixels), last frame seen and
    velocity of the box centre (pixels per frame) between its last two detections."""

    track_id: int = Field(ge=0)
    box: tuple[float, float, float, float, float]
    last_frame: int = Field(ge=0)
    velocity: tuple[float, float] = (0.0, 0.0)


class TrackerState(FrozenModel):
    """State of the Hungarian tracker between frames."""

    next_id: int = Field(default=0, ge=0)
    tracks: tuple[TrackState, ...] = ()


class OneEuroState(FrozenModel):
    """State of a :class:`neuropose.smoothing.OneEuroFilter` (all None before its first sample).

    ``t`` is the last sample time in seconds; ``raw``, ``y`` and ``dy`` are the
    last raw value, filtered value and filtered derivative (float64, kept
    bit-exact; ``y`` may hold NaN where the input was not finite).
    """

    t: float | None = None
    raw: array_field("float64") | None = None  # type: ignore[valid-type]
    y: array_field("float64") | None = None  # type: ignore[valid-type]
    dy: array_field("float64") | None = None  # type: ignore[valid-type]


class RoiTrackState(FrozenModel):
    """One tracked BlazePose ROI for the next frame and its auxiliary-landmark filter.

    ``cx, cy, size`` are image pixels, ``rotation`` radians (see
    :class:`neuropose.models.blazepose_geometry.Roi`); ``filter_frames`` is
    the number of samples the filter has seen (its clock).
    """

    cx: float
    cy: float
    size: float
    rotation: float
    filter_frames: int = Field(ge=0)
    filter: OneEuroState


class BlazePoseState(FrozenModel):
    """Frame-to-frame state of :class:`neuropose.models.blazepose_pipeline.BlazePoseModel`.

    ``since_detect`` counts frames since the detector last ran; ``tracked``
    lists the ROIs the next frame starts from, in tracking order.
    """

    kind: str = "blazepose"
    since_detect: int = Field(ge=0)
    tracked: tuple[RoiTrackState, ...] = ()


class VideoCheckpoint(Document):
    """Resumable state of one video (see the module docstring).

    Attributes
    ----------
    input_name : str
        File name of the input (no directories).
    input_sha256, input_size_bytes
        Identity of the input; resuming a changed file is refused.
    model_name, model_sha256
        The model that produced the detections; resuming with another is refused.
    options : dict
        Every option that affects results; resuming with other values is refused.
    intrinsics : CameraIntrinsics
        Intrinsics used so far (reused on resume).
    next_frame : int
        Number of frames complete; decoding resumes at this index.
    model_state : dict, optional
        The model's JSON state after frame ``next_frame - 1``; None for a
        stateless model or a migrated version 1 checkpoint.
    """

    SCHEMA_VERSION: ClassVar[int] = 2
    schema_version: int = Field(default=2, description="Version of this document's schema.")
    input_name: str = Field(min_length=1)
    input_sha256: str = Field(min_length=64, max_length=64)
    input_size_bytes: int = Field(ge=0)
    model_name: str
    model_sha256: str
    options: dict[str, JsonScalar] = Field(default_factory=dict)
    intrinsics: CameraIntrinsics
    created_at: str
    next_frame: int = Field(ge=0)
    timestamps_ms: array_field("float64", 1)  # type: ignore[valid-type]
    det_frame: array_field("int32", 1)  # type: ignore[valid-type]
    track_id: array_field("int32", 1)  # type: ignore[valid-type]
    boxes: array_field("float32", 2, (5,))  # type: ignore[valid-type]
    poses3d: array_field("float32", 3, (3,))  # type: ignore[valid-type]
    poses2d: array_field("float32", 3, (2,))  # type: ignore[valid-type]
    confidence: array_field("float32", 2) | None = None  # type: ignore[valid-type]
    tracker: TrackerState = Field(default_factory=TrackerState)
    model_state: dict[str, JsonValue] | None = None

    @model_validator(mode="after")
    def _check(self) -> VideoCheckpoint:
        if self.timestamps_ms.shape[0] != self.next_frame:
            raise ValueError(
                f"timestamps_ms has {self.timestamps_ms.shape[0]} entries, "
                f"next_frame is {self.next_frame}"
            )
        d = self.det_frame.shape[0]
        for name, arr in (
            ("track_id", self.track_id),
            ("boxes", self.boxes),
            ("poses3d", self.poses3d),
            ("poses2d", self.poses2d),
        ):
            if arr.shape[0] != d:
                raise ValueError(f"{name} has {arr.shape[0]} rows, det_frame has {d}")
        if d and (self.det_frame.min() < 0 or self.det_frame.max() >= self.next_frame):
            raise ValueError("det_frame refers to a frame at or after next_frame")
        return self
