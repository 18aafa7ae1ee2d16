"""The paced live loop: one tick per ``1 / predict_hz`` seconds, inference per new frame.

Each tick the loop asks the source for its newest unseen frame
(:meth:`~neuropose.live.sources.Source.poll`):

* a **new frame**: the pose comes from the source (results replay) or from
  the estimator's per-frame path (:class:`~neuropose.estimator.stream.FrameStream`);
  the signal graph is pushed that one frame; tick consumers run; with
  recording on, the pose, the signal values and the events are written.
  Frames the source skipped to hand over the newest one (the loop was
  slower than the source) are counted in ``frames_dropped``.
* **no new frame**: a *stale* tick. Nothing is re-run and nothing is written
  to ``poses.jsonl``/``signals.jsonl``; consumers see the previous values
  with ``stale=True``; ``stale_ticks`` counts them.

Without ``predict_hz`` the loop ticks at the source's nominal rate (30 Hz when
unknown); a file replayed at speed 0 is not paced at all and every frame is
predicted in order. The latency of a frame is the wall time from its capture
(:attr:`~neuropose.live.sources.Capture.wall_s`) to the moment its signal
values exist.

A stop (``stop_event``, set by SIGINT/SIGTERM, or ``--duration``) is checked
between ticks only, so the frame in flight is always finished and written
before the loop returns.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from neuropose.live.events import Tick, TickConsumer
from neuropose.live.sources import Capture, Source
from neuropose.schemas.live import LiveEvent

__all__ = ["FrameSink", "LiveLoop", "LoopOptions", "LoopStats", "SignalPusher"]

#: Fallback tick rate when neither --predict-hz nor the source's fps is known.
_DEFAULT_HZ = 30.0


class SignalPusher(Protocol):
    """What the loop needs of a signal graph (``neuropose.signals.SignalGraph``)."""

    def push(self, times_s: np.ndarray, poses: np.ndarray) -> dict[str, np.ndarray]:
        """Outputs for ``times_s`` (n,), ``poses`` (n, J, 3)."""
        ...


class FrameSink(Protocol):
    """Receives every predicted frame and every event (the recorder, the status)."""

    def frame(self, tick: Tick, latency_s: float) -> None:
        """A fresh tick was computed."""
        ...

    def events(self, events: Sequence[LiveEvent]) -> None:
        """Events detected on a tick."""
        ...

    def tick(self, stats: LoopStats, *, final: bool = False) -> None:
        """Called after every tick (and once more, ``final``, at the end)."""
        ...


@dataclass(frozen=True)
class LoopOptions:
    """How the loop runs.

    Attributes
    ----------
    predict_hz : float or None
        Ticks per second; None = the source's nominal rate.
    duration_s : float or None
        Stop after this many seconds of wall time.
    """

    predict_hz: float | None = None
    duration_s: float | None = None


@dataclass
class LoopStats:
    """Counters of a running loop (all since its start).

    Attributes
    ----------
    frames_in : int
        Frames the source delivered (predicted + dropped).
    frames_predicted, frames_dropped, stale_ticks, ticks : int
        See the module docstring.
    events : int
        Events the tick consumers returned.
    latencies_s : list of float
        Capture -> signal latency of every predicted frame, seconds.
    first_time_s, last_time_s : float or None
        Source times of the first and last predicted frames.
    started_wall, ended_wall : float
        ``perf_counter`` at the start and at the end of the loop.
    """

    frames_in: int = 0
    frames_predicted: int = 0
    frames_dropped: int = 0
    stale_ticks: int = 0
    ticks: int = 0
    events: int = 0
    latencies_s: list[float] = field(default_factory=list)
    first_time_s: float | None = None
    last_time_s: float | None = None
    started_wall: float = 0.0
    ended_wall: float = 0.0

    @property
    def elapsed_s(self) -> float:
        """Wall time of the loop so far, seconds."""
        end = self.ended_wall or time.perf_counter()
        return max(0.0, end - self.started_wall)

    def latency_ms(self, last: int | None = None) -> tuple[float | None, float | None]:
        """Median and 95th percentile latency (of the ``last`` frames), milliseconds."""
        lat = self.latencies_s[-last:] if last else self.latencies_s
        if not lat:
            return None, None
        arr = np.asarray(lat) * 1000.0
        return float(np.median(arr)), float(np.percentile(arr, 95))

    def as_dict(self) -> dict[str, Any]:
        """The counters and latency summary as plain JSON values."""
        med, p95 = self.latency_ms()
        return {
            "frames_in": self.frames_in,
            "frames_predicted": self.frames_predicted,
            "frames_dropped": self.frames_dropped,
            "stale_ticks": self.stale_ticks,
            "ticks": self.ticks,
            "events": self.events,
            "elapsed_s": self.elapsed_s,
            "latency_median_ms": med,
            "latency_p95_ms": p95,
        }


class LiveLoop:
    """Source -> pose -> signal graph -> consumers -> sinks, paced (module docstring).

    Parameters
    ----------
    source : Source
        Where frames come from.
    graph : SignalPusher
        The live signal graph (causal nodes only).
    predictor : callable, optional
        ``predictor(capture) -> (J, 3)`` pose for sources that deliver
        frames; not needed for a results replay.
    consumers : sequence of TickConsumer
        Called on every tick, fresh or stale (the classifier hook).
    sinks : sequence of FrameSink
        Recorder and status writer.
    options : LoopOptions
        Pacing and duration.
    stop_event : threading.Event, optional
        Set to stop at the next tick boundary.
    capture_hooks : sequence of callable
        ``hook(capture)`` for every predicted frame (``--record-video``).
    """

    def __init__(
        self,
        source: Source,
        graph: SignalPusher,
        *,
        predictor: Callable[[Capture], np.ndarray] | None = None,
        consumers: Sequence[TickConsumer] = (),
        sinks: Sequence[FrameSink] = (),
        options: LoopOptions | None = None,
        stop_event: threading.Event | None = None,
        capture_hooks: Sequence[Callable[[Capture], None]] = (),
    ) -> None:
        self.source = source
        self.graph = graph
        self.predictor = predictor
        self.consumers = list(consumers)
        self.sinks = list(sinks)
        self.options = options or LoopOptions()
        self.stop_event = stop_event or threading.Event()
        self.capture_hooks = list(capture_hooks)
        self.stats = LoopStats()
        self.recent_events: deque[LiveEvent] = deque(maxlen=50)
        self._last: Tick | None = None

    @property
    def paced(self) -> bool:
        """False for a file replayed at speed 0 (every frame, no waiting)."""
        return self.source.paced

    def tick_period_s(self) -> float:
        """Seconds between ticks."""
        hz = self.options.predict_hz or self.source.nominal_fps or _DEFAULT_HZ
        return 1.0 / hz

    def run(self) -> LoopStats:
        """Run until stopped, out of frames or past ``duration_s``; the counters."""
        st = self.stats
        period = self.tick_period_s()
        self.source.start()
        st.started_wall = time.perf_counter()
        deadline = st.started_wall
        try:
            while not self._should_stop():
                self._tick()
                for sink in self.sinks:
                    sink.tick(st)
                if self.paced:
                    deadline += period
                    wait = deadline - time.perf_counter()
                    if wait > 0:
                        self.stop_event.wait(wait)
                    else:
                        deadline = time.perf_counter()  # behind: do not burst to catch up
        finally:
            st.ended_wall = time.perf_counter()
        for sink in self.sinks:
            sink.tick(st, final=True)
        return st

    def _should_stop(self) -> bool:
        if self.stop_event.is_set() or self.source.done():
            return True
        limit = self.options.duration_s
        return limit is not None and time.perf_counter() - self.stats.started_wall >= limit

    def _tick(self) -> None:
        st = self.stats
        st.ticks += 1
        cap, skipped = self.source.poll()
        if cap is None:
            if self._last is not None and self.paced and not self.source.done():
                st.stale_ticks += 1
                last = self._last
                self._consume(Tick(last.time_s, last.index, True, last.pose, last.values))
            return
        st.frames_in += 1 + skipped
        st.frames_dropped += skipped
        tick, latency = self._predict(cap)
        st.frames_predicted += 1
        st.latencies_s.append(latency)
        if st.first_time_s is None:
            st.first_time_s = tick.time_s
        st.last_time_s = tick.time_s
        self._last = tick
        for hook in self.capture_hooks:
            hook(cap)
        for sink in self.sinks:
            sink.frame(tick, latency)
        self._consume(tick)

    def _predict(self, cap: Capture) -> tuple[Tick, float]:
        if cap.pose is not None:
            pose = np.asarray(cap.pose, np.float64)
        elif self.predictor is not None:
            pose = np.asarray(self.predictor(cap), np.float64)
        else:
            raise RuntimeError("a frame source needs a predictor (pose model)")
        out = self.graph.push(np.array([cap.time_s]), pose[None])
        values = {name: np.asarray(arr)[0] for name, arr in out.items()}
        latency = time.perf_counter() - cap.wall_s
        return Tick(cap.time_s, cap.index, False, pose, values), latency

    def _consume(self, tick: Tick) -> None:
        found: list[LiveEvent] = []
        for consumer in self.consumers:
            found.extend(consumer(tick))
        if found:
            self.stats.events += len(found)
            self.recent_events.extend(found)
            for sink in self.sinks:
                sink.events(found)
