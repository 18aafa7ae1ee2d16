"""What the daemon runs on a video (:class:`VideoProcessor`), and its lazy loading.

The pose model is heavy: :class:`LazyProcessor` builds it on the first job
(an idle daemon never loads it) through an explicit :meth:`LazyProcessor.load`,
which the daemon calls before touching a job so that a missing model is
reported as the environment's fault, not the job's.

Examples
--------
>>> calls = []
>>> lazy = LazyProcessor(lambda: calls.append("built") or "processor")
>>> lazy.loaded, calls
(False, [])
>>> lazy.load(), lazy.load(), calls
('processor', 'processor', ['built'])
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel

from neuropose.config import Settings
from neuropose.interfacer.errors import CheckpointRejectedError, RayNotInstalledError
from neuropose.schemas.predictions import VideoPredictions
from neuropose.schemas.provenance import CameraIntrinsics

__all__ = [
    "LazyProcessor",
    "ProcessorFactory",
    "VideoProcessor",
    "build_executor",
    "build_processor",
    "require_ray",
]


@runtime_checkable
class VideoProcessor(Protocol):
    """What the daemon needs to turn one video into predictions.

    The default implementation wraps :class:`neuropose.estimator.Estimator`.

    Attributes
    ----------
    checkpoint_model : type of pydantic BaseModel
        Type of the checkpoints passed to ``on_checkpoint`` and ``resume``.
    """

    checkpoint_model: type[BaseModel]

    def expected_frames(self, path: Path) -> int | None:
        """Frames the container declares, or ``None`` when unknown."""
        ...

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
        """Process ``path``; raise an :class:`~neuropose.errors.Interrupted` when stopped.

        ``intrinsics`` is given only for a video of a multi-view job: its
        calibrated camera (``K`` and distortion, fitted to the video), which
        then takes the place of the estimator's own choice (camera file,
        container focal length, configured FOV).

        Raises :class:`~neuropose.interfacer.errors.CheckpointRejectedError`
        when ``resume`` does not belong to ``path`` (the daemon then starts
        the video over).
        """
        ...


ProcessorFactory = Callable[[], VideoProcessor]


class LazyProcessor:
    """Builds the :class:`VideoProcessor` once, when :meth:`load` is first called.

    Parameters
    ----------
    factory : callable
        Returns the processor (e.g. ``lambda: build_processor(settings, spec)``).
    """

    def __init__(self, factory: ProcessorFactory) -> None:
        self._factory = factory
        self._processor: VideoProcessor | None = None

    @property
    def loaded(self) -> bool:
        """Whether the processor was built."""
        return self._processor is not None

    def load(self) -> VideoProcessor:
        """The processor, built on the first call (exceptions of the factory propagate)."""
        if self._processor is None:
            self._processor = self._factory()
        return self._processor

    def close(self) -> None:
        """Release the processor's resources when it has any (the Ray pool's actors)."""
        close = getattr(self._processor, "close", None)
        if callable(close):
            close()


class _EstimatorProcessor:
    """Adapter from :class:`neuropose.estimator.Estimator` to :class:`VideoProcessor`."""

    def __init__(self, model: Any, settings: Settings) -> None:
        # Heavy imports (OpenCV), only when a job is processed.
        from neuropose.estimator import Estimator
        from neuropose.schemas.checkpoint import VideoCheckpoint

        self._estimator = Estimator(model, settings)
        self.checkpoint_model: type[BaseModel] = VideoCheckpoint

    def expected_frames(self, path: Path) -> int | None:
        from neuropose.video.errors import VideoError
        from neuropose.video.reader import probe_video

        try:
            return probe_video(path).declared_frame_count
        except VideoError:  # the same error surfaces, typed, from process_video
            return None

    def process_video(self, path: Path, **kwargs: Any) -> VideoPredictions:
        from neuropose.estimator import CheckpointMismatchError

        try:
            result: VideoPredictions = self._estimator.process_video(path, **kwargs)
        except CheckpointMismatchError as exc:
            raise CheckpointRejectedError(exc.message, hint=exc.hint) from exc
        return result


def hold_model_use_lock(settings: Settings, model_spec: str | None, purpose: str) -> Any:
    """Take the machine's use lock of the cached model ``model_spec`` (None for ``python:``).

    ``neuropose live`` and the daemon never load the same cached model at once
    on one machine (:func:`neuropose.models.cache.model_use_lock`); the holder
    releases it by calling ``release()`` on the returned lock when it stops.

    Raises
    ------
    LockHeldError
        Another process uses the model; the message names it (exit code 3).
    """
    from neuropose.models.cache import model_use_lock

    lock = model_use_lock(settings.model_cache_dir, model_spec or settings.default_model, purpose)
    return lock.acquire() if lock is not None else None


def build_processor(
    settings: Settings, model_spec: str | None, *, use_lock: bool = True
) -> VideoProcessor:
    """Load the pose model named by ``model_spec`` and wrap it for the daemon.

    Any spec :func:`neuropose.models.load_pose_model` accepts; a
    ``python:<module>:<factory>`` factory may also return a whole
    :class:`VideoProcessor`, which is used as is. With ``use_lock`` the
    model's use lock (:func:`hold_model_use_lock`) is taken first and released
    by the processor's ``close()`` (the daemon closes it when it stops); the
    Ray pool's actors pass ``False``: the daemon holds the lock for its pool.
    """
    from neuropose.models.registry import load_pose_model

    name = model_spec or settings.default_model
    lock = hold_model_use_lock(settings, name, "neuropose watch") if use_lock else None
    try:
        obj = load_pose_model(name, settings, also_accept=VideoProcessor)
        processor = obj if isinstance(obj, VideoProcessor) else _EstimatorProcessor(obj, settings)
    except BaseException:
        if lock is not None:
            lock.release()
        raise
    return _Locked(processor, lock) if lock is not None else processor


class _Locked:
    """A :class:`VideoProcessor` that owns the model's use lock until :meth:`close`."""

    def __init__(self, processor: VideoProcessor, lock: Any) -> None:
        self._processor = processor
        self._lock = lock
        self.checkpoint_model = processor.checkpoint_model

    def __getattr__(self, name: str) -> Any:
        return getattr(self._processor, name)

    def expected_frames(self, path: Path) -> int | None:
        return self._processor.expected_frames(path)

    def process_video(self, path: Path, **kwargs: Any) -> VideoPredictions:
        return self._processor.process_video(path, **kwargs)

    def close(self) -> None:
        """Close the wrapped processor (if it can be closed), then release the lock."""
        try:
            close = getattr(self._processor, "close", None)
            if callable(close):
                close()
        finally:
            self._lock.release()


def require_ray() -> None:
    """Raise :class:`RayNotInstalledError` unless Ray can be imported (looked up, not imported)."""
    if importlib.util.find_spec("ray") is None:
        raise RayNotInstalledError(
            "executor 'ray' needs Ray, which is not installed",
            hint="pip install 'neuropose[ray]' (or use --executor local)",
        )


def build_executor(settings: Settings, model_spec: str | None) -> VideoProcessor:
    """The processor of ``settings.executor``: the model in this process, or a Ray pool.

    ``local`` is :func:`build_processor`; ``ray`` is a
    :class:`~neuropose.interfacer.ray_executor.RayPool` whose actors each
    call :func:`build_processor` once (Ray is imported only here).
    """
    if settings.executor == "local":
        return build_processor(settings, model_spec)
    require_ray()
    from neuropose.interfacer.ray_executor import RayPool  # imports Ray: only when chosen

    return RayPool(settings, model_spec)
