"""One attempt at one job: its videos, their checkpoints, then ``results.json``.

Files of an attempt (in ``out/<job>/partial/``, the daemon's own area)::

    inputs.json            size and mtime of each input when its results were made
    <video>.pred.json      JobResults envelope of one finished video
    <video>.ckpt.json      mid-video checkpoint of the video being processed

A finished video's ``.pred.json`` is reused by the next attempt unless its
input changed (``inputs.json`` no longer matches). A checkpoint is resumed
from; a checkpoint the processor rejects
(:class:`~neuropose.interfacer.errors.CheckpointRejectedError`) is deleted and
the video starts over. ``results.json`` is written once, atomically, after
every video is done and only while ``in/<job>`` still exists.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from neuropose import __version__
from neuropose.config import Settings
from neuropose.datadir.layout import JobPaths
from neuropose.errors import Interrupted, InvalidDocumentError
from neuropose.interfacer.discovery import list_videos
from neuropose.interfacer.errors import (
    CheckpointRejectedError,
    DaemonStopped,
    JobVanishedError,
    NoVideosError,
    WorkerLostError,
    describe_error,
)
from neuropose.interfacer.heartbeat import LiveJob
from neuropose.interfacer.processor import VideoProcessor
from neuropose.io import (
    fit_name,
    load_json,
    load_model,
    write_json_atomic,
    write_model_atomic,
)
from neuropose.multiview.job import (
    MultiviewSpec,
    camera_summaries,
    find_spec,
    fitted_camera,
    triangulate_job,
)
from neuropose.schemas.predictions import JobResults, VideoPredictions
from neuropose.schemas.provenance import CameraIntrinsics
from neuropose.schemas.status import JobState, JobStatusEntry, VideoProgress
from neuropose.timefmt import utc_now
from neuropose.video.errors import VideoError

__all__ = ["JobRun", "PartialFiles"]

logger = logging.getLogger(__name__)


class PartialFiles:
    """The files of ``out/<job>/partial/`` (their names are spelled only here).

    >>> p = PartialFiles(Path("/d/out/walk/partial"))
    >>> p.prediction("cam 1.mp4").name, p.checkpoint("cam 1.mp4").name
    ('cam 1.mp4.pred.json', 'cam 1.mp4.ckpt.json')
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @property
    def manifest(self) -> Path:
        """``inputs.json``: size and mtime of each input."""
        return self.folder / "inputs.json"

    @staticmethod
    def _key(video: str) -> str:
        return video.replace(os.sep, "_")

    def prediction(self, video: str) -> Path:
        """``<video>.pred.json``: results of one finished video."""
        return self.folder / fit_name(self._key(video), ".pred.json")

    def checkpoint(self, video: str) -> Path:
        """``<video>.ckpt.json``: checkpoint of the video being processed."""
        return self.folder / fit_name(self._key(video), ".ckpt.json")

    def drop_changed_inputs(self, videos: list[Path]) -> None:
        """Delete results and checkpoints of inputs that changed since they were made."""
        current = {}
        for v in videos:
            st = v.stat()
            current[v.name] = [st.st_size, st.st_mtime_ns]
        old: dict[str, Any] = {}
        if self.manifest.is_file():
            with contextlib.suppress(InvalidDocumentError):
                loaded = load_json(self.manifest)
                old = loaded if isinstance(loaded, dict) else {}
        for name, signature in old.items():
            if current.get(name) != signature:
                for path in (self.prediction(name), self.checkpoint(name)):
                    with contextlib.suppress(FileNotFoundError):
                        path.unlink()
        if old != current:
            write_json_atomic(self.manifest, current)


class _ProgressSink:
    """The ``progress`` callback of one video: updates the live entry, writes it now and then."""

    def __init__(self, live: LiveJob, video: str, write: Callable[[JobStatusEntry], None]) -> None:
        self._live = live
        self._video = video
        self._write = write
        self._first: int | None = None  # frames_done at this attempt's first callback

    def restart(self) -> None:
        """The video starts over (rejected checkpoint): count this attempt's frames anew."""
        self._first = None

    def __call__(self, frames_done: int, frames_expected: int | None) -> None:
        if self._first is None:
            self._first = frames_done
        self._live.progress(self._video, frames_done, frames_expected, frames_done - self._first)
        if self._live.write_due():
            self._write(self._live.stamp())


class JobRun:
    """Process every video of one job and write its ``results.json``.

    Parameters
    ----------
    paths : JobPaths
        The job's paths.
    live : LiveJob
        The job's live entry (state ``processing``), updated with progress.
    processor : VideoProcessor
        Turns one video into predictions.
    settings : Settings
        ``checkpoint_every_frames`` is read.
    stop_event : threading.Event
        Set on a stop signal; the processor checkpoints and raises.
    write_live : callable
        Writes the live entry (``out/<job>/status.json``).
    """

    def __init__(
        self,
        paths: JobPaths,
        live: LiveJob,
        processor: VideoProcessor,
        settings: Settings,
        stop_event: threading.Event,
        write_live: Callable[[JobStatusEntry], None],
    ) -> None:
        self.paths = paths
        self.live = live
        self.processor = processor
        self.settings = settings
        self.stop_event = stop_event
        self._write = write_live
        self.partial = PartialFiles(paths.partial)
        self._spec: MultiviewSpec | None = None  # set by run() for a multi-view job

    def run(self) -> JobResults:
        """Process the job; return the :class:`JobResults` written to ``results.json``.

        Raises
        ------
        JobVanishedError, NoVideosError
            ``in/<job>`` disappeared, or holds no video.
        MultiviewJobError, CalibrationError
            A multi-view job's calibration or camera pairing is invalid
            (raised before any video runs), or its views cannot be
            triangulated together (:mod:`neuropose.multiview.job`).
        Interrupted
            Stopped on a signal; the current video's checkpoint was written.
        OSError, NeuroPoseError
            Anything the processor or a write raised (the caller fails the job).
        """
        job_id = self.paths.name
        videos = list_videos(self.paths.input)
        if not self.paths.input.is_dir():
            raise JobVanishedError(f"in/{job_id} no longer exists")
        if not videos:
            raise NoVideosError(
                f"job {job_id!r} has no video files in in/{job_id}",
                hint="put .mp4/.mov/.avi/... files directly in the job directory",
            )
        # multi-view: a bad rig fails first; each view is then estimated with its camera
        self._spec = find_spec(self.paths.input, [v.name for v in videos])
        self.paths.partial.mkdir(parents=True, exist_ok=True)
        self.partial.drop_changed_inputs(videos)
        self.live.set_videos(
            [VideoProgress(name=v.name, frames_expected=self.processor.expected_frames(v))
             for v in videos]
        )  # fmt: skip
        self._write(self.live.stamp())
        predictions = self._videos(videos)
        if not self.paths.input.is_dir():
            raise JobVanishedError(f"in/{job_id} was removed while it was processing")
        # multi-view step (neuropose.multiview.job): None for a single-view job
        triangulation = triangulate_job(predictions, self.paths.input)
        if triangulation is not None:
            self.live.update(
                cameras=camera_summaries(triangulation), warnings=triangulation.warnings
            )
        results = JobResults(
            job_id=job_id,
            created_at=utc_now(),
            neuropose_version=__version__,
            videos=tuple(predictions),
            triangulation=triangulation,
        )
        write_model_atomic(self.paths.results, results, indent=None)
        return results

    def _finished(self, video: Path) -> VideoPredictions | None:
        """The video's predictions from an earlier attempt, when valid."""
        path = self.partial.prediction(video.name)
        if not path.is_file():
            return None
        try:
            return load_model(path, JobResults).videos[0]
        except InvalidDocumentError:
            path.unlink()
            return None

    def _camera(self, video: Path) -> CameraIntrinsics | None:
        """A multi-view job's calibrated camera of ``video`` (None for a single-view job).

        None too when the video cannot be opened: the processor then reports
        the video's own error.
        """
        if self._spec is None:
            return None
        from neuropose.estimator.camera import from_rig_camera  # OpenCV: only when a job runs

        try:
            cam = fitted_camera(self._spec.rig, self._spec.cameras[video.name], video)
        except VideoError:
            return None
        return from_rig_camera(cam, self._spec.calibration)

    def _resume_point(self, video: Path) -> BaseModel | None:
        path = self.partial.checkpoint(video.name)
        if not path.is_file():
            return None
        try:
            return load_model(path, self.processor.checkpoint_model)
        except InvalidDocumentError as exc:
            logger.warning("ignoring unreadable checkpoint: %s", exc.message)
            path.unlink()
            return None

    def _videos(self, videos: list[Path]) -> list[VideoPredictions]:
        """Every video's predictions, in the job's order.

        A processor with ``parallel_videos`` > 1 (the Ray pool) gets that many
        videos at once; the first failure in video order is raised after the
        videos already running have finished (their predictions are kept in
        ``partial/`` for the next attempt) and the waiting ones are dropped.
        """
        parallel = min(int(getattr(self.processor, "parallel_videos", 1)), len(videos))
        if parallel <= 1:
            return [self._video(v) for v in videos]
        pool = ThreadPoolExecutor(parallel, thread_name_prefix=f"video-{self.paths.name}")
        try:
            futures = [pool.submit(self._video, v) for v in videos]
            return [f.result() for f in futures]
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def _worker_lost(self, video: Path, exc: WorkerLostError) -> None:
        """Count the lost attempt in the job's history; re-raise after ``max_attempts``."""
        if self.live.entry.attempts >= self.settings.max_attempts:
            raise WorkerLostError(
                f"{exc.message}; the job reached max_attempts = {self.settings.max_attempts} "
                f"(does {video.name} kill every worker it runs on?)",
                hint="check the worker logs of the Ray nodes (out of memory, crash); "
                "`neuropose retry JOB` runs it again",
            ) from exc
        attempt = self.live.new_attempt(describe_error(exc))
        self._write(self.live.stamp())
        logger.warning(
            "job %s: %s; re-running %s from its last checkpoint (attempt %d)",
            self.paths.name,
            exc.message,
            video.name,
            attempt,
            extra={"fields": {"event": "worker_lost", "job": self.paths.name, "video": video.name}},
        )

    def _attempt(
        self, video: Path, resume: BaseModel | None, progress: _ProgressSink
    ) -> VideoPredictions:
        """One processor call on ``video`` (again from frame 0 on a rejected checkpoint)."""
        ckpt_path = self.partial.checkpoint(video.name)

        def on_checkpoint(checkpoint: BaseModel) -> None:
            write_model_atomic(ckpt_path, checkpoint, indent=None)

        camera = self._camera(video)
        extra = {} if camera is None else {"intrinsics": camera}  # multi-view jobs only

        def call(resume_from: BaseModel | None) -> VideoPredictions:
            return self.processor.process_video(
                video,
                progress=progress,
                stop_event=self.stop_event,
                checkpoint_every_frames=self.settings.checkpoint_every_frames,
                on_checkpoint=on_checkpoint,
                resume=resume_from,
                **extra,
            )

        try:
            return call(resume)
        except Interrupted as exc:
            checkpoint = getattr(exc, "checkpoint", None)
            if isinstance(checkpoint, BaseModel):
                on_checkpoint(checkpoint)
            raise
        except CheckpointRejectedError as exc:
            if resume is None:
                raise
            logger.warning("checkpoint of %s does not match (%s); starting over", video, exc)
            with contextlib.suppress(FileNotFoundError):
                ckpt_path.unlink()
            progress.restart()
            return call(None)

    def _video(self, video: Path) -> VideoPredictions:
        job_id = self.paths.name
        pred = self._finished(video)
        if pred is not None:
            self.live.update_video(
                video.name, state=JobState.COMPLETED, frames_done=pred.num_frames
            )
            return pred
        if self.stop_event.is_set():
            raise DaemonStopped(f"stopped before video {video.name}")
        resume = self._resume_point(video)
        self.live.update(current_video=video.name)
        self.live.update_video(video.name, state=JobState.PROCESSING)
        logger.info(
            "job %s: video %s%s",
            job_id,
            video.name,
            " (resuming from checkpoint)" if resume is not None else "",
            extra={"fields": {"event": "video_start", "job": job_id, "video": video.name}},
        )
        ckpt_path = self.partial.checkpoint(video.name)
        progress = _ProgressSink(self.live, video.name, self._write)
        while True:
            try:
                pred = self._attempt(video, resume, progress)
                break
            except WorkerLostError as exc:
                self._worker_lost(video, exc)
                resume = self._resume_point(video)
                progress.restart()
        # A one-video JobResults envelope, so the partial file carries a schema_version.
        envelope = JobResults(
            job_id=job_id, created_at=utc_now(), neuropose_version=__version__, videos=(pred,)
        )
        write_model_atomic(self.partial.prediction(video.name), envelope, indent=None)
        with contextlib.suppress(FileNotFoundError):
            ckpt_path.unlink()
        self.live.update_video(video.name, state=JobState.COMPLETED, frames_done=pred.num_frames)
        self._write(self.live.stamp())
        return pred
