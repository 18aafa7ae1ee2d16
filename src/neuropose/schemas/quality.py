"""The per-video quality report written by ``neuropose visualize``.

On disk it is ``<video_stem>.quality.json`` beside the other visual outputs
(``out/<job>/visualize/`` by default). Metrics are defined in
:mod:`neuropose.analyzer.quality`; a metric without data is ``null``.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from neuropose.schemas.base import Document

__all__ = ["QualityReport"]


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
    warnings : list of str
        Plain-language findings that need a human look.
    created_at : str
        ISO-8601 UTC time of creation.
    neuropose_version : str
        Version that wrote the report.
    """

    SCHEMA_VERSION: ClassVar[int] = 1
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
    jitter_cutoff_hz: float | None = None
    jitter_mm: dict[str, float | None] = Field(default_factory=dict)
    jitter_px: dict[str, float | None] = Field(default_factory=dict)
    id_switches: int = Field(default=0, ge=0)
    subject_fragments: int = Field(default=0, ge=0)
    warnings: tuple[str, ...] = ()
    created_at: str
    neuropose_version: str
