"""A study of 20 jobs with known names, states and change times (ground truth below).

Job ``i`` (0..19) is ``P{i // 2 + 1:02d}-pre`` for even ``i`` and
``P{i // 2 + 1:02d}-POST`` for odd ``i`` (mixed case on purpose); it is
failed when ``i % 5 == 0``, queued when ``i % 5 == 1``, completed otherwise;
its last change is ``(7 * i) % 20`` seconds after 2026-01-01T00:00:00Z.
"""

from __future__ import annotations

from pathlib import Path

from neuropose.datadir.status import sync_index, write_aggregate_status, write_job_status
from neuropose.schemas.status import JobState, JobStatusEntry

N_STUDY = 20


def study_name(i: int) -> str:
    return f"P{i // 2 + 1:02d}-{'pre' if i % 2 == 0 else 'POST'}"


def study_state(i: int) -> JobState:
    return {0: JobState.FAILED, 1: JobState.QUEUED}.get(i % 5, JobState.COMPLETED)


def write_study(data_dir: Path) -> Path:
    """Record the 20 jobs as the daemon does (per-job status, index, aggregate)."""
    sync_index(data_dir)
    for i in range(N_STUDY):
        write_job_status(
            data_dir,
            JobStatusEntry(
                job_id=study_name(i),
                state=study_state(i),
                last_update=f"2026-01-01T00:00:{(7 * i) % 20:02d}.000000Z",
            ),
        )
    write_aggregate_status(data_dir)
    return data_dir
