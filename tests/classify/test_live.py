"""``neuropose live --classifier``: debounced class events equal the offline online-classifier."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from neuropose.analyzer.load import load_trial
from neuropose.classify.online import OnlineClassifier
from neuropose.classify.records import WindowParams
from neuropose.classify.run import train_model
from neuropose.classify.store import load_classifier
from neuropose.datadir.layout import DataDir
from tests.classify import synth
from tests.conftest import REPO_PYTHONPATH

_CODE = "import sys; from neuropose.cli import main; sys.exit(main())"


def _live(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEUROPOSE_")}
    env.update(PYTHONPATH=REPO_PYTHONPATH, NEUROPOSE_MODEL_CACHE_DIR=str(tmp_path / "models"))
    return subprocess.run(
        [sys.executable, "-c", _CODE, "live", *args],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def _model(tmp_path: Path) -> Path:
    labels = synth.two_files(tmp_path)
    model = tmp_path / "m.npz"
    params = WindowParams(win_s=1.0, hop_s=0.5, max_missing=0.2)
    train_model(labels, model, recipe="logistic", params=params, seed=0)
    return model


def test_live_classifier_events_are_the_debounced_offline_changes(tmp_path: Path) -> None:
    model = _model(tmp_path)
    source = tmp_path / "a.results.json"
    trial = load_trial(source)
    online = OnlineClassifier(load_classifier(model), trial.skeleton, n_stable_ticks=4)
    expected = [
        (round(c.time_s, 6), f"{c.previous or 'start'} -> {c.current}")
        for t, p in zip(trial.timestamps, trial.poses, strict=True)
        if (c := online.push(float(t), p)) is not None
    ]
    assert len(expected) >= 2 and expected[0][1] == "start -> stand"
    data = tmp_path / "data"
    proc = _live(tmp_path, "--source", str(source), "--data-dir", str(data), "--session", "c",
                 "--replay-speed", "0", "--classifier", str(model),
                 "--stable-ticks", "4")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    events = [
        json.loads(line) for line in DataDir(data).live_session("c").events.read_text().splitlines()
    ]
    got = [(round(e["time_s"], 6), e["detail"]) for e in events if e["kind"] == "class"]
    assert got == expected
    assert [e["count"] for e in events if e["kind"] == "class"] == list(range(1, len(got) + 1))


def test_live_classifier_for_another_skeleton_is_refused_before_the_session(
    tmp_path: Path,
) -> None:
    from tests.export import synth as blaze
    from tests.export.conftest import write_results

    model = _model(tmp_path)
    source = write_results(tmp_path / "blaze.results.json", blaze.build())
    data = tmp_path / "data"
    proc = _live(tmp_path, "--source", str(source), "--data-dir", str(data), "--session", "x",
                 "--replay-speed", "0", "--classifier", str(model))  # fmt: skip
    assert proc.returncode == 2
    assert (
        "model was trained for skeleton 'synthetic_canonical' (19 joints) but input has "
        "skeleton 'blazepose_33' (33 joints)"
    ) in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not DataDir(data).live_session("x").folder.exists()
