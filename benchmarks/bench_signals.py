"""Benchmark: per-frame cost of the 10-node example signal spec pushed one frame at a time.

Run with ``PYTHONPATH=src .venv/bin/python benchmarks/bench_signals.py [--results R.json]
[--frames 1000] [--repeats 5]``.

The graph of ``examples/signals_knee.toml`` (angles, causal Butterworth,
velocity, speed, moving average, distance, normalisation) is pushed
``--frames`` single frames (what live mode does per camera frame); the
median and p95 of the per-push wall time are reported, with the same
frames computed in one :meth:`SignalGraph.run` call (per frame) as the
offline reference, in the same run. Poses come from ``--results`` (the
primary subject of a real results file, its frames repeated with
increasing timestamps until ``--frames`` are reached) or, without it, a
synthetic BlazePose random walk at 60 fps with a 4-frame detection gap.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np

from neuropose.signals import SignalGraph, load_spec
from neuropose.skeletons import BLAZEPOSE_33

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "signals_knee.toml"


def synthetic(n: int) -> tuple[np.ndarray, np.ndarray, tuple[str, ...], str]:
    rng = np.random.default_rng(0)
    t = np.arange(n) / 60.0
    poses = rng.normal(0, 300, (33, 3)) + np.cumsum(rng.normal(0, 4, (n, 33, 3)), axis=0)
    poses[40:44] = np.nan
    return t, poses, BLAZEPOSE_33.joints, "synthetic BlazePose random walk, 60 fps"


def real(path: Path, n: int) -> tuple[np.ndarray, np.ndarray, tuple[str, ...], str]:
    from neuropose.analyzer.load import load_trial

    trial = load_trial(path)
    reps = -(-n // trial.num_frames)
    span = trial.timestamps[-1] - trial.timestamps[0] + np.median(np.diff(trial.timestamps))
    t = np.concatenate([trial.timestamps + k * span for k in range(reps)])[:n]
    poses = np.concatenate([trial.poses] * reps)[:n]
    return t, poses, trial.skeleton.joints, f"{path.name} ({trial.num_frames} frames, repeated)"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--results", type=Path)
    ap.add_argument("--frames", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    t, poses, joints, what = (
        real(args.results, args.frames) if args.results else synthetic(args.frames)
    )
    spec = load_spec(EXAMPLE)
    graph = SignalGraph(spec, joints, live=True)
    graph.run(t[:50], poses[:50])  # warm-up: scipy import, first calls
    per_push: list[float] = []
    per_run: list[float] = []
    for _ in range(args.repeats):
        graph.reset()
        for i in range(len(t)):
            t0 = time.perf_counter()
            graph.push(t[i : i + 1], poses[i : i + 1])
            per_push.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        graph.run(t, poses)
        per_run.append((time.perf_counter() - t0) / len(t))
    ms = np.array(per_push) * 1e3
    med, p95 = float(np.median(ms)), float(np.percentile(ms, 95))
    offline = statistics.median(per_run) * 1e3
    print(f"spec: {EXAMPLE.name} ({len(spec.nodes)} nodes); data: {what}")
    print(f"{len(t)} single-frame pushes x {args.repeats} repeats")
    print(f"per push: median {med:.3f} ms, p95 {p95:.3f} ms, max {ms.max():.3f} ms")
    print(f"whole-array run: {offline:.4f} ms per frame ({med / offline:.0f}x cheaper per frame)")


if __name__ == "__main__":
    main()
