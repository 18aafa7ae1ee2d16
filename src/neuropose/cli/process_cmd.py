"""``neuropose process``: run the estimator on videos and images from the shell.

``process`` writes one results file (a :class:`~neuropose.schemas.JobResults`
with one video, job id = input stem) per input: ``<stem>.results.json`` in
``-o DIR`` (default: the current directory), or exactly ``-o FILE.json``
for a single input. Files are written atomically; a failed input leaves no
file. Progress goes to stderr: a rich bar on a terminal, a plain line every
few seconds otherwise, nothing with ``-q``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from neuropose.cli.app import app, err_console, out_console, state
from neuropose.cli.options import (
    BatchSizeOption,
    DecodeThreadsOption,
    ModelOption,
    OpenCVThreadsOption,
    PrefetchOption,
)
from neuropose.cli.triangulate_cmd import (
    CalibrationOption,
    CameraMapOption,
    MultiViewArgs,
    OffsetOption,
    SyncSearchOption,
    process_trial,
)
from neuropose.errors import NeuroPoseError, UsageError
from neuropose.io import fit_name

if TYPE_CHECKING:
    from neuropose.config import Settings
    from neuropose.models.base import PoseModel

__all__ = ["load_timed_model", "process"]

_PLAIN_EVERY_S = 5.0


class ProcessFailures(NeuroPoseError):
    """Some inputs of ``process --keep-going`` failed; exit code of the first failure."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def load_timed_model(name: str, settings: Settings) -> tuple[PoseModel, float]:
    """Load a pose model with the registry; return it and the load time in seconds."""
    from neuropose.models import load_model  # heavy (TensorFlow) only when a model loads

    t0 = time.perf_counter()
    model = load_model(name, settings)
    return model, time.perf_counter() - t0


def _outputs(inputs: list[Path], output: Path | None) -> list[Path]:
    if output is not None and output.suffix.lower() == ".json":
        if len(inputs) != 1:
            raise UsageError(
                f"-o {output} names one file but {len(inputs)} inputs were given",
                hint="give a directory with -o when processing several inputs",
            )
        return [output]
    out_dir = output if output is not None else Path.cwd()
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"-o {out_dir} exists and is not a directory")
    paths = [out_dir / fit_name(p.stem, ".results.json") for p in inputs]
    seen: dict[Path, Path] = {}
    for inp, out in zip(inputs, paths, strict=True):
        if out in seen:
            raise UsageError(
                f"inputs {seen[out]} and {inp} would both write {out}",
                hint="process them separately with -o FILE.json",
            )
        seen[out] = inp
    return paths


class _Progress:
    """Progress display: rich bar on a TTY, periodic plain lines otherwise, or nothing."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.tty = err_console.is_terminal
        self._bar: Any = None

    def __enter__(self) -> _Progress:
        if not self.quiet and self.tty:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
            )

            self._bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[fps]:.1f} fps"),
                TimeRemainingColumn(),
                console=err_console,
                transient=True,
            )
            self._bar.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._bar is not None:
            self._bar.stop()

    def callback(self, name: str) -> Any:
        if self.quiet:
            return None
        t0 = time.perf_counter()
        last = [t0]
        task = self._bar.add_task(name, total=None, fps=0.0) if self._bar is not None else None

        def update(done: int, expected: int | None) -> None:
            now = time.perf_counter()
            fps = done / (now - t0) if now > t0 else 0.0
            if self._bar is not None:
                self._bar.update(task, completed=done, total=expected, fps=fps)
                return
            if now - last[0] >= _PLAIN_EVERY_S or done == expected:
                last[0] = now
                pct = f" ({100 * done / expected:.0f}%)" if expected else ""
                err_console.print(
                    f"{name}: {done}/{expected or '?'} frames{pct}, {fps:.1f} fps", markup=False
                )

        return update


@app.command("process")
def process(
    ctx: typer.Context,
    inputs: Annotated[list[Path], typer.Argument(help="Videos or images to process.")],
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Output directory, or FILE.json for one input."),
    ] = None,
    model: ModelOption = None,
    fov: Annotated[
        float | None, typer.Option("--fov", help="Horizontal FOV on the larger side, degrees.")
    ] = None,
    camera: Annotated[
        Path | None, typer.Option("--camera", help="camera.json/TOML with fx, fy, cx, cy.")
    ] = None,
    batch_size: BatchSizeOption = None,
    prefetch: PrefetchOption = None,
    max_persons: Annotated[
        int | None, typer.Option("--max-persons", help="Most people tracked per frame.")
    ] = None,
    subject: Annotated[
        str | None,
        typer.Option(
            "--subject", help="most_present, largest, most_central, longest_track or a track id."
        ),
    ] = None,
    keep_going: Annotated[
        bool, typer.Option("--keep-going", help="Report a failing input and continue.")
    ] = False,
    sequential: Annotated[
        bool, typer.Option("--sequential", help="Run every stage on one thread (debugging).")
    ] = False,
    allow_short_read: Annotated[
        bool,
        typer.Option("--allow-short-read", help="Accept truncated videos (recorded in results)."),
    ] = False,
    decode_threads: DecodeThreadsOption = None,
    opencv_threads: OpenCVThreadsOption = None,
    calibration: CalibrationOption = None,
    camera_map: CameraMapOption = None,
    offset: OffsetOption = None,
    sync_search: SyncSearchOption = 0,
) -> None:
    """Estimate 3D poses for each input; one results file per input.

    With --calibration the inputs are synchronised views of one trial: one
    file with every view and their triangulated world-frame 3D.
    """
    if fov is not None and camera is not None:
        raise UsageError("--fov and --camera are mutually exclusive", hint="give one of them")
    multiview = None
    if calibration is not None:
        multiview = MultiViewArgs(calibration, camera_map, offset, sync_search, 20.0, 0.3, True)
        if keep_going:
            raise UsageError("--keep-going does not apply to a multi-view trial (--calibration)")
    elif camera_map or offset or sync_search:
        raise UsageError("--camera-map, --offset and --sync-search need --calibration")
    st = state(ctx)
    settings = st.load(
        fov_degrees=fov,
        camera_file=str(camera) if camera is not None else None,
        batch_size=batch_size,
        prefetch_frames=prefetch,
        max_persons=max_persons,
        subject_rule=subject,
    ).settings
    outputs = _outputs(inputs, output) if multiview is None else []

    from neuropose import __version__
    from neuropose.estimator import Estimator
    from neuropose.io import write_model_atomic
    from neuropose.schemas import JobResults

    pose_model, load_s = load_timed_model(model or settings.default_model, settings)
    est = Estimator(
        pose_model,
        settings,
        sequential=sequential,
        allow_short_read=allow_short_read,
        decode_threads=decode_threads,
        opencv_threads=opencv_threads,
        model_load_s=load_s,
    )
    if fov is not None:
        est.camera_file = None  # --fov wins over a camera_file from config/env
    failures: list[tuple[Path, NeuroPoseError]] = []
    if multiview is not None:
        with _Progress(st.quiet) as prog:
            process_trial(
                multiview,
                inputs,
                output,
                lambda p: est.process_video(p, progress=prog.callback(p.name)),
            )
        return
    with _Progress(st.quiet) as prog:
        for inp, out in zip(inputs, outputs, strict=True):
            try:
                vp = est.process_video(inp, progress=prog.callback(inp.name))
                results = JobResults(
                    job_id=inp.stem,
                    created_at=vp.provenance.created_at,
                    neuropose_version=__version__,
                    videos=(vp,),
                )
                out.parent.mkdir(parents=True, exist_ok=True)
                write_model_atomic(out, results)
            except NeuroPoseError as exc:
                if not keep_going:
                    raise
                failures.append((inp, exc))
                err_console.print(f"failed  {inp}: {exc}", markup=False)
                continue
            m = vp.metrics
            assert m is not None
            out_console.print(
                f"ok      {inp} -> {out} ({vp.num_frames} frames, {m.fps:.1f} fps, "
                f"primary track {vp.primary_track_id}, left/right relabelled on "
                f"{vp.swap_corrected_frames()} frames)",
                markup=False,
            )
    if failures:
        raise ProcessFailures(
            f"{len(failures)} of {len(inputs)} inputs failed: "
            + ", ".join(str(p) for p, _ in failures),
            exit_code=failures[0][1].exit_code,
        )
