"""One subject of one video as dense arrays, the input of every export.

:class:`PoseTrack` is what the writers convert: positions exactly as stored
in ``results.json`` — millimetres in camera axes (x right, y down, z
forward; hip-centred when ``root_relative``), or, for the triangulated
subject of a calibrated multi-camera job (video ``"triangulated"``), in the
calibration's world frame with its up axis — per-joint confidence, the
container timestamps and the provenance of the predictions. Frames on which
the subject was not detected are NaN rows (positions and confidence).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from neuropose.analyzer.load import TRIANGULATED, Trial, load_results, load_trial
from neuropose.schemas import JobResults, Provenance, Skeleton, VideoPredictions

if TYPE_CHECKING:
    import pandas as pd
    import xarray as xr

__all__ = ["PoseTrack", "load_tracks", "track_from_predictions", "track_from_triangulation"]


@dataclass(frozen=True)
class PoseTrack:
    """The primary (or chosen) subject of one video, ready to export.

    Attributes
    ----------
    job_id : str
        Job the results belong to.
    video : str
        Video file name (no directories).
    skeleton : Skeleton
        Names of the joint axis.
    positions : ndarray, shape (F, J, 3), float64
        Millimetres, camera axes (x right, y down, z forward). NaN where the
        subject was not detected.
    confidence : ndarray, shape (F, J), float64, or None
        Model confidence 0..1 (NaN where not detected); None when the model
        gives none.
    timestamps : ndarray, shape (F,), float64
        Container timestamp of every decoded frame, seconds.
    frame_index : ndarray, shape (F,), int64
        Decoder frame numbers.
    track_id : int
        The subject's track id.
    provenance : Provenance
        How the predictions were made (model, hash, input hash...); for a
        triangulated track, those of the reference (first) view.
    up : ndarray, shape (3,), or None
        The world frame's up axis when the positions come from a calibration
        (triangulated tracks); None for camera-frame data.
    """

    job_id: str
    video: str
    skeleton: Skeleton
    positions: np.ndarray
    confidence: np.ndarray | None
    timestamps: np.ndarray
    frame_index: np.ndarray
    track_id: int
    provenance: Provenance
    up: np.ndarray | None = None

    @property
    def axes(self) -> str:
        """The coordinate frame of :attr:`positions`, in words (written into exports)."""
        if self.up is not None:
            up = ", ".join(f"{v:g}" for v in np.round(self.up, 6) + 0.0)
            return f"world frame of the calibration (up = ({up}))"
        return "camera: x right, y down, z forward"

    @property
    def num_frames(self) -> int:
        """Number of frames F."""
        return int(self.positions.shape[0])

    @property
    def joints(self) -> tuple[str, ...]:
        """Joint names, in the order of the joint axis."""
        return tuple(self.skeleton.joints)

    @property
    def stem(self) -> str:
        """File-name stem of the exports of this video (the video name without suffix)."""
        return Path(self.video).stem or self.video

    def trial(self) -> Trial:
        """The analyzer's view of the same data (for angles and the up axis)."""
        return Trial(
            poses=self.positions,
            timestamps=self.timestamps,
            skeleton=self.skeleton,
            source=f"{self.job_id}/{self.video}",
            video=self.video,
            track_id=self.track_id,
            root_relative=self.provenance.root_relative,
            model_name=self.provenance.model_name,
            model_sha256=self.provenance.model_sha256,
            frame_index=self.frame_index,
            up=self.up,
        )

    def confidence_or_nan(self) -> np.ndarray:
        """Confidence (F, J), all NaN when the model gives none."""
        if self.confidence is not None:
            return self.confidence
        return np.full(self.positions.shape[:2], np.nan)

    def to_dataframe(self, layout: str = "long") -> pd.DataFrame:
        """The poses as a pandas DataFrame (needs ``neuropose[export]``).

        Parameters
        ----------
        layout : {"long", "wide"}
            ``long`` (tidy): one row per frame and joint with columns
            ``time_s, frame_index, joint, x_mm, y_mm, z_mm, confidence``.
            ``wide``: one row per frame with ``time_s, frame_index`` and
            ``<joint>_x_mm, <joint>_y_mm, <joint>_z_mm, <joint>_confidence``
            per joint. Missing values are NaN.
        """
        from neuropose.export.tables import to_dataframe

        return to_dataframe(self, layout)

    def to_xarray(self) -> xr.Dataset:
        """The poses as an xarray Dataset laid out like ``movement``'s poses datasets.

        ``position`` has dims ``(time, space, keypoints, individuals)`` in
        millimetres (camera axes) and ``confidence`` ``(time, keypoints,
        individuals)``; ``time`` holds the true timestamps in seconds.
        Needs ``neuropose[export]``.
        """
        from neuropose.export.tables import to_xarray

        return to_xarray(self)

    def describe(self) -> dict[str, Any]:
        """JSON-ready summary for export records."""
        return {
            "job_id": self.job_id,
            "video": self.video,
            "track_id": self.track_id,
            "frames": self.num_frames,
            "detected_frames": int(np.isfinite(self.positions).any(axis=(1, 2)).sum()),
            "skeleton": self.skeleton.name,
            "model_name": self.provenance.model_name,
            "model_sha256": self.provenance.model_sha256,
            "input_sha256": self.provenance.input_sha256,
            "root_relative": self.provenance.root_relative and self.up is None,
            "axes": self.axes,
        }


def track_from_predictions(
    vp: VideoPredictions, *, job_id: str = "", track_id: int | None = None
) -> PoseTrack:
    """The :class:`PoseTrack` of one subject (default: the primary one) of ``vp``.

    Raises
    ------
    neuropose.analyzer.SubjectNotFoundError
        No primary subject, or an unknown track id.
    """
    trial = load_trial(vp, track_id=track_id)  # validates the track id
    _poses, rows = vp.track(trial.track_id)
    confidence = None
    if vp.confidence is not None:
        confidence = np.full((*rows.shape, len(vp.skeleton.joints)), np.nan)
        present = rows >= 0
        confidence[present] = vp.confidence[rows[present]]
    return PoseTrack(
        job_id=job_id,
        video=vp.video,
        skeleton=vp.skeleton,
        positions=trial.poses,
        confidence=confidence,
        timestamps=trial.timestamps,
        frame_index=trial.frame_index,
        track_id=int(trial.track_id or 0),
        provenance=vp.provenance,
    )


def track_from_triangulation(results: JobResults) -> PoseTrack:
    """The triangulated subject of a calibrated multi-camera job (world frame, mm).

    Confidence is None (the triangulation keeps reprojection errors, not a
    confidence); frames where fewer than two views agreed are NaN.

    Raises
    ------
    neuropose.analyzer.SubjectNotFoundError
        The job has no triangulation.
    """
    trial = load_trial(results, video=TRIANGULATED)  # names the problem when absent
    return PoseTrack(
        job_id=results.job_id,
        video=TRIANGULATED,
        skeleton=trial.skeleton,
        positions=trial.poses,
        confidence=None,
        timestamps=trial.timestamps,
        frame_index=trial.frame_index,
        track_id=0,
        provenance=results.videos[0].provenance,
        up=None if trial.up is None else np.asarray(trial.up, dtype=np.float64),
    )


def load_tracks(
    results: JobResults | Path | str,
    *,
    video: str | None = None,
    track_id: int | None = None,
) -> list[PoseTrack]:
    """One :class:`PoseTrack` per video of a results file (or only ``video``).

    A calibrated multi-camera job also gives its triangulated subject
    (``video="triangulated"``, world frame), after the videos.

    Raises
    ------
    neuropose.errors.InvalidDocumentError
        The file does not validate.
    neuropose.analyzer.SubjectNotFoundError
        Unknown video or track.
    """
    if isinstance(results, Path | str):
        results = load_results(results)
    if video == TRIANGULATED:
        return [track_from_triangulation(results)]
    if video is not None:
        chosen = load_trial(results, video=video, track_id=track_id)  # names a missing video
        vps = [results.video(chosen.video)]
    else:
        vps = list(results.videos)
    tracks = [track_from_predictions(v, job_id=results.job_id, track_id=track_id) for v in vps]
    if video is None and results.triangulation is not None:
        tracks.append(track_from_triangulation(results))
    return tracks
