"""A calibrated camera rig in one canonical form, whatever file it came from.

Conventions
-----------
* Pixels: origin at the top-left corner of the top-left pixel of the
  upright video frame, x right, y down.
* Camera frame: OpenCV's (x right, y down, z forward along the optical
  axis). A world point ``X`` (mm) maps to the camera as
  ``X_cam = R @ X + t``; the camera centre in the world is ``-R.T @ t``.
* World frame: the lab's, in millimetres, with the vertical given by
  :attr:`CameraRig.up_axis` (Qualisys labs are z-up).
* Distortion: OpenCV's ``(k1, k2, p1, p2[, k3])`` applied to normalised
  coordinates.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field, model_validator

from neuropose.schemas.base import FrozenModel

__all__ = ["CameraRig", "RigCamera"]

Vec3 = tuple[float, float, float]
Mat3 = tuple[Vec3, Vec3, Vec3]


class RigCamera(FrozenModel):
    """One calibrated camera (see the module docstring for frames and units).

    Attributes
    ----------
    name : str
        Camera name (Qualisys serial, TOML section name...).
    width, height : int
        Image size in pixels the intrinsics refer to.
    matrix : 3x3 tuple
        Intrinsic matrix ``K`` in pixels.
    distortion : tuple of float
        OpenCV distortion coefficients; empty for none.
    rotation : 3x3 tuple
        World-to-camera rotation ``R`` (orthonormal, determinant +1).
    translation_mm : 3-tuple
        World-to-camera translation ``t`` in millimetres.

    Examples
    --------
    >>> cam = RigCamera(name="c", width=640, height=480,
    ...     matrix=((500, 0, 320), (0, 500, 240), (0, 0, 1)),
    ...     rotation=((1, 0, 0), (0, 1, 0), (0, 0, 1)), translation_mm=(0, 0, 2000))
    >>> cam.center_mm.tolist()
    [0.0, 0.0, -2000.0]
    >>> cam.project(np.array([[0.0, 0.0, 0.0]])).tolist()
    [[320.0, 240.0]]
    """

    name: str = Field(min_length=1)
    width: int = Field(gt=0)
    height: int = Field(gt=0)
    matrix: Mat3
    distortion: tuple[float, ...] = ()
    rotation: Mat3
    translation_mm: Vec3

    @model_validator(mode="after")
    def _check(self) -> RigCamera:
        k = self.K
        if not np.all(np.isfinite(k)) or k[0, 0] <= 0 or k[1, 1] <= 0:
            raise ValueError(f"camera {self.name!r}: matrix needs finite fx, fy > 0")
        if not np.allclose(k[2], [0, 0, 1]) or k[1, 0] != 0:
            raise ValueError(f"camera {self.name!r}: matrix must be [[fx,s,cx],[0,fy,cy],[0,0,1]]")
        r = self.R
        if not np.allclose(r @ r.T, np.eye(3), atol=1e-4) or np.linalg.det(r) < 0:
            raise ValueError(
                f"camera {self.name!r}: rotation is not a proper rotation matrix "
                f"(R R^T != I or det(R) = {np.linalg.det(r):.3f})"
            )
        if len(self.distortion) not in (0, 4, 5, 8, 12, 14):
            raise ValueError(
                f"camera {self.name!r}: distortion has {len(self.distortion)} coefficients; "
                "OpenCV takes 4, 5, 8, 12 or 14"
            )
        if not np.all(np.isfinite(self.t)) or not np.all(np.isfinite(self.distortion)):
            raise ValueError(f"camera {self.name!r}: translation/distortion must be finite")
        return self

    @property
    def K(self) -> np.ndarray:
        """Intrinsic matrix, (3, 3) float64, pixels."""
        return np.array(self.matrix, dtype=np.float64)

    @property
    def R(self) -> np.ndarray:
        """World-to-camera rotation, (3, 3) float64."""
        return np.array(self.rotation, dtype=np.float64)

    @property
    def t(self) -> np.ndarray:
        """World-to-camera translation, (3,) float64, mm."""
        return np.array(self.translation_mm, dtype=np.float64)

    @property
    def dist(self) -> np.ndarray:
        """Distortion coefficients as a float64 array (possibly empty)."""
        return np.array(self.distortion, dtype=np.float64)

    @property
    def center_mm(self) -> np.ndarray:
        """Camera centre in the world frame, (3,) mm."""
        return -self.R.T @ self.t

    @property
    def optical_axis(self) -> np.ndarray:
        """Unit viewing direction (camera +z) in the world frame."""
        return self.R[2].copy()

    def project(self, points_mm: np.ndarray) -> np.ndarray:
        """Project world points (N, 3) mm to distorted pixels (N, 2).

        Points behind the camera come out NaN.
        """
        import cv2

        pts = np.asarray(points_mm, dtype=np.float64).reshape(-1, 3)
        out = np.full((pts.shape[0], 2), np.nan)
        ok = np.all(np.isfinite(pts), axis=1) & ((pts @ self.R[2] + self.t[2]) > 0)
        if np.any(ok):
            rvec, _ = cv2.Rodrigues(self.R)
            proj, _ = cv2.projectPoints(pts[ok], rvec, self.t, self.K, self.dist)
            out[ok] = proj.reshape(-1, 2)
        return out


class CameraRig(FrozenModel):
    """A set of calibrated cameras sharing one world frame.

    Stored inside a job's ``triangulation`` (it is versioned with
    :class:`~neuropose.schemas.JobResults`).

    Attributes
    ----------
    cameras : tuple of RigCamera
        At least one camera, unique names.
    up_axis : {"+x", "-x", "+y", "-y", "+z", "-z"}
        World axis pointing up (against gravity).
    source_format : {"qualisys", "toml", "opencv", "json"}
        Kind of file the rig was read from.
    source_name : str
        File name of the calibration (no directories).
    source_sha256 : str
        SHA-256 of the calibration file's bytes.
    notes : tuple of str
        Decisions the reader took (unit conversions, size adjustments).
    """

    cameras: tuple[RigCamera, ...] = Field(min_length=1)
    up_axis: Literal["+x", "-x", "+y", "-y", "+z", "-z"] = "+z"
    source_format: Literal["qualisys", "toml", "opencv", "json"]
    source_name: str = ""
    source_sha256: str = ""
    notes: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _unique(self) -> CameraRig:
        names = [c.name for c in self.cameras]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"camera names must be unique; repeated: {', '.join(dup)}")
        return self

    @property
    def names(self) -> tuple[str, ...]:
        """Camera names in rig order."""
        return tuple(c.name for c in self.cameras)

    @property
    def up_vector(self) -> np.ndarray:
        """Unit up vector in world coordinates."""
        v = np.zeros(3)
        v["xyz".index(self.up_axis[1])] = 1.0 if self.up_axis[0] == "+" else -1.0
        return v

    def camera(self, name: str) -> RigCamera:
        """The camera called ``name`` (``KeyError`` listing the names otherwise)."""
        for c in self.cameras:
            if c.name == name:
                return c
        raise KeyError(f"no camera {name!r} in the rig (cameras: {', '.join(self.names)})")

    def subset(self, names: tuple[str, ...] | list[str]) -> CameraRig:
        """A rig with only ``names``, in that order."""
        return self.model_copy(update={"cameras": tuple(self.camera(n) for n in names)})
