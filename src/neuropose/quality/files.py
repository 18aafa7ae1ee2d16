"""Where quality reports live on disk, and their atomic writes and validated reads.

Files (per video, in ``out/<job>/visualize/`` or ``neuropose visualize``'s folder)::

    <stem>.quality.json   QualityReport (neuropose.schemas.quality)
    <stem>.quality.html   self-contained page (no scripts, no external resources)

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
from neuropose.schemas.predictions import JobResults
from neuropose.schemas.quality import QualityReport

__all__ = [
    "load_quality_reports",
    "quality_report_path",
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


def write_job_quality_reports(
    results: JobResults, out_dir: Path
) -> list[tuple[QualityReport, list[Path]]]:
    """Build and write the report of every video of ``results`` into ``out_dir`` (created).

    The daemon calls it when a job completes (``out_dir`` = ``out/<job>/visualize``),
    ``neuropose visualize`` for its output folder.

    Returns
    -------
    list of (QualityReport, list of Path)
        Each video's report and the files written for it, in video order.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for vp in results.videos:
        report = build_quality_report(vp, job_id=results.job_id)
        written.append((report, write_quality_report(report, out_dir, _stem(vp.video))))
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
