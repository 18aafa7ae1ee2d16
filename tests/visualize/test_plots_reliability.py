"""Reliability on the angle plots: bands, flagged frames, greyed angles, triangulated plots.

Ground truth: ``build_knee_predictions`` swings the left shank toward the camera
(the knee's plane of motion is seen edge-on: not reliable from one view); the
same body turned 90 degrees about the vertical is seen from the side (reliable
geometry: an expected-error band is drawn).
"""

from __future__ import annotations

import re
from pathlib import Path

import cv2
import numpy as np
import pytest
from tests.visualize.synth import build_knee_predictions

from neuropose.analyzer.reliability import ERROR_BANDS_DEG
from neuropose.schemas import JobResults, VideoPredictions
from neuropose.skeletons import BLAZEPOSE_33
from neuropose.visualize.plots import (
    BAND_ALPHA,
    UNRELIABLE_HEX,
    plot_angles,
    plot_triangulated_angles,
    subject_angles,
)
from neuropose.visualize.sides import LEFT_HEX, RIGHT_HEX

KNEES = ["left_knee_flexion", "right_knee_flexion"]
LOW_CONF_FRAMES = (20, 21)


def _rgb(hexcol: str) -> np.ndarray:
    return np.array([int(hexcol[i : i + 2], 16) for i in (1, 3, 5)], np.float64)


def _count(png: Path, rgb: np.ndarray, tol: float = 2.5) -> int:
    img = cv2.imread(str(png))[..., ::-1].astype(np.float64)
    return int(np.all(np.abs(img - rgb) <= tol, axis=-1).sum())


def _band_rgb(hexcol: str) -> np.ndarray:
    """The band's colour over the white axes background (alpha compositing)."""
    return BAND_ALPHA * _rgb(hexcol) + (1 - BAND_ALPHA) * 255.0


def _words(svg_text: str) -> str:
    """The SVG's text with tags removed and whitespace collapsed (wrapped lines rejoined)."""
    return " ".join(re.sub(r"<[^>]+>", " ", svg_text).split())


def _side_view(vp: VideoPredictions) -> VideoPredictions:
    """The same body turned 90 deg about the camera's vertical axis: knees move in x-y."""
    p = vp.poses3d.astype(np.float64)
    x, z = p[..., 0].copy(), p[..., 2] - 3000.0
    p[..., 0], p[..., 2] = z, 3000.0 + x
    conf = np.full(vp.confidence.shape, 0.97, np.float32)
    for f in LOW_CONF_FRAMES:
        conf[f, BLAZEPOSE_33.index("left_knee")] = 0.5
    return vp.model_copy(update={"poses3d": p.astype(np.float32), "confidence": conf})


def test_a_side_view_draws_each_knee_with_its_band_and_the_flagged_frames(tmp_path: Path) -> None:
    vp = _side_view(build_knee_predictions()[0])
    angles = subject_angles(vp, KNEES)
    png, svg = plot_angles(vp, tmp_path / "side", angles=angles)
    text = svg.read_text("utf-8")
    for name in KNEES:
        assert f'id="band-{name}"' in text
        assert f'id="unreliable-{name}"' not in text
    assert 'id="flagged-left_knee_flexion"' in text  # frames 20, 21: confidence 0.5
    assert 'id="flagged-right_knee_flexion"' not in text
    band = ERROR_BANDS_DEG["knee_flexion"]
    words = _words(text)
    assert f"shaded ±{band:.1f}°: expected RMS error vs two-view triangulation" in words
    assert "RESEARCH.md section 13" in words and "validate_reliability.py" in words
    assert f"left knee flexion (caution: expected error ±{band:.0f}° RMS)" in text
    # the shaded band is in the PNG in each side's colour; absent when bands are off
    for hexcol in (LEFT_HEX, RIGHT_HEX):
        assert _count(png, _band_rgb(hexcol)) > 3000, hexcol
    plain, _ = plot_angles(vp, tmp_path / "plain", angles=angles, bands=False)
    for hexcol in (LEFT_HEX, RIGHT_HEX):
        assert _count(plain, _band_rgb(hexcol)) < 50, hexcol


def test_the_band_is_as_wide_as_the_expected_error(tmp_path: Path) -> None:
    """A constant right knee: the band spans ±band deg around it, in pixel rows."""
    vp = _side_view(build_knee_predictions()[0])
    right = subject_angles(vp, ["right_knee_flexion"])
    assert np.allclose(right["right_knee_flexion"], 0.0, atol=1e-3)
    png, _ = plot_angles(vp, tmp_path / "r", angles=right)
    img = cv2.imread(str(png))[..., ::-1].astype(np.float64)
    hit = np.all(np.abs(img - _band_rgb(RIGHT_HEX)) <= 2.5, axis=-1)
    col = int(np.argmax(hit.sum(axis=0)))
    rows = np.nonzero(hit[:, col])[0]
    band_px = rows.max() - rows.min() + 1
    # y axis from the tick labels is not readable from the PNG: compare with the axis span
    # instead: matplotlib autoscales to the band (+-band) with 5 % margins on each side.
    axis_rows = np.nonzero(np.all(img[:, col] < 60, axis=-1))[0]  # black axis spines
    span = axis_rows.max() - axis_rows.min()
    assert band_px == pytest.approx(span / 1.1, rel=0.05)


def test_a_knee_seen_edge_on_is_greyed_and_labelled_not_reliable(tmp_path: Path) -> None:
    vp, _ = build_knee_predictions()
    vp = vp.model_copy(update={"confidence": np.full(vp.confidence.shape, 0.97, np.float32)})
    png, svg = plot_angles(vp, tmp_path / "front", angles=subject_angles(vp, KNEES))
    text = svg.read_text("utf-8")
    assert 'id="unreliable-left_knee_flexion"' in text
    assert "left knee flexion (not reliable from one view): the movement plane is seen " in text
    assert 'id="band-left_knee_flexion"' not in text and 'id="band-right' not in text
    assert _count(png, _rgb(UNRELIABLE_HEX), tol=1.0) > 100
    assert _count(png, _rgb(LEFT_HEX), tol=1.0) == 0  # not drawn as a trustworthy left angle
    assert _count(png, _band_rgb(LEFT_HEX)) < 50


def _triangulated_results() -> JobResults:
    from tests.multiview.test_trial import RIG, _view

    from neuropose.multiview.synthetic import project_views, walking_motion
    from neuropose.multiview.trial import triangulate_trial

    px = project_views(walking_motion(60), RIG.cameras, noise_px=1.0)
    views = tuple(_view(f"cam{i + 1}.mp4", [(0, px[i])], 0) for i in range(3))
    return JobResults(job_id="t", created_at="t", neuropose_version="0", videos=views,
                      triangulation=triangulate_trial(views, RIG))  # fmt: skip


def test_triangulated_angles_say_so_and_carry_no_monocular_band(tmp_path: Path) -> None:
    from neuropose.analyzer.angles import compute_angle
    from neuropose.analyzer.load import TRIANGULATED, load_trial

    res = _triangulated_results()
    png, svg = plot_triangulated_angles(res, tmp_path / "triangulated.angles")
    text = svg.read_text("utf-8")
    assert "triangulated from 3 calibrated views (cam1, cam2, cam3)" in text
    assert "no monocular error band" in text
    assert 'id="band-' not in text and 'id="flagged-' not in text
    assert 'id="filtered-left_knee_flexion"' in text
    assert png.stat().st_size > 0
    knee = compute_angle(load_trial(res, video=TRIANGULATED), "left_knee_flexion")
    assert np.isfinite(knee).all()


def test_visualize_plots_a_multi_camera_trial_from_its_triangulation(tmp_path: Path) -> None:
    from neuropose.io import write_model_atomic
    from neuropose.visualize.pipeline import VisualizeOptions, visualize_results

    path = tmp_path / "trial.json"
    write_model_atomic(path, _triangulated_results())
    out = visualize_results(path, out_dir=tmp_path / "viz", options=VisualizeOptions(plots=True))
    names = {p.name for p in out.written}
    assert {"triangulated.angles.png", "triangulated.angles.svg", "cam1.angles.svg"} <= names
    text = (tmp_path / "viz" / "triangulated.angles.svg").read_text("utf-8")
    assert "no monocular error band" in text and 'id="band-' not in text
