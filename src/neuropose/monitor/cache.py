"""The monitor's one cache: what it keeps between requests, and why.

Every request is answered from a :class:`~neuropose.monitor.snapshot.Snapshot`
that :class:`MonitorCache` hands out. It keeps four things, each because a
measurement showed the monitor cannot do without it (1,000-job status, two
videos each; ``benchmarks/bench_monitor_load.py --components``, ratios within
one run, figures in ``docs/benchmarks.md``):

1. **The current snapshot and its rendered bodies**, reused for ``ttl_s``
   (default 1 s, stretched to 4 × the last refresh time, at most 10 s, so
   re-reading a large busy status never takes more than about a quarter of a
   core). One refresh at a time; other requests meanwhile get the previous
   snapshot. Bodies (``/``, ``/status.json``, ``/metrics``, their gzip
   forms) are rendered once per snapshot. Why: building the dashboard costs
   tens of milliseconds, and 200 open dashboards poll 100 times a second.
2. **The parsed status, keyed by a fingerprint**
   (:func:`~neuropose.datadir.status.status_version`: the status index's
   sequence number, bumped by every write; without an index the inode, size
   and mtime of every status file). Why: checking the fingerprint costs
   about a tenth of reading the status again.
3. **Each job's static view** (:func:`~neuropose.monitor.snapshot.static_view`),
   keyed by :func:`~neuropose.monitor.snapshot.entry_key`, in display order,
   holding only the jobs of the current status (bounded by the number of
   jobs; the ordered list itself is reused while the parsed status is the
   same object). Why: while the daemon heartbeats, a refresh re-dumps only
   the jobs that changed (about 50) instead of all 1,000.
4. **Parsed ``results.json`` files** (at most :data:`RESULTS_KEPT`, keyed by
   path and inode/size/mtime), for job pages, which browsers without scripts
   reload every 10 s. Why: parsing a long video's results takes far longer
   than rendering its page.

Nothing else is cached: JSON bodies are built with :func:`json.dumps` from
plain data, and dashboard rows are rendered afresh for each snapshot.

Examples
--------
>>> import tempfile, pathlib
>>> cache = MonitorCache(pathlib.Path(tempfile.mkdtemp()), stale_after_s=120)
>>> snap = cache.get()
>>> cache.get() is snap, snap.status is None  # reused; no status file, no daemon
(True, True)
"""

from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from neuropose.datadir.layout import DataDir
from neuropose.datadir.status import status_version
from neuropose.io import load_model
from neuropose.monitor.snapshot import (
    JobView,
    Snapshot,
    default_reader,
    entry_key,
    ordered_views,
    static_view,
    take_snapshot,
)
from neuropose.schemas import JobResults, JobStatusEntry, StatusFile

__all__ = ["RESULTS_KEPT", "MonitorCache"]

#: How many parsed ``results.json`` files are kept.
RESULTS_KEPT = 16

#: Longest reuse of a snapshot, seconds (whatever the refresh time).
MAX_TTL_S = 10.0

_Stat = tuple[int, int, int] | None


def _stat(path: str | Path) -> _Stat:
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


class _Slot:
    """A body being made (``ready`` set when ``value`` is there or making it failed)."""

    __slots__ = ("ready", "value")

    def __init__(self) -> None:
        self.ready = threading.Event()
        self.value: bytes | None = None


class MonitorCache:
    """Snapshots of one data directory, reused across requests (see the module docstring).

    Parameters
    ----------
    data_dir : Path
        The data directory.
    stale_after_s : float
        Heartbeat age that flags a processing job as stale, seconds.
    reader : callable, optional
        ``reader(data_dir) -> StatusFile``; default
        :func:`~neuropose.monitor.snapshot.default_reader`. Called only when
        the status fingerprint changed.
    ttl_s : float
        Base reuse time of a snapshot, seconds; 0 re-reads on every request
        (tests).
    warm : callable, optional
        ``warm(cache, snapshot)`` renders the common bodies of a fresh
        snapshot before it is handed out.
    """

    def __init__(
        self,
        data_dir: Path,
        *,
        stale_after_s: float,
        reader: Callable[[Path], StatusFile] | None = None,
        ttl_s: float = 1.0,
        warm: Callable[[MonitorCache, Snapshot], None] | None = None,
    ) -> None:
        self.data_dir = Path(data_dir)
        self._layout = DataDir(self.data_dir)
        self.stale_after_s = stale_after_s
        self._reader = reader or default_reader()
        self._ttl = ttl_s
        self._effective_ttl = ttl_s
        self._warm = warm
        self._lock = threading.Lock()  # guards every field below
        self._refreshing = threading.Lock()  # one refresh at a time
        # 1. current snapshot, when it was taken, bodies of recent snapshots
        self._snap: Snapshot | None = None
        self._taken = 0.0
        self._bodies: list[tuple[Snapshot, dict[Any, _Slot]]] = []
        # 2. parsed status by fingerprint
        self._status_key: tuple[Any, ...] | None = None
        self._status: StatusFile | None = None
        # 3. static job views of the current status, in display order
        self._views: dict[str, tuple[tuple[Any, ...], dict[str, Any]]] = {}
        self._views_of: StatusFile | None = None
        self._ordered: list[JobView] = []
        # 4. parsed results.json files
        self._results: OrderedDict[Path, tuple[_Stat, JobResults]] = OrderedDict()

    @property
    def effective_ttl_s(self) -> float:
        """Current reuse time of a snapshot, seconds."""
        return self._effective_ttl

    # -- 1. snapshots and bodies ------------------------------------------------
    def get(self) -> Snapshot:
        """The current snapshot, re-read when older than the reuse time."""
        with self._lock:
            snap, taken = self._snap, self._taken
        if snap is not None and time.monotonic() - taken < self._effective_ttl:
            return snap
        # Only one thread refreshes; the others keep using the previous snapshot.
        if not self._refreshing.acquire(blocking=snap is None):
            assert snap is not None
            return snap
        try:
            with self._lock:
                if self._snap is not None and time.monotonic() - self._taken < self._effective_ttl:
                    return self._snap
            started = time.monotonic()
            fresh = take_snapshot(
                self.data_dir,
                stale_after_s=self.stale_after_s,
                reader=self._read_status,
                views=self._job_views,
            )
            with self._lock:
                self._bodies = [*self._bodies[-1:], (fresh, {})]
            if self._warm is not None:
                self._warm(self, fresh)
            elapsed = time.monotonic() - started
            with self._lock:
                self._snap, self._taken = fresh, started
                if self._ttl > 0:
                    self._effective_ttl = min(MAX_TTL_S, max(self._ttl, 4 * elapsed))
            return fresh
        finally:
            self._refreshing.release()

    def body(self, snap: Snapshot, key: Any, make: Callable[[], bytes]) -> bytes:
        """``make()``, computed once per snapshot and key (for the two latest snapshots).

        Concurrent requests for a body being made wait for it instead of
        making it again; if making it fails, the next request tries again.
        """
        with self._lock:
            store = next((b for s, b in self._bodies if s is snap), None)
            if store is None:  # an older snapshot still held by a slow request
                return_uncached = True
                slot, mine = _Slot(), True
            else:
                return_uncached = False
                found = store.get(key)
                slot, mine = (found, False) if found is not None else (_Slot(), True)
                if mine:
                    store[key] = slot
        if return_uncached:
            return make()
        if not mine:
            slot.ready.wait()
            return slot.value if slot.value is not None else make()
        try:
            slot.value = make()
            return slot.value
        finally:
            if slot.value is None:
                with self._lock:
                    if store is not None and store.get(key) is slot:
                        del store[key]
            slot.ready.set()

    # -- 2. parsed status ----------------------------------------------------------
    def status_fingerprint(self) -> tuple[Any, ...]:
        """Changes whenever the status could read differently
        (:func:`~neuropose.datadir.status.status_version`: the status index's
        sequence number, a few microseconds however many jobs exist; one
        ``stat`` per job in a data directory without an index)."""
        return status_version(self.data_dir)

    def _read_status(self, data_dir: Path) -> StatusFile:
        key = self.status_fingerprint()
        with self._lock:
            if key == self._status_key and self._status is not None:
                return self._status
        value = self._reader(data_dir)
        with self._lock:
            self._status_key, self._status = key, value
        return value

    # -- 3. static job views ---------------------------------------------------------
    def _job_views(self, status: StatusFile) -> list[JobView]:
        """:func:`ordered_views` of ``status``; the same list while the status is unchanged."""
        with self._lock:
            if status is self._views_of:
                return self._ordered
            previous = self._views
        fresh: dict[str, tuple[tuple[Any, ...], dict[str, Any]]] = {}

        def static(name: str, entry: JobStatusEntry) -> dict[str, Any]:
            key = entry_key(name, entry)
            hit = previous.get(name)
            view = hit[1] if hit is not None and hit[0] == key else static_view(name, entry)
            fresh[name] = (key, view)
            return view

        ordered = ordered_views(status, static)
        with self._lock:  # only the current jobs are kept: pruned jobs are forgotten
            self._views, self._views_of, self._ordered = fresh, status, ordered
        return ordered

    # -- 4. results.json -----------------------------------------------------------------
    def results(self, path: Path) -> JobResults:
        """``load_model(path, JobResults)``, reused while the file is unchanged."""
        key = _stat(path)
        with self._lock:
            hit = self._results.get(path)
            if hit is not None and hit[0] == key and key is not None:
                self._results.move_to_end(path)
                return hit[1]
        value = load_model(path, JobResults)
        with self._lock:
            self._results[path] = (key, value)
            self._results.move_to_end(path)
            while len(self._results) > RESULTS_KEPT:
                self._results.popitem(last=False)
        return value
