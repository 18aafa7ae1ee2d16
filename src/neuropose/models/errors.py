"""Errors of the model layer (each a subclass of a :mod:`neuropose.errors` category)."""

from __future__ import annotations

from neuropose.errors import BusyError, ProcessingError, ResourceError, UsageError

__all__ = [
    "CorruptModelError",
    "InvalidModelOptionError",
    "ModelBusyError",
    "ModelFetchError",
    "ModelIntegrityError",
    "ModelLoadError",
    "ModelNotCachedError",
    "RuntimeMissingError",
    "UnknownModelError",
    "UnpinnedModelError",
]


class UnknownModelError(UsageError):
    """A model name is not in the registry (exit 2); the message lists known names."""


class InvalidModelOptionError(UsageError):
    """A ``?key=value`` option of a model spec is unknown or has a bad value (exit 2)."""


class UnpinnedModelError(UsageError):
    """A model without a published sha256 was fetched without ``--sha256``/``--trust-unpinned``."""


class ModelNotCachedError(ResourceError):
    """The weights of a known model are not in the cache (exit 4); the hint says how to fetch."""


class CorruptModelError(ResourceError):
    """Cached weights do not match their recorded sha256 or size (exit 4); names the file."""


class ModelFetchError(ResourceError):
    """Downloading or unpacking weights failed: offline, HTTP error, truncated, bad archive."""


class ModelIntegrityError(ModelFetchError):
    """Fetched bytes do not match the expected sha256 or size; nothing was installed."""


class ModelBusyError(BusyError):
    """Another process is fetching or removing the same model (exit 3)."""


class RuntimeMissingError(ResourceError):
    """The runtime a model needs is not installed (exit 4); the hint names the package/extra."""


class ModelLoadError(ProcessingError):
    """Weights are present but the model could not be built (exit 1)."""
