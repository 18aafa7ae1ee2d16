"""Track ids and subject selection on scripted blob videos with known ground truth.

Scene (160x120, 10 fps, 30 frames): a large static "clinician" box at the
left edge (frames 0-29), a smaller "patient" box walking right through the
centre; the patient vanishes for frames 12-15 (4 frames) and returns.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tests.fakes import FakeModel

from neuropose.errors import InputError
from neuropose.estimator import Estimator, Tracker

CLINICIAN = (2, 10, 30, 100)  # area 3000, far from the centre


def _patient(i: int) -> tuple[int, int, int, int]:
    return (50 + 2 * i, 40, 20, 50)  # area 1000, near the centre


SCENES = [[CLINICIAN] + ([] if 12 <= i <= 15 else [_patient(i)]) for i in range(30)]


@pytest.fixture
def scene(tmp_path: Path, make_blob_video) -> Path:
    return make_blob_video(tmp_path / "clinic.mp4", SCENES)


def _run(video: Path, **kwargs):
    return Estimator(FakeModel(mode="blobs", num_persons=2), max_persons=2, **kwargs).process_video(
        video
    )


def test_ids_survive_a_gap_within_max_unseen(scene: Path) -> None:
    vp = _run(scene, max_unseen_frames=5)
    _, rows_c = vp.track(0)
    assert (rows_c >= 0).all()  # clinician detected in all 30 frames as track 0
    np.testing.assert_allclose(vp.boxes[rows_c][:, :4], np.tile(CLINICIAN, (30, 1)), atol=1)
    _, rows_p = vp.track(1)
    seen = np.nonzero(rows_p >= 0)[0].tolist()
    assert seen == [i for i in range(30) if not 12 <= i <= 15]
    assert sorted(set(vp.track_id.tolist())) == [0, 1]


def test_gap_longer_than_max_unseen_is_bridged_by_reidentification(scene: Path) -> None:
    # The tracker ends the patient's track after 2 unseen frames; re-identification
    # (refine) joins the new track to it: same place, same size, 0.4 s later.
    vp = _run(scene, max_unseen_frames=2)
    assert sorted(set(vp.track_id.tolist())) == [0, 1]
    _, rows = vp.track(1)
    assert np.nonzero(rows >= 0)[0].tolist() == list(range(12)) + list(range(16, 30))


def test_tracker_alone_starts_a_new_track_after_max_unseen() -> None:
    t = Tracker(max_unseen_frames=2)
    box = np.array([[50, 40, 20, 50, 1.0]])
    assert t.update(0, box).tolist() == [0]
    assert t.update(4, box).tolist() == [1]


@pytest.mark.parametrize(
    ("rule", "expected"),
    [("largest", 0), ("most_central", 1), ("longest_track", 0), ("1", 1)],
)
def test_subject_rules(scene: Path, rule: str, expected: int) -> None:
    vp = _run(scene, subject_rule=rule, max_unseen_frames=5)
    assert vp.primary_track_id == expected
    assert vp.subject_rule == rule


def test_explicit_missing_track_id_is_an_input_error(scene: Path) -> None:
    with pytest.raises(
        InputError, match=r"(?s)subject track id 7 does not exist in clinic\.mp4.*\[0, 1\]"
    ):
        _run(scene, subject_rule="7")


def test_max_persons_keeps_highest_scores(scene: Path) -> None:
    vp = Estimator(FakeModel(num_persons=3), max_persons=2).process_video(scene)
    # FakeModel scores: person p has 0.9 - 0.1 p; person 2 (0.7) is dropped.
    assert np.all(vp.boxes[:, 4] >= 0.8 - 1e-6)
    assert vp.det_frame.shape[0] == 2 * 30


def test_tracker_crossing_paths_keep_ids() -> None:
    # Two boxes approach, overlap partially and separate: IoU matching keeps ids.
    t = Tracker(max_unseen_frames=3)
    a = [(10.0 + 4 * i, 0.0, 20.0, 40.0, 1.0) for i in range(10)]
    b = [(70.0 - 4 * i, 5.0, 20.0, 40.0, 1.0) for i in range(10)]
    first = t.update(0, np.array([a[0], b[0]]))
    assert first.tolist() == [0, 1]
    for i in range(1, 10):
        # Detector order flips every frame; ids must follow the boxes.
        order = [b[i], a[i]] if i % 2 else [a[i], b[i]]
        ids = t.update(i, np.array(order)).tolist()
        assert ids == ([1, 0] if i % 2 else [0, 1]), f"frame {i}"


def test_small_assignments_match_scipy_hungarian() -> None:
    """The argmin shortcut for one track or one detection equals SciPy's answer."""
    from scipy.optimize import linear_sum_assignment

    from neuropose.estimator.tracking import _assign

    rng = np.random.default_rng(7)
    for shape in [(1, 1), (1, 4), (4, 1), (2, 3), (3, 3)]:
        for _ in range(50):
            cost = rng.random(shape)
            rows, cols = _assign(cost)
            want_rows, want_cols = linear_sum_assignment(cost)
            assert rows.tolist() == want_rows.tolist()
            assert cols.tolist() == want_cols.tolist()
