"""Classifiers: two NumPy models that need nothing optional, and scikit-learn recipes.

Both NumPy models standardise every feature with the training mean and
population standard deviation (a feature constant in the training data gets
scale 1); they are deterministic (no random initialisation), so the seed
only matters to the scikit-learn recipes and to evaluation.

* :class:`CentroidModel`: nearest class centroid in standardised space
  (Euclidean). A class without training windows is never predicted.
* :class:`LogisticModel` (the default): multinomial logistic regression with
  an L2 penalty ``l2/2·‖W‖²`` (the bias is not penalised), fitted by full-batch
  gradient descent from zero weights with step ``1/L``, ``L = ‖X‖₂²/(2N) + l2``
  (a bound on the gradient's Lipschitz constant), for ``iterations`` steps.

Both store as plain arrays (``to_arrays`` / ``from_arrays``), so a model file is
an ``.npz`` read with ``allow_pickle=False``.

Examples
--------
>>> X = np.array([[0.0], [0.1], [1.0], [1.1]]); y = np.array([0, 0, 1, 1])
>>> CentroidModel.fit(X, y, 2).predict(np.array([[0.2], [0.9]])).tolist()
[0, 1]
>>> LogisticModel.fit(X, y, 2).predict(np.array([[0.2], [0.9]])).tolist()
[0, 1]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from neuropose.errors import ResourceError

__all__ = [
    "NUMPY_MODELS",
    "SKLEARN_MODELS",
    "CentroidModel",
    "ExtraMissingError",
    "LogisticModel",
    "Standardiser",
    "sklearn_estimator",
]


class ExtraMissingError(ResourceError):
    """An optional dependency of a recipe is not installed (exit code 4)."""


@dataclass(frozen=True)
class Standardiser:
    """Per-feature centring and scaling learned on training data."""

    mean: np.ndarray
    scale: np.ndarray

    @classmethod
    def fit(cls, X: np.ndarray) -> Standardiser:
        """Mean and population sd of each column.

        A column that is constant up to float32 rounding (sd ≤ 1e-6·(1 + |mean|);
        poses are stored as float32) gets scale 1: dividing by its rounding
        noise would blow up any other recording's value of it.
        """
        mean = X.mean(axis=0)
        sd = X.std(axis=0)
        return cls(mean=mean, scale=np.where(sd > 1e-6 * (1 + np.abs(mean)), sd, 1.0))

    def __call__(self, X: np.ndarray) -> np.ndarray:
        return (np.asarray(X, dtype=np.float64) - self.mean) / self.scale


@dataclass(frozen=True)
class CentroidModel:
    """Nearest standardised class centroid; rows of ``centroids`` are NaN for absent classes."""

    std: Standardiser
    centroids: np.ndarray

    @classmethod
    def fit(cls, X: np.ndarray, y: np.ndarray, n_classes: int) -> CentroidModel:
        """Centroids of each class in standardised space."""
        std = Standardiser.fit(X)
        Z = std(X)
        cent = np.full((n_classes, X.shape[1]), np.nan)
        for c in range(n_classes):
            if np.any(y == c):
                cent[c] = Z[y == c].mean(axis=0)
        return cls(std=std, centroids=cent)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Class index of each row of ``X`` (ties: the lower index)."""
        Z = self.std(X)
        d = ((Z[:, None, :] - self.centroids[None]) ** 2).sum(axis=2)
        d = np.where(np.isnan(d), np.inf, d)
        return np.argmin(d, axis=1)

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {"mean": self.std.mean, "scale": self.std.scale, "centroids": self.centroids}

    @classmethod
    def from_arrays(cls, a: dict[str, np.ndarray]) -> CentroidModel:
        return cls(std=Standardiser(a["mean"], a["scale"]), centroids=a["centroids"])


@dataclass(frozen=True)
class LogisticModel:
    """Multinomial logistic regression on standardised features."""

    std: Standardiser
    weights: np.ndarray  # (K + 1, C): last row is the bias

    @classmethod
    def fit(
        cls,
        X: np.ndarray,
        y: np.ndarray,
        n_classes: int,
        *,
        l2: float = 1e-2,
        iterations: int = 1000,
    ) -> LogisticModel:
        """Gradient descent on the mean cross-entropy plus ``l2/2·‖W‖²``."""
        std = Standardiser.fit(X)
        Xb = np.hstack([std(X), np.ones((X.shape[0], 1))])
        n = Xb.shape[0]
        Y = np.zeros((n, n_classes))
        Y[np.arange(n), y] = 1.0
        W = np.zeros((Xb.shape[1], n_classes))
        step = 1.0 / (np.linalg.norm(Xb, 2) ** 2 / (2 * n) + l2)
        penal = np.ones((Xb.shape[1], 1))
        penal[-1] = 0.0
        for _ in range(iterations):
            grad = Xb.T @ (_softmax(Xb @ W) - Y) / n + l2 * penal * W
            W = W - step * grad
        return cls(std=std, weights=W)

    def probabilities(self, X: np.ndarray) -> np.ndarray:
        """Class probabilities (N, C)."""
        Z = self.std(X)
        return _softmax(np.hstack([Z, np.ones((Z.shape[0], 1))]) @ self.weights)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Most probable class index of each row."""
        return np.argmax(self.probabilities(X), axis=1)

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {"mean": self.std.mean, "scale": self.std.scale, "weights": self.weights}

    @classmethod
    def from_arrays(cls, a: dict[str, np.ndarray]) -> LogisticModel:
        return cls(std=Standardiser(a["mean"], a["scale"]), weights=a["weights"])


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


#: NumPy models by recipe name.
NUMPY_MODELS: dict[str, type[CentroidModel] | type[LogisticModel]] = {
    "logistic": LogisticModel,
    "centroid": CentroidModel,
}
#: scikit-learn recipes (extra ``neuropose[classify]``).
SKLEARN_MODELS: tuple[str, ...] = ("sklearn-logistic", "sklearn-forest")


def sklearn_estimator(name: str, seed: int) -> Any:
    """A fresh scikit-learn pipeline for recipe ``name`` (standardise + classifier).

    Raises
    ------
    ExtraMissingError
        scikit-learn is not installed; names the extra that installs it.
    """
    try:
        from sklearn.ensemble import RandomForestClassifier
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler
    except ImportError:
        raise ExtraMissingError(
            f"the {name!r} recipe needs scikit-learn, which is not installed",
            hint="pip install 'neuropose[classify]', or use --model logistic or centroid "
            "(NumPy only)",
        ) from None
    if name == "sklearn-forest":
        return RandomForestClassifier(n_estimators=200, random_state=seed)
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, random_state=seed))
