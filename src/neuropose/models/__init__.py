"""Pose models: the protocol, the registry, and the built-in backends.

Importing this package is cheap (no TensorFlow); backends import TensorFlow
only when a model is loaded. See :mod:`neuropose.models.registry` for the
model specifications :func:`load_pose_model` accepts and
:mod:`neuropose.models.cache` for the cache layout.

Examples
--------
>>> from neuropose.config import load_settings
>>> from neuropose.models import load_pose_model
>>> model = load_pose_model("blazepose-full", load_settings().settings)  # doctest: +SKIP
>>> model.skeleton.name  # doctest: +SKIP
'blazepose_33'
"""

from __future__ import annotations

from neuropose.models.base import FrameDetections, PoseModel
from neuropose.models.cache import ModelManifest
from neuropose.models.errors import (
    CorruptModelError,
    InvalidModelOptionError,
    ModelBusyError,
    ModelFetchError,
    ModelIntegrityError,
    ModelLoadError,
    ModelNotCachedError,
    RuntimeMissingError,
    UnknownModelError,
    UnpinnedModelError,
)
from neuropose.models.install import fetch_model, remove_model, verify_model
from neuropose.models.registry import (
    Backend,
    FetchOptions,
    ModelEntry,
    ModelStatus,
    Staged,
    get_entry,
    known_models,
    load_pose_model,
    model_path,
    model_status,
    parse_options,
    register_backend,
    register_model,
)

__all__ = [
    "Backend",
    "CorruptModelError",
    "FetchOptions",
    "FrameDetections",
    "InvalidModelOptionError",
    "ModelBusyError",
    "ModelEntry",
    "ModelFetchError",
    "ModelIntegrityError",
    "ModelLoadError",
    "ModelManifest",
    "ModelNotCachedError",
    "ModelStatus",
    "PoseModel",
    "RuntimeMissingError",
    "Staged",
    "UnknownModelError",
    "UnpinnedModelError",
    "fetch_model",
    "get_entry",
    "known_models",
    "load_pose_model",
    "model_path",
    "model_status",
    "parse_options",
    "register_backend",
    "register_model",
    "remove_model",
    "verify_model",
]
