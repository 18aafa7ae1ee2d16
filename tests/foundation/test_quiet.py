"""Quiet by default: what native libraries print never reaches the terminal unasked.

Every test runs the CLI (or the router) in a subprocess and reads its real
stderr, since the noise is written by C/C++ code to file descriptor 2,
below anything pytest's capture can see. Ground truth: a video cut after
100 kB has no ``moov`` atom, so FFmpeg prints ``moov atom not found`` and
OpenCV ``[ WARN:...] global cap.cpp ...`` while NeuroPose probes it; LiteRT
prints ``INFO: Created TensorFlow Lite XNNPACK delegate for CPU.`` when the
BlazePose interpreters are created.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
FAKE = "python:tests.fakes:make_model"
NATIVE_NOISE = ("moov atom", "[ WARN", "cap.cpp", "XNNPACK", "INFO: Created", "absl")


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEUROPOSE_")}
    env["PYTHONPATH"] = os.pathsep.join(
        [str(REPO_ROOT / "src"), str(REPO_ROOT), os.environ.get("PYTHONPATH", "")]
    )
    env["XDG_DATA_HOME"] = str(tmp_path / "xdg")
    env.update(extra)
    return env


def _neuropose(
    tmp_path: Path, *argv: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    code = "import sys; from neuropose.cli import main; sys.exit(main())"
    return subprocess.run(
        [sys.executable, "-c", code, *argv],
        capture_output=True,
        text=True,
        env=env or _env(tmp_path),
        cwd=tmp_path,
        timeout=300,
        check=False,
    )


def _video(path: Path, frames: int = 30) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 30.0, (64, 48))
    for i in range(frames):
        writer.write(np.full((48, 64, 3), 40 + i, np.uint8))
    writer.release()
    return path


@pytest.fixture
def truncated(tmp_path: Path) -> Path:
    full = _video(tmp_path / "full.mp4", frames=200)
    cut = tmp_path / "cut.mp4"
    data = full.read_bytes()
    cut.write_bytes(data[: len(data) // 2])  # mp4v writes moov last: the header is gone
    return cut


def test_decoder_noise_is_hidden_by_default_and_shown_with_vv(
    tmp_path: Path, truncated: Path
) -> None:
    proc = _neuropose(tmp_path, "process", str(truncated), "--model", FAKE)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert lines[0] == f"error: input {truncated} is not a video OpenCV can decode", proc.stderr
    assert lines[1].startswith("  hint: ")
    assert len(lines) == 2, proc.stderr
    verbose = _neuropose(tmp_path, "-vv", "process", str(truncated), "--model", FAKE)
    assert verbose.returncode == 2
    native = [ln for ln in verbose.stderr.splitlines() if "neuropose.native:" in ln]
    assert any("moov atom not found" in ln for ln in native), verbose.stderr
    assert all(" DEBUG " in ln for ln in native)


def test_quiet_prints_nothing_on_success(tmp_path: Path) -> None:
    clip = _video(tmp_path / "walk.mp4")
    proc = _neuropose(tmp_path, "-q", "process", str(clip), "--model", FAKE)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert proc.stdout.startswith(f"ok      {clip} -> ")


_ROUTER_PROBE = """
import json, logging, os, sys
from neuropose.logs import configure_logging, native_stderr
configure_logging(getattr(logging, sys.argv[1]), "human")
assert native_stderr.start()
os.write(2, b"I0000 00:00:1 init.cc:1] noise from C\\npartial ")
os.write(2, b"line\\nF0000 check.cc:7] Check failed: x > 0\\n")
logging.getLogger("neuropose.test").warning("python warning still on the terminal")
count = native_stderr.count()
native_stderr.stop()
os.write(2, b"after stop: straight to fd 2\\n")
print(json.dumps({"count": count}))
"""


@pytest.mark.parametrize("level", ["INFO", "DEBUG"])
def test_router_logs_native_lines_and_counts_them(tmp_path: Path, level: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", _ROUTER_PROBE, level],
        capture_output=True,
        text=True,
        env=_env(tmp_path),
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"count": 3}
    err = proc.stderr
    assert "WARNING neuropose.test: python warning still on the terminal" in err
    assert "ERROR   neuropose.native: F0000 check.cc:7] Check failed: x > 0" in err
    assert "after stop: straight to fd 2" in err
    debug_lines = [
        "DEBUG   neuropose.native: I0000 00:00:1 init.cc:1] noise from C",
        "DEBUG   neuropose.native: partial line",
    ]
    for line in debug_lines:
        assert (line in err) is (level == "DEBUG"), err
    if level == "INFO":
        assert "noise from C" not in err


def test_sigterm_stops_process_without_error_and_without_output(tmp_path: Path) -> None:
    clip = _video(tmp_path / "long.mp4", frames=120)
    out = tmp_path / "out"
    env = _env(tmp_path, FAKE_MODEL_COST_S="0.1")
    code = "import sys; from neuropose.cli import main; sys.exit(main())"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "process", str(clip), "-o", str(out), "--model", FAKE],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert proc.stderr is not None
    first = proc.stderr.readline()  # a progress line after 5 s: ~50 of 120 frames done
    assert first.startswith("long.mp4: ") and "/120 frames" in first, first
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "stopped by SIGTERM" in err
    assert "error:" not in err and "Traceback" not in err
    assert not out.exists() or list(out.iterdir()) == []


@pytest.mark.media
def test_real_model_prints_no_runtime_noise(
    tmp_path: Path, blazepose_model, model_cache_dir: Path, shared_media: Path
) -> None:
    env = _env(tmp_path, NEUROPOSE_MODEL_CACHE_DIR=str(model_cache_dir))
    image = shared_media / "messi5.jpg"
    proc = _neuropose(tmp_path, "process", str(image), "-o", str(tmp_path / "r.json"), env=env)
    assert proc.returncode == 0, proc.stderr
    for noise in NATIVE_NOISE:
        assert noise not in proc.stderr, proc.stderr
    quiet = _neuropose(
        tmp_path, "-q", "process", str(image), "-o", str(tmp_path / "q.json"), env=env
    )
    assert quiet.returncode == 0 and quiet.stderr == ""
    verbose = _neuropose(
        tmp_path, "-vv", "process", str(image), "-o", str(tmp_path / "v.json"), env=env
    )
    assert "neuropose.native: INFO: Created TensorFlow Lite XNNPACK delegate" in verbose.stderr
