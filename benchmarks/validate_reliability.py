"""Validate the monocular reliability flags against two-view triangulation (lab trial).

Run (the trial file comes from the real model on both views)::

    neuropose process --calibration ../shared/media/lab_single_person/Calib.qca.txt \\
        --max-persons 1 ../shared/media/lab_single_person/cam0{1,2}.mp4 -o trial.json
    PYTHONPATH=src .venv/bin/python benchmarks/validate_reliability.py trial.json [--fit]

For each view (cam01, cam02) and named angle: the monocular angle (the view's
own 3D) is compared frame by frame with the angle of the triangulated 3D;
error = |mono − triangulated| (deg). A frame has a *large error* above
``--large`` (15°). Printed per angle: RMS error over all frames, over unflagged
frames, the recall of the flags (large-error frames flagged) and their
precision (flagged frames with a large error), then the pooled figures.
``--fit`` first searches the thresholds on cam01 only (best pooled F1 among
those flagging at most 20 % of the angle-frames) and
prints them; the figures are then reported for both views with the package
defaults (:class:`neuropose.analyzer.reliability.Thresholds`).
"""

from __future__ import annotations

import argparse
import itertools
import json
from dataclasses import replace
from pathlib import Path

import numpy as np

from neuropose.analyzer.angles import ANGLE_NAMES, compute_angle, estimate_up_axis
from neuropose.analyzer.load import TRIANGULATED, load_results, load_trial
from neuropose.analyzer.reliability import (
    Thresholds,
    angle_reliability,
    evidence_from_predictions,
    ingredient_ratios,
)

#: The fit may flag at most this fraction of the fitting view's angle-frames: a flag
#: that removes most of the data is no use, and cam01's large errors are mostly a
#: constant bias that no per-frame flag can catch.
MAX_FLAGGED_FIT = 0.2
UNIT = Thresholds(min_confidence=0.0, max_length_dev=1.0, max_jitter_deg=1.0, max_out_of_plane=1.0)


def angles_of(trial) -> dict[str, np.ndarray]:  # type: ignore[no-untyped-def]
    up = estimate_up_axis(trial)
    return {n: compute_angle(trial, n, up=up) for n in ANGLE_NAMES}


def view_data(results, video: str, tri: dict[str, np.ndarray]):  # type: ignore[no-untyped-def]
    """Per angle: (|error| (F,), raw ingredient values, evidence, mono angle, signed error)."""
    vp = results.video(video)
    ev = evidence_from_predictions(vp)
    mono = angles_of(load_trial(results, video=video))
    out = {}
    for n in ANGLE_NAMES:
        err = np.abs(mono[n] - tri[n])
        out[n] = (err, ingredient_ratios(ev, n, mono[n], UNIT), ev, mono[n])
    return out


def flags_from_raw(raw: dict[str, np.ndarray], th: Thresholds, plausible: np.ndarray) -> np.ndarray:
    lim = {
        "confidence": 1.0 - th.min_confidence,
        "length": th.max_length_dev,
        "jitter": th.max_jitter_deg,
        "out_of_plane": th.max_out_of_plane,
    }
    f = ~plausible
    for k, v in raw.items():
        f |= (v > 0) if k == "swap" else (np.nan_to_num(v, nan=0.0) >= lim[k])
    return f


def fmt(v: object) -> str:
    return "–" if v is None else (f"{v:.2f}" if isinstance(v, float) else str(v))


def scores(err: np.ndarray, flagged: np.ndarray, large: float) -> dict[str, float | int | None]:
    ok = np.isfinite(err)
    e, fl = err[ok], flagged[ok]
    big = e > large
    tp = int((big & fl).sum())
    return {
        "frames": int(ok.sum()),
        "rms_all": float(np.sqrt(np.mean(e**2))) if e.size else None,
        "rms_unflagged": float(np.sqrt(np.mean(e[~fl] ** 2))) if (~fl).any() else None,
        "large": int(big.sum()),
        "flagged": int(fl.sum()),
        "caught": tp,
        "recall": tp / int(big.sum()) if big.any() else None,
        "precision": tp / int(fl.sum()) if fl.any() else None,
    }


def pooled(data, th: Thresholds, large: float) -> dict[str, float | int | None]:  # type: ignore[no-untyped-def]
    errs, fls = [], []
    for err, raw, ev, _ in data.values():
        errs.append(err)
        fls.append(flags_from_raw(raw, th, ev.plausible))
    return scores(np.concatenate(errs), np.concatenate(fls), large)


def fit(data, large: float) -> Thresholds:  # type: ignore[no-untyped-def]
    best, best_th = -1.0, Thresholds()
    grid = itertools.product(
        (0.3, 0.5, 0.7, 0.8, 0.9), (0.1, 0.15, 0.2, 0.3), (2.0, 3.0, 4.0, 6.0, 8.0),
        (0.6, 0.7, 0.8, 0.9, 1.01),
    )  # fmt: skip
    for c, ln, j, o in grid:
        th = replace(Thresholds(), min_confidence=c, max_length_dev=ln, max_jitter_deg=j,
                     max_out_of_plane=o)  # fmt: skip
        s = pooled(data, th, large)
        if s["flagged"] > MAX_FLAGGED_FIT * s["frames"]:
            continue
        r, p = s["recall"] or 0.0, s["precision"] or 0.0
        f1 = 2 * r * p / (r + p) if r + p else 0.0
        if f1 > best:
            best, best_th = f1, th
    return best_th


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("trial", type=Path)
    ap.add_argument("--large", type=float, default=15.0)
    ap.add_argument("--fit", action="store_true")
    ap.add_argument("--json", type=Path, help="also write every figure here")
    ap.add_argument("--thresholds", help="JSON of Thresholds fields to use instead of the defaults")
    args = ap.parse_args()
    results = load_results(args.trial)
    tri = angles_of(load_trial(results, video=TRIANGULATED))
    views = {v.video: view_data(results, v.video, tri) for v in results.videos}
    th = Thresholds(**json.loads(args.thresholds)) if args.thresholds else Thresholds()
    if args.fit:
        first = next(iter(views))
        print(f"thresholds fitted on {first}: {fit(views[first], args.large)}")
    out: dict[str, dict[str, object]] = {}
    print(f"thresholds used: {th}")
    head = "view | angle | frames | RMS all | RMS unflagged | large | flagged | recall | precision"
    print(f"| {head} | verdict |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for video, data in views.items():
        out[video] = {}
        for n, (err, raw, ev, mono) in data.items():
            s = scores(err, flags_from_raw(raw, th, ev.plausible), args.large)
            rel = angle_reliability(ev, n, mono, th)
            out[video][n] = {**s, "verdict": rel.verdict, "oop": rel.median_out_of_plane}
            print(f"| {video} | {n} | {s['frames']} | {fmt(s['rms_all'])} | "
                  f"{fmt(s['rms_unflagged'])}"
                  f" | {s['large']} | {s['flagged']} | {fmt(s['recall'])} | {fmt(s['precision'])}"
                  f" | {rel.verdict} (oop {fmt(rel.median_out_of_plane)}) |")  # fmt: skip
        p = pooled(data, th, args.large)
        out[video]["pooled"] = p
        print(f"| {video} | **pooled** | {p['frames']} | {fmt(p['rms_all'])} | "
              f"{fmt(p['rms_unflagged'])} | {p['large']} | {p['flagged']} | {fmt(p['recall'])} | "
              f"{fmt(p['precision'])} | |")  # fmt: skip
    bands: dict[str, list[float]] = {}
    for data in views.values():
        for n, (err, raw, ev, _) in data.items():
            keep = np.isfinite(err) & ~flags_from_raw(raw, th, ev.plausible)
            bands.setdefault(n.removeprefix("left_").removeprefix("right_"), []).extend(err[keep])
    print("expected error (RMS on unflagged frames, both views and sides):")
    for kind, e in bands.items():
        print(f"  {kind}: {np.sqrt(np.mean(np.square(e))):.1f} deg ({len(e)} frames)")
    out["bands"] = {k: float(np.sqrt(np.mean(np.square(e)))) for k, e in bands.items()}
    if args.json:
        args.json.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
