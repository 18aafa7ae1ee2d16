"""Reading and writing job status: the one reader everyone uses.

``status.db`` (SQLite index, one row per job) is what readers query;
``out/<job>/status.json`` is each job's full record (the index is rebuilt
from them); ``status.json`` is a compact StatusFile for other tools (counts,
unfinished and :data:`RECENT_JOBS` recent jobs). Layout, write order and
crash invariants: docs/file-formats.md, "Status files".

* Write order: index row, then per-job file (:func:`write_job_status`), then
  ``status.json`` on transitions. After ``kill -9`` the index is never behind
  a per-job file; :func:`sync_index` (daemon start) repairs the rest.
* A corrupt file is never treated as empty: readers raise
  :class:`~neuropose.errors.InvalidDocumentError` naming it.
* Without ``status.db`` readers use the files alone (:func:`_read_files`),
  including an old-layout ``out/status.json`` (:func:`migrate_layout`).

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
>>> _ = sync_index(d)  # what the daemon does on start: builds status.db
>>> write_job_status(d, e.model_copy(update={"state": JobState.COMPLETED}))
>>> read_status(d).state_counts()[JobState.COMPLETED]
1
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel

from neuropose.datadir.index import (
    UNFINISHED,
    StatusIndex,
    StatusIndexError,
    create_index,
)
from neuropose.datadir.layout import STATUS_FILE, DataDir
from neuropose.errors import InvalidDocumentError
from neuropose.io import fsync_directory, load_model, write_model_atomic
from neuropose.schemas.status import JobState, JobStatusEntry, StatusFile
from neuropose.timefmt import parse_time, utc_now

__all__ = [
    "RECENT_JOBS",
    "STATUS_FILE_NAME",
    "aggregate_status_path",
    "current_status_path",
    "finish_times",
    "forget_jobs",
    "job_status_path",
    "migrate_layout",
    "query_jobs",
    "read_job_status",
    "read_status",
    "restore_jobs",
    "status_version",
    "sync_index",
    "write_aggregate_status",
    "write_job_status",
]

logger = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)

#: Name of both the aggregated and the per-job status file.
STATUS_FILE_NAME = STATUS_FILE

#: Finished jobs listed in ``status.json`` and by :func:`read_status` besides
#: every unfinished one (the most recently changed first).
RECENT_JOBS = 100


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


def _load_if_present(path: Path, model: type[M]) -> M | None:
    """``load_model`` that returns ``None`` when the file does not exist (or was just
    removed by ``prune``/``reset``); any other problem raises."""
    try:
        return load_model(path, model)
    except InvalidDocumentError:
        if not path.exists():
            return None
        raise


def _read_job_file(data_dir: Path | str, job_id: str) -> JobStatusEntry | None:
    """``out/<job>/status.json``, checked to belong to ``job_id``; ``None`` when absent."""
    path = job_status_path(data_dir, job_id)
    entry = _load_if_present(path, JobStatusEntry)
    if entry is not None and entry.job_id != job_id:
        raise InvalidDocumentError(
            f"{path}: field 'job_id': is {entry.job_id!r} but the file is in job "
            f"directory {job_id!r}",
            hint="the file was copied from another job; remove it and run `neuropose status`",
        )
    return entry


def _index(data_dir: Path | str, *, write: bool = False) -> StatusIndex | None:
    return StatusIndex.open(DataDir(data_dir).status_index, write=write)


def read_job_status(data_dir: Path | str, job_id: str) -> JobStatusEntry | None:
    """The newest entry of one job (any job, however old); ``None`` when unknown.

    Raises
    ------
    InvalidDocumentError
        The index or ``out/<job>/status.json`` is corrupt or invalid, or the
        file's ``job_id`` does not match its directory.
    """
    index = _index(data_dir)
    if index is not None:
        entry = index.get(job_id)
        if entry is not None:
            return entry
    return _read_job_file(data_dir, job_id)


def _read_files(data_dir: Path | str) -> StatusFile:
    """Every job from the files alone: the aggregate merged with every per-job file.

    A per-job file older (by mtime) than the aggregate and whose job the
    aggregate lists is only ``stat``-ed; the newer entry (by ``last_update``)
    wins. Cost: one ``stat`` per job plus one parse per job not in the
    aggregate or changed since it was written.
    """
    agg_path = current_status_path(data_dir)
    loaded = _load_if_present(agg_path, StatusFile)
    aggregate = loaded or StatusFile(updated_at=utc_now(), jobs={})
    agg_mtime = -1
    if loaded is not None:
        with contextlib.suppress(FileNotFoundError):
            agg_mtime = agg_path.stat().st_mtime_ns
    jobs = dict(aggregate.jobs)
    changed = aggregate.counts is not None  # a compact aggregate: the files are the record
    updated_at = aggregate.updated_at
    for name in DataDir(data_dir).output_jobs():
        try:
            mtime = job_status_path(data_dir, name).stat().st_mtime_ns
        except (FileNotFoundError, NotADirectoryError):
            continue
        if name in jobs and mtime < agg_mtime:
            continue  # written before the aggregate, which already holds it
        live = _read_job_file(data_dir, name)
        if live is None:
            continue
        known = jobs.get(name)
        if known is None or _newer_or_same(live, known):
            if known != live:
                jobs[name] = live
                changed = True
            updated_at = _newest(updated_at, live.last_update)
    if not changed:
        return aggregate
    return aggregate.model_copy(
        update={"jobs": jobs, "updated_at": updated_at, "counts": None, "seq": None}
    )


def _newest(a: str, b: str) -> str:
    try:
        return b if parse_time(b) > parse_time(a) else a
    except ValueError:
        return a


def _summary(index: StatusIndex, *, updated_at: str | None, daemon_pid: int | None) -> StatusFile:
    """Counts of every job, the unfinished ones and the ``RECENT_JOBS`` most recent."""
    seq = index.seq()
    counts = index.counts()
    recent = index.entries(limit=RECENT_JOBS)
    chosen = {e.job_id: e for e in index.entries(states=UNFINISHED)}
    for e in recent:
        chosen.setdefault(e.job_id, e)
    newest = updated_at or (recent[0].last_update if recent else utc_now())
    if recent and updated_at:
        newest = _newest(updated_at, recent[0].last_update)
    return StatusFile(
        updated_at=newest,
        daemon_pid=daemon_pid,
        counts=counts,
        seq=seq,
        jobs=dict(sorted(chosen.items())),
    )


def read_status(data_dir: Path | str) -> StatusFile:
    """The status of ``data_dir``: counts of every job, unfinished and recent jobs.

    Parameters
    ----------
    data_dir : Path or str
        The data directory (holding ``status.json``, ``status.db`` and ``out/``).

    Returns
    -------
    StatusFile
        ``counts`` counts every job per state; ``jobs`` holds every
        unfinished job and the :data:`RECENT_JOBS` most recently changed
        ones (all jobs while there are no more). Use :func:`read_job_status`
        for any one job and :func:`query_jobs` for pages of all of them.
        Empty only when there is no status file at all.

    Raises
    ------
    InvalidDocumentError
        ``status.json``, ``status.db`` or a per-job ``out/<job>/status.json``
        is corrupt or invalid; the message names the file and field.
    FutureSchemaError
        A file was written by a newer NeuroPose.

    Notes
    -----
    With the index the cost is independent of the number of finished jobs
    (``status.json`` is parsed to report a damaged file, never to list
    jobs). Without it (see the module docstring) it is one ``stat`` per job.
    """
    index = _index(data_dir)
    if index is None:
        return _read_files(data_dir)
    aggregate = _load_if_present(current_status_path(data_dir), StatusFile)
    return _summary(
        index,
        updated_at=aggregate.updated_at if aggregate else None,
        daemon_pid=aggregate.daemon_pid if aggregate else None,
    )


def query_jobs(
    data_dir: Path | str,
    *,
    states: Iterable[JobState] | None = None,
    limit: int | None = 50,
    offset: int = 0,
) -> tuple[int, list[JobStatusEntry]]:
    """A page of jobs, most recently changed first.

    Parameters
    ----------
    states : iterable of JobState, optional
        Only jobs in these states.
    limit, offset : int
        Page size (``None``: all) and how many jobs to skip.

    Returns
    -------
    (int, list of JobStatusEntry)
        The number of matching jobs and the page.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from neuropose.timefmt import utc_now
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> for i in range(3):
    ...     write_job_status(d, JobStatusEntry(job_id=f"j{i}", state=JobState.QUEUED,
    ...                                        last_update=utc_now()))
    >>> total, page = query_jobs(d, limit=2)
    >>> total, [e.job_id for e in page]
    (3, ['j2', 'j1'])
    """
    if (limit is not None and limit < 0) or offset < 0:
        raise ValueError("limit and offset must be >= 0")
    chosen = None if states is None else tuple(states)
    index = _index(data_dir)
    if index is not None:
        total = index.count(chosen)
        return total, index.entries(states=chosen, limit=limit, offset=offset)
    jobs = [e for e in _read_files(data_dir).jobs.values() if chosen is None or e.state in chosen]
    jobs.sort(key=lambda e: _sort_time(e.last_update), reverse=True)
    end = None if limit is None else offset + limit
    return len(jobs), jobs[offset:end]


def finish_times(data_dir: Path | str, states: Iterable[JobState]) -> list[tuple[str, str]]:
    """``(job_id, finished_at or last_update)`` of every job in ``states`` (no entry parsed
    when the index exists)."""
    chosen = tuple(states)
    index = _index(data_dir)
    if index is not None:
        return index.finish_times(chosen)
    return [
        (e.job_id, e.finished_at or e.last_update)
        for e in _read_files(data_dir).jobs.values()
        if e.state in chosen
    ]


def _sort_time(text: str) -> float:
    try:
        return parse_time(text).timestamp()
    except ValueError:
        return float("-inf")


def status_version(data_dir: Path | str) -> tuple[object, ...]:
    """A value that changes whenever :func:`read_status` could return something else.

    With the index: its sequence number and the aggregate's identity (a few
    microseconds, independent of the number of jobs). Without it: the
    identity of every status file (one ``stat`` per job).
    """
    layout = DataDir(data_dir)

    def ident(path: Path) -> tuple[int, int, int] | None:
        try:
            st = path.stat()
        except (FileNotFoundError, NotADirectoryError):
            return None
        return (st.st_ino, st.st_size, st.st_mtime_ns)

    index = _index(data_dir)
    if index is not None:
        return ("index", ident(layout.status_index), index.seq(), ident(layout.status))
    per_job = tuple((n, ident(layout.job(n).status)) for n in layout.output_jobs())
    return ("files", ident(current_status_path(data_dir)), per_job)


def write_job_status(data_dir: Path | str, entry: JobStatusEntry) -> None:
    """Record ``entry``: its index row (when the index exists), then ``out/<job>/status.json``.

    Each step is atomic (one SQLite transaction; temp file, fsync, rename).
    Call it holding the daemon lock.
    """
    index = _index(data_dir, write=True)
    if index is not None:
        index.put([entry])
    path = job_status_path(data_dir, entry.job_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_model_atomic(path, entry)


def write_aggregate_status(
    data_dir: Path | str,
    jobs: Mapping[str, JobStatusEntry] | None = None,
    *,
    daemon_pid: int | None = None,
) -> StatusFile:
    """Atomically write ``status.json`` from the index; returns what was written.

    It holds the counts of every job, every unfinished job and the
    :data:`RECENT_JOBS` most recently changed ones, so its size does not grow
    with the number of finished jobs.

    Parameters
    ----------
    data_dir : Path or str
        The data directory.
    jobs : mapping of str to JobStatusEntry, optional
        Entries to record in the index first (tools and tests that build a
        status by hand; the daemon records each entry with
        :func:`write_job_status` and passes nothing). Without an index
        (before the daemon's first :func:`sync_index`) the aggregate holds
        exactly ``jobs``, or every job found in the files when ``None``.
    daemon_pid : int, optional
        The writer, recorded in the file.

    Notes
    -----
    Call it holding the daemon lock. An old-layout ``out/status.json`` is
    moved first (:func:`migrate_layout`), so the old file never outlives the
    first write. Jobs are removed with :func:`forget_jobs`, never by leaving
    them out of ``jobs``.
    """
    path = aggregate_status_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    migrate_layout(data_dir)
    index = _index(data_dir, write=True)
    if index is not None:
        if jobs:
            index.put(jobs.values())
        doc = _summary(index, updated_at=None, daemon_pid=daemon_pid)
        doc = doc.model_copy(update={"updated_at": utc_now()})
    else:
        listed = dict(jobs) if jobs is not None else dict(_read_files(data_dir).jobs)
        doc = StatusFile(
            updated_at=utc_now(), daemon_pid=daemon_pid, jobs=dict(sorted(listed.items()))
        )
    write_model_atomic(path, doc)
    return doc


def forget_jobs(
    data_dir: Path | str, job_ids: Iterable[str], *, daemon_pid: int | None = None
) -> list[JobStatusEntry]:
    """Remove jobs from the index and ``status.json``; returns the removed entries.

    Per-job files are left alone (the caller removes or moves them). Call it
    holding the daemon lock. Without an index the files are the record: the
    aggregate is rewritten without the jobs.
    """
    names = list(job_ids)
    index = _index(data_dir, write=True)
    if index is not None:
        removed = index.delete(names)
        write_aggregate_status(data_dir, daemon_pid=daemon_pid)
        return removed
    found = _read_files(data_dir)
    removed = [found.jobs[n] for n in names if n in found.jobs]
    kept = {k: v for k, v in found.jobs.items() if k not in names}
    write_aggregate_status(data_dir, kept, daemon_pid=daemon_pid)
    return removed


def restore_jobs(
    data_dir: Path | str, entries: Iterable[JobStatusEntry], *, daemon_pid: int | None = None
) -> None:
    """Undo :func:`forget_jobs`: record ``entries`` again (index, per-job files, aggregate)."""
    for entry in entries:
        write_job_status(data_dir, entry)
    write_aggregate_status(data_dir, daemon_pid=daemon_pid)


def sync_index(data_dir: Path | str, *, daemon_pid: int | None = None) -> StatusFile:
    """Make ``status.db``, the per-job files and ``status.json`` agree; returns the status.

    The daemon calls it on start, holding its lock (operator commands that
    write status do too). Nothing is changed when a status file is corrupt.

    * No index, a damaged one, or one behind ``status.json`` (commits lost
      to a power cut: SQLite's log is not ``fsync``'d on every commit, the
      files are) — logged as a warning: a new index is built
      from the files (:func:`_read_files`: the aggregate and every per-job
      file) and put in place atomically.
    * Otherwise: per-job files that no row knows are added; a per-job file
      that lags its row (a kill between the two writes) is rewritten, one
      newer than its row (a heartbeat of a job that was processing) is
      recorded. Only unfinished rows, rows written after ``status.json`` and
      unknown folders are looked at, so the cost does not grow with the
      number of finished jobs (plus one ``listdir`` of ``out/``).
    * ``status.json`` is rewritten (not created while there is no job, so a
      fresh data directory stays without one until the first job).

    Raises
    ------
    InvalidDocumentError
        ``status.json`` or a per-job file is corrupt or invalid.
    """
    layout = DataDir(data_dir)
    aggregate = _load_if_present(current_status_path(data_dir), StatusFile)
    migrate_layout(data_dir)  # refuses, changing nothing, when both layouts' files exist
    try:
        index = _index(data_dir, write=True)
        if index is not None:
            index.check()
            if aggregate is not None and aggregate.seq is not None and aggregate.seq > index.seq():
                # Commits lost to a power cut (the WAL is not fsync'd per commit).
                raise StatusIndexError(
                    f"{index.path}: sequence number {index.seq()} is behind the "
                    f"{aggregate.seq} of status.json, written after it"
                )
    except StatusIndexError as exc:
        logger.warning("%s; rebuilding it from the per-job status files", exc.message)
        index = None
    if index is None:
        found = _read_files(data_dir)
        ordered = sorted(found.jobs.values(), key=lambda e: _sort_time(e.last_update))
        layout.root.mkdir(parents=True, exist_ok=True)
        create_index(layout.status_index, ordered)
        logger.info("built the status index %s (%d jobs)", layout.status_index, len(ordered))
    else:
        _reconcile(data_dir, index, aggregate)
    if aggregate is None and read_status(data_dir).total == 0:
        return StatusFile(updated_at=utc_now(), daemon_pid=daemon_pid, counts=None, jobs={})
    return write_aggregate_status(data_dir, daemon_pid=daemon_pid)


def _reconcile(data_dir: Path | str, index: StatusIndex, aggregate: StatusFile | None) -> None:
    known = index.names()
    newer: list[JobStatusEntry] = []
    for name in DataDir(data_dir).output_jobs():
        if name not in known:
            entry = _read_job_file(data_dir, name)
            if entry is not None:
                newer.append(entry)
    after = aggregate.seq if aggregate is not None and aggregate.seq is not None else None
    check = {e.job_id: e for e in index.entries(states=UNFINISHED)}
    if after is not None:
        check.update((e.job_id, e) for e in index.entries(after_seq=after))
    for job_id, row in check.items():
        on_file = _read_job_file(data_dir, job_id)
        if on_file is not None and on_file != row and not _newer_or_same(row, on_file):
            newer.append(on_file)
        elif on_file != row:
            path = job_status_path(data_dir, job_id)
            path.parent.mkdir(parents=True, exist_ok=True)
            write_model_atomic(path, row)
            logger.info("rewrote %s from the status index (it lagged)", path)
    if newer:
        index.put(newer)
        logger.info("recorded %d per-job status file(s) in the status index", len(newer))
