"""Triangulation cost of a long multi-camera trial vs the estimator's cost on the same videos.

Run: ``PYTHONPATH=src .venv/bin/python benchmarks/bench_triangulation.py [--minutes 10]``

* Triangulation: a BlazePose-33 body walking on the spot (treadmill) for
  ``minutes`` at ``fps``, projected into ``cameras`` virtual cameras with
  mild distortion and 2 px noise, then :func:`triangulate_views` (swap
  detection, consensus, leave-one-out QC) in 1-minute chunks (memory stays
  below ~0.5 GB; a chunk border only restarts the swap tie-breaking).
* Estimator: ``blazepose-full`` on the lab's ``cam01.mp4`` (1080x1920,
  100 frames, after one warm-up pass), end-to-end wall time per frame
  including decode.

The ratio ``triangulation time / (estimator time per frame x frames x
cameras)`` is what multi-view costs on top of running the estimator on
every view (goal: <= 10 %). Both are measured in the same run on the same
machine. Prints a Markdown table for ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from neuropose.multiview.geometry import mirror_permutation
from neuropose.multiview.synthetic import project_views, ring_rig, walking_motion
from neuropose.multiview.triangulate import triangulate_views
from neuropose.skeletons import BLAZEPOSE_33

REPO = Path(__file__).resolve().parents[1]
CAM01 = REPO / ".." / "shared" / "media" / "lab_single_person" / "cam01.mp4"


def bench_triangulation(minutes: float, fps: float, cameras: int) -> tuple[float, int, float]:
    """Seconds to triangulate the whole trial, its frame count, median 3D error (mm)."""
    n = int(minutes * 60 * fps)
    chunk = int(60 * fps)
    rig = ring_rig(cameras)
    perm = mirror_permutation(BLAZEPOSE_33.joints)
    rng = np.random.default_rng(0)
    total, errs = 0.0, []
    for start in range(0, n, chunk):
        m = min(chunk, n - start)
        truth = walking_motion(m, fps, speed=0.0)
        px = project_views(truth, rig.cameras, noise_px=2.0, rng=rng)
        conf = np.full(px.shape[:3], 0.9)
        t0 = time.perf_counter()
        rec = triangulate_views(px, conf, rig.cameras, perm)
        total += time.perf_counter() - t0
        errs.append(float(np.nanmedian(np.linalg.norm(rec.points_mm - truth, axis=-1))))
    return total, n, float(np.median(errs))


def bench_estimator() -> float | None:
    """Seconds per frame of blazepose-full on cam01.mp4 (None when absent)."""
    from neuropose.config import load_settings
    from neuropose.estimator import Estimator
    from neuropose.models import load_pose_model

    if not CAM01.exists():
        return None
    settings = load_settings(
        flags={"model_cache_dir": str(REPO / ".cache" / "models"), "max_persons": 1},
        environ={},
    ).settings
    est = Estimator(load_pose_model("blazepose-full", settings), settings)
    est.process_video(CAM01)  # warm-up
    t0 = time.perf_counter()
    vp = est.process_video(CAM01)
    return (time.perf_counter() - t0) / vp.num_frames


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--fps", type=float, default=60.0)
    ap.add_argument("--cameras", type=int, default=4)
    args = ap.parse_args()
    est_s = bench_estimator()
    tri_s, n, err = bench_triangulation(args.minutes, args.fps, args.cameras)
    print("| quantity | value |")
    print("|---|---|")
    print(f"| trial | {args.minutes:g} min, {args.fps:g} fps, {args.cameras} cameras, {n} frames |")
    print(f"| triangulation per trial frame ({args.cameras} views) | {1e3 * tri_s / n:.2f} ms |")
    print(f"| median 3D error (2 px noise) | {err:.1f} mm |")
    if est_s is None:
        print("| estimator | skipped: cam01.mp4 absent |")
        return
    print(f"| estimator per frame per view (blazepose-full, 1080x1920) | {1e3 * est_s:.1f} ms |")
    ratio = tri_s / (est_s * n * args.cameras)
    print(f"| triangulation / estimator on all views | {100 * ratio:.1f} % (goal <= 10 %) |")


if __name__ == "__main__":
    main()
