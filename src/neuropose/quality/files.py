"""Where quality reports live on disk, and their atomic writes and validated reads.

Files (per video, in ``out/<job>/visualize/`` or ``neuropose visualize``'s folder)::

    <stem>.quality.json   QualityReport (neuropose.schemas.quality)
    <stem>.quality.html   self-contained page (no scripts, no external resources)

An OpenSim run's ``opensim/<stem>/opensim.json`` (``neuropose opensim``) is read
from there when the reports are written with ``opensim_root``.

Examples
--------
>>> from pathlib import Path
>>> quality_report_path(Path("out/walk"), "cam01.mp4").as_posix()
'out/walk/visualize/cam01.quality.json'
"""

from __future__ import annotations

from pathlib import Path

from neuropose.datadir.layout import VISUALIZE_DIR, quality_path
from neuropose.io import fit_name, load_model, write_bytes_atomic, write_model_atomic
from neuropose.quality.html import render_quality_html
from neuropose.quality.report import build_quality_report
from neuropose.schemas.opensim import OpenSimRecord
from neuropose.schemas.predictions import JobResults
from neuropose.schemas.quality import QualityReport

__all__ = [
    "load_opensim_record",
    "load_quality_reports",
    "quality_report_path",
    "refresh_opensim_summaries",
    "write_job_quality_reports",
    "write_quality_report",
]


def _stem(video: str) -> str:
    return Path(video).stem or video


def write_quality_report(report: QualityReport, out_dir: Path, stem: str) -> list[Path]:
    """Write ``<stem>.quality.json`` and ``<stem>.quality.html`` atomically; return both paths."""
    json_path = out_dir / fit_name(stem, ".quality.json")
    html_path = out_dir / fit_name(stem, ".quality.html")
    write_model_atomic(json_path, report)
    write_bytes_atomic(html_path, render_quality_html(report).encode())
    return [json_path, html_path]


def load_opensim_record(opensim_root: Path, video: str) -> OpenSimRecord | None:
    """``<opensim_root>/<stem>/opensim.json`` of ``video``, or None when OpenSim did not run.

    Raises
    ------
    InvalidDocumentError
        The record exists but is corrupt (never silently skipped).
    """
    path = Path(opensim_root) / _stem(video) / "opensim.json"
    return load_model(path, OpenSimRecord) if path.is_file() else None


def write_job_quality_reports(
    results: JobResults, out_dir: Path, *, opensim_root: Path | None = None
) -> list[tuple[QualityReport, list[Path]]]:
    """Build and write the report of every video of ``results`` into ``out_dir`` (created).

    The daemon calls it when a job completes (``out_dir`` = ``out/<job>/visualize``),
    ``neuropose visualize`` for its output folder, ``neuropose opensim`` after
    a run (``opensim_root`` = its output folder: each video's ``opensim.json``
    found there is summarised in its report).

    Returns
    -------
    list of (QualityReport, list of Path)
        Each video's report and the files written for it, in video order.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for vp in results.videos:
        record = load_opensim_record(opensim_root, vp.video) if opensim_root else None
        report = build_quality_report(vp, job_id=results.job_id, opensim=record)
        written.append((report, write_quality_report(report, out_dir, _stem(vp.video))))
    return written


def refresh_opensim_summaries(results_path: Path, opensim_root: Path) -> list[Path]:
    """Rewrite the existing quality reports of ``results_path`` with their OpenSim summaries.

    For ``neuropose opensim``: every video of the results whose report exists
    in ``<results dir>/visualize/`` is rebuilt with the ``opensim.json`` found
    in ``opensim_root``; videos without a report are left alone (no report is
    created where none was asked for). Returns the files written.
    """
    results = load_model(results_path, JobResults)
    written: list[Path] = []
    for vp in results.videos:
        json_path = quality_report_path(Path(results_path).parent, vp.video)
        record = load_opensim_record(opensim_root, vp.video)
        if record is None or not json_path.is_file():
            continue
        report = build_quality_report(vp, job_id=results.job_id, opensim=record)
        written += write_quality_report(report, json_path.parent, _stem(vp.video))
    return written


def quality_report_path(results_dir: Path, video: str) -> Path:
    """Default location of a video's report: ``<results_dir>/visualize/<stem>.quality.json``."""
    return quality_path(Path(results_dir) / VISUALIZE_DIR, video)


def load_quality_reports(results_dir: Path) -> dict[str, QualityReport]:
    """Quality reports found in ``<results_dir>/visualize/``, by video name.

    For ``neuropose status JOB``: pass ``out/<job>``. A folder without
    reports gives an empty dict.

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
