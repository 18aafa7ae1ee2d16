"""Subject-grouped cross-validation and clinical metrics with bootstrap intervals.

Folds
-----
:func:`grouped_folds` shuffles the distinct subjects with the seed and deals
them into ``k`` folds (``numpy.array_split``): every window of a subject is in
the test part of exactly one fold and never in the training part of that
fold. A random split of windows would put the same patient on both sides and
inflate every figure.

Metrics
-------
From the confusion matrix ``C`` (rows = true class, columns = predicted),
for class ``c``: ``TP = C[c,c]``, ``FN`` = rest of row ``c``, ``FP`` = rest of
column ``c``, ``TN`` = everything else. Sensitivity ``TP/(TP+FN)``,
specificity ``TN/(TN+FP)``, PPV ``TP/(TP+FP)``, NPV ``TN/(TN+FN)``,
F1 ``2TP/(2TP+FP+FN)``; a metric whose denominator is 0 is undefined
(``None``). Macro F1 is the mean F1 over the classes where it is defined;
accuracy is ``trace(C)/sum(C)``. Metrics are computed on the pooled
out-of-fold predictions.

Confidence intervals (95 %, percentile) come from ``bootstrap`` resamples of
the **subjects** with replacement (all windows of a drawn subject go in, as
many times as it is drawn), so windows of one person are never treated as
independent. With few subjects the intervals are wide or degenerate: with
one or two subjects they say little, and the report says so.

Examples
--------
>>> cm = np.array([[8, 2], [1, 9]])
>>> m = class_metrics(cm)[0]
>>> m["sensitivity"], m["specificity"], m["ppv"], round(m["npv"], 6)
(0.8, 0.9, 0.888889, 0.818182)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from neuropose.classify.pipeline import ClassifierPipeline
from neuropose.errors import InputError, ProcessingError

__all__ = [
    "CrossValidation",
    "bootstrap_cis",
    "class_metrics",
    "confusion_matrix",
    "cross_validate",
    "grouped_folds",
    "overall_metrics",
]

_METRICS = ("sensitivity", "specificity", "ppv", "npv", "f1")


def _ratio(num: float, den: float) -> float | None:
    return None if den == 0 else round(float(num) / float(den), 6)


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    """Counts (n_classes, n_classes): rows true class, columns predicted class.

    Examples
    --------
    >>> confusion_matrix(np.array([0, 0, 1]), np.array([0, 1, 1]), 2).tolist()
    [[1, 1], [0, 1]]
    """
    cm = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(cm, (np.asarray(y_true), np.asarray(y_pred)), 1)
    return cm


def class_metrics(cm: np.ndarray) -> list[dict[str, Any]]:
    """Per-class support, sensitivity, specificity, PPV, NPV and F1 of ``cm``."""
    total = int(cm.sum())
    out = []
    for c in range(cm.shape[0]):
        tp = int(cm[c, c])
        fn = int(cm[c].sum()) - tp
        fp = int(cm[:, c].sum()) - tp
        tn = total - tp - fn - fp
        out.append(
            {
                "support": tp + fn,
                "sensitivity": _ratio(tp, tp + fn),
                "specificity": _ratio(tn, tn + fp),
                "ppv": _ratio(tp, tp + fp),
                "npv": _ratio(tn, tn + fn),
                "f1": _ratio(2 * tp, 2 * tp + fp + fn),
            }
        )
    return out


def overall_metrics(cm: np.ndarray) -> dict[str, float | None]:
    """Accuracy and macro F1 of ``cm``.

    Examples
    --------
    >>> overall_metrics(np.array([[5, 0], [0, 5]]))
    {'accuracy': 1.0, 'macro_f1': 1.0}
    """
    f1 = [m["f1"] for m in class_metrics(cm) if m["f1"] is not None]
    return {
        "accuracy": _ratio(np.trace(cm), cm.sum()),
        "macro_f1": round(float(np.mean(f1)), 6) if f1 else None,
    }


def grouped_folds(groups: Sequence[str], k: int, seed: int) -> list[tuple[list[str], list[str]]]:
    """``(train_subjects, test_subjects)`` of each of ``k`` subject-grouped folds.

    Raises
    ------
    InputError
        Fewer distinct subjects than ``k`` (or ``k < 2``).

    Examples
    --------
    >>> folds = grouped_folds(["a", "b", "c", "d"], 2, seed=0)
    >>> sorted(sorted(test) for _, test in folds)
    [['a', 'c'], ['b', 'd']]
    """
    subjects = sorted(set(groups))
    if k < 2 or len(subjects) < k:
        raise InputError(
            f"{k}-fold cross-validation needs at least {max(k, 2)} subjects, "
            f"the labels name {len(subjects)} ({', '.join(subjects[:5])})",
            hint=f"use --folds {len(subjects)} (leave one subject out)"
            if len(subjects) >= 2
            else "label recordings of at least two subjects (or independent groups)",
        )
    order = np.random.default_rng(seed).permutation(len(subjects))
    parts = np.array_split(order, k)
    out = []
    for part in parts:
        test = sorted(subjects[i] for i in part)
        train = sorted(s for s in subjects if s not in test)
        out.append((train, test))
    return out


@dataclass
class CrossValidation:
    """Out-of-fold predictions and the subjects of every fold."""

    y_pred: np.ndarray
    folds: list[tuple[list[str], list[str], int, int]]


def cross_validate(
    pipeline: ClassifierPipeline,
    X: np.ndarray,
    y: np.ndarray,
    groups: np.ndarray,
    class_names: Sequence[str],
    *,
    k: int,
    seed: int,
) -> CrossValidation:
    """Train on the other folds' subjects, predict each fold's subjects.

    Raises
    ------
    ProcessingError
        If a subject were ever on both sides of a fold (a bug, never data).
    """
    y_pred = np.full(y.shape, -1, dtype=np.int64)
    folds = []
    for train_s, test_s in grouped_folds(list(groups), k, seed):
        train = np.isin(groups, train_s)
        test = np.isin(groups, test_s)
        if set(groups[train]) & set(groups[test]):
            raise ProcessingError("a subject is in both the training and the test part of a fold")
        model = pipeline.fit(X[train], y[train], class_names, seed)
        y_pred[test] = pipeline.classify(model, X[test])
        folds.append((train_s, test_s, int(train.sum()), int(test.sum())))
    return CrossValidation(y_pred=y_pred, folds=folds)


def bootstrap_cis(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    groups: np.ndarray,
    n_classes: int,
    *,
    n: int,
    seed: int,
) -> tuple[dict[str, tuple[float, float] | None], list[dict[str, tuple[float, float] | None]]]:
    """95 % percentile intervals of the overall and per-class metrics over subjects.

    Returns ``(overall, per_class)``; an interval is None when the metric was
    undefined in every resample (or ``n == 0``).
    """
    subjects = sorted(set(groups))
    rows = {s: np.flatnonzero(groups == s) for s in subjects}
    rng = np.random.default_rng(seed)
    overall: dict[str, list[float]] = {"accuracy": [], "macro_f1": []}
    per: list[dict[str, list[float]]] = [{m: [] for m in _METRICS} for _ in range(n_classes)]
    for _ in range(n):
        drawn = rng.integers(0, len(subjects), len(subjects))
        idx = np.concatenate([rows[subjects[d]] for d in drawn])
        cm = confusion_matrix(y_true[idx], y_pred[idx], n_classes)
        for key, value in overall_metrics(cm).items():
            if value is not None:
                overall[key].append(value)
        for c, m in enumerate(class_metrics(cm)):
            for key in _METRICS:
                if m[key] is not None:
                    per[c][key].append(m[key])
    return (
        {k: _interval(v) for k, v in overall.items()},
        [{k: _interval(v) for k, v in p.items()} for p in per],
    )


def _interval(values: list[float]) -> tuple[float, float] | None:
    if not values:
        return None
    lo, hi = np.percentile(np.asarray(values), [2.5, 97.5])
    return (round(float(lo), 6), round(float(hi), 6))
