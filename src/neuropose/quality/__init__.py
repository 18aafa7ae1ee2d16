"""Quality control of pose predictions: metrics, the report, its summary and its HTML.

One implementation for every reader: the daemon writes each completed
video's report (:func:`write_job_quality_reports`), ``neuropose visualize``
writes the same files, and ``neuropose status JOB``, the dashboard's job page
and the HTML report all show :func:`summarize_quality`'s strings.

Layers: ``metrics`` (pure NumPy numbers) -> ``report`` (warnings, summary) ->
``verdict`` (usable / caution / not usable) -> ``html`` (one rendering) ->
``files`` (atomic writes, validated reads).
Importing this package imports NumPy and pydantic only.

Examples
--------
>>> from neuropose.schemas import Skeleton, VideoPredictions
>>> vp = VideoPredictions.empty_for_tests(Skeleton(name="t", joints=("a",)), 4)
>>> summarize_quality(build_quality_report(vp, job_id="j"))[3]
('subject missing', '4 of 4 frames')
"""

from neuropose.quality.files import (
    load_opensim_record,
    load_quality_reports,
    quality_report_path,
    refresh_opensim_summaries,
    write_job_quality_reports,
    write_quality_report,
)
from neuropose.quality.html import render_quality_fragment, render_quality_html
from neuropose.quality.metrics import (
    CLINICAL_SEGMENTS,
    DEFAULT_JITTER_CUTOFF_HZ,
    QualityMetrics,
    clinical_segments,
    compute_quality,
)
from neuropose.quality.report import (
    MAX_AT_LIMIT_FRACTION,
    MAX_IK_MARKER_RMS_MM,
    MAX_SEGMENT_CV,
    MIN_MEAN_CONFIDENCE,
    MIN_SUBJECT_DETECTION,
    build_quality_report,
    opensim_quality,
    summarize_quality,
)
from neuropose.quality.verdict import Verdict, combine_verdicts, quality_verdict

__all__ = [
    "CLINICAL_SEGMENTS",
    "DEFAULT_JITTER_CUTOFF_HZ",
    "MAX_AT_LIMIT_FRACTION",
    "MAX_IK_MARKER_RMS_MM",
    "MAX_SEGMENT_CV",
    "MIN_MEAN_CONFIDENCE",
    "MIN_SUBJECT_DETECTION",
    "QualityMetrics",
    "Verdict",
    "build_quality_report",
    "clinical_segments",
    "combine_verdicts",
    "compute_quality",
    "load_opensim_record",
    "load_quality_reports",
    "opensim_quality",
    "quality_report_path",
    "quality_verdict",
    "refresh_opensim_summaries",
    "render_quality_fragment",
    "render_quality_html",
    "summarize_quality",
    "write_job_quality_reports",
    "write_quality_report",
]
