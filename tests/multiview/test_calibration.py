"""Calibration readers: conventions checked against cameras with known geometry."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from neuropose.io import sha256_file
from neuropose.multiview.calibration import (
    CalibrationError,
    fit_camera_to_image,
    load_calibration,
)
from neuropose.multiview.geometry import look_at
from neuropose.schemas.rig import RigCamera

CAM = look_at(
    "camA",
    (2500, -1800, 1700),
    (0, 0, 900),
    f=1680.0,
    size=(1088, 1920),
    distortion=(-0.046, 0.14, 0.0006, 0.0007, 0.0),
)
POINTS = np.array([[0, 0, 0], [300, -200, 900], [-400, 350, 1700.0]])


def _qca(cam: RigCamera, *, left: int = 0, top: int = 0, extra: str = "") -> str:
    """A Qualisys file describing ``cam`` with Qualisys' conventions (inverse of the reader)."""
    m = np.diag([1.0, -1.0, -1.0]) @ cam.R  # OpenCV axes -> Qualisys camera axes
    c = cam.center_mm
    k = cam.K
    rot = " ".join(f'r{i + 1}{j + 1}="{float(m[i, j])!r}"' for i in range(3) for j in range(3))
    d = cam.distortion
    return f"""<?xml version='1.0' encoding='ASCII'?>
<calibration><cameras>
<camera active="1" serial="{cam.name}" model="none" viewrotation="0">
 <fov_video left="{left}" top="{top}"
  right="{left + cam.width - 1}" bottom="{top + cam.height - 1}"/>
 <transform x="{float(c[0])!r}" y="{float(c[1])!r}" z="{float(c[2])!r}" {rot}/>
 <intrinsic focalLengthU="{float(k[0, 0] * 64)!r}" focalLengthV="{float(k[1, 1] * 64)!r}"
  centerPointU="{float((k[0, 2] + left) * 64)!r}" centerPointV="{float((k[1, 2] + top) * 64)!r}"
  radialDistortion1="{d[0]}" radialDistortion2="{d[1]}" radialDistortion3="{d[4]}"
  tangentalDistortion1="{d[2]}" tangentalDistortion2="{d[3]}" skew="0" {extra}/>
</camera>
<camera active="0" serial="off"/>
</cameras></calibration>"""


def _same_projection(rig_cam: RigCamera, cam: RigCamera = CAM) -> None:
    np.testing.assert_allclose(rig_cam.project(POINTS), cam.project(POINTS), atol=1e-6)


@pytest.mark.parametrize(("left", "top"), [(0, 0), (16, 8)])
def test_qualisys_conventions_reproduce_the_camera(tmp_path: Path, left: int, top: int) -> None:
    path = tmp_path / "Calib.qca.txt"
    path.write_text(_qca(CAM, left=left, top=top))
    rig = load_calibration(path)
    assert rig.names == ("camA",)  # the inactive camera is skipped
    assert rig.up_axis == "+z" and rig.source_format == "qualisys"
    assert rig.source_sha256 == sha256_file(path) and rig.source_name == "Calib.qca.txt"
    cam = rig.cameras[0]
    assert (cam.width, cam.height) == (1088, 1920)
    np.testing.assert_allclose(cam.center_mm, CAM.center_mm, atol=1e-6)
    _same_projection(cam)


def test_shipped_qualisys_file(shared_media: Path) -> None:
    """The lab's file: 4 cameras, 1/64 px intrinsics, all looking at the capture volume."""
    rig = load_calibration(shared_media / "lab_single_person" / "Calib.qca.txt")
    assert rig.names == ("cam01", "cam02", "cam03", "cam04")
    cam01 = rig.camera("cam01")
    assert cam01.K[0, 0] == pytest.approx(107599.671875 / 64)
    assert cam01.K[0, 2] == pytest.approx(34110.316406 / 64)
    assert cam01.distortion[:2] == (-0.046183, 0.139983)
    for cam in rig.cameras:
        assert (cam.width, cam.height) == (1088, 1920)
        floor, head = cam.project(np.array([[0, 0, 0], [0, 0, 1700.0]]))
        assert 0 <= floor[0] < 1088 and 0 <= floor[1] < 1920  # the lab's origin is in view
        assert head[1] < floor[1] - 300  # z is up: higher points are higher in the image
        assert 3000 < np.linalg.norm(cam.center_mm) < 5000


def test_toml_pose2sim(tmp_path: Path) -> None:
    rvec = [float(x) for x in cv2.Rodrigues(CAM.R)[0].ravel()]
    k, t = CAM.K, [float(x) for x in CAM.t / 1000]
    path = tmp_path / "Calib.toml"
    path.write_text(
        f"""[cam_1]
name = "camA"
size = [ 1088.0, 1920.0]
matrix = [ [ {k[0, 0]}, 0.0, {k[0, 2]}], [ 0.0, {k[1, 1]}, {k[1, 2]}], [ 0.0, 0.0, 1.0]]
distortions = [ -0.046, 0.14, 0.0006, 0.0007]
rotation = [ {rvec[0]!r}, {rvec[1]!r}, {rvec[2]!r}]
translation = [ {t[0]!r}, {t[1]!r}, {t[2]!r}]
fisheye = false

[metadata]
adjusted = false
error = 0.0
"""
    )
    rig = load_calibration(path)
    assert rig.source_format == "toml" and rig.names == ("camA",)
    _same_projection(rig.cameras[0])


def test_json_and_opencv_yaml(tmp_path: Path) -> None:
    cam = {
        "size": [1088, 1920],
        "K": CAM.K.tolist(),
        "dist": list(CAM.distortion),
        "R": CAM.R.tolist(),
        "t": (CAM.t / 10).tolist(),
    }
    jpath = tmp_path / "rig.json"
    jpath.write_text(json.dumps({"up_axis": "-y", "unit_mm": 10, "cameras": {"camA": cam}}))
    rig = load_calibration(jpath)
    assert rig.up_axis == "-y"
    _same_projection(rig.cameras[0])

    ypath = tmp_path / "rig.yml"
    fs = cv2.FileStorage(str(ypath), cv2.FILE_STORAGE_WRITE)
    fs.startWriteStruct("cameras", cv2.FileNode_MAP)
    fs.startWriteStruct("camA", cv2.FileNode_MAP)
    fs.write("size", np.array([1088.0, 1920.0]))
    fs.write("K", CAM.K)
    fs.write("dist", np.array(CAM.distortion))
    fs.write("rvec", cv2.Rodrigues(CAM.R)[0])
    fs.write("t", CAM.t)
    fs.endWriteStruct()
    fs.endWriteStruct()
    fs.release()
    rig = load_calibration(ypath)
    assert rig.source_format == "opencv"
    _same_projection(rig.cameras[0])


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("c.qca.txt", "<calibration><cameras>", "not valid Qualisys XML"),
        ("c.qca.txt", "<calibration><cameras/></calibration>", "no active <camera>"),
        (
            "c.qca.txt",
            _qca(CAM).replace('focalLengthU="', 'focalLengthX="'),
            "camera 'camA' intrinsic: missing attribute 'focalLengthU'",
        ),
        (
            "c.qca.txt",
            _qca(CAM).replace('r11="', 'r11="2.5" old="'),
            "r11..r33 do not form a rotation matrix",
        ),
        ("c.qca.txt", _qca(CAM).replace('x="', 'x="abc" old="'), "attribute 'x' is not a number"),
        ("c.toml", "[a]\nname='a'\nsize=[10,10]\n", "[a]: missing field 'matrix'"),
        ("c.toml", "[a\n", "not valid TOML"),
        (
            "c.json",
            '{"cameras": {"a": {"size": [1, 2], "K": [1, 2]}}}',
            "cameras.a: field 'K' must be 3x3",
        ),
        ("c.json", '{"cameras": []}', "expected a mapping with a 'cameras' mapping"),
        ("c.txt", "x", "unknown calibration format"),
    ],
)
def test_bad_files_name_the_field(tmp_path: Path, name: str, text: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(CalibrationError) as info:
        load_calibration(path)
    assert message in str(info.value)
    assert info.value.exit_code == 2


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CalibrationError, match="calibration file not found"):
        load_calibration(tmp_path / "none.toml")


def test_fit_camera_to_image() -> None:
    same, note = fit_camera_to_image(CAM, 1088, 1920)
    assert same is CAM and note is None
    cropped, note = fit_camera_to_image(CAM, 1080, 1920)
    assert cropped.width == 1080 and cropped.matrix == CAM.matrix and "macroblock" in str(note)
    half, note = fit_camera_to_image(CAM, 544, 960)
    assert half.K[0, 0] == pytest.approx(840.0) and half.K[1, 2] == pytest.approx(480.0)
    with pytest.raises(CalibrationError, match=r"camera 'camA' was calibrated at 1088x1920"):
        fit_camera_to_image(CAM, 1920, 1080)
