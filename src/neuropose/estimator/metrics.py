"""Per-stage timing and process resource accounting for one estimator run.

Stage timings are recorded per unit of work: ``decode`` per frame (read,
colour conversion, rotation), ``infer`` per model call (one batch),
``collect`` per model call's worth of detections (tracking, table building,
callbacks). Durations are seconds of wall time measured with
:func:`time.perf_counter` inside the stage, so waiting on queues is excluded.

Peak RSS is the largest resident set size sampled (``psutil``) at the start,
after every collected batch and at the end of the run; mean CPU % is the
process CPU time (user + system, all threads) divided by wall time, in
percent of one core (200 % = both cores of a 2-core machine busy).
"""

from __future__ import annotations

import threading
import time

import numpy as np
import psutil

from neuropose.schemas import PerformanceMetrics, StageTiming

__all__ = ["ResourceMeter", "StageClock", "build_metrics"]


class StageClock:
    """Thread-safe accumulator of durations for one stage."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._samples: list[float] = []

    def add(self, seconds: float) -> None:
        """Record one unit of work that took ``seconds``."""
        with self._lock:
            self._samples.append(seconds)

    def summary(self) -> StageTiming:
        """count, total, mean, p50, p95 of the recorded durations (zeros when empty)."""
        with self._lock:
            arr = np.asarray(self._samples, np.float64)
        if arr.size == 0:
            return StageTiming(count=0, total_s=0.0, mean_s=0.0, p50_s=0.0, p95_s=0.0)
        return StageTiming(
            count=int(arr.size),
            total_s=float(arr.sum()),
            mean_s=float(arr.mean()),
            p50_s=float(np.percentile(arr, 50)),
            p95_s=float(np.percentile(arr, 95)),
        )


class ResourceMeter:
    """Samples this process's RSS and CPU time across a run."""

    def __init__(self) -> None:
        self._proc = psutil.Process()
        self.peak_rss = 0
        self._t0 = time.perf_counter()
        self._cpu0 = self._cpu()
        self.sample()

    def _cpu(self) -> float:
        t = self._proc.cpu_times()
        return float(t.user + t.system)

    def sample(self) -> None:
        """Record the current RSS if it is the largest seen."""
        rss = int(self._proc.memory_info().rss)
        if rss > self.peak_rss:
            self.peak_rss = rss

    def cpu_percent(self) -> float:
        """Mean CPU use since construction, percent of one core."""
        wall = time.perf_counter() - self._t0
        return max(0.0, 100.0 * (self._cpu() - self._cpu0) / wall) if wall > 0 else 0.0


def build_metrics(
    clocks: dict[str, StageClock],
    *,
    frames: int,
    wall_s: float,
    meter: ResourceMeter,
    mode: str,
    model_load_s: float = 0.0,
    device: str = "cpu",
) -> PerformanceMetrics:
    """Assemble :class:`PerformanceMetrics`; the bottleneck is the stage with most total time."""
    meter.sample()
    stages = {name: clock.summary() for name, clock in clocks.items()}
    bottleneck = max(stages, key=lambda n: stages[n].total_s) if stages else ""
    return PerformanceMetrics(
        stages=stages,
        bottleneck=bottleneck,
        frames=frames,
        wall_s=wall_s,
        fps=frames / wall_s if wall_s > 0 else 0.0,
        model_load_s=model_load_s,
        peak_rss_bytes=meter.peak_rss,
        cpu_percent_mean=meter.cpu_percent(),
        device=device,
        mode=mode,
    )
