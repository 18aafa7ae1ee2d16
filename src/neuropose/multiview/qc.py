"""Quality checks of a reconstruction: per-camera agreement, bad cameras, bone lengths.

Bone-length plausibility (:func:`check_segment_lengths`) finds the
triangulated joints that reprojection cannot: with two views a 2D error
along the epipolar line reprojects within the gate in both views yet moves
the point far in depth; only the body's own rigidity shows it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from neuropose.multiview.triangulate import Reconstruction
from neuropose.schemas.rig import RigCamera
from neuropose.schemas.skeleton import Skeleton
from neuropose.segments import CLINICAL_SEGMENTS, length_cv, segment_lengths
from neuropose.skeletons import UnsupportedJointError, canonical_indices, canonical_joint

__all__ = [
    "LENGTH_TOLERANCE",
    "MIN_REFERENCE_FRAMES",
    "CameraCheck",
    "SegmentCheck",
    "bone_length_cv",
    "camera_checks",
    "check_segment_lengths",
    "suspect_cameras",
]

#: Default relative deviation of a segment's length from the trial's median
#: beyond which it is implausible. A rigid segment's true length does not
#: change; keypoint-defined joint centres move with pose by a few percent
#: (lab trial, correct frames: per-segment CV 3-9 %, 99th percentile of the
#: deviation 8-29 %), so 30 % is above every correct frame of the lab trial
#: and ~6 standard deviations of a 4 px-noise two-camera reconstruction,
#: while a 300 mm depth error of one joint changes its segments by 40 % or
#: more (docs/multiview.md, "Implausible limbs").
LENGTH_TOLERANCE = 0.3

#: Rigid trunk edges (canonical joints) that vouch for a shoulder or hip in
#: :func:`check_segment_lengths`: they are judged like the clinical segments
#: but are not reported, and only help tell which end of an implausible
#: limb segment is wrong.
TRUNK_WITNESSES: dict[str, tuple[str, str]] = {
    "shoulder_width": ("left_shoulder", "right_shoulder"),
    "hip_width": ("left_hip", "right_hip"),
    "left_trunk": ("left_shoulder", "left_hip"),
    "right_trunk": ("right_shoulder", "right_hip"),
}

#: Fewest frames a segment must be measured in for its median length to be
#: a reference; shorter trials are not checked for that segment.
MIN_REFERENCE_FRAMES = 10


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


@dataclass(frozen=True)
class SegmentCheck:
    """Clinical segment lengths of a reconstruction judged against the trial's own.

    Attributes
    ----------
    lengths_mm : dict of str to ndarray, shape (F,)
        Segment -> length per frame (mm); NaN where an end is missing.
    reference_mm : dict of str to float
        Segment -> median length over the frames where it is measured (mm);
        NaN when measured in fewer than ``min_frames`` frames (not checked).
    implausible : dict of str to ndarray, shape (F,), bool
        Frames where the length is off the reference by more than the
        tolerance (relative).
    blamed : ndarray, shape (F, J), bool
        Joints held responsible (see :func:`check_segment_lengths`).
    blame : dict of (int, int) to tuple of str
        ``(frame, joint index)`` of every blamed joint -> the implausible
        segments of that joint in that frame.
    """

    lengths_mm: dict[str, np.ndarray]
    reference_mm: dict[str, float]
    implausible: dict[str, np.ndarray]
    blamed: np.ndarray
    blame: dict[tuple[int, int], tuple[str, ...]]

    def counts(self) -> dict[str, int]:
        """Frames flagged per checked segment (segments without a reference left out)."""
        return {
            s: int(flags.sum())
            for s, flags in self.implausible.items()
            if np.isfinite(self.reference_mm[s])
        }


def check_segment_lengths(
    points_mm: np.ndarray,
    skeleton: Skeleton,
    tolerance: float = LENGTH_TOLERANCE,
    min_frames: int = MIN_REFERENCE_FRAMES,
) -> SegmentCheck:
    """Flag implausible clinical segment lengths and the joints responsible.

    A segment (:data:`neuropose.segments.CLINICAL_SEGMENTS`) is implausible
    in frame ``f`` when ``|L_f / M - 1| > tolerance``, ``M`` being its
    median length over the trial's frames (robust to the few bad frames
    this looks for). The rigid trunk edges of :data:`TRUNK_WITNESSES` are
    judged the same way but only as witnesses. In each frame the joints
    responsible are blamed:

    1. a joint with at least two measured segments (limb or trunk), all
       implausible, is blamed and explains its segments (a wrong elbow
       lengthens upper arm and forearm; shoulder and wrist are kept);
    2. for any other implausible limb segment, an end is *vouched for* when
       its other segments are measured and all within half the tolerance.
       Each end not vouched for is blamed (a wrong wrist: the upper arm
       vouches for the elbow, nothing for the wrist). When both ends are
       vouched for, the end whose other segments deviate more (mean
       relative deviation) is blamed: a joint moved in depth changes all
       its segments, some by less than the tolerance (a knee moved 300 mm
       along a camera's ray lengthened the thigh by 37 % but the shank by
       6 %), while the correct end's other segments show
       only noise. Ties blame both.

    Tested on two virtual cameras with 4 px noise: an elbow, wrist,
    shoulder, knee or ankle moved 300 mm along a camera's ray is the only
    joint blamed (tests/multiview/test_plausibility.py).

    Parameters
    ----------
    points_mm : ndarray, shape (F, J, 3)
        Joint positions (mm), NaN where absent.
    skeleton : Skeleton
        Skeleton of ``points_mm``; segments it lacks are not checked.
    tolerance : float
        Relative deviation allowed (0.3 = 30 %).
    min_frames : int
        Frames a segment must be measured in to be checked.

    Returns
    -------
    SegmentCheck

    Examples
    --------
    >>> from neuropose.multiview.synthetic import walking_motion
    >>> from neuropose.skeletons import BLAZEPOSE_33
    >>> p = walking_motion(20)
    >>> p[7, 13] += (0.0, -300.0, 0.0)      # left elbow 300 mm off in frame 7
    >>> chk = check_segment_lengths(p, BLAZEPOSE_33)
    >>> [(f, BLAZEPOSE_33.joints[j]) for f, j in chk.blame]
    [(7, 'left_elbow')]
    >>> int(chk.blamed.sum())
    1
    >>> chk.blame[(7, 13)], chk.counts()["left_upper_arm"]
    (('left_upper_arm', 'left_forearm'), 1)
    """
    if not tolerance > 0:
        raise ValueError(f"tolerance must be positive, got {tolerance}")
    lengths = segment_lengths(points_mm, skeleton)
    n_frames, n_joints = points_mm.shape[:2]
    edges = {s: CLINICAL_SEGMENTS[s] for s in lengths}
    all_lengths = dict(lengths)
    for name, (a, b) in TRUNK_WITNESSES.items():
        try:
            pa, pb = (canonical_joint(points_mm, skeleton, e) for e in (a, b))
        except UnsupportedJointError:
            continue
        all_lengths[name] = np.linalg.norm(pa - pb, axis=-1)
        edges[name] = (a, b)
    ref: dict[str, float] = {}
    dev: dict[str, np.ndarray] = {}  # |L / M - 1|, NaN where not measured or no reference
    for s, length in all_lengths.items():
        measured = np.isfinite(length)
        m = float(np.median(length[measured])) if measured.sum() >= min_frames else float("nan")
        ref[s] = m
        dev[s] = np.abs(length / m - 1) if m > 0 else np.full(n_frames, np.nan)
    bad = {s: np.nan_to_num(d, nan=0.0) > tolerance for s, d in dev.items()}
    ends: dict[str, list[str]] = {}
    for s, (a, b) in edges.items():
        ends.setdefault(a, []).append(s)
        ends.setdefault(b, []).append(s)
    confirmed = {}
    for joint, segs in ends.items():
        n_measured = np.sum([np.isfinite(dev[s]) for s in segs], axis=0)
        n_bad = np.sum([bad[s] for s in segs], axis=0)
        confirmed[joint] = (n_measured >= 2) & (n_bad == n_measured)
    guilty = {j: np.zeros(n_frames, bool) for j in ends}
    for s in lengths:
        a, b = edges[s]
        for end in (a, b):
            guilty[end] |= bad[s] & confirmed[end]
        open_ = bad[s] & ~confirmed[a] & ~confirmed[b]
        if not np.any(open_):
            continue
        (va, ea), (vb, eb) = (_vouch(dev, ends[e], s, tolerance) for e in (a, b))
        both = va & vb
        guilty[a] |= open_ & (~va | (both & (ea >= eb)))
        guilty[b] |= open_ & (~vb | (both & (eb >= ea)))
    blamed = np.zeros((n_frames, n_joints), bool)
    blame: dict[tuple[int, int], tuple[str, ...]] = {}
    for joint, flags in guilty.items():
        idx = canonical_indices(skeleton, joint)
        for f in np.nonzero(flags)[0]:
            flagged = tuple(s for s in lengths if joint in edges[s] and bad[s][f])
            for j in idx:
                blamed[f, j] = True
                blame[(int(f), j)] = flagged
    return SegmentCheck(
        lengths, {s: ref[s] for s in lengths}, {s: bad[s] for s in lengths}, blamed, blame
    )


def _vouch(
    dev: dict[str, np.ndarray], segs: list[str], flagged: str, tolerance: float
) -> tuple[np.ndarray, np.ndarray]:
    """Whether a joint's other segments vouch for it (F,), and their mean deviation (F,).

    They vouch when at least one is measured and every measured one is
    within half the tolerance.
    """
    others = np.array([dev[s] for s in segs if s != flagged]).reshape(-1, dev[flagged].size)
    measured = np.isfinite(others)
    n = measured.sum(axis=0)
    clean = np.all(~measured | (np.nan_to_num(others) <= tolerance / 2), axis=0)
    mean = np.where(n > 0, np.nansum(others, axis=0) / np.maximum(n, 1), 0.0)
    return (n > 0) & clean, mean
