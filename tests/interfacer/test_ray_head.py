"""The Ray head going away: ``watch --executor ray`` stops at a checkpoint, exits 4, resumes.

A head is started with ``ray start --head`` (loopback, its own temporary
directory) and killed with SIGKILL: only the processes whose command line
names that directory, all started by this test.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from tests.conftest import REPO_PYTHONPATH
from tests.interfacer.conftest import neuropose_cmd
from tests.interfacer.fake_processor import expected, write_fake_video

from neuropose.io import load_model
from neuropose.schemas import JobResults
from neuropose.schemas.workers import WorkersFile

pytest.importorskip("ray")
pytestmark = pytest.mark.slow

RECORDING = "python:tests.interfacer.ray_fakes:make_recording"


class Head:
    """A Ray head on 127.0.0.1:<port> with its own temp directory."""

    def __init__(self) -> None:
        # Short path: Ray's unix sockets live below it (107-byte limit).
        self.tmp = Path(tempfile.mkdtemp(prefix="nprh", dir="/tmp"))
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.address = f"127.0.0.1:{self.port}"
        self.env = {**os.environ, "RAY_TMPDIR": str(self.tmp), "RAY_AUTH_MODE": "token",
                    "PYTHONPATH": REPO_PYTHONPATH}  # fmt: skip

    def start(self) -> None:
        ray = str(Path(sys.executable).with_name("ray"))
        res = subprocess.run(
            [ray, "start", "--head", "--node-ip-address=127.0.0.1", f"--port={self.port}",
             "--num-cpus=2", "--include-dashboard=false", "--disable-usage-stats"],
            env=self.env, capture_output=True, text=True, timeout=180,
        )  # fmt: skip
        assert res.returncode == 0, res.stdout + res.stderr

    def pids(self) -> list[int]:
        """The head's processes: those naming its directory, and their descendants."""
        named, parent = set(), {}
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                cmdline = (proc / "cmdline").read_bytes()
                stat = (proc / "stat").read_text()
            except OSError:
                continue
            parent[int(proc.name)] = int(stat.rsplit(")", 1)[1].split()[1])
            if str(self.tmp).encode() in cmdline:
                named.add(int(proc.name))
        found = set(named)
        grew = True
        while grew:  # Ray's agents rename their command line: found as children
            children = {pid for pid, ppid in parent.items() if ppid in found} - found
            found |= children
            grew = bool(children)
        return sorted(found)

    def kill(self) -> None:
        for pid in self.pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


@pytest.fixture
def head() -> Iterator[Head]:
    h = Head()
    try:
        yield h
    finally:
        h.kill()
        shutil.rmtree(h.tmp, ignore_errors=True)


def _watch(data_dir: Path, env: dict[str, str], address: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        neuropose_cmd("watch", "--once", "--executor", "ray", "--ray-address", address,
                      "--workers", "2", "--cpus-per-worker", "0.5",
                      "--data-dir", str(data_dir), "--model", RECORDING),
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def test_head_gone_interrupts_the_job_exits_4_and_it_resumes(
    data_dir: Path, daemon_env: dict[str, str], head: Head
) -> None:
    for i in range(2):
        write_fake_video(data_dir / "in" / "walk" / f"v{i}.mp4", 400, seed=i)  # 8 s each
    env = {**daemon_env, "RAY_TMPDIR": str(head.tmp), "RAY_AUTH_MODE": "token"}
    head.start()
    proc = _watch(data_dir, env, head.address)
    deadline = time.monotonic() + 120
    workers = data_dir / "workers.json"
    while True:  # both videos past their first checkpoints (every 5 frames)
        assert time.monotonic() < deadline and proc.poll() is None, proc.communicate()
        if workers.is_file():
            doc = load_model(workers, WorkersFile)
            if sum(w.state == "busy" and w.frames_done >= 30 for w in doc.workers) == 2:
                break
        time.sleep(0.1)
    head.kill()
    _, err = proc.communicate(timeout=90)
    assert proc.returncode == 4, err
    assert "Traceback" not in err
    assert "lost the Ray cluster" in err
    status = json.loads((data_dir / "out" / "walk" / "status.json").read_text())
    assert status["state"] == "interrupted" and status["attempts"] == 1
    assert status["history"][0]["error"].startswith("ClusterUnavailableError: lost the Ray")
    checkpoints = sorted(p.name for p in (data_dir / "out" / "walk" / "partial").glob("*.ckpt*"))
    assert checkpoints == ["v0.mp4.ckpt.json", "v1.mp4.ckpt.json"]

    # Restarted while the head is down: refused at once, nothing changed.
    proc = _watch(data_dir, env, head.address)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 4 and "ray head reachable: nothing answers" in err

    # The head is back: the job resumes from its checkpoints and completes.
    head.start()
    proc = _watch(data_dir, env, head.address)
    _, err = proc.communicate(timeout=180)
    assert proc.returncode == 0, err
    status = json.loads((data_dir / "out" / "walk" / "status.json").read_text())
    assert status["state"] == "completed" and status["attempts"] == 2
    results = load_model(data_dir / "out" / "walk" / "results.json", JobResults)
    for i, pred in enumerate(results.videos):
        np.testing.assert_array_equal(
            pred.poses3d, expected(data_dir / "in" / "walk" / f"v{i}.mp4")
        )
    calls = (data_dir.parent / "calls.log").read_text().split("\n")
    resumed = [int(line.split()[1]) for line in calls[2:] if line]
    assert len(resumed) == 2 and min(resumed) >= 30, calls
