"""Estimator before/after: the same measurements on two source trees, interleaved.

For a refactor that must not slow the estimator down. Each *round* runs one
fresh subprocess per tree (A then B, alternating which goes first), so
drifting load on the shared machine hits both alike; every figure is the
median over rounds of the per-round ratio B / A.

Measured in each subprocess (medians of ``--repeats`` passes after a warm-up):
frames per second (wall) and CPU milliseconds per frame (user + system of the
whole process, every thread). On a loaded machine the CPU figure is the
steadier of the two: it does not count time spent waiting for a core.

``pipeline``
    Synthetic 640x360, 200-frame clip, fake model costing nothing: the
    pipeline's own overhead (decode, queues, collect), threaded.
``overlap``
    Same clip, fake model sleeping 20 ms per frame (batch 1, prefetch 16),
    threaded: does the pipeline still hide decoding behind the model?
``blazepose``
    ``../shared/media/lab_single_person/cam01.mp4`` with ``blazepose-full``
    (2 TFLite threads, max 1 person), threaded and sequential (skipped when
    the clip or the cached weights are absent).

Usage::

    git archive BASE src | tar -x -C /tmp/base
    PYTHONPATH=. .venv/bin/python benchmarks/bench_estimator_ab.py \\
        --a /tmp/base/src --b src [--rounds 3] [--repeats 3] [--only pipeline,overlap]
        [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
CAM01 = REPO.parent / "shared" / "media" / "lab_single_person" / "cam01.mp4"
CACHE = REPO / ".cache" / "models"

# Runs in the child with PYTHONPATH=<tree>:<repo>; works with older trees too.
_CHILD = r"""
import json, resource, statistics, sys
from pathlib import Path
import cv2, numpy as np
from tests.fakes import FakeModel
from neuropose.estimator import Estimator

clip, cam01, cache, repeats = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], int(sys.argv[4])
only = set(sys.argv[5].split(","))
if not clip.exists():
    w = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"mp4v"), 30.0, (640, 360))
    for i in range(200):
        w.write(np.full((360, 640, 3), (7 * i) % 250, np.uint8))
    w.release()


def cpu_s():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def measure(res, name, est, path, n=repeats):
    est.process_video(path)  # warm-up
    fps, cpu = [], []
    for _ in range(n):
        c0 = cpu_s()
        vp = est.process_video(path)
        cpu.append(1000 * (cpu_s() - c0) / vp.num_frames)
        fps.append(vp.metrics.fps)
    res[name + "_fps"] = statistics.median(fps)
    res[name + "_cpu_ms_per_frame"] = statistics.median(cpu)


res = {}
if "pipeline" in only:
    measure(res, "pipeline", Estimator(FakeModel(), batch_size=8, prefetch_frames=16), clip)
if "overlap" in only:
    est = Estimator(FakeModel(cost_s=0.02), batch_size=1, prefetch_frames=16)
    measure(res, "overlap", est, clip)
bp = only & {"blazepose_threaded", "blazepose_sequential"}
if bp and cam01.exists() and (Path(cache) / "blazepose-full").is_dir():
    import neuropose.models as models
    from neuropose.config import load_settings

    load = getattr(models, "load_pose_model", None) or getattr(models, "load_model")
    settings = load_settings(
        flags={"model_cache_dir": cache, "num_threads": 2, "max_persons": 1}, environ={}
    ).settings
    est = Estimator(load("blazepose-full", settings), settings)
    for name in sorted(bp):
        est.sequential = name == "blazepose_sequential"
        measure(res, name, est, cam01)
print(json.dumps(res))
"""


def _run(tree: Path, clip: Path, repeats: int, only: str) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": f"{tree}{os.pathsep}{REPO}"}
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, str(clip), str(CAM01), str(CACHE), str(repeats), only],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"child for {tree} failed:\n{proc.stderr[-3000:]}")
    result: dict[str, float] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--a", type=Path, required=True, help="source tree A (before)")
    parser.add_argument("--b", type=Path, required=True, help="source tree B (after)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--only",
        default="pipeline,overlap,blazepose_threaded,blazepose_sequential",
        help="comma-separated measures",
    )
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench_ab_"))
    clip = tmp / "synthetic.mp4"
    a_runs: list[dict[str, float]] = []
    b_runs: list[dict[str, float]] = []
    for r in range(args.rounds):
        order = [("a", args.a), ("b", args.b)] if r % 2 == 0 else [("b", args.b), ("a", args.a)]
        for name, tree in order:
            result = _run(tree.resolve(), clip, args.repeats, args.only)
            (a_runs if name == "a" else b_runs).append(result)
        print(f"round {r + 1}: A {a_runs[-1]}\n         B {b_runs[-1]}", flush=True)
    out: dict[str, Any] = {"load_avg": os.getloadavg(), "measures": {}}
    print(f"\n{'measure':34s} {'A':>8s} {'B':>8s} {'B/A':>6s}  per-round B/A")
    for key in a_runs[0]:
        ratios = [b[key] / a[key] for a, b in zip(a_runs, b_runs, strict=True)]
        row = {
            "a": statistics.median(a[key] for a in a_runs),
            "b": statistics.median(b[key] for b in b_runs),
            "ratio_b_over_a": statistics.median(ratios),
            "per_round": ratios,
        }
        out["measures"][key] = row
        print(
            f"{key:34s} {row['a']:8.2f} {row['b']:8.2f} {row['ratio_b_over_a']:6.3f}  "
            + " ".join(f"{x:.3f}" for x in ratios)
        )
    print(f"load average at the end: {out['load_avg']}")
    if args.json:
        args.json.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
