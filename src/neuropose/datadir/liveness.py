"""Is a processing job still alive? Its heartbeat's age and the one staleness rule.

The daemon rewrites a processing job's ``last_update`` every heartbeat; a
job whose heartbeat is older than ``stale_after_seconds`` is shown as stale
by ``neuropose status`` and the dashboard (both use :func:`is_stale`).
"""

from __future__ import annotations

from datetime import datetime

from neuropose.schemas.status import JobState, JobStatusEntry
from neuropose.timefmt import parse_time_or_none

__all__ = ["heartbeat_age", "is_stale"]


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
