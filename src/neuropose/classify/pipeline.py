"""``ClassifierPipeline``: the extract, train and predict hooks of a classifier.

A pipeline is three functions registered with decorators, which return the
function unchanged (so it stays callable and testable on its own):

* ``@pipe.extract``: ``fn(times_s, poses, skeleton) -> Mapping[str, float]``,
  the features of one window from that window's frames only (``times_s``
  (n,) seconds, ``poses`` (n, J, 3) mm, NaN where the subject is missing).
  The same function serves training, ``predict`` and live classification,
  so features are computed identically offline and online. Its key order is
  the feature order. A hook may instead carry a ``feature_set(skeleton)``
  attribute returning a :class:`FeatureSet` (the built-in ones do).
* ``@pipe.train``: ``fn(X, y, class_names, seed) -> model``, ``X`` (N, K)
  float, ``y`` (N,) class indices into ``class_names``.
* ``@pipe.predict``: ``fn(model, X) -> (N,) class indices``.

Examples
--------
>>> import numpy as np
>>> pipe = ClassifierPipeline("toy")
>>> @pipe.extract
... def height(times_s, poses, skeleton):
...     return {"mean_y": float(np.nanmean(poses[:, :, 1]))}
>>> @pipe.train
... def fit(X, y, class_names, seed):
...     return float(X[:, 0].mean())
>>> @pipe.predict
... def classify(model, X):
...     return (X[:, 0] > model).astype(int)
>>> height.__name__, pipe.fit(np.array([[0.0], [2.0]]), np.array([0, 1]), ("a", "b"), 0)
('height', 1.0)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from neuropose.classify.features import WindowStats, definition_sha256
from neuropose.classify.models import (
    NUMPY_MODELS,
    SKLEARN_MODELS,
    sklearn_estimator,
)
from neuropose.classify.records import FeatureSource
from neuropose.errors import InputError, UsageError
from neuropose.schemas import Skeleton

__all__ = ["RECIPES", "ClassifierPipeline", "FeatureSet", "build_pipeline", "feature_hook"]

ExtractFn = Callable[[np.ndarray, np.ndarray, Skeleton], Mapping[str, float]]
TrainFn = Callable[[np.ndarray, np.ndarray, Sequence[str], int], Any]
PredictFn = Callable[[Any, np.ndarray], np.ndarray]

#: Every built-in recipe (model) name: NumPy first, then scikit-learn.
RECIPES: tuple[str, ...] = (*NUMPY_MODELS, *SKLEARN_MODELS)


@dataclass(frozen=True)
class FeatureSet:
    """Features of one skeleton: names, definition hash and the vector function."""

    kind: Literal["window_stats", "signals"]
    names: tuple[str, ...]
    sha256: str
    vector: Callable[[np.ndarray, np.ndarray], np.ndarray]

    @property
    def source(self) -> FeatureSource:
        """The provenance record of these features."""
        return FeatureSource(kind=self.kind, sha256=self.sha256, feature_names=self.names)


class ClassifierPipeline:
    """Extract, train and predict hooks (see the module docstring)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._extract: ExtractFn | None = None
        self._train: TrainFn | None = None
        self._predict: PredictFn | None = None

    def extract(self, fn: ExtractFn) -> ExtractFn:
        """Register the feature hook; returns ``fn`` unchanged."""
        self._extract = fn
        return fn

    def train(self, fn: TrainFn) -> TrainFn:
        """Register the training hook; returns ``fn`` unchanged."""
        self._train = fn
        return fn

    def predict(self, fn: PredictFn) -> PredictFn:
        """Register the prediction hook; returns ``fn`` unchanged."""
        self._predict = fn
        return fn

    def _hook(self, name: str) -> Any:
        fn = getattr(self, f"_{name}")
        if fn is None:
            raise UsageError(f"classifier pipeline {self.name!r} has no @{name} hook")
        return fn

    def feature_set(self, skeleton: Skeleton) -> FeatureSet:
        """The features this pipeline computes for ``skeleton``."""
        fn = self._hook("extract")
        factory = getattr(fn, "feature_set", None)
        if factory is not None:
            made: FeatureSet = factory(skeleton)
            return made
        probe_t = np.array([0.0, 1 / 30])
        probe = np.zeros((2, len(skeleton.joints), 3))
        names = tuple(fn(probe_t, probe, skeleton))

        def vector(times_s: np.ndarray, poses: np.ndarray) -> np.ndarray:
            values = fn(times_s, poses, skeleton)
            if tuple(values) != names:
                raise InputError(
                    f"the @extract hook of {self.name!r} returned other features than on "
                    f"its first call ({len(values)} instead of {len(names)})"
                )
            return np.asarray([values[n] for n in names], dtype=np.float64)

        sha = definition_sha256(
            {"extractor": f"{fn.__module__}.{fn.__qualname__}", "features": list(names)}
        )
        return FeatureSet("window_stats", names, sha, vector)

    def fit(self, X: np.ndarray, y: np.ndarray, class_names: Sequence[str], seed: int) -> Any:
        """Run the train hook."""
        return self._hook("train")(X, y, class_names, seed)

    def classify(self, model: Any, X: np.ndarray) -> np.ndarray:
        """Run the predict hook; class indices as int64."""
        return np.asarray(self._hook("predict")(model, X), dtype=np.int64)


def _window_stats(skeleton: Skeleton) -> FeatureSet:
    ws = WindowStats(skeleton)
    return FeatureSet("window_stats", ws.feature_names, ws.sha256, ws)


def feature_hook(factory: Callable[[Skeleton], FeatureSet] = _window_stats) -> ExtractFn:
    """An ``@extract`` hook computing ``factory(skeleton)``'s features (cached per skeleton).

    The hook carries ``feature_set`` (the factory, cached), so pipelines use
    the factory's names and definition hash.
    """
    cache: dict[Skeleton, FeatureSet] = {}

    def feature_set(skeleton: Skeleton) -> FeatureSet:
        if skeleton not in cache:
            cache[skeleton] = factory(skeleton)
        return cache[skeleton]

    def extract(times_s: np.ndarray, poses: np.ndarray, skeleton: Skeleton) -> dict[str, float]:
        fs = feature_set(skeleton)
        return dict(zip(fs.names, fs.vector(times_s, poses).tolist(), strict=True))

    extract.feature_set = feature_set  # type: ignore[attr-defined]
    return extract


def build_pipeline(
    recipe: str = "logistic", *, features: Callable[[Skeleton], FeatureSet] | None = None
) -> ClassifierPipeline:
    """A built-in pipeline: window statistics (or ``features``) + the ``recipe`` model.

    Parameters
    ----------
    recipe : str
        One of :data:`RECIPES`: ``logistic`` (default) and ``centroid`` need
        only NumPy; ``sklearn-logistic`` and ``sklearn-forest`` need the
        ``neuropose[classify]`` extra.
    features : callable, optional
        ``skeleton -> FeatureSet`` replacing the window statistics (the signal
        graph's features, ``--spec``).

    Raises
    ------
    UsageError
        Unknown recipe.
    """
    if recipe not in RECIPES:
        raise UsageError(f"unknown model {recipe!r}", hint=f"choose one of {', '.join(RECIPES)}")
    pipe = ClassifierPipeline(recipe)
    pipe.extract(feature_hook(features or _window_stats))

    if recipe in NUMPY_MODELS:
        model_cls = NUMPY_MODELS[recipe]

        @pipe.train
        def fit_numpy(X: np.ndarray, y: np.ndarray, class_names: Sequence[str], seed: int) -> Any:
            return model_cls.fit(X, y, len(class_names))

    else:
        sklearn_estimator(recipe, 0)  # a missing extra fails before any work

        @pipe.train
        def fit_sklearn(X: np.ndarray, y: np.ndarray, class_names: Sequence[str], seed: int) -> Any:
            if np.unique(y).size < 2:
                raise InputError(
                    f"{recipe}: the training windows hold one class only "
                    f"({class_names[int(y[0])]!r}); it needs at least two"
                )
            return sklearn_estimator(recipe, seed).fit(X, y)

    @pipe.predict
    def predict(model: Any, X: np.ndarray) -> np.ndarray:
        return np.asarray(model.predict(X), dtype=np.int64)

    return pipe
