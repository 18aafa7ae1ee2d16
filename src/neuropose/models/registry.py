"""The model registry: named weights, pluggable backends, verified fetching, loading.

A *model entry* (:class:`ModelEntry`) names downloadable weights: where they
come from, how big they are, their pinned sha256s and their licence. A
*backend* (:class:`Backend`) knows how to materialise an entry's files into a
staging directory and how to build a :class:`~neuropose.models.base.PoseModel`
from an installed directory. Backends register themselves with
:func:`register_backend` and their entries with :func:`register_model`; the
built-in ones (BlazePose, MeTRAbs) are imported on first use. TensorFlow is
only imported inside a backend's ``load``. Fetching, verifying and removing
installed weights live in :mod:`neuropose.models.install`.

Model specifications accepted by :func:`load_pose_model`
-------------------------------------------------------
``NAME``
    A registry entry, e.g. ``blazepose-full``; its weights must be in the
    cache (``neuropose models fetch NAME``).
``python:<module>:<factory>``
    ``factory(settings)`` from an importable module, for custom research
    models and test doubles (``python:tests.fakes:make_model``).
``<kind>:<location>``
    A backend loading weights from elsewhere, e.g.
    ``metrabs:/data/metrabs_eff2l`` (a SavedModel directory or tarball) or
    ``metrabs:https://tfhub.dev/...`` (a TF Hub handle).

Registry names and ``<kind>:<location>`` specs take backend options after a
``?``: ``metrabs-eff2l-384-28ds?skeleton=berkeley_mhad_43&num_aug=5``,
``blazepose-full?tracking=false``. Unknown keys and unconvertible values are
errors (:class:`~neuropose.models.errors.InvalidModelOptionError`, exit 2)
listing the allowed keys; the options used are recorded in ``model.options``.

Verification
------------
Fetching checks the downloaded archive's sha256 (pinned in the entry, or
given with ``--sha256``) and, where the entry pins them, the sha256 of every
extracted file. Entries without a published hash are fetched only with an
explicit ``--sha256`` or ``--trust-unpinned``. The installed directory's
``manifest.json`` records every file's sha256; ``verify`` re-hashes them.
See :mod:`neuropose.models.cache` for the on-disk layout.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, overload

from neuropose.models import cache
from neuropose.models.base import PoseModel
from neuropose.models.errors import (
    CorruptModelError,
    InvalidModelOptionError,
    ModelLoadError,
    ModelNotCachedError,
    UnknownModelError,
)

if TYPE_CHECKING:
    from neuropose.config import Settings

__all__ = [
    "Backend",
    "FetchOptions",
    "ModelEntry",
    "ModelStatus",
    "Staged",
    "backend_for",
    "get_entry",
    "known_models",
    "load_pose_model",
    "model_path",
    "model_status",
    "parse_options",
    "register_backend",
    "register_model",
]

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[int, int | None], None]
"""``progress(bytes_done, bytes_total_or_None)`` during downloads."""

_BUILTIN_BACKEND_MODULES = ("neuropose.models.blazepose", "neuropose.models.metrabs")


@dataclass(frozen=True)
class ModelEntry:
    """A named, fetchable set of weights.

    Attributes
    ----------
    name : str
        Registry name (``neuropose models fetch NAME``).
    kind : str
        Backend kind that fetches and loads it.
    source : str
        Download URL or pip requirement.
    size : int or None
        Download size in bytes (``None`` when unknown).
    archive_sha256 : str or None
        Published sha256 of the downloaded archive; ``None`` = unpinned.
    files : Mapping[str, str]
        Installed path (relative to the model directory) → pinned sha256;
        empty when only the archive hash is published.
    licence : str
        Licence of the weights, shown by ``neuropose models list``.
    description : str
        One line for humans.
    offline_hint : str
        How to install it without network access (a ``--from-*`` option).
    options : Mapping[str, Any]
        Backend-specific settings (e.g. the archive members to extract).
    """

    name: str
    kind: str
    source: str
    size: int | None
    archive_sha256: str | None
    files: Mapping[str, str]
    licence: str
    description: str
    offline_hint: str = ""
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class FetchOptions:
    """How :func:`fetch_model` obtains the bytes.

    Attributes
    ----------
    from_path : Path or None
        Install from a local file or directory instead of downloading
        (``--from-wheel``/``--from-file``).
    sha256 : str or None
        Expected sha256 of the archive (``--sha256``), required for unpinned
        entries unless ``trust_unpinned``.
    trust_unpinned : bool
        Accept an unpinned download (a warning is logged and the manifest
        records ``pinned: false``).
    force : bool
        Re-fetch even when a verified copy is installed.
    progress : callable or None
        Called with ``(bytes_done, bytes_total)`` while downloading.
    """

    from_path: Path | None = None
    sha256: str | None = None
    trust_unpinned: bool = False
    force: bool = False
    progress: ProgressCallback | None = None


@dataclass(frozen=True)
class Staged:
    """What a backend reports after filling a staging directory."""

    source: str
    archive_sha256: str | None


class Backend(Protocol):
    """What a model backend provides to the registry."""

    kind: str

    def materialize(
        self,
        entry: ModelEntry,
        staged: Path,
        opts: FetchOptions,
        expected_sha256: str | None,
        cache_dir: Path,
    ) -> Staged:
        """Put the entry's files into ``staged``.

        ``expected_sha256`` is the archive hash to enforce (``None`` only
        when the user trusted an unpinned source). Must raise
        :class:`~neuropose.models.errors.ModelFetchError` (or a subclass) on
        failure and never touch the installed model directory.
        """
        ...

    def load(
        self,
        entry: ModelEntry,
        directory: Path,
        manifest: cache.ModelManifest,
        settings: Settings,
        options: Mapping[str, str],
    ) -> PoseModel:
        """Build the model from an installed, size-checked directory.

        ``options`` are the ``?key=value`` pairs of the model spec (strings);
        the backend converts them with :func:`parse_options`.
        """
        ...

    def load_location(
        self, location: str, settings: Settings, options: Mapping[str, str]
    ) -> PoseModel:
        """Build a model from ``<kind>:<location>`` (a local path or handle)."""
        ...


def parse_options(raw: Mapping[str, str], allowed: Mapping[str, type], spec: str) -> dict[str, Any]:
    """Convert model-spec options to the types in ``allowed``.

    Booleans accept ``1/0/true/false/yes/no/on/off``.

    Raises
    ------
    InvalidModelOptionError
        An unknown key (the message lists the allowed ones) or a value that
        does not convert.
    """
    out: dict[str, Any] = {}
    for key, value in raw.items():
        kind = allowed.get(key)
        if kind is None:
            raise InvalidModelOptionError(
                f"model spec {spec!r}: unknown option {key!r}; allowed: "
                + (", ".join(sorted(allowed)) or "(none)")
            )
        try:
            if kind is bool:
                low = value.strip().lower()
                if low not in {"1", "0", "true", "false", "yes", "no", "on", "off"}:
                    raise ValueError(value)
                out[key] = low in {"1", "true", "yes", "on"}
            else:
                out[key] = kind(value)
        except ValueError:
            raise InvalidModelOptionError(
                f"model spec {spec!r}: option {key}={value!r} is not a valid {kind.__name__}"
            ) from None
    return out


def _split_options(spec: str) -> tuple[str, dict[str, str]]:
    base, sep, query = spec.partition("?")
    if not sep:
        return spec, {}
    options: dict[str, str] = {}
    for part in query.split("&"):
        if not part:
            continue
        key, eq, value = part.partition("=")
        if not eq or not key:
            raise InvalidModelOptionError(
                f"model spec {spec!r}: option {part!r} is not key=value",
                hint="write NAME?key=value&key=value",
            )
        options[key.strip()] = value.strip()
    return base, options


_BACKENDS: dict[str, Backend] = {}
_ENTRIES: dict[str, ModelEntry] = {}
_builtins_loaded = False


def register_backend(backend: Backend) -> None:
    """Make ``backend`` available for entries of its ``kind`` (later wins)."""
    _BACKENDS[backend.kind] = backend


def register_model(entry: ModelEntry) -> None:
    """Add or replace a registry entry."""
    _ENTRIES[entry.name] = entry


def _ensure_builtins() -> None:
    global _builtins_loaded
    if _builtins_loaded:
        return
    _builtins_loaded = True
    for module in _BUILTIN_BACKEND_MODULES:
        importlib.import_module(module)


def known_models() -> list[ModelEntry]:
    """Every registered entry, sorted by name."""
    _ensure_builtins()
    return [_ENTRIES[k] for k in sorted(_ENTRIES)]


def get_entry(name: str) -> ModelEntry:
    """The entry called ``name``.

    Raises
    ------
    UnknownModelError
        Listing the known names.
    """
    _ensure_builtins()
    try:
        return _ENTRIES[name]
    except KeyError:
        known = ", ".join(sorted(_ENTRIES)) or "(none)"
        raise UnknownModelError(
            f"unknown model {name!r}; known models: {known}",
            hint="see `neuropose models list`; custom models load as "
            "python:<module>:<factory> or <kind>:<path>",
        ) from None


def backend_for(kind: str) -> Backend:
    _ensure_builtins()
    try:
        return _BACKENDS[kind]
    except KeyError:
        raise UnknownModelError(
            f"no backend for model kind {kind!r}; known kinds: {', '.join(sorted(_BACKENDS))}"
        ) from None


def _fetch_hint(entry: ModelEntry) -> str:
    hint = f"run `neuropose models fetch {entry.name}`"
    if entry.offline_hint:
        hint += f"; without network: {entry.offline_hint}"
    return hint


@dataclass(frozen=True)
class ModelStatus:
    """Cache state of one entry (cheap: sizes only, no re-hashing).

    ``cached`` — a manifest and every file of the recorded size are present;
    ``verified`` — cached and its recorded hashes match the registry's pins
    (``None`` when the entry pins no per-file hashes and the archive hash
    could not be compared); ``problem`` — why a present directory is corrupt.
    """

    entry: ModelEntry
    path: Path
    cached: bool
    verified: bool | None
    problem: str | None
    manifest: cache.ModelManifest | None


def _pins_match(entry: ModelEntry, manifest: cache.ModelManifest) -> bool | None:
    if entry.files:
        return all(manifest.files.get(rel) == sha for rel, sha in entry.files.items())
    if entry.archive_sha256 and manifest.archive_sha256:
        return manifest.archive_sha256 == entry.archive_sha256
    return None if not manifest.pinned else True


def model_status(name: str, cache_dir: Path) -> ModelStatus:
    """Whether ``name`` is installed in ``cache_dir`` and looks intact."""
    entry = get_entry(name)
    path = cache.model_dir(cache_dir, name)
    if not path.exists():
        return ModelStatus(entry, path, False, None, None, None)
    try:
        manifest = cache.read_manifest(path)
        cache.check_sizes(path, manifest)
    except CorruptModelError as exc:
        return ModelStatus(entry, path, False, False, exc.message, None)
    return ModelStatus(entry, path, True, _pins_match(entry, manifest), None, manifest)


def model_path(name: str, cache_dir: Path) -> Path:
    """Directory of the installed model ``name``.

    Raises
    ------
    UnknownModelError, ModelNotCachedError, CorruptModelError
    """
    st = model_status(name, cache_dir)
    if st.problem is not None:
        raise CorruptModelError(
            st.problem, hint=f"re-fetch it with `neuropose models fetch {name} --force`"
        )
    if not st.cached:
        raise ModelNotCachedError(
            f"model {name!r} is not in the cache {Path(cache_dir)}", hint=_fetch_hint(st.entry)
        )
    return st.path


def _call_python_factory(spec: str, settings: Settings) -> object:
    """Import ``<module>:<factory>`` of a ``python:`` spec and return ``factory(settings)``.

    Raises
    ------
    UnknownModelError
        Malformed spec, module not importable, or no such callable (exit 2).
    ModelLoadError
        Importing the module or calling the factory failed (exit 1).
    """
    parts = spec.split(":")
    if len(parts) != 3 or parts[0] != "python" or not parts[1] or not parts[2]:
        raise UnknownModelError(
            f"invalid model spec {spec!r}", hint="write python:<module>:<factory>"
        )
    _, module_name, factory_name = parts
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            raise UnknownModelError(
                f"model spec {spec!r}: module {module_name!r} cannot be imported",
                hint="check the module name and PYTHONPATH",
            ) from exc
        raise ModelLoadError(f"model spec {spec!r}: importing {module_name} failed: {exc}") from exc
    factory = getattr(module, factory_name, None)
    if not callable(factory):
        raise UnknownModelError(
            f"model spec {spec!r}: {module_name} has no callable {factory_name!r}"
        )
    try:
        return factory(settings)
    except Exception as exc:
        raise ModelLoadError(
            f"model spec {spec!r}: {factory_name}(settings) failed: {exc}"
        ) from exc


@overload
def load_pose_model(name: str, settings: Settings) -> PoseModel: ...


@overload
def load_pose_model(name: str, settings: Settings, *, also_accept: type) -> object: ...


def load_pose_model(name: str, settings: Settings, *, also_accept: type | None = None) -> object:
    """Build the pose model named ``name`` (see the module docstring for the forms).

    Parameters
    ----------
    name : str
        Registry name, ``python:<module>:<factory>`` or ``<kind>:<location>``,
        optionally followed by ``?key=value&...`` backend options.
    settings : Settings
        Supplies ``model_cache_dir``, ``num_threads`` and ``max_persons``.
    also_accept : type, optional
        A ``python:`` factory may also return an instance of this type (a
        runtime-checkable protocol works), which is returned as is; the daemon
        passes its ``VideoProcessor`` so a factory can replace the estimator.
        Anything else a factory returns must be a :class:`PoseModel`.

    Raises
    ------
    UnknownModelError
        Unknown name (the message lists the known ones) or bad spec.
    InvalidModelOptionError
        Unknown option key or bad value.
    ModelNotCachedError
        Weights not fetched; the hint gives the fetch command and the
        offline fallbacks.
    CorruptModelError
        A cached file is missing, truncated or has the wrong hash; names the
        file and suggests ``fetch --force``.
    ModelLoadError
        The weights could not be turned into a model.
    """
    _ensure_builtins()
    if name.startswith("python:"):
        obj = _call_python_factory(name, settings)
        if also_accept is not None and isinstance(obj, also_accept):
            return obj
        if not isinstance(obj, PoseModel):
            raise ModelLoadError(
                f"model spec {name!r}: the factory returned {type(obj).__name__}, "
                "which is not a PoseModel",
                hint="return an object with name, skeleton, weights_sha256, root_relative, "
                "max_batch_size, options, predict() and reset()",
            )
        return obj
    base, options = _split_options(name)
    kind, sep, location = base.partition(":")
    if sep and kind in _BACKENDS and base not in _ENTRIES:
        return _BACKENDS[kind].load_location(location, settings, options)
    entry = get_entry(base)
    backend = backend_for(entry.kind)
    path = model_path(base, settings.model_cache_dir)
    manifest = cache.read_manifest(path)
    cache.check_sizes(path, manifest)
    logger.info("loading model %s from %s", name, path)
    return backend.load(entry, path, manifest, settings, options)
