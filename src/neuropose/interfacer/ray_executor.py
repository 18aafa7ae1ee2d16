"""The Ray executor: videos run on a pool of Ray actors, the daemon keeps the data directory.

Imported only when ``executor = "ray"`` (it imports :mod:`ray`). The daemon
stays the single writer of the data directory; :class:`RayPool` is the
:class:`~neuropose.interfacer.processor.VideoProcessor` it is given, so
:class:`~neuropose.interfacer.jobrun.JobRun` records progress, checkpoints,
attempts and results exactly as with the local executor.

Per video (one thread of the daemon per running video)::

    daemon                                        actor (VideoWorker, model loaded once)
    free slot  --process(name, path|bytes, resume)-->  build_processor(...).process_video
    every 0.25 s  --poll()-->  <-- frames done, new checkpoints (JSON)
      progress(), on_checkpoint() -> partial/<video>.ckpt.json, status.json, workers.json
    result  <-- VideoPredictions (JSON, validated here) or the original exception

A killed actor (``kill -9``, out of memory, node lost) raises
:class:`~neuropose.interfacer.errors.WorkerLostError`: the slot gets a new
actor and the job re-runs the video from its last checkpoint on the next free
slot. The head gone (:class:`~neuropose.interfacer.ray_cluster.ClusterWatch`)
stops the running videos at a checkpoint and raises
:class:`~neuropose.interfacer.errors.ClusterUnavailableError` (exit code 4).
"""

from __future__ import annotations

import logging
import os
import queue
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ray
import ray.exceptions
from pydantic import BaseModel

from neuropose.config import Settings
from neuropose.datadir.layout import DataDir
from neuropose.errors import Interrupted, ProcessingError
from neuropose.interfacer.errors import (
    ClusterUnavailableError,
    DaemonStopped,
    WorkerLostError,
    describe_error,
)
from neuropose.interfacer.processor import build_processor, hold_model_use_lock
from neuropose.interfacer.ray_cluster import (
    ClusterWatch,
    check_room,
    cluster_errors,
    connect,
    resolve_transfer,
)
from neuropose.interfacer.workerboard import WorkerBoard
from neuropose.schemas.predictions import VideoPredictions
from neuropose.schemas.provenance import CameraIntrinsics

__all__ = ["RayPool", "VideoWorker"]

logger = logging.getLogger(__name__)

#: Seconds between two polls of a busy actor (progress, checkpoints, stop).
POLL_INTERVAL_S = 0.25
#: Seconds an actor may take to start and load its model.
START_TIMEOUT_S = 600.0


def _portable(exc: Exception) -> Exception:
    """``exc`` when it survives pickling (to the daemon), else a ProcessingError naming it."""
    try:
        ray.cloudpickle.loads(ray.cloudpickle.dumps(exc))
    except Exception:
        return ProcessingError(describe_error(exc))
    return exc


class VideoWorker:
    """One actor of the pool: builds the daemon's processor once, then runs videos.

    Methods run on the actor's threads (``max_concurrency`` > 1) so that
    :meth:`poll` and :meth:`stop` answer while :meth:`process` runs.
    """

    def __init__(self, settings: Settings, model_spec: str | None) -> None:
        self._settings = settings
        self._model_spec = model_spec
        self._processor: Any = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._frames: tuple[int, int | None] = (0, None)
        self._checkpoints: list[dict[str, Any]] = []

    def load(self) -> dict[str, Any]:
        """Build the processor (the same :func:`build_processor` as the local daemon)."""
        try:
            # The daemon holds the model's use lock for the whole pool (RayPool).
            self._processor = build_processor(self._settings, self._model_spec, use_lock=False)
        except Exception as exc:
            return {"error": _portable(exc)}
        return {
            "node": ray.util.get_node_ip_address(),
            "pid": os.getpid(),
            "checkpoint_model": self._processor.checkpoint_model,
        }

    def expected_frames(self, path: str) -> int | None:
        """Frames the container declares (path transfer only)."""
        result: int | None = self._processor.expected_frames(Path(path))
        return result

    def process(
        self,
        name: str,
        source: str | bytes,
        checkpoint_every_frames: int,
        resume: dict[str, Any] | None,
        intrinsics: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Run one video; ``source`` is its path, or its bytes (written to a temporary file).

        ``intrinsics``: a multi-view job's calibrated camera of this video (JSON of
        :class:`~neuropose.schemas.CameraIntrinsics`), else None.
        """
        with self._lock:
            self._stop.clear()
            self._frames = (0, None)
            self._checkpoints = []
        try:
            resume_from = (
                None if resume is None else self._processor.checkpoint_model.model_validate(resume)
            )
            camera = None if intrinsics is None else CameraIntrinsics.model_validate(intrinsics)
            if isinstance(source, str):
                pred = self._run(Path(source), checkpoint_every_frames, resume_from, camera)
            else:
                with tempfile.TemporaryDirectory(prefix="neuropose-ray-") as tmp:
                    path = Path(tmp) / name
                    path.write_bytes(source)
                    pred = self._run(path, checkpoint_every_frames, resume_from, camera)
        except Exception as exc:
            return {"error": _portable(exc)}
        return {"predictions": pred.model_dump(mode="json")}

    def _run(
        self,
        path: Path,
        every: int,
        resume: BaseModel | None,
        intrinsics: CameraIntrinsics | None,
    ) -> VideoPredictions:
        extra = {} if intrinsics is None else {"intrinsics": intrinsics}
        result: VideoPredictions = self._processor.process_video(
            path,
            progress=self._on_progress,
            stop_event=self._stop,
            checkpoint_every_frames=every,
            on_checkpoint=self._on_checkpoint,
            resume=resume,
            **extra,
        )
        return result

    def _on_progress(self, frames_done: int, frames_expected: int | None) -> None:
        with self._lock:
            self._frames = (frames_done, frames_expected)

    def _on_checkpoint(self, checkpoint: BaseModel) -> None:
        with self._lock:
            self._checkpoints.append(checkpoint.model_dump(mode="json"))

    def poll(self) -> dict[str, Any]:
        """Frames done, and the checkpoints made since the last poll (oldest first)."""
        with self._lock:
            checkpoints, self._checkpoints = self._checkpoints, []
            return {"frames": self._frames, "checkpoints": checkpoints}

    def stop(self) -> None:
        """Ask the running video to checkpoint and stop."""
        self._stop.set()


@dataclass
class _Slot:
    """One place in the pool and its current actor."""

    index: int
    handle: Any
    ready: Any  # ObjectRef of load(), until the actor reported
    node: str | None = None
    pid: int | None = None

    def describe(self) -> str:
        where = f"pid {self.pid} on {self.node}" if self.pid is not None else "starting"
        return f"worker {self.index} ({where})"


class _Relay:
    """Forwards one actor poll to the job: progress, checkpoints, the worker table."""

    def __init__(
        self,
        pool: RayPool,
        slot: _Slot,
        progress: Callable[[int, int | None], None],
        on_checkpoint: Callable[[Any], None],
        *,
        resumed: bool,
    ) -> None:
        self.pool = pool
        self.slot = slot
        self.progress = progress
        self.on_checkpoint = on_checkpoint
        self.start = time.monotonic()
        # Frames done before this run: 0 from the start; from a checkpoint, taken from the
        # first report (which may already include the first batch of this run).
        self.first: int | None = None if resumed else 0
        self.frames_done = 0

    @property
    def frames_run(self) -> int:
        """Frames this actor processed for this video (not those of a resumed checkpoint)."""
        return 0 if self.first is None else self.frames_done - self.first

    def __call__(self, answer: dict[str, Any]) -> None:
        for payload in answer["checkpoints"]:
            self.on_checkpoint(self.pool.checkpoint_model.model_validate(payload))
        done, expected = answer["frames"]
        if done and done != self.frames_done:
            if self.first is None:
                self.first = done - 1
            self.frames_done = done
            self.progress(done, expected)
        self.pool.board.progress(
            self.slot.index,
            frames_done=self.frames_done,
            frames_run=self.frames_run,
            elapsed_s=time.monotonic() - self.start,
        )


class RayPool:
    """A :class:`~neuropose.interfacer.processor.VideoProcessor` running videos on Ray actors.

    Parameters
    ----------
    settings : Settings
        ``ray_address``, ``ray_workers``, ``ray_cpus_per_worker``,
        ``ray_gpus_per_worker``, ``ray_video_transfer`` and ``data_dir``
        (``workers.json``) are read; the actors get the whole settings.
    model_spec : str or None
        The model, as given to ``neuropose watch --model``.

    Attributes
    ----------
    parallel_videos : int
        Videos of one job run at once (one per actor).
    checkpoint_model : type of BaseModel
        The checkpoint type of the actors' processor.

    Raises
    ------
    ClusterUnavailableError
        Ray cannot be started or joined, or the cluster cannot hold the pool.
    NeuroPoseError
        An actor failed to load the model (the original error, e.g. a model
        missing from the cache).
    """

    def __init__(self, settings: Settings, model_spec: str | None) -> None:
        self.settings = settings
        self.transfer = resolve_transfer(settings)
        # One user of the cached model on this machine: the pool (released by close()).
        self._model_lock = hold_model_use_lock(
            settings, model_spec, "neuropose watch --executor ray"
        )
        try:
            self._owns_ray = connect(settings)
        except BaseException:
            if self._model_lock is not None:
                self._model_lock.release()
            raise
        self._cluster_lost = False
        try:
            self.watch = ClusterWatch(ray.get_runtime_context().gcs_address)
            check_room(settings)
            self.board = WorkerBoard(
                DataDir(settings.data_dir).workers,
                address=settings.ray_address or "local",
                transfer=self.transfer,
            )
            self._actor: Any = ray.remote(VideoWorker).options(
                num_cpus=settings.ray_cpus_per_worker,
                num_gpus=settings.ray_gpus_per_worker,
                max_concurrency=4,
                max_restarts=0,
            )
            self._model_spec = model_spec
            self._slots = [self._new_slot(i) for i in range(settings.ray_workers)]
            infos = [self._await_ready(s) for s in self._slots]
        except BaseException:
            self.close()
            raise
        self.checkpoint_model: type[BaseModel] = infos[0]["checkpoint_model"]
        self.parallel_videos = settings.ray_workers
        self._free: queue.Queue[_Slot] = queue.Queue()
        for s in self._slots:
            self._free.put(s)
        logger.info(
            "ray pool: %d workers (%s CPU, %s GPU each) on %s, videos by %s",
            settings.ray_workers,
            settings.ray_cpus_per_worker,
            settings.ray_gpus_per_worker,
            settings.ray_address or "a local Ray instance",
            self.transfer,
            extra={"fields": {"event": "ray_pool_ready", "workers": settings.ray_workers}},
        )

    # ---------------------------------------------------------------- actors
    def _new_slot(self, index: int) -> _Slot:
        handle = self._actor.remote(self.settings, self._model_spec)
        self.board.add(index, handle._actor_id.hex())
        return _Slot(index, handle, handle.load.remote())

    def _await_ready(self, slot: _Slot) -> dict[str, Any]:
        """Wait for the slot's actor to load its model (once); return its info."""
        if slot.ready is None:
            return {}
        deadline = time.monotonic() + START_TIMEOUT_S
        while not ray.wait([slot.ready], timeout=POLL_INTERVAL_S * 4)[0]:
            if self.watch.gone():
                self._cluster_lost = True
                raise self.watch.error(f"while {slot.describe()} was starting")
            if time.monotonic() > deadline:
                raise ClusterUnavailableError(
                    f"{slot.describe()} did not start within {START_TIMEOUT_S:.0f} s",
                    hint="the cluster may lack free CPUs/GPUs for ray_workers x "
                    "ray_cpus_per_worker; check `ray status` on the head node",
                )
        try:
            info: dict[str, Any] = ray.get(slot.ready)
        except ray.exceptions.RayActorError as exc:
            lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
            raise ClusterUnavailableError(
                f"{slot.describe()} could not start: {lines[-1] if lines else exc}",
                hint="every Ray node needs the same neuropose and ray versions installed as "
                "the daemon (docs/ray.md, 'What must be shared')",
            ) from exc
        if "error" in info:
            raise info["error"]
        slot.ready = None
        slot.node, slot.pid = info["node"], info["pid"]
        self.board.ready(slot.index, node=info["node"], pid=info["pid"])
        return info

    def _replace(self, slot: _Slot, error: str) -> _Slot:
        self.board.lost(slot.index, error)
        ray.kill(slot.handle, no_restart=True)
        fresh = self._new_slot(slot.index)
        self._slots[slot.index] = fresh
        return fresh

    def _acquire(self, stop_event: threading.Event, video: str) -> _Slot:
        while True:
            if stop_event.is_set():
                raise DaemonStopped(f"stopped before video {video}")
            try:
                return self._free.get(timeout=POLL_INTERVAL_S)
            except queue.Empty:
                continue

    # ------------------------------------------------------ VideoProcessor
    def expected_frames(self, path: Path) -> int | None:
        """Frames the container declares; ``None`` with bytes transfer (learnt from progress)."""
        if self.transfer == "bytes":
            return None
        slot = self._slots[0]
        try:
            result: int | None = ray.get(
                slot.handle.expected_frames.remote(str(Path(path).resolve())), timeout=60
            )
        except ray.exceptions.RayError as exc:  # an actor being replaced: learnt from progress
            logger.debug("expected_frames of %s: %s", path, exc)
            return None
        return result

    def process_video(
        self,
        path: Path,
        *,
        progress: Callable[[int, int | None], None],
        stop_event: threading.Event,
        checkpoint_every_frames: int,
        on_checkpoint: Callable[[Any], None],
        resume: Any | None,
        intrinsics: CameraIntrinsics | None = None,
    ) -> VideoPredictions:
        """Run ``path`` on the next free actor (see the module docstring).

        Raises
        ------
        WorkerLostError
            The actor died; the slot has a new actor, the caller re-runs
            the video from its last checkpoint.
        ClusterUnavailableError
            The cluster cannot be reached.
        Exception
            Whatever the processor raised on the actor, as raised there.
        """
        path = Path(path)
        slot = self._acquire(stop_event, path.name)
        relay = _Relay(self, slot, progress, on_checkpoint, resumed=resume is not None)
        try:
            out = self._run(
                slot, path, relay, stop_event, checkpoint_every_frames, resume, intrinsics
            )
        except ray.exceptions.RayActorError as exc:
            message = f"{slot.describe()} died during {path.name} at frame {relay.frames_done}"
            if not self.watch.alive_now():  # the head went away, not just this worker
                self._cluster_lost = True
                raise self.watch.error(f"({message})") from exc
            slot = self._replace(slot, f"WorkerLostError: {message}")
            raise WorkerLostError(message) from exc
        except BaseException as exc:
            elapsed = time.monotonic() - relay.start
            error = describe_error(exc)
            self.board.done(slot.index, frames_run=relay.frames_run, elapsed_s=elapsed, error=error)
            raise
        finally:
            self._free.put(slot)
        elapsed = time.monotonic() - relay.start
        if "error" in out:
            err = out["error"]
            stopped = isinstance(err, Interrupted)  # a stop, not the worker's failure
            self.board.done(
                slot.index,
                frames_run=relay.frames_run,
                elapsed_s=elapsed,
                error=None if stopped else describe_error(err),
            )
            raise err
        self.board.done(slot.index, frames_run=relay.frames_run, elapsed_s=elapsed)
        return VideoPredictions.model_validate(out["predictions"])

    def _run(
        self,
        slot: _Slot,
        path: Path,
        relay: _Relay,
        stop_event: threading.Event,
        every: int,
        resume: BaseModel | None,
        intrinsics: CameraIntrinsics | None,
    ) -> dict[str, Any]:
        with cluster_errors():
            self._await_ready(slot)
            self.board.busy(slot.index, job=path.parent.name, video=path.name)
            source: Any = (
                str(path.resolve()) if self.transfer == "path" else ray.put(path.read_bytes())
            )
            payload = None if resume is None else resume.model_dump(mode="json")
            camera = None if intrinsics is None else intrinsics.model_dump(mode="json")
            ref = slot.handle.process.remote(path.name, source, every, payload, camera)
            stop_sent = False
            while True:
                ready, _ = ray.wait([ref], timeout=POLL_INTERVAL_S)
                relay(ray.get(slot.handle.poll.remote()))
                if not self._cluster_lost and self.watch.gone():
                    self._cluster_lost = True  # checkpoint now, while the actors still answer
                if (stop_event.is_set() or self._cluster_lost) and not stop_sent:
                    slot.handle.stop.remote()
                    stop_sent = True
                if ready:
                    result: dict[str, Any] = ray.get(ref)
                    if self._cluster_lost:
                        raise self.watch.error(f"during {path.name} (checkpoint kept)")
                    return result

    def close(self) -> None:
        """Kill the actors; shut Ray down when the pool started it (unless the cluster is gone).

        The model's use lock is released in every case.
        """
        try:
            self._close_pool()
        finally:
            lock, self._model_lock = getattr(self, "_model_lock", None), None
            if lock is not None:
                lock.release()

    def _close_pool(self) -> None:
        if getattr(self, "_cluster_lost", False):
            if hasattr(self, "board"):
                self.board.stopped()
            return  # Ray calls would wait for the GCS; the process exits instead
        for slot in getattr(self, "_slots", []):
            try:
                ray.kill(slot.handle, no_restart=True)
            except Exception as exc:  # already dead, or the cluster is gone
                logger.debug("ray.kill of %s: %s", slot.describe(), exc)
        if hasattr(self, "board"):
            self.board.stopped()
        if self._owns_ray and ray.is_initialized():
            ray.shutdown()
