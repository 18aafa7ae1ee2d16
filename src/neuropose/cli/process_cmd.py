"""``neuropose process``: run the estimator on videos and images from the shell.

``process`` writes one results file (a :class:`~neuropose.schemas.JobResults`
with one video, job id = input stem) per input: ``<stem>.results.json`` in
``-o DIR`` (default: the current directory), or exactly ``-o FILE.json``
for a single input. Files are written atomically; a failed input leaves no
file. Progress goes to stderr: a rich bar on a terminal, a plain line every
few seconds otherwise, nothing with ``-q``.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from neuropose.cli.app import app, err_console, out_console, state
from neuropose.cli.inputs import FileKind, require
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
from neuropose.logs import native_stderr

if TYPE_CHECKING:
    from neuropose.config import Settings
    from neuropose.models.base import PoseModel
    from neuropose.schemas import CameraIntrinsics, VideoPredictions

__all__ = ["load_timed_model", "process"]

logger = logging.getLogger(__name__)

_PLAIN_EVERY_S = 5.0


class ProcessFailures(NeuroPoseError):
    """Some inputs of ``process --keep-going`` failed; exit code of the first failure."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def load_timed_model(name: str, settings: Settings) -> tuple[PoseModel, float]:
    """Load a pose model with the registry; return it and the load time in seconds."""
    from neuropose.models import load_pose_model  # heavy (TensorFlow) only when a model loads

    t0 = time.perf_counter()
    model = load_pose_model(name, settings)
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
    from neuropose.io import fit_name  # pydantic: only when the command runs

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


class _FileProgress:
    """Progress of one input: a rich bar on a TTY, a plain line every few seconds otherwise.

    The bar lives only while its input runs and is erased by :meth:`finish`,
    so the ``ok`` line that follows starts on its own line and goes to stdout
    (a live bar would capture stdout into stderr). :meth:`finish` also prints
    the final plain line when the container's frame count was only an
    estimate, so the last line always says how many frames were done.
    """

    def __init__(self, name: str, tty: bool) -> None:
        self.name = name
        self.t0 = time.perf_counter()
        self.last_print = self.t0
        self.last_line_final = False
        self.bar: Any = None
        self.task: Any = None
        if tty:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
            )

            self.bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[fps]:.1f} fps"),
                TimeRemainingColumn(),
                console=err_console,
                transient=True,
                redirect_stdout=False,
                redirect_stderr=False,
            )
            self.task = self.bar.add_task(name, total=None, fps=0.0)
            self.bar.start()

    def _fps(self, done: int) -> float:
        elapsed = time.perf_counter() - self.t0
        return done / elapsed if elapsed > 0 else 0.0

    def update(self, done: int, expected: int | None) -> None:
        """Estimator callback: ``done`` frames of ``expected`` (None when unknown)."""
        if self.bar is not None:
            self.bar.update(self.task, completed=done, total=expected, fps=self._fps(done))
            return
        now = time.perf_counter()
        if now - self.last_print >= _PLAIN_EVERY_S or done == expected:
            self.last_print = now
            self.last_line_final = done == expected
            self._plain(done, expected)

    def finish(self, frames: int | None) -> None:
        """Erase the bar; print the final plain line if it was not printed yet."""
        if self.bar is not None:
            self.bar.stop()
            return
        if frames is not None and not self.last_line_final:
            self._plain(frames, frames)

    def _plain(self, done: int, expected: int | None) -> None:
        pct = f" ({100 * done / expected:.0f}%)" if expected else ""
        err_console.print(
            f"{self.name}: {done}/{expected or '?'} frames{pct}, {self._fps(done):.1f} fps",
            markup=False,
        )


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
        float | None,
        typer.Option(
            "--fov",
            help="Horizontal FOV on the larger side, degrees (wins over a focal length the "
            "video declares).",
        ),
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

    failures: list[tuple[Path, NeuroPoseError]] = []
    todo = _checked_inputs(inputs, keep_going, failures)
    if not todo:
        raise _failed(failures, len(inputs))
    if multiview is None:  # the output of each input that passed the checks
        out_of = dict(zip(inputs, outputs, strict=True))
        outputs = [out_of[p] for p in todo]

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
        est.use_container_focal = False  # ... and over a focal length the container declares

    def run(path: Path, intrinsics: CameraIntrinsics | None = None) -> VideoPredictions:
        prog = None if st.quiet else _FileProgress(path.name, err_console.is_terminal)
        frames: int | None = None
        native_before = native_stderr.count()
        try:
            vp = est.process_video(
                path, progress=prog.update if prog is not None else None, intrinsics=intrinsics
            )
            frames = vp.num_frames
            return vp
        finally:
            if prog is not None:
                prog.finish(frames)
            _summarise_native(path, native_stderr.count() - native_before)

    if multiview is not None:
        process_trial(multiview, inputs, output, run)
        return
    for inp, out in zip(todo, outputs, strict=True):
        try:
            vp = run(inp)
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
        raise _failed(failures, len(inputs))


def _failed(failures: list[tuple[Path, NeuroPoseError]], total: int) -> NeuroPoseError:
    if len(failures) == 1 and total == 1:
        return failures[0][1]
    return ProcessFailures(
        f"{len(failures)} of {total} inputs failed: " + ", ".join(str(p) for p, _ in failures),
        exit_code=failures[0][1].exit_code,
    )


def _checked_inputs(
    inputs: list[Path], keep_going: bool, failures: list[tuple[Path, NeuroPoseError]]
) -> list[Path]:
    """Inputs that are videos/images with a readable header, checked before the model loads.

    Without ``keep_going`` the first bad input raises; with it, bad inputs are
    reported, appended to ``failures`` and left out.
    """
    todo = list(inputs)
    kinds = {FileKind.VIDEO, FileKind.IMAGE}
    for check in (
        lambda p: require(p, "process", kinds, "videos or images"),  # no heavy import yet
        _probe,
    ):
        passed = []
        for inp in todo:
            try:
                check(inp)
            except NeuroPoseError as exc:
                if not keep_going:
                    raise
                failures.append((inp, exc))
                err_console.print(f"failed  {inp}: {exc}", markup=False)
                continue
            passed.append(inp)
        todo = passed
    return todo


def _probe(path: Path) -> None:
    from neuropose.video.reader import probe_video  # OpenCV: only once every name checked out

    probe_video(path)


def _summarise_native(inp: Path, lines: int) -> None:
    """One log line instead of what FFmpeg/OpenCV/LiteRT printed while ``inp`` ran."""
    if lines > 0:
        logger.info(
            "%s: %d message%s from native libraries (FFmpeg, OpenCV, LiteRT); -vv shows them",
            inp.name,
            lines,
            "" if lines == 1 else "s",
        )
