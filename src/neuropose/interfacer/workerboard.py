"""The worker pool's live table, written to ``workers.json`` for the dashboard.

:class:`WorkerBoard` holds one :class:`~neuropose.schemas.workers.WorkerEntry`
per slot of the Ray pool. The pool's dispatch threads update it (under a
lock); it writes the file atomically when a worker changes state, and at most
every :data:`WRITE_INTERVAL_S` seconds for progress.

Examples
--------
>>> import tempfile
>>> from neuropose.io import load_model
>>> from neuropose.schemas.workers import WorkersFile
>>> path = Path(tempfile.mkdtemp()) / "workers.json"
>>> board = WorkerBoard(path, address="local", transfer="path")
>>> board.add(0, "a1")
>>> board.ready(0, node="10.0.0.5", pid=4242)
>>> board.busy(0, job="walk1", video="cam01.mp4")
>>> board.progress(0, frames_done=40, frames_run=40, elapsed_s=2.0)
>>> board.done(0, frames_run=100, elapsed_s=4.0)
>>> w = load_model(path, WorkersFile).workers[0]
>>> w.state, w.videos_done, w.frames_total, w.throughput_fps
('idle', 1, 100, 25.0)
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from pathlib import Path
from typing import Any, Literal

from neuropose.errors import NeuroPoseError
from neuropose.io import write_model_atomic
from neuropose.schemas.workers import WorkerEntry, WorkersFile
from neuropose.timefmt import utc_now

__all__ = ["WRITE_INTERVAL_S", "WorkerBoard"]

logger = logging.getLogger(__name__)

#: Progress rewrites ``workers.json`` at most this often (seconds).
WRITE_INTERVAL_S = 1.0


class WorkerBoard:
    """Per-slot state of the Ray pool, mirrored to ``workers.json``.

    Parameters
    ----------
    path : Path
        ``workers.json`` (:attr:`neuropose.datadir.layout.DataDir.workers`).
    address : str
        The cluster, as shown on the dashboard (``local`` for a private instance).
    transfer : {"path", "bytes"}
        How videos reach the actors.
    """

    def __init__(self, path: Path, *, address: str, transfer: Literal["path", "bytes"]) -> None:
        self.path = path
        self.address = address
        self.transfer: Literal["path", "bytes"] = transfer
        self._lock = threading.Lock()
        self._workers: dict[int, WorkerEntry] = {}
        self._last_write = 0.0

    def entry(self, slot: int) -> WorkerEntry:
        """The current entry of ``slot``."""
        with self._lock:
            return self._workers[slot]

    def add(self, slot: int, worker_id: str) -> None:
        """A new actor in ``slot`` (``starting``: loading its model).

        A replacement keeps the slot's totals, its last error and counts the
        restart.
        """
        with self._lock:
            old = self._workers.get(slot)
            fresh = WorkerEntry(
                slot=slot, worker_id=worker_id, state="starting", started_at=utc_now()
            )
            if old is not None:
                fresh = fresh.model_copy(
                    update={
                        "restarts": old.restarts + 1,
                        "error": old.error,
                        "videos_done": old.videos_done,
                        "frames_total": old.frames_total,
                        "busy_s": old.busy_s,
                    }
                )
            self._workers[slot] = fresh
        self.write(force=True)

    def ready(self, slot: int, *, node: str, pid: int) -> None:
        """The actor of ``slot`` loaded its model and reported where it runs."""
        self._set(slot, force=True, node=node, pid=pid, state="idle", last_heartbeat=utc_now())

    def busy(self, slot: int, *, job: str, video: str) -> None:
        """The actor of ``slot`` starts a video."""
        self._set(
            slot, force=True, state="busy", job=job, video=video, frames_done=0, fps=None,
            last_heartbeat=utc_now(),
        )  # fmt: skip

    def progress(self, slot: int, *, frames_done: int, frames_run: int, elapsed_s: float) -> None:
        """A poll answered: ``frames_run`` frames processed in ``elapsed_s`` s of this video."""
        fps = frames_run / elapsed_s if elapsed_s > 0 and frames_run > 0 else None
        self._set(slot, frames_done=frames_done, fps=fps, last_heartbeat=utc_now())

    def done(
        self, slot: int, *, frames_run: int, elapsed_s: float, error: str | None = None
    ) -> None:
        """The video of ``slot`` ended (``error``: it failed); totals grow, the actor is idle."""
        with self._lock:
            w = self._workers[slot]
            self._workers[slot] = w.model_copy(
                update={
                    "state": "idle",
                    "job": None,
                    "video": None,
                    "fps": None,
                    "frames_done": 0,
                    "videos_done": w.videos_done + (error is None),
                    "frames_total": w.frames_total + frames_run,
                    "busy_s": w.busy_s + max(0.0, elapsed_s),
                    "last_heartbeat": utc_now(),
                    "error": error if error is not None else w.error,
                }
            )
        self.write(force=True)

    def lost(self, slot: int, error: str) -> None:
        """The actor of ``slot`` died."""
        self._set(slot, force=True, state="lost", error=error)

    def stopped(self) -> None:
        """The pool was shut down: every actor is gone."""
        with self._lock:
            for slot, w in self._workers.items():
                self._workers[slot] = w.model_copy(
                    update={"state": "stopped", "job": None, "video": None, "fps": None}
                )
        self.write(force=True)

    def _set(self, slot: int, *, force: bool = False, **changes: Any) -> None:
        with self._lock:
            self._workers[slot] = self._workers[slot].model_copy(update=changes)
        self.write(force=force)

    def write(self, *, force: bool = False) -> None:
        """Write ``workers.json`` (progress only every :data:`WRITE_INTERVAL_S` s).

        A failed write is logged and skipped: the table is informational and
        the next change writes it again.
        """
        with self._lock:
            now = time.monotonic()
            if not force and now - self._last_write < WRITE_INTERVAL_S:
                return
            self._last_write = now
            doc = WorkersFile(
                address=self.address,
                transfer=self.transfer,
                updated_at=utc_now(),
                workers=tuple(self._workers[s] for s in sorted(self._workers)),
            )
            try:
                write_model_atomic(self.path, doc)
            except (OSError, NeuroPoseError) as exc:
                with contextlib.suppress(Exception):
                    logger.warning("cannot write %s: %s", self.path, exc)
