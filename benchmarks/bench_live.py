"""Capture-to-signal latency of ``neuropose live`` on real-time replays of the lab clip.

Run::

    NEUROPOSE_MODEL_CACHE_DIR=... .venv/bin/python benchmarks/bench_live.py \\
        --results cam01.results.json --video ../shared/media/lab_single_person/cam01.mp4 \\
        --spec examples/signals_knee.toml [--repeats 3]

Scenarios (each run ``repeats`` times through :func:`neuropose.live.run_live`,
recording on, into a temporary data directory):

* ``results replay``: the clip's results file replayed at real time (speed 1):
  the latency is that of the loop and the signal graph alone (the frame is
  "captured" when its timestamp comes due on the wall clock);
* ``video + model, speed S``: the clip itself replayed at ``S`` times real
  time (``--video-speeds``, default 1 and 0.25) through the pose model
  (``--model``, default the ``default_model`` setting) and the graph: the
  latency includes decoding and inference, and frames the loop could not
  keep up with are dropped (counted). A file replay decodes every frame,
  skipped or not (H.264 frames depend on each other), so at speed 1 a
  1080x1920 60 fps clip is decode-bound on a busy 2-core machine; speed
  0.25 (15 frames/s) shows the model's own latency.

Latency = wall time from a frame's capture (its due time) to the moment its
signal values exist; median and 95th percentile over every predicted frame
of every repeat. Prints a Markdown table for ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

from neuropose.config import load_settings
from neuropose.live import LiveConfig, run_live


def _run(cfg: LiveConfig, repeats: int) -> dict[str, float]:
    settings = load_settings(flags={"num_threads": 2}).settings
    lat: list[float] = []
    pred = drop = stale = 0
    elapsed = 0.0
    for k in range(repeats):
        with tempfile.TemporaryDirectory() as tmp:
            res = run_live(
                LiveConfig(**{**cfg.__dict__, "data_dir": Path(tmp), "session": f"r{k}"}),
                settings,
            )
        st = res.stats
        lat += st.latencies_s
        pred += st.frames_predicted
        drop += st.frames_dropped
        stale += st.stale_ticks
        elapsed += st.elapsed_s
    arr = np.asarray(lat) * 1000.0
    return {
        "median_ms": float(np.median(arr)),
        "p95_ms": float(np.percentile(arr, 95)),
        "predicted": pred / repeats,
        "dropped": drop / repeats,
        "stale": stale / repeats,
        "elapsed_s": elapsed / repeats,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--results", type=Path, required=True)
    ap.add_argument("--video", type=Path)
    ap.add_argument("--spec", type=Path)
    ap.add_argument("--model")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--video-speeds", type=float, nargs="+", default=[1.0, 0.25])
    args = ap.parse_args()
    rows = []
    base = {"data_dir": Path("."), "spec": args.spec, "replay_speed": 1.0, "model": args.model}
    rows.append(
        ("results replay", _run(LiveConfig(source=str(args.results), **base), args.repeats))
    )
    for speed in args.video_speeds if args.video is not None else []:
        cfg = LiveConfig(source=str(args.video), **{**base, "replay_speed": speed})
        rows.append((f"video + model, speed {speed:g}", _run(cfg, args.repeats)))
    print("| scenario | frames predicted | dropped | stale ticks | wall s | "
          "latency median ms | latency p95 ms |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, r in rows:
        print(
            f"| {name} | {r['predicted']:.0f} | {r['dropped']:.0f} | {r['stale']:.0f} | "
            f"{r['elapsed_s']:.2f} | {r['median_ms']:.2f} | {r['p95_ms']:.2f} |"
        )


if __name__ == "__main__":
    main()
