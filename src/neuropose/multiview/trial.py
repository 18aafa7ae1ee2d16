"""A multi-view trial: per-view predictions + a rig -> a ``Triangulation``.

This is the glue between the estimator's per-video results and the
numerical core: pairing videos with cameras, checking frame rates and image
sizes, aligning frames (container start times, user offsets, estimated
residual offsets), then triangulating and collecting the QC figures.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import PurePath
from typing import Any

import numpy as np

from neuropose.errors import InputError
from neuropose.multiview.associate import associate_detections
from neuropose.multiview.calibration import fit_camera_to_image
from neuropose.multiview.geometry import mirror_permutation, undistort_normalized
from neuropose.multiview.qc import (
    LENGTH_TOLERANCE,
    SegmentCheck,
    bone_length_cv,
    camera_checks,
    check_segment_lengths,
    suspect_cameras,
)
from neuropose.multiview.sync import estimate_offsets, shift_frames
from neuropose.multiview.triangulate import (
    TriangulationOptions,
    normalize_views,
    triangulate_views,
)
from neuropose.schemas.predictions import VideoPredictions
from neuropose.schemas.rig import CameraRig, RigCamera
from neuropose.schemas.skeleton import Skeleton
from neuropose.schemas.triangulation import (
    POINT_IMPLAUSIBLE,
    POINT_TOO_FEW_VIEWS,
    POINT_TRIANGULATED,
    ExcludedPoint,
    SegmentLength,
    Triangulation,
    ViewLink,
)

__all__ = ["TrialOptions", "pair_videos_with_cameras", "triangulate_trial"]

#: Relative frame-rate difference above which views are refused.
FPS_TOLERANCE = 0.005


@dataclass(frozen=True)
class TrialOptions:
    """How to align and triangulate a trial.

    Attributes
    ----------
    triangulation : TriangulationOptions
    offsets : mapping of camera name -> int
        User-given offsets (frames, see :mod:`neuropose.multiview.sync`);
        these views are not searched.
    sync_search : int
        Half-width (frames) of the residual offset search; 0 disables it.
    sync_window : int
        Reference frames used by the search (from the start).
    plausibility : bool
        Exclude triangulated joints whose limb segments' lengths are
        implausible (:func:`~neuropose.multiview.qc.check_segment_lengths`).
    length_tolerance : float
        Relative deviation from the trial's median segment length beyond
        which a segment is implausible (default
        :data:`~neuropose.multiview.qc.LENGTH_TOLERANCE`).
    """

    triangulation: TriangulationOptions = field(default_factory=TriangulationOptions)
    offsets: Mapping[str, int] = field(default_factory=dict)
    sync_search: int = 0
    sync_window: int = 600
    plausibility: bool = True
    length_tolerance: float = LENGTH_TOLERANCE

    def __post_init__(self) -> None:
        if not self.length_tolerance > 0:
            raise ValueError(f"length_tolerance must be positive, got {self.length_tolerance}")

    def as_record(self) -> dict[str, str | int | float | bool | None]:
        """Flat JSON-able record of every option (stored in the results)."""
        rec: dict[str, str | int | float | bool | None] = dict(asdict(self.triangulation))
        rec["sync_search"] = self.sync_search
        rec["sync_window"] = self.sync_window
        rec["plausibility"] = self.plausibility
        rec["length_tolerance"] = self.length_tolerance
        rec["user_offsets"] = ",".join(f"{k}={v}" for k, v in sorted(self.offsets.items()))
        return rec


def pair_videos_with_cameras(
    videos: Sequence[str], rig: CameraRig, mapping: Mapping[str, str] | None = None
) -> list[str]:
    """Camera name of each video.

    A video is paired through ``mapping`` (keys: file name or stem), else
    with the camera whose name equals its stem, else with the one camera
    whose name appears in its stem.

    Raises
    ------
    InputError
        A video maps to no camera or to an unknown one, or two videos map
        to the same camera.

    Examples
    --------
    >>> from neuropose.multiview.synthetic import ring_rig
    >>> pair_videos_with_cameras(["trial_cam2.mp4", "cam1.mp4"], ring_rig(2))
    ['cam2', 'cam1']
    """
    mapping = dict(mapping or {})
    out = []
    for v in videos:
        stem = PurePath(v).name.split(".")[0]
        cam = mapping.get(v, mapping.get(PurePath(v).name, mapping.get(stem)))
        if cam is None:
            hits = [c for c in rig.names if c == stem] or [
                c for c in rig.names if c.lower() in stem.lower()
            ]
            longest = max((len(c) for c in hits), default=0)
            hits = [c for c in hits if len(c) == longest]
            if len(hits) != 1:
                raise InputError(
                    f"video {v}: cannot tell which camera filmed it (rig cameras: "
                    f"{', '.join(rig.names)})",
                    hint="pass --camera-map VIDEO=CAMERA for each video",
                )
            cam = hits[0]
        if cam not in rig.names:
            raise InputError(
                f"video {v} is mapped to camera {cam!r}, which is not in the calibration "
                f"(cameras: {', '.join(rig.names)})"
            )
        out.append(cam)
    dup = sorted({c for c in out if out.count(c) > 1})
    if dup:
        raise InputError(f"several videos map to camera(s) {', '.join(dup)}")
    return out


def _model_2d(vp: VideoPredictions) -> tuple[np.ndarray, np.ndarray]:
    """The model's own 2D keypoints (N, J, 2) px and confidences (N, J) of every detection.

    Triangulation starts from what the model saw in each view, before the
    monocular refinement (left/right relabelling, one-euro smoothing): the
    multi-view swap test and the reprojection gate decide with geometry what
    the monocular stage can only guess from continuity.
    """
    px = vp.poses2d if vp.poses2d_raw is None else vp.poses2d_raw
    conf = vp.confidence if vp.confidence_raw is None else vp.confidence_raw
    return np.asarray(px), (np.ones(px.shape[:2]) if conf is None else np.asarray(conf))


def _track_2d(vp: VideoPredictions) -> tuple[np.ndarray, np.ndarray]:
    """Primary track's 2D keypoints (F, J, 2) px and confidences (F, J); NaN where absent."""
    _, rows = vp.track()
    model_px, model_conf = _model_2d(vp)
    j = len(vp.skeleton.joints)
    pts = np.full((vp.num_frames, j, 2), np.nan)
    conf = np.full((vp.num_frames, j), np.nan)
    have = rows >= 0
    pts[have] = model_px[rows[have]]
    conf[have] = model_conf[rows[have]]
    return pts, conf


def _associate(
    vp: VideoPredictions,
    k: int,
    ref: tuple[np.ndarray, np.ndarray],
    cams: tuple[RigCamera, RigCamera],
    perm: np.ndarray,
    min_conf: float,
) -> tuple[np.ndarray, np.ndarray, int]:
    """The reference subject's detections in ``vp`` (aligned), and frames off its primary track."""
    ref_px, ref_conf = ref
    n_frames = ref_px.shape[0]
    model_px, cand_conf = _model_2d(vp)
    ref_xn = undistort_normalized(
        np.where((ref_conf >= min_conf)[..., None], ref_px, np.nan), cams[0]
    )
    cand_px = np.where((cand_conf >= min_conf)[..., None], model_px, np.nan)
    chosen = associate_detections(
        ref_xn, undistort_normalized(cand_px, cams[1]), vp.det_frame - k, cams, perm
    )
    have = chosen >= 0
    pts = np.full((n_frames, *model_px.shape[1:]), np.nan)
    conf = np.full((n_frames, model_px.shape[1]), np.nan)
    pts[have] = model_px[chosen[have]]
    conf[have] = cand_conf[chosen[have]]
    reassigned = int(np.sum(vp.track_id[chosen[have]] != vp.primary_track_id))
    return pts, conf, reassigned


def _check_views(views: Sequence[VideoPredictions]) -> float:
    skel = views[0].skeleton
    for vp in views[1:]:
        if vp.skeleton != skel:
            raise InputError(
                f"videos {views[0].video} and {vp.video} use different skeletons "
                f"({skel.name} vs {vp.skeleton.name})",
                hint="process every view with the same model",
            )
    rates = [vp.metadata.fps_reported or 0.0 for vp in views]
    ref = rates[0]
    for vp, r in zip(views, rates, strict=True):
        if not r or not ref or abs(r - ref) > FPS_TOLERANCE * ref:
            raise InputError(
                f"video {vp.video} runs at {r:g} fps but {views[0].video} at {ref:g} fps; "
                "views with different frame rates cannot be triangulated frame by frame",
                hint="resample the videos to one frame rate (e.g. ffmpeg -r) first",
            )
    return ref


def triangulate_trial(
    views: Sequence[VideoPredictions],
    rig: CameraRig,
    *,
    cameras: Sequence[str] | None = None,
    options: TrialOptions | None = None,
) -> Triangulation:
    """Triangulate one subject seen in synchronised views of one trial.

    The subject is the first view's primary track; in views with several
    tracks it is found per frame by :func:`~neuropose.multiview.associate.associate_detections`.

    Parameters
    ----------
    views : sequence of VideoPredictions
        At least two; the first is the time reference.
    rig : CameraRig
        Calibration (cameras are fitted to each video's size).
    cameras : sequence of str, optional
        Camera of each view (default: :func:`pair_videos_with_cameras`).
    options : TrialOptions, optional

    Raises
    ------
    InputError
        Fewer than two views, differing skeletons or frame rates, a video
        whose size does not fit its camera, an unknown camera.
    """
    opt = options or TrialOptions()
    if len(views) < 2:
        raise InputError(f"triangulation needs at least two views, got {len(views)}")
    fps = _check_views(views)
    names = (
        list(cameras)
        if cameras is not None
        else pair_videos_with_cameras([v.video for v in views], rig)
    )
    unknown = sorted(set(opt.offsets) - set(names))
    if unknown:
        raise InputError(
            f"offset given for camera(s) {', '.join(unknown)} not in this trial "
            f"(cameras: {', '.join(names)})"
        )
    warnings: list[str] = []
    cams, notes = [], list(rig.notes)
    for vp, name in zip(views, names, strict=True):
        cam, note = fit_camera_to_image(rig.camera(name), vp.metadata.width, vp.metadata.height)
        cams.append(cam)
        if note:
            notes.append(note)
    fitted = rig.model_copy(update={"cameras": tuple(cams), "notes": tuple(notes)})
    n_frames = views[0].num_frames
    t0 = float(views[0].timestamp_s[0]) if n_frames else 0.0
    pts, conf = [], []
    links: list[dict[str, Any]] = []
    for i, (vp, cam) in enumerate(zip(views, cams, strict=True)):
        p, c = _track_2d(vp)
        start = round((float(vp.timestamp_s[0]) - t0) * fps) if vp.num_frames else 0
        k, source = -start, "reference" if i == 0 else "none"
        if cam.name in opt.offsets:
            k, source = int(opt.offsets[cam.name]), "user"
        pad = max(n_frames - p.shape[0], 0)
        p = np.concatenate([p, np.full((pad, *p.shape[1:]), np.nan)])
        c = np.concatenate([c, np.full((pad, c.shape[1]), np.nan)])
        pts.append(shift_frames(p, k)[:n_frames])
        conf.append(shift_frames(c, k)[:n_frames])
        links.append(
            {"video": vp.video, "camera": cam.name, "offset_frames": k, "offset_source": source}
        )
    perm = mirror_permutation(views[0].skeleton.joints)
    topt = opt.triangulation
    for v in range(1, len(views)):
        if np.unique(views[v].track_id).size > 1:
            pts[v], conf[v], links[v]["reassigned_frames"] = _associate(
                views[v],
                links[v]["offset_frames"],
                (pts[0], conf[0]),
                (cams[0], cams[v]),
                perm,
                topt.min_confidence,
            )
    points_px, confidence = np.stack(pts), np.stack(conf)
    if opt.sync_search > 0:
        xn, _ = normalize_views(points_px, confidence, cams, topt.min_confidence)
        est = estimate_offsets(xn, cams, perm, opt.sync_search, window=slice(0, opt.sync_window))
        for v in range(1, len(views)):
            if links[v]["offset_source"] == "user":
                continue
            e = est[v]
            links[v].update(
                offset_frames=links[v]["offset_frames"] + e.frames,
                offset_source="estimated",
                offset_subframe=_finite(links[v]["offset_frames"] + e.subframe),
                offset_contrast=_finite(e.contrast),
            )
            points_px[v] = shift_frames(points_px[v], e.frames)
            confidence[v] = shift_frames(confidence[v], e.frames)
            if np.isfinite(e.contrast) and e.contrast < 1.2:
                warnings.append(
                    f"camera {cams[v].name}: time offset not identifiable (cost contrast "
                    f"{e.contrast:.2f}); kept {links[v]['offset_frames']} frames"
                )
    for v, cam in enumerate(cams):
        seen = (confidence[v] >= topt.min_confidence) & np.all(np.isfinite(points_px[v]), axis=-1)
        if not np.any(seen):
            warnings.append(
                f"camera {cam.name}: no keypoint of the subject above confidence "
                f"{topt.min_confidence:g} in the trial's frames"
            )
    rec = triangulate_views(points_px, confidence, cams, perm, topt)
    checks = camera_checks(rec, cams)
    warnings.extend(suspect_cameras(checks, topt.gate_px))
    for link, chk in zip(links, checks, strict=True):
        link.update(
            swaps=chk.swaps,
            median_reprojection_px=_finite(chk.median_reprojection_px),
            inlier_rate=_finite(chk.inlier_rate),
            behind_or_outside=_finite(chk.behind_or_outside),
        )
    skel = views[0].skeleton
    kept = _Kept(rec.points_mm, rec.agreed, skel, opt)
    warnings.extend(kept.warnings)
    points = kept.points_mm
    return Triangulation(
        rig=fitted,
        views=tuple(ViewLink(**link) for link in links),
        skeleton=skel,
        options=opt.as_record(),
        timestamp_s=views[0].timestamp_s,
        points_mm=points,
        reprojection_px=rec.reprojection_px,
        used=rec.used,
        swapped=rec.swapped,
        point_status=kept.status,
        bone_length_cv={k: _finite(v) for k, v in bone_length_cv(points, skel).items()},
        bone_length_cv_before_exclusion={
            k: _finite(v) for k, v in bone_length_cv(rec.points_mm, skel).items()
        },
        implausible=kept.counts,
        excluded=kept.excluded,
        warnings=tuple(warnings),
    )


class _Kept:
    """The triangulated points after the plausibility check, and what it excluded."""

    def __init__(
        self, points_mm: np.ndarray, agreed: np.ndarray, skeleton: Skeleton, opt: TrialOptions
    ) -> None:
        self.points_mm = points_mm
        self.status = np.where(agreed, POINT_TRIANGULATED, POINT_TOO_FEW_VIEWS).astype(np.uint8)
        self.excluded: tuple[ExcludedPoint, ...] = ()
        self.counts: dict[str, int] = {}
        self.warnings: list[str] = []
        if not opt.plausibility:
            return
        chk = check_segment_lengths(points_mm, skeleton, opt.length_tolerance)
        self.points_mm = np.where(chk.blamed[..., None], np.nan, points_mm)
        self.status[chk.blamed] = POINT_IMPLAUSIBLE
        self.excluded = _excluded_points(chk, points_mm, skeleton)
        self.counts = chk.counts()
        self.warnings = _implausible_warnings(chk, skeleton, opt.length_tolerance)


def _excluded_points(
    chk: SegmentCheck, points_mm: np.ndarray, skeleton: Skeleton
) -> tuple[ExcludedPoint, ...]:
    """One record per blamed joint and frame, with the lengths that condemned it."""
    return tuple(
        ExcludedPoint(
            frame=f,
            joint=skeleton.joints[j],
            position_mm=tuple(float(x) for x in points_mm[f, j]),
            segments=tuple(
                SegmentLength(
                    segment=s,
                    length_mm=float(chk.lengths_mm[s][f]),
                    reference_mm=chk.reference_mm[s],
                )
                for s in segs
            ),
        )
        for (f, j), segs in sorted(chk.blame.items())
    )


def _implausible_warnings(chk: SegmentCheck, skeleton: Skeleton, tolerance: float) -> list[str]:
    """One sentence per segment with implausible frames: how many, the worst, what was dropped."""
    out = []
    for s, flags in chk.implausible.items():
        frames = np.nonzero(flags)[0]
        if frames.size == 0:
            continue
        ref = chk.reference_mm[s]
        dev = np.abs(chk.lengths_mm[s][frames] / ref - 1)
        worst = int(frames[np.argmax(dev)])
        dropped: dict[str, int] = {}
        for (_, j), segs in chk.blame.items():
            if s in segs:
                dropped[skeleton.joints[j]] = dropped.get(skeleton.joints[j], 0) + 1
        joints = ", ".join(f"{n} in {k} frame(s)" for n, k in sorted(dropped.items()))
        out.append(
            f"segment {s}: {frames.size} frame(s) off the trial's median length "
            f"{ref:.0f} mm by more than {tolerance:.0%} (worst {chk.lengths_mm[s][worst]:.0f} mm "
            f"in frame {worst}); excluded as implausible: {joints}"
        )
    return out


def _finite(x: float) -> float | None:
    return float(x) if x is not None and math.isfinite(x) else None
