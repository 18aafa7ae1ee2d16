"""Per-video quality report: JSON document, HTML summary, one-screen summary lines.

Files (per video, beside the other visual outputs)
--------------------------------------------------
``<stem>.quality.json``
    :class:`~neuropose.schemas.quality.QualityReport` (``schema_version`` 1).
``<stem>.quality.html``
    A self-contained page (no scripts, no external resources) with the
    headline numbers, the warnings and per-joint / per-bone tables.

Warnings
--------
A report warns (``QualityReport.warnings``) when the subject is detected on
fewer than :data:`MIN_SUBJECT_DETECTION` of the frames, the length of any bone
at least :data:`MIN_CHECKED_BONE_MM` long varies by more than
:data:`MAX_BONE_CV` (coefficient of variation; short face and hand bones are
left out because millimetres of noise dominate their CV), any joint's
mean confidence is below :data:`MIN_MEAN_CONFIDENCE`, or an identity switch
or a fragmented subject track was found.
"""

from __future__ import annotations

import dataclasses
import html
from pathlib import Path

import numpy as np

from neuropose import __version__
from neuropose.analyzer.quality import DEFAULT_JITTER_CUTOFF_HZ, compute_quality
from neuropose.datadir.layout import VISUALIZE_DIR, quality_path
from neuropose.io import load_model, write_bytes_atomic, write_model_atomic
from neuropose.schemas.predictions import VideoPredictions
from neuropose.schemas.quality import QualityReport
from neuropose.timefmt import utc_iso

__all__ = [
    "MAX_BONE_CV",
    "MIN_CHECKED_BONE_MM",
    "MIN_MEAN_CONFIDENCE",
    "MIN_SUBJECT_DETECTION",
    "build_quality_report",
    "load_quality_reports",
    "quality_report_path",
    "render_quality_html",
    "summarize_quality",
    "write_quality_report",
]

MIN_SUBJECT_DETECTION = 0.9
MAX_BONE_CV = 0.10
MIN_CHECKED_BONE_MM = 100.0
MIN_MEAN_CONFIDENCE = 0.5


def _vals(d: dict[str, float | None]) -> np.ndarray:
    return np.array([v for v in d.values() if v is not None], dtype=np.float64)


def build_quality_report(
    vp: VideoPredictions,
    *,
    job_id: str,
    jitter_cutoff_hz: float = DEFAULT_JITTER_CUTOFF_HZ,
    created_at: str | None = None,
) -> QualityReport:
    """Compute the metrics of ``vp`` and wrap them in a :class:`QualityReport`.

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
    bad_bones = [
        k
        for k in _long_bones(m.bone_length_mm)
        if (v := m.bone_length_cv.get(k)) is not None and v > MAX_BONE_CV
    ]
    if bad_bones:
        warnings.append(
            f"{len(bad_bones)} bone length(s) of {MIN_CHECKED_BONE_MM:.0f} mm or more vary by "
            f"more than {100 * MAX_BONE_CV:.0f}%: "
            + ", ".join(bad_bones[:5])
            + (" ..." if len(bad_bones) > 5 else "")
        )
    low = [k for k, v in m.mean_confidence.items() if v is not None and v < MIN_MEAN_CONFIDENCE]
    if low:
        warnings.append(
            f"{len(low)} joint(s) with mean confidence below {MIN_MEAN_CONFIDENCE}: "
            + ", ".join(low[:5])
            + (" ..." if len(low) > 5 else "")
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


def _long_bones(lengths: dict[str, float | None]) -> list[str]:
    return [k for k, v in lengths.items() if v is not None and v >= MIN_CHECKED_BONE_MM]


def _pct(v: float | None) -> str:
    return "n/a" if v is None else f"{100 * v:.1f}%"


def _num(v: float | None, unit: str = "", digits: int = 2) -> str:
    return "n/a" if v is None else f"{v:.{digits}f}{unit}"


def summarize_quality(report: QualityReport) -> list[tuple[str, str]]:
    """Headline (label, value) pairs for ``neuropose status JOB`` and the dashboard.

    Examples
    --------
    >>> from neuropose.schemas import Skeleton, VideoPredictions
    >>> vp = VideoPredictions.empty_for_tests(Skeleton(name="t", joints=("a",)), 4)
    >>> dict(summarize_quality(build_quality_report(vp, job_id="j")))["subject missing"]
    '4 of 4 frames'
    """
    conf = _vals(report.mean_confidence)
    long_cv = {
        k: v for k in _long_bones(report.bone_length_mm)
        if (v := report.bone_length_cv.get(k)) is not None
    }  # fmt: skip
    cv = np.array(list(long_cv.values()), dtype=np.float64)
    jit = _vals(report.jitter_mm)
    worst_bone = "n/a"
    if long_cv:
        name = max(long_cv, key=lambda k: long_cv[k])
        worst_bone = f"{100 * long_cv[name]:.1f}% ({name})"
    return [
        ("video", report.video),
        ("detection rate", _pct(report.detection_rate)),
        ("subject detected", _pct(report.subject_detection_rate)),
        ("subject missing", f"{report.frames_subject_missing} of {report.n_frames} frames"),
        ("mean joint confidence", _num(float(conf.mean()) if conf.size else None)),
        (
            f"bone length CV, bones ≥ {MIN_CHECKED_BONE_MM / 10:.0f} cm (median)",
            _pct(float(np.median(cv)) if cv.size else None),
        ),
        (f"bone length CV, bones ≥ {MIN_CHECKED_BONE_MM / 10:.0f} cm (worst)", worst_bone),
        (
            f"jitter > {_num(report.jitter_cutoff_hz, ' Hz', 1)} (median joint)",
            _num(float(np.median(jit)) if jit.size else None, " mm", 1),
        ),
        ("tracks / ID switches", f"{report.n_tracks} / {report.id_switches}"),
        ("warnings", "; ".join(report.warnings) if report.warnings else "none"),
    ]


def render_quality_html(report: QualityReport) -> str:
    """Self-contained HTML summary of a report (no scripts, no external resources)."""
    e = html.escape
    rows = "".join(f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in summarize_quality(report))
    warn = "".join(f"<li>{e(w)}</li>" for w in report.warnings) or "<li>none</li>"
    joints = "".join(
        f"<tr><td>{e(j)}</td><td>{_num(report.mean_confidence.get(j))}</td>"
        f"<td>{_num(report.jitter_mm.get(j), '', 1)}</td>"
        f"<td>{_num(report.jitter_px.get(j), '', 1)}</td></tr>"
        for j in report.mean_confidence
    )
    bones = "".join(
        f"<tr><td>{e(b)}</td><td>{_num(report.bone_length_mm.get(b), '', 0)}</td>"
        f"<td>{_pct(v)}</td></tr>"
        for b, v in report.bone_length_cv.items()
    )
    missing = ", ".join(f"{s}–{t}" for s, t in report.subject_missing_ranges[:50]) or "none"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Quality report: {e(report.video)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 1.5em; color: #222; }}
table {{ border-collapse: collapse; margin: 0.5em 0 1.5em; }}
th, td {{ border: 1px solid #ccc; padding: 2px 8px; text-align: left; }}
th {{ background: #f3f3f3; }}
</style></head><body>
<h1>Quality report: {e(report.video)}</h1>
<p>Job {e(report.job_id)}, model {e(report.model_name)}, skeleton {e(report.skeleton)},
{report.n_frames} frames at {_num(report.frame_rate_hz, " Hz", 2)};
made {e(report.created_at)} by NeuroPose {e(report.neuropose_version)}.</p>
<table>{rows}</table>
<h2>Warnings</h2><ul>{warn}</ul>
<h2>Frames without the subject</h2><p>{e(missing)}</p>
<h2>Joints</h2>
<table><tr><th>joint</th><th>mean confidence</th><th>jitter (mm)</th><th>jitter (px)</th></tr>
{joints}</table>
<h2>Bone-length coefficient of variation</h2>
<table><tr><th>bone</th><th>median length (mm)</th><th>CV</th></tr>{bones}</table>
</body></html>
"""


def write_quality_report(report: QualityReport, out_dir: Path, stem: str) -> list[Path]:
    """Write ``<stem>.quality.json`` and ``<stem>.quality.html`` atomically."""
    json_path = out_dir / f"{stem}.quality.json"
    html_path = out_dir / f"{stem}.quality.html"
    write_model_atomic(json_path, report)
    write_bytes_atomic(html_path, render_quality_html(report).encode("utf-8"))
    return [json_path, html_path]


def quality_report_path(results_dir: Path, video: str) -> Path:
    """Default location of a video's report: ``<results_dir>/visualize/<stem>.quality.json``."""
    return quality_path(Path(results_dir) / VISUALIZE_DIR, video)


def load_quality_reports(results_dir: Path) -> dict[str, QualityReport]:
    """Quality reports found in ``<results_dir>/visualize/``, by video name.

    For ``neuropose status JOB`` and the dashboard: pass ``out/<job>``.
    A folder without reports gives an empty dict.

    Raises
    ------
    InvalidDocumentError
        A report exists but is corrupt (never silently skipped).
    """
    folder = Path(results_dir) / VISUALIZE_DIR
    if not folder.is_dir():
        return {}
    reports = [load_model(p, QualityReport) for p in sorted(folder.glob("*.quality.json"))]
    return {r.video: r for r in reports}
