"""Kill -9 and SIGTERM of ``neuropose watch`` with the real BlazePose model on real video.

The daemon processes ``cam01.mp4`` looped three times (300 frames) and
``cam01.mp4`` with a blacked-out stretch (a tracking loss), is killed with
SIGKILL again and again, mostly right after it wrote a mid-video checkpoint,
and restarted each time; a graceful SIGTERM stop is tested too. Every video's
results must be bit-identical to ``neuropose process`` of the same file: the
checkpoints carry BlazePose's tracker state (issue 13, item 1).
"""

from __future__ import annotations

import random
import shutil
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
from tests.conftest import REPO_PYTHONPATH
from tests.interfacer.conftest import neuropose_cmd

from neuropose.datadir.layout import READY_MARKER, DataDir
from neuropose.datadir.lock import probe_lock
from neuropose.io import TEMP_FILE_PATTERN, load_json, load_model
from neuropose.schemas import JobResults, VideoPredictions

pytestmark = [pytest.mark.slow, pytest.mark.media]

#: SIGKILLs of the loop test (the issue asks for at least 30).
KILLS = 30
#: Frames between checkpoints in these tests.
EVERY = 15
_FIELDS = ("det_frame", "track_id", "boxes", "poses3d", "poses2d", "confidence", "timestamp_s")
#: Job -> its videos (names of the module fixture ``videos``).
JOBS = {"jobA": ("loop3",), "jobB": ("blackout", "loop3"), "jobC": ("loop3",)}


def _ffmpeg(*args: str) -> None:
    import imageio_ffmpeg

    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", *args], check=True)


@pytest.fixture(scope="module")
def videos(shared_media: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    src = shared_media / "lab_single_person" / "cam01.mp4"
    out = tmp_path_factory.mktemp("kill9_videos")
    looped = out / "loop3.mp4"
    _ffmpeg("-stream_loop", "2", "-i", str(src), "-c", "copy", str(looped))
    loss = out / "blackout.mp4"
    _ffmpeg(
        "-i", str(src), "-vf", "drawbox=c=black:t=fill:enable='between(n,40,49)'",
        "-c:v", "libx264", "-qp", "0", "-preset", "ultrafast", "-an", str(loss),
    )  # fmt: skip
    return {"loop3": looped, "blackout": loss}


@pytest.fixture(scope="module")
def env(blazepose_weights: Path) -> dict[str, str]:
    import os

    base = {k: v for k, v in os.environ.items() if not k.startswith(("NEUROPOSE_", "FAKE_"))}
    return {
        **base,
        "PYTHONPATH": REPO_PYTHONPATH,
        "NEUROPOSE_MODEL_CACHE_DIR": str(blazepose_weights),
        "NEUROPOSE_NUM_THREADS": "2",
        "NEUROPOSE_SETTLE_SECONDS": "0",
        "NEUROPOSE_POLL_INTERVAL_S": "0.05",
        "NEUROPOSE_CHECKPOINT_EVERY_FRAMES": str(EVERY),
        "NEUROPOSE_SHUTDOWN_GRACE_SECONDS": "30",
        "NEUROPOSE_MAX_ATTEMPTS": "1000",
        "NEUROPOSE_LOG_FORMAT": "json",
    }


@pytest.fixture(scope="module")
def reference(videos: dict[str, Path], env: dict[str, str], tmp_path_factory) -> dict[str, Path]:  # type: ignore[no-untyped-def]
    """``neuropose process`` of each video: the uninterrupted run."""
    out = tmp_path_factory.mktemp("kill9_reference")
    cmd = neuropose_cmd(
        "process", *map(str, videos.values()), "-m", "blazepose-full", "-o", str(out)
    )
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return {name: out / f"{name}.results.json" for name in videos}


def _make_jobs(data_dir: Path, videos: dict[str, Path]) -> None:
    for job, names in JOBS.items():
        d = data_dir / "in" / job
        d.mkdir(parents=True)
        for name in names:
            shutil.copyfile(videos[name], d / f"{name}.mp4")
        (d / READY_MARKER).touch()


def _watch(data_dir: Path, env: dict[str, str], *extra: str) -> subprocess.Popen[str]:
    cmd = neuropose_cmd("watch", "--data-dir", str(data_dir), "--model", "blazepose-full", *extra)
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _checkpoints(data_dir: Path) -> dict[Path, int]:
    """Every checkpoint on disk and its ``next_frame`` (files being replaced are skipped)."""
    out = {}
    for job in JOBS:
        for p in DataDir(data_dir).job(job).partial.glob("*.json"):
            try:
                out[p] = int(load_json(p)["next_frame"])
            except Exception:  # replaced or removed right now
                continue
    return out


def _assert_results_equal_reference(data_dir: Path, reference: dict[str, Path]) -> int:
    compared = 0
    for job, names in JOBS.items():
        results = load_model(DataDir(data_dir).job(job).results, JobResults)
        assert sorted(v.video for v in results.videos) == sorted(f"{n}.mp4" for n in names)
        for v in results.videos:
            ref: VideoPredictions = load_model(reference[Path(v.video).stem], JobResults).videos[0]
            assert v.num_frames == ref.num_frames
            for field in _FIELDS:
                a, b = getattr(v, field), getattr(ref, field)
                assert a.shape == b.shape and a.dtype == b.dtype, (job, v.video, field)
                assert np.array_equal(a, b, equal_nan=True), f"{job}/{v.video}: {field} differs"
            compared += 1
    assert not [p for p in data_dir.rglob("*") if TEMP_FILE_PATTERN.match(p.name)]
    return compared


def test_sigkill_loop_with_blazepose_equals_uninterrupted_run(
    tmp_path: Path, videos: dict[str, Path], env: dict[str, str], reference: dict[str, Path]
) -> None:
    data_dir = tmp_path / "data"
    _make_jobs(data_dir, videos)
    rng = random.Random(20261129)
    lock = data_dir / "neuropose.lock"
    kills = after_checkpoint = runs = 0
    while kills < KILLS:
        before = _checkpoints(data_dir)
        proc = _watch(data_dir, env)
        runs += 1
        if rng.random() < 0.8:
            # Kill right after this run wrote a new mid-video checkpoint.
            deadline = time.monotonic() + 300
            new_checkpoint = False
            while proc.poll() is None and time.monotonic() < deadline and not new_checkpoint:
                now = _checkpoints(data_dir)
                new_checkpoint = any(n > before.get(p, 0) for p, n in now.items())
                time.sleep(0.02)
            time.sleep(rng.uniform(0.0, 0.3))
        else:
            new_checkpoint = False
            deadline = time.monotonic() + 60  # anywhere once the daemon is up
            while not probe_lock(lock).held and proc.poll() is None:
                assert time.monotonic() < deadline, "daemon never took the lock"
                time.sleep(0.02)
            time.sleep(rng.uniform(0.0, 1.5))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
            after_checkpoint += new_checkpoint
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == -signal.SIGKILL, err
        if all(DataDir(data_dir).job(j).results.exists() for j in JOBS):
            break  # everything finished before enough kills: reported below
        if runs > 3 * KILLS:
            pytest.fail("daemon kept exiting on its own instead of being killed")
    final = _watch(data_dir, env, "--once")
    _, err = final.communicate(timeout=600)
    assert final.returncode == 0, err
    compared = _assert_results_equal_reference(data_dir, reference)
    print(f"kills={kills} after_checkpoint={after_checkpoint} runs={runs} videos={compared}")
    assert kills >= KILLS, f"all jobs finished after {kills} kills"
    assert after_checkpoint >= KILLS // 2


def test_sigterm_stop_resumes_equal_to_uninterrupted_run(
    tmp_path: Path, videos: dict[str, Path], env: dict[str, str], reference: dict[str, Path]
) -> None:
    data_dir = tmp_path / "data"
    _make_jobs(data_dir, videos)
    proc = _watch(data_dir, env)
    deadline = time.monotonic() + 300
    while not any(n >= 2 * EVERY for n in _checkpoints(data_dir).values()):
        assert proc.poll() is None and time.monotonic() < deadline, "no checkpoint written"
        time.sleep(0.02)
    time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err  # stopped by SIGTERM after checkpointing
    stopped_at = _checkpoints(data_dir)
    assert stopped_at and max(stopped_at.values()) > 2 * EVERY - 1
    final = _watch(data_dir, env, "--once")
    _, err = final.communicate(timeout=600)
    assert final.returncode == 0, err
    assert _assert_results_equal_reference(data_dir, reference) == 4
