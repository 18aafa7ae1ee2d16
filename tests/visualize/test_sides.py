"""Readable visuals, checked on pixels: left/right colours, joint size, confidence by limb.

Ground truth: ``build_limb_predictions`` (BlazePose-33, one person, box 300 px
high on a 640x480 frame); 2D joints are the 3D ones / 10 + (320, 100) px, so
the left hip is at (330, 100) px and the left knee at (330, 145) px on frame
0; the right hip at (310, 100) and the right knee at (310, 142).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from tests.visualize.synth import build_limb_predictions

from neuropose.skeletons import BLAZEPOSE_33 as SK
from neuropose.visualize.overlay import BACKGROUND_BGR, PRIMARY_BGR, confidence_colour, draw_frame
from neuropose.visualize.plots import plot_confidence
from neuropose.visualize.sides import GROUP_COLOURS, LEFT_BGR, RIGHT_BGR, limb_groups
from neuropose.visualize.view3d import render_3d


def _canvas() -> np.ndarray:
    return np.full((480, 640, 3), BACKGROUND_BGR, np.uint8)


def _bgr(hex_colour: str) -> tuple[int, int, int]:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return (b, g, r)


def _count(img: np.ndarray, bgr: tuple[int, int, int]) -> int:
    return int(np.all(img == np.array(bgr, np.uint8), axis=-1).sum())


def test_left_and_right_bones_have_their_colours() -> None:
    vp = build_limb_predictions()
    frame = draw_frame(_canvas(), vp, 0)
    assert tuple(frame[122, 330]) == LEFT_BGR  # left thigh, between hip and knee
    assert tuple(frame[121, 310]) == RIGHT_BGR  # right thigh
    assert tuple(frame[65, 335]) == LEFT_BGR  # left upper arm (shoulder y 50, elbow y 80)
    assert tuple(frame[65, 305]) == RIGHT_BGR
    # The pelvis (hip to hip, y = 100 px) crosses sides: the centre colour (other
    # bones of the random face/hand/foot joints may cross it, so not every pixel).
    assert _count(frame[100:101, 313:328], PRIMARY_BGR) >= 3
    # The two sides differ for every common colour-vision deficiency: far apart in
    # lightness and in the blue-yellow axis that deuteranopes and protanopes keep.
    lab = cv2.cvtColor(np.uint8([[LEFT_BGR, RIGHT_BGR]]), cv2.COLOR_BGR2LAB)[0].astype(int)
    assert abs(lab[0, 0] - lab[1, 0]) > 40 and abs(lab[0, 2] - lab[1, 2]) > 60


def test_joint_discs_scale_with_the_person() -> None:
    vp = build_limb_predictions()
    colour = confidence_colour(0.8)
    big = _count(draw_frame(_canvas(), vp, 0)[90:110, 320:340], colour)
    boxes = vp.boxes.copy()
    boxes[:, 3] = 200.0  # the same person 2/3 as tall: radius 2 px instead of 3
    small_vp = vp.model_copy(update={"boxes": boxes})
    small = _count(draw_frame(_canvas(), small_vp, 0)[90:110, 320:340], colour)
    assert 0 < small < big


def test_3d_view_draws_left_and_right_in_their_colours(tmp_path: Path) -> None:
    png = tmp_path / "v.3d.png"
    assert render_3d(build_limb_predictions(), png) == 1
    img = cv2.imread(str(png))
    assert _count(img, LEFT_BGR) > 20 and _count(img, RIGHT_BGR) > 20


def test_confidence_plot_is_grouped_by_limb(tmp_path: Path) -> None:
    vp = build_limb_predictions()
    conf = np.full_like(vp.confidence, 0.5)
    groups = dict(limb_groups(SK))
    conf[:, groups["left leg"]] = 0.2
    conf[:, groups["right leg"]] = 0.9
    png, svg = plot_confidence(vp.model_copy(update={"confidence": conf}), tmp_path / "c")
    text = svg.read_text("utf-8")
    for label in ("head (11)", "left arm (6)", "right arm (6)", "left leg (5)", "right leg (5)"):
        assert label in text
    assert "left_knee" not in text  # no per-joint legend
    img = cv2.imread(str(png))
    rows = {}
    for group in ("left leg", "right leg", "head"):
        ys, _ = np.nonzero(np.all(img == np.array(_bgr(GROUP_COLOURS[group]), np.uint8), -1))
        assert ys.size > 50, group
        rows[group] = float(np.median(ys))
    # Image rows grow downwards: confidence 0.2 is drawn below 0.5, which is below 0.9.
    assert rows["left leg"] > rows["head"] > rows["right leg"]


def test_angle_plot_is_filtered_with_the_raw_signal_faint_behind(tmp_path: Path) -> None:
    from tests.visualize.synth import build_knee_predictions

    from neuropose.visualize.plots import plot_angles

    vp, _truth = build_knee_predictions()
    png, svg = plot_angles(vp, tmp_path / "a", bands=False)  # knees seen edge-on would be grey
    text = svg.read_text("utf-8")
    assert "lines: low-pass 6.0 Hz, faint: raw" in text
    for side in ("left", "right"):
        assert f'id="raw-{side}_knee_flexion"' in text
        assert f'id="filtered-{side}_knee_flexion"' in text
    img = cv2.imread(str(png))
    assert _count(img, LEFT_BGR) > 50 and _count(img, RIGHT_BGR) > 50  # side colours
    _, svg2 = plot_angles(vp, tmp_path / "b", filter_hz=None)
    assert 'id="raw-' not in svg2.read_text("utf-8")
