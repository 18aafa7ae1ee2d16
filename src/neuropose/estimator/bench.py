"""Measure the estimator end to end and the model alone, in the same run.

:func:`run_benchmark` runs one warm-up pass, then ``repeats`` measured passes
of :meth:`Estimator.process_video` (optionally also in sequential mode), and
measures the **model-only** throughput on frames decoded beforehand (the
same upright RGB frames, same batch size), so pipeline overhead is reported
as a ratio measured under the same machine load rather than guessed.

Figures
-------
* ``latency_ms``: per-frame time from the start of its decode to the end of
  its collection, over all measured passes (mean, p50, p95, p99).
* ``fps``: frames / wall time of each measured pass (mean, median, per pass).
* ``stages_ms_per_frame``: mean per-frame time inside each stage.
* ``model_only_fps``: frames / time of ``model.predict`` alone on
  ``model_only_frames`` pre-decoded frames after ``warmup_frames`` calls.
* ``overlap_ratio``: median end-to-end fps / median model-only fps.
* ``threaded_vs_sequential``: median threaded fps / median sequential fps.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from neuropose.estimator.pipeline import Estimator
from neuropose.models.base import PoseModel
from neuropose.schemas import CameraIntrinsics
from neuropose.video.reader import FrameReader

__all__ = ["measure_model_only", "run_benchmark"]


def measure_model_only(
    model: PoseModel,
    path: str | Path,
    *,
    frames: int = 60,
    warmup_frames: int = 10,
    batch_size: int = 1,
    max_bytes: int = 768 * 1024**2,
    fov_degrees: float = 55.0,
) -> dict[str, float]:
    """Model-only throughput on up to ``frames`` frames decoded beforehand.

    At most ``max_bytes`` of decoded frames are held. Returns ``frames``,
    ``seconds`` and ``fps``.
    """
    held: list[np.ndarray] = []
    with FrameReader(path) as reader:
        intr = CameraIntrinsics.from_fov(reader.info.width, reader.info.height, fov_degrees)
        for _, _, rgb in reader:
            held.append(rgb)
            if len(held) >= frames or sum(f.nbytes for f in held) >= max_bytes:
                break
    if not held:
        return {"frames": 0, "seconds": 0.0, "fps": 0.0}
    bs = max(1, min(batch_size, int(model.max_batch_size)))
    model.reset()
    for i in range(min(warmup_frames, len(held))):
        model.predict(held[i][None], intr)
    model.reset()
    t0 = time.perf_counter()
    for i in range(0, len(held), bs):
        chunk = held[i : i + bs]
        model.predict(chunk[0][None] if len(chunk) == 1 else np.stack(chunk), intr)
    dt = time.perf_counter() - t0
    return {"frames": len(held), "seconds": dt, "fps": len(held) / dt if dt > 0 else 0.0}


def _pct(values: np.ndarray, q: float) -> float:
    return float(np.percentile(values, q)) if values.size else 0.0


def _summarise(
    fps: list[float], lat: list[np.ndarray], stage_totals: dict[str, float], frames: int, rss: int
) -> dict[str, Any]:
    all_lat = np.concatenate(lat) * 1000.0 if lat else np.zeros(0)
    return {
        "fps_mean": float(np.mean(fps)),
        "fps_median": float(np.median(fps)),
        "fps_per_pass": fps,
        "latency_ms": {
            "mean": float(all_lat.mean()) if all_lat.size else 0.0,
            "p50": _pct(all_lat, 50),
            "p95": _pct(all_lat, 95),
            "p99": _pct(all_lat, 99),
        },
        "stages_ms_per_frame": {k: 1000.0 * v / max(frames, 1) for k, v in stage_totals.items()},
        "peak_rss_bytes": rss,
    }


class _Acc:
    def __init__(self) -> None:
        self.fps: list[float] = []
        self.lat: list[np.ndarray] = []
        self.stages: dict[str, float] = {}
        self.frames = 0
        self.rss = 0

    def add(self, est: Estimator, path: Path) -> None:
        vp = est.process_video(path)
        m = vp.metrics
        assert m is not None
        self.fps.append(m.fps)
        self.lat.append(est.last_frame_latencies_s)
        self.frames += m.frames
        self.rss = max(self.rss, m.peak_rss_bytes)
        for name, st in m.stages.items():
            self.stages[name] = self.stages.get(name, 0.0) + st.total_s

    def summary(self) -> dict[str, Any]:
        return _summarise(self.fps, self.lat, self.stages, self.frames, self.rss)


def run_benchmark(
    est: Estimator,
    path: str | Path,
    *,
    repeats: int = 3,
    warmup_frames: int = 10,
    model_only_frames: int = 60,
    compare_sequential: bool = False,
) -> dict[str, Any]:
    """Benchmark ``est`` on ``path`` (see the module docstring for every figure).

    Measured passes are interleaved — threaded, [sequential,] model-only,
    repeated ``repeats`` times — and ratios use medians, so a change of
    machine load during the run affects every side alike.
    """
    path = Path(path)
    if repeats < 1:
        raise ValueError("repeats must be >= 1")
    est.sequential = False
    est.process_video(path)  # warm-up pass (model graph, caches, page cache)
    threaded, sequential = _Acc(), _Acc()
    model_only: list[dict[str, float]] = []
    try:
        for _ in range(repeats):
            est.sequential = False
            threaded.add(est, path)
            if compare_sequential:
                est.sequential = True
                sequential.add(est, path)
            model_only.append(
                measure_model_only(
                    est.model,
                    path,
                    frames=model_only_frames,
                    warmup_frames=warmup_frames,
                    batch_size=est.effective_batch_size,
                    fov_degrees=est.fov_degrees,
                )
            )
    finally:
        est.sequential = False
    thr = threaded.summary()
    mo_fps = [m["fps"] for m in model_only]
    result: dict[str, Any] = {
        "input": path.name,
        "model": est.model.name,
        "batch_size": est.effective_batch_size,
        "prefetch_frames": est.prefetch_frames,
        "repeats": repeats,
        "threaded": thr,
        "model_only": {
            "frames": model_only[0]["frames"],
            "fps": float(np.median(mo_fps)),
            "fps_per_pass": mo_fps,
        },
    }
    result["overlap_ratio"] = thr["fps_median"] / result["model_only"]["fps"] if mo_fps[0] else 0.0
    if compare_sequential:
        seq = sequential.summary()
        result["sequential"] = seq
        result["threaded_vs_sequential"] = thr["fps_median"] / seq["fps_median"]
    return result
