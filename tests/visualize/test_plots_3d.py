"""Angle/confidence plots (labels, units, segment marks) and the 3D view."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from tests.visualize.synth import (
    build_knee_predictions,
    build_predictions,
    fps_and_count,
    read_frames,
)

from neuropose.errors import InputError
from neuropose.schemas import Skeleton, VideoPredictions
from neuropose.visualize.plots import plot_angles, plot_confidence, subject_angles
from neuropose.visualize.view3d import cube_limits, render_3d, to_display


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


def test_angles_come_from_the_analyzer_with_known_values() -> None:
    vp, theta = build_knee_predictions()
    angles = subject_angles(vp)
    np.testing.assert_allclose(angles["left_knee_flexion"], theta, atol=1e-3)
    np.testing.assert_allclose(angles["right_knee_flexion"], 0.0, atol=1e-3)


def test_angle_plot_has_labelled_axes_units_and_segment_marks(tmp_path: Path) -> None:
    vp, _ = build_knee_predictions()
    events = {"left heel strike": [0.5, 1.5]}
    png, svg = plot_angles(vp, tmp_path / "clip.angles", events=events)
    assert (png.name, svg.name) == ("clip.angles.png", "clip.angles.svg")
    w, h = _png_size(png)
    assert w >= 800 and h >= 400
    text = svg.read_text()
    assert "time (s)" in text
    assert "knee flexion (deg)" in text and "hip flexion (deg)" in text
    for i in (0, 1):
        assert f'id="segment-start-reps-{i}"' in text
        assert f'id="segment-end-reps-{i}"' in text
    assert 'id="segment-start-reps-2"' not in text
    assert 'id="event-left heel strike"' in text


def test_confidence_plot_labels_and_segments(tmp_path: Path) -> None:
    png, svg = plot_confidence(build_predictions(), tmp_path / "clip.confidence")
    assert png.is_file() and _png_size(png)[0] >= 800
    text = svg.read_text()
    assert "joint confidence (0–1)" in text and "time (s)" in text
    assert 'id="segment-start-reps-0"' in text and 'id="segment-start-reps-1"' in text
    assert {p.name for p in tmp_path.iterdir()} == {"clip.confidence.png", "clip.confidence.svg"}


def test_angle_plot_refuses_a_skeleton_without_legs(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"no joint angle can be computed .* 'toy_4'"):
        plot_angles(build_predictions(), tmp_path / "x.angles")
    assert list(tmp_path.iterdir()) == []


def test_display_axes_and_equal_cube() -> None:
    assert to_display(np.array([[10.0, -20.0, 30.0]])).tolist() == [[10.0, 30.0, 20.0]]
    vp, _ = build_knee_predictions()
    pts = to_display(vp.poses3d)
    centre, half = cube_limits(pts)
    assert np.all(np.abs(pts - centre) <= half)  # one half side for all three axes
    assert half == pytest.approx(1.05 * np.max(np.abs(pts - centre)))


def test_3d_clip_is_subsampled_to_15_fps_with_the_same_duration(tmp_path: Path) -> None:
    vp, _ = build_knee_predictions(n=60)  # 2 s at 30 fps
    out = tmp_path / "clip.3d.mp4"
    assert render_3d(vp, out, size_px=320) == 30
    fps, count = fps_and_count(out)
    assert (count, fps) == (30, 15.0)
    frame = read_frames(out)[0]
    assert frame.shape == (320, 320, 3)
    assert frame.std() > 5  # a drawing, not a blank image


def test_3d_png_and_no_subject_error(tmp_path: Path) -> None:
    vp, _ = build_knee_predictions(n=10)
    png = tmp_path / "one.png"
    assert render_3d(vp, png, size_px=300) == 1
    assert _png_size(png) == (300, 300)
    empty = VideoPredictions.empty_for_tests(Skeleton(name="t", joints=("a",)), 4)
    with pytest.raises(InputError, match=r"subject \(track None\) has no 3D pose"):
        render_3d(empty, tmp_path / "none.mp4")
    assert not (tmp_path / "none.mp4").exists()
    assert not any(re.match(r"^\..*\.tmp$", p.name) for p in tmp_path.iterdir())


def test_gait_marks_are_automatic_only_for_gait_like_segmentations() -> None:
    from neuropose.visualize.plots import looks_like_gait

    vp = build_predictions()
    assert not looks_like_gait(vp)  # "reps" by valley_to_valley: repetitions, not gait
    seg = vp.segmentations["reps"]
    gait = vp.model_copy(update={"segmentations": {"gait_cycles_left": seg}})
    assert looks_like_gait(gait)
