"""OpenSim scaling then inverse kinematics on NeuroPose markers (``neuropose[opensim]``).

Pipeline for one subject of one video (BlazePose-33 results only, the marker
set the Pose2Sim setup files expect):

1. markers as in the ``.trc`` export (:mod:`neuropose.export.markers`:
   metres, Y-up, gap policy; when split, the longest segment is used);
2. Pose2Sim's ``ScaleTool`` setup with the subject's mass and height, the
   marker-pair distances averaged over the whole segment, marker placer
   off; ``ScaleTool.run()`` returns False when the marker placer is off even
   though it wrote the model, so success is judged by the model file;
   ``marker_file`` is given relative to the setup (ScaleTool re-prefixes an
   absolute path);
3. the coordinates in ``lock`` (default ``mtp_angle`` and
   ``subtalar_angle``, which BlazePose's foot markers cannot resolve: they sit
   at their range limit in most frames) are locked at 0 in the scaled model;
4. Pose2Sim's ``InverseKinematicsTool`` setup over the segment.

OpenSim's own log goes to ``opensim.log`` in the output folder (its default
file sink in the current directory is removed first; what it prints to the
console is captured there too). Everything is built in a staging folder and
moved into place with one rename.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import secrets
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from neuropose import __version__
from neuropose.analyzer.angles import compute_angle
from neuropose.analyzer.filtering import butterworth
from neuropose.errors import InputError, ProcessingError
from neuropose.export.base import ExportOptions, require
from neuropose.export.markers import OpenSimMarkers, prepare_markers
from neuropose.export.opensim_files import frame_note, trc_text
from neuropose.export.opensim_setup import POSE2SIM_SETUP, SetupFiles
from neuropose.export.record import OpenSimRecord
from neuropose.export.track import PoseTrack
from neuropose.io import fsync_directory, sha256_file, write_bytes_atomic, write_model_atomic

__all__ = [
    "DEFAULT_LOCKED",
    "OpenSimOptions",
    "OpenSimRun",
    "check_track",
    "read_storage",
    "run_opensim",
]

#: Coordinates locked by default (foot DOFs BlazePose markers cannot resolve).
DEFAULT_LOCKED = ("mtp_angle_r", "mtp_angle_l", "subtalar_angle_r", "subtalar_angle_l")


@dataclass(frozen=True)
class OpenSimOptions:
    """Options of :func:`run_opensim` (all recorded).

    Attributes
    ----------
    height_m : float
        Subject height, metres (written into the scaled model; compared with
        the height estimated from the markers).
    mass_kg : float
        Subject mass, kilograms (scaling preserves the mass distribution).
    lock : tuple of str
        Coordinates locked at 0 before IK.
    filter_hz : float or None
        When set, the markers are low-pass filtered before scaling and IK
        (:func:`neuropose.analyzer.butterworth`, zero-phase, order 4, this
        cutoff in Hz; Pose2Sim's default is 6 Hz). None: raw markers.
    export : ExportOptions
        Gap policy and up-axis method of the markers.
    """

    height_m: float
    mass_kg: float
    lock: tuple[str, ...] = DEFAULT_LOCKED
    export: ExportOptions = field(default_factory=ExportOptions)
    filter_hz: float | None = None

    def __post_init__(self) -> None:
        if not 0.5 <= self.height_m <= 2.5:
            raise InputError(f"height {self.height_m} m is outside 0.5-2.5 m", hint="give metres")
        if not 10 <= self.mass_kg <= 300:
            raise InputError(f"mass {self.mass_kg} kg is outside 10-300 kg", hint="give kilograms")


@dataclass(frozen=True)
class OpenSimRun:
    """Where the outputs are and the record summarising them."""

    directory: Path
    record: OpenSimRecord


def read_storage(path: Path) -> tuple[list[str], np.ndarray]:
    """Column labels and data (rows × columns) of an OpenSim ``.mot``/``.sto`` file."""
    lines = path.read_text().splitlines()
    try:
        end = next(i for i, line in enumerate(lines) if line.strip().lower() == "endheader")
    except StopIteration:
        raise ProcessingError(f"{path}: no 'endheader' line (not an OpenSim storage)") from None
    labels = lines[end + 1].split("\t")
    data = np.loadtxt(lines[end + 2 :], ndmin=2)
    return [lb.strip() for lb in labels], data


@contextlib.contextmanager
def _opensim_output(osim: Any, log_path: Path) -> Iterator[None]:
    """Send OpenSim's log and console output to ``log_path`` (never the cwd or our stdout)."""
    osim.Logger.removeFileSink()
    osim.Logger.addFileSink(str(log_path))
    libc = ctypes.CDLL(None)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    fd = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        yield
    finally:
        libc.fflush(None)
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for f in (fd, *saved):
            os.close(f)
        osim.Logger.removeFileSink()


def _estimated_height(mk: OpenSimMarkers, a: int, b: int) -> float | None:
    """Height (m) from segment lengths, as Pose2Sim estimates it (median over frames)."""
    need = ["Heel", "Ankle", "Knee", "Hip", "Shoulder"]
    names = mk.names
    if not all(f"{s}{n}" in names for s in "LR" for n in need) or "Nose" not in names:
        return None
    p = {n: mk.positions[a:b, names.index(n)] for n in names}

    def seg(u: str, v: str) -> np.ndarray:
        return np.mean([np.linalg.norm(p[s + u] - p[s + v], axis=1) for s in "LR"], axis=0)

    mid_shoulder = (p["LShoulder"] + p["RShoulder"]) / 2
    head = np.linalg.norm(p["Nose"] - mid_shoulder, axis=1) * 1.5
    total = seg("Heel", "Ankle") + seg("Ankle", "Knee") + seg("Knee", "Hip")
    total = total + seg("Hip", "Shoulder") + head
    return float(np.median(total))


def _scale(
    osim: Any, setup: SetupFiles, work: Path, stem: str, t: np.ndarray, opts: OpenSimOptions
) -> Path:
    for src in (setup.model, setup.markers):
        shutil.copyfile(src, work / src.name)
    tool = osim.ScaleTool(str(setup.scaling))
    tool.setSubjectMass(opts.mass_kg)
    tool.setSubjectHeight(opts.height_m)
    tool.setPathToSubject(str(work) + os.sep)
    maker = tool.getGenericModelMaker()
    maker.setModelFileName(setup.model.name)
    maker.setMarkerSetFileName(setup.markers.name)
    scaler = tool.getModelScaler()
    scaler.setMarkerFileName(f"{stem}.trc")  # relative: ScaleTool prefixes the subject path
    span = osim.ArrayDouble()
    span.append(float(t[0]))
    span.append(float(t[-1]))
    scaler.setTimeRange(span)
    out = work / f"{stem}_scaled.osim"
    scaler.setOutputModelFileName(out.name)
    scaler.setOutputScaleFileName("")
    tool.getMarkerPlacer().setApply(False)
    tool.printToXML(str(work / "scale_setup.xml"))
    tool.run()  # returns False with the marker placer off even on success: check the file
    if not out.is_file():
        raise ProcessingError(f"OpenSim scaling wrote no model (see {work / 'opensim.log'})")
    (work / setup.model.name).unlink()
    (work / setup.markers.name).unlink()
    return out


def _lock(osim: Any, model_path: Path, names: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    model = osim.Model(str(model_path))
    coords = model.getCoordinateSet()
    for name in names:
        if not coords.contains(name):
            raise InputError(f"cannot lock {name!r}: the model has no such coordinate")
        c = coords.get(name)
        c.setDefaultValue(0.0)
        c.setDefaultLocked(True)
    model.printToXML(str(model_path))
    info = {}
    for i in range(coords.getSize()):
        c = coords.get(i)
        rot = c.getMotionType() == osim.Coordinate.Rotational
        k = float(np.degrees(1.0)) if rot else 1.0
        info[c.getName()] = {
            "range": [c.getRangeMin() * k, c.getRangeMax() * k],
            "unit": "deg" if rot else "m",
            "locked": c.getName() in names,
        }
    return info


def _ik(osim: Any, setup: SetupFiles, work: Path, stem: str, model: Path, t: np.ndarray) -> Path:
    tool = osim.InverseKinematicsTool(str(setup.ik))
    tool.set_model_file(str(model))
    tool.set_marker_file(str(work / f"{stem}.trc"))
    tool.setStartTime(float(t[0]))
    tool.setEndTime(float(t[-1]))
    out = work / f"{stem}.ik.mot"
    tool.set_output_motion_file(str(out))
    tool.set_results_directory(str(work))
    tool.set_report_errors(True)
    tool.set_report_marker_locations(True)
    tool.printToXML(str(work / "ik_setup.xml"))
    tool.run()
    if not out.is_file():
        raise ProcessingError(
            f"OpenSim inverse kinematics wrote no motion (see {work / 'opensim.log'})"
        )
    return out


def _marker_errors(
    work: Path, mk: OpenSimMarkers, exp: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame, per-marker distance (mm) between the IK model's markers and ``exp`` (m)."""
    labels, data = read_storage(work / "_ik_model_marker_locations.sto")
    times = data[:, 0]
    model = np.full((len(times), len(mk.names), 3), np.nan)
    for m, name in enumerate(mk.names):
        cols = [labels.index(f"{name}_t{ax}") for ax in "xyz" if f"{name}_t{ax}" in labels]
        if len(cols) == 3:
            model[:, m] = data[:, cols]
    if exp.shape[0] != model.shape[0]:
        raise ProcessingError(
            f"IK reported {model.shape[0]} frames, the markers have {exp.shape[0]}"
        )
    return times, np.linalg.norm(model - exp, axis=2) * 1000.0


def _errors_csv(times: np.ndarray, names: tuple[str, ...], err: np.ndarray) -> bytes:
    rms = np.sqrt(np.nanmean(err**2, axis=1))
    cols = np.column_stack([times, rms, np.nanmax(err, axis=1), err])
    header = ",".join(["time_s", "rms_mm", "max_mm", *(f"{n}_mm" for n in names)])
    body = "\n".join(",".join(f"{v:.6f}" for v in row) for row in cols)
    return (header + "\n" + body + "\n").encode()


def _coordinate_summary(
    labels: list[str], data: np.ndarray, info: dict[str, dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    out = {}
    for i, name in enumerate(labels[1:], start=1):
        v = data[:, i]
        meta = info.get(name, {})
        entry: dict[str, Any] = {
            "min": round(float(v.min()), 3),
            "max": round(float(v.max()), 3),
            "unit": meta.get("unit", ""),
            "locked": meta.get("locked", False),
        }
        if "range" in meta and not entry["locked"]:
            lo, hi = meta["range"]
            tol = 0.5 if meta["unit"] == "deg" else 1e-3
            entry["at_limit_fraction"] = round(float(np.mean((v <= lo + tol) | (v >= hi - tol))), 3)
        out[name] = entry
    return out


def _knee_agreement(
    track: PoseTrack, mk: OpenSimMarkers, a: int, b: int, labels: list[str], data: np.ndarray
) -> dict[str, float]:
    trial = mk.trial(track)
    out = {}
    for side, col in (("left", "knee_angle_l"), ("right", "knee_angle_r")):
        if col not in labels:
            continue
        ours = compute_angle(trial, f"{side}_knee_flexion", up=mk.up)[a:b]
        diff = data[:, labels.index(col)] - ours
        out[f"{side}_knee_rms_deg"] = round(float(np.sqrt(np.nanmean(diff**2))), 3)
    return out


def _place(staging: Path, final: Path) -> None:
    for p in staging.iterdir():
        with open(p, "rb") as fh:
            os.fsync(fh.fileno())
    fsync_directory(staging)
    old = None
    if final.exists():
        old = final.with_name(f".{final.name}.{secrets.token_hex(8)}.old")
        os.replace(final, old)
    os.replace(staging, final)
    fsync_directory(final.parent)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def check_track(track: PoseTrack) -> None:
    """Raise :class:`InputError` unless ``track`` is BlazePose-33 (Pose2Sim's marker set)."""
    if track.skeleton.name != "blazepose_33":
        raise InputError(
            f"{track.video}: OpenSim kinematics needs BlazePose-33 results "
            f"(Pose2Sim's BlazePose marker set), not {track.skeleton.name!r}",
            hint="process the video with --model blazepose-full",
        )


def run_opensim(
    track: PoseTrack, setup: SetupFiles, out_root: Path, options: OpenSimOptions
) -> OpenSimRun:
    """Scale Pose2Sim's model to ``track`` and run IK; outputs in ``out_root/<stem>/``.

    Outputs: ``<stem>.trc`` (markers used), ``<stem>_scaled.osim``,
    ``<stem>.ik.mot`` (coordinates, degrees), ``<stem>.marker_errors.csv``
    (per frame: RMS, max and each marker's model-to-data distance, mm),
    OpenSim's ``_ik_*.sto`` reports, the effective ``scale_setup.xml`` and
    ``ik_setup.xml``, ``opensim.log`` and ``opensim.json``
    (:class:`~neuropose.export.record.OpenSimRecord`).

    Raises
    ------
    neuropose.export.MissingExtraError
        opensim is not installed (exit code 4).
    InputError
        Not BlazePose-33 results, bad height/mass, or the gap policy refused.
    ProcessingError
        OpenSim wrote no model or motion.
    """
    osim = require("opensim", "opensim", "OpenSim scaling and inverse kinematics")
    check_track(track)
    mk = prepare_markers(track, options.export)
    a, b = max(mk.segments, key=lambda s: s[1] - s[0])
    t = mk.timestamps[a:b]
    stem = track.stem
    out_root.mkdir(parents=True, exist_ok=True)
    staging = out_root / f".{stem}.{secrets.token_hex(8)}.staging"
    staging.mkdir()
    try:
        markers, filtered = mk.positions[a:b], None
        if options.filter_hz is not None:
            markers, filtered = butterworth(markers, t, cutoff_hz=options.filter_hz)
        text = trc_text(f"{stem}.trc", mk.names, markers, t, first_frame=a,
                        orig_frames=track.num_frames, frame_note=frame_note(mk))  # fmt: skip
        write_bytes_atomic(staging / f"{stem}.trc", text.encode())
        osim.ModelVisualizer.addDirToGeometrySearchPaths(str(setup.geometry))
        with _opensim_output(osim, staging / "opensim.log"):
            scaled = _scale(osim, setup, staging, stem, t, options)
            info = _lock(osim, scaled, options.lock)
            motion = _ik(osim, setup, staging, stem, scaled, t)
        labels, data = read_storage(motion)
        times, err = _marker_errors(staging, mk, markers)
        write_bytes_atomic(staging / f"{stem}.marker_errors.csv", _errors_csv(times, mk.names, err))
        rms = np.sqrt(np.nanmean(err**2, axis=1))
        os_labels, os_err = read_storage(staging / "_ik_marker_errors.sto")
        os_rms = os_err[:, os_labels.index("marker_error_RMS")] * 1000.0
        record = OpenSimRecord(
            created_at=datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
            neuropose_version=__version__,
            opensim_version=str(osim.GetVersion()),
            source=track.describe(),
            options={
                "height_m": options.height_m,
                "mass_kg": options.mass_kg,
                "locked_coordinates": list(options.lock),
                "scaling_time_range_s": [float(t[0]), float(t[-1])],
                "marker_placer": False,
                "filter": filtered,
                **options.export.record(),
            },
            setup_files={
                "source": POSE2SIM_SETUP.requirement,
                "wheel_sha256": POSE2SIM_SETUP.wheel_sha256,
                "licence": POSE2SIM_SETUP.licence,
                "sha256": setup.hashes,
            },
            markers=mk.record,
            frames=[a, b],
            summary={
                "marker_rms_mm_median": round(float(np.median(rms)), 2),
                "marker_rms_mm_max": round(float(np.max(rms)), 2),
                "opensim_weighted_rms_mm_median": round(float(np.median(os_rms)), 2),
                "per_marker_mean_error_mm": {
                    n: round(float(np.nanmean(err[:, i])), 2) for i, n in enumerate(mk.names)
                },
                "height_m_given": options.height_m,
                "height_m_estimated_from_markers": _round(_estimated_height(mk, a, b)),
                **_knee_agreement(track, mk, a, b, labels, data),
            },
            coordinates=_coordinate_summary(labels, data, info),
            files={p.name: sha256_file(p) for p in sorted(staging.iterdir())},
        )
        write_model_atomic(staging / "opensim.json", record)
        final = out_root / stem
        _place(staging, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return OpenSimRun(directory=final, record=record)


def _round(v: float | None) -> float | None:
    return None if v is None else round(v, 3)
