"""The job daemon behind ``neuropose watch``: lock, start-up, loop, the outcome of each job.

Rooms of the daemon (one module each)::

    interfacer.py   Interfacer: the lock, start-up, the loop, one job's outcome
    recovery.py     what a start does before processing (crashes, poison, leftovers)
    transitions.py  JobBook: every state change, written and logged once
    jobrun.py       JobRun: one attempt at one job (videos, checkpoints, results.json)
    jobslots.py     JobSlots: several jobs at once on their own threads (the Ray pool);
                    their outcomes are recorded on the daemon's main thread
    heartbeat.py    LiveJob + Heartbeat: the live status while a job runs
    reports.py      quality reports of completed jobs, retried until written
    renders.py      visuals of completed jobs, rendered when idle (render_after_job)
    discovery.py    which directories of in/ are jobs, and when they are stable
    processor.py    VideoProcessor: what runs on a video; loaded on the first job;
                    build_executor picks the executor (local, or the Ray pool)
    ray_executor.py RayPool + VideoWorker: videos on Ray actors (executor = ray only)
    ray_cluster.py  joining the Ray cluster, telling a lost head from a lost worker
    workerboard.py  WorkerBoard: the Ray pool's table, written to workers.json
    doctor.py       health checks (run at start, and by ``neuropose doctor``)

Paths are spelled in :mod:`neuropose.datadir.layout`. Inputs of a completed
job stay in ``in/<job>`` (patient data is never deleted);
``out/<job>/results.json`` marks the job done and it is skipped.

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
6. Crash (or a full disk) after ``completed`` but before the quality reports
   were written: the next start writes them from ``results.json``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
from collections.abc import Collection, Iterator

from neuropose.config import Settings
from neuropose.datadir.layout import DataDir
from neuropose.datadir.lock import ExclusiveLock
from neuropose.datadir.status import read_job_status
from neuropose.errors import Interrupted, InvalidDocumentError, NeuroPoseError, ResourceError
from neuropose.interfacer.discovery import StabilityTracker
from neuropose.interfacer.doctor import run_start_checks
from neuropose.interfacer.errors import (
    ClusterUnavailableError,
    DaemonStopped,
    JobVanishedError,
    StatusWriteError,
    is_disk_full,
)
from neuropose.interfacer.heartbeat import Heartbeat, LiveJob
from neuropose.interfacer.jobrun import JobRun
from neuropose.interfacer.jobslots import JobAttempt, JobSlots
from neuropose.interfacer.processor import LazyProcessor, ProcessorFactory
from neuropose.interfacer.recovery import Recovery
from neuropose.interfacer.renders import JobRenders
from neuropose.interfacer.reports import QualityReports
from neuropose.interfacer.transitions import JobBook, RunSummary
from neuropose.interrupts import GracefulStop
from neuropose.io import load_model
from neuropose.multiview.job import camera_summaries
from neuropose.schemas.predictions import JobResults
from neuropose.schemas.status import JobState, JobStatusEntry

__all__ = ["Interfacer"]

logger = logging.getLogger(__name__)

#: States of a job that the loop processes when it is stable.
_RUNNABLE = (JobState.QUEUED, JobState.INTERRUPTED, JobState.PROCESSING)


class Interfacer:
    """The daemon: one instance per data directory.

    Parameters
    ----------
    settings : Settings
        Effective settings (``data_dir``, ``settle_seconds``, ``max_attempts``...).
    processor_factory : callable
        Returns the :class:`~neuropose.interfacer.processor.VideoProcessor`;
        called once, on the first job, so an idle daemon never loads the model.
    once : bool
        Process every job that is stable now, then return (``watch --once``).
    heartbeat_s : float, optional
        Interval of the live status heartbeat (default: a quarter of
        ``stale_after_seconds``, at most 5 s).

    Examples
    --------
    What ``neuropose watch --once --data-dir /srv/neuropose`` does:

    >>> from neuropose.config import load_settings
    >>> from neuropose.interfacer import build_processor
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
        self.layout = DataDir(settings.data_dir)
        self.processor = LazyProcessor(processor_factory)
        self.once = once
        self.heartbeat_s = heartbeat_s or min(5.0, settings.stale_after_seconds / 4)
        self.stop = GracefulStop(settings.shutdown_grace_seconds)
        self.book = JobBook(self.layout)
        self.reports = QualityReports(self.layout)
        self.renders = JobRenders(self.layout) if settings.render_after_job else None
        self._tracker = StabilityTracker(
            settings.settle_seconds, require_ready_marker=settings.require_ready_marker
        )

    @property
    def jobs(self) -> dict[str, JobStatusEntry]:
        """Every job's entry, as the daemon last wrote it."""
        return self.book.jobs

    @property
    def summary(self) -> RunSummary:
        """Job ids per outcome of this run."""
        return self.book.summary

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
            The data directory fails the start checks, a status file could
            not be written (disk full, permissions), or the Ray cluster is
            gone (``ClusterUnavailableError``; the job is recorded
            ``interrupted``); exit code 4.
        """
        with self._locked():
            run_start_checks(self.settings)
            recovery = Recovery(self.layout, self.settings.max_attempts)
            self.book = JobBook(self.layout, recovery.load_jobs())
            logger.info(
                "watching %s (pid %d)",
                self.layout.in_dir,
                os.getpid(),
                extra={"fields": {"event": "daemon_start", "data_dir": str(self.layout.root)}},
            )
            try:
                with self.stop:
                    recovery.recover(self.book, self.reports)
                    self._loop()
            finally:
                self.processor.close()  # the Ray executor's actors (nothing for local)
            if self.stop.event.is_set():
                waiting = ", ".join(self.summary.interrupted) or "none"
                raise DaemonStopped(
                    f"stopped by {self.stop.signal_name or 'request'}; "
                    f"interrupted jobs resume on the next start: {waiting}"
                )
        return self.summary

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Create the job folders and hold the data directory's lock inside the block."""
        lock = ExclusiveLock(self.layout.lock, purpose="neuropose watch")
        if not self.layout.root.is_dir():
            logger.warning("creating data directory %s (it did not exist)", self.layout.root)
        try:
            for folder in self.layout.job_folders:
                folder.mkdir(parents=True, exist_ok=True)
            lock.acquire()
        except OSError as exc:
            if not is_disk_full(exc):
                raise
            where = self.layout.root
            raise ResourceError(
                f"cannot start on {where}: no space left on device",
                hint=f"free space on the filesystem holding {where}, then start "
                "`neuropose watch` again",
            ) from exc
        try:
            yield
        finally:
            lock.release()

    # ------------------------------------------------------------- loop
    def _loop(self) -> None:
        while not self.stop.event.is_set():
            job = self._next_job()
            if job is not None:
                capacity = int(getattr(self.processor.load(), "parallel_videos", 1))
                if capacity > 1:  # the Ray pool: several jobs at once
                    self._loop_concurrent(capacity)
                    return
                self._process(job)
                continue
            if self.reports.write_next():
                continue
            if self.renders is not None and self.renders.render_when_idle(self.jobs):
                continue  # visuals of a completed job, after every queued job
            if self.once:
                return
            self.stop.event.wait(self.settings.poll_interval_s)

    def _next_job(self, busy: Collection[str] = ()) -> str | None:
        """Record new, vanished and retried jobs; return the next stable runnable one.

        Jobs in ``busy`` (running on their own thread) are neither checked
        for removal (their run notices) nor returned.
        """
        candidates = self._tracker.scan(self.layout.in_dir)
        present = {c.job_id for c in candidates}
        for job_id, entry in list(self.jobs.items()):
            gone = job_id not in present and not self.layout.job(job_id).input.exists()
            if entry.state in _RUNNABLE and gone and job_id not in busy:
                self.book.fail(job_id, JobVanishedError(f"in/{job_id} no longer exists"))
        changed = False
        for cand in candidates:
            known = self.jobs.get(cand.job_id)
            if known is None:
                if self.layout.job(cand.job_id).results.is_file():
                    continue  # completed earlier (not in memory, or pruned)
                try:
                    known = read_job_status(self.layout.root, cand.job_id)  # older than memory
                except NeuroPoseError as exc:
                    logger.error("not processed: %s", exc.message)
                    continue
                if known is not None:
                    self.jobs[cand.job_id] = known
            if known is None:
                self.book.queue(cand.job_id)
                changed = True
            elif known.state is JobState.FAILED and cand.job_id not in self.book.stuck_in_in:
                self.book.requeue(cand.job_id)  # inputs back in in/: a retry request
                changed = True
        if changed:
            self.book.write_aggregate()
        for cand in candidates:
            known = self.jobs.get(cand.job_id)
            if known is None or known.state not in _RUNNABLE or cand.job_id in busy:
                continue
            if cand.stable:
                return cand.job_id
            logger.debug("job %s not stable yet: %s", cand.job_id, cand.reason)
        return None

    # --------------------------------------------------------- one job
    def _process(self, job_id: str) -> None:
        """Run one attempt at ``job_id`` and record its outcome (one transition)."""
        attempt = self._begin(job_id)
        if attempt is None:
            return
        try:
            results = self._execute(attempt)
        except Exception as exc:
            self._conclude(attempt, exc)
            return
        self._conclude(attempt, results)

    def _begin(self, job_id: str) -> JobAttempt | None:
        """Record ``processing`` and build the attempt (``None``: completed from its results)."""
        # Load the model before touching the job: a missing model is not the job's fault.
        processor = self.processor.load()
        paths = self.layout.job(job_id)
        if self._complete_from_results(job_id):
            return None
        live = LiveJob(self.book.start(job_id))
        run = JobRun(
            paths, live, processor, self.settings, self.stop.event, self.book.write_job_file
        )
        return JobAttempt(job_id, paths, live, run)

    def _execute(self, attempt: JobAttempt) -> JobResults:
        """Process the job (on the main thread, or on its own with :class:`JobSlots`)."""
        with Heartbeat(attempt.live, self.book.write_job_file, interval_s=self.heartbeat_s):
            return attempt.run.run()

    def _conclude(self, attempt: JobAttempt, outcome: JobResults | BaseException) -> None:
        """Record the attempt's outcome (one transition); re-raise what stops the daemon."""
        job_id, paths, live = attempt.job_id, attempt.paths, attempt.live
        if isinstance(outcome, JobResults):
            self.book.complete(live.entry)
            self._remove_checkpoints(job_id)
            self._derive(outcome)
            return
        exc = outcome
        if isinstance(exc, StatusWriteError) or not isinstance(exc, Exception):
            raise exc
        if isinstance(exc, ClusterUnavailableError):  # not the job's fault: resume next start
            self.book.interrupt(live.entry, exc)
            raise exc
        if isinstance(exc, Interrupted):
            self.book.interrupt(live.entry, exc)
            return
        self.book.jobs[job_id] = live.entry
        if isinstance(exc, OSError) and not paths.input.is_dir():
            exc = JobVanishedError(f"in/{job_id} was removed while processing")
        self.book.fail(job_id, exc, quarantine=paths.input.is_dir())

    # ------------------------------------------------- several jobs at once
    def _loop_concurrent(self, capacity: int) -> None:
        """The loop with ``capacity`` videos in flight across jobs (see :mod:`.jobslots`).

        Transitions stay on this thread; a status write failure or a lost
        cluster stops new jobs, the running ones checkpoint (stop event),
        their outcomes are recorded, then the error is raised.
        """
        slots = JobSlots(capacity)
        halt: NeuroPoseError | None = None
        try:
            while True:
                halt = self._conclude_all(slots.collect(0), halt)
                stopping = halt is not None or self.stop.event.is_set()
                if not stopping and slots.has_room():
                    job = self._next_job(busy=set(slots.running))
                    if job is not None:
                        attempt = self._begin(job)
                        if attempt is not None:
                            slots.start(attempt, self._execute)
                        continue
                if slots.running:
                    wait = self.settings.poll_interval_s
                    halt = self._conclude_all(slots.collect(wait), halt)
                    continue
                if stopping:
                    break
                if self.reports.write_next():
                    continue
                if self.renders is not None and self.renders.render_when_idle(self.jobs):
                    continue
                if self.once:
                    break
                self.stop.event.wait(self.settings.poll_interval_s)
        except BaseException:
            self.stop.event.set()  # the running jobs checkpoint; the next start resumes them
            slots.join()
            raise
        if halt is not None:
            raise halt

    def _conclude_all(
        self,
        finished: list[tuple[JobAttempt, JobResults | BaseException]],
        halt: NeuroPoseError | None,
    ) -> NeuroPoseError | None:
        """Record each outcome; return the first error that stops the daemon (kept for later)."""
        for attempt, outcome in finished:
            try:
                self._conclude(attempt, outcome)
            except (StatusWriteError, ClusterUnavailableError) as exc:
                self.stop.event.set()
                halt = halt or exc
        return halt

    def _derive(self, results: JobResults) -> None:
        """Derived outputs of a completed job: quality reports, exports (never fail the job)."""
        self.reports.write(results)
        if self.settings.export_formats:  # export_job logs its failures and never raises
            from neuropose.export import export_job  # SciPy & co.: only when configured

            export_job(
                results, self.layout.job(results.job_id).export, self.settings.export_formats
            )

    def _complete_from_results(self, job_id: str) -> bool:
        """Record ``completed`` when a valid ``results.json`` exists (a crash after writing it)."""
        results = self.layout.job(job_id).results
        if not results.is_file():
            return False
        try:
            done = load_model(results, JobResults)
        except InvalidDocumentError:
            results.unlink()
            return False
        entry = self.jobs[job_id]
        if done.triangulation is not None:  # multi-view: the per-camera figures, again
            tri = done.triangulation
            entry = entry.model_copy(
                update={"cameras": camera_summaries(tri), "warnings": tri.warnings}
            )
        self.book.complete(entry, recovered=True)
        self._remove_checkpoints(job_id)
        self.reports.find_missing([self.jobs[job_id]])  # written when idle
        return True

    def _remove_checkpoints(self, job_id: str) -> None:
        shutil.rmtree(self.layout.job(job_id).partial, ignore_errors=True)
