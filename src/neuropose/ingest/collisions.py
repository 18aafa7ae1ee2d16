"""Checks of a plan against itself and the data directory, before anything is written.

Job names are checked, all at once, against each other and against
``in/<job>``, ``out/<job>``, ``failed/<job>`` and the job ids known to
:func:`neuropose.datadir.status.read_status`. With ``force`` each colliding
job is replaced (its directories listed in :attr:`JobPlan.replace`); a job
the daemon is processing is never replaced, nor, while a daemon runs, one
it recorded as completed (it would never reprocess it).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from neuropose.datadir.layout import IN_DIR, DataDir
from neuropose.datadir.lock import probe_lock
from neuropose.datadir.status import read_job_status, read_status
from neuropose.ingest.errors import (
    ArchiveLimitError,
    InsufficientSpaceError,
    JobBusyError,
    JobCollisionError,
    NoVideosError,
)
from neuropose.ingest.naming import VIDEO_EXTENSIONS, listing
from neuropose.ingest.plan import Item, Plan
from neuropose.ingest.report import IngestedJob, IngestedVideo, IngestLimits
from neuropose.logs import printable
from neuropose.schemas.status import JobState
from neuropose.timefmt import format_bytes

__all__ = [
    "FREE_SPACE_RESERVE_BYTES",
    "JobPlan",
    "check_has_videos",
    "check_space",
    "check_total",
    "completed_jobs_blocked",
    "group_and_check",
    "job_report",
]

#: Free space that must remain after extracting, bytes (64 MiB).
FREE_SPACE_RESERVE_BYTES = 64 * 1024**2


@dataclass
class JobPlan:
    """One job to create: its videos, and what ``force`` replaces."""

    name: str
    items: list[Item]
    replace: list[str] = field(default_factory=list)
    previous_state: JobState | None = None


def _existing(data_dir: Path) -> tuple[dict[str, list[str]], dict[str, JobState]]:
    """Existing job directories (name -> relative paths) and status states."""
    found: dict[str, list[str]] = {}
    layout = DataDir(data_dir)
    for folder in layout.job_folders:
        try:
            entries = list(os.scandir(folder))
        except FileNotFoundError:
            continue
        for entry in entries:
            # Only folders are jobs (an old-layout out/status.json is the daemon's file).
            if not entry.name.startswith(".") and entry.is_dir(follow_symlinks=False):
                found.setdefault(entry.name, []).append(f"{folder.name}/{entry.name}")
    states: dict[str, JobState] = {}
    if layout.out_dir.is_dir() or layout.status.is_file():
        states = {jid: entry.state for jid, entry in read_status(data_dir).jobs.items()}
    return found, states


def _state(data_dir: Path, states: dict[str, JobState], name: str) -> JobState | None:
    """State of job ``name``: from the listed jobs, else from the status index (older jobs)."""
    if name in states:
        return states[name]
    entry = read_job_status(data_dir, name) if DataDir(data_dir).out_dir.is_dir() else None
    return entry.state if entry is not None else None


def group_and_check(plan: Plan, data_dir: Path, force: bool, single_job: bool) -> list[JobPlan]:
    """Group items into jobs and report every collision at once."""
    jobs: dict[str, JobPlan] = {}
    internal: list[str] = []
    files: dict[tuple[str, str], str] = {}
    for item in plan.items:
        job = jobs.setdefault(item.job, JobPlan(name=item.job, items=[]))
        first = job.items[0] if job.items else None
        # Several files share a job only with --job, or as one multi-view folder.
        if (
            first is not None
            and not single_job
            and (first.group, first.multiview)
            != (
                item.group,
                True,
            )
        ):
            internal.append(f"{first.source!r} and {item.source!r} both map to job {item.job!r}")
            continue
        other = files.get((item.job, item.file))
        if other is not None:
            internal.append(
                f"{other!r} and {item.source!r} both map to file {item.job}/{item.file}"
            )
            continue
        files[(item.job, item.file)] = item.source
        job.items.append(item)
    if internal:
        raise JobCollisionError(
            f"names clash inside the input ({len(internal)}):\n{listing(internal)}",
            collisions={"<input>": internal},
            hint="nothing was written; rename the files, or use --job NAME to put all "
            "videos in one job",
        )
    found, states = _existing(data_dir)
    clashes: dict[str, list[str]] = {}
    busy: list[str] = []
    for name, job in jobs.items():
        what = list(found.get(name, []))
        state = _state(data_dir, states, name)
        if state is not None:
            what.append(f"status.json ({state.value})")
            if state is JobState.PROCESSING:
                busy.append(name)
        if what:
            clashes[name] = what
            job.replace = list(found.get(name, []))
            job.previous_state = state
    if busy:
        raise JobBusyError(
            "the daemon is processing job(s) with these names: " + ", ".join(sorted(busy)),
            hint="wait until they finish (see `neuropose status`) or choose another --job name",
        )
    if clashes and not force:
        lines = [f"{n}: exists as {', '.join(w)}" for n, w in sorted(clashes.items())]
        raise JobCollisionError(
            f"{len(clashes)} job name(s) already exist:\n{listing(lines)}",
            collisions=clashes,
            hint="nothing was written; use --force to replace exactly these jobs, or --job NAME",
        )
    return [jobs[n] for n in sorted(jobs)]


def completed_jobs_blocked(jobs: list[JobPlan], data_dir: Path) -> None:
    """Refuse to replace completed jobs while a daemon runs (it would never reprocess them).

    A running daemon keeps job states in memory and does not pick up new
    inputs of a job it recorded as completed; without a daemon, ingest drops
    the old status entries itself (under the daemon lock).
    """
    completed = sorted(j.name for j in jobs if j.previous_state is JobState.COMPLETED)
    if not completed:
        return
    info = probe_lock(DataDir(data_dir).lock)
    if info.held:
        raise JobBusyError(
            f"the running daemon ({info.describe()}) recorded job(s) "
            f"{', '.join(completed)} as completed and would not process a replacement",
            hint="stop `neuropose watch`, run the same ingest with --force, then start it "
            "again; or choose another --job name",
        )


def job_report(job: JobPlan) -> IngestedJob:
    videos = [
        IngestedVideo(source=i.source, file=i.file, size_bytes=i.size)
        for i in job.items
        if i.kind == "video"
    ]
    calibration = next((i.file for i in job.items if i.kind == "calibration"), None)
    return IngestedJob(
        name=job.name,
        path=f"{IN_DIR}/{job.name}",
        videos=tuple(sorted(videos, key=lambda v: v.file)),
        size_bytes=sum(v.size_bytes for v in videos),
        calibration=calibration,
        replaced=tuple(job.replace),
        previous_state=job.previous_state,
    )


def check_space(data_dir: Path, needed: int) -> None:
    probe = data_dir
    while not probe.exists():
        probe = probe.parent
    free = shutil.disk_usage(probe).free
    if free < needed + FREE_SPACE_RESERVE_BYTES:
        raise InsufficientSpaceError(
            f"{printable(data_dir)}: {format_bytes(free)} free, but the input needs "
            f"{format_bytes(needed)} plus a reserve of {format_bytes(FREE_SPACE_RESERVE_BYTES)}",
            hint="free disk space or ingest a smaller batch",
        )


def check_total(plan: Plan, limits: IngestLimits) -> None:
    total = plan.total_bytes
    if total > limits.max_total_bytes:
        raise ArchiveLimitError(
            f"{printable(', '.join(plan.sources))}: the videos total {total} bytes "
            f"({format_bytes(total)}), above the limit of {limits.max_total_bytes} bytes",
            hint="nothing was written; raise --max-total-bytes (setting "
            "ingest_max_total_bytes) or ingest a smaller batch",
        )


def check_has_videos(plan: Plan) -> None:
    if plan.items:
        return
    lines = [f"{s.member}: {s.reason.value}" for s in plan.skipped]
    detail = f"; skipped:\n{listing(lines)}" if lines else ""
    raise NoVideosError(
        f"{printable(', '.join(plan.sources))}: no video to ingest{detail}",
        hint="videos are recognised by extension: " + " ".join(sorted(VIDEO_EXTENSIONS)),
    )
