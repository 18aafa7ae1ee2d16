"""What the daemon does on start, under its lock, before processing anything.

In order:

1. read ``status.json`` (either layout); a corrupt file refuses the start and
   changes nothing (:meth:`Recovery.load_jobs`);
2. move an old-layout ``out/status.json`` to ``status.json``;
3. delete temporary files of interrupted writes, and ingest's leftovers in
   ``.staging/``;
4. for each job (:meth:`Recovery.recover`): a ``processing`` job was being
   processed when a daemon died: one crash is counted, and after
   ``max_attempts`` crashes the job is failed as poison and quarantined;
   checkpoints left by a completed job are deleted; a completed job's missing
   quality reports are owed (:class:`~neuropose.interfacer.reports.QualityReports`).

Each step only ever moves a job forward along the transitions of
:mod:`neuropose.interfacer.transitions`, so a crash during recovery is
recovered by the next start like any other.
"""

from __future__ import annotations

import logging
import os
import shutil

from neuropose.datadir.layout import DataDir
from neuropose.datadir.staging import clean_staging
from neuropose.datadir.status import migrate_layout, sync_index
from neuropose.errors import InvalidDocumentError, NeuroPoseError
from neuropose.interfacer.errors import PoisonJobError
from neuropose.interfacer.reports import QualityReports
from neuropose.interfacer.transitions import JobBook
from neuropose.io import remove_stale_temp_files
from neuropose.schemas.status import JobState, JobStatusEntry

__all__ = ["Recovery"]

logger = logging.getLogger(__name__)


class Recovery:
    """The start-up steps of one daemon on one data directory.

    Parameters
    ----------
    layout : DataDir
        The data directory (its lock must be held).
    max_attempts : int
        Crashes after which a ``processing`` job is failed as poison.
    """

    def __init__(self, layout: DataDir, max_attempts: int) -> None:
        self.layout = layout
        self.max_attempts = max_attempts

    def load_jobs(self) -> dict[str, JobStatusEntry]:
        """Bring the status index up to date and read the unfinished and recent jobs'
        entries (:func:`~neuropose.datadir.status.sync_index`; older ones are
        looked up when their inputs reappear), then the layout and temporary files.

        Raises
        ------
        InvalidDocumentError
            ``status.json`` is corrupt, or both layouts' files exist; nothing
            was changed (exit code 2).
        """
        try:
            status = sync_index(self.layout.root, daemon_pid=os.getpid())
        except InvalidDocumentError as exc:
            raise InvalidDocumentError(
                f"refusing to start: {exc.message}",
                hint="nothing was changed. Restore the file from a backup, or run "
                "`neuropose reset --yes` to rebuild status from in/, out/ and failed/ "
                "(inputs and results.json are kept)",
            ) from exc
        try:
            migrate_layout(self.layout.root)
        except InvalidDocumentError as exc:
            raise InvalidDocumentError(f"refusing to start: {exc.message}", hint=exc.hint) from exc
        self._remove_temp_files()
        self._clean_staging()
        return dict(status.jobs)

    def _remove_temp_files(self) -> None:
        removed = []
        for d in (self.layout.root, self.layout.out_dir, self.layout.failed_dir):
            removed += remove_stale_temp_files(d)
        for name in self.layout.output_jobs():
            paths = self.layout.job(name)
            removed += remove_stale_temp_files(paths.output)
            removed += remove_stale_temp_files(paths.partial)
            removed += remove_stale_temp_files(paths.visualize)
            removed += remove_stale_temp_files(paths.export)
        for path in removed:
            logger.info("removed temporary file %s left by an interrupted write", path)

    def _clean_staging(self) -> None:
        try:
            removed = clean_staging(self.layout.root)
        except (NeuroPoseError, OSError) as exc:
            logger.warning("could not clean %s: %s", self.layout.staging, exc)
            return
        if removed:
            logger.info("removed %d leftover(s) of interrupted ingests", len(removed))

    def recover(self, book: JobBook, reports: QualityReports) -> None:
        """Count crashes, quarantine poison jobs, tidy completed jobs, owe missing reports."""
        for job_id, entry in sorted(book.jobs.items()):
            if entry.state is JobState.COMPLETED:
                # A crash while deleting checkpoints of a completed job leaves some behind.
                leftover = self.layout.job(job_id).partial
                if leftover.exists():
                    shutil.rmtree(leftover, ignore_errors=True)
                    logger.info("removed leftover checkpoints of completed job %s", job_id)
            elif entry.state is JobState.PROCESSING:
                self._count_crash(book, entry)
        reports.find_missing(book.jobs.values())

    def _count_crash(self, book: JobBook, entry: JobStatusEntry) -> None:
        job_id = entry.job_id
        crashes = sum(1 for h in entry.history if h.outcome is None)
        logger.warning(
            "job %s was processing when the daemon stopped (crash %d of at most %d)",
            job_id,
            crashes,
            self.max_attempts,
            extra={"fields": {"event": "crash_detected", "job": job_id, "crashes": crashes}},
        )
        if crashes >= self.max_attempts:
            exc = PoisonJobError(
                f"job {job_id!r} stopped the daemon {crashes} times while processing "
                f"(max_attempts = {self.max_attempts}); quarantined"
            )
            book.fail(job_id, exc, quarantine=True)
