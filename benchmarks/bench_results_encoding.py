"""Size and load time of ``results.json``: base64 arrays vs nested JSON lists.

Builds the :class:`~neuropose.schemas.JobResults` of a 10-minute, 30 fps
video with one person detected on every frame and the 33-joint BlazePose
skeleton (18,000 detections: poses3d, poses2d, confidence, boxes), writes it
with :func:`neuropose.io.write_model_atomic` (the compact base64 array
encoding NeuroPose uses) and, for comparison, with every array as nested
lists (the encoding the loader also accepts). Then loads each with
:func:`neuropose.io.load_model`, which validates every shape. Each load is
timed ``--repeat`` times; the median is reported, and the ratios compare the
two encodings within this one run.

Usage::

    .venv/bin/python benchmarks/bench_results_encoding.py [--minutes 10] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from neuropose.io import load_model, write_json_atomic, write_model_atomic
from neuropose.schemas import (
    CameraIntrinsics,
    JobResults,
    Provenance,
    Skeleton,
    VideoMetadata,
    VideoPredictions,
)


def make_results(minutes: float, fps: float = 30.0, joints: int = 33) -> JobResults:
    """One video, one person on every frame, random but realistic magnitudes."""
    rng = np.random.default_rng(0)
    f = int(minutes * 60 * fps)
    skeleton = Skeleton(name=f"bench_{joints}", joints=tuple(f"j{i}" for i in range(joints)))
    video = VideoPredictions(
        video="walk.mp4",
        skeleton=skeleton,
        metadata=VideoMetadata(
            width=1080, height=1920, decoded_frame_count=f, fps_reported=fps, duration_s=f / fps
        ),
        provenance=Provenance(
            model_name="blazepose-full",
            model_sha256="0" * 64,
            root_relative=True,
            intrinsics=CameraIntrinsics.from_fov(1080, 1920, 55.0),
            input_sha256="0" * 64,
            input_name="walk.mp4",
            created_at="2026-01-01T00:00:00Z",
        ),
        primary_track_id=0,
        frame_index=np.arange(f, dtype=np.int32),
        timestamp_s=np.arange(f) / fps,
        det_frame=np.arange(f, dtype=np.int32),
        track_id=np.zeros(f, np.int32),
        boxes=rng.uniform(0, 1000, (f, 5)).astype(np.float32),
        poses3d=rng.normal(0, 400, (f, joints, 3)).astype(np.float32),
        poses2d=rng.uniform(0, 1920, (f, joints, 2)).astype(np.float32),
        confidence=rng.uniform(0, 1, (f, joints)).astype(np.float32),
    )
    return JobResults(
        job_id="bench",
        created_at="2026-01-01T00:00:00Z",
        neuropose_version="bench",
        videos=(video,),
    )


def as_nested_lists(results: JobResults) -> dict[str, object]:
    """The same document with every encoded array replaced by nested lists."""
    doc = results.model_dump(mode="json")
    video = results.videos[0]
    for name in (
        "frame_index",
        "timestamp_s",
        "det_frame",
        "track_id",
        "boxes",
        "poses3d",
        "poses2d",
        "confidence",
    ):
        doc["videos"][0][name] = getattr(video, name).tolist()
    return doc


def timed_load(path: Path, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        load_model(path, JobResults)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    results = make_results(args.minutes)
    with tempfile.TemporaryDirectory() as tmp:
        compact = Path(tmp) / "results.json"
        nested = Path(tmp) / "results-lists.json"
        t0 = time.perf_counter()
        write_model_atomic(compact, results, indent=None)
        write_s = time.perf_counter() - t0
        write_json_atomic(nested, as_nested_lists(results), indent=None)
        assert load_model(nested, JobResults) == load_model(compact, JobResults)
        size_c, size_n = compact.stat().st_size, nested.stat().st_size
        load_c, load_n = timed_load(compact, args.repeat), timed_load(nested, args.repeat)
    frames = results.videos[0].num_frames
    print(
        f"{args.minutes:g} min at 30 fps, 1 person, 33 joints ({frames} frames); "
        f"median of {args.repeat} loads; compact write {write_s:.2f} s"
    )
    print()
    print("| encoding | file size (MB) | load + validate (s) |")
    print("|---|---|---|")
    print(f"| base64 arrays (written by NeuroPose) | {size_c / 1e6:.1f} | {load_c:.2f} |")
    print(f"| nested JSON lists (accepted on input) | {size_n / 1e6:.1f} | {load_n:.2f} |")
    print(f"| ratio lists / base64 | {size_n / size_c:.1f}x | {load_n / load_c:.1f}x |")


if __name__ == "__main__":
    main()
