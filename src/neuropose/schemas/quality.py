"""The per-video quality report (``<video_stem>.quality.json``).

The daemon writes it for every completed video into ``out/<job>/visualize/``
and ``neuropose visualize`` beside its other outputs. Metrics are defined in
:mod:`neuropose.quality.metrics`; a metric without data is ``null``.

Schema versions: 1 had no ``segment_length_*`` fields; version 2 added them
(a version-1 file loads with both empty, so its headline segment figures
read "n/a" until the report is made again).
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field

from neuropose.schemas.base import Document
from neuropose.schemas.migrations import registry

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
    warnings : list of str
        Plain-language findings that need a human look.
    created_at : str
        ISO-8601 UTC time of creation.
    neuropose_version : str
        Version that wrote the report.
    """

    SCHEMA_VERSION: ClassVar[int] = 2
    schema_version: int = Field(default=2, description="Version of this document's schema.")
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
    warnings: tuple[str, ...] = ()
    created_at: str
    neuropose_version: str


@registry.register("QualityReport", 1)
def _v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """Version 1 had no clinical segment figures: they are unknown (empty), not zero."""
    data.setdefault("segment_length_cv", {})
    data.setdefault("segment_length_mm", {})
    return data
