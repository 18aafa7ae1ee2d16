"""Signal-graph features (``--spec``): provenance by the spec's hash, refusal of another spec."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from neuropose.analyzer import compute_angle
from neuropose.analyzer.load import load_trial
from neuropose.classify.records import ModelProvenance
from neuropose.classify.signal_features import signal_features
from neuropose.classify.store import sidecar_path
from neuropose.cli import main
from neuropose.io import load_model
from neuropose.signals import load_spec
from tests.analyzer.conftest import SKELETON
from tests.classify import synth

WIN = ["--win", "1", "--hop", "0.5"]

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


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    p = tmp_path / "knees.toml"
    p.write_text(KNEES)
    return p


def test_spec_features_are_window_statistics_of_its_nodes(tmp_path: Path, spec: Path) -> None:
    synth.two_files(tmp_path)
    fs = signal_features(spec)(SKELETON)
    assert fs.kind == "signals"
    assert fs.names[:5] == ("knee_l.mean", "knee_l.sd", "knee_l.min", "knee_l.max", "knee_l.range")
    assert len(fs.names) == 10
    trial = load_trial(tmp_path / "a.results.json")
    t, p = trial.timestamps[40:50], trial.poses[40:50]  # one squat window
    vec = fs.vector(t, p)
    knee = compute_angle(trial, "left_knee_flexion")[40:50]  # the analyzer's convention
    np.testing.assert_allclose(
        vec[:5], [knee.mean(), knee.std(), knee.min(), knee.max(), np.ptp(knee)], atol=1e-9
    )
    # the definition hash follows the spec: same spec, same hash; one node less, another
    assert signal_features(spec)(SKELETON).sha256 == fs.sha256
    left = spec.with_name("left.toml")
    left.write_text(KNEES.rsplit("[[nodes]]", 1)[0])
    assert signal_features(left)(SKELETON).sha256 != fs.sha256
    assert load_spec(left).sha256 != load_spec(spec).sha256


def test_train_with_spec_predict_needs_the_same_spec(
    tmp_path: Path, spec: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    labels = synth.two_files(tmp_path)
    model = tmp_path / "knees.npz"
    assert (
        main(["classify", "train", str(labels), "-o", str(model), "--spec", str(spec), *WIN]) == 0
    )
    out = capsys.readouterr().out
    # the knee-only features need no wrist: the 3 windows without it are now accepted
    assert "accepted squat 12, stand 14" in out and "features_undefined 0" in out
    prov = load_model(sidecar_path(model), ModelProvenance)
    assert prov.features.kind == "signals" and len(prov.features.feature_names) == 10
    a = str(tmp_path / "a.results.json")
    assert main(["classify", "predict", str(model), a]) == 2
    err = capsys.readouterr().err
    assert "model was trained for signal-graph features" in err
    assert "but input has window statistics" in err
    other = tmp_path / "left.toml"
    other.write_text(KNEES.split("[[nodes]]")[0] + "[[nodes]]" + KNEES.split("[[nodes]]")[1])
    assert main(["classify", "predict", str(model), a, "--spec", str(other)]) == 2
    err = capsys.readouterr().err
    assert "model was trained for signal-graph features" in err
    assert "but input has signal-graph features" in err
    assert main(["classify", "predict", str(model), a, "--spec", str(spec)]) == 0
    with (tmp_path / "a.classes.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert {r["label"] for r in rows if 4.0 <= float(r["start_s"]) <= 7.0} == {"squat"}
    assert {r["label"] for r in rows if float(r["end_s"]) <= 4.0} - {""} == {"stand"}


def test_spec_with_a_joint_the_skeleton_lacks_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    labels = synth.two_files(tmp_path)
    bad = tmp_path / "bad.toml"
    bad.write_text(KNEES.replace('a = "left_hip"', 'a = "left_pinky"'))
    model = tmp_path / "m.npz"
    assert main(["classify", "train", str(labels), "-o", str(model), "--spec", str(bad), *WIN]) == 2
    err = capsys.readouterr().err
    assert "left_pinky" in err and "knee_l" in err and "Traceback" not in err
    assert not model.exists()


def test_online_equals_offline_with_spec_features(tmp_path: Path, spec: Path) -> None:
    from neuropose.classify.online import OnlineClassifier
    from neuropose.classify.records import WindowParams
    from neuropose.classify.run import predict_file, train_model
    from neuropose.classify.store import load_classifier

    labels = synth.two_files(tmp_path)
    model = tmp_path / "k.npz"
    features = signal_features(spec)
    params = WindowParams(win_s=1.0, hop_s=0.5, max_missing=0.2)
    train_model(labels, model, recipe="centroid", params=params, seed=0, features=features)
    loaded = load_classifier(model)
    results = tmp_path / "b.results.json"
    offline = predict_file(loaded, results, features)
    trial = load_trial(results)
    online = OnlineClassifier(loaded, trial.skeleton, features=features)
    by_end = {
        round(float(t) + 0.1, 6): online.predict(float(t), p)
        for t, p in zip(trial.timestamps, trial.poses, strict=True)
    }
    assert [by_end[round(end, 6)] for _, end in offline.spans] == [
        lab or None for lab in offline.labels
    ]
    assert all(offline.labels)  # the knee spec needs no wrist: every window classified
