"""Per-video predictions and the job results envelope.

Layout
------
Predictions are stored as column arrays rather than one object per frame:

* ``frame_index`` (F,) int32 and ``timestamp_s`` (F,) float64 — one entry per
  decoded frame, in decode order; timestamps come from the container.
* Detections are rows of a table of length D (all persons of all frames),
  sorted by frame then track id: ``det_frame`` (D,) int32 is the position of
  the row's frame in ``frame_index``; ``track_id`` (D,) int32; ``boxes``
  (D, 5) float32 as x, y, w, h (pixels, top-left origin) and score (0..1);
  ``poses3d`` (D, J, 3) float32 millimetres in the camera frame (x right,
  y down, z forward; root-relative when ``provenance.root_relative``);
  ``poses2d`` (D, J, 2) float32 pixels of the upright input frame;
  ``confidence`` (D, J) float32 in 0..1, or ``None`` when the model gives
  none.

A frame with no detection simply has no rows. ``primary_track_id`` names the
subject chosen by ``subject_rule``.

Refinement (:mod:`neuropose.estimator.refine`) writes the corrected, smoothed
landmarks into ``poses3d``/``poses2d``/``confidence`` and keeps the model's
own output in ``poses3d_raw``/``poses2d_raw``/``confidence_raw`` (``None``
when no refinement ran; stored in JSON as a delta from the refined arrays
rounded to 0.1 mm / 0.01 px / 1e-4, :mod:`neuropose.schemas.raw_delta`);
every left/right relabelling is listed in ``swap_corrections``;
``plausible`` (D,) bool is False for a detection whose limb lengths are far
from its track's own (see :func:`neuropose.estimator.tracking.plausible_poses`).
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import Field, FieldSerializationInfo, field_serializer, model_validator

from neuropose.schemas import raw_delta
from neuropose.schemas.base import Document, FrozenModel, _decode, array_field
from neuropose.schemas.metrics import PerformanceMetrics
from neuropose.schemas.provenance import Provenance
from neuropose.schemas.segmentation import Segmentation
from neuropose.schemas.skeleton import Skeleton
from neuropose.schemas.triangulation import Triangulation
from neuropose.schemas.video import VideoMetadata

__all__ = ["JobResults", "SwapCorrection", "VideoPredictions"]


class SwapCorrection(FrozenModel):
    """One run of consecutive detections whose left/right labels were exchanged.

    Attributes
    ----------
    track_id : int
        Track the run belongs to.
    part : {"upper", "lower"}
        Body part relabelled: ``upper`` (face, shoulders, arms, hands) or
        ``lower`` (hips, legs, feet).
    first_frame, last_frame : int
        Positions in ``frame_index`` of the run's first and last detection.
    n_frames : int
        Detections relabelled.
    cost_model, cost_swapped : float
        Continuity cost over the run and its two boundaries (mean joint jump
        between consecutive detections, in units of the track's body size,
        2D plus 3D) with the model's labels and with the exchanged labels.
    reason : str
        Sentence for people.
    """

    track_id: int
    part: Literal["upper", "lower"]
    first_frame: int = Field(ge=0)
    last_frame: int = Field(ge=0)
    n_frames: int = Field(ge=1)
    cost_model: float
    cost_swapped: float
    reason: str


class VideoPredictions(FrozenModel):
    """Validated predictions for one video (see the module docstring for layout).

    Examples
    --------
    >>> import numpy as np
    >>> from neuropose.schemas import Skeleton, VideoMetadata
    >>> sk = Skeleton(name="toy", joints=("a", "b"), edges=((0, 1),))
    >>> vp = VideoPredictions.empty_for_tests(sk, n_frames=3)
    >>> vp.frame_index.tolist(), vp.poses3d.shape
    ([0, 1, 2], (0, 2, 3))
    """

    video: str = Field(min_length=1, description="Input file name.")
    skeleton: Skeleton
    metadata: VideoMetadata
    provenance: Provenance
    metrics: PerformanceMetrics | None = None
    subject_rule: str = "largest"
    primary_track_id: int | None = None
    frame_index: array_field("int32", 1)  # type: ignore[valid-type]
    timestamp_s: array_field("float64", 1)  # type: ignore[valid-type]
    det_frame: array_field("int32", 1)  # type: ignore[valid-type]
    track_id: array_field("int32", 1)  # type: ignore[valid-type]
    boxes: array_field("float32", 2, (5,))  # type: ignore[valid-type]
    poses3d: array_field("float32", 3, (3,))  # type: ignore[valid-type]
    poses2d: array_field("float32", 3, (2,))  # type: ignore[valid-type]
    confidence: array_field("float32", 2) | None = None  # type: ignore[valid-type]
    segmentations: dict[str, Segmentation] = Field(default_factory=dict)
    poses3d_raw: array_field("float32", 3, (3,)) | None = None  # type: ignore[valid-type]
    poses2d_raw: array_field("float32", 3, (2,)) | None = None  # type: ignore[valid-type]
    confidence_raw: array_field("float32", 2) | None = None  # type: ignore[valid-type]
    swap_corrections: tuple[SwapCorrection, ...] = ()
    plausible: array_field("bool", 1) | None = None  # type: ignore[valid-type]

    @model_validator(mode="before")
    @classmethod
    def _decode_raw(cls, data: Any) -> Any:
        """Raw arrays stored as a rounded delta (:mod:`neuropose.schemas.raw_delta`)."""
        if not isinstance(data, dict) or not any(raw_delta.is_encoded(data.get(n)) for n in
                                                 raw_delta.RAW_REFERENCE):  # fmt: skip
            return data
        data = dict(data)
        for name, ref_name in raw_delta.RAW_REFERENCE.items():
            if raw_delta.is_encoded(data.get(name)):
                if data.get(ref_name) is None:
                    raise ValueError(f"{name} is a delta from {ref_name}, which is absent")
                try:
                    ref = _decode(data[ref_name], "float32", None, ())
                    data[name] = raw_delta.decode(data[name], ref)
                except ValueError as exc:
                    raise ValueError(f"{name}: {exc}") from exc
        return data

    @field_serializer("poses3d_raw", "poses2d_raw", "confidence_raw", when_used="json")
    def _encode_raw(self, value: np.ndarray | None, info: FieldSerializationInfo) -> Any:
        name = info.field_name
        ref = getattr(self, raw_delta.RAW_REFERENCE[name])
        if value is None or ref is None:
            return None
        return raw_delta.encode(value, ref, raw_delta.RAW_REFERENCE[name],
                                raw_delta.RAW_QUANTUM[name])  # fmt: skip

    @model_validator(mode="after")
    def _check_shapes(self) -> VideoPredictions:
        f = self.frame_index.shape[0]
        if self.timestamp_s.shape[0] != f:
            raise ValueError(f"timestamp_s has {self.timestamp_s.shape[0]} entries, expected {f}")
        if f and np.any(np.diff(self.frame_index) <= 0):
            raise ValueError("frame_index must be strictly increasing")
        if f and not np.all(np.isfinite(self.timestamp_s)):
            raise ValueError("timestamp_s must be finite")
        d = self.det_frame.shape[0]
        j = len(self.skeleton.joints)
        for name, arr in (
            ("track_id", self.track_id),
            ("boxes", self.boxes),
            ("poses3d", self.poses3d),
            ("poses2d", self.poses2d),
        ):
            if arr.shape[0] != d:
                raise ValueError(f"{name} has {arr.shape[0]} rows, det_frame has {d}")
        for name, raw, ref in (
            ("poses3d_raw", self.poses3d_raw, self.poses3d),
            ("poses2d_raw", self.poses2d_raw, self.poses2d),
            ("confidence_raw", self.confidence_raw, self.confidence),
        ):
            if raw is not None and (ref is None or raw.shape != ref.shape):
                want = "absent" if ref is None else list(ref.shape)
                raise ValueError(f"{name} has shape {list(raw.shape)}, expected {want}")
        if self.plausible is not None and self.plausible.shape != (d,):
            raise ValueError(f"plausible has shape {list(self.plausible.shape)}, expected [{d}]")
        for name, arr in (("poses3d", self.poses3d), ("poses2d", self.poses2d)):
            if arr.shape[1] != j:
                raise ValueError(
                    f"{name} has {arr.shape[1]} joints, skeleton {self.skeleton.name!r} has {j}"
                )
        if self.confidence is not None and self.confidence.shape != (d, j):
            raise ValueError(
                f"confidence has shape {list(self.confidence.shape)}, expected [{d}, {j}]"
            )
        if d:
            if self.det_frame.min() < 0 or self.det_frame.max() >= f:
                raise ValueError("det_frame refers to a frame outside frame_index")
            if np.any(np.diff(self.det_frame) < 0):
                raise ValueError("detections must be sorted by frame")
        if self.metadata.decoded_frame_count != f:
            raise ValueError(
                f"metadata.decoded_frame_count is {self.metadata.decoded_frame_count} "
                f"but there are {f} frames"
            )
        return self

    @property
    def num_frames(self) -> int:
        """Number of decoded frames."""
        return int(self.frame_index.shape[0])

    def track(self, track_id: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Dense per-frame arrays for one track.

        Parameters
        ----------
        track_id : int, optional
            Track to extract; defaults to :attr:`primary_track_id`.

        Returns
        -------
        poses3d : ndarray, shape (F, J, 3), float64
            Millimetres; NaN on frames where the track was not detected.
        rows : ndarray, shape (F,), int64
            Detection row per frame, -1 where absent.
        """
        tid = self.primary_track_id if track_id is None else track_id
        rows = np.full(self.num_frames, -1, dtype=np.int64)
        out = np.full((self.num_frames, len(self.skeleton.joints), 3), np.nan)
        if tid is None:
            return out, rows
        sel = np.nonzero(self.track_id == tid)[0]
        rows[self.det_frame[sel]] = sel
        out[self.det_frame[sel]] = self.poses3d[sel]
        return out, rows

    def swap_corrected_frames(self, track_id: int | None = None) -> int:
        """Frames of one track (default: the primary) with any left/right relabelling.

        Examples
        --------
        >>> from neuropose.skeletons import H36M_17
        >>> VideoPredictions.empty_for_tests(H36M_17, n_frames=2).swap_corrected_frames()
        0
        """
        tid = self.primary_track_id if track_id is None else track_id
        frames: set[int] = set()
        for c in self.swap_corrections:
            if c.track_id == tid:
                frames.update(range(c.first_frame, c.last_frame + 1))
        return len(frames)

    @classmethod
    def empty_for_tests(cls, skeleton: Skeleton, n_frames: int) -> VideoPredictions:
        """Predictions with ``n_frames`` frames at 30 fps and no detections."""
        from neuropose.schemas.provenance import CameraIntrinsics

        j = len(skeleton.joints)
        return cls(
            video="synthetic.mp4",
            skeleton=skeleton,
            metadata=VideoMetadata(
                width=640, height=480, decoded_frame_count=n_frames, duration_s=n_frames / 30
            ),
            provenance=Provenance(
                model_name="none",
                model_sha256="0" * 64,
                root_relative=True,
                intrinsics=CameraIntrinsics.from_fov(640, 480, 55.0),
                input_sha256="0" * 64,
                input_name="synthetic.mp4",
                created_at="1970-01-01T00:00:00Z",
            ),
            frame_index=np.arange(n_frames, dtype=np.int32),
            timestamp_s=np.arange(n_frames) / 30.0,
            det_frame=np.zeros(0, np.int32),
            track_id=np.zeros(0, np.int32),
            boxes=np.zeros((0, 5), np.float32),
            poses3d=np.zeros((0, j, 3), np.float32),
            poses2d=np.zeros((0, j, 2), np.float32),
        )


class JobResults(Document):
    """The ``results.json`` envelope of one job.

    Attributes
    ----------
    job_id : str
        Job name (the job directory's name).
    created_at : str
        ISO-8601 UTC time the results were completed.
    neuropose_version : str
        Version that wrote the file.
    videos : list of VideoPredictions
        One entry per input video, in processing order.
    triangulation : Triangulation or None
        World-frame 3D triangulated from the videos of a calibrated
        multi-camera trial (schema version 2); None for monocular jobs.

    Schema version 3 stores the raw arrays as rounded deltas from the refined
    ones (:mod:`neuropose.schemas.raw_delta`); version 2 files, whose raw
    arrays are plain float32, load unchanged.
    """

    SCHEMA_VERSION: ClassVar[int] = 3
    schema_version: int = Field(default=3, description="Version of this document's schema.")
    job_id: str = Field(min_length=1)
    created_at: str
    neuropose_version: str
    videos: tuple[VideoPredictions, ...] = Field(min_length=1)
    triangulation: Triangulation | None = None

    @model_validator(mode="after")
    def _unique_videos(self) -> JobResults:
        names = [v.video for v in self.videos]
        if len(set(names)) != len(names):
            raise ValueError("video names within a job must be unique")
        if self.triangulation is not None:
            unknown = [x.video for x in self.triangulation.views if x.video not in names]
            if unknown:
                raise ValueError(f"triangulation views name unknown videos: {', '.join(unknown)}")
        return self

    def video(self, name: str) -> VideoPredictions:
        """The predictions of the video called ``name``."""
        for v in self.videos:
            if v.video == name:
                return v
        raise KeyError(f"no video {name!r} in job {self.job_id!r}")
