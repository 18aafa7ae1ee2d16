"""Subject identity on synthetic detection tables with known ground truth.

Scenes at 30 fps: people are boxes with an H36M-17 body whose limb lengths are
known (their proportions identify them); the patient walks across the image.
"""

from __future__ import annotations

import numpy as np

from neuropose.estimator.refine import RefineOptions, refine
from neuropose.estimator.tracking import limb_lengths, link_tracks, plausible_poses, select_subject
from neuropose.schemas import VideoPredictions
from neuropose.skeletons import H36M_17

FPS = 30.0


def _body(scale: float) -> np.ndarray:
    """H36M-17 pose (17, 3) mm whose limbs are ``scale`` × an adult's."""
    p = np.zeros((17, 3))
    names = {n: i for i, n in enumerate(H36M_17.joints)}
    for side, x in (("l", 100.0), ("r", -100.0)):
        p[names[f"{side}hip"]] = [x, 0, 0]
        p[names[f"{side}kne"]] = [x, 450 * scale, 0]
        p[names[f"{side}ank"]] = [x, 850 * scale, 0]
        p[names[f"{side}sho"]] = [1.8 * x, -500, 0]
        p[names[f"{side}elb"]] = [1.8 * x, -500 + 300 * scale, 0]
        p[names[f"{side}wri"]] = [1.8 * x, -500 + 550 * scale, 0]
    return p


class Scene:
    """Detection table builder: ``add(frame, track, box, body_scale)``."""

    def __init__(self, n_frames: int) -> None:
        self.n = n_frames
        self.rows: list[tuple[int, int, tuple[float, ...], float]] = []

    def add(self, frame: int, track: int, box: tuple[float, ...], scale: float = 1.0) -> None:
        self.rows.append((frame, track, box, scale))

    def predictions(self, rule: str = "most_present") -> VideoPredictions:
        rows = sorted(self.rows, key=lambda r: (r[0], r[1]))
        d = len(rows)
        vp = VideoPredictions.empty_for_tests(H36M_17, n_frames=self.n)
        p3 = np.stack([_body(r[3]) for r in rows]).astype(np.float32)
        boxes = np.array([r[2] for r in rows], np.float32)
        p2 = boxes[:, None, :2] + p3[:, :, :2] * 0.1 + 50
        return VideoPredictions.model_validate(
            {
                **{k: getattr(vp, k) for k in VideoPredictions.model_fields},
                "subject_rule": rule,
                "det_frame": np.array([r[0] for r in rows], np.int32),
                "track_id": np.array([r[1] for r in rows], np.int32),
                "boxes": boxes,
                "poses3d": p3,
                "poses2d": p2.astype(np.float32),
                "confidence": np.ones((d, 17), np.float32),
            }
        )


def _walker(i: int, x0: float = 50.0, v: float = 4.0) -> tuple[float, ...]:
    return (x0 + v * i, 100.0, 60.0, 150.0, 0.9)


def test_a_person_occluded_for_one_second_keeps_one_id() -> None:
    # Patient (track 0) walks, hidden for frames 30-59 (1 s), the tracker gave track 1 after.
    sc = Scene(90)
    for i in range(90):
        if not 30 <= i < 60:
            sc.add(i, 0 if i < 30 else 1, _walker(i))
    vp = refine(sc.predictions(), RefineOptions(swap_correction=False, smoothing=False))
    assert set(vp.track_id.tolist()) == {0}
    assert vp.primary_track_id == 0


def test_another_person_appearing_after_a_gap_is_not_joined() -> None:
    # Someone else (different proportions) appears where the patient was heading.
    sc = Scene(60)
    for i in range(30):
        sc.add(i, 0, _walker(i))
    for i in range(40, 60):
        sc.add(i, 1, _walker(i), scale=1.4)
    ids = link_tracks(
        sc.predictions().det_frame,
        sc.predictions().track_id,
        sc.predictions().boxes,
        np.arange(60) / FPS,
        proportions=limb_lengths(H36M_17, sc.predictions().poses3d.astype(np.float64)),
    )
    assert set(ids.tolist()) == {0, 1}


def test_two_people_crossing_keep_their_ids_and_the_subject() -> None:
    # Patient (0) present all 90 frames; passer-by (1, larger box) crosses for 30 frames.
    sc = Scene(90)
    for i in range(90):
        sc.add(i, 0, _walker(i))
        if 30 <= i < 60:
            sc.add(i, 1, (400.0 - 8 * (i - 30), 90.0, 80.0, 190.0, 0.95), scale=1.1)
    vp = refine(sc.predictions(), RefineOptions(swap_correction=False, smoothing=False))
    assert sorted(set(vp.track_id.tolist())) == [0, 1]
    assert vp.primary_track_id == 0
    # The old default picks the passer-by: the largest box of a third of the clip.
    assert select_subject("largest", vp.track_id, vp.boxes, 640, 480) == 1


def test_a_stretched_high_score_pose_is_flagged_and_not_the_subject() -> None:
    # Track 1: 10 frames, the first two a broken pose stretched to 3x limbs, score 0.96.
    sc = Scene(40)
    for i in range(40):
        sc.add(i, 0, _walker(i))
    for i in range(10):
        scale = 3.0 if i < 2 else 1.0
        sc.add(i, 1, (500.0, 10.0, 120.0, 400.0, 0.96), scale=scale)
    vp = sc.predictions()
    ok = plausible_poses(H36M_17, vp.track_id, vp.poses3d)
    flagged = {(int(vp.det_frame[k]), int(vp.track_id[k])) for k in np.nonzero(~ok)[0]}
    assert flagged == {(0, 1), (1, 1)}
    out = refine(vp, RefineOptions(swap_correction=False, smoothing=False))
    assert out.plausible is not None and int((~out.plausible).sum()) == 2
    assert out.primary_track_id == 0


def test_most_present_counts_only_plausible_detections() -> None:
    track = np.array([0, 0, 0, 1, 1], np.int32)
    boxes = np.ones((5, 5), np.float32)
    plausible = np.array([True, True, True, False, False])
    assert select_subject("most_present", track, boxes, 10, 10, plausible=plausible) == 0
    assert select_subject("longest_track", track, boxes, 10, 10) == 0
    only = np.array([False, False, False, True, True])
    assert select_subject("most_present", track, boxes, 10, 10, plausible=only) == 1


def test_an_explicit_track_id_follows_its_joined_track() -> None:
    sc = Scene(90)
    for i in range(90):
        if not 30 <= i < 60:
            sc.add(i, 0 if i < 30 else 1, _walker(i))
    vp = sc.predictions(rule="1")
    vp = vp.model_copy(update={"primary_track_id": 1})
    out = refine(vp, RefineOptions(swap_correction=False, smoothing=False))
    assert out.primary_track_id == 0
