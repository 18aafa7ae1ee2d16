"""The quality reports the daemon writes for each completed job, and their recovery.

A completed job's reports (``out/<job>/visualize/<stem>.quality.{json,html}``,
one per video) are derived data: failing to write them never fails a job
whose ``results.json`` is complete. A report that could not be written is not
forgotten either:

* a write that failed on the filesystem (disk full, permissions) is retried
  when the daemon is idle, every ``retry_after_s`` seconds, until it works;
* on start, recovery lists every completed job whose reports are missing
  (a few ``stat`` calls per job, no file read) and the daemon regenerates
  them from ``results.json`` when it is idle (also with ``watch --once``),
  after the queued jobs.

A report that cannot be computed (``ValueError`` from the metrics) is logged
and not retried until the next start.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable

from neuropose.datadir.layout import DataDir
from neuropose.errors import NeuroPoseError
from neuropose.io import load_model
from neuropose.quality import write_job_quality_reports
from neuropose.schemas.predictions import JobResults
from neuropose.schemas.status import JobState, JobStatusEntry

__all__ = ["QualityReports"]

logger = logging.getLogger(__name__)

#: Seconds between two attempts at a report whose write failed.
REPORT_RETRY_S = 60.0


class QualityReports:
    """Writes completed jobs' quality reports and remembers the ones still owed.

    Parameters
    ----------
    layout : DataDir
        The data directory.
    retry_after_s : float
        Seconds between attempts at a report whose write failed.
    clock : callable
        Monotonic time source (seconds), for tests.

    Examples
    --------
    >>> import tempfile
    >>> reports = QualityReports(DataDir(tempfile.mkdtemp()))
    >>> reports.pending
    []
    """

    def __init__(
        self,
        layout: DataDir,
        *,
        retry_after_s: float = REPORT_RETRY_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.layout = layout
        self.retry_after_s = retry_after_s
        self._clock = clock
        self._due: dict[str, float] = {}  # job -> earliest next attempt (clock time)

    @property
    def pending(self) -> list[str]:
        """Jobs whose reports are still to be written, by name."""
        return sorted(self._due)

    def is_missing(self, entry: JobStatusEntry) -> bool:
        """Whether a report (JSON or HTML) of one of the entry's videos is absent."""
        paths = self.layout.job(entry.job_id)
        for video in entry.videos:
            report = paths.quality(video.name)
            # The page's name is the report's with .html (equal-length suffixes, so
            # io.fit_name shortens a long stem the same way for both).
            if not (report.is_file() and report.with_suffix(".html").is_file()):
                return True
        return False

    def find_missing(self, entries: Iterable[JobStatusEntry]) -> list[str]:
        """Owe the reports of every completed entry that lacks one; return those jobs."""
        found = [
            e.job_id
            for e in entries
            if e.state is JobState.COMPLETED
            and self.layout.job(e.job_id).results.is_file()
            and self.is_missing(e)
        ]
        for job_id in found:
            self._due.setdefault(job_id, 0.0)
        if found:
            logger.info(
                "%d completed job(s) lack quality reports; writing them when idle",
                len(found),
                extra={"fields": {"event": "reports_missing", "jobs": len(found)}},
            )
        return found

    def write(self, results: JobResults) -> bool:
        """Write the reports of a job; on a filesystem error owe them for later."""
        job_id = results.job_id
        try:
            job = self.layout.job(job_id)
            # A job re-rendered after `neuropose opensim` keeps its IK summary.
            write_job_quality_reports(results, job.visualize, opensim_root=job.opensim)
        except (OSError, NeuroPoseError) as exc:
            self._due[job_id] = self._clock() + self.retry_after_s
            logger.warning(
                "job %s: quality report not written: %s; retrying every %g s while idle",
                job_id,
                exc.message if isinstance(exc, NeuroPoseError) else exc,
                self.retry_after_s,
                extra={"fields": {"event": "report_failed", "job": job_id}},
            )
            return False
        except ValueError as exc:
            self._due.pop(job_id, None)
            logger.warning("job %s: quality report not written: %s", job_id, exc)
            return False
        if self._due.pop(job_id, None) is not None:
            logger.info(
                "job %s: quality reports written",
                job_id,
                extra={"fields": {"event": "report_written", "job": job_id}},
            )
        return True

    def write_next(self) -> bool:
        """Attempt the owed reports of one job whose time has come; ``False`` when none is due.

        One job per call, so that the daemon looks for new jobs between two
        (a backlog of reports never delays a queued job by more than one).
        """
        now = self._clock()
        due = [job_id for job_id, t in sorted(self._due.items()) if t <= now]
        if not due:
            return False
        job_id = due[0]
        try:
            results = load_model(self.layout.job(job_id).results, JobResults)
        except NeuroPoseError as exc:
            self._due.pop(job_id)
            logger.warning("job %s: no quality report: %s", job_id, exc.message)
            return True
        self.write(results)
        return True
