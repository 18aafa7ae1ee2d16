"""What the monitor knows at one instant: job status, daemon liveness, derived figures.

The monitor only ever *reads* the data directory::

    data_dir/
      neuropose.lock                            probed (shared flock, released at once)
      status.json                               job status, merged with the live
      out/<job>/status.json                     per-job files by datadir.status.read_status
      out/<job>/results.json                    job page: metadata, provenance, metrics
      out/<job>/visualize/<stem>.quality.json   job page: QC summary (rendered generically)
      out/<job>/visualize/<stem>.preview.png    served by /jobs/<job>/preview/<index>

Job and video names come from file names that outsiders choose, so nothing
in a URL is ever used to build a path: the URL's job name is looked up among
the keys of the status file, and file paths are built from the *status
file's* names after checking that they are plain names that resolve inside
``data_dir/out``.

A :class:`Snapshot` is immutable; :meth:`Snapshot.view` turns it into the
plain-data view model shared by the HTML renderer and ``/status.json``, with
every display string formatted once in Python (the browser script only copies
strings into the page).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from neuropose.datadir.layout import DataDir
from neuropose.datadir.lock import LockInfo, probe_lock
from neuropose.datadir.status import current_status_path, read_status
from neuropose.errors import NeuroPoseError
from neuropose.io import load_model
from neuropose.schemas import JobResults, JobState, JobStatusEntry, StatusFile
from neuropose.timefmt import (
    format_age,
    format_duration,
    format_time,
    parse_time_or_none,
    utc_iso,
)

__all__ = [
    "STATE_ORDER",
    "CachedStatusReader",
    "JobFiles",
    "PreparedJob",
    "Snapshot",
    "SnapshotCache",
    "StatusUnavailable",
    "default_reader",
    "entry_key",
    "job_files",
    "load_status",
    "percent_done",
    "static_job",
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

#: Largest quality.json the job page reads, bytes.
MAX_QUALITY_BYTES = 1_000_000


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
    """One job of a snapshot: cached static view/JSON plus the live (time-dependent) parts."""

    name: str
    entry: JobStatusEntry
    key: tuple[Any, ...]
    static: dict[str, Any]
    static_json: str
    stale: bool
    heartbeat_age_s: float | None
    updated: str

    def json(self) -> str:
        """JSON text of the job, equal to ``json.dumps(Snapshot.job_view(...))``."""
        # static_json ends with the "display" object, i.e. with "}}".
        return (
            f"{self.static_json[:-2]}, "
            f'"updated": {json.dumps(self.updated, ensure_ascii=False)}}}, '
            f'"stale": {"true" if self.stale else "false"}, '
            f'"heartbeat_age_s": {json.dumps(self.heartbeat_age_s)}}}'
        )


_Base = list[tuple[str, JobStatusEntry, tuple[Any, ...], dict[str, Any], str]]
#: Static parts of the last status object's jobs (reused while the object is unchanged).
_PREPARED: tuple[StatusFile, _Base] | None = None


def entry_key(name: str, entry: JobStatusEntry) -> tuple[Any, ...]:
    """A key that changes whenever anything shown about the entry changes.

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


_STATIC: dict[tuple[Any, ...], tuple[dict[str, Any], str]] = {}
_STATIC_LOCK = threading.Lock()
_STATIC_MAX = 50_000


def static_job(name: str, entry: JobStatusEntry) -> tuple[dict[str, Any], str]:
    """The time-independent view of a job and its JSON text (cached by :func:`entry_key`).

    ``display`` is the last key, so the JSON text ends with ``}}``.
    """
    key = entry_key(name, entry)
    with _STATIC_LOCK:
        hit = _STATIC.get(key)
    if hit is not None:
        return hit
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
    value = (data, json.dumps(data, ensure_ascii=False))
    with _STATIC_LOCK:
        if len(_STATIC) >= _STATIC_MAX:
            _STATIC.clear()
        _STATIC[key] = value
    return value


@dataclass(frozen=True)
class Snapshot:
    """Job status and daemon state read at one instant.

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
    """

    data_dir: Path
    taken_at: datetime
    daemon: LockInfo
    status: StatusFile | None
    error: str | None
    stale_after_s: float
    _memo: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)
    _memo_lock: threading.Lock = field(default_factory=threading.Lock, compare=False, repr=False)

    def memo(self, key: Any, make: Callable[[], Any]) -> Any:
        """Compute ``make()`` once per snapshot and key (rendered bodies are cached here)."""
        with self._memo_lock:
            if key in self._memo:
                return self._memo[key]
        value = make()
        with self._memo_lock:
            return self._memo.setdefault(key, value)

    def prepared(self) -> list[PreparedJob]:
        """Jobs in display order with their cached static parts and this instant's live parts.

        The static parts of an unchanged status object are reused across
        snapshots, so a refresh of an unchanged status costs only the live
        parts (heartbeat ages).
        """
        result: list[PreparedJob] = self.memo("prepared", self._prepare)
        return result

    def _prepare(self) -> list[PreparedJob]:
        global _PREPARED
        if self.status is None:
            return []
        with _STATIC_LOCK:
            cached = _PREPARED
        if cached is not None and cached[0] is self.status:
            base = cached[1]
        else:
            base = []
            for name, entry in self.ordered_jobs():
                static, text = static_job(name, entry)
                base.append((name, entry, entry_key(name, entry), static, text))
            with _STATIC_LOCK:
                _PREPARED = (self.status, base)
        out = []
        for name, entry, key, static, text in base:
            stale, age, updated = self.live_fields(entry)
            out.append(PreparedJob(name, entry, key, static, text, stale, age, updated))
        return out

    def ordered_jobs(self) -> list[tuple[str, JobStatusEntry]]:
        """Jobs in display order: by state (:data:`STATE_ORDER`), then status-file order."""
        if self.status is None:
            return []
        status = self.status
        rank = {s: i for i, s in enumerate(STATE_ORDER)}

        def build() -> list[tuple[str, JobStatusEntry]]:
            items = list(status.jobs.items())
            return sorted(items, key=lambda kv: rank.get(kv[1].state, len(rank)))

        result: list[tuple[str, JobStatusEntry]] = self.memo("ordered", build)
        return result

    def heartbeat_age(self, entry: JobStatusEntry) -> float | None:
        """Seconds since the entry's ``last_update`` (``None`` when unparseable)."""
        t = parse_time_or_none(entry.last_update)
        return None if t is None else max(0.0, (self.taken_at - t).total_seconds())

    def is_stale(self, entry: JobStatusEntry) -> bool:
        """A processing job whose heartbeat is older than the threshold (or unreadable)."""
        if entry.state is not JobState.PROCESSING:
            return False
        age = self.heartbeat_age(entry)
        return age is None or age > self.stale_after_s

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
        """Number of jobs per state (every state present, zeros included)."""
        out = {s.value: 0 for s in STATE_ORDER}
        if self.status is not None:
            for entry in self.status.jobs.values():
                out[entry.state.value] = out.get(entry.state.value, 0) + 1
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
        if self.status is not None and not self.status.jobs:
            out.append(
                {
                    "level": "info",
                    "text": "No jobs yet. Stage videos with `neuropose ingest` or copy them into "
                    "in/<job>/ of the data directory.",
                }
            )
        stale = sum(1 for p in self.prepared() if p.stale)
        if stale:
            out.append(
                {
                    "level": "warn",
                    "text": f"{stale} processing job(s) have not reported progress for more than "
                    f"{format_duration(self.stale_after_s)}.",
                }
            )
        return out

    def live_fields(self, entry: JobStatusEntry) -> tuple[bool, float | None, str]:
        """``(stale, heartbeat_age_s, "5 s ago")``: the parts of a job that depend on now."""
        age = self.heartbeat_age(entry)
        return self.is_stale(entry), age, format_age(age)

    def job_view(self, name: str, entry: JobStatusEntry) -> dict[str, Any]:
        """One job as plain data: the entry's fields plus derived and display values.

        ``videos`` items gain ``percent`` and ``display``; the job gains ``name``,
        ``percent``, ``display`` (preformatted strings), ``stale`` and
        ``heartbeat_age_s``.
        """
        static = static_job(name, entry)[0]
        stale, age, updated = self.live_fields(entry)
        data = dict(static)
        data["display"] = {**static["display"], "updated": updated}
        data["stale"] = stale
        data["heartbeat_age_s"] = age
        return data

    def view(self) -> dict[str, Any]:
        """The whole dashboard as plain data (the body of ``/status.json``).

        Computed once per snapshot; callers must not modify the result.
        """
        result: dict[str, Any] = self.memo("view", self._build_view)
        return result

    def generated_at(self) -> str:
        """ISO-8601 UTC time of the reading."""
        return utc_iso(self.taken_at)

    def summary(self) -> dict[str, Any]:
        """:meth:`view` without ``jobs`` (computed once per snapshot)."""
        result: dict[str, Any] = self.memo("summary", self._build_summary)
        return result

    def _build_view(self) -> dict[str, Any]:
        return {**self.summary(), "jobs": [self.job_view(p.name, p.entry) for p in self.prepared()]}

    def _build_summary(self) -> dict[str, Any]:
        return {
            "generated_at": self.generated_at(),
            "data_dir": str(self.data_dir),
            "daemon": self.daemon_view(),
            "status_available": self.status is not None,
            "error": self.error,
            "status_updated_at": self.status.updated_at if self.status else None,
            "stale_after_s": self.stale_after_s,
            "counts": self.counts(),
            "notices": self.notices(),
        }


def take_snapshot(
    data_dir: Path,
    *,
    stale_after_s: float,
    reader: Callable[[Path], StatusFile] | None = None,
    now: datetime | None = None,
) -> Snapshot:
    """Read status and daemon liveness of ``data_dir`` now (never raises for bad status)."""
    daemon = probe_lock(DataDir(data_dir).lock)
    try:
        status: StatusFile | None = load_status(data_dir, reader, daemon_running=daemon.held)
        error = None
    except StatusUnavailable as exc:
        status, error = None, exc.reason
        logger.debug("status unavailable: %s", exc.reason)
    return Snapshot(
        data_dir=data_dir,
        taken_at=now or datetime.now(UTC),
        daemon=daemon,
        status=status,
        error=error,
        stale_after_s=stale_after_s,
    )


class CachedStatusReader:
    """A reader that calls ``inner`` only when a status file changed.

    Its fingerprint is the (inode, size, mtime) of ``status.json`` and of
    every ``out/<job>/status.json``: the daemon replaces them atomically
    (new inode), and ``inner``'s result depends on nothing else, so an
    unchanged fingerprint returns the previous object without parsing. Cost
    of an unchanged read: one ``listdir`` and one ``stat`` per job.
    """

    def __init__(self, inner: Callable[[Path], StatusFile] | None = None) -> None:
        self._inner = inner or default_reader()
        self._lock = threading.Lock()
        self._key: tuple[Any, ...] | None = None
        self._value: StatusFile | None = None

    @staticmethod
    def _stat(path: Path) -> tuple[int, int, int] | None:
        try:
            st = path.stat()
        except (FileNotFoundError, NotADirectoryError):
            return None
        return (st.st_ino, st.st_size, st.st_mtime_ns)

    def fingerprint(self, data_dir: Path) -> tuple[Any, ...]:
        """What :meth:`__call__` compares; changes whenever any status file changes."""
        layout = DataDir(data_dir)
        per_job = tuple((n, self._stat(layout.job(n).status)) for n in layout.output_jobs())
        return (self._stat(current_status_path(data_dir)), per_job)

    def __call__(self, data_dir: Path) -> StatusFile:
        key = self.fingerprint(data_dir)
        with self._lock:
            if key == self._key and self._value is not None:
                return self._value
        value = self._inner(data_dir)
        with self._lock:
            self._key, self._value = key, value
        return value


class SnapshotCache:
    """Thread-safe snapshot reuse for at most ``ttl_s`` seconds.

    Under load every request within ``ttl_s`` shares one snapshot and its
    rendered bodies, so the cost of a request does not grow with the number
    of clients. The effective TTL is ``max(ttl_s, 4 × last refresh time)``
    (at most 10 s; exactly ``ttl_s`` when ``ttl_s`` is 0), so re-reading a
    large, busy status never takes more than about a quarter of the CPU.
    When the snapshot expires, the first request re-reads it
    while concurrent requests keep getting the previous one (never older than
    one refresh); ``warm(snapshot)`` pre-renders bodies before it is published.
    """

    def __init__(
        self,
        load: Callable[[], Snapshot],
        ttl_s: float = 0.5,
        warm: Callable[[Snapshot], None] | None = None,
    ) -> None:
        self._load = load
        self._ttl = ttl_s
        self._warm = warm
        self._lock = threading.Lock()
        self._refresh = threading.Lock()
        self._snap: Snapshot | None = None
        self._taken = 0.0
        self._effective_ttl = ttl_s

    @property
    def effective_ttl_s(self) -> float:
        """Current reuse time of a snapshot, seconds."""
        return self._effective_ttl

    def get(self) -> Snapshot:
        """The current snapshot, re-read when older than the TTL."""
        with self._lock:
            snap, taken = self._snap, self._taken
        if snap is not None and time.monotonic() - taken < self._effective_ttl:
            return snap
        # Only one thread refreshes; others use the previous snapshot if there is one.
        if not self._refresh.acquire(blocking=snap is None):
            assert snap is not None
            return snap
        try:
            with self._lock:
                if self._snap is not None and time.monotonic() - self._taken < self._effective_ttl:
                    return self._snap
            started = time.monotonic()
            fresh = self._load()
            if self._warm is not None:
                self._warm(fresh)
            elapsed = time.monotonic() - started
            with self._lock:
                self._snap, self._taken = fresh, started
                if self._ttl > 0:
                    self._effective_ttl = min(10.0, max(self._ttl, 4 * elapsed))
            return fresh
        finally:
            self._refresh.release()


# --- per-job files -------------------------------------------------------------


def _plain_name(name: str) -> bool:
    return bool(name) and name not in {".", ".."} and "/" not in name and "\x00" not in name


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
    except (ValueError, OSError):
        return False
    return True


@dataclass(frozen=True)
class JobFiles:
    """Files of one job, with names taken from the status file (never from a URL).

    Attributes
    ----------
    results : JobResults or None
        Parsed ``results.json`` when present and valid.
    results_error : str or None
        Why ``results.json`` could not be read (absent files are not errors).
    videos : list of str
        Video names in processing order (from results, else from status);
        ``/jobs/<job>/preview/<index>`` indexes this list.
    quality : dict of str to dict
        Parsed ``<stem>.quality.json`` per video name.
    quality_errors : dict of str to str
        Why a quality file could not be read, per video name.
    previews : dict of int to Path
        Existing preview PNGs by video index.
    """

    results: JobResults | None
    results_error: str | None
    videos: tuple[str, ...]
    quality: dict[str, Any]
    quality_errors: dict[str, str]
    previews: dict[int, Path]


_RESULTS_CACHE: dict[Path, tuple[tuple[int, int, int], JobResults]] = {}
_RESULTS_LOCK = threading.Lock()
_RESULTS_CACHE_MAX = 16


def _load_results(path: Path) -> JobResults:
    st = path.stat()
    key = (st.st_ino, st.st_size, st.st_mtime_ns)
    with _RESULTS_LOCK:
        hit = _RESULTS_CACHE.get(path)
        if hit is not None and hit[0] == key:
            return hit[1]
    results = load_model(path, JobResults)
    with _RESULTS_LOCK:
        if len(_RESULTS_CACHE) >= _RESULTS_CACHE_MAX:
            _RESULTS_CACHE.pop(next(iter(_RESULTS_CACHE)))
        _RESULTS_CACHE[path] = (key, results)
    return results


def job_files(data_dir: Path, name: str, entry: JobStatusEntry) -> JobFiles:
    """Locate and read the per-job files of the status-file job ``name``.

    ``name`` must be a key of the status file. A name that is not a plain
    file name, or a path that would resolve outside ``data_dir/out``, yields
    no files at all.
    """
    layout = DataDir(data_dir)
    out_root = layout.out_dir
    empty = JobFiles(None, None, tuple(v.name for v in entry.videos), {}, {}, {})
    if not _plain_name(name):
        return empty
    paths = layout.job(name)
    job_dir = paths.output
    if not _inside(job_dir, out_root):
        return empty
    results: JobResults | None = None
    results_error: str | None = None
    results_path = paths.results
    if entry.results_path:
        candidate = data_dir / entry.results_path
        if _inside(candidate, out_root):
            results_path = candidate
    if results_path.is_file():
        try:
            results = _load_results(results_path)
        except NeuroPoseError as exc:
            results_error = exc.message
        except OSError as exc:
            results_error = f"{results_path}: cannot read ({exc.strerror or exc})"
    videos = (
        tuple(v.video for v in results.videos)
        if results is not None
        else tuple(v.name for v in entry.videos)
    )
    quality: dict[str, Any] = {}
    quality_errors: dict[str, str] = {}
    previews: dict[int, Path] = {}
    vis_dir = paths.visualize
    if vis_dir.is_dir():
        for index, video in enumerate(videos):
            stem = Path(video).stem
            if not _plain_name(video) or not stem or stem.startswith("."):
                continue
            qpath = paths.quality(video)
            if qpath.is_file() and _inside(qpath, out_root):
                try:
                    if qpath.stat().st_size > MAX_QUALITY_BYTES:
                        raise ValueError(f"larger than {MAX_QUALITY_BYTES} bytes")
                    quality[video] = json.loads(qpath.read_bytes())
                except (OSError, ValueError) as exc:
                    quality_errors[video] = f"{qpath.name}: cannot read ({exc})"
            ppath = vis_dir / f"{stem}.preview.png"
            if ppath.is_file() and _inside(ppath, out_root):
                previews[index] = ppath
    return JobFiles(results, results_error, videos, quality, quality_errors, previews)
