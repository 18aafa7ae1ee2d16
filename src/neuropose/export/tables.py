"""Tables: tidy long and wide CSV, pandas DataFrames and xarray Datasets.

Values are the results' own: millimetres in camera axes (x right, y down,
z forward; hip-centred when the model is root-relative), confidence 0..1,
``time_s`` the container timestamp in seconds. Missing values (subject not
detected) are empty cells in CSV and NaN in pandas/xarray: tables keep the
raw data and never interpolate.

Long CSV columns: ``time_s, frame_index, joint, x_mm, y_mm, z_mm, confidence``
(one row per frame and joint). Wide CSV columns: ``time_s, frame_index`` then
``<joint>_x_mm, <joint>_y_mm, <joint>_z_mm, <joint>_confidence`` per joint.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from neuropose.errors import UsageError
from neuropose.export.base import ExportOptions, Output, bytes_output, register, require
from neuropose.export.track import PoseTrack

if TYPE_CHECKING:
    import pandas as pd
    import xarray as xr

__all__ = [
    "LONG_COLUMNS",
    "CsvWriter",
    "long_csv_text",
    "to_dataframe",
    "to_xarray",
    "wide_columns",
    "wide_csv_text",
]

#: Columns of the long (tidy) table.
LONG_COLUMNS = ("time_s", "frame_index", "joint", "x_mm", "y_mm", "z_mm", "confidence")

_NUM = "%.9g"  # round-trips float32 exactly
_TIME = "%.9f"  # seconds to the nanosecond


def wide_columns(joints: tuple[str, ...]) -> list[str]:
    """Column names of the wide table for ``joints``.

    Examples
    --------
    >>> wide_columns(("nose",))
    ['time_s', 'frame_index', 'nose_x_mm', 'nose_y_mm', 'nose_z_mm', 'nose_confidence']
    """
    cols = ["time_s", "frame_index"]
    for j in joints:
        cols += [f"{j}_x_mm", f"{j}_y_mm", f"{j}_z_mm", f"{j}_confidence"]
    return cols


def _rows(header: str, fmt: str, rows: np.ndarray) -> str:
    """``header`` then ``fmt % row`` per row (Python floats format faster than NumPy's)."""
    body = "\n".join([fmt % tuple(r) for r in rows.tolist()])
    # Missing values are empty cells (pandas, R and spreadsheets read them as NA).
    return f"{header}\n{body}\n".replace(",nan", ",")


def wide_csv_text(track: PoseTrack) -> str:
    """The wide CSV document (see the module docstring)."""
    f, j = track.positions.shape[:2]
    per_joint = np.concatenate([track.positions, track.confidence_or_nan()[..., None]], axis=2)
    rows = np.column_stack([track.timestamps, track.frame_index, per_joint.reshape(f, j * 4)])
    fmt = ",".join([_TIME, "%d"] + [_NUM] * (j * 4))
    return _rows(",".join(wide_columns(track.joints)), fmt, rows)


def long_csv_text(track: PoseTrack) -> str:
    """The long (tidy) CSV document (see the module docstring)."""
    f, j = track.positions.shape[:2]
    values = np.concatenate([track.positions, track.confidence_or_nan()[..., None]], axis=2)
    # One str.format call per frame: its 33 rows share the time/frame prefix
    # ({0}, formatted once) and carry the joint names as literals.
    fmt = "\n".join(
        "{0},"
        + name.replace("{", "{{").replace("}", "}}")
        + "".join(f",{{{1 + 4 * k + c}:.9g}}" for c in range(4))
        for k, name in enumerate(track.joints)
    )
    lines = [",".join(LONG_COLUMNS)]
    for t, fi, v in zip(
        track.timestamps.tolist(),
        track.frame_index.tolist(),
        values.reshape(f, j * 4).tolist(),
        strict=True,
    ):
        lines.append(fmt.format(f"{t:.9f},{fi}", *v))
    # Missing values are empty cells (pandas, R and spreadsheets read them as NA).
    return ("\n".join(lines) + "\n").replace(",nan", ",")


class CsvWriter:
    """A CSV table of the raw poses (gap policy not applied: missing cells stay empty)."""

    extra: str | None = None

    def __init__(
        self, name: str, suffix: str, description: str, render: Callable[[PoseTrack], str]
    ) -> None:
        self.name = name
        self.suffix = suffix
        self.description = description
        self._render = render

    def check(self) -> None:
        """Nothing to check: the standard library writes it."""

    def prepare(self, track: PoseTrack, options: ExportOptions) -> list[Output]:
        """One CSV file named ``<stem><suffix>``."""
        rec: dict[str, Any] = {
            "units": "mm (positions), 0..1 (confidence), s (time_s)",
            "axes": track.axes,
            "root_relative": track.describe()["root_relative"],
            "missing": "empty cell",
        }
        return [bytes_output(f"{track.stem}{self.suffix}", self._render(track).encode(), rec)]


def to_dataframe(track: PoseTrack, layout: str = "long") -> pd.DataFrame:
    """See :meth:`PoseTrack.to_dataframe`."""
    pd = require("pandas", "export", "to_dataframe()")
    f, j = track.positions.shape[:2]
    conf = track.confidence_or_nan()
    if layout == "long":
        return pd.DataFrame(
            {
                "time_s": np.repeat(track.timestamps, j),
                "frame_index": np.repeat(track.frame_index, j),
                "joint": pd.Categorical(np.tile(np.asarray(track.joints), f), track.joints),
                "x_mm": track.positions[..., 0].reshape(-1),
                "y_mm": track.positions[..., 1].reshape(-1),
                "z_mm": track.positions[..., 2].reshape(-1),
                "confidence": conf.reshape(-1),
            }
        )
    if layout == "wide":
        per_joint = np.concatenate([track.positions, conf[..., None]], axis=2).reshape(f, j * 4)
        df = pd.DataFrame(per_joint, columns=wide_columns(track.joints)[2:])
        df.insert(0, "frame_index", track.frame_index)
        df.insert(0, "time_s", track.timestamps)
        return df
    raise UsageError(f"unknown table layout {layout!r}", hint="use 'long' or 'wide'")


def to_xarray(track: PoseTrack) -> xr.Dataset:
    """See :meth:`PoseTrack.to_xarray`."""
    xr = require("xarray", "export", "to_xarray()")
    ident = f"track_{track.track_id}"
    return xr.Dataset(
        {
            "position": (
                ("time", "space", "keypoints", "individuals"),
                track.positions.transpose(0, 2, 1)[..., None],
                {"units": "mm", "axes": track.axes},
            ),
            "confidence": (
                ("time", "keypoints", "individuals"),
                track.confidence_or_nan()[..., None],
            ),
        },
        coords={
            "time": ("time", track.timestamps, {"units": "s"}),
            "space": ["x", "y", "z"],
            "keypoints": list(track.joints),
            "individuals": [ident],
            "frame_index": ("time", track.frame_index),
        },
        attrs={
            "source_software": "NeuroPose",
            "job_id": track.job_id,
            "video": track.video,
            "model_name": track.provenance.model_name,
            "model_sha256": track.provenance.model_sha256,
            "input_sha256": track.provenance.input_sha256,
            "root_relative": int(track.describe()["root_relative"]),
            "time_unit": "seconds",
        },
    )


register(
    CsvWriter(
        "csv-long", ".long.csv", "tidy CSV, one row per frame and joint (mm, camera axes)",
        long_csv_text,
    )
)  # fmt: skip
register(
    CsvWriter(
        "csv-wide", ".wide.csv",
        "wide CSV, one row per frame, x/y/z/confidence per joint (mm, camera axes)",
        wide_csv_text,
    )
)  # fmt: skip
