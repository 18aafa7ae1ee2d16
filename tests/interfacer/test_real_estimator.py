"""``neuropose watch`` with the real estimator and ``tests.fakes.FakeModel`` on MPEG-4 files."""

from __future__ import annotations

import shutil
import signal
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest
from tests.interfacer.conftest import neuropose_cmd
from tests.interfacer.test_signals_subprocess import frames_done, wait_for

from neuropose.datadir.status import read_status
from neuropose.estimator import without_run_details
from neuropose.io import TEMP_FILE_PATTERN, load_model
from neuropose.schemas import JobResults
from neuropose.schemas.status import JobState

MODEL = "python:tests.fakes:make_model"


def grey_video(path: Path, n: int, offset: int) -> Path:
    """MPEG-4 video whose frame i is uniformly grey ``(offset + 2 i) % 256``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 30.0, (64, 48))
    assert writer.isOpened()
    for i in range(n):
        writer.write(np.full((48, 64, 3), (offset + 2 * i) % 256, np.uint8))
    writer.release()
    return path


def watch(data_dir: Path, env: dict[str, str], *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        neuropose_cmd("watch", "--data-dir", str(data_dir), "--model", MODEL, *extra),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
def test_sigterm_resume_with_real_estimator_equals_uninterrupted(
    tmp_path: Path, data_dir: Path, daemon_env: dict[str, str]
) -> None:
    job = data_dir / "in" / "session1"
    grey_video(job / "cam01.mp4", 90, 10)
    grey_video(job / "cam02.mp4", 30, 50)
    env = {**daemon_env, "FAKE_MODEL_COST_S": "0.03", "NEUROPOSE_CHECKPOINT_EVERY_FRAMES": "10"}
    proc = watch(data_dir, env)
    wait_for(lambda: frames_done(data_dir, "session1") >= 25, timeout=60, what="25 frames")
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    entry = read_status(data_dir).jobs["session1"]
    assert entry.state is JobState.INTERRUPTED
    assert (data_dir / "out" / "session1" / "partial" / "cam01.mp4.ckpt.json").is_file()

    env_fast = {**env, "FAKE_MODEL_COST_S": "0"}
    resumed_run = watch(data_dir, env_fast, "--once")
    _, err = resumed_run.communicate(timeout=120)
    assert resumed_run.returncode == 0, err
    assert "resuming from checkpoint" in err
    entry = read_status(data_dir).jobs["session1"]
    assert entry.state is JobState.COMPLETED
    assert (entry.frames_done, entry.frames_expected) == (120, 120)

    other = tmp_path / "other"
    shutil.copytree(job, other / "in" / "session1")
    straight_run = watch(other, env_fast, "--once")
    _, err = straight_run.communicate(timeout=120)
    assert straight_run.returncode == 0, err
    resumed = load_model(data_dir / "out" / "session1" / "results.json", JobResults)
    straight = load_model(other / "out" / "session1" / "results.json", JobResults)
    assert [without_run_details(v) for v in resumed.videos] == [
        without_run_details(v) for v in straight.videos
    ]
    assert resumed.videos[0].num_frames == 90
    assert not [p for p in data_dir.rglob("*") if TEMP_FILE_PATTERN.match(p.name)]


def test_undecodable_video_fails_job_with_estimator_error(
    data_dir: Path, daemon_env: dict[str, str]
) -> None:
    job = data_dir / "in" / "garbage"
    job.mkdir(parents=True)
    (job / "clip.mp4").write_bytes(b"this is not a video" * 100)
    proc = watch(data_dir, daemon_env, "--once")
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 1, err
    assert "failed 1" in out
    assert "1 job(s) failed: garbage" in err
    entry = read_status(data_dir).jobs["garbage"]
    assert entry.state is JobState.FAILED
    assert entry.error is not None
    assert entry.error.split(":")[0] in {"VideoUnreadableError", "NoFramesError"}
    assert "clip.mp4" in entry.error
    assert (data_dir / "failed" / "garbage" / "clip.mp4").is_file()


def test_enospc_on_checkpoint_fails_job_then_retry_completes(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import neuropose.interfacer.jobrun as mod
    from neuropose.config import load_settings
    from neuropose.interfacer import Interfacer, build_processor, retry_job

    grey_video(data_dir / "in" / "full" / "cam.mp4", 30, 0)
    settings = load_settings(
        None,
        {"data_dir": data_dir, "settle_seconds": 0.0, "checkpoint_every_frames": 10},
        environ={},
    ).settings
    real = mod.write_model_atomic

    def enospc(path, model, **kw):  # type: ignore[no-untyped-def]
        if str(path).endswith(".ckpt.json"):
            raise OSError(28, "No space left on device", str(path))
        return real(path, model, **kw)

    monkeypatch.setattr(mod, "write_model_atomic", enospc)
    daemon = Interfacer(settings, lambda: build_processor(settings, MODEL), once=True)
    daemon.run()
    entry = read_status(data_dir).jobs["full"]
    assert entry.state is JobState.FAILED
    assert entry.error is not None and "No space left on device" in entry.error
    assert (data_dir / "failed" / "full" / "cam.mp4").is_file()
    assert not (data_dir / "out" / "full" / "results.json").exists()
    assert not [p for p in data_dir.rglob("*") if TEMP_FILE_PATTERN.match(p.name)]
    # Space freed: retry and the job completes.
    monkeypatch.setattr(mod, "write_model_atomic", real)
    retry_job(data_dir, "full")
    Interfacer(settings, lambda: build_processor(settings, MODEL), once=True).run()
    entry = read_status(data_dir).jobs["full"]
    assert entry.state is JobState.COMPLETED
    assert [h.outcome for h in entry.history] == [JobState.FAILED, JobState.COMPLETED]
    results = load_model(data_dir / "out" / "full" / "results.json", JobResults)
    assert results.videos[0].num_frames == 30


def test_completed_job_gets_quality_reports_shown_by_status(
    data_dir: Path, daemon_env: dict[str, str]
) -> None:
    """FakeModel detects one person in every frame of a 20-frame clip: 100 % detection."""
    grey_video(data_dir / "in" / "visit1" / "walk.mp4", 20, 40)
    proc = watch(data_dir, daemon_env, "--once")
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err

    from neuropose.schemas.quality import QualityReport

    report = load_model(
        data_dir / "out" / "visit1" / "visualize" / "walk.quality.json", QualityReport
    )
    assert (report.video, report.n_frames, report.frames_subject_missing) == ("walk.mp4", 20, 0)
    assert report.subject_detection_rate == 1.0
    assert (data_dir / "out" / "visit1" / "visualize" / "walk.quality.html").is_file()

    shown = subprocess.run(
        neuropose_cmd("status", "visit1", "--data-dir", str(data_dir)),
        env=daemon_env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    assert "subject detected" in shown.stdout and "100.0%" in shown.stdout


def test_a_checkpoint_of_another_input_is_rejected_and_the_video_starts_over(
    tmp_path: Path, data_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The estimator's CheckpointMismatchError reaches the daemon typed (no name check)."""
    import threading

    from neuropose.config import load_settings
    from neuropose.interfacer import CheckpointRejectedError, Interfacer, build_processor
    from neuropose.io import write_model_atomic

    settings = load_settings(
        None,
        {"data_dir": data_dir, "settle_seconds": 0.0, "checkpoint_every_frames": 10},
        environ={},
    ).settings
    processor = build_processor(settings, MODEL)
    checkpoints: list[object] = []
    other = grey_video(tmp_path / "other" / "cam.mp4", 30, 90)
    processor.process_video(
        other,
        progress=lambda done, total: None,
        stop_event=threading.Event(),
        checkpoint_every_frames=10,
        on_checkpoint=checkpoints.append,
        resume=None,
    )
    video = grey_video(data_dir / "in" / "visit" / "cam.mp4", 30, 20)
    with pytest.raises(CheckpointRejectedError, match="changed"):
        processor.process_video(
            video,
            progress=lambda done, total: None,
            stop_event=threading.Event(),
            checkpoint_every_frames=10,
            on_checkpoint=lambda c: None,
            resume=checkpoints[0],
        )
    partial = data_dir / "out" / "visit" / "partial"
    partial.mkdir(parents=True)
    write_model_atomic(partial / "cam.mp4.ckpt.json", checkpoints[0])  # type: ignore[arg-type]
    Interfacer(settings, lambda: processor, once=True).run()
    assert "does not match" in caplog.text and "starting over" in caplog.text
    entry = read_status(data_dir).jobs["visit"]
    assert entry.state is JobState.COMPLETED
    resumed = load_model(data_dir / "out" / "visit" / "results.json", JobResults)
    assert resumed.videos[0].num_frames == 30
    straight = processor.process_video(
        video,
        progress=lambda done, total: None,
        stop_event=threading.Event(),
        checkpoint_every_frames=10,
        on_checkpoint=lambda c: None,
        resume=None,
    )
    assert without_run_details(resumed.videos[0]) == without_run_details(straight)
