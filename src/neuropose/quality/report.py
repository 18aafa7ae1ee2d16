"""Build a video's quality report (metrics + warnings) and its headline summary.

Warnings
--------
A report warns (``QualityReport.warnings``) when the subject is detected on
fewer than :data:`MIN_SUBJECT_DETECTION` of the frames, the length of a
clinical limb segment (:data:`~neuropose.quality.metrics.CLINICAL_SEGMENTS`)
varies by more than :data:`MAX_SEGMENT_CV` (coefficient of variation), any
joint's mean confidence is below :data:`MIN_MEAN_CONFIDENCE`, an identity
switch or a fragmented subject track was found, or the estimator exchanged
the subject's left/right labels on any frame (those frames' side-specific
angles deserve a look even though the correction is usually right); and, when
OpenSim IK ran on the video (``neuropose opensim``), when its median marker RMS
exceeds :data:`MAX_IK_MARKER_RMS_MM` or an unlocked coordinate sits at a range
limit in more than :data:`MAX_AT_LIMIT_FRACTION` of the frames.

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
from neuropose.schemas.opensim import OpenSimRecord
from neuropose.schemas.predictions import VideoPredictions
from neuropose.schemas.quality import OpenSimQuality, QualityReport
from neuropose.timefmt import utc_iso

__all__ = [
    "MAX_AT_LIMIT_FRACTION",
    "MAX_IK_MARKER_RMS_MM",
    "MAX_SEGMENT_CV",
    "MIN_MEAN_CONFIDENCE",
    "MIN_SUBJECT_DETECTION",
    "build_quality_report",
    "opensim_quality",
    "summarize_quality",
]

#: Below this fraction of frames with the subject, a report warns.
MIN_SUBJECT_DETECTION = 0.9
#: Above this coefficient of variation of a clinical limb segment's length, a report warns.
MAX_SEGMENT_CV = 0.10
#: Below this mean confidence of a joint, a report warns.
MIN_MEAN_CONFIDENCE = 0.5
#: Above this median IK marker RMS (mm), a report warns (monocular cam01 measured 28-34 mm).
MAX_IK_MARKER_RMS_MM = 40.0
#: Above this fraction of IK frames at a coordinate's range limit, a report warns.
MAX_AT_LIMIT_FRACTION = 0.1


def opensim_quality(record: OpenSimRecord) -> OpenSimQuality:
    """The quality-report summary of one ``opensim.json``.

    Examples
    --------
    >>> rec = OpenSimRecord(created_at="", neuropose_version="", opensim_version="4.6",
    ...     source={}, options={"locked_coordinates": ["mtp_angle_r"]}, setup_files={},
    ...     markers={}, frames=[0, 100], files={},
    ...     summary={"marker_rms_mm_median": 28.1, "marker_rms_mm_max": 61.0,
    ...              "left_knee_rms_deg": 7.9},
    ...     coordinates={"subtalar_angle_r": {"at_limit_fraction": 0.62},
    ...                  "knee_angle_r": {"at_limit_fraction": 0.0}})
    >>> q = opensim_quality(rec)
    >>> q.coordinates_at_limit, q.knee_rms_deg, q.frames
    ({'subtalar_angle_r': 0.62}, {'left': 7.9}, (0, 100))
    """
    s = record.summary
    at_limit = {
        k: float(v["at_limit_fraction"])
        for k, v in record.coordinates.items()
        if v.get("at_limit_fraction") and not v.get("locked", False)
    }
    knees = {
        side: float(s[f"{side}_knee_rms_deg"])
        for side in ("left", "right")
        if s.get(f"{side}_knee_rms_deg") is not None
    }
    return OpenSimQuality(
        marker_rms_mm_median=float(s["marker_rms_mm_median"]),
        marker_rms_mm_max=float(s["marker_rms_mm_max"]),
        frames=(int(record.frames[0]), int(record.frames[1])),
        locked_coordinates=tuple(record.options.get("locked_coordinates", ())),
        coordinates_at_limit=at_limit,
        knee_rms_deg=knees,
    )


def _listed(names: list[str], limit: int = 5) -> str:
    return ", ".join(names[:limit]) + (" ..." if len(names) > limit else "")


def build_quality_report(
    vp: VideoPredictions,
    *,
    job_id: str,
    jitter_cutoff_hz: float = DEFAULT_JITTER_CUTOFF_HZ,
    created_at: str | None = None,
    opensim: OpenSimRecord | None = None,
) -> QualityReport:
    """Compute the metrics of ``vp`` and wrap them in a :class:`QualityReport` with warnings.

    ``opensim`` (the video's ``opensim.json``, when ``neuropose opensim`` ran)
    adds its summary (:func:`opensim_quality`) and warnings.

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
    swapped = vp.swap_corrected_frames()
    runs = sum(1 for c in vp.swap_corrections if c.track_id == vp.primary_track_id)
    if swapped:
        warnings.append(
            f"left/right labels corrected on {swapped} frame(s) of the subject ({runs} run(s))"
        )
    ik = opensim_quality(opensim) if opensim is not None else None
    if ik is not None and ik.marker_rms_mm_median > MAX_IK_MARKER_RMS_MM:
        warnings.append(
            f"OpenSim IK marker RMS {ik.marker_rms_mm_median:.1f} mm (median) is above "
            f"{MAX_IK_MARKER_RMS_MM:.0f} mm"
        )
    pinned = sorted(
        k for k, v in (ik.coordinates_at_limit if ik else {}).items() if v > MAX_AT_LIMIT_FRACTION
    )
    if pinned:
        warnings.append(
            f"{len(pinned)} OpenSim coordinate(s) at a range limit in more than "
            f"{100 * MAX_AT_LIMIT_FRACTION:.0f}% of frames (not measurements): {_listed(pinned)}"
        )
    return QualityReport(
        job_id=job_id,
        video=vp.video,
        skeleton=vp.skeleton.name,
        model_name=vp.provenance.model_name,
        **dataclasses.asdict(m),  # every metric field of QualityMetrics, same names
        swap_corrected_frames=swapped,
        swap_runs=runs,
        opensim=ik,
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


def _swaps(report: QualityReport) -> str:
    if report.swap_corrected_frames is None:
        return "n/a"
    return f"{report.swap_corrected_frames} of {report.n_frames} frames ({report.swap_runs} runs)"


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
        ("left/right swaps corrected", _swaps(report)),
        *_opensim_rows(report),
        ("warnings", "; ".join(report.warnings) if report.warnings else "none"),
    ]


def _opensim_rows(report: QualityReport) -> list[tuple[str, str]]:
    """Headline rows of the OpenSim summary (none when OpenSim did not run on the video)."""
    ik = report.opensim
    if ik is None:
        return []
    worst = "none"
    if ik.coordinates_at_limit:
        name = max(ik.coordinates_at_limit, key=lambda k: ik.coordinates_at_limit[k])
        worst = (
            f"{len(ik.coordinates_at_limit)} (worst {name}: {_pct(ik.coordinates_at_limit[name])})"
        )
    return [
        (
            "OpenSim marker RMS (median / max)",
            f"{ik.marker_rms_mm_median:.1f} / {ik.marker_rms_mm_max:.1f} mm",
        ),
        ("OpenSim coordinates at a range limit", worst),
    ]
