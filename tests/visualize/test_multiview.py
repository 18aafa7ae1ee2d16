"""A multi-view trial you can see: reprojection checks per view and the world-frame 3D view.

Ground truth (``mvtrial.py``): four virtual cameras see a walking body; the
calibration of ``cam3`` is turned by 6 degrees (about 63 px at f = 600 px),
the others are exact (0.5 px noise). The written PNG/MP4 frames are read back
with OpenCV and their pixels checked where the detected keypoints, the
reprojected 3D points and the floor must be.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from tests.visualize.mvtrial import (
    SIZE,
    VIDEO_BGR,
    WRONG,
    F,
    build_trial,
    write_trial,
    write_videos,
)

from neuropose.errors import InputError
from neuropose.io import write_model_atomic
from neuropose.multiview.geometry import mirror_permutation
from neuropose.schemas import JobResults
from neuropose.visualize.pipeline import VisualizeOptions, visualize_results
from neuropose.visualize.reprojection import ViewReprojection
from neuropose.visualize.view3d import CAMERA_HEX, FLOOR_HEX, WorldView, render_world_3d


@pytest.fixture(scope="module")
def trial(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, JobResults]:
    root = tmp_path_factory.mktemp("mv")
    videos = write_videos(root / "media")
    results = build_trial(videos)
    return write_trial(root / "data" / "out" / "trial", results), root / "media", results


@pytest.fixture(scope="module")
def rendered(trial: tuple[Path, Path, JobResults]) -> Path:
    path, media, _ = trial
    res = visualize_results(
        path, options=VisualizeOptions(reprojection=True, view3d=True, video=media)
    )
    return res.out_dir


def _is_red(px: np.ndarray) -> np.ndarray:
    px = px.astype(int)
    return (px[..., 2] > 200) & (px[..., 1] < 90) & (px[..., 0] < 90)


def _is_green(px: np.ndarray) -> np.ndarray:
    px = px.astype(int)
    return (px[..., 1] > 200) & (px[..., 2] < 120) & (px[..., 0] < 90)


def _preview_frame(results: JobResults) -> int:
    tri = results.triangulation
    assert tri is not None
    return int(np.argmax(np.all(np.isfinite(tri.points()), axis=-1).sum(axis=1)))


def test_the_triangulation_blames_the_wrong_camera(trial) -> None:  # type: ignore[no-untyped-def]
    tri = trial[2].triangulation
    meds = {v.camera: v.median_reprojection_px for v in tri.views}
    assert meds[WRONG] > 40 and all(m < 2 for c, m in meds.items() if c != WRONG)
    assert any(WRONG in w for w in tri.warnings)


def test_drawn_errors_are_the_stored_reprojection_errors(trial) -> None:  # type: ignore[no-untyped-def]
    results = trial[2]
    tri = results.triangulation
    for v, vp in enumerate(results.videos):
        data = ViewReprojection(vp, tri)
        stored = np.asarray(tri.reprojection_px)[..., v]
        assert np.array_equal(np.isfinite(data.error_px), np.isfinite(stored))
        np.testing.assert_allclose(data.error_px[np.isfinite(stored)], stored[np.isfinite(stored)],
                                   atol=1e-3)  # fmt: skip


def test_reprojection_previews_show_the_wrong_camera_in_red(trial, rendered: Path) -> None:  # type: ignore[no-untyped-def]
    results = trial[2]
    tri = results.triangulation
    f = _preview_frame(results)
    perm = mirror_permutation(tri.skeleton.joints)
    red_counts = {}
    for v, link in enumerate(tri.views):
        img = cv2.imread(str(rendered / f"{Path(link.video).stem}.reprojection.png"))
        assert img is not None and img.shape == (SIZE[1], SIZE[0], 3)
        vp = next(x for x in results.videos if x.video == link.video)
        det = np.asarray(vp.poses2d[f], dtype=np.float64)
        if tri.swapped[f, v]:
            det = det[perm]
        rep = tri.rig.camera(link.camera).project(tri.points()[f])
        err = np.asarray(tri.reprojection_px)[f, :, v]
        ok = np.isfinite(err)
        at_det = img[np.rint(det[ok, 1]).astype(int), np.rint(det[ok, 0]).astype(int)]
        if link.camera == WRONG:
            far = ok & (err > 25)
            assert far.sum() >= 10
            # a red disc on each far detected keypoint, a red line half way to its reprojection
            assert _is_red(at_det[err[ok] > 25]).mean() > 0.9
            mid = (det[far] + rep[far]) / 2
            assert (
                _is_red(img[np.rint(mid[:, 1]).astype(int), np.rint(mid[:, 0]).astype(int)]).mean()
                > 0.6
            )
            # the white ring of the reprojected point 3 px to the right of its centre, away from it
            ring = img[np.rint(rep[far, 1]).astype(int), np.rint(rep[far, 0]).astype(int) + 3]
            assert (ring.astype(int).min(axis=1) > 150).mean() > 0.5
        else:
            # each keypoint's disc has the colour of its stored error (documented scale:
            # c = 1 - e/20, BGR (0, 255 min(1, 2c), 255 min(1, 2(1 - c)))); joints at least
            # 8 px from every other one (face landmarks overlap at this scale)
            d = np.linalg.norm(rep[:, None] - rep[None], axis=-1) + np.eye(len(rep)) * 1e9
            alone = (np.nanmin(d, axis=1) >= 8)[ok]
            # (an error of 1.5-6 px puts the joint's own 3 px ring across its disc centre)
            alone &= (err[ok] < 1.5) | (err[ok] > 6)
            assert alone.sum() >= 8
            c = 1 - np.minimum(1, err[ok][alone] / 20)
            want = np.stack(
                [0 * c, 255 * np.minimum(1, 2 * c), 255 * np.minimum(1, 2 * (1 - c))], axis=1
            )
            assert (np.abs(at_det[alone].astype(int) - want).max(axis=1) < 30).mean() > 0.9
            assert np.median(err[ok]) < 2 and np.nanmedian(np.linalg.norm(det - rep, axis=1)) < 2
        body = img[40:-30]  # below the banner, above the legend
        red_counts[link.camera] = int(_is_red(body).sum())
    assert red_counts[WRONG] > 500
    assert all(n < 50 for c, n in red_counts.items() if c != WRONG), red_counts


def test_reprojection_videos_have_every_frame_on_the_original(trial, rendered: Path) -> None:  # type: ignore[no-untyped-def]
    for cam, want_red in (("cam1", False), (WRONG, True)):
        cap = cv2.VideoCapture(str(rendered / f"{cam}.reprojection.mp4"))
        frames = []
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            frames.append(frame)
        cap.release()
        assert len(frames) == F
        first = frames[0]
        assert first.shape == (SIZE[1], SIZE[0], 3)
        # the original frames (uniform VIDEO_BGR) are behind the drawing
        corner = first[SIZE[1] // 2, 5].astype(int)
        assert np.abs(corner - np.array(VIDEO_BGR)).max() < 12
        reds = int(_is_red(first[40:-30]).sum())
        assert (reds > 300) if want_red else (reds < 50)


def _hex_bgr(h: str) -> np.ndarray:
    return np.array([int(h[5:7], 16), int(h[3:5], 16), int(h[1:3], 16)])


def test_world_view_has_the_floor_under_the_feet_and_the_cameras(trial, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    tri = trial[2].triangulation
    png = tmp_path / "world.png"
    assert render_world_3d(tri, png) == 1
    img = cv2.imread(str(png))
    world = WorldView(tri)  # the same deterministic layout: where things must be
    assert img.shape == (640, 1280, 3)
    f = world.best_frame()
    pts = tri.points()[f]
    names = tri.skeleton.joints
    feet = pts[[names.index(n) for n in ("left_heel", "right_heel")]].mean(axis=0)
    floor = _hex_bgr(FLOOR_HEX)
    for axes, r in ((world.subject_axes, 150.0), (world.rig_axes, 700.0)):
        # floor points r mm around the heels (the skeleton stands on them in the image)
        around = [feet + np.array([dx, dy, 0.0]) for dx, dy in ((r, 0), (-r, 0), (0, r), (0, -r))]
        on_floor = np.array([[p[0], p[1], 0.0] for p in around])
        for x, y in np.rint(axes.to_pixels(on_floor)).astype(int):
            assert np.abs(img[y, x].astype(int) - floor).max() <= 8, (x, y, img[y, x])
        # the floor is below the feet: the pixel under the foot on the floor is floor coloured,
        # one 2 m up is not
        x, y = np.rint(axes.to_pixels(np.array([[feet[0] + 150, feet[1], 2000.0]]))[0]).astype(int)
        assert np.abs(img[y, x].astype(int) - floor).max() > 16
        head_y = axes.to_pixels(np.array([[feet[0], feet[1], 1700.0]]))[0, 1]
        foot_y = axes.to_pixels(np.array([[feet[0], feet[1], 0.0]]))[0, 1]
        assert foot_y > head_y + 20  # up is up in the image
    # every camera of the rig panel is drawn at its centre
    camera = _hex_bgr(CAMERA_HEX)
    cams = [tri.rig.camera(c) for c in tri.camera_names]
    px = world.rig_axes.to_pixels(np.stack([c.center_mm for c in cams]))
    for x, y in np.rint(px).astype(int):
        patch = img[y - 4 : y + 5, x - 4 : x + 5].reshape(-1, 3).astype(int)
        assert (np.abs(patch - camera).max(axis=1) <= 30).any(), (x, y)


def test_world_clip_and_files_listed(rendered: Path) -> None:
    cap = cv2.VideoCapture(str(rendered / "world3d.mp4"))
    n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    cap.release()
    assert n == (F + 1) // 2  # 30 fps -> every 2nd frame (<= 15 frames/s of video time)
    for name in ("world3d.png", "cam1.reprojection.png", "cam4.reprojection.mp4"):
        assert (rendered / name).stat().st_size > 0


def test_reprojection_needs_a_triangulated_trial(make_results, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from tests.visualize.synth import build_predictions

    path = make_results(build_predictions())
    with pytest.raises(InputError, match="--reprojection needs a multi-view trial"):
        visualize_results(path, options=VisualizeOptions(reprojection=True))


def test_two_views_that_disagree_are_both_flagged_and_drawn_grey(tmp_path: Path) -> None:
    """Two cameras, one shifted 600 mm: nothing triangulates, both are named, keypoints grey."""
    from tests.multiview.mvjob_helpers import view

    from neuropose.multiview.synthetic import project_views, ring_rig, walking_motion
    from neuropose.multiview.trial import triangulate_trial
    from neuropose.visualize.overlay import SECONDARY_BGR
    from neuropose.visualize.reprojection import render_reprojection

    rig = ring_rig(2, size=SIZE, f=600.0)
    px = project_views(walking_motion(6), rig.cameras, noise_px=0.5)
    views = [view(f"{c.name}.mp4", px[k], SIZE) for k, c in enumerate(rig.cameras)]
    c2 = rig.cameras[1]
    # 600 mm along its image's vertical: off the epipolar geometry (45 px at f = 600 px)
    moved = c2.model_copy(
        update={"translation_mm": tuple(float(x) for x in c2.t + np.array([0, 600, 0]))}
    )
    tri = triangulate_trial(views, rig.model_copy(update={"cameras": (rig.cameras[0], moved)}))
    assert any("cam1 and cam2 disagree" in w for w in tri.warnings)
    for vp in views:
        png = tmp_path / f"{vp.video}.png"
        render_reprojection(vp, tri, tmp_path / f"{vp.video}.mp4", preview_path=png)
        img = cv2.imread(str(png))  # no 3D point anywhere: the view's first frame
        assert img is not None
        body = img[60:-30].astype(int)
        grey = (np.abs(body - np.array(SECONDARY_BGR)).max(axis=-1) <= 12).sum()
        assert grey > 100  # the model's keypoints, not triangulated
        assert _is_green(img[60:-30]).sum() < 20
        assert _is_red(img[:60]).sum() > 20  # "CAMERA FLAGGED" in the banner

    # everything else is still made; the world view is skipped with a note (an error if asked)
    path = tmp_path / "out" / "results.json"
    path.parent.mkdir()
    write_model_atomic(
        path,
        JobResults(job_id="two", created_at="2026-11-29T00:00:00Z", neuropose_version="0",
                   videos=tuple(views), triangulation=tri),
    )  # fmt: skip
    res = visualize_results(path)
    assert any("world-frame 3D view skipped: the triangulation has no 3D point" in n
               for n in res.notes)  # fmt: skip
    names = {p.name for p in res.written}
    assert {"cam1.reprojection.png", "cam2.reprojection.mp4", "cam1.skeleton.mp4"} <= names
    assert "world3d.png" not in names
    with pytest.raises(InputError, match="no 3D point"):
        visualize_results(path, options=VisualizeOptions(view3d=True))
