"""Size and load time of ``results.json``: base64 arrays vs nested JSON lists, raw arrays.

Builds the :class:`~neuropose.schemas.JobResults` of a 10-minute, 30 fps
video with one person detected on every frame and the 33-joint BlazePose
skeleton (18,000 detections: poses3d, poses2d, confidence, boxes), writes it
with :func:`neuropose.io.write_model_atomic` (the compact base64 array
encoding NeuroPose uses) and, for comparison, with every array as nested
lists (the encoding the loader also accepts). Then loads each with
:func:`neuropose.io.load_model`, which validates every shape. Each load is
timed ``--repeat`` times; the median is reported, and the ratios compare the
two encodings within this one run.

Raw arrays (refinement on, the default): the body is a fixed 33-joint shape
(offsets within ±200 px / ±400 mm of its centre) moving with a random walk;
the raw landmarks are the refined ones plus jitter (2 px, 15 mm, 0.02
confidence, Gaussian) with the left and right joints exchanged on runs
covering a third of the frames (as BlazePose does on the lab's cam02). They
are written both as plain float32 (schema version 2) and as the rounded
delta of schema version 3 (:mod:`neuropose.schemas.raw_delta`).

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


def make_results(
    minutes: float, fps: float = 30.0, joints: int = 33, raw: bool = False
) -> JobResults:
    """One video, one person on every frame, realistic magnitudes (module docstring)."""
    rng = np.random.default_rng(0)
    f = int(minutes * 60 * fps)
    skeleton = Skeleton(name=f"bench_{joints}", joints=tuple(f"j{i}" for i in range(joints)))
    centre2 = 540 + np.cumsum(rng.normal(0, 2, (f, 1, 2)), axis=0)
    centre3 = np.cumsum(rng.normal(0, 5, (f, 1, 3)), axis=0)
    poses2d = (centre2 + rng.uniform(-200, 200, (1, joints, 2))).astype(np.float32)
    poses3d = (centre3 + rng.uniform(-400, 400, (1, joints, 3))).astype(np.float32)
    confidence = rng.uniform(0.5, 1, (f, joints)).astype(np.float32)
    extra: dict[str, np.ndarray] = {}
    if raw:
        mirror = np.arange(joints)
        mirror[1 : joints - 1 : 2], mirror[2:joints:2] = (
            mirror[2:joints:2],
            mirror[1 : joints - 1 : 2],
        )
        swapped = (np.arange(f) // 90) % 3 == 0  # runs of 3 s, a third of the frames

        def jitter(a: np.ndarray, sd: float) -> np.ndarray:
            out = a + rng.normal(0, sd, a.shape)
            out[swapped] = out[swapped][:, mirror]
            return out.astype(np.float32)

        extra = {
            "poses3d_raw": jitter(poses3d, 15.0),
            "poses2d_raw": jitter(poses2d, 2.0),
            "confidence_raw": np.clip(jitter(confidence, 0.02), 0, 1),
        }
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
        poses3d=poses3d,
        poses2d=poses2d,
        confidence=confidence,
        **extra,
    )
    return JobResults(
        job_id="bench",
        created_at="2026-01-01T00:00:00Z",
        neuropose_version="bench",
        videos=(video,),
    )


def as_v2_raw(results: JobResults) -> dict[str, object]:
    """The document with plain float32 raw arrays, as schema version 2 wrote them."""
    from neuropose.schemas.base import _encode

    doc = results.model_dump(mode="json")
    doc["schema_version"] = 2
    video = results.videos[0]
    for name in ("poses3d_raw", "poses2d_raw", "confidence_raw"):
        doc["videos"][0][name] = _encode(getattr(video, name))
    return doc


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
        with_raw = make_results(args.minutes, raw=True)
        v3, v2 = Path(tmp) / "raw-v3.json", Path(tmp) / "raw-v2.json"
        t0 = time.perf_counter()
        write_model_atomic(v3, with_raw, indent=None)
        write_v3 = time.perf_counter() - t0
        write_json_atomic(v2, as_v2_raw(with_raw), indent=None)
        size_v3, size_v2 = v3.stat().st_size, v2.stat().st_size
        load_v3, load_v2 = timed_load(v3, args.repeat), timed_load(v2, args.repeat)
        back = load_model(v3, JobResults).videos[0]
        src = with_raw.videos[0]
        err = {
            n: float(np.max(np.abs(getattr(back, n) - getattr(src, n))))
            for n in ("poses3d_raw", "poses2d_raw", "confidence_raw")
        }
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
    print(f"| + raw arrays as float32 (schema v2) | {size_v2 / 1e6:.1f} | {load_v2:.2f} |")
    print(
        f"| + raw arrays as rounded deltas (schema v3; write {write_v3:.2f} s) | "
        f"{size_v3 / 1e6:.1f} | {load_v3:.2f} |"
    )
    print()
    print(
        "largest raw difference after a v3 round trip: "
        + ", ".join(f"{k} {v:.4g}" for k, v in err.items())
    )


if __name__ == "__main__":
    main()
