"""scikit-learn recipes (extra ``neuropose[classify]``): pickles only when verified."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from neuropose.classify.records import ModelProvenance
from neuropose.classify.store import sidecar_path
from neuropose.cli import main
from neuropose.io import load_model
from tests.classify import synth

pytest.importorskip("sklearn")

WIN = ["--win", "1", "--hop", "0.5"]


@pytest.mark.parametrize("recipe", ["sklearn-forest", "sklearn-logistic"])
def test_sklearn_recipe_trains_predicts_and_evaluates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], recipe: str
) -> None:
    labels = synth.separable(tmp_path, subjects=4)
    model = tmp_path / "m.joblib"
    assert main(["classify", "train", str(labels), "-o", str(model), "--model", recipe, *WIN]) == 0
    prov = load_model(sidecar_path(model), ModelProvenance)
    assert prov.model_format == "joblib" and "scikit-learn" in prov.versions
    assert main(["classify", "predict", str(model), str(tmp_path / "p0.results.json")]) == 0
    with (tmp_path / "p0.classes.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert [r["label"] for r in rows if float(r["end_s"]) <= 4.0] == ["stand"] * 7
    assert [r["label"] for r in rows if float(r["start_s"]) >= 4.0] == ["squat"] * 7
    report = tmp_path / "r.json"
    args = ["classify", "evaluate", str(labels), "-o", str(report), "--folds", "4"]
    assert main([*args, "--model", recipe, *WIN, "--bootstrap", "50"]) == 0
    assert json.loads(report.read_text())["accuracy"] == 1.0
    capsys.readouterr()


def test_pickle_without_sidecar_or_in_a_shared_folder_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    labels = synth.two_files(tmp_path)
    model = tmp_path / "m.joblib"
    args = ["classify", "train", str(labels), "-o", str(model), "--model", "sklearn-forest"]
    assert main([*args, *WIN]) == 0
    a = str(tmp_path / "a.results.json")
    tmp_path.chmod(0o777)  # anyone may write here (and so replace model and sidecar)
    try:
        assert main(["classify", "predict", str(model), a]) == 2
        assert "a pickled model in a location other users can write" in capsys.readouterr().err
    finally:
        tmp_path.chmod(0o755)
    assert main(["classify", "predict", str(model), a]) == 0
    side = sidecar_path(model)
    side.rename(tmp_path / "kept.json")
    assert main(["classify", "predict", str(model), a]) == 2
    assert "no provenance sidecar" in capsys.readouterr().err
    assert main(["classify", "predict", str(model), a, "--allow-unverified"]) == 0
