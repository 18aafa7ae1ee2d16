"""The per-video quality report (``<video_stem>.quality.json``).

The daemon writes it for every completed video into ``out/<job>/visualize/``
and ``neuropose visualize`` beside its other outputs. Metrics are defined in
:mod:`neuropose.quality.metrics`; a metric without data is ``null``.

Schema versions: 1 had no ``segment_length_*`` fields; version 2 added them
(a version-1 file loads with both empty, so its headline segment figures
read "n/a" until the report is made again). Version 3 added the left/right
swap counts (``swap_corrected_frames``, ``swap_runs``); an older file loads
with both ``null`` (unknown, shown as "n/a"), never 0. Version 3 also added ``opensim``
(the OpenSim IK summary, null when no ``neuropose opensim`` run exists).
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field

from neuropose.schemas.base import Document, FrozenModel
from neuropose.schemas.migrations import registry

__all__ = ["OpenSimQuality", "QualityReport"]


class OpenSimQuality(FrozenModel):
    """Summary of the video's OpenSim scaling + IK run (``opensim/<stem>/opensim.json``).

    Attributes
    ----------
    marker_rms_mm_median, marker_rms_mm_max : float
        Per-frame RMS distance between the model's markers and the data
        (mm): median and maximum over the frames IK ran on.
    frames : (int, int)
        Half-open range of result frames IK ran on.
    locked_coordinates : list of str
        Coordinates locked at 0 (not measured).
    coordinates_at_limit : dict
        Unlocked coordinate -> fraction (0..1) of IK frames at a range limit
        (within 0.5 deg); only coordinates that reach a limit. Such values
        are the model's bound, not a measurement.
    knee_rms_deg : dict
        ``left``/``right`` -> RMS difference (deg) between IK knee angle and
        NeuroPose's 3-point knee flexion.
    """

    marker_rms_mm_median: float
    marker_rms_mm_max: float
    frames: tuple[int, int]
    locked_coordinates: tuple[str, ...] = ()
    coordinates_at_limit: dict[str, float] = Field(default_factory=dict)
    knee_rms_deg: dict[str, float] = Field(default_factory=dict)


class QualityReport(Document):
    """Quality-control metrics of one video's predictions.

    Attributes
    ----------
    job_id : str
        Job the video belongs to.
    video : str
        Input file name.
    skeleton : str
        Skeleton name; joint keys below are its joint names.
    model_name : str
        Pose model that made the predictions.
    n_frames : int
        Decoded frames.
    frame_rate_hz : float or None
        Median sampling rate of the timestamps.
    n_tracks : int
        Distinct track ids found.
    primary_track_id : int or None
        The subject's track id.
    detection_rate : float or None
        Fraction (0..1) of frames with at least one detected person.
    subject_detection_rate : float or None
        Fraction (0..1) of frames where the subject was detected.
    frames_subject_missing : int
        Number of frames without the subject.
    subject_missing_ranges : list of (int, int)
        Inclusive ranges of frame positions without the subject.
    mean_confidence : dict
        Joint -> mean per-joint confidence (0..1) over the subject's frames.
    bone_length_cv : dict
        ``"jointA-jointB"`` -> coefficient of variation (std / mean) of the
        bone's 3D length over time; dimensionless, ideally near 0.
    bone_length_mm : dict
        ``"jointA-jointB"`` -> median 3D length of the bone (mm).
    segment_length_cv : dict
        Clinical limb segment (``left_thigh``, ``right_forearm``, ... see
        :data:`neuropose.quality.metrics.CLINICAL_SEGMENTS`) -> coefficient of
        variation of its 3D length; the figure the headline and warnings use.
    segment_length_mm : dict
        Clinical limb segment -> median 3D length (mm).
    jitter_cutoff_hz : float or None
        Cut-off frequency (Hz) above which trajectory content counts as jitter.
    jitter_mm : dict
        Joint -> RMS of the subject's 3D trajectory above the cut-off (mm).
    jitter_px : dict
        Joint -> RMS of the subject's 2D trajectory above the cut-off (pixels).
    id_switches : int
        Identity switches between tracks (a track ends and another id starts
        at the same place within 5 frames).
    subject_fragments : int
        Separate contiguous runs of the subject's track (1 is ideal).
    swap_corrected_frames : int or None
        Frames of the subject whose left/right labels the estimator exchanged
        (:mod:`neuropose.estimator.refine`, any body part); None when unknown
        (a report older than schema version 3).
    swap_runs : int or None
        Runs of consecutive relabelled detections of the subject (one per body
        part and run, ``VideoPredictions.swap_corrections``); None when unknown.
    opensim : OpenSimQuality or None
        The OpenSim IK summary when ``neuropose opensim`` ran on the video.
    warnings : list of str
        Plain-language findings that need a human look.
    created_at : str
        ISO-8601 UTC time of creation.
    neuropose_version : str
        Version that wrote the report.
    """

    SCHEMA_VERSION: ClassVar[int] = 3
    schema_version: int = Field(default=3, description="Version of this document's schema.")
    job_id: str
    video: str = Field(min_length=1)
    skeleton: str
    model_name: str
    n_frames: int = Field(ge=0)
    frame_rate_hz: float | None = None
    n_tracks: int = Field(ge=0)
    primary_track_id: int | None = None
    detection_rate: float | None = Field(default=None, ge=0, le=1)
    subject_detection_rate: float | None = Field(default=None, ge=0, le=1)
    frames_subject_missing: int = Field(ge=0)
    subject_missing_ranges: tuple[tuple[int, int], ...] = ()
    mean_confidence: dict[str, float | None] = Field(default_factory=dict)
    bone_length_cv: dict[str, float | None] = Field(default_factory=dict)
    bone_length_mm: dict[str, float | None] = Field(default_factory=dict)
    segment_length_cv: dict[str, float | None] = Field(default_factory=dict)
    segment_length_mm: dict[str, float | None] = Field(default_factory=dict)
    jitter_cutoff_hz: float | None = None
    jitter_mm: dict[str, float | None] = Field(default_factory=dict)
    jitter_px: dict[str, float | None] = Field(default_factory=dict)
    id_switches: int = Field(default=0, ge=0)
    subject_fragments: int = Field(default=0, ge=0)
    swap_corrected_frames: int | None = Field(default=None, ge=0)
    swap_runs: int | None = Field(default=None, ge=0)
    opensim: OpenSimQuality | None = None
    warnings: tuple[str, ...] = ()
    created_at: str
    neuropose_version: str


@registry.register("QualityReport", 1)
def _v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """Version 1 had no clinical segment figures: they are unknown (empty), not zero."""
    data.setdefault("segment_length_cv", {})
    data.setdefault("segment_length_mm", {})
    return data


@registry.register("QualityReport", 2)
def _v2_to_v3(data: dict[str, Any]) -> dict[str, Any]:
    """Version 2 had neither swap counts (unknown: null, not zero) nor an OpenSim summary."""
    data.setdefault("swap_corrected_frames", None)
    data.setdefault("swap_runs", None)
    data.setdefault("opensim", None)
    return data
