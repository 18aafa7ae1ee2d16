"""``neuropose models`` through the CLI entry point: output, exit codes, files on disk."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from neuropose.cli import main
from neuropose.models.blazepose import WHEEL_NAME, pip_download_command


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    d = tmp_path / "cache"
    monkeypatch.setenv("NEUROPOSE_MODEL_CACHE_DIR", str(d))
    return d


@pytest.fixture
def offline_pip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """pip configured to use only a local, initially empty, find-links directory."""
    links = tmp_path / "links"
    links.mkdir()
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(links))
    monkeypatch.setenv("PIP_NO_CACHE_DIR", "1")
    return links


def _fake_wheel(path: Path) -> Path:
    """A well-formed wheel with the right name and members but other bytes."""
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("mediapipe/modules/pose_detection/pose_detection.tflite", b"fake det")
        zf.writestr("mediapipe/modules/pose_landmark/pose_landmark_full.tflite", b"fake lm")
        zf.writestr(
            "mediapipe-0.10.21.dist-info/METADATA",
            "Metadata-Version: 2.1\nName: mediapipe\nVersion: 0.10.21\n",
        )
        zf.writestr(
            "mediapipe-0.10.21.dist-info/WHEEL",
            "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: false\n"
            "Tag: cp311-cp311-manylinux_2_28_x86_64\n",
        )
        zf.writestr("mediapipe-0.10.21.dist-info/RECORD", "")
    return path


def _json_list(capsys: pytest.CaptureFixture[str]) -> dict[str, dict]:
    assert main(["models", "list", "--json"]) == 0
    return {row["name"]: row for row in json.loads(capsys.readouterr().out)}


def test_list_shows_known_models_uncached(cache: Path, capsys) -> None:
    rows = _json_list(capsys)
    bp = rows["blazepose-full"]
    assert bp["cached"] is False and bp["verified"] == "-"
    assert bp["licence"] == "Apache-2.0" and bp["source"] == "pip:mediapipe==0.10.21"
    assert main(["models", "list"]) == 0
    assert "blazepose-full" in capsys.readouterr().out


def test_unknown_name_exit_2_lists_known(cache: Path, capsys) -> None:
    assert main(["models", "fetch", "no-such-model"]) == 2
    err = capsys.readouterr().err
    assert "unknown model 'no-such-model'; known models:" in err and "blazepose-full" in err
    assert "Traceback" not in err


def test_path_of_uncached_model_says_how_to_fetch(cache: Path, capsys) -> None:
    assert main(["models", "path", "blazepose-full"]) == 4
    err = capsys.readouterr().err
    assert "not in the cache" in err
    assert "neuropose models fetch blazepose-full" in err and "--from-wheel" in err


def test_verify_with_empty_cache(cache: Path, capsys) -> None:
    assert main(["models", "verify"]) == 4
    assert "no model is cached" in capsys.readouterr().err


def test_offline_fetch_explains_fallback(cache: Path, offline_pip: Path, capsys) -> None:
    assert main(["models", "fetch", "blazepose-full"]) == 4
    err = capsys.readouterr().err
    assert "pip could not download mediapipe==0.10.21" in err
    assert "--from-wheel" in err
    assert not (cache / "blazepose-full").exists()


def test_pip_download_honours_pip_config_and_checks_wheel_hash(
    cache: Path, offline_pip: Path, capsys
) -> None:
    _fake_wheel(offline_pip / WHEEL_NAME)  # served by the user's (here: local) index
    assert main(["models", "fetch", "blazepose-full"]) == 4
    err = capsys.readouterr().err
    assert "does not match the pinned 05dc4a9e" in err
    assert not (cache / "blazepose-full").exists()


def test_from_wheel_with_wrong_bytes_installs_nothing(cache: Path, tmp_path: Path, capsys) -> None:
    wheel = _fake_wheel(tmp_path / WHEEL_NAME)
    assert main(["models", "fetch", "blazepose-full", "--from-wheel", str(wheel)]) == 4
    assert "does not match the pinned" in capsys.readouterr().err
    assert not (cache / "blazepose-full").exists()
    assert main(["models", "fetch", "blazepose-full", "--from-wheel", str(tmp_path / "x.whl")]) == 4
    assert "no such file" in capsys.readouterr().err


def test_from_wheel_and_from_file_are_exclusive(cache: Path, tmp_path: Path, capsys) -> None:
    code = main(["models", "fetch", "blazepose-full", "--from-wheel", "a", "--from-file", "b"])
    assert code == 2
    assert "either --from-wheel or --from-file" in capsys.readouterr().err


@pytest.fixture(scope="module")
def real_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The genuine mediapipe 0.10.21 wheel: $MEDIAPIPE_WHEEL, or pip download (pip's cache)."""
    env_wheel = os.environ.get("MEDIAPIPE_WHEEL")
    if env_wheel and Path(env_wheel).is_file():
        return Path(env_wheel)
    dest = tmp_path_factory.mktemp("wheel")
    proc = subprocess.run(
        pip_download_command(dest), capture_output=True, text=True, timeout=600, check=False
    )
    wheels = list(dest.glob("*.whl"))
    if proc.returncode != 0 or not wheels:
        pytest.skip(f"cannot obtain {WHEEL_NAME}: {proc.stderr.strip()[-200:]}")
    return wheels[0]


@pytest.mark.slow
def test_full_lifecycle_from_wheel(cache: Path, real_wheel: Path, capsys) -> None:
    assert main(["models", "fetch", "blazepose-full", "--from-wheel", str(real_wheel)]) == 0
    out = capsys.readouterr().out
    assert "blazepose-full: 2 file(s)" in out and "verified" in out
    target = cache / "blazepose-full"
    assert sorted(p.name for p in target.iterdir()) == [
        "manifest.json", "pose_detection.tflite", "pose_landmark_full.tflite",
    ]  # fmt: skip
    rows = _json_list(capsys)
    assert rows["blazepose-full"]["cached"] is True
    assert rows["blazepose-full"]["verified"] == "yes"

    assert main(["models", "path", "blazepose-full"]) == 0
    assert capsys.readouterr().out.strip() == str(target)

    assert main(["models", "verify", "blazepose-full"]) == 0
    assert "blazepose-full: OK (2 file(s) re-hashed)" in capsys.readouterr().out

    # Corrupt one byte: verify names the file and suggests --force; exit 4.
    f = target / "pose_landmark_full.tflite"
    data = bytearray(f.read_bytes())
    data[5000] ^= 0x01
    f.write_bytes(bytes(data))
    assert main(["models", "verify"]) == 4
    captured = capsys.readouterr()
    assert "pose_landmark_full.tflite is corrupt" in captured.err
    assert "fetch blazepose-full --force" in captured.err
    assert "CORRUPT" in captured.out

    # Truncated file: even listing notices it.
    f.write_bytes(bytes(data[:100]))
    rows = _json_list(capsys)
    assert rows["blazepose-full"]["verified"] == "corrupt"

    assert main(["models", "fetch", "blazepose-full", "--force", "--from-wheel",
                 str(real_wheel)]) == 0  # fmt: skip
    capsys.readouterr()
    assert main(["models", "verify", "blazepose-full"]) == 0

    assert main(["models", "remove", "blazepose-full"]) == 0
    assert "removed blazepose-full" in capsys.readouterr().out
    assert not target.exists()
    assert main(["models", "remove", "blazepose-full"]) == 0
    assert "not cached" in capsys.readouterr().out


def test_models_commands_never_import_tensorflow(cache: Path) -> None:
    code = (
        "import sys; from neuropose.cli import main; "
        "rc = main(['models', 'list', '--json']); "
        "sys.exit(3 if 'tensorflow' in sys.modules else rc)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False,
        env=dict(os.environ, NEUROPOSE_MODEL_CACHE_DIR=str(cache)),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)[0]["name"] == "blazepose-full"
