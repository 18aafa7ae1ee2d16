"""Overlay and skeleton-only videos: pixels, privacy, frame count, timing, atomicity."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tests.visualize.synth import (
    FPS,
    SUBJECT_2D,
    UNIQUE_BGR,
    H,
    N,
    W,
    build_predictions,
    fps_and_count,
    read_frames,
    sha256,
)

from neuropose.errors import InputError
from neuropose.visualize.overlay import (
    BACKGROUND_BGR,
    PRIMARY_BGR,
    confidence_colour,
    draw_frame,
    render_overlay,
)


def _close(pixel: np.ndarray, bgr: tuple[int, int, int], tol: int) -> bool:
    return bool(np.all(np.abs(pixel.astype(int) - np.array(bgr)) <= tol))


def test_joint_at_known_position_has_its_confidence_colour_exactly() -> None:
    vp = build_predictions()
    frame = np.full((H, W, 3), UNIQUE_BGR, np.uint8)
    draw_frame(frame, vp, 0)
    (ax, ay), (bx, by), (cx, cy) = SUBJECT_2D[:3].astype(int)
    assert tuple(frame[ay, ax]) == (0, 255, 0)  # confidence 1.0 -> green
    assert tuple(frame[by, bx]) == (0, 0, 255)  # confidence 0.0 -> red
    assert tuple(frame[cy, cx]) == (0, 255, 255)  # confidence 0.5 -> yellow
    # Subject bone a-b is drawn in the subject colour halfway between the joints.
    assert tuple(frame[(ay + by) // 2, ax]) == PRIMARY_BGR
    # Far from every person the source pixel is untouched.
    assert tuple(frame[460, 620]) == UNIQUE_BGR


def test_frame_without_subject_draws_only_the_bystander() -> None:
    vp = build_predictions()
    frame = np.full((H, W, 3), UNIQUE_BGR, np.uint8)
    draw_frame(frame, vp, 11)  # subject missing on 10..12
    ax, ay = SUBJECT_2D[0].astype(int)
    assert tuple(frame[ay, ax]) == UNIQUE_BGR
    assert tuple(frame[ay, ax - 300]) == confidence_colour(0.7)


def test_overlay_video_keeps_frame_count_fps_and_draws_joints(
    tmp_path: Path, unique_video: Path
) -> None:
    vp = build_predictions(input_sha256=sha256(unique_video))
    out = tmp_path / "clip.overlay.mp4"
    preview = tmp_path / "clip.preview.png"
    assert render_overlay(vp, out, video=unique_video, preview_path=preview) == N
    fps, count = fps_and_count(out)
    assert (count, fps) == (N, FPS)
    frames = read_frames(out)
    ax, ay = SUBJECT_2D[0].astype(int)
    assert _close(frames[0][ay, ax], (0, 255, 0), 40)
    assert _close(frames[0][5 * H // 6, W // 2], UNIQUE_BGR, 12)  # the patient pixels are kept
    assert preview.is_file() and preview.stat().st_size > 1000
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_skeleton_only_contains_no_pixel_of_the_source(tmp_path: Path, unique_video: Path) -> None:
    vp = build_predictions(input_sha256=sha256(unique_video))
    overlay = tmp_path / "o.mp4"
    skeleton = tmp_path / "s.mp4"
    render_overlay(vp, overlay, video=unique_video)
    render_overlay(vp, skeleton, video=unique_video, skeleton_only=True)

    def source_like(frames: list[np.ndarray]) -> int:
        stack = np.stack(frames).astype(int)
        return int(np.all(np.abs(stack - np.array(UNIQUE_BGR)) <= 30, axis=-1).sum())

    # Control: the overlay is mostly source pixels, so the detector works.
    assert source_like(read_frames(overlay)) > 0.5 * N * H * W
    sk_frames = read_frames(skeleton)
    assert len(sk_frames) == N
    assert source_like(sk_frames) == 0
    assert _close(sk_frames[0][5 * H // 6, W // 2], BACKGROUND_BGR, 6)
    ax, ay = SUBJECT_2D[0].astype(int)
    assert _close(sk_frames[0][ay, ax], (0, 255, 0), 40)


def test_frame_range_renders_only_those_frames(tmp_path: Path, unique_video: Path) -> None:
    vp = build_predictions(input_sha256=sha256(unique_video))
    out = tmp_path / "part.mp4"
    assert render_overlay(vp, out, video=unique_video, frames=(5, 15)) == 10
    assert fps_and_count(out)[1] == 10
    with pytest.raises(InputError, match=r"no frame of clip.mp4 falls in the requested range 40:"):
        render_overlay(vp, tmp_path / "none.mp4", video=unique_video, frames=(40, None))
    assert not (tmp_path / "none.mp4").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_wrong_frame_size_is_refused_and_leaves_nothing(tmp_path: Path) -> None:
    from neuropose.video.writer import VideoWriter

    small = tmp_path / "small.mp4"
    with VideoWriter(small, (320, 240), FPS) as w:
        for _ in range(3):
            w.write(np.zeros((240, 320, 3), np.uint8))
    vp = build_predictions()
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    with pytest.raises(InputError, match=r"upright frames are 320x240 but .* made on 640x480"):
        render_overlay(vp, out_dir / "x.mp4", video=small)
    assert list(out_dir.iterdir()) == []


def test_overlay_without_video_explains_the_fix(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="needs the original video") as info:
        render_overlay(build_predictions(), tmp_path / "x.mp4")
    assert "--skeleton-only" in str(info.value)
