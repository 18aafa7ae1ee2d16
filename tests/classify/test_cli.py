"""``neuropose classify train|evaluate|predict`` as a user runs them."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from neuropose.classify.records import ModelProvenance
from neuropose.classify.run import predict_file
from neuropose.classify.store import load_classifier, sidecar_path
from neuropose.cli import main
from neuropose.io import load_model, write_model_atomic
from tests.classify import synth
from tests.conftest import REPO_PYTHONPATH

WIN = ["--win", "1", "--hop", "0.5"]


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture
def trained(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    labels = synth.two_files(tmp_path)
    model = tmp_path / "m.npz"
    assert main(["classify", "train", str(labels), "-o", str(model), *WIN]) == 0
    out = capsys.readouterr().out
    assert (
        "windows 34: accepted squat 12, stand 11; rejected crosses_label_boundary 2, "
        "outside_labels 4, too_many_missing_frames 2, features_undefined 3"
    ) in out
    return model


def test_train_writes_model_and_sidecar_with_provenance_by_hash(trained: Path) -> None:
    prov = load_model(sidecar_path(trained), ModelProvenance)
    assert prov.recipe == "logistic" and prov.model_format == "npz"
    assert prov.skeleton == "synthetic_canonical" and len(prov.joint_names) == 19
    assert prov.class_names == ("squat", "stand")
    assert prov.window.win_s == 1.0 and prov.window.hop_s == 0.5
    assert prov.windows.rejected["features_undefined"] == 3
    assert [i.windows.total for i in prov.training_inputs] == [19, 15]
    text = sidecar_path(trained).read_text()
    assert "results.json" not in text and str(trained.parent) not in text  # no paths, ever
    assert "numpy" in prov.versions and "neuropose" in prov.versions


def test_predict_in_a_fresh_process_equals_in_process(trained: Path, tmp_path: Path) -> None:
    inputs = [tmp_path / "b.results.json", tmp_path / "a.results.json"]
    expected = [predict_file(load_classifier(trained), p) for p in inputs]
    out = tmp_path / "pred"
    proc = subprocess.run(
        [sys.executable, "-c", "import sys; from neuropose.cli import main; sys.exit(main())",
         "classify", "predict", str(trained),
         *map(str, inputs), "-o", str(out)],
        capture_output=True, text=True, env={**os.environ, "PYTHONPATH": REPO_PYTHONPATH},
        timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith(f"ok      {inputs[0]} -> {out / 'b.classes.csv'}")
    assert lines[1].startswith(f"ok      {inputs[1]} -> {out / 'a.classes.csv'}")
    for name, exp in zip(("b", "a"), expected, strict=True):
        rows = _rows(out / f"{name}.classes.csv")
        assert [r["label"] for r in rows] == exp.labels
        assert [r["status"] for r in rows] == exp.status
        assert [(float(r["start_s"]), float(r["end_s"])) for r in rows] == exp.spans
    a = _rows(out / "a.classes.csv")
    assert len(a) == 19
    assert [r["status"] for r in a].count("too_many_missing_frames") == 2
    # the squat part of a (4-8 s) is recognised: a model trained on both subjects
    assert {r["label"] for r in a if 4.0 <= float(r["start_s"]) <= 7.0} == {"squat"}


def test_other_joint_set_is_refused_with_the_message(
    trained: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.export import synth as blaze
    from tests.export.conftest import write_results

    other = write_results(tmp_path / "blaze.results.json", blaze.build())
    assert main(["classify", "predict", str(trained), str(other)]) == 2
    err = capsys.readouterr().err
    assert (
        "model was trained for skeleton 'synthetic_canonical' (19 joints) but input has "
        "skeleton 'blazepose_33' (33 joints)"
    ) in err
    assert "Traceback" not in err
    assert not (tmp_path / "blaze.classes.csv").exists()


def test_other_feature_definition_is_refused(
    trained: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    side = sidecar_path(trained)
    prov = load_model(side, ModelProvenance)
    changed = prov.features.model_copy(update={"sha256": "f" * 64})
    write_model_atomic(side, prov.model_copy(update={"features": changed}))
    assert main(["classify", "predict", str(trained), str(tmp_path / "a.results.json")]) == 2
    err = capsys.readouterr().err
    assert "model was trained for window statistics (definition sha256 ffffffffffff…" in err
    assert "but input has window statistics" in err


def test_sidecar_less_model_needs_the_flag_and_a_changed_model_is_refused(
    trained: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a = str(tmp_path / "a.results.json")
    side = sidecar_path(trained)
    kept = side.read_bytes()
    side.unlink()
    assert main(["classify", "predict", str(trained), a]) == 2
    assert "no provenance sidecar (m.npz.provenance.json)" in capsys.readouterr().err
    assert main(["classify", "predict", str(trained), a, "--allow-unverified"]) == 0
    assert len(_rows(tmp_path / "a.classes.csv")) == 19
    side.write_bytes(kept)
    trained.write_bytes(trained.read_bytes() + b"\0")
    assert main(["classify", "predict", str(trained), a, "--allow-unverified"]) == 2
    assert "are not the model its sidecar m.npz.provenance.json describes" in (
        capsys.readouterr().err
    )


def test_keep_going_records_failures_keeps_order_and_exits_non_zero(
    trained: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "broken.results.json"
    bad.write_text("{not json")
    a, b = tmp_path / "a.results.json", tmp_path / "b.results.json"
    out = tmp_path / "pred"
    args = ["classify", "predict", str(trained), str(a), str(bad), str(b), "-o", str(out)]
    assert main(args) == 2  # without --keep-going the first failure stops the batch
    assert not (out / "b.classes.csv").exists()
    capsys.readouterr()
    assert main([*args, "--keep-going"]) == 2  # exit code of the first failure
    cap = capsys.readouterr()
    assert [line.split()[1] for line in cap.out.splitlines()] == [str(a), str(b)]
    assert f"failed  {bad}: " in cap.err and "1 of 3 files failed" in cap.err
    assert (out / "a.classes.csv").is_file() and (out / "b.classes.csv").is_file()
    assert not (out / "broken.classes.csv").exists()


def test_train_keep_going_skips_a_missing_file_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    labels = synth.two_files(tmp_path)
    with labels.open("a") as f:
        f.write("gone.results.json,0,4,stand,s3\n")
    model = tmp_path / "m.npz"
    assert main(["classify", "train", str(labels), "-o", str(model), *WIN]) == 2
    assert not model.exists()
    capsys.readouterr()
    assert main(["classify", "train", str(labels), "-o", str(model), *WIN, "--keep-going"]) == 2
    cap = capsys.readouterr()
    assert "gone.results.json: file not found" in cap.err
    assert "1 of 3 files failed" in cap.err
    assert load_model(sidecar_path(model), ModelProvenance).failed_inputs == 1


def test_evaluate_is_byte_identical_apart_from_the_time(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    labels = synth.separable(tmp_path, subjects=4)
    reports = []
    for k in range(2):
        out = tmp_path / f"r{k}.json"
        args = ["classify", "evaluate", str(labels), "-o", str(out), "--folds", "2", *WIN]
        assert main([*args, "--bootstrap", "300", "--seed", "4"]) == 0
        reports.append(json.loads(out.read_text()))
    for r in reports:
        r.pop("created_at")
    assert reports[0] == reports[1]
    r = reports[0]
    assert r["accuracy"] == 1.0 and r["macro_f1"] == 1.0
    assert r["overall_ci"] == {"accuracy": [1.0, 1.0], "macro_f1": [1.0, 1.0]}
    for m in r["per_class"]:
        assert [m[k] for k in ("sensitivity", "specificity", "ppv", "npv", "f1")] == [1.0] * 5
    for fold in r["folds"]:
        assert set(fold["train_subjects"]).isdisjoint(fold["test_subjects"])
    assert sorted(s for f in r["folds"] for s in f["test_subjects"]) == ["p0", "p1", "p2", "p3"]
    out = capsys.readouterr().out
    assert "accuracy 1.000 [1.000, 1.000], macro F1 1.000 [1.000, 1.000]" in out
    assert "note    only 4 subjects" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--win", "0"], "--win: Input should be greater than 0"),
        (["--max-missing", "1.5"], "--max-missing: Input should be less than or equal to 1"),
        (["--model", "svm"], "unknown model 'svm'"),
        (["-o", "m.joblib"], "a 'logistic' model is saved as .npz"),
    ],
)
def test_usage_errors_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    labels = synth.two_files(tmp_path)
    out = ["-o", str(tmp_path / "m.npz")] if "-o" not in args else []
    assert main(["classify", "train", str(labels), *out, *args]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "m.npz").exists()


def test_sklearn_recipe_without_the_extra_names_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "sklearn", None)
    labels = synth.two_files(tmp_path)
    model = tmp_path / "m.joblib"
    assert (
        main(["classify", "train", str(labels), "-o", str(model), "--model", "sklearn-forest"]) == 4
    )
    err = capsys.readouterr().err
    assert "pip install 'neuropose[classify]'" in err and "scikit-learn" in err
    assert not model.exists()


def test_evaluate_with_too_few_subjects_stops_before_reading_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    labels = synth.write_labels(
        tmp_path / "labels.csv",
        [("x.results.json", 0, 4, "stand", "s1"), ("y.results.json", 0, 4, "squat", "s2")],
    )  # neither results file exists
    out = tmp_path / "r.json"
    assert main(["classify", "evaluate", str(labels), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "5-fold cross-validation needs at least 5 subjects, the labels name 2" in err
    assert "hint: use --folds 2 (leave one subject out)" in err
    assert not out.exists()


def test_predict_refuses_two_inputs_that_would_share_an_output(
    trained: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = tmp_path / "other"
    other.mkdir()
    (other / "a.results.json").write_bytes((tmp_path / "a.results.json").read_bytes())
    out = tmp_path / "pred"
    args = ["classify", "predict", str(trained), str(tmp_path / "a.results.json"),
            str(other / "a.results.json"), "-o", str(out)]  # fmt: skip
    assert main(args) == 2
    assert f"would both be written to {out / 'a.classes.csv'}" in capsys.readouterr().err
    assert not out.exists()


def test_recording_of_another_pose_model_is_refused(
    trained: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from neuropose.schemas import JobResults

    prov = load_model(sidecar_path(trained), ModelProvenance)
    assert prov.pose_models == ("synthetic",)
    assert {i.pose_model for i in prov.training_inputs} == {"synthetic"}
    doc = load_model(tmp_path / "a.results.json", JobResults)
    vp = doc.videos[0]
    lite = vp.model_copy(
        update={"provenance": vp.provenance.model_copy(update={"model_name": "blazepose-lite"})}
    )
    other = tmp_path / "lite.results.json"
    write_model_atomic(other, doc.model_copy(update={"videos": (lite,)}))
    assert main(["classify", "predict", str(trained), str(other)]) == 2
    assert (
        "model was trained for poses of synthetic but input has poses of blazepose-lite"
        in capsys.readouterr().err
    )
