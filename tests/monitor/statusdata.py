"""Status documents with known ground truth for the monitor tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from neuropose.io import write_model_atomic
from neuropose.schemas import AttemptRecord, JobState, JobStatusEntry, StatusFile, VideoProgress

HOSTILE = "<img src=x onerror=alert(1)>"


def iso(dt: datetime) -> str:
    return dt.isoformat(timespec="seconds").replace("+00:00", "Z")


def make_entry(name: str, state: JobState, *, age_s: float = 2.0, **kw: Any) -> JobStatusEntry:
    """A status entry whose heartbeat is ``age_s`` seconds old."""
    now = datetime.now(UTC)
    fields: dict[str, Any] = {
        "job_id": name,
        "state": state,
        "last_update": iso(now - timedelta(seconds=age_s)),
        "queued_at": iso(now - timedelta(minutes=10)),
    }
    fields.update(kw)
    return JobStatusEntry(**fields)


def sample_jobs() -> dict[str, JobStatusEntry]:
    """One job per state (ground truth used by the tests).

    * ``walk-01`` processing: 250 of 1000 frames (25 %), 12.5 fps, ETA 60 s,
      current video ``cam01.mp4``, attempt 1, fresh heartbeat.
    * ``walk-02`` queued, ``walk-03`` completed (400/400 frames),
    * ``walk-04`` failed with error ``ProcessingError: decoder stalled at frame 17``,
      2 attempts, * ``walk-05`` interrupted at 10/100 frames.
    """
    now = datetime.now(UTC)
    return {
        "walk-01": make_entry(
            "walk-01", JobState.PROCESSING, frames_done=250, frames_expected=1000, fps=12.5,
            eta_s=60.0, current_video="cam01.mp4", attempts=1, started_at=iso(now),
            videos=(
                VideoProgress(name="cam01.mp4", state=JobState.PROCESSING, frames_done=250,
                              frames_expected=500),
                VideoProgress(name="cam02.mp4", state=JobState.QUEUED, frames_expected=500),
            ),
            history=(AttemptRecord(attempt=1, started_at=iso(now), pid=4242),),
        ),
        "walk-02": make_entry("walk-02", JobState.QUEUED),
        "walk-03": make_entry(
            "walk-03", JobState.COMPLETED, frames_done=400, frames_expected=400, attempts=1,
            results_path="out/walk-03/results.json",
        ),
        "walk-04": make_entry(
            "walk-04", JobState.FAILED, attempts=2,
            error="ProcessingError: decoder stalled at frame 17",
            history=(
                AttemptRecord(attempt=1, started_at=iso(now), outcome=JobState.FAILED,
                              error="ProcessingError: decoder stalled at frame 17"),
                AttemptRecord(attempt=2, started_at=iso(now), outcome=JobState.FAILED,
                              error="ProcessingError: decoder stalled at frame 17"),
            ),
        ),
        "walk-05": make_entry("walk-05", JobState.INTERRUPTED, frames_done=10,
                              frames_expected=100, attempts=1),
    }


def write_status(data_dir: Path, jobs: dict[str, JobStatusEntry]) -> Path:
    path = data_dir / "out" / "status.json"
    write_model_atomic(path, StatusFile(updated_at=iso(datetime.now(UTC)), daemon_pid=4242,
                                        jobs=jobs))
    return path
