"""OpenSim text files: ``.trc`` (markers) and ``.mot`` (joint angles).

Both are tab-separated, with the header OpenSim's ``TRCFileAdapter`` and
``STOFileAdapter`` read. Markers come from :mod:`neuropose.export.markers`
(metres, Y-up, gap policy applied: never NaN). The ``.mot`` holds
NeuroPose's own 3-point/segment angles (:data:`neuropose.analyzer.ANGLE_NAMES`,
degrees, conventions in ``docs/analyzer.md``) computed on the gap-filled
joints, over the same frames as the ``.trc``.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from neuropose.analyzer.angles import ANGLE_NAMES, compute_angle
from neuropose.analyzer.filtering import measured_rate
from neuropose.analyzer.load import JointNotFoundError
from neuropose.errors import InputError, ProcessingError
from neuropose.export.base import ExportOptions, Output, bytes_output, register
from neuropose.export.markers import OpenSimMarkers, prepare_markers
from neuropose.export.track import PoseTrack

__all__ = ["MotWriter", "TrcWriter", "frame_note", "mot_text", "segment_names", "trc_text"]

logger = logging.getLogger(__name__)


def _rate(t: np.ndarray) -> float:
    return measured_rate(t) if t.size > 1 else 0.0


def _table(columns: np.ndarray, fmt: str) -> str:
    """``fmt % row`` per row, newline-terminated (Python floats format faster than NumPy's)."""
    return "".join([fmt % tuple(r) + "\n" for r in columns.tolist()])


def trc_text(
    filename: str,
    names: tuple[str, ...],
    positions: np.ndarray,
    timestamps: np.ndarray,
    *,
    first_frame: int = 0,
    orig_frames: int | None = None,
    frame_note: str = "",
) -> str:
    """A ``.trc`` document (OpenSim marker file) as text.

    Parameters
    ----------
    filename : str
        Written on the first line (PathFileType line).
    names : tuple of str
        Marker names.
    positions : ndarray, shape (F, M, 3)
        Metres; must be finite.
    timestamps : ndarray, shape (F,)
        Seconds (true timestamps; the Time column).
    first_frame : int
        Index of the first frame in the recording (``OrigDataStartFrame`` − 1).
    orig_frames : int, optional
        Frames of the whole recording (``OrigNumFrames``).
    frame_note : str
        Description of the coordinate frame, written as a fifth field of the
        first line (OpenSim keeps that line as its ``header`` metadata).

    Examples
    --------
    >>> import numpy as np
    >>> txt = trc_text("a.trc", ("M",), np.ones((2, 1, 3)), np.array([0.0, 0.5]))
    >>> txt.splitlines()[2].split("\\t")[:5]
    ['2.000000', '2.000000', '2', '1', 'm']
    >>> txt.splitlines()[-1]
    '2\\t0.500000\\t1.0000000\\t1.0000000\\t1.0000000'
    """
    if not np.isfinite(positions).all():
        raise ProcessingError(f"{filename}: refusing to write NaN or infinite marker positions")
    n, m = positions.shape[:2]
    rate = _rate(timestamps)
    head = [
        f"PathFileType\t4\t(X/Y/Z)\t{filename}" + (f"\t{frame_note}" if frame_note else ""),
        "DataRate\tCameraRate\tNumFrames\tNumMarkers\tUnits\tOrigDataRate\t"
        "OrigDataStartFrame\tOrigNumFrames",
        f"{rate:.6f}\t{rate:.6f}\t{n}\t{m}\tm\t{rate:.6f}\t{first_frame + 1}\t"
        f"{orig_frames if orig_frames is not None else n}",
        "Frame#\tTime\t" + "\t".join(f"{name}\t\t" for name in names).rstrip("\t"),
        "\t\t" + "\t".join(f"X{i}\tY{i}\tZ{i}" for i in range(1, m + 1)),
        "",
    ]
    body = np.column_stack([np.arange(1, n + 1), timestamps, positions.reshape(n, m * 3)])
    fmt = "\t".join(["%d", "%.6f"] + ["%.7f"] * (m * 3))
    return "\n".join(head) + "\n" + _table(body, fmt)


def mot_text(name: str, columns: dict[str, np.ndarray], timestamps: np.ndarray) -> str:
    """A ``.mot`` document (OpenSim motion/storage file), angles in degrees.

    Examples
    --------
    >>> import numpy as np
    >>> txt = mot_text("k", {"left_knee_flexion": np.array([1.0, 2.0])}, np.array([0.0, 0.1]))
    >>> txt.splitlines()[:6]
    ['k', 'version=1', 'nRows=2', 'nColumns=2', 'inDegrees=yes', 'endheader']
    """
    data = np.column_stack([timestamps, *columns.values()]) if columns else timestamps[:, None]
    if not np.isfinite(data).all():
        raise ProcessingError(f"{name}: refusing to write NaN or infinite values to a .mot")
    head = [
        name,
        "version=1",
        f"nRows={data.shape[0]}",
        f"nColumns={data.shape[1]}",
        "inDegrees=yes",
        "endheader",
        "\t".join(["time", *columns]),
    ]
    fmt = "\t".join(["%.6f"] + ["%.6f"] * len(columns))
    return "\n".join(head) + "\n" + _table(data, fmt)


def frame_note(markers: OpenSimMarkers) -> str:
    """One line saying which frame the markers are in (for the ``.trc`` header)."""
    up = markers.up
    how = (
        "calibration"
        if up.method == "calibration"
        else f"{up.method}, {up.tilt_from_camera_deg:.1f} deg from the camera's -y"
    )
    return (
        f"frame: {markers.record['source_frame']} ({how}); "
        f"{markers.record['axes']}; neuropose export record has the rotation"
    )


def segment_names(stem: str, suffix: str, markers: OpenSimMarkers) -> list[str]:
    """File names of the segments: ``<stem><suffix>``, or ``<stem>.partK<suffix>`` when split."""
    if len(markers.segments) == 1:
        return [f"{stem}{suffix}"]
    return [f"{stem}.part{k}{suffix}" for k in range(1, len(markers.segments) + 1)]


class TrcWriter:
    """OpenSim marker file (metres, Y-up, Pose2Sim BlazePose marker names, never NaN)."""

    name = "trc"
    extra: str | None = None
    description = "OpenSim .trc markers: metres, Y-up, Pose2Sim BlazePose names, no NaN"

    def check(self) -> None:
        """Nothing to check: the standard library writes it."""

    def prepare(self, track: PoseTrack, options: ExportOptions) -> list[Output]:
        """One ``.trc`` per gap-free segment (see :mod:`neuropose.export.markers`)."""
        mk = prepare_markers(track, options)
        outputs = []
        for fname, (a, b) in zip(segment_names(track.stem, ".trc", mk), mk.segments, strict=True):
            text = trc_text(
                fname,
                mk.names,
                mk.positions[a:b],
                mk.timestamps[a:b],
                first_frame=a,
                orig_frames=track.num_frames,
                frame_note=frame_note(mk),
            )
            rec = {**mk.record, "frames": [a, b], "rate_hz": round(_rate(mk.timestamps[a:b]), 6)}
            outputs.append(bytes_output(fname, text.encode(), rec))
        return outputs


def _angles(track: PoseTrack, mk: OpenSimMarkers) -> tuple[dict[str, np.ndarray], list[str]]:
    trial = mk.trial(track)
    out: dict[str, np.ndarray] = {}
    missing: list[str] = []
    for name in ANGLE_NAMES:
        try:
            out[name] = compute_angle(trial, name, up=mk.up)
        except (JointNotFoundError, InputError):
            missing.append(name)
    return out, missing


class MotWriter:
    """NeuroPose's joint angles (degrees) as an OpenSim ``.mot``, on the ``.trc``'s frames."""

    name = "mot"
    extra: str | None = None
    description = "OpenSim .mot of NeuroPose's joint angles (degrees), same frames as the .trc"

    def check(self) -> None:
        """Nothing to check: the standard library writes it."""

    def prepare(self, track: PoseTrack, options: ExportOptions) -> list[Output]:
        """One ``.angles.mot`` per gap-free segment; angles that cannot be computed are left out."""
        mk = prepare_markers(track, options)
        angles, unsupported = _angles(track, mk)
        outputs = []
        names = segment_names(track.stem, ".angles.mot", mk)
        for fname, (a, b) in zip(names, mk.segments, strict=True):
            cols: dict[str, np.ndarray] = {}
            left_out = list(unsupported)
            for k, v in angles.items():
                seg = v[a:b]
                if np.isfinite(seg).all():
                    cols[k] = seg
                else:
                    left_out.append(k)
            for k in left_out[len(unsupported) :]:
                logger.warning(
                    "%s: angle %s has missing values; left out of %s", track.video, k, fname
                )
            text = mot_text(fname.removesuffix(".mot"), cols, mk.timestamps[a:b])
            rec: dict[str, Any] = {
                "units": "degrees",
                "angles": list(cols),
                "left_out": left_out,
                "conventions": "docs/analyzer.md (3-point and segment angles)",
                "up_axis": mk.up.record(),
                "frames": [a, b],
                "gap_policy": {
                    "max_gap_frames": options.max_gap,
                    "on_long_gap": options.on_long_gap,
                },
            }
            outputs.append(bytes_output(fname, text.encode(), rec))
        return outputs


register(TrcWriter())
register(MotWriter())
