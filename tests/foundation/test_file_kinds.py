"""Errors that never mislead: a file of the wrong kind is named as what it is.

Ground truth: files built here with known content (magic numbers of MP4,
AVI, Matroska, JPEG, PNG, zip; NeuroPose results/status JSON; analysis and
settings TOML), plus the real clips and images of ``../shared/media`` when
present. Each CLI test reads what a user sees: exit code and stderr.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from neuropose.cli.inputs import FileKind, sniff

REPO_ROOT = Path(__file__).resolve().parents[2]
MP4_HEAD = b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41" + bytes(64)
RESULTS = {"schema_version": 1, "job_id": "walk", "created_at": "x", "videos": []}
MISLEADING = ("remove", "delete", "corrupt")


def _write(path: Path, data: bytes | str) -> Path:
    if isinstance(data, str):
        path.write_text(data)
    else:
        path.write_bytes(data)
    return path


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    z = tmp_path / "batch.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("a.mp4", MP4_HEAD)
    return {
        "mp4": _write(tmp_path / "clip.mp4", MP4_HEAD),
        "avi": _write(tmp_path / "clip.avi", b"RIFF\x00\x10\x00\x00AVI LIST" + bytes(64)),
        "mkv": _write(tmp_path / "clip.mkv", b"\x1a\x45\xdf\xa3" + bytes(64)),
        "jpg": _write(tmp_path / "photo.jpg", b"\xff\xd8\xff\xe0" + bytes(64)),
        "png": _write(tmp_path / "photo.png", b"\x89PNG\r\n\x1a\n" + bytes(64)),
        "zip": z,
        "results": _write(tmp_path / "results.json", json.dumps(RESULTS, indent=1)),
        "status": _write(tmp_path / "status.json", '{"schema_version": 1, "jobs": {}}'),
        "json": _write(tmp_path / "report.json", '{"name": "gait", "inputs": []}'),
        "damaged": _write(tmp_path / "half.json", '{"schema_version": 1, "job_id": "x"'),
        "analysis": _write(tmp_path / "gait.toml", 'name = "g"\ninputs = ["*.json"]\n'),
        "settings": _write(tmp_path / "site.toml", 'data_dir = "/srv/np"\nbatch_size = 4\n'),
        "toml": _write(tmp_path / "other.toml", "[tool.x]\ny = 1\n"),
        "broken_toml": _write(tmp_path / "broken.toml", "inputs = [\n"),
        "text": _write(tmp_path / "notes.mp4", "not a video at all"),
        "empty": _write(tmp_path / "empty.mp4", b""),
        "dir": tmp_path,
        "missing": tmp_path / "gone.mp4",
    }


EXPECTED_KINDS = {
    "mp4": FileKind.VIDEO,
    "avi": FileKind.VIDEO,
    "mkv": FileKind.VIDEO,
    "jpg": FileKind.IMAGE,
    "png": FileKind.IMAGE,
    "zip": FileKind.ZIP,
    "results": FileKind.RESULTS,
    "status": FileKind.STATUS,
    "json": FileKind.JSON,
    "damaged": FileKind.DAMAGED_JSON,
    "analysis": FileKind.ANALYSIS_CONFIG,
    "settings": FileKind.SETTINGS,
    "toml": FileKind.TOML,
    "broken_toml": FileKind.DAMAGED_TOML,
    "text": FileKind.OTHER,
    "empty": FileKind.EMPTY,
    "dir": FileKind.DIRECTORY,
    "missing": FileKind.MISSING,
}


@pytest.mark.parametrize("name", sorted(EXPECTED_KINDS))
def test_sniff_by_content(files: dict[str, Path], name: str) -> None:
    assert sniff(files[name]) is EXPECTED_KINDS[name]


def test_sniff_repository_files() -> None:
    assert sniff(REPO_ROOT / "examples" / "gait.toml") is FileKind.ANALYSIS_CONFIG
    assert sniff(REPO_ROOT / "config.example.toml") is FileKind.SETTINGS
    assert sniff(REPO_ROOT / "pyproject.toml") is FileKind.TOML
    assert sniff(REPO_ROOT / "README.md") is FileKind.OTHER


@pytest.mark.media
def test_sniff_real_media(shared_media: Path) -> None:
    got = {
        p.name: sniff(p)
        for p in (
            shared_media / "lab_single_person" / "cam01.mp4",
            shared_media / "vtest.avi",
            shared_media / "messi5.jpg",
            shared_media / "basketball1.png",
            shared_media / "lab_single_person" / "Calib.qca.txt",
        )
    }
    assert got == {
        "cam01.mp4": FileKind.VIDEO,
        "vtest.avi": FileKind.VIDEO,
        "messi5.jpg": FileKind.IMAGE,
        "basketball1.png": FileKind.IMAGE,
        "Calib.qca.txt": FileKind.OTHER,
    }


def test_visualize_a_video_names_process(run_cli, files: dict[str, Path]) -> None:
    video = files["mp4"]
    code, out, err = run_cli("visualize", str(video))
    assert code == 2 and out == ""
    assert err.splitlines()[0] == (
        f"error: {video} is a video; `neuropose visualize` expects a results JSON file "
        "(written by `neuropose process` or the daemon)"
    )
    assert f"hint: estimate poses with `neuropose process {video}`" in err
    assert not any(word in err for word in MISLEADING)
    assert video.read_bytes() == MP4_HEAD  # the input was only read


def test_analyze_a_results_file_expects_a_toml_config(run_cli, files: dict[str, Path]) -> None:
    results = files["results"]
    code, _, err = run_cli("analyze", str(results))
    assert code == 2
    assert err.startswith(
        f"error: {results} is a NeuroPose results file (JSON); `neuropose analyze` expects "
        "an analysis config (TOML; examples in the examples/ folder"
    )
    assert f"`neuropose analyze CONFIG.toml --inputs {results}`" in err
    assert not any(word in err for word in MISLEADING)


@pytest.mark.parametrize(
    ("command", "name", "what"),
    [
        ("process", "results", "is a NeuroPose results file (JSON)"),
        ("process", "analysis", "is an analysis config (TOML)"),
        ("process", "zip", "is a zip archive"),
        ("process", "text", "is not a video, an image, JSON or TOML (by its content)"),
        ("segment", "mp4", "is a video"),
        ("visualize", "settings", "is a NeuroPose settings file (TOML)"),
        ("visualize", "status", "is a NeuroPose status file (JSON)"),
    ],
)
def test_wrong_kind_is_named(
    run_cli, files: dict[str, Path], command: str, name: str, what: str
) -> None:
    path = files[name]
    extra = ["--signal", "angle:left_knee_flexion"] if command == "segment" else []
    code, _, err = run_cli(command, str(path), *extra)
    assert code == 2
    assert err.startswith(f"error: {path} {what}; `neuropose {command}` expects"), err
    assert "Traceback" not in err
    assert not any(word in err for word in MISLEADING)


def test_zip_hint_names_ingest(run_cli, files: dict[str, Path]) -> None:
    _, _, err = run_cli("process", str(files["zip"]))
    assert f"hint: queue its videos with `neuropose ingest {files['zip']}`" in err


def test_damaged_results_are_reported_by_the_loader_without_delete_advice(
    run_cli, files: dict[str, Path]
) -> None:
    code, _, err = run_cli("visualize", str(files["damaged"]))
    assert code == 2
    assert f"error: {files['damaged']}: not valid JSON" in err
    assert "restore it from a backup" in err
    assert not any(word in err for word in MISLEADING)


def test_process_checks_inputs_before_loading_the_model(
    run_cli, files: dict[str, Path], tmp_path: Path
) -> None:
    # The model is not cached: had it been loaded first, the error would be exit 4
    # "not in the cache"; the missing input is reported instead (exit 2).
    code, _, err = run_cli(
        "process", str(files["missing"]), "--model", "blazepose-full", "-o", str(tmp_path / "o")
    )
    assert code == 2
    assert f"error: {files['missing']} does not exist; `neuropose process` expects" in err
    assert "cache" not in err
    code, _, err = run_cli("process", str(files["mp4"]), "--model", "blazepose-full")
    assert code == 2
    assert f"input {files['mp4']} is not a video OpenCV can decode" in err
    assert "cache" not in err
