"""Grouped folds, clinical metrics and their intervals."""

from __future__ import annotations

import numpy as np
import pytest

from neuropose.classify import (
    ClassifierPipeline,
    class_metrics,
    confusion_matrix,
    cross_validate,
    grouped_folds,
    overall_metrics,
)
from neuropose.classify.evaluate import bootstrap_cis
from neuropose.errors import InputError


def test_fixed_confusion_matrix_gives_hand_computed_metrics() -> None:
    # rows true a, b, c; columns predicted
    cm = np.array([[5, 2, 1], [1, 6, 0], [0, 3, 7]])
    a, b, c = class_metrics(cm)
    # a: TP 5, FN 3, FP 1, TN 25 - 5 - 3 - 1 = 16 (total 25)
    assert a == {
        "support": 8,
        "sensitivity": round(5 / 8, 6),
        "specificity": round(16 / 17, 6),
        "ppv": round(5 / 6, 6),
        "npv": round(16 / 19, 6),
        "f1": round(10 / 14, 6),
    }
    # b: TP 6, FN 1, FP 5, TN 13
    assert (b["sensitivity"], b["specificity"], b["ppv"], b["npv"], b["f1"]) == (
        round(6 / 7, 6),
        round(13 / 18, 6),
        round(6 / 11, 6),
        round(13 / 14, 6),
        round(12 / 18, 6),
    )
    # c: TP 7, FN 3, FP 1, TN 14
    assert (c["sensitivity"], c["ppv"], c["f1"]) == (0.7, 0.875, round(14 / 18, 6))
    overall = overall_metrics(cm)
    assert overall["accuracy"] == round(18 / 25, 6)
    assert overall["macro_f1"] == round((10 / 14 + 12 / 18 + 14 / 18) / 3, 6)


def test_undefined_metrics_are_none_not_zero() -> None:
    cm = np.array([[4, 0], [0, 0]])  # class b never true, never predicted
    a, b = class_metrics(cm)
    assert a["specificity"] is None and a["npv"] is None
    assert b["sensitivity"] is None and b["ppv"] is None and b["f1"] is None
    assert overall_metrics(cm) == {"accuracy": 1.0, "macro_f1": 1.0}


@pytest.mark.parametrize("seed", [0, 1, 7])
@pytest.mark.parametrize(("n_subjects", "k"), [(4, 2), (7, 3), (10, 5), (5, 5)])
def test_no_subject_in_both_parts_of_any_fold(seed: int, n_subjects: int, k: int) -> None:
    subjects = [f"s{i}" for i in range(n_subjects)]
    groups = [s for s in subjects for _ in range(3)]
    folds = grouped_folds(groups, k, seed)
    assert len(folds) == k
    tested = []
    for train, test in folds:
        assert set(train).isdisjoint(test)
        assert set(train) | set(test) == set(subjects)
        tested += test
    assert sorted(tested) == sorted(subjects)  # every subject tested exactly once


def test_too_few_subjects_is_refused_with_the_fix() -> None:
    with pytest.raises(InputError, match="needs at least 5 subjects, the labels name 3") as e:
        grouped_folds(["a", "b", "c"], 5, 0)
    assert "--folds 3" in str(e.value)


def _threshold_pipeline() -> ClassifierPipeline:
    pipe = ClassifierPipeline("threshold")

    @pipe.train
    def fit(X, y, class_names, seed):  # type: ignore[no-untyped-def]
        return (X[y == 0, 0].max() + X[y == 1, 0].min()) / 2

    @pipe.predict
    def predict(model, X):  # type: ignore[no-untyped-def]
        return (X[:, 0] > model).astype(int)

    return pipe


def test_separable_toy_set_gives_one_everywhere() -> None:
    rng = np.random.default_rng(3)
    groups = np.array([f"p{i}" for i in range(6) for _ in range(10)], dtype=object)
    y = np.tile(np.repeat([0, 1], 5), 6)
    X = (y * 10 + rng.uniform(0, 1, y.size))[:, None]
    cv = cross_validate(_threshold_pipeline(), X, y, groups, ("a", "b"), k=3, seed=0)
    for train_s, test_s, _, _ in cv.folds:
        assert set(train_s).isdisjoint(test_s)
    cm = confusion_matrix(y, cv.y_pred, 2)
    assert cm.tolist() == [[30, 0], [0, 30]]
    assert overall_metrics(cm) == {"accuracy": 1.0, "macro_f1": 1.0}
    for m in class_metrics(cm):
        assert [m[k] for k in ("sensitivity", "specificity", "ppv", "npv", "f1")] == [1.0] * 5
    overall, per = bootstrap_cis(y, cv.y_pred, groups, 2, n=200, seed=0)
    assert overall == {"accuracy": (1.0, 1.0), "macro_f1": (1.0, 1.0)}
    assert all(ci == (1.0, 1.0) for p in per for ci in p.values())


def test_bootstrap_resamples_subjects_and_is_seeded() -> None:
    # subject p0 all wrong, p1..p3 all right: accuracy per resample = share of p0 draws
    groups = np.array([f"p{i}" for i in range(4) for _ in range(5)], dtype=object)
    y = np.zeros(20, dtype=int)
    pred = np.where(groups == "p0", 1, 0)
    a = bootstrap_cis(y, pred, groups, 2, n=500, seed=5)
    b = bootstrap_cis(y, pred, groups, 2, n=500, seed=5)
    assert a == b
    lo, hi = a[0]["accuracy"]
    # each resample draws 4 subjects: accuracy is a multiple of 1/4
    assert lo in (0.25, 0.5) and hi == 1.0
