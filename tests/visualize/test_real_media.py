"""The lab clip (../shared/media/lab_single_person/cam01.mp4) through the real estimator.

``cam01.mp4`` is 1080x1920 portrait, 60 fps, 100 frames, one subject on a
treadmill and a bystander in the background. Predictions come from the real
:class:`~neuropose.estimator.Estimator` with the deterministic FakeModel (fast,
always run when the media is present) and with BlazePose (slow; skipped with
the reason when its weights cannot be fetched). The BlazePose overlay frame is
saved as ``test-artifacts/visualize_cam01_overlay.png`` for people to look at
(with the preview, the plots and the quality page beside it).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from tests.visualize.synth import fps_and_count, read_frames

from neuropose.cli import main
from neuropose.io import load_model, write_model_atomic
from neuropose.schemas import JobResults, VideoPredictions
from neuropose.schemas.quality import QualityReport

pytestmark = pytest.mark.media


def _results(tmp_path: Path, vp: VideoPredictions) -> Path:
    out = tmp_path / "data" / "out" / "lab"
    out.mkdir(parents=True)
    path = out / "results.json"
    write_model_atomic(
        path,
        JobResults(job_id="lab", created_at="2026-01-01T00:00:00Z", neuropose_version="0",
                   videos=(vp,)),
    )  # fmt: skip
    return path


@pytest.fixture(scope="module")
def cam01(shared_media: Path) -> Path:
    return shared_media / "lab_single_person" / "cam01.mp4"


@pytest.mark.slow
def test_overlay_of_lab_clip_keeps_count_and_fps_fake_model(cam01: Path, tmp_path: Path) -> None:
    from tests.fakes import FakeModel

    from neuropose.estimator import Estimator

    vp = Estimator(FakeModel()).process_video(cam01)
    results = _results(tmp_path, vp)
    out = tmp_path / "vis"
    args = ["visualize", str(results), "--overlay", "--video", str(cam01), "-o", str(out)]
    assert main(args) == 0
    src_fps, src_count = fps_and_count(cam01)
    assert fps_and_count(out / "cam01.overlay.mp4") == (src_fps, src_count) == (60.0, 100)
    frame = read_frames(out / "cam01.overlay.mp4")[50]
    assert frame.shape == (1920, 1080, 3)  # upright portrait, like the predictions
    # FakeModel's root joint of the subject (confidence 0.9) is drawn green-yellow.
    row = int(np.nonzero((vp.det_frame == 50) & (vp.track_id == vp.primary_track_id))[0][0])
    x, y = (round(float(v)) for v in vp.poses2d[row, 0])
    b, g, r = (int(v) for v in frame[y, x])
    assert g > 200 and b < 60 and r < 110


@pytest.mark.slow
def test_blazepose_overlay_plots_and_quality_of_lab_clip(
    cam01: Path, tmp_path: Path, artifacts_dir: Path, blazepose_model: object
) -> None:
    from neuropose.estimator import Estimator

    blazepose_model.reset()  # type: ignore[attr-defined]
    vp = Estimator(blazepose_model).process_video(cam01)  # type: ignore[arg-type]
    results = _results(tmp_path, vp)
    out = tmp_path / "vis"
    args = ["visualize", str(results), "--video", str(cam01), "-o", str(out), "--gait"]
    assert main(args) == 0
    assert fps_and_count(out / "cam01.overlay.mp4") == (60.0, 100)
    # Treadmill walking: the analyzer finds heel strikes and they are marked.
    assert 'id="event-left heel strike"' in (out / "cam01.angles.svg").read_text()
    for name in ("angles", "confidence"):
        assert (out / f"cam01.{name}.png").stat().st_size > 10_000
        assert "time (s)" in (out / f"cam01.{name}.svg").read_text()
    frames = read_frames(out / "cam01.overlay.mp4")
    cv2.imwrite(str(artifacts_dir / "visualize_cam01_overlay.png"), frames[50])
    for name in ("preview.png", "angles.png", "confidence.png", "quality.html"):
        data = (out / f"cam01.{name}").read_bytes()
        (artifacts_dir / f"visualize_cam01_{name}").write_bytes(data)
    report = load_model(out / "cam01.quality.json", QualityReport)
    assert report.n_frames == 100 and report.skeleton == "blazepose_33"
    assert report.subject_detection_rate is not None and report.subject_detection_rate > 0.9
    cvs = [v for v in report.bone_length_cv.values() if v is not None]
    assert len(cvs) == len(vp.skeleton.edges)
    assert float(np.median(cvs)) < 0.2  # a real skeleton keeps its bone lengths
