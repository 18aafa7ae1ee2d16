"""Load one subject's predictions into dense arrays and look joints up by name.

A :class:`Trial` is the analyzer's unit of input: the poses of one subject of
one video as a dense ``(F, J, 3)`` float64 array in millimetres (camera axes:
x right, y down, z forward), the container timestamps of every decoded frame,
and the skeleton that names the joint axis. Frames on which the subject was
not detected are NaN rows, never an exception: a missed frame must not stop
an analysis.

Joints are addressed by canonical clinical name (``left_knee``, ``pelvis``,
``neck``, ``left_heel``, ``left_toe``...; see :mod:`neuropose.skeletons`) so
one analysis config works on BlazePose and MeTRAbs results alike.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from neuropose.errors import InputError
from neuropose.schemas import JobResults, SegmentationFile, Skeleton, VideoPredictions
from neuropose.skeletons import UnsupportedJointError, joint_position

__all__ = [
    "TRIANGULATED",
    "JointNotFoundError",
    "SubjectNotFoundError",
    "Trial",
    "load_results",
    "load_segmentations",
    "load_trial",
    "segmentations_path",
    "trial_from_arrays",
]


logger = logging.getLogger(__name__)

#: ``video`` name selecting a multi-camera trial's triangulated subject (world frame, mm).
TRIANGULATED = "triangulated"


class JointNotFoundError(InputError):
    """A joint name is neither canonical for the skeleton nor one of its joints."""


class SubjectNotFoundError(InputError):
    """The requested subject (track) or video is not in the results file."""


@dataclass(frozen=True)
class Trial:
    """One subject of one video, ready for analysis.

    Attributes
    ----------
    poses : ndarray, shape (F, J, 3), float64
        Joint positions in millimetres, camera axes (x right, y down,
        z forward). NaN where the subject was not detected.
    timestamps : ndarray, shape (F,), float64
        Container timestamp of every decoded frame, seconds.
    skeleton : Skeleton
        Names of the joint axis.
    source : str
        Where the data came from (file name and video), for reports.
    video : str
        Video name inside the results file.
    track_id : int or None
        The subject's track id.
    root_relative : bool
        True when positions are relative to the model's root joint (hip
        centre): absolute translation of the body is then unknown.
    model_name : str
        Pose model that produced the data.
    model_sha256 : str
        SHA-256 of that model's bytes.
    frame_index : ndarray, shape (F,), int
        Decoder frame numbers.
    up : ndarray, shape (3,), or None
        Up direction of the coordinate frame when a calibration gives it
        (triangulated trials: the world's up axis); None for camera-frame data.
    """

    poses: np.ndarray
    timestamps: np.ndarray
    skeleton: Skeleton
    source: str = "<arrays>"
    video: str = ""
    track_id: int | None = None
    root_relative: bool = True
    model_name: str = ""
    model_sha256: str = ""
    frame_index: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    up: np.ndarray | None = None

    @property
    def num_frames(self) -> int:
        """Number of frames F."""
        return int(self.poses.shape[0])

    @property
    def detected(self) -> np.ndarray:
        """Boolean (F,) mask of frames where the subject has any finite joint."""
        return np.isfinite(self.poses).any(axis=(1, 2))

    def joint(self, name: str) -> np.ndarray:
        """Positions of joint ``name``, shape (F, 3), mm (NaN where missing).

        ``name`` is looked up in the canonical clinical joint map of the
        skeleton first (so ``pelvis`` is the hip midpoint on BlazePose) and
        then among the skeleton's own joint names.

        Raises
        ------
        JointNotFoundError
            Naming the joint, the skeleton and what it provides.
        """
        return resolve_joint(self.poses, self.skeleton, name)

    def has_joint(self, name: str) -> bool:
        """True when :meth:`joint` can resolve ``name``."""
        try:
            self.joint(name)
        except JointNotFoundError:
            return False
        return True

    def describe(self) -> dict[str, Any]:
        """JSON-ready description for report provenance."""
        return {
            "source": self.source,
            "video": self.video,
            "track_id": self.track_id,
            "frames": self.num_frames,
            "detected_frames": int(self.detected.sum()),
            "root_relative": self.root_relative,
            "skeleton": self.skeleton.name,
            "model_name": self.model_name,
            "model_sha256": self.model_sha256,
        }


def resolve_joint(poses: np.ndarray, skeleton: Skeleton, name: str) -> np.ndarray:
    """Positions of joint ``name`` from ``poses`` (…, J, 3) of ``skeleton``.

    See :meth:`Trial.joint` for the lookup order
    (:func:`neuropose.skeletons.joint_position`).
    """
    try:
        return joint_position(poses, skeleton, name)
    except UnsupportedJointError as exc:
        raise JointNotFoundError(str(exc), hint=exc.hint) from None


def load_results(path: Path | str) -> JobResults:
    """Load and validate a results file, with the segmentations of its sidecar.

    Segmentations stored in ``<results>.segmentations.json`` (written by
    ``neuropose segment``) are merged into each video's ``segmentations``
    in memory (over embedded ones of the same name, which older versions
    wrote into the results file); a sidecar whose ``results_sha256`` does not
    match the results is ignored with a warning.

    Raises
    ------
    InvalidDocumentError
        The results or the sidecar do not parse or validate (names the field).
    """
    from neuropose.io import load_model, sha256_file

    p = Path(path)
    doc = load_model(p, JobResults)
    sidecar = load_segmentations(p)
    if sidecar is None:
        return doc
    if sidecar.results_sha256 != sha256_file(p):
        logger.warning(
            "%s: ignored, %s changed after it was segmented (run `neuropose segment` again)",
            segmentations_path(p),
            p.name,
        )
        return doc
    videos = tuple(
        v.model_copy(update={"segmentations": {**v.segmentations, **sidecar.videos[v.video]}})
        if v.video in sidecar.videos
        else v
        for v in doc.videos
    )
    return doc.model_copy(update={"videos": videos})


def segmentations_path(results: Path | str) -> Path:
    """The segmentations sidecar of a results file.

    Examples
    --------
    >>> segmentations_path("out/walk/results.json").as_posix()
    'out/walk/results.segmentations.json'
    """
    p = Path(results)
    return p.with_name(p.name.removesuffix(".json") + ".segmentations.json")


def load_segmentations(results: Path | str) -> SegmentationFile | None:
    """The sidecar of ``results`` as stored (None when there is none)."""
    from neuropose.io import load_model

    side = segmentations_path(results)
    return load_model(side, SegmentationFile) if side.is_file() else None


def _pick_video(results: JobResults, video: str | None, source: str) -> VideoPredictions:
    if video is None:
        if len(results.videos) > 1:
            names = ", ".join(v.video for v in results.videos)
            raise SubjectNotFoundError(
                f"{source}: holds {len(results.videos)} videos ({names})",
                hint="choose one with 'video = \"<name>\"' in the config or --video",
            )
        return results.videos[0]
    try:
        return results.video(video)
    except KeyError:
        names = ", ".join(v.video for v in results.videos)
        raise SubjectNotFoundError(
            f"{source}: no video {video!r}", hint=f"videos in this file: {names}"
        ) from None


def load_trial(
    results: JobResults | VideoPredictions | Path | str,
    *,
    video: str | None = None,
    track_id: int | None = None,
) -> Trial:
    """Dense poses of one subject of one video.

    Parameters
    ----------
    results : JobResults, VideoPredictions, or path to results.json
        The predictions.
    video : str, optional
        Video name; required when the file holds several videos.
        :data:`TRIANGULATED` selects the triangulated subject of a
        multi-camera trial: positions in the calibration's world frame
        (mm, not root-relative), NaN where fewer than two views agreed.
    track_id : int, optional
        Subject track; defaults to the estimator's ``primary_track_id``.

    Returns
    -------
    Trial
        Frames where the subject is absent are NaN.

    Raises
    ------
    SubjectNotFoundError
        Unknown video, unknown track id, or no primary subject.
    """
    source = "<memory>"
    if isinstance(results, Path | str):
        source = Path(results).name
        results = load_results(results)
    if video == TRIANGULATED and isinstance(results, JobResults):
        return _triangulated_trial(results, source)
    vp = results if isinstance(results, VideoPredictions) else _pick_video(results, video, source)
    tid = vp.primary_track_id if track_id is None else track_id
    if tid is None:
        raise SubjectNotFoundError(
            f"{source}: video {vp.video!r} has no primary subject (nobody was detected)",
            hint="check the video, or pass an explicit track id",
        )
    known = sorted({int(t) for t in vp.track_id.tolist()})
    if tid not in known:
        raise SubjectNotFoundError(
            f"{source}: video {vp.video!r} has no track {tid}",
            hint=f"tracks present: {known or 'none'}",
        )
    poses, _rows = vp.track(tid)
    return Trial(
        poses=poses,
        timestamps=np.asarray(vp.timestamp_s, dtype=np.float64),
        skeleton=vp.skeleton,
        source=source,
        video=vp.video,
        track_id=int(tid),
        root_relative=vp.provenance.root_relative,
        model_name=vp.provenance.model_name,
        model_sha256=vp.provenance.model_sha256,
        frame_index=np.asarray(vp.frame_index, dtype=np.int64),
    )


def _triangulated_trial(results: JobResults, source: str) -> Trial:
    tri = results.triangulation
    if tri is None:
        raise SubjectNotFoundError(
            f"{source}: has no triangulation (not a multi-camera trial)",
            hint="triangulate it with neuropose triangulate, or choose one of its videos",
        )
    prov = results.videos[0].provenance
    return Trial(
        poses=tri.points(),
        timestamps=np.asarray(tri.timestamp_s, dtype=np.float64),
        skeleton=tri.skeleton,
        source=source,
        video=TRIANGULATED,
        root_relative=False,
        model_name=prov.model_name,
        model_sha256=prov.model_sha256,
        frame_index=np.arange(tri.timestamp_s.shape[0]),
        up=tri.rig.up_vector,
    )


def trial_from_arrays(
    poses: np.ndarray,
    timestamps: np.ndarray,
    skeleton: Skeleton,
    *,
    root_relative: bool = True,
    source: str = "<arrays>",
) -> Trial:
    """A :class:`Trial` from in-memory arrays (synthetic data, other tools).

    Examples
    --------
    >>> import numpy as np
    >>> from neuropose.schemas import Skeleton
    >>> sk = Skeleton(name="toy", joints=("a", "b"))
    >>> tr = trial_from_arrays(np.zeros((4, 2, 3)), np.arange(4) / 30, sk)
    >>> tr.joint("b").shape
    (4, 3)
    """
    p = np.asarray(poses, dtype=np.float64)
    t = np.asarray(timestamps, dtype=np.float64)
    if p.ndim != 3 or p.shape[2] != 3 or p.shape[1] != len(skeleton.joints):
        raise InputError(
            f"poses must have shape (F, {len(skeleton.joints)}, 3), got {list(p.shape)}"
        )
    if t.shape != (p.shape[0],):
        raise InputError(f"timestamps must have shape ({p.shape[0]},), got {list(t.shape)}")
    if t.size > 1 and np.any(np.diff(t) <= 0):
        raise InputError("timestamps must be strictly increasing")
    return Trial(
        poses=p,
        timestamps=t,
        skeleton=skeleton,
        source=source,
        root_relative=root_relative,
        frame_index=np.arange(p.shape[0]),
    )
