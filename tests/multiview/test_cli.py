"""``neuropose triangulate`` and ``neuropose process --calibration`` through the CLI entry point.

Per-view results files are synthetic: a BlazePose-33 walk projected into a
virtual 3-camera rig (1 px noise), with camera 2's labels swapped in 20
frames, so the numbers the CLI reports are known.
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from neuropose.cli import main
from neuropose.io import load_model, write_model_atomic
from neuropose.multiview.geometry import mirror_permutation
from neuropose.multiview.synthetic import project_views, ring_rig, walking_motion
from neuropose.schemas import JobResults, VideoPredictions
from neuropose.skeletons import BLAZEPOSE_33
from tests.multiview.mvjob_helpers import view, write_rig_json

F = 90
PERM = mirror_permutation(BLAZEPOSE_33.joints)
FAKE = "python:tests.fakes:make_model"


def _rig_json(path: Path, n: int = 3) -> Path:
    return write_rig_json(ring_rig(n), path)


def _view(name: str, px: np.ndarray, fps: float = 60.0) -> VideoPredictions:
    return view(name, px, (1080, 1920), fps)


@pytest.fixture
def per_view(tmp_path: Path) -> list[Path]:
    truth = walking_motion(F)
    px = project_views(truth, ring_rig(3).cameras, noise_px=1.0)
    px[1, 30:50] = px[1, 30:50][:, PERM]
    paths = []
    for v in range(3):
        vp = _view(f"cam{v + 1}.mp4", px[v])
        res = JobResults(job_id=f"cam{v + 1}", created_at="t", neuropose_version="0", videos=(vp,))
        write_model_atomic(tmp_path / f"cam{v + 1}.results.json", res)
        paths.append(tmp_path / f"cam{v + 1}.results.json")
    return paths


def test_triangulate_from_per_view_results(per_view, tmp_path: Path, capsys) -> None:
    calib = _rig_json(tmp_path / "rig.json")
    out = tmp_path / "trial.json"
    rc = main(["triangulate", *map(str, per_view), "--calibration", str(calib), "-o", str(out)])
    cap = capsys.readouterr()
    assert rc == 0, cap.err
    assert "cam2.mp4: median reprojection" in cap.out and "swaps 20" in cap.out
    doc = load_model(out, JobResults)
    tri = doc.triangulation
    assert tri is not None and doc.schema_version == JobResults.SCHEMA_VERSION
    assert [v.camera for v in tri.views] == ["cam1", "cam2", "cam3"]
    assert [v.swaps for v in tri.views] == [0, 20, 0]
    assert tri.rig.source_name == "rig.json" and len(tri.rig.source_sha256) == 64
    err = np.linalg.norm(tri.points() - walking_motion(F), axis=-1)
    assert np.median(err) < 4.0
    assert all(v < 0.02 for v in tri.bone_length_cv.values() if v is not None)
    assert tri.used.shape == (F, 33, 3) and tri.options["gate_px"] == 20.0


def test_retriangulate_a_trial_with_other_parameters(per_view, tmp_path: Path, capsys) -> None:
    calib = _rig_json(tmp_path / "rig.json")
    first = tmp_path / "trial.json"
    assert (
        main(["triangulate", *map(str, per_view), "--calibration", str(calib), "-o", str(first)])
        == 0
    )
    again = tmp_path / "again.json"
    rc = main(
        [
            "triangulate",
            str(first),
            "-o",
            str(again),
            "--no-swaps",
            "--gate-px",
            "5",
            "--offset",
            "cam3=0",
        ]
    )
    assert rc == 0, capsys.readouterr().err
    tri = load_model(again, JobResults).triangulation
    assert tri is not None
    assert tri.options["detect_swaps"] is False and tri.options["gate_px"] == 5.0
    assert [v.swaps for v in tri.views] == [0, 0, 0]
    assert tri.views[2].offset_source == "user"
    assert tri.rig.source_name == "rig.json"  # the stored rig was reused


def test_sync_search_reports_the_offset(tmp_path: Path, capsys) -> None:
    truth = walking_motion(F)
    px = project_views(truth, ring_rig(3).cameras, noise_px=1.0)
    # cam3 started 3 frames late: its frame f shows reference frame f + 3, so f - 3 <-> f
    px[2] = np.concatenate([px[2, 3:], px[2, :3]])
    paths = []
    for v in range(3):
        res = JobResults(
            job_id="x",
            created_at="t",
            neuropose_version="0",
            videos=(_view(f"cam{v + 1}.mp4", px[v]),),
        )
        write_model_atomic(tmp_path / f"v{v}.json", res)
        paths.append(str(tmp_path / f"v{v}.json"))
    out = tmp_path / "trial.json"
    rc = main(
        [
            "triangulate",
            *paths,
            "--calibration",
            str(_rig_json(tmp_path / "r.json")),
            "-o",
            str(out),
            "--sync-search",
            "6",
        ]
    )
    assert rc == 0
    assert "offset -3 (estimated)" in capsys.readouterr().out
    tri = load_model(out, JobResults).triangulation
    assert tri is not None and tri.views[2].offset_frames == -3


@pytest.mark.parametrize(
    ("extra", "fps", "message"),
    [
        ([], 30.0, "cam3.mp4 runs at 30 fps but cam1.mp4 at 60 fps"),
        (["--camera-map", "cam3.mp4=cam9"], 60.0, "mapped to camera 'cam9', which is not in"),
        (["--offset", "cam3"], 60.0, "--offset 'cam3' is not KEY=VALUE"),
    ],
)
def test_bad_trials_exit_2_without_output(
    tmp_path: Path, capsys, extra: list[str], fps: float, message: str
) -> None:
    px = project_views(walking_motion(F), ring_rig(3).cameras)
    paths = []
    for v in range(3):
        vp = _view(f"cam{v + 1}.mp4", px[v], fps=fps if v == 2 else 60.0)
        write_model_atomic(
            tmp_path / f"v{v}.json",
            JobResults(job_id="x", created_at="t", neuropose_version="0", videos=(vp,)),
        )
        paths.append(str(tmp_path / f"v{v}.json"))
    out = tmp_path / "trial.json"
    rc = main(
        [
            "triangulate",
            *paths,
            "--calibration",
            str(_rig_json(tmp_path / "r.json")),
            "-o",
            str(out),
            *extra,
        ]
    )
    err = capsys.readouterr().err
    assert rc == 2
    assert message in err and "Traceback" not in err
    assert not out.exists()


def test_v1_results_migrate_to_v2(per_view) -> None:
    raw = json.loads(per_view[0].read_text())
    raw["schema_version"] = 1
    raw.pop("triangulation")
    per_view[0].write_text(json.dumps(raw))
    doc = load_model(per_view[0], JobResults)
    assert doc.schema_version == JobResults.SCHEMA_VERSION and doc.triangulation is None
    assert doc.videos[0].poses2d.shape == (F, 33, 2)


def _grey_clip(path: Path, n: int, fps: float) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (1080, 1920))
    for i in range(n):
        writer.write(np.full((1920, 1080, 3), 60 + 5 * i, np.uint8))
    writer.release()
    return path


def test_process_with_calibration_writes_one_trial(tmp_path: Path, capsys) -> None:
    clips = [_grey_clip(tmp_path / f"cam{i}.mp4", 6, 30.0) for i in (1, 2)]
    calib = _rig_json(tmp_path / "rig.json", n=2)
    out = tmp_path / "trial.json"
    rc = main(
        [
            "-q",
            "process",
            "--calibration",
            str(calib),
            *map(str, clips),
            "-o",
            str(out),
            "--model",
            FAKE,
        ]
    )
    cap = capsys.readouterr()
    assert rc == 0, cap.err
    assert f"trial   -> {out}" in cap.out
    doc = load_model(out, JobResults)
    assert [v.video for v in doc.videos] == ["cam1.mp4", "cam2.mp4"]
    assert doc.triangulation is not None
    assert [v.camera for v in doc.triangulation.views] == ["cam1", "cam2"]
    assert doc.triangulation.points_mm.shape == (6, 3, 3)  # the fake model's 3 joints


def test_process_refuses_an_unpaired_video_before_running(tmp_path: Path, capsys) -> None:
    clips = [_grey_clip(tmp_path / n, 3, 30.0) for n in ("cam1.mp4", "side.mp4")]
    out = tmp_path / "trial.json"
    rc = main(
        [
            "process",
            "--calibration",
            str(_rig_json(tmp_path / "rig.json", n=2)),
            *map(str, clips),
            "-o",
            str(out),
            "--model",
            FAKE,
        ]
    )
    err = capsys.readouterr().err
    assert rc == 2 and "video side.mp4: cannot tell which camera filmed it" in err
    assert "--camera-map" in err and not out.exists()


def test_multiview_flags_need_calibration(tmp_path: Path, capsys) -> None:
    clip = _grey_clip(tmp_path / "cam1.mp4", 2, 30.0)
    rc = main(["process", str(clip), "--sync-search", "3", "--model", FAKE])
    assert rc == 2 and "need --calibration" in capsys.readouterr().err
    rc = main(
        [
            "process",
            "--calibration",
            str(_rig_json(tmp_path / "r.json", 2)),
            str(clip),
            str(clip),
            "--keep-going",
            "--model",
            FAKE,
        ]
    )
    assert rc == 2 and "--keep-going does not apply" in capsys.readouterr().err
