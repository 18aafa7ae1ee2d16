"""Reading and writing job status: the one reader everyone uses.

On-disk layout
--------------
::

    data_dir/status.json             StatusFile: every job the daemon knows,
                                     rewritten on job transitions only
    data_dir/out/<job>/status.json   JobStatusEntry of one job, rewritten on
                                     every heartbeat/checkpoint of that job

Older data directories kept the aggregate at ``out/status.json``, where a
job named ``status.json`` could take its place. Readers fall back to that
file while it is the only aggregate; the daemon moves it to the top level on
start (:func:`migrate_layout`, under its lock, one atomic rename).

A heartbeat rewrites only the small per-job file of the active job, so its
cost is proportional to the number of active jobs, not to the number of jobs
ever seen. The aggregated file is rewritten when a job changes state.

Merge rule
----------
:func:`read_status` starts from the aggregate ``status.json`` and, for every job that
has a per-job file, takes the per-job entry when its ``last_update`` is the
same or newer than the aggregated one (or the job is absent from the
aggregate, e.g. after a crash between the two writes). A per-job file older
(by mtime) than the aggregate is not parsed: the daemon always writes the
per-job file first, so the aggregate already holds it. Both files are written
with :func:`neuropose.io.write_model_atomic`, so a reader sees a complete old
or new version of each, never a torn one.

Crash invariants
----------------
* A corrupt or invalid file is never treated as empty:
  :func:`read_status` raises :class:`~neuropose.errors.InvalidDocumentError`
  naming the file and field (treating it as empty would make the daemon
  re-queue every job).
* An empty :class:`StatusFile` is returned only when no status file exists
  at all (a fresh data directory).

Examples
--------
>>> import tempfile, pathlib
>>> from neuropose.schemas.status import JobState, JobStatusEntry
>>> from neuropose.timefmt import utc_now
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> read_status(d).jobs
{}
>>> e = JobStatusEntry(job_id="walk1", state=JobState.QUEUED, last_update=utc_now())
>>> write_job_status(d, e)
>>> read_status(d).jobs["walk1"].state
<JobState.QUEUED: 'queued'>
"""

from __future__ import annotations

import contextlib
import logging
import os
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel

from neuropose.datadir.layout import STATUS_FILE, DataDir
from neuropose.errors import InvalidDocumentError
from neuropose.io import fsync_directory, load_model, write_model_atomic
from neuropose.schemas.status import JobState, JobStatusEntry, StatusFile
from neuropose.timefmt import parse_time, parse_time_or_none, utc_now

__all__ = [
    "STATUS_FILE_NAME",
    "aggregate_status_path",
    "current_status_path",
    "heartbeat_age",
    "is_stale",
    "job_status_path",
    "migrate_layout",
    "read_job_status",
    "read_status",
    "write_aggregate_status",
    "write_job_status",
]

logger = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)

#: Name of both the aggregated and the per-job status file.
STATUS_FILE_NAME = STATUS_FILE


def aggregate_status_path(data_dir: Path | str) -> Path:
    """``data_dir/status.json`` (where the daemon writes the aggregate)."""
    return DataDir(data_dir).status


def current_status_path(data_dir: Path | str) -> Path:
    """The aggregate readers use: ``status.json``, or the old-layout ``out/status.json``
    when only that one exists (a data directory no new daemon has started on yet)."""
    layout = DataDir(data_dir)
    if not os.path.lexists(layout.status) and layout.has_legacy_status():
        return layout.legacy_status
    return layout.status


def job_status_path(data_dir: Path | str, job_id: str) -> Path:
    """``data_dir/out/<job>/status.json``."""
    return DataDir(data_dir).job(job_id).status


def migrate_layout(data_dir: Path | str) -> bool:
    """Move an old-layout aggregate ``out/status.json`` to ``status.json``.

    Call it holding the daemon lock. One ``rename`` (atomic) followed by an
    ``fsync`` of both folders: after a crash either layout is complete.

    Returns
    -------
    bool
        Whether a file was moved.

    Raises
    ------
    InvalidDocumentError
        Both files exist (an older NeuroPose wrote ``out/status.json`` after
        the move); nothing is changed.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> (d / "out").mkdir()
    >>> _ = (d / "out" / "status.json").write_text('{"updated_at": "2026-01-01T00:00:00Z"}')
    >>> migrate_layout(d), (d / "status.json").is_file(), (d / "out" / "status.json").exists()
    (True, True, False)
    >>> migrate_layout(d)
    False
    """
    layout = DataDir(data_dir)
    if not layout.has_legacy_status():
        return False
    if os.path.lexists(layout.status):
        raise InvalidDocumentError(
            f"{layout.legacy_status}: an old-layout status file exists beside {layout.status}",
            hint=f"an older NeuroPose wrote it; keep the newer of the two as {layout.status} "
            f"and remove {layout.legacy_status}",
        )
    os.rename(layout.legacy_status, layout.status)
    fsync_directory(layout.root)
    fsync_directory(layout.out_dir)
    logger.info("moved %s to %s (new data-directory layout)", layout.legacy_status, layout.status)
    return True


def _newer_or_same(a: JobStatusEntry, b: JobStatusEntry) -> bool:
    """Whether ``a`` was written at the same time as or after ``b``."""
    try:
        return parse_time(a.last_update) >= parse_time(b.last_update)
    except ValueError:
        return a.last_update >= b.last_update


def read_job_status(data_dir: Path | str, job_id: str) -> JobStatusEntry | None:
    """Load ``out/<job>/status.json``; ``None`` when it does not exist.

    Raises
    ------
    InvalidDocumentError
        The file exists but is corrupt or invalid, or its ``job_id`` does not
        match its directory.
    """
    path = job_status_path(data_dir, job_id)
    entry = _load_if_present(path, JobStatusEntry)
    if entry is None:
        return None
    if entry.job_id != job_id:
        raise InvalidDocumentError(
            f"{path}: field 'job_id': is {entry.job_id!r} but the file is in job "
            f"directory {job_id!r}",
            hint="the file was copied from another job; remove it and run `neuropose status`",
        )
    return entry


def _load_if_present(path: Path, model: type[M]) -> M | None:
    """``load_model`` that returns ``None`` when the file does not exist (or was just
    removed by ``prune``/``reset``); any other problem raises."""
    try:
        return load_model(path, model)
    except InvalidDocumentError:
        if not path.exists():
            return None
        raise


def read_status(data_dir: Path | str) -> StatusFile:
    """The status of every job in ``data_dir``, merged from all status files.

    Parameters
    ----------
    data_dir : Path or str
        The data directory (holding ``status.json`` and ``out/``).

    Returns
    -------
    StatusFile
        ``jobs`` maps job id to its freshest entry (see the module docstring
        for the merge rule). ``updated_at`` is the newest write time seen.
        Empty only when there is no status file at all.

    Raises
    ------
    InvalidDocumentError
        ``status.json`` or a per-job ``out/<job>/status.json`` is corrupt
        or invalid; the message names the file and field.
    FutureSchemaError
        A file was written by a newer NeuroPose.

    Notes
    -----
    The daemon writes a job's per-job file before the aggregate on every
    transition, so a per-job file whose mtime is older than the aggregate's
    holds nothing the aggregate lacks; such files are only ``stat``-ed, not
    parsed. The cost of a read is one parse per job active since the last
    transition plus one ``stat`` per job.
    """
    agg_path = current_status_path(data_dir)
    loaded = _load_if_present(agg_path, StatusFile)
    aggregate = loaded or StatusFile(updated_at=utc_now(), jobs={})
    agg_mtime = -1
    if loaded is not None:
        with contextlib.suppress(FileNotFoundError):
            agg_mtime = agg_path.stat().st_mtime_ns
    jobs = dict(aggregate.jobs)
    changed = False
    updated_at = aggregate.updated_at
    for name in DataDir(data_dir).output_jobs():
        try:
            mtime = job_status_path(data_dir, name).stat().st_mtime_ns
        except (FileNotFoundError, NotADirectoryError):
            continue
        if name in jobs and mtime < agg_mtime:
            continue  # written before the aggregate, which already holds it
        live = read_job_status(data_dir, name)
        if live is None:
            continue
        known = jobs.get(name)
        if known is None or _newer_or_same(live, known):
            if known != live:
                jobs[name] = live
                changed = True
            try:
                if parse_time(live.last_update) > parse_time(updated_at):
                    updated_at = live.last_update
            except ValueError:
                pass
    if not changed:
        return aggregate
    return aggregate.model_copy(update={"jobs": jobs, "updated_at": updated_at})


def write_job_status(data_dir: Path | str, entry: JobStatusEntry) -> None:
    """Atomically write ``out/<job>/status.json`` (creating ``out/<job>/``)."""
    path = job_status_path(data_dir, entry.job_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_model_atomic(path, entry)


def write_aggregate_status(
    data_dir: Path | str, jobs: dict[str, JobStatusEntry], *, daemon_pid: int | None = None
) -> StatusFile:
    """Atomically write ``status.json`` holding ``jobs``; returns what was written.

    Call it holding the daemon lock. An old-layout ``out/status.json`` is
    moved first (:func:`migrate_layout`), so the old file never outlives the
    first write.
    """
    path = aggregate_status_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    migrate_layout(data_dir)
    doc = StatusFile(updated_at=utc_now(), daemon_pid=daemon_pid, jobs=dict(sorted(jobs.items())))
    write_model_atomic(path, doc)
    return doc


def heartbeat_age(entry: JobStatusEntry, now: datetime) -> float | None:
    """Seconds from the entry's ``last_update`` to ``now`` (``None`` when unparseable)."""
    t = parse_time_or_none(entry.last_update)
    return None if t is None else max(0.0, (now - t).total_seconds())


def is_stale(entry: JobStatusEntry, now: datetime, stale_after_s: float) -> bool:
    """A ``processing`` job whose heartbeat is older than ``stale_after_s`` (or unreadable).

    The one staleness rule of ``neuropose status`` and the dashboard.

    >>> from datetime import UTC, datetime
    >>> e = JobStatusEntry(
    ...     job_id="a", state=JobState.PROCESSING, last_update="2026-01-01T00:00:00Z"
    ... )
    >>> now = datetime(2026, 1, 1, 0, 2, tzinfo=UTC)
    >>> is_stale(e, now, 60.0), is_stale(e, now, 300.0)
    (True, False)
    """
    if entry.state is not JobState.PROCESSING:
        return False
    age = heartbeat_age(entry, now)
    return age is None or age > stale_after_s
