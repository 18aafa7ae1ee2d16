"""The multi-view part of a job's results: world-frame 3D and its per-view QC.

Arrays (see :mod:`neuropose.schemas.base` for the encoding), F frames of the
reference view (the first view), J joints of ``skeleton``, V views in the
order of :attr:`Triangulation.views`:

* ``timestamp_s`` (F,) float64: the reference view's container timestamps.
* ``points_mm`` (F, J, 3) float32: world-frame positions in mm (the rig's
  frame, up axis in ``rig.up_axis``); NaN where fewer than
  ``options["min_views"]`` views agree or where the point was excluded as
  implausible (``point_status`` says which).
* ``point_status`` (F, J) uint8: :data:`POINT_TRIANGULATED` (0),
  :data:`POINT_TOO_FEW_VIEWS` (1: fewer than ``min_views`` views agree) or
  :data:`POINT_IMPLAUSIBLE` (2: triangulated, then excluded because its
  limb segments' lengths are implausible; details in
  :attr:`Triangulation.excluded`).
* ``reprojection_px`` (F, J, V) float32: distance in the view's (distorted)
  pixels between its swap-corrected keypoint and the projected 3D point;
  NaN where either is missing.
* ``used`` (F, J, V) bool: views the consensus used for the point (for an
  excluded point, the views of the rejected triangulation; its
  ``reprojection_px`` likewise).
* ``swapped`` (F, V) bool: frames whose left/right labels were exchanged.

Per-view 2D keypoints are the ``poses2d`` of the job's
:class:`~neuropose.schemas.VideoPredictions` named by
:attr:`ViewLink.video`, frame ``f`` of the reference corresponding to that
video's frame ``f + offset_frames``.
"""

from __future__ import annotations

from typing import ClassVar, Literal

import numpy as np
from pydantic import Field, model_validator

from neuropose.schemas.base import Document, FrozenModel, array_field
from neuropose.schemas.rig import CameraRig
from neuropose.schemas.skeleton import Skeleton

__all__ = [
    "POINT_IMPLAUSIBLE",
    "POINT_TOO_FEW_VIEWS",
    "POINT_TRIANGULATED",
    "ExcludedPoint",
    "SegmentLength",
    "Triangulation",
    "ViewLink",
]

JsonScalar = str | int | float | bool | None

#: ``point_status`` codes.
POINT_TRIANGULATED = 0
POINT_TOO_FEW_VIEWS = 1
POINT_IMPLAUSIBLE = 2


class ViewLink(FrozenModel):
    """One view of a triangulated trial and its quality figures.

    Attributes
    ----------
    video : str
        Name of the video in the job's ``videos``.
    camera : str
        Name of the rig camera that filmed it.
    offset_frames : int
        Frame ``f`` of the reference is frame ``f + offset_frames`` here.
    offset_source : {"reference", "none", "user", "estimated"}
        Where the offset came from.
    offset_subframe : float or None
        Parabolic refinement of an estimated offset (not applied), frames.
    offset_contrast : float or None
        Median / best consistency cost of the offset search (near 1: not
        identifiable).
    swaps : int
        Frames whose left/right labels were exchanged in this view.
    reassigned_frames : int
        Frames where the subject (matched to the reference view's subject
        across views) was not this view's primary track.
    median_reprojection_px : float or None
        Median reprojection error of its keypoints with a 3D point, px.
    inlier_rate : float or None
        Fraction of those keypoints the consensus used.
    behind_or_outside : float or None
        Fraction of 3D points behind the camera or outside its image.
    """

    video: str = Field(min_length=1)
    camera: str = Field(min_length=1)
    offset_frames: int = 0
    offset_source: Literal["reference", "none", "user", "estimated"] = "none"
    offset_subframe: float | None = None
    offset_contrast: float | None = None
    swaps: int = Field(default=0, ge=0)
    reassigned_frames: int = Field(default=0, ge=0)
    median_reprojection_px: float | None = None
    inlier_rate: float | None = None
    behind_or_outside: float | None = None


class SegmentLength(FrozenModel):
    """A clinical segment's length in one frame against the trial's median.

    Attributes
    ----------
    segment : str
        Name in :data:`neuropose.segments.CLINICAL_SEGMENTS`.
    length_mm : float
        Length measured in that frame (mm).
    reference_mm : float
        Median length over the trial's frames (mm).
    """

    segment: str = Field(min_length=1)
    length_mm: float
    reference_mm: float


class ExcludedPoint(FrozenModel):
    """A triangulated joint removed from ``points_mm`` (NaN there), and why.

    Attributes
    ----------
    frame : int
        Reference frame index.
    joint : str
        Joint name in the skeleton.
    reason : {"implausible_segment_length"}
        Its limb segment(s) were off the trial's median length by more
        than ``options["length_tolerance"]`` (relative).
    position_mm : 3-tuple of float
        The triangulated position that was removed (world frame, mm).
    segments : tuple of SegmentLength
        The implausible segments of this joint in this frame.
    """

    frame: int = Field(ge=0)
    joint: str = Field(min_length=1)
    reason: Literal["implausible_segment_length"] = "implausible_segment_length"
    position_mm: tuple[float, float, float]
    segments: tuple[SegmentLength, ...] = ()


class Triangulation(Document):
    """World-frame 3D of one subject triangulated from several calibrated views.

    See the module docstring for the arrays' layout and units. Versioned on
    its own inside :class:`~neuropose.schemas.JobResults` (version 2 added
    ``point_status``, ``excluded``, ``implausible`` and
    ``bone_length_cv_before_exclusion``).

    Attributes
    ----------
    bone_length_cv : dict
        Segment -> CV (std / mean over frames) of its length in
        ``points_mm`` (excluded points left out).
    bone_length_cv_before_exclusion : dict
        The same before implausible points were excluded (equal to
        ``bone_length_cv`` when the check is off).
    implausible : dict of str to int
        Segment -> frames whose length was implausible; empty when the
        check was off (``options["plausibility"]``) or for files written
        before it existed; a segment is absent when measured in too few
        frames to have a reference length.
    excluded : tuple of ExcludedPoint
        Every point set to NaN after triangulation, with its reason.
    """

    SCHEMA_VERSION: ClassVar[int] = 2
    schema_version: int = Field(default=2, description="Version of this document's schema.")
    rig: CameraRig
    views: tuple[ViewLink, ...] = Field(min_length=2)
    skeleton: Skeleton
    options: dict[str, JsonScalar] = Field(default_factory=dict)
    timestamp_s: array_field("float64", 1)  # type: ignore[valid-type]
    points_mm: array_field("float32", 3, (3,))  # type: ignore[valid-type]
    reprojection_px: array_field("float32", 3)  # type: ignore[valid-type]
    used: array_field("bool", 3)  # type: ignore[valid-type]
    swapped: array_field("bool", 2)  # type: ignore[valid-type]
    point_status: array_field("uint8", 2)  # type: ignore[valid-type]
    bone_length_cv: dict[str, float | None] = Field(default_factory=dict)
    bone_length_cv_before_exclusion: dict[str, float | None] = Field(default_factory=dict)
    implausible: dict[str, int] = Field(default_factory=dict)
    excluded: tuple[ExcludedPoint, ...] = ()
    warnings: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _check(self) -> Triangulation:
        f, j, v = self.timestamp_s.shape[0], len(self.skeleton.joints), len(self.views)
        for name, arr, want in (
            ("points_mm", self.points_mm, (f, j, 3)),
            ("reprojection_px", self.reprojection_px, (f, j, v)),
            ("used", self.used, (f, j, v)),
            ("swapped", self.swapped, (f, v)),
            ("point_status", self.point_status, (f, j)),
        ):
            if arr.shape != want:
                raise ValueError(f"{name} has shape {list(arr.shape)}, expected {list(want)}")
        if self.point_status.size and self.point_status.max() > POINT_IMPLAUSIBLE:
            raise ValueError(
                f"point_status holds {int(self.point_status.max())}; codes are 0, 1, 2"
            )
        bad = [
            f"frame {x.frame} joint {x.joint}"
            for x in self.excluded
            if x.frame >= f or x.joint not in self.skeleton.joints
        ]
        if bad:
            raise ValueError(f"excluded points outside the trial: {', '.join(bad[:3])}")
        missing = [x.camera for x in self.views if x.camera not in self.rig.names]
        if missing:
            raise ValueError(f"views name cameras absent from the rig: {', '.join(missing)}")
        return self

    @property
    def camera_names(self) -> tuple[str, ...]:
        """Camera of each view, in view order."""
        return tuple(x.camera for x in self.views)

    def points(self) -> np.ndarray:
        """World-frame positions (F, J, 3) as float64 mm."""
        return np.asarray(self.points_mm, dtype=np.float64)
