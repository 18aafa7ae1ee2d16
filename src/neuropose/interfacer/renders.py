"""The daemon's render step: a completed job's visuals, made after its results, never failing it.

(Its module lives with the daemon, not in :mod:`neuropose.visualize`, because
importing that package loads OpenCV: the daemon and ``neuropose doctor`` stay
light until a job is rendered.)

What it makes is ``neuropose visualize`` with every output (overlay video, or
the skeleton-only video when the original is gone; 3D view; angle and
confidence plots; quality report; preview) into ``out/<job>/visualize/``,
the folder the dashboard's job page shows. A multi-view job (results with a
``triangulation``) also gets, per view, ``<stem>.reprojection.mp4/.png``
(the model's 2D keypoints vs the triangulated 3D reprojected into that
camera, :mod:`neuropose.visualize.reprojection`) and ``world3d.mp4/.png``
(the subject in the calibration's world frame with the floor and the
cameras, :class:`neuropose.visualize.view3d.WorldView`); the job page lists
them in its *Cameras* card.

Guarantees
----------
* **Separate.** It runs only after the job is recorded ``completed``, on its
  own ``results.json``; the daemon runs it when idle (after queued jobs), so
  it never delays pose results.
* **Failure-isolated.** :meth:`JobRenders.render` never raises for a failed
  render (an ffmpeg that dies, a missing video, a full disk): it records
  ``failed`` with the reason in ``out/<job>/visualize/render.json``
  (:class:`~neuropose.schemas.render.RenderRecord`), which the job page
  shows; the job stays ``completed``.
* **Resumable and crash-safe.** Every output is written atomically; the record
  says ``rendering`` while it runs, so a crash leaves a record that is not
  ``done`` and :meth:`JobRenders.find_owed` (called by the daemon's recovery)
  owes the job again. A failed render is not retried by itself (it would fail
  the same way): ``neuropose retry --render-only JOB`` redoes it.
* **One at a time per job.** ``out/<job>/visualize/.render.lock`` is held while
  rendering (and deleted afterwards), so the daemon and a
  ``retry --render-only`` never render the same job at once.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable, Mapping

from neuropose import __version__
from neuropose.datadir.layout import DataDir
from neuropose.datadir.lock import ExclusiveLock, LockHeldError
from neuropose.errors import InvalidDocumentError, NeuroPoseError
from neuropose.io import load_model, write_model_atomic
from neuropose.schemas.render import RenderRecord
from neuropose.schemas.status import JobState, JobStatusEntry
from neuropose.timefmt import utc_iso

__all__ = ["JobRenders", "read_render_record"]

logger = logging.getLogger(__name__)


def _remove_lock_file(lock: ExclusiveLock) -> None:
    """``on_release`` of the render lock: delete its file (an acquirer re-checks the inode)."""
    with contextlib.suppress(OSError):
        lock.path.unlink()


def read_render_record(layout: DataDir, job_id: str) -> RenderRecord | None:
    """The job's render record, or ``None`` when there is none.

    Raises
    ------
    InvalidDocumentError
        The record exists but is corrupt or not a render record.
    """
    path = layout.job(job_id).render_record
    if not path.is_file():
        return None
    return load_model(path, RenderRecord)


class JobRenders:
    """Renders completed jobs' visuals and remembers the ones still owed.

    Parameters
    ----------
    layout : DataDir
        The data directory.
    preset : str
        x264 preset of the videos (``ultrafast`` keeps a 1080p overlay near
        real time on two cores).

    Examples
    --------
    >>> import tempfile
    >>> renders = JobRenders(DataDir(tempfile.mkdtemp()))
    >>> renders.owed, renders.render_next()
    ([], False)
    """

    def __init__(self, layout: DataDir, *, preset: str = "ultrafast") -> None:
        self.layout = layout
        self.preset = preset
        self._owed: list[str] = []
        self._seen: set[str] = set()  # completed jobs already considered

    def render_when_idle(self, jobs: Mapping[str, JobStatusEntry]) -> bool:
        """The daemon's one call, when it has no job to process: render one owed job.

        Completed jobs not seen before are checked with :meth:`find_owed`
        (on the first call that is every completed job: the recovery of
        renders a crash interrupted); then the oldest owed job is rendered.
        Between calls only a set lookup per job is spent.

        Returns
        -------
        bool
            Whether a job was rendered (the daemon then looks for new jobs
            before rendering the next one).
        """
        new = [e for j, e in jobs.items() if e.state is JobState.COMPLETED and j not in self._seen]
        if new:
            self._seen.update(e.job_id for e in new)
            self.find_owed(new)
        return self.render_next()

    @property
    def owed(self) -> list[str]:
        """Jobs to render, in the order they will be rendered."""
        return list(self._owed)

    def owe(self, job_id: str) -> None:
        """Render ``job_id`` when the daemon is next idle (a job just completed)."""
        if job_id not in self._owed:
            self._owed.append(job_id)

    def find_owed(self, entries: Iterable[JobStatusEntry]) -> list[str]:
        """Owe every completed job with results whose render record is absent or ``rendering``.

        A ``failed`` record is left alone (``retry --render-only`` redoes it);
        a corrupt record is owed again. Costs one ``stat`` per completed job
        plus a small read when a record exists.
        """
        found = []
        for e in entries:
            if e.state is not JobState.COMPLETED:
                continue
            paths = self.layout.job(e.job_id)
            if not paths.results.is_file():
                continue
            try:
                record = read_render_record(self.layout, e.job_id)
            except InvalidDocumentError:
                record = None
            if record is None or record.state == "rendering":
                found.append(e.job_id)
                self.owe(e.job_id)
        if found:
            logger.info(
                "%d completed job(s) lack their visuals; rendering them when idle",
                len(found),
                extra={"fields": {"event": "renders_owed", "jobs": len(found)}},
            )
        return found

    def render_next(self) -> bool:
        """Render the oldest owed job; ``False`` when nothing is owed."""
        if not self._owed:
            return False
        job_id = self._owed.pop(0)
        if self.layout.job(job_id).results.is_file():
            try:
                self.render(job_id)
            except LockHeldError as exc:  # a retry --render-only is rendering it right now
                logger.info("job %s: not rendered here: %s", job_id, exc.message)
        return True

    def render(self, job_id: str) -> RenderRecord:
        """Render every visual of a completed job and record the outcome.

        Returns
        -------
        RenderRecord
            ``done`` with the files written, or ``failed`` with the reason.
            A failed render never raises.

        Raises
        ------
        LockHeldError
            Another process is rendering this job now.
        """
        started = utc_iso()
        paths = self.layout.job(job_id)
        lock = ExclusiveLock(
            paths.render_lock,
            purpose=f"render {job_id}",
            wait_s=0.2,
            on_release=_remove_lock_file,  # visualize/ holds only outputs when idle
            busy_hint="wait for that render to finish",
        )
        try:
            paths.visualize.mkdir(parents=True, exist_ok=True)
            lock.acquire()
        except LockHeldError:
            raise
        except OSError as exc:  # e.g. a full disk: nothing recorded, owed again on next start
            return self._failed(job_id, started, f"{type(exc).__name__}: {exc}", write=False)
        try:
            return self._render_locked(job_id, started)
        finally:
            lock.release()

    def _render_locked(self, job_id: str, started: str) -> RenderRecord:
        # OpenCV and matplotlib load only when a job is rendered: the daemon (and
        # `neuropose doctor`, which imports it) stay light until then.
        from neuropose.visualize.pipeline import VisualizeOptions, visualize_results

        paths = self.layout.job(job_id)
        self._write(RenderRecord(job_id=job_id, state="rendering", started_at=started,
                                 neuropose_version=__version__))  # fmt: skip
        try:
            res = visualize_results(
                paths.results, out_dir=paths.visualize, options=VisualizeOptions(preset=self.preset)
            )
        except Exception as exc:  # failure-isolated: recorded on the job, never raised
            reason = exc.message if isinstance(exc, NeuroPoseError) else f"{exc}"
            return self._failed(job_id, started, f"{type(exc).__name__}: {reason}")
        record = RenderRecord(
            job_id=job_id, state="done", started_at=started, finished_at=utc_iso(),
            files=tuple(p.name for p in res.written), notes=tuple(res.notes),
            neuropose_version=__version__,
        )  # fmt: skip
        self._write(record)
        logger.info(
            "job %s: visuals rendered (%d files)",
            job_id,
            len(record.files),
            extra={"fields": {"event": "rendered", "job": job_id}},
        )
        return record

    def _failed(
        self, job_id: str, started: str, reason: str, *, write: bool = True
    ) -> RenderRecord:
        logger.warning(
            "job %s: visuals not rendered: %s; the job stays completed "
            "(redo with `neuropose retry --render-only %s`)",
            job_id,
            reason,
            job_id,
            extra={"fields": {"event": "render_failed", "job": job_id}},
        )
        record = RenderRecord(
            job_id=job_id, state="failed", started_at=started, finished_at=utc_iso(),
            error=reason, neuropose_version=__version__,
        )  # fmt: skip
        if write:
            self._write(record)
        return record

    def _write(self, record: RenderRecord) -> None:
        """Write the record; a failure to write it is logged (the render state is derived)."""
        try:
            write_model_atomic(self.layout.job(record.job_id).render_record, record)
        except OSError as exc:
            logger.warning("job %s: render record not written: %s", record.job_id, exc)
