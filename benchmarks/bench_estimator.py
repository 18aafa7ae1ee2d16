"""Estimator benchmarks: overlap, real-model throughput, memory bound, results size.

Every figure is a ratio measured within one run, so the load other jobs put
on the shared machine affects both sides alike.

Sections (``--only`` picks some)
--------------------------------
``overlap``
    Synthetic 640x360 clip, fake model sleeping 20 ms per frame: end-to-end
    fps vs model-only fps on pre-decoded frames (bar: ratio ≥ 0.90).
``blazepose``
    ``../shared/media/lab_single_person/cam01.mp4`` with ``blazepose-full``:
    threaded vs sequential fps, interleaved passes, for several thread
    splits (TFLite threads × FFmpeg decode threads × ``cv2.setNumThreads``),
    plus model-only fps and
    decode-only fps (bars: ≥ 50 fps; threaded ≥ 0.95 × sequential).
``rss``
    Peak RSS of a fresh process running the estimator on a clip and on the
    same clip looped 10× (ffmpeg ``-stream_loop``, stream copy)
    (bar: ratio ≤ 1.15).
``results``
    An 18,000-frame (10 min, 30 fps) synthetic video through the estimator
    with a 33-joint deterministic model: results file size and load +
    validate time (bars: ≤ 30 MB, ≤ 1.5 s).

Usage::

    PYTHONPATH=. .venv/bin/python benchmarks/bench_estimator.py [--only overlap,rss]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.fakes import FakeModel  # noqa: E402

from neuropose.estimator import Estimator  # noqa: E402
from neuropose.estimator.bench import measure_model_only, run_benchmark  # noqa: E402
from neuropose.models.base import FrameDetections  # noqa: E402
from neuropose.schemas import CameraIntrinsics, Skeleton  # noqa: E402
from neuropose.video.reader import FrameReader  # noqa: E402

MEDIA = REPO.parent / "shared" / "media"
CAM01 = MEDIA / "lab_single_person" / "cam01.mp4"


def _ffmpeg() -> str | None:
    exe = shutil.which("ffmpeg")
    if exe:
        return exe
    try:
        import imageio_ffmpeg

        return str(imageio_ffmpeg.get_ffmpeg_exe())
    except (ImportError, RuntimeError):
        return None


def _synthetic(path: Path, frames: int, size: tuple[int, int], fps: float = 30.0) -> Path:
    w, h = size
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
    rng = np.random.default_rng(0)
    base = rng.integers(0, 255, (h, w, 3), dtype=np.uint8)
    for i in range(frames):
        writer.write(np.roll(base, i * 3, axis=1))
    writer.release()
    return path


def bench_overlap(tmp: Path) -> dict[str, Any]:
    clip = _synthetic(tmp / "overlap.mp4", 200, (640, 360))
    est = Estimator(FakeModel(cost_s=0.02), batch_size=1, prefetch_frames=16)
    res = run_benchmark(est, clip, repeats=5, warmup_frames=5, model_only_frames=100)
    return {
        "end_to_end_fps": res["threaded"]["fps_median"],
        "model_only_fps": res["model_only"]["fps"],
        "ratio": res["overlap_ratio"],
        "stages_ms_per_frame": res["threaded"]["stages_ms_per_frame"],
    }


def _decode_fps(path: Path, threads: int | None) -> float:
    t0 = time.perf_counter()
    with FrameReader(path, decode_threads=threads) as reader:
        n = sum(1 for _ in reader)
    return n / (time.perf_counter() - t0)


def bench_blazepose(
    splits: list[tuple[int, int | None, int | None]], repeats: int
) -> list[dict[str, Any]]:
    from neuropose.config import load_settings
    from neuropose.models import load_pose_model

    if not CAM01.exists():
        return [{"skipped": f"{CAM01} absent"}]
    rows = []
    default_cv = cv2.getNumThreads()
    for tfl_threads, dec_threads, cv_threads in splits:
        cv2.setNumThreads(default_cv if cv_threads is None else cv_threads)
        settings = load_settings(
            flags={
                "model_cache_dir": str(REPO / ".cache" / "models"),
                "num_threads": tfl_threads,
                "max_persons": 1,
            },
            environ={},
        ).settings
        t0 = time.perf_counter()
        model = load_pose_model("blazepose-full", settings)
        load_s = time.perf_counter() - t0
        est = Estimator(model, settings, decode_threads=dec_threads)
        est.process_video(CAM01)  # warm-up
        thr: list[float] = []
        seq: list[float] = []
        stages: dict[str, list[float]] = {}
        for _ in range(repeats):  # interleaved so drifting machine load hits both alike
            for sequential, sink in ((False, thr), (True, seq)):
                est.sequential = sequential
                vp = est.process_video(CAM01)
                assert vp.metrics is not None
                sink.append(vp.metrics.fps)
                if not sequential:
                    for k, v in vp.metrics.stages.items():
                        stages.setdefault(k, []).append(1000 * v.total_s / vp.metrics.frames)
        est.sequential = False
        mo = measure_model_only(model, CAM01, frames=100, warmup_frames=10)
        rows.append(
            {
                "tflite_threads": tfl_threads,
                "decode_threads": dec_threads or "auto",
                "opencv_threads": cv_threads or "auto",
                "model_load_s": load_s,
                "threaded_fps": statistics.median(thr),
                "sequential_fps": statistics.median(seq),
                "threaded_vs_sequential": statistics.median(thr) / statistics.median(seq),
                "model_only_fps": mo["fps"],
                "decode_only_fps": _decode_fps(CAM01, dec_threads),
                "stages_ms_per_frame": {k: statistics.median(v) for k, v in stages.items()},
            }
        )
    return rows


def _rss_child(path: str) -> None:
    # A model slower than decoding keeps prefetch_frames frames in flight for the
    # whole run, in the short and the long clip alike: the bound is what is compared.
    est = Estimator(FakeModel(cost_s=0.03), batch_size=1, prefetch_frames=16)
    vp = est.process_video(path)
    assert vp.metrics is not None
    import resource

    print(
        json.dumps(
            {
                "frames": vp.num_frames,
                "peak_rss_sampled": vp.metrics.peak_rss_bytes,
                "ru_maxrss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
            }
        )
    )


def bench_rss(tmp: Path) -> dict[str, Any]:
    ff = _ffmpeg()
    if ff is None:
        return {"skipped": "no ffmpeg"}
    clip = CAM01 if CAM01.exists() else _synthetic(tmp / "tall.mp4", 100, (1080, 1920), 60.0)
    looped = tmp / "looped.mp4"
    subprocess.run(
        [ff, "-v", "error", "-y", "-stream_loop", "9", "-i", str(clip), "-c", "copy", str(looped)],
        check=True,
    )
    out = {}
    for name, path in (("clip", clip), ("looped_x10", looped)):
        proc = subprocess.run(
            [sys.executable, __file__, "--rss-child", str(path)],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )
        out[name] = json.loads(proc.stdout.strip().splitlines()[-1])
    # psutil samples of the child itself; ru_maxrss can carry the parent's peak
    # over fork+exec on Linux, so it is reported but not used for the ratio.
    out["ratio"] = out["looped_x10"]["peak_rss_sampled"] / out["clip"]["peak_rss_sampled"]
    return out


class _Skeleton33Model:
    """Deterministic 33-joint stand-in for blazepose-full (one person, cheap)."""

    name = "fake33"
    skeleton = Skeleton(name="fake_33", joints=tuple(f"j{i}" for i in range(33)))
    weights_sha256 = "0" * 64
    root_relative = True
    max_batch_size = 8
    options: dict[str, Any] = {}  # noqa: RUF012

    def reset(self) -> None:
        return None

    def predict(self, frames: np.ndarray, intrinsics: CameraIntrinsics) -> list[FrameDetections]:
        out = []
        for f in frames:
            m = float(f[::8, ::8].mean())
            j = np.arange(33, dtype=np.float32)
            p3 = np.stack([np.sin(j + m) * 300, np.cos(j * m) * 800, j * 3 + m], axis=1)
            p2 = p3[:, :2] / 10 + 100
            out.append(
                FrameDetections(
                    boxes=np.array([[10, 10, 40, 30, 0.9]], np.float32),
                    poses3d=p3[None].astype(np.float32),
                    poses2d=p2[None].astype(np.float32),
                    confidence=(np.cos(j + m)[None] * 0.5 + 0.5).astype(np.float32),
                )
            )
        return out


def bench_results(tmp: Path) -> dict[str, Any]:
    from neuropose.io import load_model, write_model_atomic
    from neuropose.schemas import JobResults

    clip = _synthetic(tmp / "ten_minutes.mp4", 18_000, (64, 48))
    t0 = time.perf_counter()
    vp = Estimator(_Skeleton33Model(), batch_size=8, prefetch_frames=32).process_video(clip)
    process_s = time.perf_counter() - t0
    results = JobResults(job_id="ten", created_at="x", neuropose_version="0", videos=(vp,))
    out = tmp / "results.json"
    write_model_atomic(out, results)
    loads = []
    for _ in range(3):
        t0 = time.perf_counter()
        loaded = load_model(out, JobResults)
        loads.append(time.perf_counter() - t0)
    assert loaded.videos[0].num_frames == 18_000
    return {
        "frames": vp.num_frames,
        "detections": int(vp.det_frame.shape[0]),
        "process_s": process_s,
        "size_mb": out.stat().st_size / 1e6,
        "load_validate_s_median": statistics.median(loads),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="overlap,blazepose,rss,results")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--splits",
        default="2:auto,2:1,1:1",
        help="TFLite threads:FFmpeg decode threads[:OpenCV threads] for the blazepose section",
    )
    parser.add_argument("--rss-child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rss_child:
        _rss_child(args.rss_child)
        return
    sections = set(args.only.split(","))
    report: dict[str, Any] = {"loadavg_start": os.getloadavg()}
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        if "overlap" in sections:
            report["overlap"] = bench_overlap(tmp)
            print(json.dumps({"overlap": report["overlap"]}), flush=True)
        if "blazepose" in sections:
            splits = []
            for spec in args.splits.split(","):
                a, b, *c = spec.split(":")
                cv = None if not c or c[0] == "auto" else int(c[0])
                splits.append((int(a), None if b == "auto" else int(b), cv))
            report["blazepose"] = bench_blazepose(splits, args.repeats)
            print(json.dumps({"blazepose": report["blazepose"]}), flush=True)
        if "rss" in sections:
            report["rss"] = bench_rss(tmp)
            print(json.dumps({"rss": report["rss"]}), flush=True)
        if "results" in sections:
            report["results"] = bench_results(tmp)
            print(json.dumps({"results": report["results"]}), flush=True)
    report["loadavg_end"] = os.getloadavg()
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
