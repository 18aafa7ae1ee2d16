"""Ingest while ``neuropose watch`` runs: every job is processed exactly once, never partially.

The daemon runs as a real subprocess with the deterministic fake processor
of the daemon tests (``tests.interfacer.fake_processor``: a video of
``64 * n`` bytes has ``n`` frames) and its most eager timings (settle 0 s,
poll 0.05 s), so it would pick up any half-written job. Three archives are
ingested while it runs, one of them as a single 8-video job of 256 KiB per
video whose extraction takes many polling intervals. Ground truth: every
job completes on its first attempt and its ``results.json`` holds exactly
the videos ingested, each with ``size / 64`` frames. (Checked: a writer
that puts the big job straight into ``in/`` file by file, 0.15 s apart,
fails this test; the daemon processes a one-video job.)
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tests.conftest import REPO_PYTHONPATH
from tests.ingest.zipcraft import Member, build_zip

from neuropose.cli import main
from neuropose.datadir.lock import probe_lock
from neuropose.datadir.status import read_status
from neuropose.ingest import ingest_archive
from neuropose.io import load_model
from neuropose.schemas import JobResults
from neuropose.schemas.status import JobState

FRAME_BYTES = 64
FAKE_SPEC = "python:tests.interfacer.fake_processor:make_processor"


def _video(frames: int, seed: int) -> bytes:
    return bytes((seed * 131 + i * 7) % 256 for i in range(frames * FRAME_BYTES))


@pytest.mark.slow
def test_jobs_ingested_while_the_daemon_runs_are_processed_once_and_whole(
    tmp_path: Path, repo_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir = tmp_path / "data"
    (data_dir / "in").mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEUROPOSE_", "FAKE_"))}
    env.update(
        {
            "PYTHONPATH": REPO_PYTHONPATH,
            "NEUROPOSE_SETTLE_SECONDS": "0",
            "NEUROPOSE_POLL_INTERVAL_S": "0.05",
            "NEUROPOSE_SHUTDOWN_GRACE_SECONDS": "10",
            "NEUROPOSE_CHECKPOINT_EVERY_FRAMES": "100000",
        }
    )
    code = "import sys; from neuropose.cli import main; sys.exit(main())"
    daemon = subprocess.Popen(
        [sys.executable, "-c", code, "watch", "--data-dir", str(data_dir), "--model", FAKE_SPEC],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    expected: dict[str, dict[str, int]] = {}  # job -> video file -> frames
    try:
        # Ingest only once the daemon holds its lock and is scanning in/.
        deadline = time.monotonic() + 60
        while not probe_lock(data_dir / "neuropose.lock").held:
            assert daemon.poll() is None, "daemon exited before starting"
            assert time.monotonic() < deadline, "daemon did not start"
            time.sleep(0.05)
        time.sleep(0.3)
        big = [Member(f"cam{i}/walk.mp4", os.urandom(4096 * FRAME_BYTES)) for i in range(8)]
        a = build_zip(tmp_path / "a.zip", big)
        report = ingest_archive(a, data_dir, job="session_big")
        expected["session_big"] = {f"cam{i}_walk.mp4": 4096 for i in range(8)}
        assert [v.file for v in report.jobs[0].videos] == sorted(expected["session_big"])

        b = build_zip(
            tmp_path / "b.zip",
            [
                Member(f"p{i}/trial_{j}.mp4", _video(20 + 3 * i + j, i * 10 + j))
                for i in range(3)
                for j in range(2)
            ],
        )
        report = ingest_archive(b, data_dir)
        for job in report.jobs:
            expected[job.name] = {v.file: v.size_bytes // FRAME_BYTES for v in job.videos}
        assert len(report.jobs) == 6

        c = tmp_path / "c"
        c.mkdir()
        for i in range(3):
            (c / f"gait_{i}.avi").write_bytes(_video(30 + i, 99 + i))
        assert main(["ingest", str(c), "--data-dir", str(data_dir), "--job", "gait"]) == 0
        capsys.readouterr()
        expected["gait"] = {f"gait_{i}.avi": 30 + i for i in range(3)}

        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert daemon.poll() is None, daemon.stderr.read().decode() if daemon.stderr else ""
            jobs = read_status(data_dir).jobs
            if all(
                j in jobs and jobs[j].state in (JobState.COMPLETED, JobState.FAILED)
                for j in expected
            ):
                break
            time.sleep(0.1)
    finally:
        daemon.send_signal(signal.SIGTERM)
        try:
            daemon.wait(timeout=30)
        except subprocess.TimeoutExpired:  # pragma: no cover - diagnostic path
            daemon.kill()
            daemon.wait()

    jobs = read_status(data_dir).jobs
    assert set(expected) <= set(jobs)
    for name, videos in expected.items():
        entry = jobs[name]
        assert entry.state is JobState.COMPLETED, (name, entry.error)
        assert entry.attempts == 1, name
        assert [h.outcome for h in entry.history] == [JobState.COMPLETED]
        results = load_model(data_dir / "out" / name / "results.json", JobResults)
        got = {v.video: v.num_frames for v in results.videos}
        assert got == videos, name
    assert not (data_dir / ".staging").exists()


def test_force_replacing_a_completed_job_gets_it_processed_again(
    tmp_path: Path, repo_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without a daemon, --force drops the old status entry so the next run reprocesses."""
    data_dir = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEUROPOSE_", "FAKE_"))}
    env.update({"PYTHONPATH": REPO_PYTHONPATH, "NEUROPOSE_SETTLE_SECONDS": "0"})
    code = "import sys; from neuropose.cli import main; sys.exit(main())"
    watch_once = [sys.executable, "-c", code, "watch", "--once", "--data-dir", str(data_dir)]
    watch_once += ["--model", FAKE_SPEC]

    first = build_zip(tmp_path / "v1.zip", [Member("walk.mp4", _video(10, 1))])
    ingest_archive(first, data_dir)
    subprocess.run(watch_once, env=env, check=True, capture_output=True, timeout=120)
    assert read_status(data_dir).jobs["walk"].state is JobState.COMPLETED

    second = build_zip(tmp_path / "v2.zip", [Member("walk.mp4", _video(25, 2))])
    assert main(["ingest", str(second), "--data-dir", str(data_dir), "--force"]) == 0
    out = capsys.readouterr().out
    assert "replaced walk: removed in/walk, out/walk (status was completed)" in out
    assert "walk" not in read_status(data_dir).jobs
    subprocess.run(watch_once, env=env, check=True, capture_output=True, timeout=120)
    entry = read_status(data_dir).jobs["walk"]
    assert (entry.state, entry.attempts) == (JobState.COMPLETED, 1)
    results = load_model(data_dir / "out" / "walk" / "results.json", JobResults)
    assert [(v.video, v.num_frames) for v in results.videos] == [("walk.mp4", 25)]
