"""Benchmark: per-tick cost of live classification against the signal graph's per-frame push.

Run with ``PYTHONPATH=src .venv/bin/python benchmarks/bench_classify.py [--frames 600]
[--win 1.0] [--fps 60]``.

A BlazePose-33 random walk at ``--fps`` (synthetic; a trained model is built on
the fly from two labelled halves of it) is fed frame by frame to
:class:`neuropose.classify.online.OnlineClassifier` with the default window
statistics (60 features over the last ``--win`` seconds of frames) and, in the
same run, to the 10-node ``examples/signals_knee.toml`` graph pushed one frame
at a time (what live mode does anyway). Reported: median and p95 per tick of
each, and their ratio — a ratio within one run, never an absolute speed claim.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from neuropose.classify.models import LogisticModel
from neuropose.classify.online import OnlineClassifier
from neuropose.classify.pipeline import build_pipeline
from neuropose.classify.records import FeatureSource, ModelProvenance, WindowParams
from neuropose.classify.store import load_classifier, save_classifier
from neuropose.signals import SignalGraph, load_spec
from neuropose.skeletons import BLAZEPOSE_33

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "signals_knee.toml"


def _walk(n: int, fps: float) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    t = np.arange(n) / fps
    poses = rng.normal(0, 300, (33, 3)) + np.cumsum(rng.normal(0, 4, (n, 33, 3)), axis=0)
    return t, poses


def _model(folder: Path, t: np.ndarray, poses: np.ndarray, win: float) -> Path:
    fset = build_pipeline().feature_set(BLAZEPOSE_33)
    k = int(win * (1 / np.median(np.diff(t))))
    X = np.vstack([fset.vector(t[i : i + k], poses[i : i + k]) for i in range(0, len(t) - k, k)])
    y = (np.arange(len(X)) >= len(X) // 2).astype(int)
    path = folder / "bench.npz"
    prov = ModelProvenance(
        recipe="logistic",
        model_format="npz",
        model_sha256="",
        skeleton=BLAZEPOSE_33.name,
        joint_names=BLAZEPOSE_33.joints,
        features=FeatureSource(kind="window_stats", sha256=fset.sha256, feature_names=fset.names),
        window=WindowParams(win_s=win, hop_s=win / 2, max_missing=0.2),
        class_names=("a", "b"),
        seed=0,
        versions={},
        labels_sha256="0" * 64,
        training_inputs=(),
        windows={"total": 0},
        created_at="2026-01-01T00:00:00Z",
    )
    save_classifier(path, LogisticModel.fit(X, y, 2), prov)
    return path


def _per_tick(fn, t: np.ndarray, poses: np.ndarray) -> list[float]:  # type: ignore[no-untyped-def]
    out = []
    for i in range(len(t)):
        t0 = time.perf_counter()
        fn(i)
        out.append((time.perf_counter() - t0) * 1000)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=600)
    ap.add_argument("--win", type=float, default=1.0)
    ap.add_argument("--fps", type=float, default=60.0)
    args = ap.parse_args()
    t, poses = _walk(args.frames, args.fps)
    with tempfile.TemporaryDirectory() as tmp:
        online = OnlineClassifier(
            load_classifier(_model(Path(tmp), t, poses, args.win)), BLAZEPOSE_33
        )
        clf = _per_tick(lambda i: online.predict(float(t[i]), poses[i]), t, poses)
    graph = SignalGraph(load_spec(EXAMPLE), BLAZEPOSE_33)
    sig = _per_tick(lambda i: graph.push(t[i : i + 1], poses[i : i + 1]), t, poses)
    warm = int(args.win * args.fps) + 1  # ticks before the first full window do no work
    clf, sig = clf[warm:], sig[warm:]

    def p95(x: list[float]) -> float:
        return float(np.percentile(x, 95))

    print(f"{len(clf)} ticks, window {args.win} s at {args.fps:g} fps "
          f"({int(args.win * args.fps)} frames, 60 features)")  # fmt: skip
    print(f"classifier per tick: median {statistics.median(clf):.2f} ms, p95 {p95(clf):.2f} ms")
    print(f"signal graph push:   median {statistics.median(sig):.2f} ms, p95 {p95(sig):.2f} ms")
    print(
        f"ratio classifier / graph (median): {statistics.median(clf) / statistics.median(sig):.1f}"
    )


if __name__ == "__main__":
    main()
