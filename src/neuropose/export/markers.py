"""Markers for OpenSim: Pose2Sim's BlazePose names, Y-up metres, and the gap policy.

OpenSim's ``.trc`` holds marker positions in **metres** in a **Y-up** world
frame and has no notion of a missing value that every tool honours, so the
markers are prepared once here and shared by the ``.trc`` and ``.mot``
writers.

Frame
-----
Monocular results are in camera axes (x right, y down, z forward). They are
rotated into OpenSim's convention: **Y** = the up axis estimated from the
recording (:func:`neuropose.analyzer.estimate_up_axis`: ground plane through
the feet, or the median body axis), **X** = the subject's median facing
direction projected on the horizontal plane (left hip → right hip crossed
with up), **Z** = X × Y (the subject's right). The origin is moved so that
the median pelvis lies on X = Z = 0 and the ground (2nd percentile of heel
and toe heights) at Y = 0. Every number of this transform is recorded.

Gap policy
----------
1. Each marker's interior gaps of at most ``max_gap`` frames are filled by
   linear interpolation in time (the analyzer's policy,
   :func:`neuropose.analyzer.interpolate_gaps`).
2. A marker with no finite sample is dropped, with a warning and a record.
3. Frames before the first and after the last frame where every remaining
   marker is present are trimmed (the file starts at the true timestamp of
   its first frame).
4. A longer interior gap is refused (:class:`LongGapError`, naming the
   marker and times) or, with ``on_long_gap="split"``, the recording is
   split into gap-free segments written as separate files.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

from neuropose.analyzer.angles import UpAxis, estimate_up_axis
from neuropose.analyzer.filtering import interpolate_gaps
from neuropose.analyzer.load import JointNotFoundError, Trial
from neuropose.errors import InputError
from neuropose.export.base import ExportOptions
from neuropose.export.track import PoseTrack
from neuropose.gaps import contiguous_runs

__all__ = [
    "BLAZEPOSE_MARKERS",
    "LongGapError",
    "OpenSimMarkers",
    "prepare_markers",
]

logger = logging.getLogger(__name__)

#: BlazePose landmark → marker name of Pose2Sim's ``Markers_BlazePose.xml``
#: (``LKnee`` spelt as in that marker set, not as Pose2Sim's skeleton table).
BLAZEPOSE_MARKERS: dict[str, str] = {
    "nose": "Nose",
    "left_eye": "LEye",
    "right_eye": "REye",
    **{
        f"{side}_{part}": f"{side[0].upper()}{name}"
        for side in ("left", "right")
        for part, name in (
            ("shoulder", "Shoulder"),
            ("elbow", "Elbow"),
            ("wrist", "Wrist"),
            ("pinky", "Pinky"),
            ("index", "Index"),
            ("thumb", "Thumb"),
            ("hip", "Hip"),
            ("knee", "Knee"),
            ("ankle", "Ankle"),
            ("heel", "Heel"),
            ("foot_index", "BigToe"),
        )
    },
}


class LongGapError(InputError):
    """A marker has an interior gap longer than the gap policy fills (exit code 2)."""


@dataclass(frozen=True)
class OpenSimMarkers:
    """Markers ready for OpenSim files.

    Attributes
    ----------
    names : tuple of str
        Marker names (Pose2Sim's for BlazePose, else the skeleton's joints).
    positions : ndarray, shape (F, M, 3)
        Metres, Y-up world frame (see module docstring); finite inside every
        segment.
    joints_filled : ndarray, shape (F, J, 3)
        All joints after gap filling, camera axes, millimetres (for angles).
    timestamps : ndarray, shape (F,)
        Seconds, from the container.
    segments : list of (int, int)
        Half-open frame ranges to write (one file each when split).
    up : UpAxis
        The up axis used.
    record : dict
        Frame transform, filled gaps, dropped markers, trimmed frames.
    """

    names: tuple[str, ...]
    positions: np.ndarray
    joints_filled: np.ndarray
    timestamps: np.ndarray
    segments: list[tuple[int, int]]
    up: UpAxis
    record: dict[str, Any]

    def trial(self, track: PoseTrack) -> Trial:
        """The gap-filled joints as an analyzer :class:`Trial` (for angles)."""
        base = track.trial()
        return Trial(
            poses=self.joints_filled,
            timestamps=self.timestamps,
            skeleton=base.skeleton,
            source=base.source,
            video=base.video,
            track_id=base.track_id,
            root_relative=base.root_relative,
            model_name=base.model_name,
            model_sha256=base.model_sha256,
            frame_index=base.frame_index,
        )


def _marker_map(track: PoseTrack) -> list[tuple[int, str]]:
    joints = track.joints
    if track.skeleton.name == "blazepose_33":
        return [(joints.index(j), m) for j, m in BLAZEPOSE_MARKERS.items()]
    return list(enumerate(joints))


def _median_unit(v: np.ndarray) -> np.ndarray | None:
    ok = np.isfinite(v).all(axis=1)
    if not ok.any():
        return None
    with np.errstate(invalid="ignore", divide="ignore"):
        u = v[ok] / np.linalg.norm(v[ok], axis=1, keepdims=True)
    m = np.median(u[np.isfinite(u).all(axis=1)], axis=0)
    n = float(np.linalg.norm(m))
    return m / n if n > 1e-9 else None


def world_rotation(trial: Trial, up: UpAxis) -> tuple[np.ndarray, str]:
    """Rotation (3, 3) whose rows are OpenSim's X (forward), Y (up), Z (right) in camera axes.

    Returns the matrix and how the forward direction was found
    (``"facing"`` from the hips, or ``"camera_forward"`` without hips).
    """
    y = up.vector
    forward = None
    method = "facing"
    try:
        left = trial.joint("left_hip") - trial.joint("right_hip")
        forward = _median_unit(np.cross(left, np.broadcast_to(y, left.shape)))
    except JointNotFoundError:
        forward = None
    if forward is None:
        forward, method = np.array([0.0, 0.0, 1.0]), "camera_forward"
    x = forward - (forward @ y) * y
    if np.linalg.norm(x) < 1e-6:  # facing along the up axis: use the camera's x
        x = np.array([1.0, 0.0, 0.0]) - y[0] * y
    x = x / np.linalg.norm(x)
    z = np.cross(x, y)
    return np.stack([x, y, z]), method


def _fill(track: PoseTrack, max_gap: int) -> tuple[np.ndarray, list[dict[str, Any]]]:
    out = np.empty_like(track.positions)
    records = []
    for j, name in enumerate(track.joints):
        out[:, j], rec = interpolate_gaps(track.positions[:, j], track.timestamps, max_gap=max_gap)
        if rec["result"]["filled_frames"]:
            records.append({"joint": name, **rec["result"]})
    return out, records


def prepare_markers(track: PoseTrack, options: ExportOptions) -> OpenSimMarkers:
    """Apply the frame transform and the gap policy (see the module docstring).

    Raises
    ------
    LongGapError
        ``on_long_gap="refuse"`` and an interior gap is longer than
        ``max_gap``; or no frame has every remaining marker.
    InputError
        The up axis cannot be estimated (no neck/pelvis data).
    """
    filled, fill_records = _fill(track, options.max_gap)
    trial = track.trial()
    up = estimate_up_axis(trial, method=options.up)
    rot, forward_method = world_rotation(trial, up)
    mapping = _marker_map(track)
    cam = filled[:, [j for j, _ in mapping]]
    world = np.einsum("ij,fmj->fmi", rot, cam) / 1000.0
    present = np.isfinite(world).all(axis=2)
    names = [m for _, m in mapping]
    dropped = [n for n, has in zip(names, present.any(axis=0), strict=True) if not has]
    for n in dropped:
        logger.warning("%s: marker %s has no data in any frame; dropped", track.video, n)
    keep = present.any(axis=0)
    world, present = world[:, keep], present[:, keep]
    names = [n for n, k in zip(names, keep, strict=True) if k]
    if not names:
        raise LongGapError(f"{track.job_id}/{track.video}: no marker has any data")
    origin = _origin(world, names)
    world = world - origin
    runs = contiguous_runs(present.all(axis=1))
    if not runs:
        raise LongGapError(
            f"{track.job_id}/{track.video}: no frame has all {len(names)} markers",
            hint="markers missing in every frame are dropped; check the detections",
        )
    t = track.timestamps
    if len(runs) > 1 and options.on_long_gap == "refuse":
        a, b = runs[0][1], runs[1][0]
        missing = [n for n, p in zip(names, present[a], strict=True) if not p]
        raise LongGapError(
            f"{track.job_id}/{track.video}: marker(s) {', '.join(missing)} missing from "
            f"{t[a]:.3f} s to {t[b - 1]:.3f} s ({b - a} frames), longer than the "
            f"{options.max_gap}-frame gap that is interpolated",
            hint="--on-long-gap split writes one file per gap-free segment; "
            "--max-gap N fills longer gaps",
        )
    segments = [r for r in runs if r[1] - r[0] >= options.min_segment_frames or len(runs) == 1]
    if not segments:
        raise LongGapError(
            f"{track.job_id}/{track.video}: no gap-free segment has "
            f"{options.min_segment_frames} frames",
        )
    record = {
        "units": "m",
        "axes": "OpenSim Y-up: X forward (subject's median facing), Y up, Z right",
        "source_frame": (
            "monocular camera frame rotated by the estimated up axis"
            if track.up is None or up.method != "calibration"
            else "calibrated world frame rotated so the calibration's up axis is Y"
        ),
        "up_axis": up.record(),
        "forward_from": forward_method,
        "rotation_rows_xyz_in_camera_axes": np.round(rot, 9).tolist(),
        "origin_subtracted_m": np.round(origin, 9).tolist(),
        "markers": names,
        "dropped_markers": dropped,
        "gaps_filled": fill_records,
        "segments": [
            {"frames": [a, b], "time_s": [float(t[a]), float(t[b - 1])]} for a, b in segments
        ],
        "skipped_frames": int(len(t) - sum(b - a for a, b in segments)),
    }
    return OpenSimMarkers(
        names=tuple(names),
        positions=world,
        joints_filled=filled,
        timestamps=t,
        segments=segments,
        up=up,
        record=record,
    )


def _origin(world: np.ndarray, names: list[str]) -> np.ndarray:
    """Median pelvis on X = Z = 0, ground (2nd percentile of foot heights) at Y = 0."""
    origin = np.zeros(3)
    hips = [names.index(n) for n in ("LHip", "RHip") if n in names]
    if len(hips) == 2:
        pelvis = world[:, hips].mean(axis=1)
        ok = np.isfinite(pelvis).all(axis=1)
        if ok.any():
            origin[[0, 2]] = np.median(pelvis[ok][:, [0, 2]], axis=0)
    feet = [names.index(n) for n in ("LHeel", "RHeel", "LBigToe", "RBigToe") if n in names]
    if feet:
        h = world[:, feet, 1]
        if np.isfinite(h).any():
            origin[1] = np.nanpercentile(h, 2)
    return origin
