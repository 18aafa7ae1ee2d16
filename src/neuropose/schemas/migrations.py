"""Schema migrations: raw dict of an older version -> dict of the current one.

Each persisted document class has a ``SCHEMA_VERSION``. A migration is a
function registered for ``(document class name, from_version)`` that returns
the dict at ``from_version + 1``; :func:`migrate` applies them in order. A
document newer than this NeuroPose raises
:class:`~neuropose.errors.FutureSchemaError`.

Documents embedded in another document (the :class:`JobStatusEntry` values
of a :class:`StatusFile`'s ``jobs``) carry their own ``schema_version`` and
are migrated with their own steps, after the outer document's steps, so each
document type evolves independently.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import UnionType
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel

from neuropose.errors import FutureSchemaError, InvalidDocumentError
from neuropose.schemas.base import _decode

__all__ = ["MigrationRegistry", "migrate", "registry"]

Migration = Callable[[dict[str, Any]], dict[str, Any]]


class MigrationRegistry:
    """Maps ``(document name, from_version)`` to a one-step migration."""

    def __init__(self) -> None:
        self._steps: dict[tuple[str, int], Migration] = {}

    def register(self, document: str, from_version: int) -> Callable[[Migration], Migration]:
        """Decorator registering a migration from ``from_version`` to the next."""

        def deco(fn: Migration) -> Migration:
            key = (document, from_version)
            if key in self._steps:
                raise ValueError(f"migration {key} registered twice")
            self._steps[key] = fn
            return fn

        return deco

    def migrate(
        self, model: type[BaseModel], data: Any, *, source: Path | str = "<document>"
    ) -> Any:
        """Bring ``data`` to ``model.SCHEMA_VERSION`` (documents only)."""
        current = getattr(model, "SCHEMA_VERSION", None)
        if current is None or not isinstance(data, dict):
            return data
        version = data.get("schema_version", 1)
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise InvalidDocumentError(
                f"{source}: field 'schema_version': must be a positive integer (got {version!r})"
            )
        if version > current:
            raise FutureSchemaError(
                f"{source}: written with {model.__name__} schema version {version}, "
                f"this NeuroPose reads up to version {current}",
                hint="upgrade NeuroPose (pip install -U neuropose) to read this file",
            )
        name = model.__name__
        while version < current:
            step = self._steps.get((name, version))
            if step is None:
                raise InvalidDocumentError(
                    f"{source}: no migration for {name} from schema version {version}"
                )
            try:
                data = step(dict(data))
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                raise InvalidDocumentError(
                    f"{source}: cannot migrate {name} from schema version {version}: "
                    f"{type(exc).__name__}: {exc}",
                    hint="the file does not match the old schema it claims; restore it "
                    "from a backup or regenerate it",
                ) from exc
            version += 1
            data["schema_version"] = version
        return self._migrate_nested(model, data, source)

    def _migrate_nested(
        self, model: type[BaseModel], data: dict[str, Any], source: Path | str
    ) -> Any:
        """Migrate documents embedded in fields (``X``, ``dict[str, X]``, ``tuple[X, ...]``)."""
        out = data
        for field_name, info in model.model_fields.items():
            doc_type, shape = _embedded_document(info.annotation)
            if doc_type is None or field_name not in data:
                continue
            value = data[field_name]
            if shape == "one" and isinstance(value, dict):
                new: Any = self.migrate(doc_type, value, source=source)
            elif shape == "dict" and isinstance(value, dict):
                new = {k: self.migrate(doc_type, v, source=source) for k, v in value.items()}
            elif shape == "seq" and isinstance(value, list | tuple):
                new = [self.migrate(doc_type, v, source=source) for v in value]
            else:
                continue
            if out is data:
                out = dict(data)
            out[field_name] = new
        return out


def _embedded_document(annotation: Any) -> tuple[type[BaseModel] | None, str]:
    """The versioned document type held by a field, and how: one, dict values or a sequence."""

    def is_doc(t: Any) -> bool:
        return isinstance(t, type) and issubclass(t, BaseModel) and hasattr(t, "SCHEMA_VERSION")

    if is_doc(annotation):
        return annotation, "one"
    origin, args = get_origin(annotation), get_args(annotation)
    if origin in (Union, UnionType):  # X | None
        docs = [a for a in args if is_doc(a)]
        return (docs[0], "one") if len(docs) == 1 else (None, "")
    if origin is dict and len(args) == 2 and is_doc(args[1]):
        return args[1], "dict"
    if origin in (tuple, list) and args and is_doc(args[0]):
        return args[0], "seq"
    return None, ""


#: The registry used by :func:`neuropose.io.load_model`.
registry = MigrationRegistry()


@registry.register("JobResults", 1)
def _job_results_1_to_2(data: dict[str, Any]) -> dict[str, Any]:
    """Version 2 adds the optional ``triangulation`` (multi-view trials); v1 files have none."""
    data.setdefault("triangulation", None)
    return data


@registry.register("JobResults", 2)
def _job_results_2_to_3(data: dict[str, Any]) -> dict[str, Any]:
    """Version 3 stores the raw arrays as rounded deltas (``neuropose.schemas.raw_delta``);
    v2's plain float32 raw arrays are still valid input, so only the version changes."""
    return data


@registry.register("Triangulation", 1)
def _triangulation_1_to_2(data: dict[str, Any]) -> dict[str, Any]:
    """Version 2 adds ``point_status`` (F, J), ``excluded``, ``implausible`` and
    ``bone_length_cv_before_exclusion``. A v1 file ran no plausibility check: a NaN point
    is status 1 (fewer than ``min_views`` views agree), nothing was excluded, the CV
    before exclusion is the CV."""
    import numpy as np  # here, not at import: status files need no NumPy

    points = _decode(data["points_mm"], "float32", 3, (3,))
    data["point_status"] = np.where(np.all(np.isfinite(points), axis=-1), 0, 1).astype(np.uint8)
    data.setdefault("excluded", [])
    data.setdefault("implausible", {})
    data.setdefault("bone_length_cv_before_exclusion", dict(data.get("bone_length_cv") or {}))
    return data


@registry.register("StatusFile", 1)
def _status_file_1_to_2(data: dict[str, Any]) -> dict[str, Any]:
    """Version 2 may list only some jobs and adds ``counts`` and ``seq``; a v1 file
    lists every job, which ``counts = None`` says."""
    data.setdefault("counts", None)
    data.setdefault("seq", None)
    return data


@registry.register("VideoCheckpoint", 1)
def _video_checkpoint_1_to_2(data: dict[str, Any]) -> dict[str, Any]:
    """Version 2 adds the model's frame-to-frame ``model_state``; v1 checkpoints have none
    (the estimator then resets the model at the resume point and logs a warning)."""
    data.setdefault("model_state", None)
    return data


def migrate(model: type[BaseModel], data: Any, *, source: Path | str = "<document>") -> Any:
    """Migrate ``data`` with the global :data:`registry`."""
    return registry.migrate(model, data, source=source)
