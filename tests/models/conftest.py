"""Fixtures of the model tests.

* ``settings_for(cache_dir)``: Settings whose ``model_cache_dir`` is a temp dir.
* ``toy_backend``: a registered backend ``toy`` whose entries install files
  with known content (``weights.bin`` = ``b"toy weights"``), so the generic
  registry machinery (staging, pins, manifest, verify, corruption) is tested
  without downloading anything.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from neuropose.config import Settings, load_settings
from neuropose.models import FrameDetections, registry
from neuropose.models.errors import ModelFetchError
from neuropose.skeletons import H36M_17

TOY_BYTES = b"toy weights"
TOY_SHA = hashlib.sha256(TOY_BYTES).hexdigest()


def make_settings(cache_dir: Path, **extra: Any) -> Settings:
    return load_settings(flags={"model_cache_dir": str(cache_dir), **extra}, environ={}).settings


@pytest.fixture
def settings_for() -> Callable[..., Settings]:
    return make_settings


class ToyModel:
    name = "toy"
    skeleton = H36M_17
    root_relative = False
    max_batch_size = 4

    def __init__(self, weights_sha256: str) -> None:
        self.options: dict[str, Any] = {}
        self.weights_sha256 = weights_sha256

    def predict(self, frames: np.ndarray, intrinsics: Any) -> list[FrameDetections]:
        return [FrameDetections.empty(17) for _ in frames]

    def reset(self) -> None:
        pass


class ToyBackend:
    """Installs ``weights.bin``; ``content``/``fail`` let tests inject bad fetches."""

    kind = "toy"

    def __init__(self) -> None:
        self.content = TOY_BYTES
        self.fail: str | None = None
        self.calls = 0

    def materialize(self, entry, staged, opts, expected_sha256, cache_dir):  # type: ignore[no-untyped-def]
        self.calls += 1
        if self.fail:
            (staged / "partial.bin").write_bytes(b"x")
            raise ModelFetchError(self.fail)
        (staged / "weights.bin").write_bytes(self.content)
        return registry.Staged(source="toy://", archive_sha256=None)

    def load(self, entry, directory, manifest, settings, options):  # type: ignore[no-untyped-def]
        model = ToyModel(manifest.files["weights.bin"])
        model.options = registry.parse_options(options, {"level": int, "fast": bool}, entry.name)
        return model

    def load_location(self, location, settings, options):  # type: ignore[no-untyped-def]
        return ToyModel("location:" + location)


@pytest.fixture
def toy_backend() -> Iterator[ToyBackend]:
    backend = ToyBackend()
    registry.register_backend(backend)
    registry.register_model(
        registry.ModelEntry(
            name="toy-pinned",
            kind="toy",
            source="toy://",
            size=len(TOY_BYTES),
            archive_sha256="0" * 64,
            files={"weights.bin": TOY_SHA},
            licence="MIT",
            description="test",
            offline_hint="use --from-file PATH",
        )
    )
    registry.register_model(
        registry.ModelEntry(
            name="toy-unpinned",
            kind="toy",
            source="toy://",
            size=None,
            archive_sha256=None,
            files={},
            licence="MIT",
            description="test",
        )
    )
    yield backend
    for name in ("toy-pinned", "toy-unpinned"):
        registry._ENTRIES.pop(name, None)
    registry._BACKENDS.pop("toy", None)
