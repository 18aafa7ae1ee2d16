"""``neuropose visualize``: overlay video, 3D view, plots and quality report.

See :mod:`neuropose.visualize.pipeline` for the files written. Never imports
TensorFlow; matplotlib and the drawing code load only when the command runs.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated

import typer

from neuropose.cli.app import app, err_console, out_console, state
from neuropose.cli.inputs import RESULTS_EXPECTED, RESULTS_KINDS, require


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
    )
    with _progress() as factory:
        res = visualize_results(results, out_dir=output, options=opts, progress_factory=factory)
    for note in res.notes:
        err_console.print(f"note: {note}", markup=False)
    for report in res.reports:
        out_console.print(f"quality of {report.video}:", markup=False)
        for label, value in summarize_quality(report)[1:]:
            out_console.print(f"  {label}: {value}", markup=False)
    out_console.print(f"wrote {len(res.written)} files to {res.out_dir}:", markup=False)
    for p in res.written:
        out_console.print(f"  {p.name}", markup=False)
