"""The worker pool file (``workers.json``) the daemon writes when it runs on Ray.

One :class:`WorkerEntry` per Ray actor of the pool: where it runs, what it
is doing, its speed and its totals. The daemon is the only writer (atomic
replace, about once a second while a job runs); the dashboard's
``/workers`` page and ``/workers.json`` read it.

Examples
--------
>>> w = WorkerEntry(slot=0, worker_id="a1", node="10.0.0.5", pid=4242, state="busy",
...                 job="walk1", video="cam01.mp4", frames_done=120, fps=30.0,
...                 last_heartbeat="2026-11-29T21:00:00Z", videos_done=3,
...                 frames_total=900, busy_s=30.0, started_at="2026-11-29T20:59:00Z")
>>> w.throughput_fps
30.0
>>> WorkersFile(executor="ray", address="local", updated_at="t", workers=(w,)).workers[0].node
'10.0.0.5'
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from neuropose.schemas.base import Document, FrozenModel

__all__ = ["WorkerEntry", "WorkersFile"]


class WorkerEntry(FrozenModel):
    """One Ray actor of the pool.

    Attributes
    ----------
    slot : int
        Index of the actor in the pool (a replacement keeps the slot of the
        actor it replaces).
    worker_id : str
        Ray's actor id (hex); changes when the slot's actor is replaced.
    node, pid : str, int or None
        IP address of the Ray node and process id of the actor (``None``
        while it is starting).
    state : {"starting", "idle", "busy", "lost", "stopped"}
        ``lost``: the actor died (its video is re-run on another actor);
        ``stopped``: the daemon shut the pool down.
    job, video : str or None
        The video being processed (``busy`` only).
    frames_done : int
        Frames of the current video done so far (including frames of a
        checkpoint it resumed from).
    fps : float or None
        Frames per second of the current video in this run (frames the
        actor decoded and estimated itself divided by wall time).
    last_heartbeat : str or None
        When the daemon last heard from the actor (UTC, ISO 8601).
    videos_done, frames_total : int
        Videos finished and frames processed in this slot since the pool started.
    busy_s : float
        Seconds the slot spent processing (wall time, all videos).
    started_at : str
        When the slot's current actor was created.
    restarts : int
        Actors of this slot lost and replaced so far.
    error : str or None
        ``"<ErrorType>: message"`` of the last failure on this actor.
    """

    slot: int = Field(ge=0)
    worker_id: str
    node: str | None = None
    pid: int | None = None
    state: Literal["starting", "idle", "busy", "lost", "stopped"]
    job: str | None = None
    video: str | None = None
    frames_done: int = Field(default=0, ge=0)
    fps: float | None = Field(default=None, ge=0)
    last_heartbeat: str | None = None
    videos_done: int = Field(default=0, ge=0)
    frames_total: int = Field(default=0, ge=0)
    busy_s: float = Field(default=0.0, ge=0)
    started_at: str
    restarts: int = Field(default=0, ge=0)
    error: str | None = None

    @property
    def throughput_fps(self) -> float | None:
        """Frames per busy second over the actor's life (``None`` before the first frame)."""
        return self.frames_total / self.busy_s if self.busy_s > 0 and self.frames_total else None


class WorkersFile(Document):
    """``workers.json``: the daemon's Ray worker pool.

    Attributes
    ----------
    executor : {"ray"}
        The executor that wrote the file.
    address : str
        The Ray cluster (``local`` for a private instance started by the daemon).
    transfer : {"path", "bytes"}
        How videos reach the actors.
    updated_at : str
        When the daemon wrote the file (UTC, ISO 8601).
    workers : tuple of WorkerEntry
        One entry per slot, by slot.
    """

    SCHEMA_VERSION: ClassVar[int] = 1
    executor: Literal["ray"] = "ray"
    address: str
    transfer: Literal["path", "bytes"] = "path"
    updated_at: str
    workers: tuple[WorkerEntry, ...] = ()
