"""The multi-view part of a job's results: world-frame 3D and its per-view QC.

Arrays (see :mod:`neuropose.schemas.base` for the encoding), F frames of the
reference view (the first view), J joints of ``skeleton``, V views in the
order of :attr:`Triangulation.views`:

* ``timestamp_s`` (F,) float64: the reference view's container timestamps.
* ``points_mm`` (F, J, 3) float32: world-frame positions in mm (the rig's
  frame, up axis in ``rig.up_axis``); NaN where fewer than
  ``options["min_views"]`` views agree.
* ``reprojection_px`` (F, J, V) float32: distance in the view's (distorted)
  pixels between its swap-corrected keypoint and the projected 3D point;
  NaN where either is missing.
* ``used`` (F, J, V) bool: views the consensus used for the point.
* ``swapped`` (F, V) bool: frames whose left/right labels were exchanged.

Per-view 2D keypoints are the ``poses2d`` of the job's
:class:`~neuropose.schemas.VideoPredictions` named by
:attr:`ViewLink.video`, frame ``f`` of the reference corresponding to that
video's frame ``f + offset_frames``.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field, model_validator

from neuropose.schemas.base import FrozenModel, array_field
from neuropose.schemas.rig import CameraRig
from neuropose.schemas.skeleton import Skeleton

__all__ = ["Triangulation", "ViewLink"]

JsonScalar = str | int | float | bool | None


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


class Triangulation(FrozenModel):
    """World-frame 3D of one subject triangulated from several calibrated views.

    See the module docstring for the arrays' layout and units.
    """

    rig: CameraRig
    views: tuple[ViewLink, ...] = Field(min_length=2)
    skeleton: Skeleton
    options: dict[str, JsonScalar] = Field(default_factory=dict)
    timestamp_s: array_field("float64", 1)  # type: ignore[valid-type]
    points_mm: array_field("float32", 3, (3,))  # type: ignore[valid-type]
    reprojection_px: array_field("float32", 3)  # type: ignore[valid-type]
    used: array_field("bool", 3)  # type: ignore[valid-type]
    swapped: array_field("bool", 2)  # type: ignore[valid-type]
    bone_length_cv: dict[str, float | None] = Field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _check(self) -> Triangulation:
        f, j, v = self.timestamp_s.shape[0], len(self.skeleton.joints), len(self.views)
        for name, arr, want in (
            ("points_mm", self.points_mm, (f, j, 3)),
            ("reprojection_px", self.reprojection_px, (f, j, v)),
            ("used", self.used, (f, j, v)),
            ("swapped", self.swapped, (f, v)),
        ):
            if arr.shape != want:
                raise ValueError(f"{name} has shape {list(arr.shape)}, expected {list(want)}")
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
