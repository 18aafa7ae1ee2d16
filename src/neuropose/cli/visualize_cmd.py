"""``neuropose visualize``: overlay video, 3D view, plots and quality report.

See :mod:`neuropose.visualize.pipeline` for the files written. Never imports
TensorFlow; matplotlib and the drawing code load only when the command runs.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from neuropose.cli.app import app, err_console, out_console, state
from neuropose.cli.inputs import RESULTS_EXPECTED, RESULTS_KINDS, require

if TYPE_CHECKING:
    from neuropose.schemas.triangulation import Triangulation


@contextlib.contextmanager
def _progress() -> Iterator[Callable[[str], Callable[[int, int], None]] | None]:
    if not err_console.is_terminal:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
    ) as bar:

        def factory(desc: str) -> Callable[[int, int], None]:
            task = bar.add_task(desc, total=None)

            def update(done: int, total: int) -> None:
                bar.update(task, completed=done, total=max(total, done))

            return update

        yield factory


@app.command("visualize")
def visualize(
    ctx: typer.Context,
    results: Annotated[Path, typer.Argument(help="results.json of a job.")],
    video: Annotated[
        Path | None,
        typer.Option("--video", help="Original video (file, or its folder) for the overlay."),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Output folder (default: <results dir>/visualize)."),
    ] = None,
    overlay: Annotated[bool, typer.Option("--overlay", help="Skeleton over the video.")] = False,
    skeleton_only: Annotated[
        bool, typer.Option("--skeleton-only", help="Skeleton on grey, no patient pixels.")
    ] = False,
    view3d: Annotated[bool, typer.Option("--3d", help="3D skeleton clip.")] = False,
    plots: Annotated[bool, typer.Option("--plots", help="Angle and confidence plots.")] = False,
    reprojection: Annotated[
        bool,
        typer.Option(
            "--reprojection",
            help="Multi-view trials: per view, detected 2D vs the triangulated 3D reprojected.",
        ),
    ] = False,
    gait: Annotated[
        bool | None,
        typer.Option(
            "--gait/--no-gait",
            help="Mark heel strikes/toe offs on the angle plot (default: only when a stored "
            "segmentation is gait-like).",
            show_default=False,
        ),
    ] = None,
    frames: Annotated[
        str | None,
        typer.Option("--frames", help="Frame range START:STOP (STOP exclusive), e.g. 100:400."),
    ] = None,
) -> None:
    """Render visual checks of a results file; with no output flag, render everything.

    The quality report (<video>.quality.json/.html) is always written.
    """
    from neuropose.quality import summarize_quality
    from neuropose.visualize.pipeline import (
        VisualizeOptions,
        parse_frame_range,
        visualize_results,
    )

    require(results, "visualize", RESULTS_KINDS, RESULTS_EXPECTED)
    state(ctx).load()
    opts = VisualizeOptions(
        overlay=overlay,
        skeleton_only=skeleton_only,
        view3d=view3d,
        plots=plots,
        frames=parse_frame_range(frames) if frames is not None else None,
        video=video,
        gait=gait,
        reprojection=reprojection,
    )
    with _progress() as factory:
        res = visualize_results(results, out_dir=output, options=opts, progress_factory=factory)
    for note in res.notes:
        err_console.print(f"note: {note}", markup=False)
    for report in res.reports:
        out_console.print(f"quality of {report.video}:", markup=False)
        for label, value in summarize_quality(report)[1:]:
            out_console.print(f"  {label}: {value}", markup=False)
    if res.triangulation is not None:
        print_camera_summary(res.triangulation)
    out_console.print(f"wrote {len(res.written)} files to {res.out_dir}:", markup=False)
    for p in res.written:
        out_console.print(f"  {p.name}", markup=False)


def print_camera_summary(tri: Triangulation) -> None:
    """Per-camera reprojection figures (one line each) and the triangulation's warnings."""
    from neuropose.multiview.summary import summary_line, view_summaries

    out_console.print("reprojection per camera:", markup=False)
    for s in view_summaries(tri):
        out_console.print(f"  {summary_line(s)}", markup=False, soft_wrap=True)
    for w in tri.warnings:
        out_console.print(f"warning: {w}", markup=False, soft_wrap=True)


def render_job_again(data_dir: Path, job: str) -> None:
    """``neuropose retry --render-only JOB``: render a completed job's visuals again.

    Renders into ``out/<job>/visualize/`` exactly as the daemon's render step
    does (:class:`neuropose.interfacer.renders.JobRenders`) and records the
    outcome in ``render.json``. A failed render raises :class:`ProcessingError`
    (exit code 1) with the reason; the job's results and state are untouched.
    """
    from neuropose.datadir import DataDir, UnknownJobError, read_status
    from neuropose.errors import InputError, ProcessingError
    from neuropose.interfacer.renders import JobRenders
    from neuropose.schemas import JobState

    layout = DataDir(data_dir)
    entry = read_status(data_dir).jobs.get(job)
    if entry is None:
        raise UnknownJobError(
            f"no job {job!r} in {data_dir}", hint="run `neuropose status` to list jobs"
        )
    results = layout.job(job).results
    if entry.state is not JobState.COMPLETED or not results.is_file():
        raise InputError(
            f"job {job!r} is {entry.state.value}, not completed: there is nothing to render",
            hint="--render-only redoes the visuals of a completed job; retry a failed job "
            "without it",
        )
    record = JobRenders(layout).render(job)
    if record.state != "done":
        raise ProcessingError(
            f"rendering the visuals of {job} failed: {record.error}",
            hint=f"the job stays completed; fix the cause, then run "
            f"`neuropose retry --render-only {job}` again",
        )
    out_console.print(f"rendered {len(record.files)} file(s) into {layout.job(job).visualize}")
    for note in record.notes:
        out_console.print(f"note: {note}")
