"""What ``neuropose classify train|evaluate|predict`` do, as library calls.

Each function validates, computes, and only then writes (atomically, through
:mod:`neuropose.io`), so a failure leaves no partial output.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np

from neuropose.analyzer.load import load_trial
from neuropose.classify.dataset import Dataset, build_dataset, counts_of
from neuropose.classify.evaluate import (
    bootstrap_cis,
    class_metrics,
    confusion_matrix,
    cross_validate,
    grouped_folds,
    overall_metrics,
)
from neuropose.classify.pipeline import ClassifierPipeline, FeatureSet, build_pipeline
from neuropose.classify.records import (
    ClassMetrics,
    EvaluationReport,
    FoldRecord,
    ModelProvenance,
    WindowCounts,
    WindowParams,
)
from neuropose.classify.store import (
    LoadedModel,
    check_input,
    check_pose_model,
    model_format,
    save_classifier,
)
from neuropose.classify.windows import cut_windows, group_labels, load_labels
from neuropose.errors import NeuroPoseError
from neuropose.io import write_bytes_atomic, write_model_atomic
from neuropose.schemas import Skeleton
from neuropose.timefmt import utc_now

__all__ = [
    "FilePredictions",
    "evaluate_labels",
    "predict_file",
    "train_model",
    "versions",
    "write_predictions",
]

FeatureFactory = Callable[[Skeleton], FeatureSet]
FileCallback = Callable[[Path, NeuroPoseError | None], None]


def versions() -> dict[str, str]:
    """Versions of NeuroPose, NumPy and (when installed) scikit-learn."""
    out = {}
    for dist in ("neuropose", "numpy", "scikit-learn"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return out


def train_model(
    labels: Path,
    output: Path,
    *,
    recipe: str,
    params: WindowParams,
    seed: int,
    features: FeatureFactory | None = None,
    keep_going: bool = False,
    on_file: FileCallback | None = None,
) -> tuple[ModelProvenance, Dataset]:
    """Train on every accepted window of ``labels``; write the model and its sidecar."""
    pipe = build_pipeline(recipe, features=features)
    fmt = model_format(output, recipe)
    data = build_dataset(labels, pipe, params, keep_going=keep_going, on_file=on_file)
    model = pipe.fit(data.X, data.y, data.class_names, seed)
    prov = ModelProvenance(
        recipe=recipe,
        model_format=fmt,
        model_sha256="",
        pose_models=tuple(sorted({i.pose_model for i in data.inputs if i.pose_model})),
        skeleton=data.skeleton.name,
        joint_names=tuple(data.skeleton.joints),
        features=data.features.source,
        window=params,
        class_names=data.class_names,
        seed=seed,
        versions=versions(),
        labels_sha256=data.labels_sha256,
        training_inputs=tuple(data.inputs),
        windows=data.counts,
        failed_inputs=len(data.failures),
        created_at=utc_now(),
    )
    return save_classifier(output, model, prov), data


def evaluate_labels(
    labels: Path,
    output: Path,
    *,
    recipe: str,
    params: WindowParams,
    seed: int,
    folds: int,
    bootstrap: int,
    features: FeatureFactory | None = None,
    keep_going: bool = False,
    on_file: FileCallback | None = None,
) -> tuple[EvaluationReport, Dataset]:
    """Subject-grouped k-fold evaluation of ``recipe`` on ``labels``; write the report."""
    pipe: ClassifierPipeline = build_pipeline(recipe, features=features)
    table = group_labels(load_labels(labels), labels.parent, str(labels))
    grouped_folds([f.subject for f in table], folds, seed)  # too few subjects: stop before work
    data = build_dataset(labels, pipe, params, keep_going=keep_going, on_file=on_file)
    cv = cross_validate(pipe, data.X, data.y, data.groups, data.class_names, k=folds, seed=seed)
    n_classes = len(data.class_names)
    cm = confusion_matrix(data.y, cv.y_pred, n_classes)
    overall = overall_metrics(cm)
    ci_all, ci_class = bootstrap_cis(
        data.y, cv.y_pred, data.groups, n_classes, n=bootstrap, seed=seed
    )
    per_class = tuple(
        ClassMetrics(label=name, ci=ci_class[c], **class_metrics(cm)[c])
        for c, name in enumerate(data.class_names)
    )
    subjects = sorted(set(data.groups))
    notes = [
        "metrics are computed on the pooled out-of-fold predictions; confidence intervals "
        "are 95 % percentile intervals over bootstrap resamples of subjects",
    ]
    if len(subjects) < 5:
        notes.append(
            f"only {len(subjects)} subjects (groups): the intervals are not meaningful with so "
            "few, and the figures describe these recordings, not a population"
        )
    report = EvaluationReport(
        recipe=recipe,
        features=data.features.source,
        window=params,
        seed=seed,
        folds_requested=folds,
        bootstrap=bootstrap,
        class_names=data.class_names,
        labels_sha256=data.labels_sha256,
        inputs=tuple(data.inputs),
        windows=data.counts,
        folds=tuple(
            FoldRecord(
                fold=k,
                train_subjects=tuple(tr),
                test_subjects=tuple(te),
                n_train=ntr,
                n_test=nte,
            )
            for k, (tr, te, ntr, nte) in enumerate(cv.folds)
        ),
        confusion=tuple(tuple(int(v) for v in row) for row in cm),
        accuracy=overall["accuracy"],
        macro_f1=overall["macro_f1"],
        overall_ci=ci_all,
        per_class=per_class,
        failed_inputs=len(data.failures),
        versions=versions(),
        notes=tuple(notes),
        created_at=utc_now(),
    )
    write_model_atomic(output, report)
    return report, data


@dataclass(frozen=True)
class FilePredictions:
    """The class of every window of one recording (or why it has none)."""

    spans: list[tuple[float, float]]
    labels: list[str]
    status: list[str]
    counts: WindowCounts


def predict_file(
    loaded: LoadedModel,
    results: Path,
    features: FeatureFactory | None = None,
    *,
    video: str | None = None,
) -> FilePredictions:
    """Windows of ``results`` classified by ``loaded`` (checked against its provenance first).

    Raises
    ------
    ModelMismatchError
        The recording's skeleton or the features differ from training.
    """
    trial = load_trial(results, video=video)
    pipe = build_pipeline(loaded.recipe, features=features)
    fset = pipe.feature_set(trial.skeleton)
    check_input(loaded, trial.skeleton.name, tuple(trial.skeleton.joints), fset.source)
    check_pose_model(loaded, trial.model_name)
    spans: list[tuple[float, float]] = []
    labels: list[str] = []
    status: list[str] = []
    rows: list[tuple[int, np.ndarray]] = []
    rejected: Counter[str] = Counter()
    for w in cut_windows(trial.timestamps, trial.poses, loaded.window):
        spans.append((w.start_s, w.end_s))
        reason = "too_many_missing_frames" if w.too_sparse(loaded.window.max_missing) else ""
        if not reason:
            vec = fset.vector(w.times_s, w.poses)
            if np.isfinite(vec).all():
                rows.append((len(labels), vec))
            else:
                reason = "features_undefined"
        labels.append("")
        status.append(reason or "ok")
        if reason:
            rejected[reason] += 1
    if rows:
        pred = pipe.classify(loaded.model, np.vstack([v for _, v in rows]))
        for (k, _), p in zip(rows, pred.tolist(), strict=True):
            labels[k] = loaded.class_names[p]
    accepted = Counter(lab for lab in labels if lab)
    return FilePredictions(spans, labels, status, counts_of(accepted, rejected))


def write_predictions(path: Path, pred: FilePredictions) -> None:
    """``start_s,end_s,label,status`` CSV (status ``ok`` or the rejection reason)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["start_s", "end_s", "label", "status"])
    for (a, b), lab, st in zip(pred.spans, pred.labels, pred.status, strict=True):
        writer.writerow([f"{a:.6f}", f"{b:.6f}", lab, st])
    write_bytes_atomic(path, buf.getvalue().encode("utf-8"))
