"""``neuropose visualize``: every visual output of one results file.

Output layout
-------------
Into ``out_dir`` (default ``<results dir>/visualize/``), per video with file
stem ``<stem>`` (the video's name without its extension)::

    <stem>.overlay.mp4        original frames + 2D skeleton (H.264)   --overlay
    <stem>.skeleton.mp4       same drawing on neutral grey, no pixels  --skeleton-only
    <stem>.3d.mp4             3D skeleton clip, fixed viewpoint        --3d
    <stem>.angles.png/.svg    joint angles over time, segments marked  --plots
                              (+ gait events with --gait, or automatically
                              when a stored segmentation is gait-like)
    <stem>.confidence.png/.svg  per-joint confidence over time         --plots
    <stem>.quality.json       QualityReport                            always
    <stem>.quality.html       human-readable quality summary           always
    <stem>.preview.png        one representative overlay frame         with a video output

A multi-view trial (results with a ``triangulation``) also gets::

    <stem>.reprojection.mp4   per view: detected 2D vs the 3D reprojected   --reprojection
    <stem>.reprojection.png   (neuropose.visualize.reprojection); the PNG is the
                              reference frame with most triangulated joints
    world3d.mp4 / .png        the triangulated subject in the world frame   --3d
                              with the floor and the cameras (view3d.WorldView)

With none of ``--overlay/--skeleton-only/--3d/--plots`` everything is made;
the overlay only when the original video can be found (``--video``, beside
``results.json``, or ``<data_dir>/in/<job>/``), otherwise the skeleton-only
video is made instead. Every file is written atomically; a failure leaves
earlier outputs of the run in place and no partial file.

The original video must be the one the predictions came from: its SHA-256
is compared with ``Provenance.input_sha256`` and a mismatch is an
:class:`~neuropose.errors.InputError`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from neuropose.analyzer.load import load_results
from neuropose.datadir.layout import OPENSIM_DIR, VISUALIZE_DIR, DataDir
from neuropose.errors import InputError
from neuropose.io import remove_stale_temp_files, sha256_file
from neuropose.quality import build_quality_report, load_opensim_record, write_quality_report
from neuropose.schemas.predictions import JobResults, VideoPredictions
from neuropose.schemas.quality import QualityReport
from neuropose.schemas.triangulation import Triangulation
from neuropose.visualize.overlay import FrameRange, nominal_fps, render_overlay
from neuropose.visualize.plots import (
    looks_like_gait,
    plot_angles,
    plot_confidence,
    plot_triangulated_angles,
    subject_gait_events,
)
from neuropose.visualize.reprojection import render_reprojection
from neuropose.visualize.view3d import render_3d, render_world_3d

__all__ = [
    "VisualizeOptions",
    "VisualizeResult",
    "find_video",
    "parse_frame_range",
    "visualize_results",
]

log = logging.getLogger(__name__)

#: ``progress_factory(description)`` returns ``progress(done, total)``.
ProgressFactory = Callable[[str], Callable[[int, int], None]]


def parse_frame_range(text: str) -> FrameRange:
    """Parse ``START:STOP`` (decode indices, STOP exclusive; either may be empty).

    Examples
    --------
    >>> parse_frame_range("10:20"), parse_frame_range(":5"), parse_frame_range("7:")
    ((10, 20), (0, 5), (7, None))
    """
    m = re.fullmatch(r"\s*(\d*)\s*:\s*(\d*)\s*", text)
    if m is None:
        raise InputError(
            f"--frames {text!r} is not a range",
            hint="use START:STOP in frame numbers, e.g. 100:400, :300 or 250:",
        )
    start = int(m.group(1)) if m.group(1) else 0
    stop = int(m.group(2)) if m.group(2) else None
    if stop is not None and stop <= start:
        raise InputError(f"--frames {text!r} is empty", hint="STOP must be greater than START")
    return start, stop


def find_video(
    results_path: Path, vp: VideoPredictions, given: Path | None, *, n_videos: int = 1
) -> Path | None:
    """Locate the original video of ``vp``.

    ``given`` may be the video file (when the job has one video or the
    name matches) or a directory holding it. Without it, the results
    directory and ``<data_dir>/in/<job>/`` are searched. Returns None when
    nothing is found.

    Raises
    ------
    InputError
        The found file's SHA-256 differs from ``vp.provenance.input_sha256``.
    """
    candidates: list[Path] = []
    if given is not None:
        if given.is_dir():
            candidates.append(given / vp.video)
        elif given.name == vp.video or n_videos == 1:
            candidates.append(given)
        elif not given.exists():
            raise InputError(f"--video {given}: file not found")
    else:
        rdir = results_path.parent
        job_inputs = DataDir(rdir.parent.parent).job(rdir.name).input  # out/<job> -> in/<job>
        candidates += [rdir / vp.video, job_inputs / vp.video]
    for c in candidates:
        if c.is_file():
            digest = sha256_file(c)
            if digest != vp.provenance.input_sha256:
                raise InputError(
                    f"{c}: this is not the video the predictions of {vp.video} were made from "
                    f"(SHA-256 {digest[:12]}…, results say {vp.provenance.input_sha256[:12]}…)",
                    hint="pass the original video with --video, or use --skeleton-only",
                )
            return c
    return None


@dataclass(frozen=True)
class VisualizeOptions:
    """What to render (see the module docstring); all False means everything."""

    overlay: bool = False
    skeleton_only: bool = False
    view3d: bool = False
    plots: bool = False
    frames: FrameRange | None = None
    video: Path | None = None
    preset: str = "ultrafast"
    gait: bool | None = None
    reprojection: bool = False

    @property
    def everything(self) -> bool:
        flags = (self.overlay, self.skeleton_only, self.view3d, self.plots, self.reprojection)
        return not any(flags)


@dataclass
class VisualizeResult:
    """Files written and quality reports of one run."""

    out_dir: Path
    written: list[Path] = field(default_factory=list)
    reports: list[QualityReport] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    triangulation: Triangulation | None = None


def _stem(name: str) -> str:
    return Path(name).stem or name


def visualize_results(
    results_path: Path,
    *,
    out_dir: Path | None = None,
    options: VisualizeOptions | None = None,
    progress_factory: ProgressFactory | None = None,
) -> VisualizeResult:
    """Render the requested outputs for every video of a ``results.json``.

    Parameters
    ----------
    results_path : Path
        A :class:`~neuropose.schemas.JobResults` file.
    out_dir : Path, optional
        Destination; default ``<results dir>/visualize``. Created if missing.
    options : VisualizeOptions, optional
        What to render.
    progress_factory : callable, optional
        Gives a ``progress(done, total)`` callback per rendering step.

    Returns
    -------
    VisualizeResult

    Raises
    ------
    InvalidDocumentError
        ``results_path`` is missing, corrupt or not a results file.
    InputError
        Bad ``--frames``, a wrong or undecodable video, or an explicitly
        requested output that cannot be made (overlay without a video, plots
        without a subject).
    """
    opts = options or VisualizeOptions()
    results = load_results(results_path)  # with its segmentations sidecar
    target = out_dir if out_dir is not None else results_path.parent / VISUALIZE_DIR
    target.mkdir(parents=True, exist_ok=True)
    for stale in remove_stale_temp_files(target):
        log.info("removed %s left by an interrupted run", stale.name)
    res = VisualizeResult(out_dir=target)
    every = opts.everything

    def prog(desc: str) -> Callable[[int, int], None] | None:
        return progress_factory(desc) if progress_factory is not None else None

    for vp in results.videos:
        stem = _stem(vp.video)
        # `neuropose opensim` writes beside the results: keep its IK summary in the report.
        ik = load_opensim_record(results_path.parent / OPENSIM_DIR, vp.video)
        report = build_quality_report(vp, job_id=results.job_id, opensim=ik)
        res.written += write_quality_report(report, target, stem)
        res.reports.append(report)

        if opts.overlay or every:
            video = find_video(results_path, vp, opts.video, n_videos=len(results.videos))
            if video is None and opts.overlay:
                raise InputError(
                    f"cannot find the original video {vp.video} for the overlay",
                    hint="pass it with --video, or use --skeleton-only for a de-identified video",
                )
            if video is not None:
                path = target / f"{stem}.overlay.mp4"
                render_overlay(
                    vp, path, video=video, frames=opts.frames, preset=opts.preset,
                    progress=prog(f"overlay {vp.video}"),
                    preview_path=target / f"{stem}.preview.png",
                )  # fmt: skip
                res.written += [path, target / f"{stem}.preview.png"]
            else:
                res.notes.append(
                    f"{vp.video}: original video not found, made the skeleton-only video instead "
                    "(pass --video for the overlay)"
                )
        made_overlay = any(p.name == f"{stem}.overlay.mp4" for p in res.written)
        if opts.skeleton_only or (every and not made_overlay):
            path = target / f"{stem}.skeleton.mp4"
            preview = None if made_overlay else target / f"{stem}.preview.png"
            render_overlay(
                vp, path, skeleton_only=True, frames=opts.frames, preset=opts.preset,
                progress=prog(f"skeleton {vp.video}"), preview_path=preview,
            )  # fmt: skip
            res.written.append(path)
            if preview is not None:
                res.written.append(preview)
        if opts.view3d or every:
            path = target / f"{stem}.3d.mp4"
            try:
                render_3d(vp, path, frames=opts.frames, progress=prog(f"3D {vp.video}"))
                res.written.append(path)
            except InputError as exc:
                if opts.view3d:
                    raise
                res.notes.append(f"3D view skipped: {exc.message}")
        if opts.plots or every:
            res.written += plot_confidence(vp, target / f"{stem}.confidence", frames=opts.frames)
            want_gait = opts.gait if opts.gait is not None else looks_like_gait(vp)
            events = subject_gait_events(vp) if want_gait else None
            if want_gait and not events:
                res.notes.append(f"{vp.video}: no gait events could be detected")
            try:
                res.written += plot_angles(
                    vp, target / f"{stem}.angles", frames=opts.frames, events=events
                )
            except InputError as exc:
                if opts.plots:
                    raise
                res.notes.append(f"angle plot skipped: {exc.message}")
    if (opts.plots or every) and results.triangulation is not None:
        try:  # world-frame angles: no monocular band (the title says triangulated)
            res.written += plot_triangulated_angles(
                results, target / "triangulated.angles", frames=opts.frames
            )
        except InputError as exc:
            res.notes.append(f"triangulated angle plot skipped: {exc.message}")
    res.triangulation = results.triangulation
    if results.triangulation is not None:
        _multiview(results, results_path, target, opts, res, prog)
    elif opts.reprojection:
        raise InputError(
            f"{results_path}: --reprojection needs a multi-view trial (results with a "
            "triangulation)",
            hint="make one with `neuropose process --calibration CALIB VIDEO... -o trial.json`",
        )
    res.written = [p for p in res.written if p.exists()]
    return res


def _multiview(
    results: JobResults,
    results_path: Path,
    target: Path,
    opts: VisualizeOptions,
    res: VisualizeResult,
    prog: Callable[[str], Callable[[int, int], None] | None],
) -> None:
    """The per-view reprojection videos and the world-frame 3D view of a triangulated trial."""
    tri = results.triangulation
    assert tri is not None
    every = opts.everything
    by_video = {vp.video: vp for vp in results.videos}
    if opts.reprojection or every:
        for link in tri.views:
            vp = by_video[link.video]
            stem = _stem(vp.video)
            video = find_video(results_path, vp, opts.video, n_videos=len(results.videos))
            if video is None:
                res.notes.append(
                    f"{vp.video}: original video not found, the reprojection check is drawn on "
                    "grey (pass --video FOLDER for the frames)"
                )
            path, png = target / f"{stem}.reprojection.mp4", target / f"{stem}.reprojection.png"
            render_reprojection(
                vp, tri, path, video=video, frames=opts.frames, preset=opts.preset,
                progress=prog(f"reprojection {vp.video}"), preview_path=png,
            )  # fmt: skip
            res.written += [path, png]
    if opts.view3d or every:
        ref = by_video[tri.views[0].video]
        try:
            for name in ("world3d.png", "world3d.mp4"):
                render_world_3d(
                    tri, target / name, frame_index=ref.frame_index, frames=opts.frames,
                    fps=nominal_fps(ref), progress=prog("3D world frame"),
                )  # fmt: skip
                res.written.append(target / name)
        except InputError as exc:
            if opts.view3d:
                raise
            res.notes.append(f"world-frame 3D view skipped: {exc.message}")
