"""Jobs beyond the snapshot: one job by name, and pages of every job from the status index.

The snapshot (:class:`~neuropose.monitor.snapshot.Snapshot`) lists every
unfinished job and the most recently changed ones; ``/jobs/<job>``,
``/status.json?job=`` and ``/status.json?limit=&offset=&state=`` reach the
others through :mod:`neuropose.datadir.status`, whose cost does not grow
with the number of jobs (one index row per job shown).
"""

from __future__ import annotations

from typing import Any

from neuropose.datadir.layout import is_job_name
from neuropose.datadir.status import query_jobs, read_job_status
from neuropose.monitor.snapshot import PreparedJob, Snapshot, static_view
from neuropose.schemas import JobState, JobStatusEntry

__all__ = ["MAX_PAGE", "lookup", "page_params", "prepared", "status_page"]

#: Largest page of ``/status.json?limit=``.
MAX_PAGE = 1000


def lookup(snap: Snapshot, name: str) -> JobStatusEntry | None:
    """The entry of job ``name``: from the snapshot, else from the status index (a job
    older than those listed). ``None`` for an unknown job or a name no job can have."""
    assert snap.status is not None
    entry = snap.status.jobs.get(name)
    if entry is None and is_job_name(name):
        entry = read_job_status(snap.data_dir, name)
    return entry


def prepared(snap: Snapshot, entry: JobStatusEntry) -> PreparedJob:
    found = snap.job(entry.job_id)
    if found is not None and found.entry == entry:
        return found
    view = static_view(entry.job_id, entry)
    return PreparedJob(entry.job_id, entry, view, *snap.live_fields(entry))


def page_params(query: dict[str, list[str]]) -> tuple[int, int, list[JobState] | None] | str:
    """``(limit, offset, states)`` of a page request, or why a parameter is invalid."""

    def number(key: str, default: int, low: int, high: int) -> int | str:
        raw = query.get(key, [str(default)])[0]
        if not (raw.isascii() and raw.isdigit() and len(raw) <= 9) or not low <= int(raw) <= high:
            return f"{key} must be a whole number from {low} to {high}, got {raw[:40]!r}"
        return int(raw)

    limit = number("limit", 50, 1, MAX_PAGE)
    offset = number("offset", 0, 0, 999_999_999)
    if isinstance(limit, str):
        return limit
    if isinstance(offset, str):
        return offset
    states = None
    if "state" in query:
        try:
            states = [JobState(v) for v in query["state"]]
        except ValueError:
            known = ", ".join(s.value for s in JobState)
            return f"state must be one of {known}, got {query['state'][0][:40]!r}"
    return limit, offset, states


def status_page(
    snap: Snapshot, limit: int, offset: int, states: list[JobState] | None
) -> dict[str, Any]:
    """Body of ``/status.json?limit=N&offset=M&state=S`` (see :func:`page_params`).

    The dashboard summary plus ``total`` (jobs matching), ``limit``,
    ``offset`` and ``jobs`` (most recently changed first).

    Raises
    ------
    NeuroPoseError
        The status index cannot be read.
    """
    total, page = query_jobs(snap.data_dir, states=states, limit=limit, offset=offset)
    return {
        **snap.summary(),
        "total": total,
        "limit": limit,
        "offset": offset,
        "jobs": [prepared(snap, e).view() for e in page],
    }
