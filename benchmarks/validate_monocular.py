"""Validate left/right swap correction and smoothing on the two-camera lab clip.

Usage (from the repository root, after ``neuropose process`` of both clips)::

    neuropose process ../shared/media/lab_single_person/cam0{1,2}.mp4 -o OUT/
    python benchmarks/validate_monocular.py OUT/cam01.results.json OUT/cam02.results.json

Ground truth for swaps: each frame's 2D landmarks of cam01 and cam02 are
triangulated with a minimal DLT using ``Calib.qca.txt`` (Qualisys: focal
length and principal point in 1/64 pixel; rotation ``R`` world->camera with
the y and z axes flipped to OpenCV's convention; camera centre in mm). A
cam02 body part (arms or legs, with the shoulders/hips) counts as swapped
when exchanging its left/right labels lowers the median reprojection error
of its bilateral joints, with cam01 as the reference labelling. Distortion
is ignored (about 5 px median reprojection error of label-free points).

Prints, for the raw and the refined landmarks: swapped frames corrected and
wrongly relabelled, 3D jitter (median over frames and joints of
``|p[t] - (p[t-1] + p[t+1]) / 2|``, mm), forearm-length coefficient of
variation, and the cam01-cam02 angle RMS difference (6 Hz Butterworth, as
``tests/analyzer/test_real.py``).
"""

from __future__ import annotations

import argparse
import json
import sys
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import numpy as np

from neuropose.analyzer import ANGLE_NAMES, butterworth, compute_angle, load_trial
from neuropose.io import load_model
from neuropose.schemas import JobResults, VideoPredictions
from neuropose.skeletons import lower_body_mask, mirror_permutation

CALIB = Path("../shared/media/lab_single_person/Calib.qca.txt")
GROUND_TRUTH_NOTE = (
    "cam02.mp4 frames (0-based) whose raw blazepose-full labels are left/right swapped, "
    "per body part: the swapped labelling reprojects better when triangulated with cam01 "
    "(benchmarks/validate_monocular.py, minimal DLT with Calib.qca.txt). cam01 is the "
    "reference labelling."
)


def projection_matrices(calib: Path) -> dict[str, np.ndarray]:
    """3x4 projection matrices (pixels, world mm) of the cameras in a Qualisys .qca.txt."""
    out = {}
    for cam in ET.parse(calib).getroot().iter("camera"):
        t, i = cam.find("transform").attrib, cam.find("intrinsic").attrib
        r = np.array([[float(t[f"r{a}{b}"]) for b in "123"] for a in "123"])
        c = np.array([float(t[k]) for k in "xyz"])
        k = np.array(
            [
                [float(i["focalLengthU"]) / 64, 0, float(i["centerPointU"]) / 64],
                [0, float(i["focalLengthV"]) / 64, float(i["centerPointV"]) / 64],
                [0, 0, 1],
            ]
        )
        rw = np.diag([1.0, -1.0, -1.0]) @ r
        out[cam.attrib["serial"]] = k @ np.hstack([rw, (-rw @ c)[:, None]])
    return out


def reprojection_error(ps: list[np.ndarray], xs: list[np.ndarray]) -> float:
    """Summed reprojection error (px) of one point seen at ``xs`` by cameras ``ps`` (DLT)."""
    a = []
    for p, (x, y) in zip(ps, xs, strict=True):
        a += [x * p[2] - p[0], y * p[2] - p[1]]
    point = np.linalg.svd(np.array(a))[2][-1]
    err = 0.0
    for p, x in zip(ps, xs, strict=True):
        h = p @ point
        err += float(np.linalg.norm(h[:2] / h[2] - x))
    return err


def dense2d(vp: VideoPredictions, raw: bool) -> np.ndarray:
    _, rows = vp.track()
    src = vp.poses2d_raw if raw and vp.poses2d_raw is not None else vp.poses2d
    out = np.full((vp.num_frames, len(vp.skeleton.joints), 2), np.nan)
    out[rows >= 0] = src[rows[rows >= 0]]
    return out


def ground_truth(a: VideoPredictions, b: VideoPredictions) -> dict[str, np.ndarray]:
    """Per part, per frame: True where cam02's raw labels are left/right swapped."""
    ps = projection_matrices(CALIB)
    p1, p2 = ps["cam01"], ps["cam02"]
    x1, x2 = dense2d(a, raw=True), dense2d(b, raw=True)
    perm = mirror_permutation(b.skeleton)
    lower = lower_body_mask(b.skeleton)
    names = b.skeleton.joints
    parts = {
        "upper": [j for j in range(len(names)) if perm[j] != j and not lower[j] and j > 10],
        "lower": [j for j in range(len(names)) if perm[j] != j and lower[j]],
    }
    gt = {}
    for part, joints in parts.items():
        flags = []
        for f in range(b.num_frames):
            keep = np.median([reprojection_error([p1, p2], [x1[f, j], x2[f, j]]) for j in joints])
            swap = np.median(
                [reprojection_error([p1, p2], [x1[f, j], x2[f, perm[j]]]) for j in joints]
            )
            flags.append(swap < keep)
        gt[part] = np.array(flags)
    return gt


def corrected(vp: VideoPredictions, part: str) -> np.ndarray:
    out = np.zeros(vp.num_frames, bool)
    for c in vp.swap_corrections:
        if c.part == part and c.track_id == vp.primary_track_id:
            out[c.first_frame : c.last_frame + 1] = True
    return out


def jitter_mm(p: np.ndarray) -> float:
    return float(np.nanmedian(np.linalg.norm(p[1:-1] - (p[:-2] + p[2:]) / 2, axis=2)))


def forearm_cv(p: np.ndarray, names: tuple[str, ...]) -> float:
    i = {n: k for k, n in enumerate(names)}
    cvs = []
    for s in ("left", "right"):
        length = np.linalg.norm(p[:, i[f"{s}_elbow"]] - p[:, i[f"{s}_wrist"]], axis=1)
        cvs.append(np.nanstd(length) / np.nanmean(length))
    return float(np.mean(cvs))


def raw_copy(path: Path, tmp: Path) -> Path:
    """A copy of a results file whose poses are the raw (unrefined) ones."""
    data = json.loads(path.read_text())
    for v in data["videos"]:
        for key in ("poses3d", "poses2d", "confidence"):
            if v.get(f"{key}_raw") is not None:
                v[key] = v[f"{key}_raw"]
    out = tmp / f"raw_{path.name}"
    out.write_text(json.dumps(data))
    return out


def cross_view_rms(f1: Path, f2: Path) -> dict[str, float]:
    trials = [load_trial(f) for f in (f1, f2)]
    a, b = (replace(t, poses=butterworth(t.poses, t.timestamps, cutoff_hz=6.0)[0]) for t in trials)
    rms = {}
    for name in ANGLE_NAMES:
        d = compute_angle(a, name) - compute_angle(b, name)
        rms[name] = float(np.sqrt(np.nanmean(d**2)))
    return rms


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("cam01", type=Path)
    ap.add_argument("cam02", type=Path)
    ap.add_argument("--json", type=Path, help="write every figure here")
    ap.add_argument(
        "--write-ground-truth", type=Path, help="write cam02's swapped frames (test data) here"
    )
    args = ap.parse_args(argv)
    a = load_model(args.cam01, JobResults).videos[0]
    b = load_model(args.cam02, JobResults).videos[0]
    gt = ground_truth(a, b)
    if args.write_ground_truth:
        args.write_ground_truth.write_text(
            json.dumps(
                {
                    "description": GROUND_TRUTH_NOTE,
                    **{part: np.nonzero(flags)[0].tolist() for part, flags in gt.items()},
                },
                indent=1,
            )
            + "\n"
        )
    report: dict[str, object] = {}
    for part, truth in gt.items():
        got = corrected(b, part)
        report[f"cam02_{part}_swapped"] = int(truth.sum())
        report[f"cam02_{part}_corrected"] = int((got & truth).sum())
        report[f"cam02_{part}_wrongly_relabelled"] = int((got & ~truth).sum())
        report[f"cam01_{part}_relabelled"] = int(corrected(a, part).sum())
    names = b.skeleton.joints
    for cam, vp in (("cam01", a), ("cam02", b)):
        _, rows = vp.track()
        for tag, arr in (("raw", vp.poses3d_raw), ("refined", vp.poses3d)):
            if arr is None:
                continue
            p = np.full((vp.num_frames, len(names), 3), np.nan)
            p[rows >= 0] = arr[rows[rows >= 0]]
            report[f"{cam}_jitter_mm_{tag}"] = round(jitter_mm(p), 2)
            report[f"{cam}_forearm_cv_{tag}"] = round(forearm_cv(p, names), 3)
    tmp = Path(args.cam01).parent
    for tag, (f1, f2) in (
        ("raw", (raw_copy(args.cam01, tmp), raw_copy(args.cam02, tmp))),
        ("refined", (args.cam01, args.cam02)),
    ):
        rms = cross_view_rms(f1, f2)
        report[f"cross_view_rms_deg_{tag}"] = {k: round(v, 1) for k, v in rms.items()}
        report[f"cross_view_rms_median_deg_{tag}"] = round(float(np.median(list(rms.values()))), 1)
    print(json.dumps(report, indent=1))
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
