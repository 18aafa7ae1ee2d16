"""What the monitor knows at one instant: job status, daemon liveness, derived figures.

The monitor only ever *reads* the data directory::

    data_dir/
      neuropose.lock                            probed (shared flock, released at once)
      status.json                               job status, merged with the live
      out/<job>/status.json                     per-job files by datadir.status.read_status
      out/<job>/...                             job pages (see neuropose.monitor.jobfiles)

A :class:`Snapshot` is immutable and holds no cache (reuse across requests is
:mod:`neuropose.monitor.cache`'s job); :meth:`Snapshot.view` is the plain-data
view model shared by the HTML renderer and ``/status.json``, with every
display string formatted once in Python (the browser script only copies
strings into the page).
"""

from __future__ import annotations

import dataclasses
import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from neuropose.datadir.layout import DataDir
from neuropose.datadir.liveness import heartbeat_age, is_stale
from neuropose.datadir.lock import LockInfo, probe_lock
from neuropose.datadir.status import current_status_path, read_status
from neuropose.errors import NeuroPoseError
from neuropose.schemas import JobState, JobStatusEntry, StatusFile
from neuropose.timefmt import (
    format_age,
    format_duration,
    format_time,
    utc_iso,
)

__all__ = [
    "STATE_ORDER",
    "PreparedJob",
    "Snapshot",
    "StatusUnavailable",
    "default_reader",
    "entry_key",
    "load_status",
    "ordered_views",
    "percent_done",
    "static_view",
    "take_snapshot",
]

logger = logging.getLogger(__name__)

#: Display order of states on the dashboard (active work first).
STATE_ORDER: tuple[JobState, ...] = (
    JobState.PROCESSING,
    JobState.QUEUED,
    JobState.INTERRUPTED,
    JobState.FAILED,
    JobState.COMPLETED,
)


class StatusUnavailable(Exception):
    """The status file is missing, unreadable or invalid; ``reason`` says which and why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def default_reader() -> Callable[[Path], StatusFile]:
    """:func:`neuropose.datadir.status.read_status` (aggregate merged with live
    per-job files)."""
    return read_status


def load_status(
    data_dir: Path,
    reader: Callable[[Path], StatusFile] | None = None,
    *,
    daemon_running: bool = False,
) -> StatusFile:
    """Read the job status of ``data_dir``.

    Parameters
    ----------
    data_dir : Path
        The data directory.
    reader : callable, optional
        ``reader(data_dir) -> StatusFile``; default :func:`default_reader`.
        Readers return an empty status when no status file exists at all.
    daemon_running : bool
        Whether the daemon holds the lock. A running daemon that has not yet
        written ``status.json`` (no job seen so far) means "no jobs"; with
        the daemon down, a missing status is reported as unavailable.

    Raises
    ------
    StatusUnavailable
        No status exists and the daemon is down, or a status file is not
        JSON (half-written, truncated), fails validation or was written by a
        newer NeuroPose. A corrupt file is never treated as "no jobs".
    """
    path = current_status_path(data_dir)
    try:
        status = (reader or default_reader())(data_dir)
    except NeuroPoseError as exc:
        raise StatusUnavailable(exc.message) from exc
    except OSError as exc:
        raise StatusUnavailable(f"{path}: cannot read ({exc.strerror or exc})") from exc
    if not status.jobs and not daemon_running and not path.exists():
        raise StatusUnavailable(
            f"{path} does not exist yet and the daemon is not running; start it with "
            "`neuropose watch` for this data directory"
        )
    return status


def percent_done(state: JobState, frames_done: int, frames_expected: int | None) -> float | None:
    """Percent of frames done, 0–100, or ``None`` when the total is unknown.

    A completed job is 100 % even when its total was never known.

    Examples
    --------
    >>> percent_done(JobState.PROCESSING, 250, 1000)
    25.0
    >>> percent_done(JobState.PROCESSING, 10, None) is None
    True
    """
    if state is JobState.COMPLETED:
        return 100.0
    if frames_expected is None or frames_expected <= 0:
        return None
    return max(0.0, min(100.0, 100.0 * frames_done / frames_expected))


def _fmt_percent(p: float | None) -> str:
    if p is None:
        return "–"
    return f"{p:.0f}%" if p in (0.0, 100.0) or p >= 10 else f"{p:.1f}%"


def _fmt_frames(done: int, expected: int | None) -> str:
    return f"{done:,} / {expected:,}" if expected is not None else f"{done:,} / ?"


@dataclass(frozen=True)
class PreparedJob:
    """One job of a snapshot: its time-independent view plus this instant's live parts.

    Attributes
    ----------
    name : str
        Job name (a key of the status file).
    entry : JobStatusEntry
        The job's status.
    static : dict
        :func:`static_view` of the entry (shared between snapshots while the
        entry is unchanged; never modified).
    stale, heartbeat_age_s, updated
        See :meth:`Snapshot.live_fields`.
    """

    name: str
    entry: JobStatusEntry
    static: dict[str, Any]
    stale: bool
    heartbeat_age_s: float | None
    updated: str

    def view(self) -> dict[str, Any]:
        """The job as ``/status.json`` shows it: the static view plus the live fields."""
        return {
            **self.static,
            "display": {**self.static["display"], "updated": self.updated},
            "stale": self.stale,
            "heartbeat_age_s": self.heartbeat_age_s,
        }


def entry_key(name: str, entry: JobStatusEntry) -> tuple[Any, ...]:
    """A key that changes whenever anything :func:`static_view` shows about the entry changes.

    The daemon refreshes ``last_update`` on every write; the other fields
    guard against two writes within one timestamp resolution.
    """
    return (
        name,
        entry.last_update,
        entry.state,
        entry.frames_done,
        entry.frames_expected,
        entry.fps,
        entry.eta_s,
        entry.current_video,
        entry.attempts,
        entry.error,
        entry.started_at,
        entry.finished_at,
        entry.queued_at,
        entry.results_path,
        len(entry.history),
        tuple((v.name, v.state, v.frames_done, v.frames_expected) for v in entry.videos),
    )


def static_view(name: str, entry: JobStatusEntry) -> dict[str, Any]:
    """The time-independent view of a job: the entry's fields, ``name``, ``percent``, ``display``.

    ``videos`` items gain ``percent`` and ``display``. Everything here depends
    only on :func:`entry_key`'s fields, so it can be reused while they are
    unchanged (see :class:`~neuropose.monitor.cache.MonitorCache`).
    """
    data = entry.model_dump(mode="json")
    pct = percent_done(entry.state, entry.frames_done, entry.frames_expected)
    videos = []
    for v, dumped in zip(entry.videos, data["videos"], strict=True):
        vp = percent_done(v.state, v.frames_done, v.frames_expected)
        videos.append(
            {
                **dumped,
                "percent": vp,
                "display": {
                    "frames": _fmt_frames(v.frames_done, v.frames_expected),
                    "percent": _fmt_percent(vp),
                },
            }
        )
    data["videos"] = videos
    data["name"] = name
    data["percent"] = pct
    data["display"] = {
        "state": entry.state.value,
        "percent": _fmt_percent(pct),
        "frames": _fmt_frames(entry.frames_done, entry.frames_expected),
        "fps": f"{entry.fps:.1f}" if entry.fps is not None else "–",
        "eta": format_duration(entry.eta_s) if entry.state is JobState.PROCESSING else "–",
        "video": entry.current_video or "–",
        "attempts": str(entry.attempts),
        "started": format_time(entry.started_at),
        "updated_title": format_time(entry.last_update),
        "error": entry.error or "",
        "indeterminate": pct is None and entry.state is JobState.PROCESSING,
    }
    return data


#: One job's name, status entry and :func:`static_view`.
JobView = tuple[str, JobStatusEntry, dict[str, Any]]


def ordered_views(
    status: StatusFile, static: Callable[[str, JobStatusEntry], dict[str, Any]] = static_view
) -> list[JobView]:
    """The jobs of ``status`` in display order (by state, then file order) with their views."""
    rank = {s: i for i, s in enumerate(STATE_ORDER)}
    ordered = sorted(status.jobs.items(), key=lambda kv: rank.get(kv[1].state, len(rank)))
    return [(n, e, static(n, e)) for n, e in ordered]


@dataclass(frozen=True)
class Snapshot:
    """Job status and daemon state read at one instant (immutable, never re-read).

    Attributes
    ----------
    data_dir : Path
        The data directory read.
    taken_at : datetime
        UTC time of the reading; heartbeat ages are relative to it.
    daemon : LockInfo
        Whether ``neuropose watch`` holds the data directory's lock.
    status : StatusFile or None
        The status, or ``None`` when it could not be read.
    error : str or None
        Why the status could not be read.
    stale_after_s : float
        Heartbeat age beyond which a processing job is flagged stale.
    jobs : tuple of PreparedJob
        The jobs in display order: by state (:data:`STATE_ORDER`), then
        status-file order. Empty when the status is unavailable.
    """

    data_dir: Path
    taken_at: datetime
    daemon: LockInfo
    status: StatusFile | None
    error: str | None
    stale_after_s: float
    jobs: tuple[PreparedJob, ...] = ()

    def heartbeat_age(self, entry: JobStatusEntry) -> float | None:
        """Seconds since the entry's ``last_update`` (``None`` when unparseable)."""
        return heartbeat_age(entry, self.taken_at)

    def is_stale(self, entry: JobStatusEntry) -> bool:
        """A processing job whose heartbeat is older than the threshold (or unreadable)."""
        return is_stale(entry, self.taken_at, self.stale_after_s)

    def live_fields(self, entry: JobStatusEntry) -> tuple[bool, float | None, str]:
        """``(stale, heartbeat_age_s, "5 s ago")``: the parts of a job that depend on now."""
        age = self.heartbeat_age(entry)
        return self.is_stale(entry), age, format_age(age)

    def daemon_view(self) -> dict[str, Any]:
        """``{"running": bool, "pid", "host", "started_at"}`` of the daemon."""
        h = self.daemon.holder or {}
        return {
            "running": self.daemon.held,
            "pid": h.get("pid") if self.daemon.held else None,
            "host": h.get("host") if self.daemon.held else None,
            "started_at": h.get("started_at") if self.daemon.held else None,
        }

    def counts(self) -> dict[str, int]:
        """Number of jobs per state over every job, not only the listed ones (zeros included)."""
        out = {s.value: 0 for s in STATE_ORDER}
        if self.status is not None:
            for state, n in self.status.state_counts().items():
                out[state.value] = n
        return out

    def notices(self) -> list[dict[str, str]]:
        """Banner messages: ``{"level": "error"|"warn"|"info", "text": ...}``."""
        out: list[dict[str, str]] = []
        if self.error is not None:
            out.append({"level": "error", "text": f"Job status is unavailable: {self.error}"})
        if not self.daemon.held:
            out.append(
                {
                    "level": "warn",
                    "text": "The daemon is not running (no `neuropose watch` holds the lock of "
                    "this data directory): the status below will not change until it is started.",
                }
            )
        if self.status is not None and self.status.total == 0:
            out.append(
                {
                    "level": "info",
                    "text": "No jobs yet. Stage videos with `neuropose ingest` or copy them into "
                    "in/<job>/ of the data directory.",
                }
            )
        stale = sum(1 for p in self.jobs if p.stale)
        if stale:
            out.append(
                {
                    "level": "warn",
                    "text": f"{stale} processing job(s) have not reported progress for more than "
                    f"{format_duration(self.stale_after_s)}.",
                }
            )
        return out

    @functools.cached_property
    def _by_name(self) -> dict[str, PreparedJob]:  # derived once per snapshot
        return {p.name: p for p in self.jobs}

    def job(self, name: str) -> PreparedJob | None:
        """The prepared job called ``name`` (``None`` when it is not in the status)."""
        return self._by_name.get(name)

    def generated_at(self) -> str:
        """ISO-8601 UTC time of the reading."""
        return utc_iso(self.taken_at)

    def summary(self) -> dict[str, Any]:
        """The dashboard's data without ``jobs`` (see :meth:`view`); callers must not modify it.

        Derived once per snapshot (every ``/status.json?job=`` answer carries it).
        """
        return self._summary

    @functools.cached_property
    def _summary(self) -> dict[str, Any]:
        return {
            "generated_at": self.generated_at(),
            "data_dir": str(self.data_dir),
            "daemon": self.daemon_view(),
            "status_available": self.status is not None,
            "error": self.error,
            "status_updated_at": self.status.updated_at if self.status else None,
            "stale_after_s": self.stale_after_s,
            "counts": self.counts(),
            "total_jobs": self.status.total if self.status else 0,
            "listed_jobs": len(self.jobs),
            "notices": self.notices(),
        }

    def view(self) -> dict[str, Any]:
        """The whole dashboard as plain data (the body of ``/status.json``)."""
        return {**self.summary(), "jobs": [p.view() for p in self.jobs]}


def take_snapshot(
    data_dir: Path,
    *,
    stale_after_s: float,
    reader: Callable[[Path], StatusFile] | None = None,
    now: datetime | None = None,
    views: Callable[[StatusFile], list[JobView]] = ordered_views,
) -> Snapshot:
    """Read status and daemon liveness of ``data_dir`` now (never raises for bad status).

    ``reader`` and ``views`` let :class:`~neuropose.monitor.cache.MonitorCache`
    reuse an unchanged parsed status and unchanged job views; by default
    everything is read and computed afresh.
    """
    daemon = probe_lock(DataDir(data_dir).lock)
    try:
        status: StatusFile | None = load_status(data_dir, reader, daemon_running=daemon.held)
        error = None
    except StatusUnavailable as exc:
        status, error = None, exc.reason
        logger.debug("status unavailable: %s", exc.reason)
    bare = Snapshot(
        data_dir=data_dir,
        taken_at=now or datetime.now(UTC),
        daemon=daemon,
        status=status,
        error=error,
        stale_after_s=stale_after_s,
    )
    if status is None:
        return bare
    jobs = tuple(PreparedJob(n, e, v, *bare.live_fields(e)) for n, e, v in views(status))
    return dataclasses.replace(bare, jobs=jobs)
