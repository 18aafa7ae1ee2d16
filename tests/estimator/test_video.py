"""Video reality: VFR timestamps, rotation, truncation, bad inputs, images, intrinsics."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from tests.estimator.conftest import run_ffmpeg
from tests.fakes import FakeModel

from neuropose.estimator import (
    CameraFileError,
    Estimator,
    NoFramesError,
    ShortReadError,
    VideoNotFoundError,
    VideoUnreadableError,
    load_camera_file,
)
from neuropose.schemas import CameraIntrinsics
from neuropose.video.reader import probe_video


@pytest.fixture
def vfr_clip(tmp_path: Path, ffmpeg: str) -> Path:
    """20 frames: 0.0..1.0 s every 0.1 s, then every 0.5 s up to 5.5 s."""
    out = tmp_path / "vfr.mp4"
    run_ffmpeg(
        ffmpeg,
        *("-f", "lavfi", "-i", "testsrc=size=64x48:rate=10", "-frames:v", "20"),
        *("-vf", "setpts='if(lt(N,10),N*0.1,1+(N-10)*0.5)/TB'", "-fps_mode", "passthrough"),
        *("-c:v", "mpeg4", str(out)),
    )
    return out


def test_vfr_timestamps_come_from_the_container(vfr_clip: Path) -> None:
    vp = Estimator(FakeModel()).process_video(vfr_clip)
    expected = [i * 0.1 for i in range(10)] + [1.0 + 0.5 * i for i in range(10)]
    np.testing.assert_allclose(vp.timestamp_s, expected, atol=1e-6)
    assert vp.metadata.variable_frame_rate is True
    assert vp.metadata.timestamp_source == "container"
    # index / fps would be wrong by more than a second on this clip.
    fps = vp.metadata.fps_reported
    assert fps is not None
    assert np.max(np.abs(vp.timestamp_s - np.arange(20) / fps)) > 1.0


@pytest.fixture
def rotated_clip(tmp_path: Path, ffmpeg: str, make_blob_video) -> Path:
    """Stored landscape 160x120 with a blob at top-left, tagged to display rotated 90° CW.

    ``-display_rotation 270`` (counter-clockwise degrees) is what the legacy
    ``-metadata:s:v:0 rotate=90`` tag meant, written by a stream copy.
    """
    raw = make_blob_video(tmp_path / "raw.mp4", [[(10, 20, 30, 40)]] * 5)
    out = tmp_path / "phone.mp4"
    run_ffmpeg(ffmpeg, "-display_rotation", "270", "-i", str(raw), "-c", "copy", str(out))
    return out


def test_rotation_tag_gives_upright_frames(rotated_clip: Path) -> None:
    info = probe_video(rotated_clip)
    assert (info.rotation_degrees, info.width, info.height) == (90, 120, 160)
    model = FakeModel(mode="blobs")
    vp = Estimator(model).process_video(rotated_clip)
    assert model.frame_sizes == {(160, 120)}  # (H, W) fed to the model: portrait
    assert (vp.metadata.rotation_degrees, vp.metadata.width, vp.metadata.height) == (90, 120, 160)
    # Rotating 90° CW maps stored (x, y, w, h) = (10, 20, 30, 40) in a 120-high
    # frame to x' = 120 - (20 + 40) = 60, y' = 10, w' = 40, h' = 30.
    np.testing.assert_allclose(vp.boxes[0, :4], [60, 10, 40, 30], atol=2)
    assert vp.provenance.intrinsics.cx == 60.0 and vp.provenance.intrinsics.cy == 80.0


@pytest.fixture
def faststart_clip(tmp_path: Path, ffmpeg: str) -> Path:
    out = tmp_path / "fs.mp4"
    run_ffmpeg(
        ffmpeg,
        *("-f", "lavfi", "-i", "testsrc=size=64x48:rate=10", "-frames:v", "50"),
        *("-c:v", "mpeg4", "-movflags", "+faststart", str(out)),
    )
    return out


def test_truncated_file_is_a_short_read_error(faststart_clip: Path, tmp_path: Path) -> None:
    data = faststart_clip.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) * 6 // 10])
    with pytest.raises(ShortReadError, match=r"cut\.mp4: only \d+ of the 50 frames") as info:
        Estimator(FakeModel()).process_video(cut)
    assert info.value.declared == 50 and 0 < info.value.decoded < 50
    assert info.value.exit_code == 2
    vp = Estimator(FakeModel(), allow_short_read=True).process_video(cut)
    assert vp.metadata.short_read is True
    assert vp.metadata.declared_frame_count == 50
    assert vp.num_frames == info.value.decoded
    assert vp.provenance.options["allow_short_read"] is True


def test_container_without_decodable_frames(faststart_clip: Path, tmp_path: Path) -> None:
    data = faststart_clip.read_bytes()
    header_only = tmp_path / "header.mp4"
    header_only.write_bytes(data[: data.index(b"mdat") + 8])
    with pytest.raises(NoFramesError, match=r"header\.mp4 has no decodable frame"):
        Estimator(FakeModel()).process_video(header_only)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(VideoNotFoundError, match=r"nope\.mp4 does not exist") as info:
        Estimator(FakeModel()).process_video(tmp_path / "nope.mp4")
    assert info.value.exit_code == 2


def test_text_file_named_mp4(tmp_path: Path) -> None:
    fake = tmp_path / "notes.mp4"
    fake.write_text("these are clinic notes, not a video\n" * 50)
    with pytest.raises(VideoUnreadableError, match=r"notes\.mp4 is not a video"):
        Estimator(FakeModel()).process_video(fake)


def test_empty_and_unreadable_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(VideoUnreadableError, match=r"empty\.mp4 is empty"):
        Estimator(FakeModel()).process_video(empty)
    with pytest.raises(VideoUnreadableError, match="is not a regular file"):
        Estimator(FakeModel()).process_video(tmp_path)


def test_corrupt_image(tmp_path: Path) -> None:
    bad = tmp_path / "x.png"
    bad.write_bytes(b"\x89PNG not really")
    with pytest.raises(VideoUnreadableError, match=r"x\.png is not a readable image"):
        Estimator(FakeModel()).process_video(bad)


@pytest.mark.parametrize("suffix", [".png", ".jpg"])
def test_images_are_one_frame_inputs(tmp_path: Path, suffix: str) -> None:
    img = np.zeros((90, 120, 3), np.uint8)
    img[30:60, 40:70] = 255
    path = tmp_path / f"still{suffix}"
    cv2.imwrite(str(path), img)
    vp = Estimator(FakeModel(mode="blobs")).process_video(path)
    assert vp.num_frames == 1
    assert vp.timestamp_s.tolist() == [0.0]
    assert vp.metadata.timestamp_source == "image"
    assert (vp.metadata.width, vp.metadata.height) == (120, 90)
    assert vp.metadata.declared_frame_count == 1 and vp.metadata.duration_s == 0.0
    np.testing.assert_allclose(vp.boxes[0, :4], [40, 30, 30, 30], atol=1)


def test_fov_intrinsics_default_uses_larger_side(tmp_path: Path, make_video) -> None:
    clip = make_video(tmp_path / "c.mp4", [50] * 3, size=(64, 48))
    vp = Estimator(FakeModel(), fov_degrees=90.0).process_video(clip)
    k = vp.provenance.intrinsics
    assert k.fx == pytest.approx(32.0) and k.fy == pytest.approx(32.0)  # (64/2)/tan(45°)
    assert k.source == "fov:90"


def test_camera_file_and_per_call_intrinsics(tmp_path: Path, make_video) -> None:
    clip = make_video(tmp_path / "c.mp4", [50] * 3)
    cam = tmp_path / "camera.json"
    cam.write_text(json.dumps({"fx": 500, "fy": 510, "cx": 31.5, "cy": 23.5, "distortion": [0.1]}))
    vp = Estimator(FakeModel(), camera_file=cam).process_video(clip)
    k = vp.provenance.intrinsics
    assert (k.fx, k.fy, k.cx, k.cy, k.distortion, k.source) == (
        500.0,
        510.0,
        31.5,
        23.5,
        (0.1,),
        "camera.json",
    )
    override = CameraIntrinsics(fx=1, fy=2, cx=3, cy=4, source="call")
    vp2 = Estimator(FakeModel(), camera_file=cam).process_video(clip, intrinsics=override)
    assert vp2.provenance.intrinsics == override


def test_camera_file_errors_name_the_problem(tmp_path: Path) -> None:
    cam = tmp_path / "cam.toml"
    cam.write_text("fx = 1000\nfy = 1000\ncx = 5\n")
    with pytest.raises(CameraFileError, match=r"cam\.toml lacks 'cy'"):
        load_camera_file(cam)
    cam.write_text('fx = "wide"\nfy = 1\ncx = 1\ncy = 1\n')
    with pytest.raises(CameraFileError, match=r"'fx' = 'wide' is not a number"):
        load_camera_file(cam)
    with pytest.raises(CameraFileError, match="does not exist"):
        load_camera_file(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{fx: 1")
    with pytest.raises(CameraFileError, match=r"bad\.json does not parse"):
        load_camera_file(bad)
