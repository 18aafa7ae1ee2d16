"""Model weights are hashed once: the manifest caches each digest with size and mtime."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from tests.models.conftest import TOY_SHA

from neuropose.models import cache as model_cache
from neuropose.models import fetch_model
from neuropose.models.cache import MANIFEST_NAME, file_digests, read_manifest


def _count_hashes(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Record every file hashed through the cache module."""
    seen: list[Path] = []
    real = model_cache.sha256_file

    def counting(path: Path | str, **kw: int) -> str:
        seen.append(Path(path))
        return real(path, **kw)

    monkeypatch.setattr(model_cache, "sha256_file", counting)
    return seen


def test_unchanged_file_is_not_read_again(
    tmp_path: Path, toy_backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    manifest = fetch_model("toy-pinned", tmp_path)
    directory = tmp_path / "toy-pinned"
    assert manifest.mtimes_ns == {"weights.bin": (directory / "weights.bin").stat().st_mtime_ns}
    hashed = _count_hashes(monkeypatch)
    assert file_digests(directory, manifest, ["weights.bin"]) == {"weights.bin": TOY_SHA}
    assert hashed == []


def test_same_size_edit_is_rehashed_and_not_recorded(
    tmp_path: Path, toy_backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    manifest = fetch_model("toy-pinned", tmp_path)
    weights = tmp_path / "toy-pinned" / "weights.bin"
    weights.write_bytes(b"toy weightz")  # same size, new mtime
    st = weights.stat()
    os.utime(weights, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    hashed = _count_hashes(monkeypatch)
    digests = file_digests(weights.parent, manifest, ["weights.bin"])
    assert digests["weights.bin"] != TOY_SHA
    assert hashed == [weights]
    # the manifest still records the original bytes' digest and time
    assert read_manifest(weights.parent) == manifest


def test_old_manifest_gains_mtimes_on_first_load(
    tmp_path: Path, toy_backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    fetch_model("toy-pinned", tmp_path)
    directory = tmp_path / "toy-pinned"
    raw = json.loads((directory / MANIFEST_NAME).read_text())
    del raw["mtimes_ns"]  # as written before digests were cached
    (directory / MANIFEST_NAME).write_text(json.dumps(raw))
    old = read_manifest(directory)
    assert old.mtimes_ns == {}
    hashed = _count_hashes(monkeypatch)
    assert file_digests(directory, old, ["weights.bin"]) == {"weights.bin": TOY_SHA}
    assert len(hashed) == 1
    upgraded = read_manifest(directory)
    assert upgraded.mtimes_ns == {"weights.bin": (directory / "weights.bin").stat().st_mtime_ns}
    assert file_digests(directory, upgraded, ["weights.bin"]) == {"weights.bin": TOY_SHA}
    assert len(hashed) == 1


def test_missing_file_is_left_out(tmp_path: Path, toy_backend) -> None:
    manifest = fetch_model("toy-pinned", tmp_path)
    (tmp_path / "toy-pinned" / "weights.bin").unlink()
    assert file_digests(tmp_path / "toy-pinned", manifest, ["weights.bin"]) == {}
