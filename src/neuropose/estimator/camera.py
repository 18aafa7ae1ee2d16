"""Camera intrinsics of an input: a calibration, the container's focal length, or a FOV.

:func:`intrinsics_for` picks, in order: a calibration (a multi-camera job's
rig camera, passed by the caller, or the ``camera_file`` that
:func:`load_camera_file` reads: ``fx, fy, cx, cy[, distortion]`` in pixels of
the upright frame); the 35 mm equivalent focal length the container or EXIF
declares (:func:`from_focal_tag`); else the configured field of view
(:meth:`~neuropose.schemas.CameraIntrinsics.from_fov`). The choice is recorded
in ``CameraIntrinsics.source`` (provenance): the file name,
``calibration:<file>:<camera>``, ``container:<tag>=<f35>mm`` or ``fov:<deg>``.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

from neuropose.estimator.errors import CameraFileError
from neuropose.schemas import CameraIntrinsics
from neuropose.schemas.rig import RigCamera
from neuropose.video.reader import VideoInfo
from neuropose.video.tags import focal_px_from_35mm

__all__ = ["from_focal_tag", "from_rig_camera", "intrinsics_for", "load_camera_file"]


def from_rig_camera(cam: RigCamera, calibration_file: str) -> CameraIntrinsics:
    """The intrinsics of one calibrated camera (``K`` and distortion), for its video.

    ``cam`` must already fit the video's upright size
    (:func:`neuropose.multiview.calibration.fit_camera_to_image`). The source
    reads ``calibration:<file>:<camera>``.

    Examples
    --------
    >>> cam = RigCamera(name="cam01", width=1080, height=1920,
    ...     matrix=((1681, 0, 533), (0, 1680, 948), (0, 0, 1)),
    ...     rotation=((1, 0, 0), (0, 1, 0), (0, 0, 1)), translation_mm=(0, 0, 0))
    >>> k = from_rig_camera(cam, "Calib.qca.txt")
    >>> k.fx, k.cy, k.source
    (1681.0, 948.0, 'calibration:Calib.qca.txt:cam01')
    """
    k = cam.K
    return CameraIntrinsics(
        fx=float(k[0, 0]),
        fy=float(k[1, 1]),
        cx=float(k[0, 2]),
        cy=float(k[1, 2]),
        distortion=tuple(cam.distortion),
        source=f"calibration:{calibration_file}:{cam.name}",
    )


def from_focal_tag(info: VideoInfo) -> CameraIntrinsics | None:
    """Centred pinhole intrinsics from the focal length ``info`` declares, or None.

    ``fx = fy = f35 · hypot(w, h) / hypot(36, 24)`` pixels of the upright frame
    (:func:`neuropose.video.tags.focal_px_from_35mm`), principal point at the
    centre, no distortion.

    Examples
    --------
    >>> from pathlib import Path
    >>> from neuropose.video.tags import FocalTag
    >>> info = VideoInfo(Path("v.mov"), False, 1080, 1920, 90, "hvc1", 10, 30.0, 1,
    ...                  FocalTag(26.0, "com.apple.quicktime.camera.focal_length.35mm_equivalent"))
    >>> k = from_focal_tag(info)
    >>> round(k.fx, 1), k.cx, k.source
    (1323.8, 540.0, 'container:com.apple.quicktime.camera.focal_length.35mm_equivalent=26mm')
    """
    if info.focal is None:
        return None
    f = focal_px_from_35mm(info.focal.focal_35mm, info.width, info.height)
    where = "exif" if info.is_image else "container"
    return CameraIntrinsics(
        fx=f,
        fy=f,
        cx=info.width / 2,
        cy=info.height / 2,
        source=f"{where}:{info.focal.tag}={info.focal.focal_35mm:g}mm",
    )


def intrinsics_for(
    info: VideoInfo,
    *,
    fov_degrees: float,
    camera_file: str | Path | None = None,
    calibration: CameraIntrinsics | None = None,
    use_container: bool = True,
) -> CameraIntrinsics:
    """The intrinsics of one input, by priority (see the module docstring).

    Parameters
    ----------
    info : VideoInfo
        The probed input (size of the upright frame, declared focal length).
    fov_degrees : float
        Field of view across the larger side when nothing better is known.
    camera_file : path, optional
        A calibration file (:func:`load_camera_file`).
    calibration : CameraIntrinsics, optional
        Intrinsics from the job's calibration; wins over everything.
    use_container : bool
        False when the user chose the field of view explicitly (``--fov``).

    Raises
    ------
    CameraFileError
        ``camera_file`` is missing or invalid.
    """
    if calibration is not None:
        return calibration
    if camera_file is not None:
        return load_camera_file(camera_file)
    tagged = from_focal_tag(info) if use_container else None
    if tagged is not None:
        return tagged
    return CameraIntrinsics.from_fov(info.width, info.height, fov_degrees)


def load_camera_file(path: str | Path) -> CameraIntrinsics:
    """Read intrinsics from a JSON or TOML file with ``fx, fy, cx, cy[, distortion]``.

    Values are pixels of the **upright** frame fed to the model. The file
    name (without directories) is recorded as the intrinsics' ``source``.

    Raises
    ------
    CameraFileError
        Missing file, parse error, or a missing/invalid key (named).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "camera.toml"
    >>> _ = p.write_text("fx = 1000\\nfy = 1000\\ncx = 540\\ncy = 960\\n")
    >>> k = load_camera_file(p)
    >>> k.fx, k.cy, k.source
    (1000.0, 960.0, 'camera.toml')
    """
    path = Path(path).expanduser()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise CameraFileError(
            f"camera file {path} does not exist", hint="check --camera / camera_file"
        ) from None
    except OSError as exc:
        raise CameraFileError(f"camera file {path} cannot be read: {exc.strerror}") from exc
    try:
        if path.suffix.lower() == ".toml":
            data: Any = tomllib.loads(raw.decode("utf-8"))
        else:
            data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise CameraFileError(f"camera file {path} does not parse: {exc}") from exc
    if not isinstance(data, dict):
        raise CameraFileError(f"camera file {path} must hold a table/object of fx, fy, cx, cy")
    for key in ("fx", "fy", "cx", "cy"):
        if key not in data:
            raise CameraFileError(
                f"camera file {path} lacks '{key}'",
                hint="give fx, fy, cx, cy in pixels of the upright frame (distortion optional)",
            )
        if not isinstance(data[key], int | float) or isinstance(data[key], bool):
            raise CameraFileError(f"camera file {path}: '{key}' = {data[key]!r} is not a number")
    unknown = set(data) - {"fx", "fy", "cx", "cy", "distortion"}
    if unknown:
        raise CameraFileError(f"camera file {path}: unknown key(s) {', '.join(sorted(unknown))}")
    dist = data.get("distortion", [])
    if not isinstance(dist, list) or not all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in dist
    ):
        raise CameraFileError(f"camera file {path}: 'distortion' must be a list of numbers")
    if data["fx"] <= 0 or data["fy"] <= 0:
        raise CameraFileError(f"camera file {path}: fx and fy must be > 0")
    return CameraIntrinsics(
        fx=float(data["fx"]),
        fy=float(data["fy"]),
        cx=float(data["cx"]),
        cy=float(data["cy"]),
        distortion=tuple(float(v) for v in dist),
        source=path.name,
    )
