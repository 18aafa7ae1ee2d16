"""The real ``blazepose-full`` on ``../shared/media`` (skipped with a reason when absent).

cam01.mp4: one subject on a treadmill, a bystander in the background,
1080x1920 portrait, 60 fps, 100 frames, H.264, no rotation tag.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from neuropose.estimator import Estimator, without_run_details

pytestmark = [pytest.mark.slow, pytest.mark.media]


@pytest.fixture(scope="module")
def cam01(shared_media: Path) -> Path:
    path = shared_media / "lab_single_person" / "cam01.mp4"
    if not path.exists():
        pytest.skip(f"{path} is absent")
    return path


def test_blazepose_on_cam01_threaded_equals_sequential(cam01: Path, blazepose_model) -> None:
    threaded = Estimator(blazepose_model, prefetch_frames=8).process_video(cam01)
    sequential = Estimator(blazepose_model, prefetch_frames=8, sequential=True).process_video(cam01)
    vp = threaded
    assert vp.num_frames == 100 and vp.metadata.declared_frame_count == 100
    assert vp.metadata.timestamp_source == "container"
    np.testing.assert_allclose(np.diff(vp.timestamp_s), 1 / 60, atol=1e-3)
    assert vp.metadata.variable_frame_rate is False
    # The subject is found on (nearly) every frame, as one track, the primary one.
    assert len(np.unique(vp.det_frame)) >= 95
    assert set(vp.track_id.tolist()) == {0} and vp.primary_track_id == 0
    assert vp.skeleton.name == blazepose_model.skeleton.name
    boxes = vp.boxes
    assert np.all(boxes[:, 0] >= -50) and np.all(boxes[:, 0] + boxes[:, 2] <= 1080 + 50)
    assert np.all(np.isfinite(vp.poses3d))
    # A standing adult: head-to-ankle extent of roughly 1.2-2.2 m in root-relative mm.
    extent = np.ptp(vp.poses3d[:, :, 1], axis=1)
    assert 1000 < float(np.median(extent)) < 2200
    assert vp.provenance.model_sha256 == blazepose_model.weights_sha256
    assert vp.provenance.root_relative is True
    # Same frames in the same order through the model's ROI tracking: identical output.
    assert without_run_details(threaded) == without_run_details(sequential)


def test_blazepose_on_a_still_image(shared_media: Path, blazepose_model) -> None:
    img = shared_media / "messi5.jpg"
    if not img.exists():
        pytest.skip(f"{img} is absent")
    vp = Estimator(blazepose_model).process_video(img)
    assert vp.num_frames == 1 and vp.metadata.timestamp_source == "image"
    assert vp.det_frame.tolist() == [0]
