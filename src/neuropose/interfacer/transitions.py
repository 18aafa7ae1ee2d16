"""Job state transitions: every change of a job's state, written and logged once.

::

    (new dir in in/) -> queued -> processing -> completed
                                            -> failed       -> (retry) queued
                                            -> interrupted  -> (restart) processing
                       processing (daemon died) -> processing, attempt + 1
                       processing (died max_attempts times) -> failed (poison)

:class:`JobBook` owns the daemon's view of every job (the entries of
``status.json``). Each transition builds the new entry, writes the job's live
``out/<job>/status.json`` and then the aggregate ``status.json`` (both atomic),
and logs one line (``event: transition``). A status file that cannot be
written stops the daemon (:func:`~neuropose.interfacer.errors.status_write_error`):
a status that no longer tells the truth is worse than no daemon.

Examples
--------
>>> import tempfile
>>> book = JobBook(DataDir(tempfile.mkdtemp()))
>>> book.queue("walk1").state.value
'queued'
>>> book.jobs["walk1"].attempts
0
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass, field
from typing import Any

from neuropose.datadir.layout import DataDir
from neuropose.datadir.status import write_aggregate_status, write_job_status
from neuropose.interfacer.errors import describe_error, status_write_error
from neuropose.schemas.status import AttemptRecord, JobState, JobStatusEntry
from neuropose.timefmt import utc_now

__all__ = ["JobBook", "RunSummary"]

logger = logging.getLogger(__name__)


@dataclass
class RunSummary:
    """What one :meth:`~neuropose.interfacer.Interfacer.run` did (job ids per outcome)."""

    completed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    interrupted: list[str] = field(default_factory=list)


class JobBook:
    """The daemon's entries of every job, and the transitions between their states.

    Parameters
    ----------
    layout : DataDir
        The data directory.
    jobs : dict, optional
        Entries read from ``status.json`` at start.
    """

    def __init__(self, layout: DataDir, jobs: dict[str, JobStatusEntry] | None = None) -> None:
        self.layout = layout
        self.jobs: dict[str, JobStatusEntry] = dict(jobs or {})
        self.summary = RunSummary()
        #: Failed jobs whose move to ``failed/`` did not work (not retried in a loop).
        self.stuck_in_in: set[str] = set()
        #: Serialises every status write (index row, job file, aggregate): the threads of
        #: running jobs and heartbeats write live files while the main thread transitions.
        self._write_lock = threading.RLock()

    # ------------------------------------------------------------- writes
    def write_job_file(self, entry: JobStatusEntry) -> None:
        """Write ``out/<job>/status.json`` as is (the heartbeat's write)."""
        try:
            with self._write_lock:
                write_job_status(self.layout.root, entry)
        except OSError as exc:
            raise status_write_error(exc, self.layout.job(entry.job_id).output) from exc

    def write_live(self, entry: JobStatusEntry) -> JobStatusEntry:
        """Stamp ``last_update``, remember the entry and write the job's live file."""
        entry = entry.model_copy(update={"last_update": utc_now()})
        if entry.job_id in self.jobs:
            self.jobs[entry.job_id] = entry
        self.write_job_file(entry)
        return entry

    def write_aggregate(self) -> None:
        """Write ``status.json`` from the status index (counts, unfinished and recent jobs)."""
        try:
            with self._write_lock:
                write_aggregate_status(self.layout.root, daemon_pid=os.getpid())
        except OSError as exc:
            raise status_write_error(exc, self.layout.root) from exc

    def _record(self, entry: JobStatusEntry) -> JobStatusEntry:
        self.jobs[entry.job_id] = entry
        entry = self.write_live(entry)
        self.write_aggregate()
        return entry

    # --------------------------------------------------------- transitions
    def queue(self, job_id: str) -> JobStatusEntry:
        """A new job found in ``in/`` (live file only; call :meth:`write_aggregate` after)."""
        now = utc_now()
        entry = JobStatusEntry(job_id=job_id, state=JobState.QUEUED, queued_at=now, last_update=now)
        self.jobs[job_id] = entry
        entry = self.write_live(entry)
        log_transition(job_id, None, JobState.QUEUED)
        return entry

    def requeue(self, job_id: str) -> JobStatusEntry:
        """A failed job whose inputs are back in ``in/`` (``neuropose retry``)."""
        entry = self.jobs[job_id].model_copy(
            update={
                "state": JobState.QUEUED,
                "finished_at": None,
                "current_video": None,
                "fps": None,
                "eta_s": None,
            }
        )
        self.jobs[job_id] = entry
        entry = self.write_live(entry)
        log_transition(job_id, JobState.FAILED, JobState.QUEUED)
        return entry

    def start(self, job_id: str) -> JobStatusEntry:
        """``processing``: a new attempt record (earlier open records say the daemon stopped)."""
        entry = self.jobs[job_id]
        previous = entry.state
        attempt = entry.attempts + 1
        now = utc_now()
        history = tuple(
            h if h.outcome is not None else h.model_copy(update={"error": "daemon stopped"})
            for h in entry.history
        )
        entry = self._record(
            entry.model_copy(
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
        )
        log_transition(job_id, previous, JobState.PROCESSING, attempt=attempt)
        return entry

    def complete(self, entry: JobStatusEntry, *, recovered: bool = False) -> None:
        """``completed``: ``results.json`` exists and is valid.

        With ``recovered``, the job's results were written by an attempt that
        died before recording them: its open attempt record is closed as
        completed.
        """
        job_id = entry.job_id
        now = utc_now()
        previous = entry.state
        history = self._finish_history(entry, JobState.COMPLETED, None, now)
        if recovered and history and history[-1].outcome is None:
            history = (
                *history[:-1],
                history[-1].model_copy(update={"finished_at": now, "outcome": JobState.COMPLETED}),
            )
        entry = self._record(
            entry.model_copy(
                update={
                    "state": JobState.COMPLETED,
                    "finished_at": now,
                    "last_update": now,
                    "current_video": None,
                    "eta_s": 0.0,
                    "error": None,
                    "history": history,
                    "results_path": self.layout.job(job_id).relative_results,
                }
            )
        )
        self.summary.completed.append(job_id)
        log_transition(job_id, previous, JobState.COMPLETED, frames=entry.frames_done)

    def interrupt(self, entry: JobStatusEntry, exc: BaseException) -> None:
        """``interrupted``: stopped on a signal after checkpointing."""
        job_id = entry.job_id
        now = utc_now()
        previous = entry.state
        self._record(
            entry.model_copy(
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
        )
        self.summary.interrupted.append(job_id)
        log_transition(job_id, previous, JobState.INTERRUPTED)

    def fail(self, job_id: str, exc: BaseException, *, quarantine: bool = True) -> None:
        """``failed``: record ``exc``; with ``quarantine`` move ``in/<job>`` to ``failed/``."""
        now = utc_now()
        entry = self.jobs.get(job_id)
        if entry is None:
            entry = JobStatusEntry(
                job_id=job_id, state=JobState.QUEUED, queued_at=now, last_update=now
            )
        previous = entry.state
        error = describe_error(exc)
        history = self._finish_history(entry, JobState.FAILED, error, now)
        if history and history[-1].outcome is None:  # poison: close the last crashed record
            history = (*history[:-1], history[-1].model_copy(update={"error": error}))
        self._record(
            entry.model_copy(
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
        )
        self.summary.failed.append(job_id)
        log_transition(job_id, previous, JobState.FAILED, error=error)
        if quarantine:
            self._quarantine(job_id)

    def _quarantine(self, job_id: str) -> None:
        source = self.layout.job(job_id).input
        if not source.is_dir():
            return
        target = self.layout.job(job_id).failed
        n = 1
        while target.exists():
            n += 1
            target = self.layout.job(f"{job_id}~{n}").failed
        try:
            os.rename(source, target)
        except OSError as move_exc:
            self.stuck_in_in.add(job_id)
            logger.error(
                "could not move in/%s to %s: %s; it stays failed until `neuropose retry` "
                "or a restart",
                job_id,
                target,
                move_exc,
            )
        else:
            logger.info("moved in/%s to failed/%s", job_id, target.name)

    @staticmethod
    def _finish_history(
        entry: JobStatusEntry, outcome: JobState, error: str | None, now: str
    ) -> tuple[AttemptRecord, ...]:
        history = list(entry.history)
        if history and history[-1].outcome is None and history[-1].pid == os.getpid():
            history[-1] = history[-1].model_copy(
                update={"finished_at": now, "outcome": outcome, "error": error}
            )
        return tuple(history)


def log_transition(job_id: str, old: JobState | None, new: JobState, **fields: Any) -> None:
    """Log one transition (``event: transition``, ``from``, ``to`` and ``fields``)."""
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
