"""Labelled windows of many results files: the training and evaluation data.

Every file of a labels table is loaded (the primary subject, as the analyzer
does), cut into windows (:mod:`neuropose.classify.windows`), labelled, and
turned into feature vectors by the pipeline's extract hook. Rejected windows
are counted per reason. All files must share one skeleton. Inputs are
recorded by SHA-256 only.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from neuropose.analyzer.load import Trial, load_trial
from neuropose.classify.pipeline import ClassifierPipeline, FeatureSet
from neuropose.classify.records import (
    REJECT_REASONS,
    TrainingInput,
    WindowCounts,
    WindowParams,
)
from neuropose.classify.windows import (
    LabelledFile,
    cut_windows,
    group_labels,
    label_window,
    load_labels,
)
from neuropose.errors import InputError, NeuroPoseError
from neuropose.io import sha256_file
from neuropose.schemas import Skeleton

__all__ = ["Dataset", "SkeletonMismatchError", "build_dataset", "check_skeleton", "counts_of"]


class SkeletonMismatchError(InputError):
    """Recordings (or a model and a recording) use different skeletons or joint sets."""


def check_skeleton(expected: Skeleton, got: Skeleton, what: str, where: str) -> None:
    """Raise when ``got`` differs from ``expected`` in name or joints.

    ``what`` says whose expectation it is (``"model was trained for"``, ...).
    """
    if got.name == expected.name and tuple(got.joints) == tuple(expected.joints):
        return
    missing = [j for j in expected.joints if j not in got.joints]
    detail = f"; missing {missing[:6]}" if missing else ""
    raise SkeletonMismatchError(
        f"{what} skeleton {expected.name!r} ({len(expected.joints)} joints) but {where} has "
        f"skeleton {got.name!r} ({len(got.joints)} joints){detail}",
        hint="use recordings made with the same pose model",
    )


def counts_of(accepted: Counter[str], rejected: Counter[str]) -> WindowCounts:
    """A :class:`WindowCounts` with every rejection reason present (0 when none)."""
    return WindowCounts(
        total=sum(accepted.values()) + sum(rejected.values()),
        accepted=dict(sorted(accepted.items())),
        rejected={r: int(rejected.get(r, 0)) for r in REJECT_REASONS},
    )


@dataclass
class Dataset:
    """Feature rows of every accepted window, with labels and subjects."""

    X: np.ndarray
    y: np.ndarray
    groups: np.ndarray
    class_names: tuple[str, ...]
    skeleton: Skeleton
    features: FeatureSet
    inputs: list[TrainingInput]
    counts: WindowCounts
    labels_sha256: str
    failures: list[tuple[Path, NeuroPoseError]] = field(default_factory=list)


@dataclass
class _Rows:
    feats: list[np.ndarray] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    accepted: Counter[str] = field(default_factory=Counter)
    rejected: Counter[str] = field(default_factory=Counter)


def _windows_of(
    trial: Trial, item: LabelledFile, params: WindowParams, features: FeatureSet, rows: _Rows
) -> WindowCounts:
    acc: Counter[str] = Counter()
    rej: Counter[str] = Counter()
    for w in cut_windows(trial.timestamps, trial.poses, params):
        label, reason = label_window(w.start_s, w.end_s, item.intervals)
        if label is not None and w.too_sparse(params.max_missing):
            label, reason = None, "too_many_missing_frames"
        if label is not None:
            vec = features.vector(w.times_s, w.poses)
            if not np.isfinite(vec).all():
                label, reason = None, "features_undefined"
            else:
                rows.feats.append(vec)
                rows.labels.append(label)
                rows.groups.append(item.subject)
                acc[label] += 1
                continue
        rej[reason] += 1
    rows.accepted.update(acc)
    rows.rejected.update(rej)
    return counts_of(acc, rej)


def build_dataset(
    labels_path: Path,
    pipeline: ClassifierPipeline,
    params: WindowParams,
    *,
    keep_going: bool = False,
    on_file: Callable[[Path, NeuroPoseError | None], None] | None = None,
) -> Dataset:
    """Windows, labels and features of every file of a labels table.

    Parameters
    ----------
    labels_path : Path
        The labels table (``file`` paths are relative to its folder).
    pipeline : ClassifierPipeline
        Its extract hook makes the features.
    params : WindowParams
        Window length, hop and missing-frame limit.
    keep_going : bool
        Record a file that fails to load (or has another skeleton) and go on;
        otherwise the first failure raises.
    on_file : callable, optional
        Called with each file and its error (None when it loaded), in order.

    Raises
    ------
    InputError
        A malformed table, a file that fails (without ``keep_going``), or no
        accepted window at all.
    """
    rows_in = load_labels(labels_path)
    files = group_labels(rows_in, labels_path.parent, str(labels_path))
    rows = _Rows()
    inputs: list[TrainingInput] = []
    failures: list[tuple[Path, NeuroPoseError]] = []
    skeleton: Skeleton | None = None
    features: FeatureSet | None = None
    for item in files:
        try:
            trial = load_trial(item.path)
            if skeleton is None:
                skeleton = trial.skeleton
                features = pipeline.feature_set(skeleton)
            check_skeleton(skeleton, trial.skeleton, "the first recording has", item.path.name)
            assert features is not None
            counts = _windows_of(trial, item, params, features, rows)
            inputs.append(
                TrainingInput(
                    sha256=sha256_file(item.path),
                    pose_model=trial.model_name,
                    pose_model_sha256=trial.model_sha256,
                    windows=counts,
                )
            )
        except NeuroPoseError as exc:
            if not keep_going:
                raise
            failures.append((item.path, exc))
            if on_file is not None:
                on_file(item.path, exc)
            continue
        if on_file is not None:
            on_file(item.path, None)
    counts = counts_of(rows.accepted, rows.rejected)
    if skeleton is None or features is None or not rows.feats:
        raise InputError(
            f"{labels_path}: no window could be used "
            f"(rejected: {', '.join(f'{k} {v}' for k, v in counts.rejected.items() if v)}"
            f"{'; ' + str(len(failures)) + ' files failed' if failures else ''})",
            hint="check that start_s/end_s use the results' timestamps and that intervals "
            "are at least as long as --win",
        )
    class_names = tuple(sorted(set(rows.labels)))
    index = {c: k for k, c in enumerate(class_names)}
    return Dataset(
        X=np.vstack(rows.feats),
        y=np.array([index[c] for c in rows.labels], dtype=np.int64),
        groups=np.array(rows.groups, dtype=object),
        class_names=class_names,
        skeleton=skeleton,
        features=features,
        inputs=inputs,
        counts=counts,
        labels_sha256=sha256_file(labels_path),
        failures=failures,
    )
