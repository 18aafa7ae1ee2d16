"""Every export format on a 10-minute, 30 fps BlazePose result.

Builds a ``results.json`` of one subject detected on 18,000 frames (the
synthetic standing subject of ``tests/export/synth.py`` with ±40 mm sway,
2 mm noise and a 3-frame gap every 1,000 frames, so the ``.trc``/``.mot``
gap policy has work to do), loads it with :func:`neuropose.export.load_tracks`
and writes each format on its own with :func:`neuropose.export.export_track`.
Each step is timed ``--repeat`` times (median); the first export of a format
also pays for importing its library (ezc3d, pynwb), which a long-running
daemon pays once. Ratios compare each export with loading the results in the
same run; the absolute seconds are printed for the ≤ 5 s goal on the 2-core
reference machine.

Usage::

    PYTHONPATH=. .venv/bin/python benchmarks/bench_export.py [--minutes 10] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from tests.export import synth

from neuropose.export import export_track, load_tracks, writer_names
from neuropose.export.base import MissingExtraError, get_writer
from neuropose.io import write_model_atomic
from neuropose.schemas import JobResults


def make_results(minutes: float) -> JobResults:
    """One video, the subject on every frame but a 3-frame gap every 1,000 frames."""
    n = int(minutes * 60 * 30)
    missing = tuple(f for k in range(500, n - 3, 1000) for f in (k, k + 1, k + 2))
    vp = synth.build(n=n, missing=missing)
    rng = np.random.default_rng(0)
    noisy = vp.poses3d + rng.normal(0, 2.0, vp.poses3d.shape).astype(np.float32)
    vp = vp.model_copy(update={"poses3d": noisy})
    return JobResults(
        job_id="bench", created_at="2026-01-01T00:00:00Z", neuropose_version="0", videos=(vp,)
    )


def timed(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "results.json"
        write_model_atomic(path, make_results(args.minutes))
        load_s = timed(lambda: load_tracks(path), args.repeat)
        (track,) = load_tracks(path)
        print(f"{track.num_frames} frames x 33 joints; load_tracks {load_s:.2f} s (= 1.00)")
        print(f"{'format':10} {'first s':>8} {'median s':>9} {'x load':>7} {'MB':>7}")
        for name in writer_names():
            try:
                get_writer(name).check()
            except MissingExtraError as exc:
                print(f"{name:10} skipped: {exc.message}")
                continue
            out = Path(tmp) / name
            first = timed(lambda n=name, o=out: export_track(track, o, n), 1)
            med = timed(lambda n=name, o=out: export_track(track, o, n), args.repeat)
            size = sum(p.stat().st_size for p in out.iterdir() if p.suffix != ".json") / 1e6
            print(f"{name:10} {first:8.2f} {med:9.2f} {med / load_s:7.2f} {size:7.1f}")
        for label, fn in (
            ("to_dataframe", lambda: track.to_dataframe()),
            ("to_xarray", lambda: track.to_xarray()),
        ):
            med = timed(fn, args.repeat)
            print(f"{label:12} {med:15.2f} {med / load_s:7.2f}")


if __name__ == "__main__":
    main()
