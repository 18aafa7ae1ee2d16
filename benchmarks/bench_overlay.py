"""2D overlay rendering speed on the lab clip (``neuropose visualize --overlay``).

Run: ``.venv/bin/python benchmarks/bench_overlay.py [--repeat 3]``

Input: ``../shared/media/lab_single_person/cam01.mp4`` (1080x1920 portrait,
60 fps, 100 frames, H.264). Predictions are synthetic but drawn exactly like
real ones: the 33-joint BlazePose skeleton (35 bones), two tracks (subject +
bystander) on every frame, with per-joint confidence, so drawing cost equals
that of a real BlazePose result with two people. Times (median of
``--repeat``) of, on the same machine in the same run:

* ``decode only``: the estimator's frame reader, converted to BGR (the floor);
* ``decode + draw``: the same plus :func:`neuropose.visualize.draw_frame`;
* ``overlay (H.264 ultrafast)``: :func:`neuropose.visualize.render_overlay`,
  the full command path (decode, draw, encode through ffmpeg, atomic rename);
* ``overlay (H.264 veryfast)``: the same with a slower x264 preset;
* ``skeleton-only``: no decoding, neutral canvas + draw + encode.

Besides wall-clock time, CPU time (this process plus the ffmpeg child) per
frame is reported: on a shared, loaded machine wall time mostly measures the
other jobs, while ``2000 / CPU ms per frame`` bounds the frame rate two idle
cores could reach. Prints a Markdown table for ``docs/benchmarks.md``
(section "Visualize").
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from neuropose.schemas import CameraIntrinsics, Provenance, VideoMetadata, VideoPredictions
from neuropose.skeletons import BLAZEPOSE_33
from neuropose.video.reader import count_frames, probe_video
from neuropose.visualize.overlay import draw_frame, iter_upright_frames, render_overlay

REPO = Path(__file__).resolve().parents[1]
CLIP = REPO.parent / "shared" / "media" / "lab_single_person" / "cam01.mp4"


def synthetic_predictions(video: Path, n: int, w: int, h: int, fps: float) -> VideoPredictions:
    rng = np.random.default_rng(0)
    j = len(BLAZEPOSE_33.joints)
    det_frame, track, boxes, p2, conf = [], [], [], [], []
    base = {1: (w * 0.45, h * 0.35), 2: (w * 0.1, h * 0.2)}
    for f in range(n):
        for tid, (cx, cy) in base.items():
            scale = 0.5 if tid == 1 else 0.25
            pts = np.column_stack(
                [cx + rng.normal(0, 120 * scale, j), cy + rng.normal(0, 300 * scale, j)]
            )
            det_frame.append(f)
            track.append(tid)
            x0, y0 = pts.min(axis=0)
            x1, y1 = pts.max(axis=0)
            boxes.append([x0, y0, x1 - x0, y1 - y0, 0.9])
            p2.append(pts)
            conf.append(rng.uniform(0.2, 1.0, j))
    d = len(det_frame)
    return VideoPredictions(
        video=video.name,
        skeleton=BLAZEPOSE_33,
        metadata=VideoMetadata(
            width=w, height=h, decoded_frame_count=n, duration_s=n / fps, fps_reported=fps
        ),
        provenance=Provenance(
            model_name="synthetic",
            model_sha256="0" * 64,
            root_relative=True,
            intrinsics=CameraIntrinsics.from_fov(w, h, 55.0),
            input_sha256=hashlib.sha256(video.read_bytes()).hexdigest(),
            input_name=video.name,
            created_at="2026-01-01T00:00:00Z",
        ),
        primary_track_id=1,
        frame_index=np.arange(n, dtype=np.int32),
        timestamp_s=np.arange(n) / fps,
        det_frame=np.array(det_frame, np.int32),
        track_id=np.array(track, np.int32),
        boxes=np.array(boxes, np.float32),
        poses3d=np.zeros((d, j, 3), np.float32),
        poses2d=np.array(p2, np.float32),
        confidence=np.array(conf, np.float32),
    )


def median_time(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median wall time and median CPU time (this process + waited children, s)."""
    walls, cpus = [], []
    for _ in range(repeat):
        c0 = os.times()
        t0 = time.perf_counter()
        fn()
        walls.append(time.perf_counter() - t0)
        c1 = os.times()
        cpus.append(
            (c1.user - c0.user) + (c1.system - c0.system)
            + (c1.children_user - c0.children_user) + (c1.children_system - c0.children_system)
        )  # fmt: skip
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--video", type=Path, default=CLIP)
    args = ap.parse_args()
    video: Path = args.video
    fps, n = probe_video(video).fps_reported or 0.0, count_frames(video)
    first = next(iter_upright_frames(video))[1]
    h, w = first.shape[:2]
    vp = synthetic_predictions(video, n, w, h, fps)
    tmp = Path(tempfile.mkdtemp(prefix="bench_overlay_"))

    def decode() -> None:
        for _ in iter_upright_frames(video):
            pass

    def decode_draw() -> None:
        for i, frame in iter_upright_frames(video):
            draw_frame(frame, vp, i)

    rows = [
        ("decode only", decode),
        ("decode + draw", decode_draw),
        ("overlay (H.264 ultrafast)",
         lambda: render_overlay(vp, tmp / "a.mp4", video=video, preset="ultrafast")),
        ("overlay (H.264 veryfast)",
         lambda: render_overlay(vp, tmp / "b.mp4", video=video, preset="veryfast")),
        ("skeleton-only (H.264 ultrafast)",
         lambda: render_overlay(vp, tmp / "c.mp4", skeleton_only=True)),
    ]  # fmt: skip
    results = [(name, median_time(fn, args.repeat)) for name, fn in rows]
    floor = results[0][1][0]
    load = os.getloadavg()[0]
    print(f"clip: {video.name}, {w}x{h}, {n} frames at {fps:g} fps; repeats: {args.repeat}; "
          f"cpus: {os.cpu_count()}; load average at end: {load:.1f}")  # fmt: skip
    print()
    print("| step | wall (s) | frames/s (wall) | wall / decode-only | CPU ms per frame "
          "| 2-core bound (frames/s) |")  # fmt: skip
    print("|---|---|---|---|---|---|")
    for name, (t, cpu) in results:
        ms = 1000 * cpu / n
        print(f"| {name} | {t:.2f} | {n / t:.1f} | {t / floor:.2f}x | {ms:.1f} | {2000 / ms:.0f} |")
    sizes = {p.name: p.stat().st_size for p in tmp.glob("*.mp4")}
    print()
    print(f"output sizes (bytes): ultrafast {sizes.get('a.mp4')}, veryfast {sizes.get('b.mp4')}, "
          f"input {video.stat().st_size}")  # fmt: skip


if __name__ == "__main__":
    main()
