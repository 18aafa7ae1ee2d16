"""Job status documents written by the daemon and read by everyone else.

The daemon keeps one :class:`JobStatusEntry` per job (``out/<job>/status.json``
while the job is active) and an aggregated :class:`StatusFile` (``status.json``
at the top of the data directory); the monitor, ``neuropose status`` and
``ingest`` read them. Times are ISO-8601 UTC strings.

States and legal transitions::

    queued -> processing -> completed
                         -> failed       (retry: failed -> queued)
                         -> interrupted  (restart: interrupted -> processing)
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from pydantic import Field

from neuropose.schemas.base import Document, FrozenModel

__all__ = [
    "AttemptRecord",
    "CameraSummary",
    "JobState",
    "JobStatusEntry",
    "StatusFile",
    "VideoProgress",
]


class JobState(StrEnum):
    """Lifecycle state of a job."""

    QUEUED = "queued"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"
    INTERRUPTED = "interrupted"


class VideoProgress(FrozenModel):
    """Progress of one video within a job."""

    name: str
    state: JobState = JobState.QUEUED
    frames_done: int = Field(default=0, ge=0)
    frames_expected: int | None = Field(default=None, ge=0)


class CameraSummary(FrozenModel):
    """One camera of a triangulated (multi-view) job, as shown in its status entry.

    ``median_reprojection_px``: median distance (px, in that video) between
    the model's 2D keypoints and the triangulated 3D reprojected; ``swaps``:
    frames whose left/right labels were exchanged; ``offset_frames``: that
    view's frame ``f + offset`` is the reference's frame ``f``.
    """

    camera: str
    video: str
    median_reprojection_px: float | None = None
    swaps: int = Field(default=0, ge=0)
    offset_frames: int = 0


class AttemptRecord(FrozenModel):
    """One processing attempt of a job.

    ``outcome`` is the state the attempt ended in (``None`` while running or
    when the daemon crashed during it); ``error`` is ``"<ErrorType>: message"``.
    """

    attempt: int = Field(ge=1)
    started_at: str
    finished_at: str | None = None
    outcome: JobState | None = None
    error: str | None = None
    pid: int | None = None


class JobStatusEntry(Document):
    """Status of one job.

    Attributes
    ----------
    job_id : str
        Job name.
    state : JobState
        Current state.
    attempts : int
        Number of attempts started so far.
    history : list of AttemptRecord
        One record per attempt, oldest first.
    queued_at, started_at, finished_at : str or None
        When the job was first seen, when the current attempt began, when it
        ended.
    last_update : str
        Heartbeat: the last time the daemon wrote this entry.
    videos : list of VideoProgress
        Per-video progress in processing order.
    current_video : str or None
        Video being processed.
    frames_done, frames_expected : int
        Totals over the job's videos (expected may be unknown).
    fps : float or None
        Recent processing rate in frames per second.
    eta_s : float or None
        Estimated seconds to completion.
    error : str or None
        ``"<ErrorType>: message"`` of the last failure.
    results_path : str or None
        Path of ``results.json`` relative to the data directory.
    cameras : list of CameraSummary
        Multi-view jobs: per camera the median reprojection error, swaps and
        offset of the triangulation (empty for single-view jobs).
    warnings : list of str
        Multi-view jobs: the triangulation's warnings (a suspect camera, an
        offset that could not be identified).
    """

    SCHEMA_VERSION: ClassVar[int] = 1
    job_id: str = Field(min_length=1)
    state: JobState
    attempts: int = Field(default=0, ge=0)
    history: tuple[AttemptRecord, ...] = ()
    queued_at: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    last_update: str
    videos: tuple[VideoProgress, ...] = ()
    current_video: str | None = None
    frames_done: int = Field(default=0, ge=0)
    frames_expected: int | None = Field(default=None, ge=0)
    fps: float | None = Field(default=None, ge=0)
    eta_s: float | None = Field(default=None, ge=0)
    error: str | None = None
    results_path: str | None = None
    cameras: tuple[CameraSummary, ...] = ()
    warnings: tuple[str, ...] = ()


class StatusFile(Document):
    """The aggregated ``status.json`` (top of the data directory).

    Attributes
    ----------
    updated_at : str
        Time of the write.
    daemon_pid : int or None
        The writer.
    counts : dict of JobState to int, or None
        Number of jobs per state over *every* job the daemon knows (every
        state present). ``None`` (schema version 1, and documents built in
        memory) means ``jobs`` lists every job.
    seq : int or None
        Sequence number of the status index (``status.db``) this document
        reflects; ``None`` when no index existed.
    jobs : dict of str to JobStatusEntry
        Every unfinished job (queued, processing, interrupted) and the most
        recently changed finished ones (see
        :data:`neuropose.datadir.status.RECENT_JOBS`).
    """

    SCHEMA_VERSION: ClassVar[int] = 2
    schema_version: int = Field(default=2, description="Version of this document's schema.")
    updated_at: str
    daemon_pid: int | None = None
    counts: dict[JobState, int] | None = None
    seq: int | None = Field(default=None, ge=0)
    jobs: dict[str, JobStatusEntry] = Field(default_factory=dict)

    def state_counts(self) -> dict[JobState, int]:
        """Jobs per state over every job (from ``counts``, else from ``jobs``).

        >>> StatusFile(updated_at="2026-01-01T00:00:00Z").state_counts()[JobState.QUEUED]
        0
        """
        if self.counts is not None:
            return {s: self.counts.get(s, 0) for s in JobState}
        out = dict.fromkeys(JobState, 0)
        for entry in self.jobs.values():
            out[entry.state] += 1
        return out

    @property
    def total(self) -> int:
        """Number of jobs the daemon knows (``jobs`` may list fewer)."""
        return sum(self.state_counts().values())
