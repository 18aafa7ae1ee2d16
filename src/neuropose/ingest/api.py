"""The entry points :func:`ingest_archive` and :func:`ingest_paths`.

Both plan (every check, nothing written), then, under the staging lock,
re-check collisions and space, stage and place the jobs
(:class:`~neuropose.ingest.placement.Placement`). ``dry_run`` stops after the
checks (an archive's data is still read in full and CRC-checked).
"""

from __future__ import annotations

import contextlib
import errno
import logging
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from neuropose.datadir.layout import DataDir
from neuropose.datadir.lock import ExclusiveLock, LockHeldError
from neuropose.datadir.staging import clean_locked, staging_lock
from neuropose.errors import NeuroPoseError, ResourceError
from neuropose.ingest.collisions import (
    JobPlan,
    check_has_videos,
    check_space,
    check_total,
    completed_jobs_blocked,
    group_and_check,
    job_report,
)
from neuropose.ingest.errors import (
    IngestBusyError,
    IngestError,
    InsufficientSpaceError,
    JobCollisionError,
)
from neuropose.ingest.fsops import Budget, Meter
from neuropose.ingest.multiview import check_staged_jobs
from neuropose.ingest.naming import MAX_NAME_LENGTH, check_name, sanitize_name
from neuropose.ingest.placement import Placement, stage_item
from neuropose.ingest.plan import Plan, open_argument, plan_paths
from neuropose.ingest.report import IngestLimits, IngestReport, Mode, ProgressCallback
from neuropose.ingest.zipcheck import open_archive, plan_archive
from neuropose.logs import printable

__all__ = ["ingest_archive", "ingest_paths"]

logger = logging.getLogger(__name__)


def ingest_archive(
    zip_path: Path | str,
    data_dir: Path | str,
    *,
    job: str | None = None,
    force: bool = False,
    limits: IngestLimits | None = None,
    progress: ProgressCallback | None = None,
    dry_run: bool = False,
    follow_symlinks: bool = False,
) -> IngestReport:
    """Validate a zip archive and turn its videos into jobs in ``data_dir/in/``.

    Parameters
    ----------
    zip_path : Path or str
        The archive (untrusted).
    data_dir : Path or str
        The data directory; created when missing.
    job : str, optional
        Put every video into this one job instead of one job per video.
    force : bool
        Replace existing jobs of the same names (each listed in the report).
    limits : IngestLimits, optional
        Member-count, size and ratio limits (default :class:`IngestLimits()`).
    progress : callable, optional
        Called as ``progress(bytes_done, bytes_total)`` while extracting.
    dry_run : bool
        Run every check (reading and CRC-checking all video data) and report
        the jobs that would be created, writing nothing.
    follow_symlinks : bool
        Read the target when ``zip_path`` is a symbolic link (refused otherwise).

    Returns
    -------
    IngestReport
        Jobs created and members skipped.

    Raises
    ------
    UnsafeArchiveError, ArchiveLimitError, NoVideosError, JobCollisionError
        The archive is refused (exit code 2); nothing was written.
    IngestError
        A video in it is truncated or not finalised (exit code 2); nothing was written.
    JobBusyError, IngestBusyError
        A job to replace is being processed, or another ingest runs (exit 3).
    InsufficientSpaceError
        Not enough free disk space (exit code 4).
    """
    archive = Path(zip_path)
    limits = limits or IngestLimits()
    _validate_job(job)
    given = open_argument(archive, follow_symlinks)
    if given.is_dir:
        raise IngestError(f"{printable(archive)} is a folder, not a zip archive")
    with open_archive(given.path, limits) as zf:
        plan = plan_archive(zf, archive, job, limits)
        run = _Run(plan, Path(data_dir), force, limits, zf, progress, single=job is not None)
        return run.dry_run() if dry_run else run.execute()


def ingest_paths(
    paths: Iterable[Path | str],
    data_dir: Path | str,
    *,
    job: str | None = None,
    force: bool = False,
    mode: Mode = "copy",
    limits: IngestLimits | None = None,
    progress: ProgressCallback | None = None,
    dry_run: bool = False,
    follow_symlinks: bool = False,
) -> IngestReport:
    """Turn folders and video files into jobs in ``data_dir/in/``.

    Parameters
    ----------
    paths : iterable of Path or str
        Folders (walked recursively; names relative to the folder) and video
        files (named by their file name).
    data_dir : Path or str
        The data directory; created when missing.
    job : str, optional
        Put every video into this one job.
    force : bool
        Replace existing jobs of the same names (each listed in the report).
    mode : {"copy", "move", "link"}
        ``copy`` (default) leaves the sources alone; ``move`` removes each
        source after its job was placed (hard-linked when on the same
        filesystem, else copied); ``link`` hard-links and fails when that is
        impossible (another filesystem).
    limits : IngestLimits, optional
        Entry-count and size limits.
    progress : callable, optional
        Called as ``progress(bytes_done, bytes_total)``.
    dry_run : bool
        Run every check and report the jobs that would be created, writing
        nothing.
    follow_symlinks : bool
        A path in ``paths`` that is a symbolic link is refused unless this is
        set; then its target is read. Links inside folders are never followed.

    Returns
    -------
    IngestReport

    Raises
    ------
    IngestError, ArchiveLimitError, NoVideosError, JobCollisionError
        The input is refused (exit code 2; also a symbolic link given without
        ``follow_symlinks``, and a truncated or unfinalised video); nothing
        was written.
    JobBusyError, IngestBusyError, InsufficientSpaceError
        As for :func:`ingest_archive`.
    """
    if mode not in ("copy", "move", "link"):
        raise IngestError(f"unknown mode {mode!r}", hint="use copy, move or link")
    _validate_job(job)
    sources = [Path(p) for p in paths]
    if not sources:
        raise IngestError("nothing to ingest: no paths given")
    limits = limits or IngestLimits()
    data = Path(data_dir).resolve()
    for src in sources:
        real = src.resolve()
        if real == data or data in real.parents:
            raise IngestError(
                f"{printable(src)} is inside the data directory {printable(data)}",
                hint="ingest from outside the data directory; jobs in in/ are already queued",
            )
        if real in data.parents:
            raise IngestError(
                f"the data directory {printable(data)} is inside {printable(src)}; ingesting "
                "it would queue the queue itself",
                hint="ingest a folder that does not contain the data directory",
            )
    plan = plan_paths(sources, job, mode, limits, follow_symlinks=follow_symlinks)
    run = _Run(plan, Path(data_dir), force, limits, None, progress, single=job is not None)
    return run.dry_run() if dry_run else run.execute()


def _validate_job(job: str | None) -> None:
    if job is None:
        return
    if sanitize_name(job) != job or check_name(job, "--job") is not None:
        raise IngestError(
            f"invalid job name {job!r}",
            hint=f"use letters, digits, '.', '_' and '-', not starting with '.', at most "
            f"{MAX_NAME_LENGTH} characters (for example {sanitize_name(job) or 'job_1'!r})",
        )


@dataclass
class _Run:
    """One planned ingest: the checks against the data directory, then staging and placement."""

    plan: Plan
    data_dir: Path
    force: bool
    limits: IngestLimits
    zf: zipfile.ZipFile | None
    progress: ProgressCallback | None
    single: bool

    @property
    def needs_space(self) -> bool:
        return self.plan.mode in ("extract", "copy")

    def check(self) -> list[JobPlan]:
        """Collisions, busy jobs and free space (run before and again under the lock)."""
        jobs = group_and_check(self.plan, self.data_dir, self.force, self.single)
        completed_jobs_blocked(jobs, self.data_dir)
        if self.needs_space:
            check_space(self.data_dir, self.plan.total_bytes)
        return jobs

    def _report(self, jobs: list[JobPlan], **fields: object) -> IngestReport:
        return IngestReport(
            sources=self.plan.sources,
            data_dir=str(self.data_dir),
            mode=self.plan.mode,
            jobs=tuple(job_report(j) for j in jobs),
            skipped=tuple(self.plan.skipped),
            **fields,
        )

    def dry_run(self) -> IngestReport:
        """Check everything an ingest would, reading archive data fully, and write nothing."""
        try:
            check_has_videos(self.plan)
            check_total(self.plan, self.limits)
            jobs = self.check()
            budget = Budget(self.limits.max_total_bytes)
            meter = Meter(self.plan.total_bytes, self.progress)
            if self.zf is not None:
                for job in jobs:
                    for item in job.items:
                        stage_item(item, None, self.zf, self.plan.mode, budget, meter)
        except OSError as exc:
            raise _typed_os_error(exc, self.data_dir) from exc
        return self._report(jobs, dry_run=True)

    def execute(self) -> IngestReport:
        """Check, then stage and place every job under the staging lock."""
        try:
            check_has_videos(self.plan)
            check_total(self.plan, self.limits)
            self.check()
            return self._locked()
        except OSError as exc:
            raise _typed_os_error(exc, self.data_dir) from exc

    def _locked(self) -> IngestReport:
        data_dir = self.data_dir
        created = [p for p in (data_dir, *data_dir.parents) if not p.exists()]
        lock = staging_lock(data_dir, "neuropose ingest", wait_s=2.0)
        if not lock.try_acquire():
            raise IngestBusyError(
                f"another ingest is running in {printable(data_dir)} "
                f"(holder: {lock.describe_holder()})",
                hint="wait for it to finish and retry",
            )
        ok = False
        daemon_lock: ExclusiveLock | None = None
        try:
            cleaned = clean_locked(DataDir(data_dir).staging)
            jobs = self.check()  # again: another ingest may have finished meanwhile
            drop = [j.name for j in jobs if j.previous_state is not None]
            if drop:
                try:
                    daemon_lock = ExclusiveLock(
                        DataDir(data_dir).lock, purpose="neuropose ingest --force", wait_s=0.5
                    ).acquire()
                except LockHeldError:
                    # A daemon started meanwhile: it requeues failed/queued jobs by itself.
                    completed_jobs_blocked(jobs, data_dir)
                    drop = []
            written = self._place(jobs, drop)
            ok = True
        finally:
            if daemon_lock is not None:
                daemon_lock.release()
            lock.release()
            if not ok:  # leave no directory this failed ingest created
                for path in created:
                    with contextlib.suppress(OSError):
                        path.rmdir()
        for j in jobs:
            logger.debug("queued job %s (%d video(s))", j.name, len(j.items))
        return self._report(
            jobs, bytes_written=written, cleaned_staging=tuple(str(p) for p in cleaned)
        )

    def _place(self, jobs: list[JobPlan], drop_status: list[str]) -> int:
        placement = Placement(self.data_dir, DataDir(self.data_dir).staging, jobs)
        try:
            written = placement.stage(
                self.zf,
                self.plan.mode,
                Budget(self.limits.max_total_bytes),
                Meter(self.plan.total_bytes, self.progress),
            )
            if self.zf is not None:  # folder inputs were probed while planning
                check_staged_jobs(placement.staged, jobs)
            placement.place(drop_status)
        except BaseException:
            placement.rollback()
            raise
        placement.finish(self.plan.mode)
        return written


def _typed_os_error(exc: OSError, data_dir: Path) -> NeuroPoseError:
    """The typed error for an unexpected ``OSError`` while ingesting."""
    where = printable(exc.filename or data_dir)
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return InsufficientSpaceError(
            f"{where}: the disk filled up while ingesting ({exc.strerror}); nothing was queued",
            hint="free disk space and retry",
        )
    if exc.errno == errno.EFBIG:
        return ResourceError(
            f"{where}: file too large for this filesystem or process limit ({exc.strerror}); "
            "nothing was queued",
            hint="check `ulimit -f` and the filesystem's file-size limit",
        )
    if exc.errno in (errno.EEXIST, errno.ENOTEMPTY):
        return JobCollisionError(
            f"{where} appeared while ingesting (another program wrote into in/); "
            "nothing was queued",
            collisions={str(where): ["created concurrently"]},
            hint="retry; use --force to replace it",
        )
    return ResourceError(
        f"{where}: {exc.strerror or exc}; nothing was queued",
        hint="check that the data directory is writable and on a healthy filesystem",
    )
