"""Exact resume with the real BlazePose model on real video (issue 13, item 1).

A video stopped at a checkpoint after frame ``k - 1``, persisted through
``neuropose.io`` and resumed must give predictions *bit-identical* to an
uninterrupted run: the checkpoint carries BlazePose's tracked ROIs, their
auxiliary-landmark one-euro filters and the detector counter, and the
estimator's track table. Cases: ``cam01.mp4`` (100 frames), ``cam01`` looped
three times (300 frames, the person jumps back at each loop) and ``cam01``
with frames 40-49 blacked out (a tracking loss: no person, detector on every
frame, re-acquired at frame 50).
"""

from __future__ import annotations

import logging
import subprocess
import threading
from pathlib import Path

import numpy as np
import pytest

from neuropose.estimator import Estimator
from neuropose.estimator.errors import CheckpointMismatchError, EstimationInterrupted
from neuropose.io import load_json, load_model, write_json_atomic, write_model_atomic
from neuropose.schemas import VideoCheckpoint, VideoPredictions

pytestmark = [pytest.mark.slow, pytest.mark.media]

_FIELDS = ("det_frame", "track_id", "boxes", "poses3d", "poses2d", "confidence", "timestamp_s")
#: Frames blacked out in the tracking-loss video.
_LOSS = (40, 49)


def _ffmpeg(*args: str) -> None:
    import imageio_ffmpeg

    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", *args], check=True)


@pytest.fixture(scope="module")
def videos(shared_media: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    src = shared_media / "lab_single_person" / "cam01.mp4"
    out = tmp_path_factory.mktemp("resume_videos")
    looped = out / "cam01_loop3.mp4"
    _ffmpeg("-stream_loop", "2", "-i", str(src), "-c", "copy", str(looped))
    loss = out / "cam01_blackout.mp4"
    a, b = _LOSS
    _ffmpeg(
        "-i", str(src), "-vf", f"drawbox=c=black:t=fill:enable='between(n,{a},{b})'",
        "-c:v", "libx264", "-qp", "0", "-preset", "ultrafast", "-an", str(loss),
    )  # fmt: skip
    return {"cam01": src, "loop3": looped, "blackout": loss}


@pytest.fixture(scope="module")
def full_runs(blazepose_model, videos: dict[str, Path]) -> dict[str, VideoPredictions]:  # type: ignore[no-untyped-def]
    return {name: Estimator(blazepose_model).process_video(p) for name, p in videos.items()}


def _checkpoint_at(model, video: Path, k: int, tmp_path: Path) -> VideoCheckpoint:  # type: ignore[no-untyped-def]
    """Stop ``video`` at the checkpoint after ``k`` frames and read it back from disk."""
    stop = threading.Event()

    def on_cp(cp: VideoCheckpoint) -> None:
        if cp.next_frame >= k:
            stop.set()

    with pytest.raises(EstimationInterrupted) as info:
        Estimator(model).process_video(
            video, checkpoint_every_frames=k, on_checkpoint=on_cp, stop_event=stop
        )
    cp = info.value.checkpoint
    assert cp is not None and cp.next_frame == k
    path = tmp_path / "checkpoint.json"
    write_model_atomic(path, cp)
    return load_model(path, VideoCheckpoint)


def _assert_identical(a: VideoPredictions, b: VideoPredictions) -> None:
    assert a.num_frames == b.num_frames
    for field in _FIELDS:
        x, y = getattr(a, field), getattr(b, field)
        assert x.dtype == y.dtype and x.shape == y.shape, field
        assert np.array_equal(x, y, equal_nan=True), f"{field} differs after resume"
    assert a.primary_track_id == b.primary_track_id


@pytest.mark.parametrize(
    ("name", "k"),
    [
        ("cam01", 1),
        ("cam01", 37),
        ("cam01", 99),
        ("loop3", 100),  # the resume point is the loop's jump back to frame 0
        ("loop3", 163),
        ("blackout", 45),  # inside the tracking loss (nothing tracked)
        ("blackout", 50),  # first frame after it: the detector re-acquires
        ("blackout", 52),  # right after re-acquisition: a young aux filter
    ],
)
def test_resume_equals_uninterrupted_run(  # type: ignore[no-untyped-def]
    blazepose_model, videos, full_runs, name: str, k: int, tmp_path: Path
) -> None:
    cp = _checkpoint_at(blazepose_model, videos[name], k, tmp_path)
    assert cp.model_state is not None and cp.model_state["kind"] == "blazepose"
    resumed = Estimator(blazepose_model).process_video(videos[name], resume=cp)
    _assert_identical(full_runs[name], resumed)


def test_blackout_video_really_loses_tracking(full_runs) -> None:  # type: ignore[no-untyped-def]
    """The tracking-loss case is one: no person on the blacked-out frames, one around them."""
    vp = full_runs["blackout"]
    frames = set(vp.det_frame.tolist())
    a, b = _LOSS
    assert not frames & set(range(a, b + 1))
    assert {a - 1, b + 2} <= frames


def test_checkpoint_without_model_state_resumes_with_warning_and_differs(  # type: ignore[no-untyped-def]
    blazepose_model, videos, full_runs, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A version 1 checkpoint (no model state) migrates, resumes, warns; the state matters."""
    cp = _checkpoint_at(blazepose_model, videos["cam01"], 37, tmp_path)
    data = load_json(tmp_path / "checkpoint.json")
    del data["model_state"]
    data["schema_version"] = 1
    old = tmp_path / "v1.json"
    write_json_atomic(old, data)
    migrated = load_model(old, VideoCheckpoint)
    assert migrated.model_state is None and migrated.next_frame == cp.next_frame
    with caplog.at_level(logging.WARNING, logger="neuropose"):
        resumed = Estimator(blazepose_model).process_video(videos["cam01"], resume=migrated)
    assert "carries no model state" in caplog.text and "frame 37" in caplog.text
    full = full_runs["cam01"]
    before = resumed.det_frame < 37
    np.testing.assert_array_equal(resumed.poses3d[before], full.poses3d[full.det_frame < 37])
    # Without the tracker state the frames after the resume point are not the same.
    assert not np.array_equal(resumed.poses2d, full.poses2d)


def test_unusable_model_state_is_refused(blazepose_model, videos, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cp = _checkpoint_at(blazepose_model, videos["cam01"], 5, tmp_path)
    bad = cp.model_copy(update={"model_state": {"kind": "blazepose", "since_detect": -3}})
    with pytest.raises(CheckpointMismatchError, match="model state") as info:
        Estimator(blazepose_model).process_video(videos["cam01"], resume=bad)
    assert info.value.hint and "delete the checkpoint" in info.value.hint
