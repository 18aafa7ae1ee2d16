"""Registry: names, python: specs, fetch/verify/remove machinery, typed errors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from tests.models.conftest import TOY_SHA, make_settings

from neuropose.models import (
    CorruptModelError,
    FetchOptions,
    ModelFetchError,
    ModelIntegrityError,
    ModelLoadError,
    ModelNotCachedError,
    PoseModel,
    UnknownModelError,
    UnpinnedModelError,
    fetch_model,
    known_models,
    load_pose_model,
    model_path,
    model_status,
    remove_model,
    verify_model,
)
from neuropose.models.cache import combined_digest


def test_builtin_entries_are_listed_with_source_size_and_licence() -> None:
    names = {e.name: e for e in known_models()}
    bp = names["blazepose-full"]
    assert bp.licence == "Apache-2.0"
    assert bp.files["pose_detection.tflite"].startswith("9ba9dd3d")


def test_unknown_name_lists_known_names(tmp_path: Path) -> None:
    pattern = r"unknown model 'nope'; known models: .*blazepose-full"
    with pytest.raises(UnknownModelError, match=pattern):
        load_pose_model("nope", make_settings(tmp_path))
    assert UnknownModelError("x").exit_code == 2


def test_not_cached_hint_names_fetch_command_and_offline_fallback(tmp_path: Path) -> None:
    with pytest.raises(ModelNotCachedError) as info:
        load_pose_model("blazepose-full", make_settings(tmp_path))
    text = str(info.value)
    assert "neuropose models fetch blazepose-full" in text
    assert "--from-wheel" in text
    assert info.value.exit_code == 4


def test_python_spec_builds_the_fake_model(tmp_path: Path) -> None:
    model = load_pose_model("python:tests.fakes:make_model", make_settings(tmp_path))
    assert isinstance(model, PoseModel)
    assert model.skeleton.name == "fake_3"


@pytest.mark.parametrize(
    ("spec", "error", "pattern"),
    [
        ("python:no_such_module_xyz:f", UnknownModelError, "cannot be imported"),
        ("python:tests.fakes:nothing_here", UnknownModelError, "has no callable 'nothing_here'"),
        ("python:tests.fakes", UnknownModelError, "python:<module>:<factory>"),
        ("python:os.path:join", ModelLoadError, "failed"),
        ("python:builtins:dict", ModelLoadError, "not a PoseModel"),
    ],
)
def test_bad_python_specs(tmp_path: Path, spec: str, error: type, pattern: str) -> None:
    with pytest.raises(error, match=pattern):
        load_pose_model(spec, make_settings(tmp_path))


def test_python_factory_may_return_an_accepted_non_model(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    obj = load_pose_model("python:builtins:dict", settings, also_accept=dict)
    assert isinstance(obj, dict) and obj["batch_size"] == settings.batch_size
    with pytest.raises(ModelLoadError, match="the factory returned dict, which is not a PoseModel"):
        load_pose_model("python:builtins:dict", settings, also_accept=list)
    # A real model still loads when another type is accepted too.
    model = load_pose_model("python:tests.fakes:make_model", settings, also_accept=dict)
    assert isinstance(model, PoseModel)


def test_fetch_installs_manifest_and_loads(tmp_path: Path, toy_backend) -> None:
    manifest = fetch_model("toy-pinned", tmp_path)
    assert manifest.files == {"weights.bin": TOY_SHA}
    assert (tmp_path / "toy-pinned" / "weights.bin").read_bytes() == b"toy weights"
    assert (tmp_path / "toy-pinned" / "manifest.json").is_file()
    assert model_path("toy-pinned", tmp_path) == tmp_path / "toy-pinned"
    st = model_status("toy-pinned", tmp_path)
    assert st.cached and st.verified
    model = load_pose_model("toy-pinned", make_settings(tmp_path))
    assert model.weights_sha256 == TOY_SHA
    # second fetch is a no-op; --force re-materialises
    fetch_model("toy-pinned", tmp_path)
    assert toy_backend.calls == 1
    fetch_model("toy-pinned", tmp_path, FetchOptions(force=True))
    assert toy_backend.calls == 2
    assert not list((tmp_path / ".staging").iterdir())


def test_kind_location_spec_goes_to_backend(tmp_path: Path, toy_backend) -> None:
    model = load_pose_model("toy:/some/where", make_settings(tmp_path))
    assert model.weights_sha256 == "location:/some/where"


def test_pin_mismatch_installs_nothing(tmp_path: Path, toy_backend) -> None:
    toy_backend.content = b"tampered"
    with pytest.raises(ModelIntegrityError, match=r"weights.bin has sha256 .* expected"):
        fetch_model("toy-pinned", tmp_path)
    assert not (tmp_path / "toy-pinned").exists()
    assert not list((tmp_path / ".staging").iterdir())


def test_failed_force_refetch_keeps_the_working_copy(tmp_path: Path, toy_backend) -> None:
    fetch_model("toy-pinned", tmp_path)
    toy_backend.fail = "network down"
    with pytest.raises(ModelFetchError, match="network down"):
        fetch_model("toy-pinned", tmp_path, FetchOptions(force=True))
    assert verify_model("toy-pinned", tmp_path).files["weights.bin"] == TOY_SHA


def test_unpinned_needs_sha_or_trust(tmp_path: Path, toy_backend) -> None:
    with pytest.raises(UnpinnedModelError, match="no published sha256") as info:
        fetch_model("toy-unpinned", tmp_path)
    assert "--trust-unpinned" in str(info.value) and "--sha256" in str(info.value)
    with pytest.raises(UnpinnedModelError, match="not a 64-digit hex"):
        fetch_model("toy-unpinned", tmp_path, FetchOptions(sha256="abc"))
    manifest = fetch_model("toy-unpinned", tmp_path, FetchOptions(trust_unpinned=True))
    assert manifest.pinned is False


def test_corrupt_file_is_detected_and_named(tmp_path: Path, toy_backend) -> None:
    fetch_model("toy-pinned", tmp_path)
    weights = tmp_path / "toy-pinned" / "weights.bin"
    weights.write_bytes(b"toy weightz")  # same size, different bytes
    with pytest.raises(CorruptModelError, match=r"weights.bin is corrupt: sha256") as info:
        verify_model("toy-pinned", tmp_path)
    assert "fetch toy-pinned --force" in str(info.value)
    weights.write_bytes(b"short")
    with pytest.raises(CorruptModelError, match=r"weights.bin has 5 bytes, expected 11"):
        load_pose_model("toy-pinned", make_settings(tmp_path))


def test_missing_or_corrupt_manifest_is_corrupt_not_absent(tmp_path: Path, toy_backend) -> None:
    fetch_model("toy-pinned", tmp_path)
    manifest = tmp_path / "toy-pinned" / "manifest.json"
    manifest.write_text("{not json")
    with pytest.raises(CorruptModelError, match=r"manifest.json.*not valid JSON"):
        load_pose_model("toy-pinned", make_settings(tmp_path))
    os.unlink(manifest)
    with pytest.raises(CorruptModelError, match=r"has no manifest.json"):
        model_path("toy-pinned", tmp_path)


def test_remove(tmp_path: Path, toy_backend) -> None:
    assert remove_model("toy-pinned", tmp_path) is False
    fetch_model("toy-pinned", tmp_path)
    assert remove_model("toy-pinned", tmp_path) is True
    assert not (tmp_path / "toy-pinned").exists()
    with pytest.raises(ModelNotCachedError):
        model_path("toy-pinned", tmp_path)


def test_combined_digest_matches_sha256sum_format() -> None:
    import hashlib

    files = {"b.bin": "2" * 64, "a.bin": "1" * 64}
    text = f"{'1' * 64}  a.bin\n{'2' * 64}  b.bin\n"
    assert combined_digest(files) == hashlib.sha256(text.encode()).hexdigest()


def test_unwritable_cache_is_a_clear_resource_error(tmp_path: Path, toy_backend) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the cache directory should be")
    with pytest.raises(ModelFetchError, match=r"cannot install toy-pinned in .*not-a-dir") as info:
        fetch_model("toy-pinned", blocker / "cache")
    assert "writable" in str(info.value) and info.value.exit_code == 4


def test_spec_options_are_parsed_typed_and_validated(tmp_path: Path, toy_backend) -> None:
    from neuropose.models import InvalidModelOptionError

    fetch_model("toy-pinned?level=3", tmp_path)  # load options do not matter for fetching
    settings = make_settings(tmp_path)
    model = load_pose_model("toy-pinned?level=3&fast=off", settings)
    assert model.options == {"level": 3, "fast": False}
    unknown = r"unknown option 'speed'; allowed: fast, level"
    with pytest.raises(InvalidModelOptionError, match=unknown):
        load_pose_model("toy-pinned?speed=1", settings)
    with pytest.raises(InvalidModelOptionError, match=r"option level='high' is not a valid int"):
        load_pose_model("toy-pinned?level=high", settings)
    with pytest.raises(InvalidModelOptionError, match=r"option 'fast' is not key=value"):
        load_pose_model("toy-pinned?fast", settings)
    assert InvalidModelOptionError("x").exit_code == 2


def test_second_holder_of_a_model_lock_gets_busy_error(tmp_path: Path) -> None:
    from neuropose.models import ModelBusyError
    from neuropose.models.cache import fetch_lock

    with fetch_lock(tmp_path, "toy-pinned"):
        busy = r"'toy-pinned' is being fetched or removed"
        second = fetch_lock(tmp_path, "toy-pinned", wait_s=0.1)
        with pytest.raises(ModelBusyError, match=busy), second:
            pass
        with fetch_lock(tmp_path, "other-model", wait_s=0.1):
            pass  # different models never block each other
    assert ModelBusyError("x").exit_code == 3


def test_debris_of_a_killed_fetch_is_cleaned(tmp_path: Path, toy_backend) -> None:
    debris = tmp_path / ".staging" / "toy-pinned.0123456789abcdef"
    debris.mkdir(parents=True)
    (debris / "weights.bin").write_bytes(b"half")
    fetch_model("toy-pinned", tmp_path)
    assert not debris.exists()
    assert list((tmp_path / ".staging").iterdir()) == []
