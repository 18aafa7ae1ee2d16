"""Camera intrinsics of an input: a calibration file, or a field of view.

:func:`load_camera_file` reads ``fx, fy, cx, cy[, distortion]`` in pixels of
the upright frame; without a file the estimator uses
:meth:`~neuropose.schemas.CameraIntrinsics.from_fov`.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

from neuropose.estimator.errors import CameraFileError
from neuropose.schemas import CameraIntrinsics

__all__ = ["load_camera_file"]


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
