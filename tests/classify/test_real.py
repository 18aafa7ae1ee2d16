"""The lab clips end to end: process, label by the other camera, evaluate, train, predict.

Needs ``../shared/media/lab_single_person`` and the ``blazepose-full`` weights
(skips with the reason otherwise). Both views of the same 1.65 s recording
(100 frames, 60 fps) are processed with ``neuropose process``; each view's
windows are labelled ``lunge`` / ``stand`` from the **other** view's knee
flexion (mean of both knees, 3 Hz zero-phase low-pass, > 35°), so no label
is computed from the frames it labels. There is one subject, so the
``subject`` column holds the camera: the two folds train on one view and test
on the other. The figures printed by the test are the ones in
``docs/classify.md``.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from neuropose.analyzer import butterworth, compute_angle, load_trial
from tests.conftest import REPO_PYTHONPATH

pytestmark = [pytest.mark.slow, pytest.mark.media]

KNEE_DEG = 35.0
KNEES = """
[[nodes]]
name = "knee_l"
kind = "angle_3pt"
params = { a = "left_hip", b = "left_knee", c = "left_ankle", complement = true }

[[nodes]]
name = "knee_r"
kind = "angle_3pt"
params = { a = "right_hip", b = "right_knee", c = "right_ankle", complement = true }
"""
WIN = ["--win", "0.1", "--hop", "0.05"]


def _cli(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "import sys; from neuropose.cli import main; sys.exit(main())",
         *args],
        capture_output=True, text=True, env=env, cwd=cwd, timeout=1200,
    )  # fmt: skip


def _knee(path: Path) -> tuple[np.ndarray, np.ndarray]:
    trial = load_trial(path)
    knee = compute_angle(trial, "left_knee_flexion") + compute_angle(trial, "right_knee_flexion")
    smooth, _ = butterworth(knee / 2, trial.timestamps, cutoff_hz=3.0, order=2)
    return trial.timestamps, smooth


def _labels(work: Path, peaks: dict[str, float]) -> Path:
    rows = []
    for cam, other in (("cam01", "cam02"), ("cam02", "cam01")):
        t, knee = _knee(work / f"{other}.results.json")
        peaks[other] = round(float(np.nanmax(knee)), 1)
        lab = np.where(knee > KNEE_DEG, "lunge", "stand")
        dt = float(np.median(np.diff(t)))
        start = 0
        for i in range(1, len(t) + 1):
            if i == len(t) or lab[i] != lab[start]:
                end = float(t[i - 1]) + dt
                rows.append((f"{cam}.results.json", round(float(t[start]), 4), round(end, 4),
                             str(lab[start]), cam))  # fmt: skip
                start = i
    path = work / "labels.csv"
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["file", "start_s", "end_s", "label", "subject"])
        w.writerows(rows)
    return path


def test_lab_clips_classified_end_to_end_from_the_cli(
    shared_media: Path,
    blazepose_weights: Path,
    tmp_path: Path,
    artifacts_dir: Path,
) -> None:
    clips = [shared_media / "lab_single_person" / f"cam0{k}.mp4" for k in (1, 2)]
    for c in clips:
        if not c.is_file():
            pytest.skip(f"real media not available: {c.name} is absent")
    env = {
        **os.environ,
        "PYTHONPATH": REPO_PYTHONPATH,
        "NEUROPOSE_MODEL_CACHE_DIR": str(blazepose_weights),
    }
    proc = _cli("process", *map(str, clips), "-o", str(tmp_path), "-m", "blazepose-full",
                cwd=tmp_path, env=env)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    peaks: dict[str, float] = {}
    labels = _labels(tmp_path, peaks)
    table = labels.read_text()
    assert "lunge" in table and "stand" in table

    proc = _cli("classify", "evaluate", "labels.csv", "-o", "report.json", "--folds", "2",
                "--seed", "0", *WIN, cwd=tmp_path, env=env)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    evaluate_stdout = proc.stdout
    report = json.loads((tmp_path / "report.json").read_text())
    folds = report["folds"]
    assert sorted(tuple(f["test_subjects"]) for f in folds) == [("cam01",), ("cam02",)]
    for f in folds:
        assert set(f["train_subjects"]).isdisjoint(f["test_subjects"])
    accepted = sum(report["windows"]["accepted"].values())
    assert accepted == sum(map(sum, report["confusion"])) == sum(f["n_test"] for f in folds)
    # per view: t_end = 99/60 + 1/60 s; floor((1.6667 - 0.1) / 0.05) + 1 = 32 windows
    assert report["windows"]["total"] == 2 * 32
    assert report["accuracy"] is not None and "only 2 subjects" in report["notes"][1]

    # the same evaluation on knee flexion only (a two-node signal spec, 10 features)
    (tmp_path / "knees.toml").write_text(KNEES)
    proc = _cli("classify", "evaluate", "labels.csv", "-o", "knees.json", "--folds", "2",
                "--spec", "knees.toml", *WIN, cwd=tmp_path, env=env)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    knees = json.loads((tmp_path / "knees.json").read_text())
    assert knees["windows"] == report["windows"]  # same windows, other features
    assert knees["features"]["kind"] == "signals" and len(knees["features"]["feature_names"]) == 10

    proc = _cli("classify", "train", "labels.csv", "-o", "lab.npz", *WIN, cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    proc = _cli("classify", "predict", "lab.npz", "cam01.results.json", "cam02.results.json",
                cwd=tmp_path, env=env)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    for cam in ("cam01", "cam02"):
        with (tmp_path / f"{cam}.classes.csv").open() as f:
            rows = list(csv.DictReader(f))
        assert len(rows) == 32 and {r["status"] for r in rows} == {"ok"}
    summary = {
        "labels": table,
        "smoothed_knee_peak_deg": peaks,
        "windows": report["windows"],
        "confusion": report["confusion"],
        "class_names": report["class_names"],
        "accuracy": report["accuracy"],
        "macro_f1": report["macro_f1"],
        "per_class": report["per_class"],
        "evaluate_stdout": evaluate_stdout,
        "knees": {k: knees[k] for k in ("confusion", "accuracy", "macro_f1", "per_class")},
    }
    (artifacts_dir / "classify_lab.json").write_text(json.dumps(summary, indent=1))
