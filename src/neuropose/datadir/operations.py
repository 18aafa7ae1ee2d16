"""Operator actions on a data directory: retry, prune, reset.

``retry`` works while the daemon runs: it renames ``failed/<job>`` back to
``in/<job>`` in one step, and the daemon turns "inputs in ``in/`` with a
``failed`` status" into ``queued`` (keeping the attempt history). When no
daemon runs, ``retry`` also records ``queued`` itself.

``prune`` and ``reset`` rewrite status files, so they take the daemon lock
and refuse (exit code 3, naming the holder) while a daemon runs.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from neuropose.datadir.layout import PARTIAL_DIR, STATUS_FILE, DataDir, check_job_name
from neuropose.datadir.lock import ExclusiveLock, LockHeldError
from neuropose.datadir.status import (
    finish_times,
    forget_jobs,
    job_status_path,
    read_job_status,
    read_status,
    sync_index,
    write_aggregate_status,
    write_job_status,
)
from neuropose.errors import UsageError
from neuropose.io import TEMP_FILE_PATTERN
from neuropose.schemas.status import JobState, JobStatusEntry
from neuropose.timefmt import parse_time, utc_now

__all__ = ["PrunePlan", "ResetPlan", "UnknownJobError", "plan_prune", "plan_reset", "retry_job"]


class UnknownJobError(UsageError):
    """The named job is not known in this data directory."""


def retry_job(data_dir: Path, job_id: str) -> JobStatusEntry | None:
    """Move a failed job back to ``in/`` so it is processed again.

    Returns
    -------
    JobStatusEntry or None
        The ``queued`` entry written when no daemon runs; ``None`` when a
        running daemon will requeue it.

    Raises
    ------
    UnknownJobError
        ``failed/<job>`` does not exist.
    UsageError
        ``in/<job>`` already exists (a new job with the same name).
    InvalidJobNameError
        ``job_id`` cannot be a job name (e.g. ``../x``).
    """
    check_job_name(job_id)
    layout = DataDir(data_dir)
    src = layout.job(job_id).failed
    dst = layout.job(job_id).input
    if not src.is_dir():
        raise UnknownJobError(
            f"no failed job {job_id!r}: {src} does not exist",
            hint="`neuropose status` lists jobs and their states",
        )
    if dst.exists():
        raise UsageError(
            f"cannot retry {job_id!r}: {dst} already exists",
            hint="rename or remove the job in in/ first",
        )
    read_status(data_dir)  # refuse on a corrupt status before moving anything
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        lock = ExclusiveLock(layout.lock, purpose="neuropose retry", wait_s=0.2).acquire()
    except LockHeldError:
        os.rename(src, dst)
        return None
    try:
        sync_index(data_dir)
        os.rename(src, dst)
        entry = read_job_status(data_dir, job_id)
        now = utc_now()
        if entry is None:
            entry = JobStatusEntry(
                job_id=job_id, state=JobState.QUEUED, queued_at=now, last_update=now
            )
        else:
            entry = entry.model_copy(
                update={
                    "state": JobState.QUEUED,
                    "last_update": now,
                    "finished_at": None,
                    "current_video": None,
                    "fps": None,
                    "eta_s": None,
                }
            )
        write_job_status(data_dir, entry)
        write_aggregate_status(data_dir, daemon_pid=None)
        return entry
    finally:
        lock.release()


@dataclass
class PrunePlan:
    """Jobs whose status entries ``prune`` removes (``executed`` after a real run)."""

    jobs: list[str] = field(default_factory=list)
    executed: bool = False


def plan_prune(data_dir: Path, older_than_days: float, *, dry_run: bool) -> PrunePlan:
    """Forget completed and failed jobs that finished more than ``older_than_days`` ago.

    Removes their entries from the status index, ``status.json`` and their
    ``out/<job>/status.json``. Inputs, ``results.json`` and ``failed/``
    directories are kept (a completed job whose ``results.json`` exists is
    not processed again). With ``dry_run`` nothing is changed.

    Raises
    ------
    LockHeldError
        A daemon runs on this data directory (not raised with ``dry_run``).
    """
    if older_than_days < 0:
        raise UsageError(f"--older-than must be >= 0 days, got {older_than_days}")
    cutoff = datetime.now(UTC) - timedelta(days=older_than_days)
    finished = (JobState.COMPLETED, JobState.FAILED)

    def choose() -> list[str]:
        chosen = []
        for job_id, when in sorted(finish_times(data_dir, finished)):
            try:
                if parse_time(when) <= cutoff:
                    chosen.append(job_id)
            except ValueError:
                continue
        return chosen

    plan = PrunePlan(jobs=choose())
    if dry_run or not plan.jobs:
        return plan
    with ExclusiveLock(DataDir(data_dir).lock, purpose="neuropose prune", wait_s=0.2):
        sync_index(data_dir)
        chosen = plan.jobs = choose()
        forget_jobs(data_dir, chosen)
        for job_id in chosen:
            path = job_status_path(data_dir, job_id)
            if path.exists():
                path.unlink()
    plan.executed = True
    return plan


@dataclass
class ResetPlan:
    """Files ``reset`` deletes (``executed`` after a real run)."""

    paths: list[Path] = field(default_factory=list)
    executed: bool = False


def plan_reset(data_dir: Path, *, yes: bool) -> ResetPlan:
    """Return the daemon state of ``data_dir`` to a fresh start.

    Deletes ``status.json`` (and an old-layout ``out/status.json``), the
    status index ``status.db`` (with its ``-wal``/``-shm`` files), every
    ``out/<job>/status.json``, every
    ``out/<job>/partial/`` (checkpoints) and leftover temporary files. Keeps
    inputs (``in/``, ``failed/``) and every ``results.json``. The next
    ``watch`` re-queues the jobs in ``in/`` that have no ``results.json``.
    Without ``yes`` it only lists what it would delete. This is the recovery
    path for a corrupt ``status.json``, which is why it never reads it.

    Raises
    ------
    LockHeldError
        A daemon runs on this data directory.
    """
    layout = DataDir(data_dir)
    out = layout.out_dir
    paths: list[Path] = []
    if os.path.lexists(layout.status):
        paths.append(layout.status)
    if os.path.lexists(layout.status_index):
        paths.append(layout.status_index)  # with its -wal/-shm files
    if layout.has_legacy_status():
        paths.append(layout.legacy_status)
    if layout.root.is_dir():
        paths += [p for p in sorted(layout.root.iterdir()) if TEMP_FILE_PATTERN.match(p.name)]
    if out.is_dir():
        for entry in sorted(out.iterdir()):
            if TEMP_FILE_PATTERN.match(entry.name):
                paths.append(entry)
            if not entry.is_dir() or entry.name.startswith("."):
                continue
            for name in (STATUS_FILE, PARTIAL_DIR):
                if (entry / name).exists():
                    paths.append(entry / name)
            paths += [p for p in sorted(entry.iterdir()) if TEMP_FILE_PATTERN.match(p.name)]
    plan = ResetPlan(paths=paths)
    if not yes:
        return plan
    with ExclusiveLock(layout.lock, purpose="neuropose reset", wait_s=0.2):
        for p in paths + [p for p in layout.status_index_files if p not in paths]:
            if p.is_dir():
                shutil.rmtree(p, ignore_errors=True)
            elif os.path.lexists(p):
                p.unlink()
    plan.executed = True
    return plan
