"""Joint angles from OpenSim inverse kinematics, an angle source beside the 3-point angles.

``neuropose opensim RESULTS`` writes ``<results dir>/opensim/<stem>/<stem>.ik.mot``
(Pose2Sim's full-body model scaled to the subject, then IK). With
``angle_source = "opensim"`` in an analysis config the analyzer reads that
file instead of computing the angle from three keypoints. Coordinates map to
NeuroPose's canonical angle names (:data:`IK_COORDINATES`), degrees:

=========================  ===============================  ==================================
canonical angle            OpenSim coordinate(s)            zero / sign (Pose2Sim model)
=========================  ===============================  ==================================
``*_knee_flexion``         ``knee_angle_r|l``               0 = straight; + flexion (0..155)
``*_hip_flexion``          ``hip_flexion_r|l``              0 = thigh along the **pelvis**
                                                            frame's −y; + flexion
``*_elbow_flexion``        ``elbow_flex_r|l``               0 = straight; + flexion (0..150)
``*_ankle_dorsiflexion``   ``ankle_angle_r|l``              0 = the model's neutral foot;
                                                            + dorsiflexion
``*_shoulder_elevation``   arccos(cos ``arm_flex`` ·        angle between humerus and torso
                           cos ``arm_add``)                 long axes; 0 = hanging, unsigned
=========================  ===============================  ==================================

The shoulder formula is exact for the model's acromial joint (body-fixed
rotations flexion about z, adduction about x, then rotation about the
humerus's own y axis): checked against OpenSim's own kinematics of the model.
``trunk_inclination`` has no coordinate (it needs the ground's up axis) and
stays a 3-point angle.

Differences to the 3-point angles are by definition, not only by noise: IK
fits a rigid, scaled skeleton to all markers at once (limb lengths fixed,
joint ranges enforced), the hip angle is measured from the pelvis rather
than the neck→pelvis trunk line, and the ankle's zero is the model's foot
rather than heel→toe ⟂ shank. Measured figures: ``docs/analyzer.md``.

Frames: the ``.ik.mot`` covers the frames IK ran on (``opensim.json``
``frames``); its times are matched to the trial's timestamps and the other
frames are NaN. A ``.mot`` whose times are not the trial's is refused (it
was made from another results file).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import ValidationError

from neuropose.analyzer.load import Trial
from neuropose.datadir.layout import OPENSIM_DIR
from neuropose.errors import InputError
from neuropose.io import format_validation_error, load_model, sha256_file
from neuropose.schemas.opensim import OpenSimRecord, StorageHeader

__all__ = [
    "IK_ANGLE_NAMES",
    "IK_COORDINATES",
    "IKMotion",
    "ik_angle",
    "ik_angles",
    "ik_motion_path",
    "load_ik_motion",
    "read_storage_file",
]

#: Canonical angle name -> the OpenSim coordinates it is computed from.
IK_COORDINATES: dict[str, tuple[str, ...]] = {
    **{f"{s}_knee_flexion": (f"knee_angle_{s[0]}",) for s in ("left", "right")},
    **{f"{s}_hip_flexion": (f"hip_flexion_{s[0]}",) for s in ("left", "right")},
    **{f"{s}_elbow_flexion": (f"elbow_flex_{s[0]}",) for s in ("left", "right")},
    **{f"{s}_ankle_dorsiflexion": (f"ankle_angle_{s[0]}",) for s in ("left", "right")},
    **{
        f"{s}_shoulder_elevation": (f"arm_flex_{s[0]}", f"arm_add_{s[0]}")
        for s in ("left", "right")
    },
}
#: Angles that ``angle_source = "opensim"`` can provide.
IK_ANGLE_NAMES: tuple[str, ...] = tuple(IK_COORDINATES)
#: Largest difference (s) between a ``.mot`` time and a trial timestamp still the same frame.
TIME_TOLERANCE_S = 1e-4


def ik_angle(name: str, columns: Mapping[str, np.ndarray]) -> np.ndarray:
    """Canonical angle ``name`` (degrees) from IK coordinate columns (degrees).

    Examples
    --------
    >>> import numpy as np
    >>> cols = {"arm_flex_r": np.array([0.0, 90.0, 60.0]), "arm_add_r": np.array([0.0, 0.0, 60.0])}
    >>> ik_angle("right_shoulder_elevation", cols).round(3).tolist()
    [0.0, 90.0, 75.522]
    >>> ik_angle("left_knee_flexion", {"knee_angle_l": np.array([12.5])}).tolist()
    [12.5]
    """
    coords = IK_COORDINATES.get(name)
    if coords is None:
        raise InputError(
            f"angle {name!r} has no OpenSim coordinate",
            hint=f"angles with one: {', '.join(IK_ANGLE_NAMES)}",
        )
    if name.endswith("_shoulder_elevation"):
        flex, add = (np.radians(columns[c]) for c in coords)
        return np.degrees(np.arccos(np.clip(np.cos(flex) * np.cos(add), -1.0, 1.0)))
    return np.asarray(columns[coords[0]], dtype=np.float64)


def read_storage_file(path: Path) -> tuple[StorageHeader, np.ndarray]:
    """Validated header and data (rows × columns, rotations in degrees) of a ``.mot``/``.sto``.

    Raises
    ------
    InputError
        Not an OpenSim storage file, header and data disagree, non-finite
        values, or times not strictly increasing (the message names the file).
    """
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    try:
        end = next(i for i, line in enumerate(lines) if line.strip().lower() == "endheader")
    except StopIteration:
        raise InputError(f"{path}: no 'endheader' line; not an OpenSim .mot/.sto file") from None
    keys = dict(
        line.split("=", 1) for line in lines[1:end] if "=" in line and " " not in line.strip()
    )
    raw: dict[str, Any] = {
        "name": lines[0].strip() if end > 0 else "",
        "version": keys.get("version", "1"),
        "n_rows": keys.get("nRows"),
        "n_columns": keys.get("nColumns"),
        "in_degrees": keys.get("inDegrees", "no").strip().lower() == "yes",
        "labels": tuple(lb.strip() for lb in lines[end + 1].split("\t"))
        if end + 1 < len(lines)
        else (),
    }
    try:
        header = StorageHeader.model_validate(raw)
    except ValidationError as exc:
        raise InputError(f"{path}: bad OpenSim header: {format_validation_error(exc)}") from exc
    try:
        data = np.loadtxt(lines[end + 2 :], ndmin=2, dtype=np.float64)
    except ValueError as exc:
        raise InputError(f"{path}: unreadable data rows ({exc})") from exc
    if data.shape != (header.n_rows, header.n_columns):
        raise InputError(
            f"{path}: header says {header.n_rows} rows x {header.n_columns} columns, "
            f"the file has {data.shape[0]} x {data.shape[1] if data.ndim == 2 else 0}"
        )
    if not np.isfinite(data).all():
        raise InputError(f"{path}: non-finite values in the data")
    if np.any(np.diff(data[:, 0]) <= 0):
        raise InputError(f"{path}: times are not strictly increasing")
    if not header.in_degrees:
        raise InputError(
            f"{path}: rotations are in radians (inDegrees=no)",
            hint="re-run neuropose opensim, which writes degrees",
        )
    return header, data


@dataclass(frozen=True)
class IKMotion:
    """An ``.ik.mot`` read and validated, with the ``opensim.json`` beside it.

    Attributes
    ----------
    path : Path
        The ``.ik.mot`` file.
    times : ndarray, shape (R,)
        Seconds (the results' true timestamps of the frames IK ran on).
    columns : dict of str to ndarray
        Coordinate -> values (degrees for rotations, metres for translations).
    record : OpenSimRecord or None
        The run's ``opensim.json`` when present (options, summary, source).
    sha256 : str
        SHA-256 of the ``.ik.mot``.
    """

    path: Path
    times: np.ndarray
    columns: dict[str, np.ndarray]
    record: OpenSimRecord | None
    sha256: str


def ik_motion_path(results: Path, video: str) -> Path:
    """``<results dir>/opensim/<stem>/<stem>.ik.mot``, where ``neuropose opensim`` writes it.

    Examples
    --------
    >>> ik_motion_path(Path("out/walk/results.json"), "cam01.mp4").as_posix()
    'out/walk/opensim/cam01/cam01.ik.mot'
    """
    stem = Path(video).stem or video
    return Path(results).parent / OPENSIM_DIR / stem / f"{stem}.ik.mot"


def load_ik_motion(results: Path, video: str) -> IKMotion:
    """Read the ``.ik.mot`` (and ``opensim.json``) of ``video`` of the results file ``results``.

    Raises
    ------
    InputError
        The file is absent (the message names the command that makes it) or invalid.
    """
    path = ik_motion_path(results, video)
    if not path.is_file():
        raise InputError(
            f"{results}: no OpenSim inverse kinematics for {video} ({path} is absent)",
            hint=f"run: neuropose opensim {results} --height METRES --mass KG "
            '(or use angle_source = "keypoints")',
        )
    header, data = read_storage_file(path)
    rec_path = path.parent / "opensim.json"
    record = load_model(rec_path, OpenSimRecord) if rec_path.is_file() else None
    columns = {lb: data[:, i] for i, lb in enumerate(header.labels) if i > 0}
    return IKMotion(path, data[:, 0], columns, record, sha256_file(path))


def ik_angles(
    trial: Trial, motion: IKMotion, names: Sequence[str]
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """The angles ``names`` from ``motion`` on the trial's frames, and a transform record.

    Returns
    -------
    angles : dict of str to ndarray, shape (F,)
        Degrees; NaN on frames IK did not cover.
    record : dict
        ``{"step": "opensim_ik_angles", "params", "result"}`` for the report:
        file, SHA-256, coordinates used, frames matched, the run's marker
        RMS and filter, and per angle the largest fraction of frames one of
        its coordinates spent at a range limit (``opensim.json``; such
        values are the model's bound, not a measurement).

    Raises
    ------
    InputError
        A coordinate is missing from the file, or the file's times are not
        the trial's timestamps (it belongs to other results).
    """
    t = trial.timestamps
    idx = np.clip(np.searchsorted(t, motion.times), 1, max(len(t) - 1, 1))
    if len(t) > 1:
        left = t[idx - 1]
        idx = np.where(np.abs(motion.times - left) <= np.abs(motion.times - t[idx]), idx - 1, idx)
    else:
        idx = np.zeros(len(motion.times), dtype=int)
    off = np.abs(t[idx] - motion.times) if len(t) else np.full(len(motion.times), np.inf)
    if np.any(off > TIME_TOLERANCE_S) or len(np.unique(idx)) != len(idx):
        raise InputError(
            f"{motion.path}: its times do not match the timestamps of {trial.source} "
            f"({trial.video}); it was made from other results",
            hint=f"re-run neuropose opensim on {trial.source}",
        )
    out: dict[str, np.ndarray] = {}
    for name in names:
        need = IK_COORDINATES.get(name, ())
        missing = [c for c in need if c not in motion.columns]
        if missing:
            raise InputError(f"{motion.path}: no column {', '.join(missing)} (needed for {name})")
        full = np.full(len(t), np.nan)
        full[idx] = ik_angle(name, motion.columns)
        out[name] = full
    summary = motion.record.summary if motion.record is not None else {}
    options = motion.record.options if motion.record is not None else {}
    coords = motion.record.coordinates if motion.record is not None else {}
    at_limit = {
        n: max(float(coords.get(c, {}).get("at_limit_fraction") or 0.0) for c in IK_COORDINATES[n])
        for n in names
    }
    record = {
        "step": "opensim_ik_angles",
        "params": {
            "file": motion.path.name,
            "sha256": motion.sha256,
            "angles": {n: list(IK_COORDINATES[n]) for n in names},
        },
        "result": {
            "frames_matched": len(idx),
            "frames": [int(idx.min()), int(idx.max()) + 1] if len(idx) else [0, 0],
            "marker_rms_mm_median": summary.get("marker_rms_mm_median"),
            "opensim_filter": options.get("filter"),
            "locked_coordinates": options.get("locked_coordinates"),
            "at_limit_fraction": at_limit,
        },
    }
    return out, record
