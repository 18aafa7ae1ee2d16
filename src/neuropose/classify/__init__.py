"""Movement classification over pose windows: extract/train/predict hooks, checked models.

Typical use::

    from neuropose.classify import build_pipeline, build_dataset, WindowParams
    pipe = build_pipeline("logistic")                      # window statistics + NumPy model
    data = build_dataset(Path("labels.csv"), pipe, WindowParams(win_s=1, hop_s=0.5,
                                                                max_missing=0.2))
    model = pipe.fit(data.X, data.y, data.class_names, seed=0)

Modules: :mod:`~neuropose.classify.windows` (labels tables, windows, rejection
reasons), :mod:`~neuropose.classify.features` (window statistics),
:mod:`~neuropose.classify.models` (NumPy and scikit-learn models),
:mod:`~neuropose.classify.pipeline` (``ClassifierPipeline``),
:mod:`~neuropose.classify.dataset`, :mod:`~neuropose.classify.evaluate`
(subject-grouped folds, clinical metrics), :mod:`~neuropose.classify.store`
(model files and provenance), :mod:`~neuropose.classify.run` (what the
``neuropose classify`` commands do), :mod:`~neuropose.classify.records`
(file schemas), :mod:`~neuropose.classify.signal_features` (``--spec``),
:mod:`~neuropose.classify.seglabels` (labels from stored segmentations),
:mod:`~neuropose.classify.online` (frame-by-frame classification).
"""

from neuropose.classify.dataset import Dataset, build_dataset
from neuropose.classify.evaluate import (
    class_metrics,
    confusion_matrix,
    cross_validate,
    grouped_folds,
    overall_metrics,
)
from neuropose.classify.pipeline import RECIPES, ClassifierPipeline, FeatureSet, build_pipeline
from neuropose.classify.records import REJECT_REASONS, WindowParams
from neuropose.classify.store import load_classifier, save_classifier

__all__ = [
    "RECIPES",
    "REJECT_REASONS",
    "ClassifierPipeline",
    "Dataset",
    "FeatureSet",
    "WindowParams",
    "build_dataset",
    "build_pipeline",
    "class_metrics",
    "confusion_matrix",
    "cross_validate",
    "grouped_folds",
    "load_classifier",
    "overall_metrics",
    "save_classifier",
]
