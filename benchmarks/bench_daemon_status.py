"""Cost of the daemon's status writes and of ``read_status`` as finished jobs pile up.

Run: ``.venv/bin/python benchmarks/bench_daemon_status.py [--jobs 2000] [--repeats 30]``

Builds a data directory holding ``jobs`` completed jobs (each with a
realistic per-job ``status.json``: 3 videos, 2 attempts) plus one job being
processed, then times (median of ``repeats``):

* one heartbeat as the daemon does it (rewrite only the active job's
  ``out/<job>/status.json``) with 10 finished jobs and with ``jobs`` finished
  jobs: the ratio shows the cost does not grow with history;
* one heartbeat as a naive daemon would do it (rewrite the aggregated
  ``status.json`` holding every job);
* ``read_status`` (the reader every component uses) when the finished jobs'
  per-job files are older than the aggregate (normal case: they are only
  stat-ed), and when they are all newer (forced to parse every file).

Every write is the real atomic write (temp file, fsync, rename, fsync dir).
Prints a Markdown table for ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from neuropose.datadir.status import (
    read_status,
    write_aggregate_status,
    write_job_status,
)
from neuropose.schemas.status import AttemptRecord, JobState, JobStatusEntry, VideoProgress
from neuropose.timefmt import utc_now


def _entry(job: str, state: JobState) -> JobStatusEntry:
    now = utc_now()
    return JobStatusEntry(
        job_id=job,
        state=state,
        attempts=2,
        history=(
            AttemptRecord(attempt=1, started_at=now, finished_at=now, outcome=JobState.INTERRUPTED),
            AttemptRecord(attempt=2, started_at=now, finished_at=now, outcome=JobState.COMPLETED),
        ),
        queued_at=now,
        started_at=now,
        finished_at=now,
        last_update=now,
        videos=tuple(
            VideoProgress(name=f"cam{i:02d}.mp4", state=state, frames_done=900, frames_expected=900)
            for i in range(3)
        ),
        frames_done=2700,
        frames_expected=2700,
        results_path=f"out/{job}/results.json",
    )


def _build(root: Path, finished: int) -> dict[str, JobStatusEntry]:
    jobs = {f"job{i:05d}": _entry(f"job{i:05d}", JobState.COMPLETED) for i in range(finished)}
    jobs["active"] = _entry("active", JobState.PROCESSING)
    for e in jobs.values():
        write_job_status(root, e)
    time.sleep(0.02)
    write_aggregate_status(root, jobs)
    return jobs


def _median(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=2000)
    ap.add_argument("--repeats", type=int, default=30)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as small_dir, tempfile.TemporaryDirectory() as big_dir:
        small, big = Path(small_dir), Path(big_dir)
        few = max(3, args.repeats // 5)
        small_jobs = _build(small, 10)
        big_jobs = _build(big, args.jobs)
        active = big_jobs["active"]

        beat_small = _median(lambda: write_job_status(small, small_jobs["active"]), args.repeats)
        beat_big = _median(lambda: write_job_status(big, active), args.repeats)
        naive_big = _median(
            lambda: write_aggregate_status(big, big_jobs), max(3, args.repeats // 5)
        )

        write_aggregate_status(big, big_jobs)  # per-job files now older than the aggregate
        read_stat = _median(lambda: read_status(big), few)
        future = time.time() + 3600
        for job in big_jobs:
            p = big / "out" / job / "status.json"
            os.utime(p, (future, future))
        read_parse = _median(lambda: read_status(big), few)
        assert len(read_status(big).jobs) == args.jobs + 1

    n = args.jobs
    print(f"| measurement | 10 finished jobs | {n} finished jobs |")
    print("|---|---|---|")
    print(f"| heartbeat: per-job file (ms) | {beat_small * 1e3:.2f} | {beat_big * 1e3:.2f} |")
    print(f"| heartbeat: naive full status.json rewrite (ms) | - | {naive_big * 1e3:.1f} |")
    print(f"| read_status, finished files only stat-ed (ms) | - | {read_stat * 1e3:.1f} |")
    print(f"| read_status, every per-job file parsed (ms) | - | {read_parse * 1e3:.1f} |")
    print()
    print(f"heartbeat cost ratio {n} / 10 finished jobs: {beat_big / beat_small:.2f}x")
    print(f"naive / per-job heartbeat at {n} jobs: {naive_big / beat_big:.1f}x")
    print(f"read_status parse-all / stat-only at {n} jobs: {read_parse / read_stat:.1f}x")


if __name__ == "__main__":
    main()
