"""MP4 writer: H.264 through ffmpeg, odd sizes, atomic placement, clean failure."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tests.video.conftest import decode_all

from neuropose.errors import InputError, ResourceError
from neuropose.video.reader import count_frames, probe_video
from neuropose.video.writer import VideoWriter, find_ffmpeg


def _close(pixel: np.ndarray, bgr: tuple[int, int, int], tol: int) -> bool:
    return bool(np.all(np.abs(pixel.astype(int) - np.array(bgr)) <= tol))


@pytest.fixture(autouse=True)
def _needs_ffmpeg() -> None:
    if find_ffmpeg() is None:
        pytest.skip("no ffmpeg executable (install the imageio-ffmpeg package)")


def test_h264_output_keeps_frame_count_rate_and_colour(tmp_path: Path) -> None:
    out = tmp_path / "blue.mp4"
    with VideoWriter(out, (64, 48), 25.0, crf=10) as w:
        assert w.codec == "h264"
        for _ in range(7):
            w.write(np.full((48, 64, 3), (200, 30, 30), np.uint8))
        assert w.frames_written == 7
    info = probe_video(out)
    assert info.codec in {"avc1", "h264", "H264"}
    assert (info.width, info.height, info.fps_reported) == (64, 48, 25.0)
    assert count_frames(out) == 7
    assert _close(decode_all(out)[3][24, 32], (200, 30, 30), 6)


def test_writer_pads_odd_sizes_and_cleans_up_on_error(tmp_path: Path) -> None:
    with VideoWriter(tmp_path / "odd.mp4", (63, 47), 25.0) as w:
        for _ in range(4):
            w.write(np.full((47, 63, 3), (0, 0, 255), np.uint8))
    frames = decode_all(tmp_path / "odd.mp4")
    assert len(frames) == 4 and frames[0].shape == (48, 64, 3)
    assert _close(frames[0][46, 62], (0, 0, 255), 30)
    with (
        pytest.raises(ValueError, match=r"expected \(47, 63, 3\)"),
        VideoWriter(tmp_path / "bad.mp4", (63, 47), 25.0) as w,
    ):
        w.write(np.zeros((10, 10, 3), np.uint8))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["odd.mp4"]


def test_a_failed_rewrite_keeps_the_previous_file(tmp_path: Path) -> None:
    out = tmp_path / "keep.mp4"
    with VideoWriter(out, (32, 24), 10.0) as w:
        for _ in range(3):
            w.write(np.zeros((24, 32, 3), np.uint8))
    before = out.read_bytes()
    with pytest.raises(RuntimeError, match="drawing failed"), VideoWriter(out, (32, 24), 10.0) as w:
        w.write(np.zeros((24, 32, 3), np.uint8))
        raise RuntimeError("drawing failed")
    assert out.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["keep.mp4"]


def test_without_ffmpeg_nothing_is_written_and_the_fix_is_named(
    tmp_path: Path, monkeypatch
) -> None:
    import neuropose.video.writer as writer_mod

    monkeypatch.setattr(writer_mod, "find_ffmpeg", lambda: None)
    with pytest.raises(ResourceError, match=r"cannot write x\.mp4: no ffmpeg") as info:
        VideoWriter(tmp_path / "x.mp4", (32, 24), 10.0)
    assert info.value.exit_code == 4
    assert "imageio-ffmpeg" in str(info.value.hint)
    assert list(tmp_path.iterdir()) == []


def test_a_non_positive_frame_rate_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"cannot write x\.mp4: frame rate 0\.0 is not positive"):
        VideoWriter(tmp_path / "x.mp4", (32, 24), 0.0)
    assert list(tmp_path.iterdir()) == []
