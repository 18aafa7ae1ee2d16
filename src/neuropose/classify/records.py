"""The files of ``neuropose classify``: labels rows, model provenance, evaluation report.

Every file the classifier reads or writes passes through one of these frozen,
``extra="forbid"`` models. Training inputs are recorded **by SHA-256 only**:
file names of clinical recordings often carry patient names, and a model file
travels further than the data it was trained on.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from neuropose.schemas.base import Document, FrozenModel

__all__ = [
    "REJECT_REASONS",
    "ClassMetrics",
    "EvaluationReport",
    "FeatureSource",
    "FoldRecord",
    "Interval",
    "LabelRow",
    "ModelProvenance",
    "TrainingInput",
    "WindowCounts",
    "WindowParams",
]

#: Why a window is not used, in the order the checks run (see :mod:`.windows`).
REJECT_REASONS: tuple[str, ...] = (
    "crosses_label_boundary",
    "outside_labels",
    "too_many_missing_frames",
    "features_undefined",
)


class LabelRow(FrozenModel):
    """One row of a labels table: ``file`` holds ``label`` from ``start_s`` to ``end_s``.

    Attributes
    ----------
    file : str
        Results file, relative to the labels table's folder (or absolute).
    start_s, end_s : float
        Interval in the results' own timestamps (seconds), ``end_s > start_s``.
    label : str
        Class name.
    subject : str
        Pseudonymous subject id; evaluation never puts one subject in both
        the training and the test part of a fold.
    """

    file: str = Field(min_length=1)
    start_s: float
    end_s: float
    label: str = Field(min_length=1)
    subject: str = Field(min_length=1)

    @model_validator(mode="after")
    def _ordered(self) -> LabelRow:
        if not self.end_s > self.start_s:
            raise ValueError(f"end_s ({self.end_s}) must be greater than start_s ({self.start_s})")
        return self


class Interval(FrozenModel):
    """A labelled interval of one file (seconds)."""

    start_s: float
    end_s: float
    label: str


class WindowParams(FrozenModel):
    """How recordings are cut into windows.

    Attributes
    ----------
    win_s : float
        Window length, seconds (> 0).
    hop_s : float
        Step between window starts, seconds (> 0).
    max_missing : float
        Largest accepted fraction of frames without the subject, 0..1.
    """

    win_s: float = Field(gt=0)
    hop_s: float = Field(gt=0)
    max_missing: float = Field(ge=0, le=1)


class WindowCounts(FrozenModel):
    """Accepted windows per class and rejected windows per reason."""

    total: int = 0
    accepted: dict[str, int] = Field(default_factory=dict)
    rejected: dict[str, int] = Field(default_factory=dict)


class FeatureSource(FrozenModel):
    """What turns a window into a feature vector.

    Attributes
    ----------
    kind : {"window_stats", "signals"}
        Built-in angle/speed statistics, or statistics of a signal graph's outputs.
    sha256 : str
        SHA-256 of the canonical feature definition (for ``signals``, it
        includes the spec's own sha256): the model refuses other features.
    feature_names : list of str
        Column order of the feature vector.
    """

    kind: Literal["window_stats", "signals"]
    sha256: str
    feature_names: tuple[str, ...]


class TrainingInput(FrozenModel):
    """One training recording, by content hash only, and the pose model that made it."""

    sha256: str
    pose_model: str = ""
    pose_model_sha256: str = ""
    windows: WindowCounts


class ModelProvenance(Document):
    """The sidecar ``<model>.provenance.json`` written beside every trained model.

    ``predict`` compares it with the input and refuses a mismatch.
    """

    kind: Literal["neuropose-classifier"] = "neuropose-classifier"
    recipe: str
    model_format: Literal["npz", "joblib"]
    model_sha256: str
    pose_models: tuple[str, ...] = ()
    skeleton: str
    joint_names: tuple[str, ...]
    features: FeatureSource
    window: WindowParams
    class_names: tuple[str, ...]
    seed: int
    versions: dict[str, str]
    labels_sha256: str
    training_inputs: tuple[TrainingInput, ...]
    windows: WindowCounts
    failed_inputs: int = 0
    created_at: str


class ClassMetrics(FrozenModel):
    """One class's metrics (None where the denominator is 0) and their 95 % CIs."""

    label: str
    support: int
    sensitivity: float | None
    specificity: float | None
    ppv: float | None
    npv: float | None
    f1: float | None
    ci: dict[str, tuple[float, float] | None] = Field(default_factory=dict)


class FoldRecord(FrozenModel):
    """Which subjects trained and which tested one fold."""

    fold: int
    train_subjects: tuple[str, ...]
    test_subjects: tuple[str, ...]
    n_train: int
    n_test: int


class EvaluationReport(Document):
    """The report of ``neuropose classify evaluate`` (seeded: identical but for ``created_at``)."""

    kind: Literal["neuropose-classifier-evaluation"] = "neuropose-classifier-evaluation"
    recipe: str
    features: FeatureSource
    window: WindowParams
    seed: int
    folds_requested: int
    bootstrap: int
    class_names: tuple[str, ...]
    labels_sha256: str
    inputs: tuple[TrainingInput, ...]
    windows: WindowCounts
    folds: tuple[FoldRecord, ...]
    confusion: tuple[tuple[int, ...], ...]
    accuracy: float | None
    macro_f1: float | None
    overall_ci: dict[str, tuple[float, float] | None]
    per_class: tuple[ClassMetrics, ...]
    failed_inputs: int = 0
    versions: dict[str, str]
    notes: tuple[str, ...] = ()
    created_at: str
