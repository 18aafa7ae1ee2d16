"""Frame-by-frame classification gives the offline classes; class changes are debounced."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from neuropose.analyzer.load import load_trial
from neuropose.classify.online import OnlineClassifier
from neuropose.classify.records import WindowParams
from neuropose.classify.run import predict_file, train_model
from neuropose.classify.store import ModelMismatchError, load_classifier
from neuropose.skeletons import BLAZEPOSE_33
from tests.classify import synth


@pytest.fixture
def model(tmp_path: Path) -> Path:
    labels = synth.two_files(tmp_path)
    out = tmp_path / "m.npz"
    train_model(
        labels,
        out,
        recipe="logistic",
        params=WindowParams(win_s=1.0, hop_s=0.5, max_missing=0.2),
        seed=0,
    )
    return out


def test_online_equals_offline_on_every_offline_window(model: Path, tmp_path: Path) -> None:
    loaded = load_classifier(model)
    results = tmp_path / "a.results.json"
    offline = predict_file(loaded, results)
    trial = load_trial(results)
    online = OnlineClassifier(loaded, trial.skeleton, n_stable_ticks=1)
    by_end: dict[float, str | None] = {}
    for t, pose in zip(trial.timestamps, trial.poses, strict=True):
        by_end[round(float(t) + 0.1, 6)] = online.predict(float(t), pose)
    compared = 0
    for (_, end), label in zip(offline.spans, offline.labels, strict=True):
        assert by_end[round(end, 6)] == (label or None)
        compared += 1
    assert compared == 19
    assert sum(1 for lab in offline.labels if lab) == 17  # two windows lack frames


def test_class_changes_are_debounced_and_reported_once(model: Path, tmp_path: Path) -> None:
    loaded = load_classifier(model)
    trial = load_trial(tmp_path / "a.results.json")
    online = OnlineClassifier(loaded, trial.skeleton, n_stable_ticks=3)
    changes = [
        c
        for t, p in zip(trial.timestamps, trial.poses, strict=True)
        if (c := online.push(float(t), p)) is not None
    ]
    assert changes[0].previous is None and changes[0].current == "stand"
    for a, b in itertools.pairwise(changes):
        assert b.previous == a.current != b.current
    # stand (0-4 s) then squat (4-8 s): the change to squat comes once the window holds
    # mostly squat frames and 3 frames agree, i.e. between 4 and 5.5 s
    squat = [c for c in changes if c.current == "squat"]
    assert squat and 4.0 < squat[0].time_s < 5.5


def test_online_refuses_another_skeleton(model: Path) -> None:
    with pytest.raises(ModelMismatchError, match="but input has skeleton 'blazepose_33'"):
        OnlineClassifier(load_classifier(model), BLAZEPOSE_33)


def test_young_stream_gives_no_class(model: Path, tmp_path: Path) -> None:
    trial = load_trial(tmp_path / "b.results.json")
    online = OnlineClassifier(load_classifier(model), trial.skeleton)
    got = [online.predict(float(trial.timestamps[k]), trial.poses[k]) for k in range(9)]
    assert got == [None] * 9
    assert online.predict(float(trial.timestamps[9]), trial.poses[9]) is not None
    assert np.isfinite(trial.poses[9]).all()
