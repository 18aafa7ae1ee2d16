"""Pose-model benchmark: ``blazepose-full`` ms per frame on the lab clip.

Measures, within one run and interleaved (so the load other jobs put on the
shared machine affects every configuration alike):

* ms per frame of ``model.predict`` over the 100 frames of
  ``../shared/media/lab_single_person/cam01.mp4`` (decoded once, beforehand)
  with ROI tracking on and off, with 1 and 2 TFLite threads;
* the mean cost of one detector and one landmark-model invocation
  (time inside ``TFLiteRunner.run``, measured during those same passes);
* how many times the detector ran.

The claim checked: with tracking, the per-frame cost stays close to one
landmark invocation (ratio printed as ``tracking / landmark``).

Usage::

    PYTHONPATH=. .venv/bin/python benchmarks/bench_models.py [--passes 3] [--write-docs]

``--write-docs`` replaces the "Models" section of ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import time
from pathlib import Path

import cv2
import numpy as np

from neuropose.config import load_settings
from neuropose.models import fetch_model
from neuropose.models.blazepose import DETECTOR_FILE, LANDMARK_FILE
from neuropose.models.blazepose_pipeline import BlazePoseModel
from neuropose.schemas import CameraIntrinsics

REPO = Path(__file__).resolve().parents[1]
CLIP = REPO.parent / "shared" / "media" / "lab_single_person" / "cam01.mp4"
DOCS = REPO / "docs" / "benchmarks.md"


def _frames() -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(CLIP))
    frames = []
    while True:
        ok, bgr = cap.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    if not frames:
        raise SystemExit(f"cannot read {CLIP}")
    return frames


class _Timed:
    """A TFLite runner proxy that accumulates the time spent in ``run``."""

    def __init__(self, runner) -> None:  # type: ignore[no-untyped-def]
        self._runner = runner
        self.output_shapes = runner.output_shapes
        self.input_shape = runner.input_shape
        self.seconds = 0.0
        self.calls = 0

    def run(self, x: np.ndarray) -> list[np.ndarray]:
        t = time.perf_counter()
        out = self._runner.run(x)
        self.seconds += time.perf_counter() - t
        self.calls += 1
        return out


def _model(d: Path, threads: int, tracking: bool) -> tuple[BlazePoseModel, _Timed, _Timed]:
    from neuropose.models.cache import combined_digest, sha256_file
    from neuropose.models.tflite import TFLiteRunner

    det = _Timed(TFLiteRunner(d / DETECTOR_FILE, threads))
    lm = _Timed(TFLiteRunner(d / LANDMARK_FILE, threads))
    digest = combined_digest({f: sha256_file(d / f) for f in (DETECTOR_FILE, LANDMARK_FILE)})
    model = BlazePoseModel(
        det, lm, name="blazepose-full", weights_sha256=digest, tracking=tracking,
        num_threads=threads,
    )  # fmt: skip
    return model, det, lm


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--passes", type=int, default=3)
    ap.add_argument("--write-docs", action="store_true")
    args = ap.parse_args()

    cache = Path(load_settings().settings.model_cache_dir)
    if os.environ.get("NEUROPOSE_MODEL_CACHE_DIR") is None and (REPO / ".cache/models").is_dir():
        cache = REPO / ".cache" / "models"
    fetch_model("blazepose-full", cache)
    d = cache / "blazepose-full"
    frames = _frames()
    h, w = frames[0].shape[:2]
    intr = CameraIntrinsics.from_fov(w, h, 55.0)

    models = {
        (threads, tracking): _model(d, threads, tracking)
        for threads in (1, 2)
        for tracking in (True, False)
    }
    for model, _, _ in models.values():  # warm-up
        model.reset()
        model.predict(frames[0][None], intr)
    per_frame: dict[tuple[int, bool], list[float]] = {k: [] for k in models}
    found: dict[tuple[int, bool], int] = {}
    det_calls: dict[tuple[int, bool], int] = {}
    for _m, det, lm in models.values():
        det.seconds = lm.seconds = 0.0
        det.calls = lm.calls = 0
    for _ in range(args.passes):
        for key, (model, _, _) in models.items():
            model.reset()
            calls0 = model.detector_calls
            n_found = 0
            t = time.perf_counter()
            for f in frames:
                n_found += model.predict(f[None], intr)[0].num_persons > 0
            per_frame[key].append(1000 * (time.perf_counter() - t) / len(frames))
            found[key] = n_found
            det_calls[key] = model.detector_calls - calls0
    invoke = {}
    for threads in (1, 2):
        det_t = models[(threads, False)][1]
        lm_t = models[(threads, True)][2]
        invoke[threads] = (1000 * det_t.seconds / det_t.calls, 1000 * lm_t.seconds / lm_t.calls)
    load = os.getloadavg()[0]
    rows = []
    for threads in (1, 2):
        det_ms, lm_ms = invoke[threads]
        on = statistics.median(per_frame[(threads, True)])
        off = statistics.median(per_frame[(threads, False)])
        rows.append(
            f"| {threads} | {det_ms:.1f} | {lm_ms:.1f} | {on:.1f} | {off:.1f} | "
            f"{off / on:.2f}x | {on / lm_ms:.2f} | {det_calls[(threads, True)]} / "
            f"{det_calls[(threads, False)]} | {found[(threads, True)]} / "
            f"{found[(threads, False)]} |"
        )
    table = "\n".join(
        [
            "| threads | detector invoke (ms) | landmark invoke (ms) | ms/frame tracking on | "
            "ms/frame tracking off | off / on | on / landmark | detector runs on / off | "
            "frames with a person on / off |",
            "|---|---|---|---|---|---|---|---|---|",
            *rows,
        ]
    )
    section = (
        "## Models\n\n"
        "`PYTHONPATH=. .venv/bin/python benchmarks/bench_models.py --write-docs` — "
        f"`blazepose-full` on `lab_single_person/cam01.mp4` ({len(frames)} frames, {w}x{h}), "
        "frames decoded beforehand, `model.predict` one frame at a time; median of "
        f"{args.passes} interleaved passes per configuration. Load average during the run: "
        f"{load:.1f} on {os.cpu_count()} cores (the machine is shared, so compare the ratios).\n\n"
        f"{table}\n\n"
        "Invocation costs are the mean time inside the TFLite runner during those passes. "
        "*on / landmark* is the per-frame cost with tracking divided by one landmark-model "
        "invocation: the rest is the affine crop, decoding and Python overhead. Without "
        "tracking the detector (letterbox resize of the full frame plus SSD decoding) runs on "
        "every frame.\n"
    )
    print(section)
    if args.write_docs:
        text = DOCS.read_text() if DOCS.exists() else "# Benchmarks\n"
        pattern = re.compile(r"## Models\n.*?(?=\n## |\Z)", re.S)
        text = (
            pattern.sub(section.rstrip("\n") + "\n", text)
            if pattern.search(text)
            else (text.rstrip("\n") + "\n\n" + section)
        )
        DOCS.write_text(text)


if __name__ == "__main__":
    main()
