"""The files of one job that its page shows and links to (read only).

::

    out/<job>/results.json                      metadata, provenance, metrics; download
    out/<job>/<name>.report.json (+ .csv)       analyze reports; download
    out/<job>/visualize/<stem>.quality.json     QC (neuropose.quality renders it), verdict
    out/<job>/visualize/<stem>.overlay.mp4      player (else <stem>.skeleton.mp4)
    out/<job>/visualize/<stem>.3d.mp4           3D view
    out/<job>/visualize/<stem>.angles.png       plots (.svg: download)
    out/<job>/visualize/<stem>.confidence.png
    out/<job>/visualize/<stem>.preview.png      poster of the player / preview image
    out/<job>/visualize/render.json             the daemon's render step (failed: shown)
    out/<job>/export/*                          exports; download

Job and video names come from file names that outsiders choose, so nothing
in a URL is ever used to build a path here: the URL's job name is looked up
among the keys of the status file, and paths are built from the *status
file's* names after checking that they are plain names that resolve inside
``data_dir/out``. The server opens the files themselves again through
:func:`neuropose.monitor.files.open_job_file` (confined to the job's folder).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from neuropose.datadir.layout import EXPORT_DIR, RESULTS_FILE, VISUALIZE_DIR, DataDir
from neuropose.errors import NeuroPoseError
from neuropose.io import load_json, load_model
from neuropose.monitor.files import content_type_for
from neuropose.schemas import JobResults, JobStatusEntry
from neuropose.schemas.quality import QualityReport
from neuropose.schemas.render import RenderRecord

__all__ = [
    "MAX_QUALITY_BYTES",
    "SERVED_FOLDERS",
    "Download",
    "JobFiles",
    "VideoVisuals",
    "is_analyze_output",
    "job_files",
    "job_output_dir",
    "served_at_job_root",
]

#: Largest quality.json the job page reads, bytes.
MAX_QUALITY_BYTES = 1_000_000

#: Most files listed for download (a job folder is not a file browser).
MAX_LISTED = 200


def _plain_name(name: str) -> bool:
    return bool(name) and name not in {".", ".."} and "/" not in name and "\x00" not in name


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
    except (ValueError, OSError):
        return False
    return True


def is_analyze_output(name: str) -> bool:
    """Whether a file of ``out/<job>/`` is an analyze report or one of its tables.

    ``neuropose analyze -o out/<job>/<name>.report.json`` writes the report and
    its tables ``<name>.report.<table>.csv`` there.

    >>> is_analyze_output("gait.report.json"), is_analyze_output("gait.report.steps.csv")
    (True, True)
    >>> is_analyze_output("status.json"), is_analyze_output("x.report.exe")
    (False, False)
    """
    return ".report." in name and name.endswith((".report.json", ".csv"))


#: Sub-folders of ``out/<job>/`` whose files are served (``/jobs/<job>/<folder>/<file>``).
SERVED_FOLDERS = (VISUALIZE_DIR, EXPORT_DIR)


def served_at_job_root(name: str) -> bool:
    """Whether ``out/<job>/<name>`` may be served: ``results.json`` and analyze reports.

    >>> served_at_job_root("results.json"), served_at_job_root("gait.report.steps.csv")
    (True, True)
    >>> served_at_job_root("status.json")
    False
    """
    return name == RESULTS_FILE or is_analyze_output(name)


def job_output_dir(data_dir: Path, name: str) -> Path | None:
    """``out/<job>`` of the status-file job ``name``, or ``None`` when ``name`` is not a
    plain file name or the folder would resolve outside ``data_dir/out``."""
    layout = DataDir(data_dir)
    if not _plain_name(name):
        return None
    job_dir = layout.job(name).output
    return job_dir if _inside(job_dir, layout.out_dir) else None


@dataclass(frozen=True)
class VideoVisuals:
    """Rendered outputs of one video, as file names inside ``out/<job>/visualize/``.

    ``player`` is the overlay video, or the skeleton-only one when there is no
    overlay; every attribute is ``None`` when its file does not exist.
    """

    player: str | None = None
    view3d: str | None = None
    angles: str | None = None
    confidence: str | None = None
    preview: str | None = None
    others: tuple[str, ...] = ()  # further files of this video (svg, html, skeleton...)

    @property
    def any(self) -> bool:
        """Whether anything was rendered for this video."""
        return any((self.player, self.view3d, self.angles, self.confidence, self.preview))


@dataclass(frozen=True)
class Download:
    """One downloadable file: ``path`` below ``/jobs/<job>/``, its group and size in bytes."""

    path: str
    group: str
    size: int


@dataclass(frozen=True)
class JobFiles:
    """Files of one job, with names taken from the status file (never from a URL).

    Attributes
    ----------
    results : JobResults or None
        Parsed ``results.json`` when present and valid.
    results_error : str or None
        Why ``results.json`` could not be read (absent files are not errors).
    videos : tuple of str
        Video names in processing order (from results, else from status);
        ``/jobs/<job>/preview/<index>`` indexes this list.
    quality : dict of str to QualityReport
        Valid ``<stem>.quality.json`` per video name.
    quality_unrecognised : dict of str to (str, object)
        Quality files that are JSON but not a report this version reads:
        why, and the parsed JSON (shown key by key).
    quality_errors : dict of str to str
        Why a quality file could not be read at all, per video name.
    previews : dict of int to Path
        Existing preview PNGs by video index.
    visuals : dict of int to VideoVisuals
        Rendered outputs by video index (videos with none are absent).
    downloads : tuple of Download
        ``results.json``, analyze reports and exports, in that order.
    render : RenderRecord or None
        The daemon's render step record, when there is one.
    render_error : str or None
        Why ``render.json`` could not be read.
    """

    results: JobResults | None
    results_error: str | None
    videos: tuple[str, ...]
    quality: dict[str, QualityReport]
    quality_unrecognised: dict[str, tuple[str, Any]]
    quality_errors: dict[str, str]
    previews: dict[int, Path]
    visuals: dict[int, VideoVisuals] = field(default_factory=dict)
    downloads: tuple[Download, ...] = ()
    render: RenderRecord | None = None
    render_error: str | None = None


def _files_in(folder: Path) -> dict[str, int]:
    """Servable regular files of ``folder`` (plain names, known types): name -> size."""
    out: dict[str, int] = {}
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return out
    for e in entries:
        if e.name.startswith(".") or content_type_for(e.name) is None:
            continue
        try:
            if e.is_file() and _inside(Path(e.path), folder):
                out[e.name] = e.stat().st_size
        except OSError:
            continue
    return out


def _visuals(stem: str, present: dict[str, int]) -> VideoVisuals:
    def have(suffix: str) -> str | None:
        name = f"{stem}.{suffix}"
        return name if name in present else None

    player = have("overlay.mp4") or have("skeleton.mp4")
    shown = {
        player,
        have("3d.mp4"),
        have("angles.png"),
        have("confidence.png"),
        have("preview.png"),
        have("quality.json"),
    }
    others = tuple(n for n in present if n.startswith(f"{stem}.") and n not in shown)
    return VideoVisuals(
        player=player,
        view3d=have("3d.mp4"),
        angles=have("angles.png"),
        confidence=have("confidence.png"),
        preview=have("preview.png"),
        others=others,
    )


def job_files(
    data_dir: Path,
    name: str,
    entry: JobStatusEntry,
    load_results: Callable[[Path], JobResults] | None = None,
) -> JobFiles:
    """Locate and read the per-job files of the status-file job ``name``.

    ``name`` must be a key of the status file. A name that is not a plain
    file name, or a path that would resolve outside ``data_dir/out``, yields
    no files at all. ``load_results(path)`` reads ``results.json`` (default
    :func:`neuropose.io.load_model`; the monitor passes its cached reader).
    """
    empty = JobFiles(None, None, tuple(v.name for v in entry.videos), {}, {}, {}, {})
    job_dir = job_output_dir(data_dir, name)
    if job_dir is None:
        return empty
    paths = DataDir(data_dir).job(name)
    results: JobResults | None = None
    results_error: str | None = None
    results_path = paths.results
    if results_path.is_file():
        try:
            results = (load_results or _load_results)(results_path)
        except NeuroPoseError as exc:
            results_error = exc.message
        except OSError as exc:
            results_error = f"{results_path}: cannot read ({exc.strerror or exc})"
    videos = (
        tuple(v.video for v in results.videos)
        if results is not None
        else tuple(v.name for v in entry.videos)
    )
    quality: dict[str, QualityReport] = {}
    unrecognised: dict[str, tuple[str, Any]] = {}
    quality_errors: dict[str, str] = {}
    previews: dict[int, Path] = {}
    visuals: dict[int, VideoVisuals] = {}
    vis_dir = paths.visualize
    present = _files_in(vis_dir) if vis_dir.is_dir() else {}
    for index, video in enumerate(videos):
        stem = Path(video).stem
        if not _plain_name(video) or not stem or stem.startswith("."):
            continue
        qpath = paths.quality(video)
        if qpath.name in present:
            _read_quality(qpath, video, quality, unrecognised, quality_errors)
        vis = _visuals(stem, present)
        if vis.preview is not None:
            previews[index] = vis_dir / vis.preview
        if vis.any:
            visuals[index] = vis
    top = _files_in(job_dir)
    downloads = [Download(RESULTS_FILE, "results", top[RESULTS_FILE])] if results else []
    downloads += [Download(n, "analysis", s) for n, s in top.items() if is_analyze_output(n)]
    downloads += [
        Download(f"{EXPORT_DIR}/{n}", "exports", s) for n, s in _files_in(paths.export).items()
    ]
    downloads += [
        Download(f"{VISUALIZE_DIR}/{n}", "visuals", s)
        for n, s in present.items()
        if not n.endswith(".preview.png") and n != paths.render_record.name
    ]
    render: RenderRecord | None = None
    render_error: str | None = None
    if paths.render_record.name in present or paths.render_record.is_file():
        try:
            render = load_model(paths.render_record, RenderRecord)
        except NeuroPoseError as exc:
            render_error = exc.message
        except OSError as exc:
            render_error = f"{paths.render_record}: cannot read ({exc.strerror or exc})"
    return JobFiles(
        results,
        results_error,
        videos,
        quality,
        unrecognised,
        quality_errors,
        previews,
        visuals,
        tuple(downloads[:MAX_LISTED]),
        render,
        render_error,
    )


def _load_results(path: Path) -> JobResults:
    return load_model(path, JobResults)


def _read_quality(
    path: Path,
    video: str,
    quality: dict[str, QualityReport],
    unrecognised: dict[str, tuple[str, Any]],
    errors: dict[str, str],
) -> None:
    """Sort one quality file into valid / JSON but not a report / unreadable."""
    try:
        if path.stat().st_size > MAX_QUALITY_BYTES:
            errors[video] = f"{path}: larger than {MAX_QUALITY_BYTES:,} bytes, not read"
            return
        quality[video] = load_model(path, QualityReport)
    except OSError as exc:
        errors[video] = f"{path}: cannot read ({exc.strerror or exc})"
    except NeuroPoseError as exc:
        try:
            unrecognised[video] = (exc.message, load_json(path))
        except NeuroPoseError as again:
            errors[video] = again.message
