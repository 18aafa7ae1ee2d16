"""Wiring of one live session: source, model (under its use lock), graph, loop, files.

:func:`run_live` is what ``neuropose live`` runs; tests and other programs
call it directly with their own ``stop_event`` and tick consumers.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from neuropose.config import Settings
from neuropose.errors import NeuroPoseError
from neuropose.live.events import TickConsumer, parse_repetition, parse_threshold
from neuropose.live.loop import LiveLoop, LoopOptions, LoopStats, SignalPusher
from neuropose.live.session import Recorder, StatusWriter, open_session
from neuropose.live.sources import Capture, Source, open_source
from neuropose.live.states import StateMachine
from neuropose.models.cache import model_use_lock
from neuropose.schemas import Skeleton
from neuropose.schemas.live import LiveStatus

__all__ = ["LiveConfig", "LiveResult", "run_live"]


@dataclass(frozen=True)
class LiveConfig:
    """Everything ``neuropose live`` takes (see its ``--help``).

    Attributes
    ----------
    source : str
        Camera index, stream URL, video file or results file.
    data_dir : Path
        Data directory; the session folder is ``live/<session>``.
    spec : Path, optional
        Signal spec (TOML/JSON); without it only poses are recorded.
    session : str, optional
        Session name (default ``live-<UTC time>``).
    predict_hz, replay_speed, duration_s
        Pacing (see :mod:`neuropose.live.loop` and :mod:`neuropose.live.sources`).
    record, record_video : bool
        Write poses/signals/events; also the frames (``video.mp4``).
    model : str, optional
        Pose model for frame sources (default: the ``default_model`` setting).
    video : str, optional
        Video of a results file holding several.
    thresholds, repetitions : sequence of str
        Event rules ``SIGNAL>VALUE`` / ``SIGNAL:LOW:HIGH``.
    n_stable_ticks : int
        Debouncing of the event rules.
    plot : sequence of str, optional
        Signals shown on the monitor's ``/live`` page (default: every scalar).
    missing : {"propagate", "hold"}
        The graph's missing-detection policy (``interpolate`` needs the future).
    """

    source: str
    data_dir: Path
    spec: Path | None = None
    session: str | None = None
    predict_hz: float | None = None
    replay_speed: float = 1.0
    duration_s: float | None = None
    record: bool = True
    record_video: bool = False
    model: str | None = None
    video: str | None = None
    thresholds: Sequence[str] = ()
    repetitions: Sequence[str] = ()
    n_stable_ticks: int = 3
    plot: Sequence[str] | None = None
    missing: str = "propagate"


@dataclass
class LiveResult:
    """What a finished session did."""

    session: str
    folder: Path
    stats: LoopStats
    files: list[Path] = field(default_factory=list)
    status: LiveStatus | None = None
    stopped: bool = False


class _NoSignals:
    """The graph of a session without ``--spec``: no outputs."""

    def push(self, times_s: np.ndarray, poses: np.ndarray) -> dict[str, np.ndarray]:
        return {}


def _graph(spec: Path | None, skeleton: Skeleton, missing: str) -> tuple[SignalPusher, str | None]:
    if spec is None:
        return _NoSignals(), None
    from neuropose.signals import SignalGraph, load_spec

    loaded = load_spec(spec)
    return SignalGraph(loaded, skeleton, live=True, missing=missing), loaded.sha256


def run_live(
    cfg: LiveConfig,
    settings: Settings,
    *,
    stop_event: threading.Event | None = None,
    consumers: Sequence[TickConsumer] = (),
) -> LiveResult:
    """Run one session until the source ends, ``duration_s`` passes or ``stop_event`` is set.

    Raises
    ------
    SourceError, VideoError
        The source cannot be opened.
    LockHeldError
        Another process (``neuropose watch``, another ``live``) has the model loaded.
    SpecError
        The signal spec is invalid or has a non-causal node.
    """
    stop = stop_event or threading.Event()
    rules: list[TickConsumer] = [parse_threshold(t, cfg.n_stable_ticks) for t in cfg.thresholds]
    rules += [parse_repetition(r, cfg.n_stable_ticks) for r in cfg.repetitions]
    with contextlib.ExitStack() as scope:
        source = open_source(cfg.source, speed=cfg.replay_speed, video=cfg.video)
        scope.callback(source.close)
        predictor, skeleton = _predictor(source, cfg, settings, scope)
        graph, sha = _graph(cfg.spec, skeleton, cfg.missing)
        paths = open_session(cfg.data_dir, cfg.session)
        machine = StateMachine()
        status = StatusWriter(paths, machine, cfg.source, plot=cfg.plot, spec_sha256=sha)
        recorder = (
            Recorder(paths, record_video=cfg.record_video, fps=source.nominal_fps)
            if cfg.record
            else None
        )
        machine.start()
        if recorder is not None:
            machine.record()
            status.recording = True
        hooks = [_video_hook(recorder)] if recorder is not None and cfg.record_video else []
        loop = LiveLoop(
            source,
            graph,
            predictor=predictor,
            consumers=[*rules, *consumers],
            sinks=[s for s in (recorder, status) if s is not None],
            options=LoopOptions(predict_hz=cfg.predict_hz, duration_s=cfg.duration_s),
            stop_event=stop,
            capture_hooks=hooks,
        )
        try:
            stats = loop.run()
        except BaseException as exc:
            if recorder is not None:
                recorder.discard()
            status.error = exc.message if isinstance(exc, NeuroPoseError) else repr(exc)
            with contextlib.suppress(Exception):
                machine.stop()
                status.recording = False
                status.tick(loop.stats, final=True)  # stops the background writer too
            raise
        files = recorder.finalise() if recorder is not None else []
        if machine.state == "recording":
            machine.stop_recording()
        status.recording = False
        machine.stop()
        final = status.write(stats)
        return LiveResult(paths.name, paths.folder, stats, files, final, stop.is_set())


def _predictor(
    source: Source, cfg: LiveConfig, settings: Settings, scope: contextlib.ExitStack
) -> tuple[Callable[[Capture], np.ndarray] | None, Skeleton]:
    """The per-frame pose function (None for a pose source) and the skeleton."""
    if source.skeleton is not None:
        return None, source.skeleton
    from neuropose.estimator import Estimator
    from neuropose.estimator.stream import FrameStream
    from neuropose.models.registry import load_pose_model

    name = cfg.model or settings.default_model
    lock = model_use_lock(settings.model_cache_dir, name, "neuropose live")
    if lock is not None:
        scope.enter_context(lock)
    model = load_pose_model(name, settings)
    stream = FrameStream(Estimator(model, settings))

    def predict(cap: Capture) -> np.ndarray:
        assert cap.rgb is not None
        return stream.step(cap.index, cap.rgb).pose

    return predict, model.skeleton


def _video_hook(recorder: Recorder) -> Callable[[Capture], None]:
    def hook(cap: Capture) -> None:
        if cap.rgb is not None:
            recorder.video_frame(cap.rgb)

    return hook
