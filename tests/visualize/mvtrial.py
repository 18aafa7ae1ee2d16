"""A synthetic three-camera trial whose calibration of ``cam3`` is deliberately wrong.

Ground truth: the walking body of :mod:`neuropose.multiview.synthetic` seen
by three 480x640 cameras (f = 600 px) of :func:`ring_rig`; each view's 2D
keypoints are the *true* cameras' projections (0.5 px noise), but the
calibration given to the triangulation has ``cam3`` turned by
:data:`WRONG_DEG` degrees about its vertical axis — about
``600 px * tan(4 deg) = 42 px`` in its image, twice the 20 px gate. The videos
are real H.264 files of a uniform colour (:data:`VIDEO_BGR`) whose SHA-256 is
recorded in the predictions' provenance, so the overlays draw on them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from tests.multiview.mvjob_helpers import view, write_rig_json

from neuropose.io import sha256_file, write_model_atomic
from neuropose.multiview.synthetic import project_views, ring_rig, walking_motion
from neuropose.multiview.trial import triangulate_trial
from neuropose.schemas import JobResults
from neuropose.schemas.rig import CameraRig
from neuropose.video.writer import VideoWriter

F = 12
FPS = 30.0
SIZE = (480, 640)
WRONG = "cam3"
WRONG_DEG = 6.0
VIDEO_BGR = (90, 40, 20)
TRUE_RIG = ring_rig(4, size=SIZE, f=600.0)
TRUTH = walking_motion(F, FPS)


def turned(rig: CameraRig, name: str, degrees: float) -> CameraRig:
    """``rig`` with camera ``name`` rotated by ``degrees`` about its own y axis."""
    a = np.radians(degrees)
    turn = np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])
    cams = []
    for c in rig.cameras:
        if c.name == name:
            r = turn @ c.R
            centre = c.center_mm
            c = c.model_copy(
                update={
                    "rotation": tuple(tuple(float(x) for x in row) for row in r),
                    "translation_mm": tuple(float(x) for x in -r @ centre),
                }
            )
        cams.append(c)
    return rig.model_copy(update={"cameras": tuple(cams)})


WRONG_RIG = turned(TRUE_RIG, WRONG, WRONG_DEG)


def write_videos(folder: Path) -> dict[str, Path]:
    """``cam1.mp4`` .. ``cam3.mp4``: F uniform frames of SIZE at FPS."""
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for c in TRUE_RIG.cameras:
        path = folder / f"{c.name}.mp4"
        with VideoWriter(path, SIZE, FPS, crf=10) as w:
            for _ in range(F):
                w.write(np.full((SIZE[1], SIZE[0], 3), VIDEO_BGR, np.uint8))
        out[c.name] = path
    return out


def build_trial(videos: dict[str, Path], rig: CameraRig = WRONG_RIG, job: str = "trial"):
    """Predictions of every view (provenance = the videos) and their triangulation with ``rig``."""
    px = project_views(TRUTH, TRUE_RIG.cameras, noise_px=0.5, rng=np.random.default_rng(3))
    views = []
    for k, c in enumerate(TRUE_RIG.cameras):
        vp = view(f"{c.name}.mp4", px[k], SIZE, fps=FPS)
        prov = vp.provenance.model_copy(
            update={"input_sha256": sha256_file(videos[c.name]), "input_name": f"{c.name}.mp4"}
        )
        views.append(vp.model_copy(update={"provenance": prov}))
    tri = triangulate_trial(views, rig)
    return JobResults(
        job_id=job,
        created_at="2026-11-29T00:00:00Z",
        neuropose_version="0.1.0",
        videos=tuple(views),
        triangulation=tri,
    )


def write_trial(out_dir: Path, results: JobResults) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "results.json"
    write_model_atomic(path, results)
    return path


__all__ = [
    "FPS",
    "SIZE",
    "TRUE_RIG",
    "TRUTH",
    "VIDEO_BGR",
    "WRONG",
    "WRONG_RIG",
    "F",
    "build_trial",
    "turned",
    "write_rig_json",
    "write_trial",
    "write_videos",
]
