"""Model files and their provenance sidecar; the checks ``predict`` runs.

A trained model is two files written atomically (``neuropose.io``):

* the model: ``.npz`` for the NumPy recipes (plain arrays plus the recipe,
  class and feature names and window parameters as string/float arrays,
  read with ``allow_pickle=False``: loading it runs no code), or ``.joblib``
  for scikit-learn recipes (a pickle);
* the sidecar ``<model>.provenance.json`` (:class:`ModelProvenance`): the
  model's SHA-256, skeleton and joint names, feature definition hash and
  names, window parameters, class names, seed, versions, and the training
  inputs by hash.

Loading a pickle runs code chosen by whoever wrote the file, so a
``.joblib`` model is loaded only when its sidecar's ``model_sha256`` matches
the file's bytes and neither the file nor its folder is writable by other
users; without a sidecar it needs ``allow_unverified``. A sidecar that does
not match is refused even then: the flag is for models that never had one.
"""

from __future__ import annotations

import io
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from neuropose.classify.models import NUMPY_MODELS, SKLEARN_MODELS, ExtraMissingError
from neuropose.classify.records import FeatureSource, ModelProvenance, WindowParams
from neuropose.errors import InputError, UsageError
from neuropose.io import load_model, sha256_file, write_bytes_atomic, write_model_atomic

__all__ = [
    "LoadedModel",
    "ModelMismatchError",
    "UnverifiedModelError",
    "check_input",
    "check_pose_model",
    "load_classifier",
    "model_format",
    "save_classifier",
    "sidecar_path",
]


class ModelMismatchError(InputError):
    """The input is not what the model was trained for (exit code 2)."""


class UnverifiedModelError(InputError):
    """A model without a (matching) provenance sidecar (exit code 2)."""


def sidecar_path(model: Path | str) -> Path:
    """The provenance sidecar of a model file.

    Examples
    --------
    >>> sidecar_path("models/gait.npz").as_posix()
    'models/gait.npz.provenance.json'
    """
    p = Path(model)
    return p.with_name(p.name + ".provenance.json")


def model_format(path: Path, recipe: str) -> str:
    """``"npz"`` or ``"joblib"``: the file format of ``recipe``; checks the suffix.

    Raises
    ------
    UsageError
        The suffix of ``path`` does not match the recipe's format.
    """
    fmt = "npz" if recipe in NUMPY_MODELS else "joblib"
    if path.suffix != f".{fmt}":
        raise UsageError(
            f"-o {path}: a {recipe!r} model is saved as .{fmt}",
            hint=f"name the model file {path.with_suffix('.' + fmt).name}",
        )
    return fmt


@dataclass(frozen=True)
class LoadedModel:
    """A model ready to predict, with what it was trained for."""

    recipe: str
    model: Any
    class_names: tuple[str, ...]
    feature_names: tuple[str, ...]
    window: WindowParams
    provenance: ModelProvenance | None


def save_classifier(path: Path, model: Any, provenance: ModelProvenance) -> ModelProvenance:
    """Write the model file, then its sidecar (with the model's SHA-256); return the sidecar."""
    if provenance.model_format == "npz":
        buf = io.BytesIO()
        arrays = {f"m_{k}": np.asarray(v) for k, v in model.to_arrays().items()}
        payload: dict[str, Any] = {
            "recipe": np.array(provenance.recipe),
            "class_names": np.array(provenance.class_names, dtype=str),
            "feature_names": np.array(provenance.features.feature_names, dtype=str),
            "window": np.array(
                [provenance.window.win_s, provenance.window.hop_s, provenance.window.max_missing]
            ),
            **arrays,
        }
        np.savez(buf, **payload)
        write_bytes_atomic(path, buf.getvalue())
    else:
        import joblib  # comes with scikit-learn (the classify extra)

        buf = io.BytesIO()
        joblib.dump(
            {
                "recipe": provenance.recipe,
                "model": model,
                "class_names": provenance.class_names,
                "feature_names": provenance.features.feature_names,
                "window": provenance.window.model_dump(),
            },
            buf,
        )
        write_bytes_atomic(path, buf.getvalue())
    sealed = provenance.model_copy(update={"model_sha256": sha256_file(path)})
    write_model_atomic(sidecar_path(path), sealed)
    return sealed


def _writable_by_others(path: Path) -> bool:
    mode = os.stat(path).st_mode
    return bool(mode & stat.S_IWOTH) and not (path.is_dir() and mode & stat.S_ISVTX)


def load_classifier(path: Path, *, allow_unverified: bool = False) -> LoadedModel:
    """Load a model, checking it against its sidecar.

    Raises
    ------
    InputError
        Missing or unreadable file.
    UnverifiedModelError
        No sidecar and not ``allow_unverified``; a sidecar whose hash does not
        match (always); a pickle in a location other users can write.
    """
    if not path.is_file():
        raise InputError(f"{path}: model file not found")
    side = sidecar_path(path)
    prov: ModelProvenance | None = None
    if side.is_file():
        prov = load_model(side, ModelProvenance)
        digest = sha256_file(path)
        if digest != prov.model_sha256:
            raise UnverifiedModelError(
                f"{path}: its bytes (sha256 {digest[:12]}…) are not the model its sidecar "
                f"{side.name} describes (sha256 {prov.model_sha256[:12]}…)",
                hint="the model or the sidecar was replaced; retrain, or restore the pair",
            )
    elif not allow_unverified:
        raise UnverifiedModelError(
            f"{path}: no provenance sidecar ({side.name}), so what it was trained for cannot "
            "be checked",
            hint="pass --allow-unverified to use it anyway (pickled models run code when loaded: "
            "only for files you made)",
        )
    if path.suffix == ".npz":
        return _load_npz(path, prov)
    if path.suffix == ".joblib":
        exposed = _writable_by_others(path) or _writable_by_others(path.parent)
        if prov is not None and exposed and not allow_unverified:
            raise UnverifiedModelError(
                f"{path}: a pickled model in a location other users can write",
                hint="move it to a folder only you can write, or pass --allow-unverified",
            )
        return _load_joblib(path, prov)
    raise InputError(f"{path}: not a classifier model (.npz or .joblib)")


def _load_npz(path: Path, prov: ModelProvenance | None) -> LoadedModel:
    try:
        with np.load(path, allow_pickle=False) as z:
            data = {k: z[k] for k in z.files}
        recipe = str(data["recipe"])
        cls = NUMPY_MODELS[recipe]
        model = cls.from_arrays({k[2:]: v for k, v in data.items() if k.startswith("m_")})
        win = [float(v) for v in data["window"]]
    except (OSError, ValueError, KeyError) as exc:
        raise InputError(f"{path}: not a readable classifier model ({exc})") from None
    return LoadedModel(
        recipe=recipe,
        model=model,
        class_names=tuple(str(c) for c in data["class_names"]),
        feature_names=tuple(str(c) for c in data["feature_names"]),
        window=WindowParams(win_s=win[0], hop_s=win[1], max_missing=win[2]),
        provenance=prov,
    )


def _load_joblib(path: Path, prov: ModelProvenance | None) -> LoadedModel:
    try:
        import joblib
    except ImportError:
        raise ExtraMissingError(
            f"{path}: a scikit-learn model needs scikit-learn, which is not installed",
            hint="pip install 'neuropose[classify]'",
        ) from None
    try:
        data = joblib.load(path)
        recipe = str(data["recipe"])
        if recipe not in SKLEARN_MODELS:
            raise KeyError(recipe)
    except Exception as exc:  # a pickle can raise anything
        raise InputError(f"{path}: not a readable classifier model ({exc!r})") from None
    return LoadedModel(
        recipe=recipe,
        model=data["model"],
        class_names=tuple(data["class_names"]),
        feature_names=tuple(data["feature_names"]),
        window=WindowParams.model_validate(data["window"]),
        provenance=prov,
    )


def check_input(
    loaded: LoadedModel, skeleton_name: str, joints: tuple[str, ...], features: FeatureSource
) -> None:
    """Refuse an input the model was not trained for.

    Raises
    ------
    ModelMismatchError
        "model was trained for … but input has …" naming skeleton/joints or
        feature definition.
    """
    prov = loaded.provenance
    if prov is not None:
        if prov.skeleton != skeleton_name or tuple(prov.joint_names) != joints:
            missing = [j for j in prov.joint_names if j not in joints]
            raise ModelMismatchError(
                f"model was trained for skeleton {prov.skeleton!r} ({len(prov.joint_names)} "
                f"joints) but input has skeleton {skeleton_name!r} ({len(joints)} joints)"
                + (f"; missing {missing[:6]}" if missing else ""),
                hint="classify recordings made with the pose model the classifier was trained on",
            )
        if prov.features.sha256 != features.sha256:
            raise ModelMismatchError(
                f"model was trained for {_describe(prov.features)} but input has "
                f"{_describe(features)}",
                hint="pass the same --spec as in training (or none, if it had none)",
            )
    if tuple(loaded.feature_names) != tuple(features.feature_names):
        raise ModelMismatchError(
            f"model was trained for {len(loaded.feature_names)} features but input has "
            f"{len(features.feature_names)}",
            hint="classify recordings made with the pose model the classifier was trained on",
        )


def check_pose_model(loaded: LoadedModel, pose_model: str) -> None:
    """Refuse a recording made by another pose model than every training input.

    Two models with one skeleton (say BlazePose full and lite) place joints
    differently; a classifier's boundaries do not carry over. Nothing is
    checked for a model without provenance or with unnamed pose models.

    Raises
    ------
    ModelMismatchError
        "model was trained for poses of … but input has poses of …".
    """
    prov = loaded.provenance
    if prov is None or not prov.pose_models or not pose_model:
        return
    if pose_model not in prov.pose_models:
        raise ModelMismatchError(
            f"model was trained for poses of {', '.join(prov.pose_models)} but input has poses "
            f"of {pose_model}",
            hint="classify recordings made with the pose model the classifier was trained on",
        )


def _describe(f: FeatureSource) -> str:
    what = "window statistics" if f.kind == "window_stats" else "signal-graph features"
    return f"{what} (definition sha256 {f.sha256[:12]}…, {len(f.feature_names)} features)"
