"""The job daemon behind ``neuropose watch``.

Data-directory layout
---------------------
::

    data_dir/
      neuropose.lock                  held (flock) by the one running daemon
      status.json                     aggregated StatusFile (job transitions)
      in/<job>/                       queued job: videos (+ optional READY)
      out/<job>/status.json           live JobStatusEntry (heartbeats, progress)
      out/<job>/partial/inputs.json   size + mtime of each input when started
      out/<job>/partial/<video>.pred.json   one-video JobResults of a finished video
      out/<job>/partial/<video>.ckpt.json   mid-video checkpoint
      out/<job>/results.json          JobResults, written once when complete
      out/<job>/visualize/<video>.quality.{json,html}   per-video quality report
      failed/<job>/                   quarantined inputs of a failed job
      .staging/                       ingest's area; never looked inside

Paths are spelled in :mod:`neuropose.datadir.layout`. Inputs of a completed
job stay in ``in/<job>`` (patient data is never deleted);
``out/<job>/results.json`` marks the job done and it is skipped. On start,
under the lock, an old-layout ``out/status.json`` is moved to ``status.json``
(:func:`neuropose.datadir.status.migrate_layout`).

State transitions
-----------------
::

    (new dir in in/) -> queued -> processing -> completed
                                            -> failed       -> (retry) queued
                                            -> interrupted  -> (restart) processing
                       processing (daemon died) -> processing, attempt + 1
                       processing (died max_attempts times) -> failed (poison)

One log line is written per transition.

Crash invariants (what a reader sees after a crash at each step)
-----------------------------------------------------------------
Every file is written with :func:`neuropose.io.write_model_atomic`, so each
file is always either its complete old or complete new version.

1. Crash while a video is being processed: ``status`` shows ``processing``
   with an attempt record without outcome; the next start counts a crash,
   resumes from ``<video>.ckpt.json`` (or the video's start) with attempt + 1,
   and reuses every finished ``<video>.pred.json``.
2. Crash after ``results.json`` was written but before ``completed`` was
   recorded: the next start finds a valid ``results.json`` and records
   ``completed`` without processing again (each job completes exactly once).
3. Crash after ``failed`` was recorded but before the inputs moved to
   ``failed/``: the job is in ``in/`` with state ``failed``, which is exactly
   what ``neuropose retry`` produces, so it is retried once more.
4. A corrupt ``status.json`` is never treated as empty: the daemon
   refuses to start and says how to recover.
5. Temporary files of interrupted writes are deleted at start.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel

from neuropose import __version__
from neuropose.config import Settings
from neuropose.datadir.layout import DataDir
from neuropose.datadir.lock import ExclusiveLock
from neuropose.datadir.staging import clean_staging
from neuropose.datadir.status import (
    migrate_layout,
    read_status,
    write_aggregate_status,
    write_job_status,
)
from neuropose.errors import (
    InputError,
    Interrupted,
    InvalidDocumentError,
    NeuroPoseError,
    ProcessingError,
    ResourceError,
)
from neuropose.interfacer.discovery import StabilityTracker, list_videos
from neuropose.interfacer.signals import GracefulStop
from neuropose.io import (
    fit_name,
    load_model,
    remove_stale_temp_files,
    write_json_atomic,
    write_model_atomic,
)
from neuropose.multiview.job import camera_summaries, find_spec, triangulate_job
from neuropose.quality import write_job_quality_reports
from neuropose.schemas.predictions import JobResults, VideoPredictions
from neuropose.schemas.status import AttemptRecord, JobState, JobStatusEntry, VideoProgress
from neuropose.timefmt import utc_now

__all__ = [
    "DaemonStopped",
    "Interfacer",
    "JobVanishedError",
    "NoVideosError",
    "PoisonJobError",
    "ProcessorFactory",
    "RunSummary",
    "VideoProcessor",
    "build_processor",
    "describe_error",
]

logger = logging.getLogger(__name__)


class NoVideosError(InputError):
    """A job directory holds no file with a video or image extension."""


class JobVanishedError(InputError):
    """The job's input directory disappeared while it was queued or processing."""


class PoisonJobError(ProcessingError):
    """A job crashed the daemon ``max_attempts`` times and was quarantined."""


class DaemonStopped(Interrupted):
    """The daemon stopped on a signal after checkpointing (exit code 130)."""


@runtime_checkable
class VideoProcessor(Protocol):
    """What the daemon needs to turn one video into predictions.

    The default implementation wraps :class:`neuropose.estimator.Estimator`.

    Attributes
    ----------
    checkpoint_model : type of pydantic BaseModel
        Type of the checkpoints passed to ``on_checkpoint`` and ``resume``.
    """

    checkpoint_model: type[BaseModel]

    def expected_frames(self, path: Path) -> int | None:
        """Frames the container declares, or ``None`` when unknown."""
        ...

    def process_video(
        self,
        path: Path,
        *,
        progress: Callable[[int, int | None], None],
        stop_event: threading.Event,
        checkpoint_every_frames: int,
        on_checkpoint: Callable[[Any], None],
        resume: Any | None,
    ) -> VideoPredictions:
        """Process ``path``; raise an :class:`~neuropose.errors.Interrupted` when stopped."""
        ...


ProcessorFactory = Callable[[], VideoProcessor]


def describe_error(exc: BaseException) -> str:
    """``"<ErrorType>: message"`` of an exception (message without the hint)."""
    message = exc.message if isinstance(exc, NeuroPoseError) else str(exc)
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


class _EstimatorProcessor:
    """Adapter from :class:`neuropose.estimator.Estimator` to :class:`VideoProcessor`."""

    def __init__(self, model: Any, settings: Settings) -> None:
        # Heavy imports (OpenCV), only when a job is processed.
        from neuropose.estimator import Estimator
        from neuropose.schemas.checkpoint import VideoCheckpoint

        self._estimator = Estimator(model, settings)
        self.checkpoint_model: type[BaseModel] = VideoCheckpoint

    def expected_frames(self, path: Path) -> int | None:
        from neuropose.estimator import VideoError, probe_video

        try:
            return probe_video(path).declared_frame_count
        except VideoError:  # the same error surfaces, typed, from process_video
            return None

    def process_video(self, path: Path, **kwargs: Any) -> VideoPredictions:
        result: VideoPredictions = self._estimator.process_video(path, **kwargs)
        return result


def build_processor(settings: Settings, model_spec: str | None) -> VideoProcessor:
    """Load the pose model named by ``model_spec`` and wrap it for the daemon.

    ``python:<module>:<factory>`` calls ``factory(settings)``; when the object
    it returns already implements :class:`VideoProcessor` it is used as is,
    otherwise it is a pose model run through the estimator. Any other name is
    loaded with :func:`neuropose.models.load_model`.
    """
    from neuropose.models.registry import call_python_factory, ensure_pose_model, load_model

    spec = model_spec or settings.default_model
    if not spec.startswith("python:"):
        return _EstimatorProcessor(load_model(spec, settings), settings)
    obj = call_python_factory(spec, settings)
    if isinstance(obj, VideoProcessor):
        return obj
    return _EstimatorProcessor(ensure_pose_model(obj, spec), settings)


@dataclass
class RunSummary:
    """What one :meth:`Interfacer.run` did (job ids per outcome)."""

    completed: list[str]
    failed: list[str]
    interrupted: list[str]


def _video_key(name: str) -> str:
    return name.replace(os.sep, "_")


class _JobRun:
    """Mutable progress of the job being processed (shared with the heartbeat)."""

    def __init__(self, entry: JobStatusEntry) -> None:
        self.entry = entry
        self.lock = threading.Lock()
        self.attempt_frames = 0
        self.attempt_start = time.monotonic()
        self.last_write = 0.0


class Interfacer:
    """The daemon: one instance per data directory.

    Parameters
    ----------
    settings : Settings
        Effective settings (``data_dir``, ``settle_seconds``, ``max_attempts``...).
    processor_factory : callable
        Returns the :class:`VideoProcessor`; called once, on the first job,
        so an idle daemon never loads the model.
    once : bool
        Process every job that is stable now, then return (``watch --once``).
    heartbeat_s : float, optional
        Interval of the live status heartbeat (default: a quarter of
        ``stale_after_seconds``, at most 5 s).

    Examples
    --------
    What ``neuropose watch --once --data-dir /srv/neuropose`` does:

    >>> from neuropose.config import load_settings
    >>> settings = load_settings(flags={"data_dir": "/srv/neuropose"}).settings
    >>> daemon = Interfacer(settings, lambda: build_processor(settings, None), once=True)
    >>> summary = daemon.run()  # doctest: +SKIP
    >>> summary.completed  # doctest: +SKIP
    ['walk1', 'walk2']
    """

    def __init__(
        self,
        settings: Settings,
        processor_factory: ProcessorFactory,
        *,
        once: bool = False,
        heartbeat_s: float | None = None,
    ) -> None:
        self.settings = settings
        self.data_dir = Path(settings.data_dir)
        self.layout = DataDir(self.data_dir)
        self.in_dir = self.layout.in_dir
        self.out_dir = self.layout.out_dir
        self.failed_dir = self.layout.failed_dir
        self._factory = processor_factory
        self._processor: VideoProcessor | None = None
        self.once = once
        self.heartbeat_s = heartbeat_s or min(5.0, settings.stale_after_seconds / 4)
        self.jobs: dict[str, JobStatusEntry] = {}
        self.stop = GracefulStop(settings.shutdown_grace_seconds)
        self._tracker = StabilityTracker(
            settings.settle_seconds, require_ready_marker=settings.require_ready_marker
        )
        self.summary = RunSummary([], [], [])
        self._stuck_in_in: set[str] = set()  # failed jobs whose move to failed/ did not work

    # ------------------------------------------------------------------ run
    def run(self) -> RunSummary:
        """Hold the lock, recover, then process jobs until stopped (or idle with ``once``).

        Raises
        ------
        LockHeldError
            Another daemon holds this data directory (exit code 3).
        InvalidDocumentError
            ``status.json`` is corrupt; nothing was changed (exit code 2).
        DaemonStopped
            A signal stopped the daemon after checkpointing (exit code 130).
        ResourceError
            A status file could not be written (disk full, permissions).
        """
        for d in (self.in_dir, self.out_dir, self.failed_dir):
            d.mkdir(parents=True, exist_ok=True)
        with ExclusiveLock(self.layout.lock, purpose="neuropose watch"):
            from neuropose.interfacer.doctor import run_start_checks

            run_start_checks(self.settings)
            self._load_state()  # validates the status (either layout) before changing anything
            self._migrate_layout()
            self._cleanup_temp_files()
            self._clean_staging()
            logger.info(
                "watching %s (pid %d)",
                self.in_dir,
                os.getpid(),
                extra={"fields": {"event": "daemon_start", "data_dir": str(self.data_dir)}},
            )
            with self.stop:
                self._recover()
                self._loop()
            if self.stop.event.is_set():
                waiting = ", ".join(self.summary.interrupted) or "none"
                raise DaemonStopped(
                    f"stopped by {self.stop.signal_name or 'request'}; "
                    f"interrupted jobs resume on the next start: {waiting}"
                )
        return self.summary

    # ------------------------------------------------------------ startup
    def _migrate_layout(self) -> None:
        try:
            migrate_layout(self.data_dir)
        except InvalidDocumentError as exc:
            raise InvalidDocumentError(f"refusing to start: {exc.message}", hint=exc.hint) from exc

    def _load_state(self) -> None:
        try:
            status = read_status(self.data_dir)
        except InvalidDocumentError as exc:
            raise InvalidDocumentError(
                f"refusing to start: {exc.message}",
                hint="nothing was changed. Restore the file from a backup, or run "
                "`neuropose reset --yes` to rebuild status from in/, out/ and failed/ "
                "(inputs and results.json are kept)",
            ) from exc
        self.jobs = dict(status.jobs)

    def _cleanup_temp_files(self) -> None:
        removed = []
        for d in (self.data_dir, self.out_dir, self.failed_dir):
            removed += remove_stale_temp_files(d)
        for job_out in self.out_dir.iterdir():
            if job_out.is_dir():
                removed += remove_stale_temp_files(job_out)
                removed += remove_stale_temp_files(self.layout.job(job_out.name).partial)
        for path in removed:
            logger.info("removed temporary file %s left by an interrupted write", path)

    def _clean_staging(self) -> None:
        try:
            removed = clean_staging(self.data_dir)
        except (NeuroPoseError, OSError) as exc:
            logger.warning("could not clean %s/.staging: %s", self.data_dir, exc)
            return
        if removed:
            logger.info("removed %d leftover(s) of interrupted ingests", len(removed))

    def _recover(self) -> None:
        for job_id, entry in sorted(self.jobs.items()):
            if entry.state is JobState.COMPLETED:
                # A crash while deleting checkpoints of a completed job leaves some behind.
                leftover = self.layout.job(job_id).partial
                if leftover.exists():
                    shutil.rmtree(leftover, ignore_errors=True)
                    logger.info("removed leftover checkpoints of completed job %s", job_id)
                continue
            if entry.state is not JobState.PROCESSING:
                continue
            crashes = sum(1 for h in entry.history if h.outcome is None)
            logger.warning(
                "job %s was processing when the daemon stopped (crash %d of at most %d)",
                job_id,
                crashes,
                self.settings.max_attempts,
                extra={"fields": {"event": "crash_detected", "job": job_id, "crashes": crashes}},
            )
            if crashes >= self.settings.max_attempts:
                exc = PoisonJobError(
                    f"job {job_id!r} stopped the daemon {crashes} times while processing "
                    f"(max_attempts = {self.settings.max_attempts}); quarantined"
                )
                self._fail(job_id, exc, quarantine=True)

    # ------------------------------------------------------------- loop
    def _loop(self) -> None:
        while not self.stop.event.is_set():
            job = self._next_job()
            if job is not None:
                self._process(job)
                continue
            if self.once:
                return
            self.stop.event.wait(self.settings.poll_interval_s)

    def _next_job(self) -> str | None:
        candidates = self._tracker.scan(self.in_dir)
        present = {c.job_id for c in candidates}
        changed = False
        for job_id, entry in list(self.jobs.items()):
            waiting = (JobState.QUEUED, JobState.INTERRUPTED, JobState.PROCESSING)
            gone = job_id not in present and not (self.in_dir / job_id).exists()
            if entry.state in waiting and gone:
                self._fail(job_id, JobVanishedError(f"in/{job_id} no longer exists"))
        for cand in candidates:
            known = self.jobs.get(cand.job_id)
            if known is None:
                if self.layout.job(cand.job_id).results.is_file():
                    continue  # completed earlier; its status entry was pruned
                self.jobs[cand.job_id] = self._new_entry(cand.job_id)
                self._write_live(self.jobs[cand.job_id])
                self._log_transition(cand.job_id, None, JobState.QUEUED)
                changed = True
            elif known.state is JobState.FAILED and cand.job_id not in self._stuck_in_in:
                # Inputs back in in/ with a failed status: a retry request.
                self.jobs[cand.job_id] = self._requeue(known)
                self._write_live(self.jobs[cand.job_id])
                self._log_transition(cand.job_id, JobState.FAILED, JobState.QUEUED)
                changed = True
        if changed:
            self._write_aggregate()
        runnable = (JobState.QUEUED, JobState.INTERRUPTED, JobState.PROCESSING)
        for cand in candidates:
            known = self.jobs.get(cand.job_id)
            if known is None or known.state not in runnable:
                continue
            if cand.stable:
                return cand.job_id
            logger.debug("job %s not stable yet: %s", cand.job_id, cand.reason)
        return None

    def _new_entry(self, job_id: str) -> JobStatusEntry:
        now = utc_now()
        return JobStatusEntry(job_id=job_id, state=JobState.QUEUED, queued_at=now, last_update=now)

    def _requeue(self, entry: JobStatusEntry) -> JobStatusEntry:
        return entry.model_copy(
            update={
                "state": JobState.QUEUED,
                "last_update": utc_now(),
                "finished_at": None,
                "current_video": None,
                "fps": None,
                "eta_s": None,
            }
        )

    # --------------------------------------------------------- processing
    @property
    def processor(self) -> VideoProcessor:
        if self._processor is None:
            self._processor = self._factory()
        return self._processor

    def _process(self, job_id: str) -> None:
        paths = self.layout.job(job_id)
        job_in = paths.input
        job_out = paths.output
        partial = paths.partial
        entry = self.jobs[job_id]
        previous = entry.state
        results_path = paths.results
        # Load the model before touching the job: a missing model is not the job's fault.
        processor = self.processor
        del processor
        if results_path.is_file():
            with contextlib.suppress(InvalidDocumentError):
                load_model(results_path, JobResults)
                self._complete(job_id, entry, results_path, recovered=True)
                return
            results_path.unlink()
        attempt = entry.attempts + 1
        now = utc_now()
        history = tuple(
            h if h.outcome is not None else h.model_copy(update={"error": "daemon stopped"})
            for h in entry.history
        )
        entry = entry.model_copy(
            update={
                "state": JobState.PROCESSING,
                "attempts": attempt,
                "history": (
                    *history,
                    AttemptRecord(attempt=attempt, started_at=now, pid=os.getpid()),
                ),
                "started_at": now,
                "finished_at": None,
                "last_update": now,
                "error": None,
            }
        )
        self.jobs[job_id] = entry
        self._write_live(entry)
        self._write_aggregate()
        self._log_transition(job_id, previous, JobState.PROCESSING, attempt=attempt)
        run = _JobRun(entry)
        beat = threading.Event()
        heartbeat = threading.Thread(
            target=self._heartbeat, args=(run, beat), name=f"heartbeat-{job_id}", daemon=True
        )
        heartbeat.start()
        try:
            videos = list_videos(job_in)
            if not job_in.is_dir():
                raise JobVanishedError(f"in/{job_id} no longer exists")
            if not videos:
                raise NoVideosError(
                    f"job {job_id!r} has no video files in in/{job_id}",
                    hint="put .mp4/.mov/.avi/... files directly in the job directory",
                )
            find_spec(job_in, [v.name for v in videos])  # multi-view: a bad rig fails first
            partial.mkdir(parents=True, exist_ok=True)
            self._check_inputs(partial, videos)
            self._set_videos(run, videos)
            predictions = [self._process_video(run, job_id, v, partial) for v in videos]
            if not job_in.is_dir():
                raise JobVanishedError(f"in/{job_id} was removed while it was processing")
            # --- multi-view step (neuropose.multiview.job); None for a single-view job
            triangulation = triangulate_job(predictions, job_in)
            if triangulation is not None:
                with run.lock:
                    run.entry = run.entry.model_copy(
                        update={
                            "cameras": camera_summaries(triangulation),
                            "warnings": triangulation.warnings,
                        }
                    )
            # --- end of the multi-view step
            results = JobResults(
                job_id=job_id,
                created_at=utc_now(),
                neuropose_version=__version__,
                videos=tuple(predictions),
                triangulation=triangulation,
            )
            write_model_atomic(results_path, results, indent=None)
            self._write_quality_reports(job_out, results)
            if self.settings.export_formats:  # derived data: export_job never raises
                from neuropose.export import export_job

                export_job(results, job_out / "export", self.settings.export_formats)
        except Interrupted as exc:
            beat.set()
            heartbeat.join()
            self._interrupt(job_id, run.entry, exc)
            return
        except OSError as exc:
            beat.set()
            heartbeat.join()
            if not job_in.is_dir():
                self._fail(job_id, JobVanishedError(f"in/{job_id} was removed while processing"))
            else:
                self._fail(job_id, exc, quarantine=True)
            return
        except Exception as exc:
            beat.set()
            heartbeat.join()
            self._fail(job_id, exc, quarantine=job_in.is_dir())
            return
        beat.set()
        heartbeat.join()
        self._complete(job_id, run.entry, results_path)

    def _write_quality_reports(self, job_out: Path, results: JobResults) -> None:
        """Write each video's quality report to ``out/<job>/visualize/`` (for the dashboard).

        The reports are derived data: a failure here is logged and never fails
        a job whose ``results.json`` is already complete.
        """
        try:
            write_job_quality_reports(results, self.layout.job(job_out.name).visualize)
        except (OSError, ValueError) as exc:
            logger.warning("job %s: quality report not written: %s", results.job_id, exc)

    def _check_inputs(self, partial: Path, videos: list[Path]) -> None:
        """Drop partial results of inputs that changed since they were made."""
        current = {}
        for v in videos:
            st = v.stat()
            current[v.name] = [st.st_size, st.st_mtime_ns]
        manifest = partial / "inputs.json"
        old: dict[str, Any] = {}
        if manifest.is_file():
            with contextlib.suppress(InvalidDocumentError):
                from neuropose.io import load_json

                loaded = load_json(manifest)
                old = loaded if isinstance(loaded, dict) else {}
        for name, sig in old.items():
            if current.get(name) != sig:
                for suffix in (".pred.json", ".ckpt.json"):
                    with contextlib.suppress(FileNotFoundError):
                        (partial / fit_name(_video_key(name), suffix)).unlink()
        if old != current:
            write_json_atomic(manifest, current)

    def _set_videos(self, run: _JobRun, videos: list[Path]) -> None:
        progress = []
        for v in videos:
            expected = self.processor.expected_frames(v)
            progress.append(VideoProgress(name=v.name, frames_expected=expected))
        known = [p.frames_expected for p in progress]
        total = sum(k for k in known if k is not None) if None not in known else None
        with run.lock:
            run.entry = run.entry.model_copy(
                update={"videos": tuple(progress), "frames_expected": total, "frames_done": 0}
            )
        self._write_live(run.entry)

    def _update_video(self, run: _JobRun, name: str, **changes: Any) -> None:
        videos = tuple(
            v.model_copy(update=changes) if v.name == name else v for v in run.entry.videos
        )
        done = sum(v.frames_done for v in videos)
        run.entry = run.entry.model_copy(update={"videos": videos, "frames_done": done})

    def _process_video(
        self, run: _JobRun, job_id: str, video: Path, partial: Path
    ) -> VideoPredictions:
        key = _video_key(video.name)
        pred_path = partial / fit_name(key, ".pred.json")
        ckpt_path = partial / fit_name(key, ".ckpt.json")
        if pred_path.is_file():
            try:
                pred = load_model(pred_path, JobResults).videos[0]
            except InvalidDocumentError:
                pred_path.unlink()
            else:
                with run.lock:
                    self._update_video(
                        run, video.name, state=JobState.COMPLETED, frames_done=pred.num_frames
                    )
                return pred
        if self.stop.event.is_set():
            raise DaemonStopped(f"stopped before video {video.name}")
        resume = None
        if ckpt_path.is_file():
            try:
                resume = load_model(ckpt_path, self.processor.checkpoint_model)
            except InvalidDocumentError as exc:
                logger.warning("ignoring unreadable checkpoint: %s", exc.message)
                ckpt_path.unlink()
        with run.lock:
            run.entry = run.entry.model_copy(update={"current_video": video.name})
            self._update_video(run, video.name, state=JobState.PROCESSING)
        logger.info(
            "job %s: video %s%s",
            job_id,
            video.name,
            " (resuming from checkpoint)" if resume is not None else "",
            extra={"fields": {"event": "video_start", "job": job_id, "video": video.name}},
        )
        base_done: dict[str, int | None] = {"value": None}

        def progress(frames_done: int, frames_expected: int | None) -> None:
            with run.lock:
                if base_done["value"] is None:
                    base_done["value"] = frames_done
                run.attempt_frames = frames_done - (base_done["value"] or 0)
                changes: dict[str, Any] = {"frames_done": frames_done}
                if frames_expected is not None:
                    changes["frames_expected"] = frames_expected
                self._update_video(run, video.name, **changes)
                self._update_rates(run)
                due = time.monotonic() - run.last_write >= 0.5
            if due:
                self._write_live(run.entry, run)

        def on_checkpoint(checkpoint: BaseModel) -> None:
            write_model_atomic(ckpt_path, checkpoint, indent=None)

        def call(resume_from: Any | None) -> VideoPredictions:
            return self.processor.process_video(
                video,
                progress=progress,
                stop_event=self.stop.event,
                checkpoint_every_frames=self.settings.checkpoint_every_frames,
                on_checkpoint=on_checkpoint,
                resume=resume_from,
            )

        try:
            pred = call(resume)
        except Interrupted as exc:
            checkpoint = getattr(exc, "checkpoint", None)
            if isinstance(checkpoint, BaseModel):
                on_checkpoint(checkpoint)
            raise
        except InputError as exc:
            if resume is None or type(exc).__name__ != "CheckpointMismatchError":
                raise
            logger.warning("checkpoint of %s does not match (%s); starting over", video, exc)
            with contextlib.suppress(FileNotFoundError):
                ckpt_path.unlink()
            base_done["value"] = None
            pred = call(None)
        # A one-video JobResults envelope, so the partial file carries a schema_version.
        envelope = JobResults(
            job_id=job_id, created_at=utc_now(), neuropose_version=__version__, videos=(pred,)
        )
        write_model_atomic(pred_path, envelope, indent=None)
        with contextlib.suppress(FileNotFoundError):
            ckpt_path.unlink()
        with run.lock:
            self._update_video(
                run, video.name, state=JobState.COMPLETED, frames_done=pred.num_frames
            )
        self._write_live(run.entry, run)
        return pred

    def _update_rates(self, run: _JobRun) -> None:
        elapsed = time.monotonic() - run.attempt_start
        fps = run.attempt_frames / elapsed if elapsed > 0 and run.attempt_frames > 0 else None
        eta = None
        if fps and run.entry.frames_expected is not None:
            eta = max(0.0, (run.entry.frames_expected - run.entry.frames_done) / fps)
        run.entry = run.entry.model_copy(update={"fps": fps, "eta_s": eta})

    def _heartbeat(self, run: _JobRun, done: threading.Event) -> None:
        while not done.wait(self.heartbeat_s):
            with contextlib.suppress(OSError, NeuroPoseError):
                self._write_live(run.entry, run)

    # --------------------------------------------------------- transitions
    def _finish_history(
        self, entry: JobStatusEntry, outcome: JobState, error: str | None, now: str
    ) -> tuple[AttemptRecord, ...]:
        history = list(entry.history)
        if history and history[-1].outcome is None and history[-1].pid == os.getpid():
            history[-1] = history[-1].model_copy(
                update={"finished_at": now, "outcome": outcome, "error": error}
            )
        return tuple(history)

    def _complete(
        self, job_id: str, entry: JobStatusEntry, results_path: Path, *, recovered: bool = False
    ) -> None:
        now = utc_now()
        previous = entry.state
        entry = entry.model_copy(
            update={
                "state": JobState.COMPLETED,
                "finished_at": now,
                "last_update": now,
                "current_video": None,
                "eta_s": 0.0,
                "error": None,
                "history": self._finish_history(entry, JobState.COMPLETED, None, now),
                "results_path": str(results_path.relative_to(self.data_dir)),
            }
        )
        if recovered and entry.history and entry.history[-1].outcome is None:
            last = entry.history[-1].model_copy(
                update={"finished_at": now, "outcome": JobState.COMPLETED}
            )
            entry = entry.model_copy(update={"history": (*entry.history[:-1], last)})
        self.jobs[job_id] = entry
        self._write_live(entry)
        self._write_aggregate()
        shutil.rmtree(self.layout.job(job_id).partial, ignore_errors=True)
        self.summary.completed.append(job_id)
        self._log_transition(job_id, previous, JobState.COMPLETED, frames=entry.frames_done)

    def _interrupt(self, job_id: str, entry: JobStatusEntry, exc: Interrupted) -> None:
        now = utc_now()
        previous = entry.state
        entry = entry.model_copy(
            update={
                "state": JobState.INTERRUPTED,
                "last_update": now,
                "fps": None,
                "eta_s": None,
                "history": self._finish_history(
                    entry, JobState.INTERRUPTED, describe_error(exc), now
                ),
            }
        )
        self.jobs[job_id] = entry
        self._write_live(entry)
        self._write_aggregate()
        self.summary.interrupted.append(job_id)
        self._log_transition(job_id, previous, JobState.INTERRUPTED)

    def _fail(
        self,
        job_id: str,
        exc: BaseException,
        *,
        quarantine: bool = True,
    ) -> None:
        now = utc_now()
        entry = self.jobs.get(job_id) or self._new_entry(job_id)
        previous = entry.state
        error = describe_error(exc)
        history = self._finish_history(entry, JobState.FAILED, error, now)
        if history and history[-1].outcome is None:  # poison: close the last crashed record
            history = (*history[:-1], history[-1].model_copy(update={"error": error}))
        entry = entry.model_copy(
            update={
                "state": JobState.FAILED,
                "finished_at": now,
                "last_update": now,
                "current_video": None,
                "fps": None,
                "eta_s": None,
                "error": error,
                "history": history,
            }
        )
        self.jobs[job_id] = entry
        self._write_live(entry)
        self._write_aggregate()
        self.summary.failed.append(job_id)
        self._log_transition(job_id, previous, JobState.FAILED, error=error)
        if quarantine and (self.in_dir / job_id).is_dir():
            target = self.failed_dir / job_id
            n = 1
            while target.exists():
                n += 1
                target = self.failed_dir / f"{job_id}~{n}"
            try:
                os.rename(self.in_dir / job_id, target)
            except OSError as move_exc:
                self._stuck_in_in.add(job_id)
                logger.error(
                    "could not move in/%s to %s: %s; it stays failed until `neuropose retry` "
                    "or a restart",
                    job_id,
                    target,
                    move_exc,
                )
            else:
                logger.info("moved in/%s to failed/%s", job_id, target.name)

    # ------------------------------------------------------------- writes
    def _write_live(self, entry: JobStatusEntry, run: _JobRun | None = None) -> None:
        if run is not None:
            with run.lock:
                entry = run.entry = run.entry.model_copy(update={"last_update": utc_now()})
                run.last_write = time.monotonic()
        else:
            entry = entry.model_copy(update={"last_update": utc_now()})
            if self.jobs.get(entry.job_id) is not None:
                self.jobs[entry.job_id] = entry
        try:
            write_job_status(self.data_dir, entry)
        except OSError as exc:
            raise _status_write_error(exc, self.layout.job(entry.job_id).output) from exc

    def _write_aggregate(self) -> None:
        try:
            write_aggregate_status(self.data_dir, self.jobs, daemon_pid=os.getpid())
        except OSError as exc:
            raise _status_write_error(exc, self.data_dir) from exc

    def _log_transition(
        self, job_id: str, old: JobState | None, new: JobState, **fields: Any
    ) -> None:
        detail = " ".join(f"{k}={v}" for k, v in fields.items())
        logger.info(
            "job %s: %s -> %s%s",
            job_id,
            old.value if old else "new",
            new.value,
            f" ({detail})" if detail else "",
            extra={
                "fields": {
                    "event": "transition",
                    "job": job_id,
                    "from": old.value if old else None,
                    "to": new.value,
                    **fields,
                }
            },
        )


def _status_write_error(exc: OSError, where: Path) -> ResourceError:
    reason = os.strerror(exc.errno) if exc.errno else str(exc)
    hint = "free disk space" if exc.errno == errno.ENOSPC else "check permissions"
    return ResourceError(
        f"cannot write job status in {where}: {reason}; stopping so that status stays true",
        hint=f"{hint}, then restart `neuropose watch`; the job resumes from its last checkpoint",
    )
