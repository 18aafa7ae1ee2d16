"""How a prediction was made: model, options, camera, software, input."""

from __future__ import annotations

import math

from pydantic import Field

from neuropose.schemas.base import FrozenModel

__all__ = ["CameraIntrinsics", "Provenance"]

JsonScalar = str | int | float | bool | None


class CameraIntrinsics(FrozenModel):
    """Pinhole camera intrinsics in pixels of the upright frame fed to the model.

    Attributes
    ----------
    fx, fy : float
        Focal lengths in pixels.
    cx, cy : float
        Principal point in pixels (origin at the top-left pixel's corner).
    distortion : list of float
        OpenCV distortion coefficients (k1, k2, p1, p2[, k3...]); empty when
        undistorted.
    source : str
        ``"fov"`` when derived from a field of view, otherwise the file it
        came from.
    """

    fx: float = Field(gt=0)
    fy: float = Field(gt=0)
    cx: float
    cy: float
    distortion: tuple[float, ...] = ()
    source: str = "fov"

    @classmethod
    def from_fov(cls, width: int, height: int, fov_degrees: float) -> CameraIntrinsics:
        """Intrinsics of a centred pinhole with ``fov_degrees`` across the larger side.

        Examples
        --------
        >>> k = CameraIntrinsics.from_fov(1920, 1080, 55.0)
        >>> round(k.fx, 1), k.cx, k.cy
        (1844.1, 960.0, 540.0)
        """
        if not 0 < fov_degrees < 180:
            raise ValueError(f"fov_degrees must be in (0, 180), got {fov_degrees}")
        f = (max(width, height) / 2) / math.tan(math.radians(fov_degrees) / 2)
        return cls(fx=f, fy=f, cx=width / 2, cy=height / 2, source=f"fov:{fov_degrees:g}")


class Provenance(FrozenModel):
    """Everything needed to reproduce one video's predictions.

    Attributes
    ----------
    model_name : str
        Registry name of the pose model.
    model_sha256 : str
        SHA-256 of the model bytes actually loaded.
    root_relative : bool
        True when ``poses3d`` are relative to the model's root joint (hip
        centre) rather than absolute camera coordinates.
    options : dict
        Every inference option (batch size, thresholds, max persons, ...).
    intrinsics : CameraIntrinsics
        Camera intrinsics used.
    versions : dict
        Versions of neuropose, tensorflow, opencv, numpy, python.
    platform : str
        ``platform.platform()`` of the machine.
    input_sha256 : str
        SHA-256 of the input file.
    input_name : str
        File name of the input (no directories: they may identify patients).
    created_at : str
        ISO-8601 UTC time the predictions were finished.
    """

    model_name: str
    model_sha256: str
    root_relative: bool
    options: dict[str, JsonScalar] = Field(default_factory=dict)
    intrinsics: CameraIntrinsics
    versions: dict[str, str] = Field(default_factory=dict)
    platform: str = ""
    input_sha256: str
    input_name: str
    created_at: str
