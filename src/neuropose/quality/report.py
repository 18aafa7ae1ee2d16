"""Build a video's quality report (metrics + warnings) and its headline summary.

Warnings
--------
A report warns (``QualityReport.warnings``) when the subject is detected on
fewer than :data:`MIN_SUBJECT_DETECTION` of the frames, the length of a
clinical limb segment (:data:`~neuropose.quality.metrics.CLINICAL_SEGMENTS`)
varies by more than :data:`MAX_SEGMENT_CV` (coefficient of variation), any
joint's mean confidence is below :data:`MIN_MEAN_CONFIDENCE`, or an identity
switch or a fragmented subject track was found.

Examples
--------
>>> from neuropose.schemas import Skeleton, VideoPredictions
>>> vp = VideoPredictions.empty_for_tests(Skeleton(name="t", joints=("a",)), 4)
>>> dict(summarize_quality(build_quality_report(vp, job_id="j")))["subject missing"]
'4 of 4 frames'
"""

from __future__ import annotations

import dataclasses

import numpy as np

from neuropose import __version__
from neuropose.quality.metrics import DEFAULT_JITTER_CUTOFF_HZ, compute_quality
from neuropose.schemas.predictions import VideoPredictions
from neuropose.schemas.quality import QualityReport
from neuropose.timefmt import utc_iso

__all__ = [
    "MAX_SEGMENT_CV",
    "MIN_MEAN_CONFIDENCE",
    "MIN_SUBJECT_DETECTION",
    "build_quality_report",
    "summarize_quality",
]

#: Below this fraction of frames with the subject, a report warns.
MIN_SUBJECT_DETECTION = 0.9
#: Above this coefficient of variation of a clinical limb segment's length, a report warns.
MAX_SEGMENT_CV = 0.10
#: Below this mean confidence of a joint, a report warns.
MIN_MEAN_CONFIDENCE = 0.5


def _listed(names: list[str], limit: int = 5) -> str:
    return ", ".join(names[:limit]) + (" ..." if len(names) > limit else "")


def build_quality_report(
    vp: VideoPredictions,
    *,
    job_id: str,
    jitter_cutoff_hz: float = DEFAULT_JITTER_CUTOFF_HZ,
    created_at: str | None = None,
) -> QualityReport:
    """Compute the metrics of ``vp`` and wrap them in a :class:`QualityReport` with warnings.

    Examples
    --------
    >>> from neuropose.schemas import Skeleton, VideoPredictions
    >>> vp = VideoPredictions.empty_for_tests(Skeleton(name="t", joints=("a",)), 10)
    >>> r = build_quality_report(vp, job_id="demo")
    >>> r.frames_subject_missing, r.warnings[0]
    (10, 'subject detected on 0.0% of frames (below 90%)')
    """
    m = compute_quality(vp, jitter_cutoff_hz=jitter_cutoff_hz)
    warnings: list[str] = []
    if m.subject_detection_rate is not None and m.subject_detection_rate < MIN_SUBJECT_DETECTION:
        warnings.append(
            f"subject detected on {100 * m.subject_detection_rate:.1f}% of frames "
            f"(below {100 * MIN_SUBJECT_DETECTION:.0f}%)"
        )
    unstable = [k for k, v in m.segment_length_cv.items() if v is not None and v > MAX_SEGMENT_CV]
    if unstable:
        warnings.append(
            f"{len(unstable)} limb segment length(s) vary by more than "
            f"{100 * MAX_SEGMENT_CV:.0f}%: {_listed(unstable)}"
        )
    low = [k for k, v in m.mean_confidence.items() if v is not None and v < MIN_MEAN_CONFIDENCE]
    if low:
        warnings.append(
            f"{len(low)} joint(s) with mean confidence below {MIN_MEAN_CONFIDENCE}: {_listed(low)}"
        )
    if m.id_switches:
        warnings.append(f"{m.id_switches} identity switch(es) between tracks")
    if m.subject_fragments > 1:
        warnings.append(f"subject track is split into {m.subject_fragments} pieces")
    return QualityReport(
        job_id=job_id,
        video=vp.video,
        skeleton=vp.skeleton.name,
        model_name=vp.provenance.model_name,
        **dataclasses.asdict(m),  # every metric field of QualityMetrics, same names
        warnings=tuple(warnings),
        created_at=created_at or utc_iso(),
        neuropose_version=__version__,
    )


def _values(d: dict[str, float | None]) -> np.ndarray:
    return np.array([v for v in d.values() if v is not None], dtype=np.float64)


def _pct(v: float | None) -> str:
    return "n/a" if v is None else f"{100 * v:.1f}%"


def _num(v: float | None, unit: str = "", digits: int = 2) -> str:
    return "n/a" if v is None else f"{v:.{digits}f}{unit}"


def summarize_quality(report: QualityReport) -> list[tuple[str, str]]:
    """The headline ``(label, value)`` pairs of a report, formatted once for every reader.

    ``neuropose status JOB``, ``neuropose visualize``, the HTML report and the
    dashboard's job page all show exactly these strings. Segment figures
    cover the clinical limb segments only (see
    :data:`~neuropose.quality.metrics.CLINICAL_SEGMENTS`); "n/a" when the
    skeleton has none or the subject was never seen.

    Examples
    --------
    >>> from neuropose.schemas import Skeleton, VideoPredictions
    >>> vp = VideoPredictions.empty_for_tests(Skeleton(name="t", joints=("a",)), 4)
    >>> dict(summarize_quality(build_quality_report(vp, job_id="j")))[
    ...     "limb segment length CV (worst)"]
    'n/a'
    """
    conf = _values(report.mean_confidence)
    seg = {k: v for k, v in report.segment_length_cv.items() if v is not None}
    cv = np.array(list(seg.values()), dtype=np.float64)
    jit = _values(report.jitter_mm)
    worst = "n/a"
    if seg:
        name = max(seg, key=lambda k: seg[k])
        worst = f"{_pct(seg[name])} ({name})"
    return [
        ("video", report.video),
        ("detection rate", _pct(report.detection_rate)),
        ("subject detected", _pct(report.subject_detection_rate)),
        ("subject missing", f"{report.frames_subject_missing} of {report.n_frames} frames"),
        ("mean joint confidence", _num(float(conf.mean()) if conf.size else None)),
        ("limb segment length CV (median)", _pct(float(np.median(cv)) if cv.size else None)),
        ("limb segment length CV (worst)", worst),
        (
            f"jitter > {_num(report.jitter_cutoff_hz, ' Hz', 1)} (median joint)",
            _num(float(np.median(jit)) if jit.size else None, " mm", 1),
        ),
        (
            "tracks / ID switches / subject fragments",
            f"{report.n_tracks} / {report.id_switches} / {report.subject_fragments}",
        ),
        ("warnings", "; ".join(report.warnings) if report.warnings else "none"),
    ]
