"""Schema migrations: raw dict of an older version -> dict of the current one.

Each persisted document class has a ``SCHEMA_VERSION``. A migration is a
function registered for ``(document class name, from_version)`` that returns
the dict at ``from_version + 1``; :func:`migrate` applies them in order. A
document newer than this NeuroPose raises
:class:`~neuropose.errors.FutureSchemaError`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from neuropose.errors import FutureSchemaError, InvalidDocumentError

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
            data = step(dict(data))
            version += 1
            data["schema_version"] = version
        return data


#: The registry used by :func:`neuropose.io.load_model`.
registry = MigrationRegistry()


def migrate(model: type[BaseModel], data: Any, *, source: Path | str = "<document>") -> Any:
    """Migrate ``data`` with the global :data:`registry`."""
    return registry.migrate(model, data, source=source)
