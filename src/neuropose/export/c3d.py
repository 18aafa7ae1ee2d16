"""C3D through ``ezc3d`` (``pip install 'neuropose[export]'``).

POINT data are the results' own positions in **millimetres**, camera axes
(x right, y down, z forward), one point per joint labelled with the
skeleton's joint name, at the measured frame rate (1 / median frame
interval). A frame where the subject was not detected has residual −1 (the
C3D convention for an invalid point; ``ezc3d`` reads it back as NaN); a
detected point has residual 0, because a monocular model gives no
reconstruction error (confidence is in the CSV/NWB exports). C3D has no
per-frame timestamps: the ``NEUROPOSE`` parameter group records the first
timestamp, whether the timestamps were uniform, the axes, the model and its
SHA-256 and the video's name and SHA-256.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from neuropose.analyzer.filtering import measured_rate
from neuropose.export.base import (
    ExportOptions,
    Output,
    library_output,
    register,
    require,
)
from neuropose.export.track import PoseTrack

__all__ = ["C3dWriter"]


def _uniformity(t: np.ndarray, rate: float) -> float:
    """Largest deviation of a timestamp from the uniform grid, seconds."""
    grid = t[0] + np.arange(t.size) / rate
    return float(np.max(np.abs(t - grid))) if t.size else 0.0


class C3dWriter:
    """C3D points (mm, camera axes) with residuals, rate, units and labels."""

    name = "c3d"
    extra: str | None = "export"
    description = "C3D points via ezc3d (mm, camera axes, residual -1 where missing)"

    def check(self) -> None:
        """Raise when ezc3d is not installed."""
        require("ezc3d", "export", "C3D export")

    def prepare(self, track: PoseTrack, options: ExportOptions) -> list[Output]:
        """One ``.c3d`` (the library object is built when saving)."""
        t = track.timestamps
        rate = measured_rate(t) if t.size > 1 else 1.0
        deviation = _uniformity(t, rate)
        rec: dict[str, Any] = {
            "units": "mm",
            "axes": track.axes,
            "rate_hz": round(rate, 6),
            "first_time_s": float(t[0]) if t.size else 0.0,
            "max_timestamp_deviation_s": round(deviation, 6),
            "residual": "-1 where the subject was not detected, else 0",
            "labels": list(track.joints),
        }

        def write(path: Path) -> None:
            ezc3d = require("ezc3d", "export", "C3D export")
            f, j = track.positions.shape[:2]
            c = ezc3d.c3d()
            pts = np.ones((4, j, f))
            pts[:3] = track.positions.transpose(2, 1, 0)
            valid = np.isfinite(pts[:3]).all(axis=0)
            pts[:3][:, ~valid] = 0.0
            c["parameters"]["POINT"]["RATE"]["value"] = [rate]
            c["parameters"]["POINT"]["LABELS"]["value"] = tuple(track.joints)
            c["parameters"]["POINT"]["UNITS"]["value"] = ["mm"]
            c["data"]["points"] = pts
            c["data"]["meta_points"]["residuals"] = np.where(valid, 0.0, -1.0)[None]
            c["data"]["meta_points"]["camera_masks"] = np.zeros((7, j, f), dtype=bool)
            for key, value in (
                ("AXES", track.axes),
                ("FIRST_TIME_S", [float(rec["first_time_s"])]),
                ("UNIFORM_TIME", [int(deviation < 0.5 / rate)]),
                ("MODEL", track.provenance.model_name),
                ("MODEL_SHA256", track.provenance.model_sha256),
                ("VIDEO", track.video),
                ("VIDEO_SHA256", track.provenance.input_sha256),
                ("JOB", track.job_id or "-"),
            ):
                c.add_parameter("NEUROPOSE", key, value)
            c.write(str(path))

        return [library_output(f"{track.stem}.c3d", write, rec)]


register(C3dWriter())
