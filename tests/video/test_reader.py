"""Frame reader: probing, counting, pooled frames, exact skipping, short reads, images.

Ground truth: Motion-JPEG clips whose frame ``i`` is a known uniform grey
(``grey_clip``), decoded independently with plain OpenCV (``decode_all``).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from tests.video.conftest import decode_all

from neuropose.video import (
    IMAGE_SUFFIXES,
    INPUT_SUFFIXES,
    VIDEO_SUFFIXES,
    NoFramesError,
    ShortReadError,
    VideoNotFoundError,
    VideoUnreadableError,
)
from neuropose.video.reader import FramePool, FrameReader, count_frames, probe_video

VALUES = [10 * i for i in range(25)]


@pytest.fixture
def clip(tmp_path: Path, grey_clip) -> Path:
    return grey_clip(tmp_path / "grey.avi", VALUES)


@pytest.fixture
def truncated(clip: Path, tmp_path: Path) -> Path:
    """The first 60 % of ``clip``'s bytes: the header still declares 25 frames."""
    data = clip.read_bytes()
    cut = tmp_path / "cut.avi"
    cut.write_bytes(data[: len(data) * 6 // 10])
    return cut


def test_probe_reports_the_header_without_decoding(clip: Path) -> None:
    info = probe_video(clip)
    assert (info.width, info.height, info.rotation_degrees) == (32, 24, 0)
    assert (info.declared_frame_count, info.fps_reported, info.codec) == (25, 20.0, "MJPG")
    assert info.is_image is False and info.size_bytes == clip.stat().st_size


def test_count_frames_decodes_where_the_header_lies(clip: Path, truncated: Path) -> None:
    assert count_frames(clip) == 25 == len(decode_all(clip))
    assert probe_video(truncated).declared_frame_count == 25
    n = count_frames(truncated)
    assert n == len(decode_all(truncated))
    assert 0 < n < 25


def test_frames_timestamps_and_values_match_an_independent_decode(clip: Path) -> None:
    with FrameReader(clip) as reader:
        got = [(i, ts, rgb.copy()) for i, ts, rgb in reader]
        assert reader.check_frame_count(allow_short_read=False) is False
    assert [i for i, _, _ in got] == list(range(25))
    np.testing.assert_allclose([ts for _, ts, _ in got], [i * 50.0 for i in range(25)], atol=1e-6)
    for (_, _, rgb), bgr in zip(got, decode_all(clip), strict=True):
        assert rgb.shape == (24, 32, 3) and rgb.dtype == np.uint8
        np.testing.assert_array_equal(rgb, cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    np.testing.assert_allclose([float(rgb.mean()) for _, _, rgb in got], VALUES, atol=2)


def test_short_read_is_detected_after_the_last_frame(truncated: Path) -> None:
    with FrameReader(truncated) as reader:
        n = sum(1 for _ in reader)
        with pytest.raises(
            ShortReadError, match=rf"cut\.avi: only {n} of the 25 frames the container declares"
        ) as info:
            reader.check_frame_count(allow_short_read=False)
        assert (info.value.declared, info.value.decoded, info.value.exit_code) == (25, n, 2)
        assert "--allow-short-read" in str(info.value.hint)
        assert reader.check_frame_count(allow_short_read=True) is True


def test_no_decoded_frame_is_a_no_frames_error(clip: Path) -> None:
    with (
        FrameReader(clip) as reader,
        pytest.raises(NoFramesError, match=r"grey\.avi: no frame could be decoded \(the contain"),
    ):
        reader.check_frame_count(allow_short_read=True)  # nothing iterated yet


def test_frame_reader_reuses_pooled_buffers(clip: Path) -> None:
    pool = FramePool()
    means = []
    with FrameReader(clip, pool=pool) as reader:
        held: list[tuple[float, np.ndarray]] = []
        for index, _ts, rgb in reader:
            held.append((float(rgb.mean()), rgb))
            if len(held) == 3:  # at most 3 frames in flight, like prefetch_frames=3
                mean_at_yield, oldest = held.pop(0)
                # Still intact two frames later: in-flight buffers are never overwritten.
                assert float(oldest.mean()) == mean_at_yield
                means.append(mean_at_yield)
                pool.release(oldest)
            assert index == len(means) + len(held) - 1
        means.extend(m for m, _ in held)
    assert pool.allocated == 3
    # Reused buffers hold each frame's own pixels, as an independent decode sees them.
    np.testing.assert_allclose(means, [float(f.mean()) for f in decode_all(clip)], atol=1e-9)


def test_resume_start_skips_exact_frames(clip: Path) -> None:
    with FrameReader(clip, start=15) as reader:
        got = [(i, round(ts or 0.0, 3), round(float(rgb.mean()))) for i, ts, rgb in reader]
        assert reader.decoded == 25
    expected = [(i, i * 50.0, VALUES[i]) for i in range(15, 25)]
    assert [g[:2] for g in got] == [e[:2] for e in expected]
    np.testing.assert_allclose([g[2] for g in got], [e[2] for e in expected], atol=2)


def test_resume_start_beyond_the_end_names_the_checkpoint(truncated: Path) -> None:
    with FrameReader(truncated, start=24) as reader, pytest.raises(NoFramesError) as info:
        list(reader)
    assert "checkpoint resumes at frame 24" in str(info.value)


@pytest.mark.parametrize("suffix", [".png", ".jpg"])
def test_an_image_is_one_upright_rgb_frame(tmp_path: Path, suffix: str) -> None:
    bgr = np.zeros((20, 30, 3), np.uint8)
    bgr[..., 2] = 200  # red in BGR
    path = tmp_path / f"still{suffix}"
    cv2.imwrite(str(path), bgr)
    info = probe_video(path)
    assert (info.is_image, info.width, info.height, info.declared_frame_count) == (
        True,
        30,
        20,
        1,
    )
    assert info.fps_reported is None and count_frames(path) == 1
    with FrameReader(path) as reader:
        frames = list(reader)
        assert reader.check_frame_count(allow_short_read=False) is False
    assert [(i, ts) for i, ts, _ in frames] == [(0, None)]
    assert abs(int(frames[0][2][10, 15, 0]) - 200) <= 3  # red is channel 0 in RGB
    with FrameReader(path, start=1) as reader:  # resuming after the only frame
        assert list(reader) == []
        assert reader.check_frame_count(allow_short_read=False) is False


def test_bad_inputs_raise_typed_errors_naming_the_file(tmp_path: Path) -> None:
    with pytest.raises(VideoNotFoundError, match=r"nope\.mp4 does not exist"):
        probe_video(tmp_path / "nope.mp4")
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(VideoUnreadableError, match=r"empty\.mp4 is empty"):
        count_frames(empty)
    notes = tmp_path / "notes.mp4"
    notes.write_text("clinic notes, not a video\n" * 50)
    with pytest.raises(VideoUnreadableError, match=r"notes\.mp4 is not a video OpenCV can decode"):
        FrameReader(notes)
    bad = tmp_path / "x.png"
    bad.write_bytes(b"\x89PNG not really")
    with pytest.raises(VideoUnreadableError, match=r"x\.png is not a readable image") as info:
        probe_video(bad)
    assert info.value.exit_code == 2


def test_suffix_lists_are_lower_case_disjoint_and_complete() -> None:
    assert INPUT_SUFFIXES == VIDEO_SUFFIXES | IMAGE_SUFFIXES
    assert not VIDEO_SUFFIXES & IMAGE_SUFFIXES
    assert all(s.startswith(".") and s == s.lower() for s in INPUT_SUFFIXES)
    assert {".mp4", ".mov", ".avi", ".mkv"} <= VIDEO_SUFFIXES
    assert {".jpg", ".png"} <= IMAGE_SUFFIXES


@pytest.mark.media
def test_probe_real_clip(shared_media: Path) -> None:
    cam01 = shared_media / "lab_single_person" / "cam01.mp4"
    if not cam01.exists():
        pytest.skip(f"{cam01} is absent")
    info = probe_video(cam01)
    assert (info.width, info.height, info.rotation_degrees) == (1080, 1920, 0)
    assert info.declared_frame_count == 100
    assert info.fps_reported == pytest.approx(60.0)
    assert info.codec in {"avc1", "h264", "H264"}
