"""``neuropose watch --executor ray`` is quiet by default: Ray's own lines only at ``-vv``.

Runs the CLI as a user does (a subprocess, stderr captured) on a private local
Ray instance; slow (Ray starts in each run).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tests.interfacer.fake_processor import write_fake_video

from neuropose.errors import InvalidDocumentError
from neuropose.io import load_model
from neuropose.schemas.workers import WorkersFile

pytest.importorskip("ray")

pytestmark = pytest.mark.slow

CLI = "import sys; from neuropose.cli import main; sys.exit(main())"
SLOW = "python:tests.interfacer.ray_fakes:make_slow"


def watch(env: dict[str, str], data_dir: Path, *flags: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", CLI, *flags, "watch", "--once", "--executor", "ray",
         "--workers", "2", "--cpus-per-worker", "0.5", "--data-dir", str(data_dir),
         "--model", SLOW],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def busy_pid(data_dir: Path, proc: subprocess.Popen[str]) -> int:
    """The pid of an actor past frame 10 of its video."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            doc = load_model(data_dir / "workers.json", WorkersFile)
        except (InvalidDocumentError, FileNotFoundError):
            doc = None
        for w in doc.workers if doc is not None else ():
            if w.state == "busy" and w.frames_done > 10 and w.pid:
                return w.pid
        time.sleep(0.05)
    raise AssertionError("no worker got busy")


def test_ray_lines_stay_out_of_stderr_even_when_a_worker_dies(
    data_dir: Path, daemon_env: dict[str, str]
) -> None:
    for job in ("a", "b"):
        write_fake_video(data_dir / "in" / job / f"{job}.mp4", 150, seed=3)
    proc = watch(daemon_env, data_dir)
    os.kill(busy_pid(data_dir, proc), signal.SIGKILL)
    out, err = proc.communicate(timeout=240)

    assert proc.returncode == 0, err
    assert "completed 2, failed 0" in out
    lines = [json.loads(line) for line in err.splitlines()]  # only NeuroPose's JSON log lines
    assert all(rec["logger"].startswith("neuropose.") for rec in lines), err
    assert all(rec["level"] != "debug" for rec in lines)
    assert "Token authentication" not in err and "(raylet)" not in err
    assert "Started a local Ray instance" not in err
    lost = [rec for rec in lines if "re-running" in rec["message"]]
    assert len(lost) == 1 and "WorkerLostError" not in lost[0]["message"]  # ours, once


def test_ray_lines_are_debug_logs_at_vv(data_dir: Path, daemon_env: dict[str, str]) -> None:
    write_fake_video(data_dir / "in" / "a" / "a.mp4", 5, seed=3)
    proc = watch(daemon_env, data_dir, "-vv")
    out, err = proc.communicate(timeout=240)

    assert proc.returncode == 0, err
    assert "completed 1, failed 0" in out
    ray_lines = [
        rec for rec in map(json.loads, err.splitlines()) if rec["logger"] == "neuropose.ray"
    ]
    assert any("Started a local Ray instance" in rec["message"] for rec in ray_lines), err
    assert {rec["level"] for rec in ray_lines} == {"debug"}
