"""Quality checks of a reconstruction: per-camera agreement, bad cameras, bone lengths."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from neuropose.multiview.triangulate import Reconstruction
from neuropose.schemas.rig import RigCamera
from neuropose.schemas.skeleton import Skeleton
from neuropose.segments import length_cv, segment_lengths

__all__ = [
    "CameraCheck",
    "bone_length_cv",
    "camera_checks",
    "suspect_cameras",
]


@dataclass(frozen=True)
class CameraCheck:
    """Agreement of one camera with the reconstruction.

    Attributes
    ----------
    name : str
    median_reprojection_px : float
        Median over its observed keypoints that have a 3D point (px).
    inlier_rate : float
        Fraction of its observed keypoints (where a 3D point exists) that
        the consensus used.
    swaps : int
        Frames whose left/right labels were exchanged.
    behind_or_outside : float
        Fraction of 3D points behind the camera or projecting outside its
        image (a camera looking away from the volume).
    all_views_px : float
        Median error against points triangulated from all views, before
        rejection (px).
    leave_one_out_px : float
        Median error against points triangulated from the other views (px);
        NaN with fewer than three views.
    """

    name: str
    median_reprojection_px: float
    inlier_rate: float
    swaps: int
    behind_or_outside: float
    all_views_px: float = float("nan")
    leave_one_out_px: float = float("nan")


def camera_checks(rec: Reconstruction, cams: Sequence[RigCamera]) -> list[CameraCheck]:
    """One :class:`CameraCheck` per view of ``rec``."""
    out = []
    pts = rec.points_mm.reshape(-1, 3)
    finite = np.all(np.isfinite(pts), axis=1)
    for v, cam in enumerate(cams):
        err = rec.reprojection_px[..., v]
        seen = rec.observed[..., v] & rec.agreed
        med = _median(err[seen])
        rate = float(rec.used[..., v][seen].mean()) if np.any(seen) else float("nan")
        away = float("nan")
        if np.any(finite):
            p = pts[finite]
            depth = p @ cam.R[2] + cam.t[2]
            proj = cam.project(p)
            inside = (
                (depth > 0)
                & (proj[:, 0] >= 0)
                & (proj[:, 0] < cam.width)
                & (proj[:, 1] >= 0)
                & (proj[:, 1] < cam.height)
            )
            away = float(1 - inside.mean())
        out.append(
            CameraCheck(
                cam.name,
                med,
                rate,
                int(rec.swapped[:, v].sum()),
                away,
                _median(rec.all_views_px[..., v]),
                _median(rec.leave_one_out_px[..., v]),
            )
        )
    return out


def _median(a: np.ndarray) -> float:
    a = a[np.isfinite(a)]
    return float(np.median(a)) if a.size else float("nan")


def suspect_cameras(checks: Sequence[CameraCheck], gate_px: float) -> list[str]:
    """Sentences naming cameras whose calibration (or video pairing) looks wrong.

    Rules: a camera with most 3D points behind it or outside its image; with
    three or more cameras, one the consensus rejects for most keypoints
    while the others are used, or whose leave-one-out error (against the
    point the other views triangulate) is above the gate and at least twice
    every other camera's; with two, an all-views median error above the
    gate (then both are named: two views cannot tell which one is wrong).

    Examples
    --------
    >>> ok = CameraCheck("cam1", 3.0, 0.98, 0, 0.0, 3.0, 12.0)
    >>> bad = CameraCheck("cam3", 95.0, 0.05, 0, 0.0, 40.0, 95.0)
    >>> print(*suspect_cameras([ok, ok, bad], gate_px=20))  # doctest: +ELLIPSIS
    camera cam3 disagrees with the others: median 95.0 px from the point they triangulate ...
    """
    msgs = []
    for c in checks:
        if c.behind_or_outside > 0.5:
            msgs.append(
                f"camera {c.name} looks away from the reconstructed volume: "
                f"{c.behind_or_outside:.0%} of 3D points behind it or outside its image"
            )
    loo = [c for c in checks if np.isfinite(c.leave_one_out_px)]
    if len(loo) >= 3:
        for c in loo:
            worst_other = max(o.leave_one_out_px for o in loo if o is not c)
            others_used = np.median([o.inlier_rate for o in loo if o is not c])
            rejected = c.inlier_rate < 0.5 and others_used >= 0.7
            if rejected or (c.leave_one_out_px > gate_px and c.leave_one_out_px >= 2 * worst_other):
                msgs.append(
                    f"camera {c.name} disagrees with the others: median "
                    f"{c.leave_one_out_px:.1f} px from the point they triangulate (others <= "
                    f"{worst_other:.1f} px), {c.inlier_rate:.0%} of its keypoints used"
                )
    elif len(checks) == 2 and all(c.all_views_px > gate_px for c in checks):
        a, b = checks
        msgs.append(
            f"cameras {a.name} and {b.name} disagree (median reprojection "
            f"{a.all_views_px:.1f} / {b.all_views_px:.1f} px, gate {gate_px:g} px): one "
            "calibration or video pairing is wrong; with two views it cannot be told which"
        )
    return msgs


def bone_length_cv(points_mm: np.ndarray, skeleton: Skeleton) -> dict[str, float]:
    """Coefficient of variation (std / mean, over frames) of each clinical segment's length.

    The segments and the CV are :mod:`neuropose.segments`' (one definition
    with the quality report).

    Parameters
    ----------
    points_mm : ndarray, shape (F, J, 3)
        World-frame joint positions (mm); NaN where not triangulated.
    skeleton : Skeleton
        Skeleton of ``points_mm``.

    Returns
    -------
    dict
        Segment -> CV (dimensionless); NaN with fewer than 2 frames where both
        ends exist. Segments the skeleton lacks are left out.

    Examples
    --------
    >>> from neuropose.skeletons import BLAZEPOSE_33
    >>> p = np.zeros((2, 33, 3)); p[:, 25, 2] = [400, 440]   # left knee, 400/440 mm below hip
    >>> round(bone_length_cv(p, BLAZEPOSE_33)["left_thigh"], 4)
    0.0476
    """
    return {
        name: length_cv(lengths) for name, lengths in segment_lengths(points_mm, skeleton).items()
    }
