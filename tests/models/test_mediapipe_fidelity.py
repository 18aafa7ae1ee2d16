"""``blazepose-full`` against MediaPipe 0.10.21's own landmarks on the shared media.

``tests/data/mediapipe_reference.npz`` holds MediaPipe's 2D (pixels) and world
(mm) landmarks for cam01/cam02 (video mode, 100 frames) and messi5.jpg /
basketball1.png (image mode), written by ``benchmarks/validate_mediapipe.py``,
so this test needs no MediaPipe; the frames MediaPipe saw were decoded by
this environment's OpenCV, as here. Thresholds leave about 3× margin over
the medians measured once the crop sampling, heatmap window and ROI filter
matched MediaPipe's (docs/benchmarks.md, "MediaPipe fidelity"); the issue's
goal is 0.3 % and 10 mm.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from neuropose.schemas import CameraIntrinsics

pytestmark = [pytest.mark.slow, pytest.mark.media]

REFERENCE = Path(__file__).resolve().parents[1] / "data" / "mediapipe_reference.npz"

# input -> (file, max median 2D error in % of body height, max median 3D error in mm)
CASES = {
    "messi5": ("messi5.jpg", 0.02, 1.0),  # measured 0.003 % / 0.2 mm (first: 0.84 % / 89.8 mm)
    "basketball1": ("basketball1.png", 0.02, 1.0),  # measured 0.001 % / 0.0 mm
    "cam01": ("lab_single_person/cam01.mp4", 0.1, 5.0),  # measured 0.028 % / 1.1 mm
    "cam02": ("lab_single_person/cam02.mp4", 0.15, 8.0),  # measured 0.056 % / 2.7 mm
}


def _frames(path: Path) -> list[np.ndarray]:
    if path.suffix != ".mp4":
        return [cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)]
    cap = cv2.VideoCapture(str(path))
    out = []
    while (got := cap.read())[0]:
        out.append(cv2.cvtColor(got[1], cv2.COLOR_BGR2RGB))
    return out


@pytest.mark.parametrize("key", list(CASES))
def test_landmarks_match_mediapipe(key: str, shared_media: Path, blazepose_model) -> None:
    name, max_pct, max_mm = CASES[key]
    ref = np.load(REFERENCE)
    ref2, ref3 = ref[f"{key}_2d"], ref[f"{key}_3d"]
    frames = _frames(shared_media / name)
    assert len(frames) == ref2.shape[0]
    blazepose_model.reset()
    k = CameraIntrinsics.from_fov(frames[0].shape[1], frames[0].shape[0], 55.0)
    pct, mm = [], []
    for i, rgb in enumerate(frames):
        det = blazepose_model.predict(rgb[None], k)[0]
        assert det.num_persons == 1 and np.isfinite(ref2[i]).all(), f"frame {i}"
        height = np.ptp(ref2[i, :, 1])
        pct.append(100 * np.median(np.linalg.norm(det.poses2d[0] - ref2[i], axis=1)) / height)
        mm.append(np.median(np.linalg.norm(det.poses3d[0] - ref3[i], axis=1)))
    assert float(np.median(pct)) <= max_pct
    assert float(np.median(mm)) <= max_mm
