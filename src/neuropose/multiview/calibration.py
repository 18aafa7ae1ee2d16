"""Read camera calibrations (Qualisys, Pose2Sim/Anipose TOML, OpenCV) into a :class:`CameraRig`.

Qualisys ``.qca.txt`` facts (checked against Pose2Sim 0.10.49's
``calibration.read_qca`` and against the geometry of the shipped file):

* ``focalLengthU/V`` and ``centerPointU/V`` are in 1/64 pixel of the whole
  sensor; the principal point in video pixels is ``centerPoint/64`` minus
  the ``fov_video`` window's ``left``/``top`` (which are whole pixels,
  ``right``/``bottom`` inclusive).
* The distortion coefficients are dimensionless (they apply to normalised
  coordinates) and are used as they are. Pose2Sim divides them by 64 too,
  which leaves the lens undistorted; see docs/multiview.md for the
  measurement behind this choice.
* ``transform`` holds the camera centre in the world (``x, y, z``, mm) and a
  matrix ``M`` (rows ``r11 r12 r13`` ...) mapping world directions into
  Qualisys camera axes, which look along -z with y up. OpenCV's camera looks
  along +z with y down, so ``R = diag(1, -1, -1) @ M`` and ``t = -R @ centre``.
* The world is z-up.

The calibration window of the shipped file is 1088 px wide while its videos
are 1080 px wide: H.264 codes whole 16-pixel macroblocks, and the camera's
sensor window was the coded size. Pixel coordinates share the top-left
origin, so :func:`fit_camera_to_image` keeps ``K`` and records the smaller
size when the difference is below one macroblock on the right/bottom.
"""

from __future__ import annotations

import json
import math
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import numpy as np

from neuropose.errors import InputError
from neuropose.io import sha256_file
from neuropose.schemas.rig import CameraRig, RigCamera

__all__ = [
    "CalibrationError",
    "fit_camera_to_image",
    "load_calibration",
    "parse_opencv_mapping",
    "parse_qualisys",
    "parse_toml",
]

_QCA_FLIP = np.diag([1.0, -1.0, -1.0])
_MACROBLOCK = 16


class CalibrationError(InputError):
    """A calibration file is unreadable or inconsistent (exit code 2)."""


def load_calibration(
    path: Path | str, *, up_axis: str | None = None, toml_unit_mm: float = 1000.0
) -> CameraRig:
    """Read a calibration file into a :class:`CameraRig`, format chosen by suffix.

    Parameters
    ----------
    path : path
        ``*.qca.txt`` (Qualisys), ``*.toml`` (Pose2Sim/Anipose), ``*.json``
        (plain JSON, see :func:`parse_opencv_mapping`) or ``*.yml``/``*.yaml``
        (OpenCV ``FileStorage``).
    up_axis : str, optional
        Overrides the world's up axis (``"+z"``, ``"-y"``...). Qualisys is
        ``+z``; TOML/OpenCV files do not say, and default to ``+z``.
    toml_unit_mm : float
        Millimetres per translation unit of a TOML file: 1000 for Pose2Sim
        (metres); Anipose uses the board's unit.

    Raises
    ------
    CalibrationError
        Unreadable file, unknown suffix, or a missing/invalid field (named).
    """
    p = Path(path)
    if not p.is_file():
        raise CalibrationError(f"{p}: calibration file not found")
    name = p.name.lower()
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CalibrationError(f"{p}: cannot read calibration ({exc})") from exc
    if name.endswith((".qca.txt", ".qca", ".xml")):
        fmt, cams, up, notes = "qualisys", *parse_qualisys(text, source=str(p))
    elif name.endswith(".toml"):
        fmt, cams, up, notes = "toml", *parse_toml(text, source=str(p), unit_mm=toml_unit_mm)
    elif name.endswith(".json"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise CalibrationError(f"{p}: not valid JSON ({exc})") from exc
        fmt, cams, up, notes = "json", *parse_opencv_mapping(data, source=str(p))
    elif name.endswith((".yml", ".yaml")):
        fmt, cams, up, notes = "opencv", *parse_opencv_mapping(_read_filestorage(p), str(p))
    else:
        raise CalibrationError(
            f"{p}: unknown calibration format",
            hint="give a Qualisys .qca.txt, a Pose2Sim/Anipose .toml, or OpenCV .json/.yml",
        )
    try:
        return CameraRig(
            cameras=tuple(cams),
            up_axis=up_axis or up,
            source_format=fmt,
            source_name=p.name,
            source_sha256=sha256_file(p),
            notes=tuple(notes),
        )
    except ValueError as exc:
        raise CalibrationError(f"{p}: {_first_error(exc)}") from exc


def _first_error(exc: ValueError) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        first = errors()[0]
        where = ".".join(str(x) for x in first["loc"])
        return f"{where}: {first['msg']}" if where else str(first["msg"])
    return str(exc)


def _num(attrs: dict[str, str], key: str, where: str) -> float:
    if key not in attrs:
        raise CalibrationError(f"{where}: missing attribute {key!r}")
    try:
        value = float(attrs[key])
    except ValueError:
        raise CalibrationError(
            f"{where}: attribute {key!r} is not a number: {attrs[key]!r}"
        ) from None
    if not math.isfinite(value):
        raise CalibrationError(f"{where}: attribute {key!r} is not finite")
    return value


def parse_qualisys(text: str, *, source: str = "<qca>") -> tuple[list[RigCamera], str, list[str]]:
    """Cameras of a Qualisys ``.qca.txt`` (see the module docstring for the conventions).

    Inactive cameras (``active="0"``) are skipped. Returns the cameras, the
    up axis (``"+z"``) and notes on the conversion.
    """
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise CalibrationError(f"{source}: not valid Qualisys XML ({exc})") from exc
    cams: list[RigCamera] = []
    for i, node in enumerate(root.findall("cameras/camera")):
        serial = node.get("serial") or f"camera{i + 1}"
        where = f"{source}: camera {serial!r}"
        if node.get("active", "1") == "0":
            continue
        fov, intr, tf = node.find("fov_video"), node.find("intrinsic"), node.find("transform")
        for tag, el in (("fov_video", fov), ("intrinsic", intr), ("transform", tf)):
            if el is None:
                raise CalibrationError(f"{where}: missing <{tag}> element")
        assert fov is not None and intr is not None and tf is not None
        fa, ia, ta = dict(fov.attrib), dict(intr.attrib), dict(tf.attrib)
        left, top = _num(fa, "left", f"{where} fov_video"), _num(fa, "top", f"{where} fov_video")
        width = round(_num(fa, "right", f"{where} fov_video") - left + 1)
        height = round(_num(fa, "bottom", f"{where} fov_video") - top + 1)
        w_i = f"{where} intrinsic"
        fu, fv = _num(ia, "focalLengthU", w_i) / 64, _num(ia, "focalLengthV", w_i) / 64
        cu = _num(ia, "centerPointU", w_i) / 64 - left
        cv = _num(ia, "centerPointV", w_i) / 64 - top
        skew = float(ia.get("skew", 0.0))
        keys: tuple[str, ...] = ("radialDistortion1", "radialDistortion2", "tangentalDistortion1")
        keys += ("tangentalDistortion2", "radialDistortion3")  # OpenCV order k1 k2 p1 p2 k3
        dist = [_num(ia, k, w_i) for k in keys]
        w_t = f"{where} transform"
        m = np.array([[_num(ta, f"r{a}{b}", w_t) for b in "123"] for a in "123"])
        centre = np.array([_num(ta, k, w_t) for k in "xyz"])
        r = _QCA_FLIP @ m
        if not np.allclose(r @ r.T, np.eye(3), atol=1e-4):
            raise CalibrationError(f"{w_t}: r11..r33 do not form a rotation matrix")
        t = -r @ centre
        try:
            cams.append(
                RigCamera(
                    name=serial,
                    width=width,
                    height=height,
                    matrix=((fu, skew, cu), (0.0, fv, cv), (0.0, 0.0, 1.0)),
                    distortion=tuple(dist),
                    rotation=_mat3(r),
                    translation_mm=_vec3(t),
                )
            )
        except ValueError as exc:
            raise CalibrationError(f"{where}: {_first_error(exc)}") from exc
    if not cams:
        raise CalibrationError(f"{source}: no active <camera> under <cameras>")
    notes = [
        "qualisys: focal length and principal point divided by 64 (1/64 px units), "
        "principal point relative to fov_video left/top",
        "qualisys: camera axes flipped to OpenCV (R = diag(1,-1,-1) M); world z-up",
        "qualisys: distortion coefficients used unscaled (normalised coordinates)",
    ]
    return cams, "+z", notes


def parse_toml(
    text: str, *, source: str = "<toml>", unit_mm: float = 1000.0
) -> tuple[list[RigCamera], str, list[str]]:
    """Cameras of a Pose2Sim/Anipose ``Calib.toml``.

    Each camera is a table with ``name``, ``size`` ([w, h] px), ``matrix``
    (3x3), ``distortions`` (4 or 5), ``rotation`` (Rodrigues vector,
    world-to-camera) and ``translation`` (world-to-camera, in units of
    ``unit_mm`` millimetres). The ``[metadata]`` table is ignored; fisheye
    cameras are refused.
    """
    import cv2

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CalibrationError(f"{source}: not valid TOML ({exc})") from exc
    cams: list[RigCamera] = []
    for key, table in data.items():
        if key == "metadata" or not isinstance(table, dict):
            continue
        where = f"{source}: [{key}]"
        if table.get("fisheye", False):
            raise CalibrationError(f"{where}: fisheye cameras are not supported")
        size = _array(table, "size", (2,), where)
        k = _array(table, "matrix", (3, 3), where)
        dist = _array(table, "distortions", None, where).ravel()
        rvec = _array(table, "rotation", (3,), where)
        t = _array(table, "translation", (3,), where) * unit_mm
        r, _ = cv2.Rodrigues(rvec)
        cams.append(_camera(str(table.get("name", key)), size, k, dist, r, t, where))
    if not cams:
        raise CalibrationError(f"{source}: no camera tables found")
    return cams, "+z", [f"toml: translations scaled by {unit_mm:g} mm per unit"]


def parse_opencv_mapping(
    data: Any, source: str = "<json>"
) -> tuple[list[RigCamera], str, list[str]]:
    """Cameras of a plain JSON / OpenCV YAML mapping.

    Layout: ``{"up_axis": "+z", "unit_mm": 1, "cameras": {NAME: {"size": [w, h],
    "K": 3x3, "dist": [...], "R": 3x3 or "rvec": [3], "t": [3]}}}`` where
    ``R``/``rvec`` and ``t`` map world to camera. ``unit_mm`` (default 1)
    is millimetres per translation unit.

    Examples
    --------
    >>> cams, up, _ = parse_opencv_mapping({"cameras": {"a": {"size": [640, 480],
    ...     "K": [[500, 0, 320], [0, 500, 240], [0, 0, 1]], "dist": [],
    ...     "rvec": [0, 0, 0], "t": [0, 0, 2]}}, "unit_mm": 1000})
    >>> cams[0].translation_mm, up
    ((0.0, 0.0, 2000.0), '+z')
    """
    import cv2

    if not isinstance(data, dict) or not isinstance(data.get("cameras"), dict):
        raise CalibrationError(f"{source}: expected a mapping with a 'cameras' mapping")
    unit = data.get("unit_mm", 1.0)
    if not isinstance(unit, int | float) or unit <= 0:
        raise CalibrationError(f"{source}: 'unit_mm' must be a positive number, got {unit!r}")
    cams = []
    for name, cam in data["cameras"].items():
        where = f"{source}: cameras.{name}"
        if not isinstance(cam, dict):
            raise CalibrationError(f"{where}: expected a mapping")
        size = _array(cam, "size", (2,), where)
        k = _array(cam, "K", (3, 3), where)
        if "R" in cam:
            r = _array(cam, "R", (3, 3), where)
        elif "rvec" in cam:
            r = cv2.Rodrigues(_array(cam, "rvec", (3,), where))[0]
        else:
            raise CalibrationError(f"{where}: missing 'R' (3x3) or 'rvec' (Rodrigues)")
        dist = _array(cam, "dist", None, where).ravel() if "dist" in cam else np.zeros(0)
        cams.append(
            _camera(
                str(name),
                size,
                k,
                dist,
                r,
                _array(cam, "t", (3,), where) * float(unit),
                where,
            )
        )
    if not cams:
        raise CalibrationError(f"{source}: 'cameras' is empty")
    return cams, str(data.get("up_axis", "+z")), []


def _read_filestorage(path: Path) -> dict[str, Any]:
    """An OpenCV FileStorage YAML as a plain mapping (matrices to lists)."""
    import cv2

    fs = cv2.FileStorage(str(path), cv2.FILE_STORAGE_READ)
    try:
        if not fs.isOpened():
            raise CalibrationError(f"{path}: OpenCV cannot open this YAML file")
        return _fs_node(fs.root())
    except cv2.error as exc:
        raise CalibrationError(f"{path}: OpenCV cannot parse this YAML ({exc})") from exc
    finally:
        fs.release()


def _fs_node(node: Any) -> Any:
    if node.isMap() and {"dt", "data"} <= set(node.keys()):
        mat = node.mat()
        return None if mat is None else mat.tolist()
    if node.isMap():
        return {k: _fs_node(node.getNode(k)) for k in node.keys()}  # noqa: SIM118 - a FileNode
    if node.isSeq():
        return [_fs_node(node.at(i)) for i in range(node.size())]
    if node.isString():
        return node.string()
    if node.isInt() or node.isReal():
        return node.real()
    mat = node.mat()
    return None if mat is None else mat.tolist()


def _array(
    table: dict[str, Any], key: str, shape: tuple[int, ...] | None, where: str
) -> np.ndarray:
    if key not in table:
        raise CalibrationError(f"{where}: missing field {key!r}")
    try:
        arr = np.asarray(table[key], dtype=np.float64)
    except (TypeError, ValueError):
        raise CalibrationError(f"{where}: field {key!r} is not a numeric array") from None
    if shape is not None and arr.size == math.prod(shape):
        arr = arr.reshape(shape)
    if (shape is not None and arr.shape != shape) or not np.all(np.isfinite(arr)):
        want = "x".join(map(str, shape)) if shape else "numbers"
        raise CalibrationError(
            f"{where}: field {key!r} must be {want} finite numbers, got shape {list(arr.shape)}"
        )
    return arr


def _camera(
    name: str,
    size: np.ndarray,
    k: np.ndarray,
    dist: np.ndarray,
    r: np.ndarray,
    t: np.ndarray,
    where: str,
) -> RigCamera:
    try:
        return RigCamera(
            name=name,
            width=int(size[0]),
            height=int(size[1]),
            matrix=_mat3(k),
            distortion=tuple(float(x) for x in dist),
            rotation=_mat3(r),
            translation_mm=_vec3(t),
        )
    except ValueError as exc:
        raise CalibrationError(f"{where}: {_first_error(exc)}") from exc


def _mat3(m: np.ndarray) -> Any:
    return tuple(tuple(float(x) for x in row) for row in np.asarray(m).reshape(3, 3))


def _vec3(v: np.ndarray) -> Any:
    return tuple(float(x) for x in np.asarray(v).reshape(3))


def fit_camera_to_image(cam: RigCamera, width: int, height: int) -> tuple[RigCamera, str | None]:
    """Adapt a calibrated camera to the size of the video it is paired with.

    * Same size: unchanged.
    * Smaller by less than one 16-px macroblock on either side: the coded
      frame was cropped on the right/bottom (H.264 cropping keeps the
      top-left origin), so ``K`` is kept and only the size changes.
    * An exact integer downscale (binning, e.g. 1920 -> 960): ``K`` is
      scaled.

    Returns the camera and a note describing the change (None if none).

    Raises
    ------
    CalibrationError
        Any other mismatch, naming the camera and both sizes.

    Examples
    --------
    >>> cam = RigCamera(name="cam01", width=1088, height=1920,
    ...     matrix=((1681, 0, 533), (0, 1681, 948), (0, 0, 1)),
    ...     rotation=((1, 0, 0), (0, 1, 0), (0, 0, 1)), translation_mm=(0, 0, 0))
    >>> fitted, note = fit_camera_to_image(cam, 1080, 1920)
    >>> fitted.width, fitted.matrix[0][2]
    (1080, 533.0)
    """
    if (cam.width, cam.height) == (width, height):
        return cam, None
    dw, dh = cam.width - width, cam.height - height
    if 0 <= dw < _MACROBLOCK and 0 <= dh < _MACROBLOCK:
        note = (
            f"camera {cam.name!r}: calibrated {cam.width}x{cam.height}, video {width}x{height}; "
            "treated as macroblock padding cropped at the right/bottom (K unchanged)"
        )
        return cam.model_copy(update={"width": width, "height": height}), note
    sx, sy = cam.width / width, cam.height / height
    if sx == sy and sx == int(sx) and sx > 1:
        k = cam.K
        k[:2] /= sx
        note = f"camera {cam.name!r}: video is 1/{int(sx)} of the calibrated size; K scaled"
        return cam.model_copy(update={"width": width, "height": height, "matrix": _mat3(k)}), note
    raise CalibrationError(
        f"camera {cam.name!r} was calibrated at {cam.width}x{cam.height} px but its video is "
        f"{width}x{height} px",
        hint="pair each video with the camera that filmed it (--camera-map), or recalibrate",
    )
