"""A multi-view job: a job folder holding videos + ONE calibration file (+ ``cameras.toml``).

One set of rules, used by ingest (to validate a job before it is queued)
and by the daemon (to triangulate once every view's predictions exist):

* a **calibration file** is ``*.qca.txt`` (Qualisys), or a ``*.toml``
  (Pose2Sim/Anipose), ``*.json`` or ``*.yml``/``*.yaml`` (OpenCV layout)
  that either has ``calib`` in its name (so a broken one is reported, not
  ignored) or looks like one: a TOML table with a ``matrix``, a top-level
  ``cameras`` mapping in JSON/YAML. Other TOML/JSON/YAML files are not
  calibrations;
* ``cameras.toml`` (:class:`~neuropose.schemas.camera_map.CameraMapFile`)
  optionally maps videos to cameras and gives offsets;
* every video must map to a distinct camera
  (:func:`~neuropose.multiview.trial.pair_videos_with_cameras`), at least two
  videos, equal frame rates, and each video's size must fit its camera.

>>> side_file_kind("Calib.qca.txt"), side_file_kind("cameras.toml"), side_file_kind("a.json")
('calibration', 'camera_map', 'maybe')
>>> is_calibration("rig.json", '{"cameras": {}}'), is_calibration("notes.json", '{"a": 1}')
(True, False)
>>> is_calibration("Calib.toml", "not toml"), is_calibration("pyproject.toml", "[tool]")
(True, False)
"""

from __future__ import annotations

import json
import math
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import ValidationError

from neuropose.errors import InputError
from neuropose.multiview.calibration import (
    CalibrationError,
    fit_camera_to_image,
    load_calibration,
)
from neuropose.multiview.trial import (
    FPS_TOLERANCE,
    TrialOptions,
    pair_videos_with_cameras,
    triangulate_trial,
)
from neuropose.schemas.camera_map import CameraMapFile
from neuropose.schemas.predictions import VideoPredictions
from neuropose.schemas.rig import CameraRig, RigCamera
from neuropose.schemas.status import CameraSummary
from neuropose.schemas.triangulation import Triangulation
from neuropose.video.suffixes import VIDEO_SUFFIXES

__all__ = [
    "CAMERA_MAP_NAME",
    "MAX_SIDE_FILE_BYTES",
    "MultiviewJobError",
    "MultiviewSpec",
    "camera_summaries",
    "check_videos",
    "find_spec",
    "is_calibration",
    "resolve_spec",
    "side_file_kind",
    "triangulate_job",
]

#: File name of the optional video -> camera map of a job.
CAMERA_MAP_NAME = "cameras.toml"
#: Largest calibration or camera-map file read (bytes); real ones are a few KiB.
MAX_SIDE_FILE_BYTES = 16 * 1024**2

_YAML_CAMERAS = re.compile(r"^cameras\s*:", re.MULTILINE)
_MAP_HINT = (
    f"name each video after its camera, or add a {CAMERA_MAP_NAME} with a [cameras] table "
    '(e.g. "front.mp4" = "cam_1") to the job folder'
)


class MultiviewJobError(InputError):
    """A multi-view job folder is inconsistent (exit code 2)."""


def side_file_kind(name: str) -> Literal["calibration", "camera_map", "maybe"] | None:
    """What a non-video file of a job folder is, by name alone.

    ``"maybe"``: a JSON/YAML file, a calibration only if :func:`is_calibration`.
    """
    low = name.lower()
    if low == CAMERA_MAP_NAME:
        return "camera_map"
    if low.endswith(".qca.txt"):
        return "calibration"
    if low.endswith((".toml", ".json", ".yml", ".yaml")):
        return "maybe"
    return None


def is_calibration(name: str, text: str) -> bool:
    """Whether a file named ``name`` with content ``text`` is a calibration (see module doc)."""
    kind = side_file_kind(name)
    if kind != "maybe":
        return kind == "calibration"
    low = name.lower()
    if "calib" in low:
        return True
    try:
        if low.endswith(".toml"):
            tables = tomllib.loads(text).values()
            return any(isinstance(t, dict) and "matrix" in t for t in tables)
        if low.endswith(".json"):
            data = json.loads(text)
            return isinstance(data, dict) and isinstance(data.get("cameras"), dict)
    except ValueError:  # TOMLDecodeError and JSONDecodeError are ValueErrors
        return False
    return _YAML_CAMERAS.search(text) is not None


@dataclass(frozen=True)
class MultiviewSpec:
    """A validated multi-view job.

    Attributes
    ----------
    calibration : str
        File name of the calibration in the job folder.
    rig : CameraRig
    cameras : dict of str -> str
        Video file name -> camera name.
    options : TrialOptions
        Offsets and residual-offset search from ``cameras.toml``; the
        triangulation's own defaults otherwise.
    """

    calibration: str
    rig: CameraRig
    cameras: dict[str, str]
    options: TrialOptions


def read_camera_map(path: Path, label: str | None = None) -> CameraMapFile:
    """Parse ``cameras.toml``; :class:`MultiviewJobError` names the file and field."""
    where = label or str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise MultiviewJobError(f"{where}: not a readable TOML file ({exc})") from exc
    try:
        return CameraMapFile.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"])
        raise MultiviewJobError(
            f"{where}: field {field!r}: {err['msg']}",
            hint="allowed: [cameras] VIDEO = CAMERA, [offsets] CAMERA = FRAMES, sync_search = N",
        ) from exc


def resolve_spec(
    calibration: Path,
    videos: Sequence[str],
    camera_map: Path | None = None,
    *,
    labels: Mapping[Path, str] | None = None,
) -> MultiviewSpec:
    """Load the calibration and camera map and pair every video with a camera.

    Parameters
    ----------
    calibration : Path
        The calibration file (read by suffix, :func:`load_calibration`).
    videos : sequence of str
        Video file names of the job.
    camera_map : Path, optional
        ``cameras.toml``.
    labels : mapping of Path -> str, optional
        How to name ``calibration``/``camera_map`` in messages (e.g. the
        archive member they were read from).

    Raises
    ------
    MultiviewJobError, CalibrationError
        Fewer than two videos, an unreadable calibration (its field named),
        a video paired with no camera or two with one, an offset for a
        camera absent from the job.
    """
    labels = labels or {}
    cal_label = labels.get(calibration, str(calibration))
    if len(videos) < 2:
        raise MultiviewJobError(
            f"{cal_label}: a multi-view job needs at least two videos next to its "
            f"calibration, found {len(videos)} ({', '.join(videos) or 'none'})",
            hint="put every view's video in the calibration's folder, or remove the "
            "calibration file for a single-view job",
        )
    try:
        rig = load_calibration(calibration)
    except CalibrationError as exc:
        raise CalibrationError(
            exc.message.replace(str(calibration), cal_label), hint=exc.hint
        ) from exc
    cmap = CameraMapFile()
    if camera_map is not None:
        cmap = read_camera_map(camera_map, labels.get(camera_map))
    try:
        names = pair_videos_with_cameras(videos, rig, cmap.cameras)
    except InputError as exc:
        raise MultiviewJobError(f"{cal_label}: {exc.message}", hint=_MAP_HINT) from exc
    unknown = sorted(set(cmap.offsets) - set(names))
    if unknown:
        where = labels.get(camera_map, str(camera_map)) if camera_map else CAMERA_MAP_NAME
        raise MultiviewJobError(
            f"{where}: [offsets] names camera(s) {', '.join(unknown)} that film no video of "
            f"this job (cameras: {', '.join(names)})"
        )
    return MultiviewSpec(
        calibration=calibration.name,
        rig=rig,
        cameras=dict(zip(videos, names, strict=True)),
        options=TrialOptions(offsets=dict(cmap.offsets), sync_search=cmap.sync_search),
    )


def check_videos(
    spec: MultiviewSpec, probes: Mapping[str, tuple[int, int, float | None]]
) -> list[str]:
    """Problems of the job's videos: frame rates differ, or a size does not fit its camera.

    Parameters
    ----------
    spec : MultiviewSpec
    probes : mapping of video file name -> (width, height, fps or None)

    Returns
    -------
    list of str
        One line per problem (empty: fine).
    """
    problems = []
    for video, (w, h, _) in probes.items():
        try:
            fit_camera_to_image(spec.rig.camera(spec.cameras[video]), w, h)
        except InputError as exc:
            problems.append(f"{video}: {exc.message}")
    rates = {v: p[2] for v, p in probes.items()}
    missing = sorted(v for v, r in rates.items() if not r or not math.isfinite(r))
    if missing:
        problems.append(
            f"{', '.join(missing)}: no frame rate in the container; views cannot be "
            "aligned frame by frame"
        )
    known = {v: float(r) for v, r in rates.items() if r and math.isfinite(r)}
    if known:
        ref_video = min(known)
        ref = known[ref_video]
        odd = sorted(v for v, r in known.items() if abs(r - ref) > FPS_TOLERANCE * ref)
        if odd:
            listed = ", ".join(f"{v} {known[v]:g} fps" for v in odd)
            problems.append(
                f"frame rates differ: {ref_video} runs at {ref:g} fps but {listed}; "
                "resample the videos to one frame rate (e.g. ffmpeg -r) first"
            )
    return problems


def find_spec(job_dir: Path, videos: Sequence[str]) -> MultiviewSpec | None:
    """The multi-view spec of a job folder, or ``None`` when it holds no calibration.

    Raises
    ------
    MultiviewJobError, CalibrationError
        Several calibration files, a ``cameras.toml`` without calibration,
        or any problem of :func:`resolve_spec`.
    """
    cals: list[Path] = []
    cmap: Path | None = None
    for path in sorted(job_dir.iterdir()):
        kind = side_file_kind(path.name)
        if kind is None or path.name.startswith(".") or not path.is_file():
            continue
        if kind == "camera_map":
            cmap = path
        elif kind == "calibration" or is_calibration(path.name, _head(path)):
            cals.append(path)
    if len(cals) > 1:
        raise MultiviewJobError(
            f"{job_dir}: several calibration files ({', '.join(p.name for p in cals)}); "
            "a multi-view job holds exactly one",
            hint="remove all but the calibration of the cameras that filmed these videos",
        )
    if not cals:
        if cmap is not None:
            raise MultiviewJobError(
                f"{cmap}: a camera map without a calibration file in the job folder",
                hint="add the calibration (.qca.txt, .toml, .json or .yml) next to it",
            )
        return None
    return resolve_spec(cals[0], videos, cmap)


def fitted_camera(rig: CameraRig, camera: str, video: Path) -> RigCamera:
    """The calibrated ``camera`` of ``rig`` fitted to ``video``'s upright frame size.

    For the view's intrinsics (``K``, distortion) in the estimator; see
    :func:`~neuropose.multiview.calibration.fit_camera_to_image` for what
    "fitted" allows.

    Raises
    ------
    CalibrationError
        The camera is not in the rig, or its size cannot fit the video.
    VideoError
        The video cannot be opened.
    """
    from neuropose.video.reader import probe_video  # OpenCV: only when a job runs

    info = probe_video(video)
    cam, _ = fit_camera_to_image(rig.camera(camera), info.width, info.height)
    return cam


def _head(path: Path) -> str:
    with path.open("rb") as f:
        return f.read(MAX_SIDE_FILE_BYTES).decode("utf-8", "replace")


def triangulate_job(views: Sequence[VideoPredictions], job_dir: Path) -> Triangulation | None:
    """The daemon's multi-view step: triangulate a job whose every view has predictions.

    Parameters
    ----------
    views : sequence of VideoPredictions
        One per video of the job (``video`` = the file name in ``job_dir``);
        a view that failed has none, and the trial fails with it.
    job_dir : Path
        The job's input folder (calibration, optional ``cameras.toml``).

    Returns
    -------
    Triangulation or None
        ``None`` when the folder holds no calibration (a single-view job).

    Raises
    ------
    MultiviewJobError, CalibrationError, InputError
        A video without predictions, an invalid calibration or map, views
        that cannot be triangulated together (frame rates, sizes).
    """
    videos = sorted(
        p.name
        for p in job_dir.iterdir()
        if p.is_file() and not p.name.startswith(".") and _is_video(p.name)
    )
    spec = find_spec(job_dir, videos)
    if spec is None:
        return None
    by_video = {v.video: v for v in views}
    missing = [v for v in videos if v not in by_video]
    if missing:
        raise MultiviewJobError(
            f"{job_dir.name}: no predictions for view(s) {', '.join(missing)}; "
            "a multi-view trial is triangulated only when every view was processed"
        )
    ordered = [by_video[v] for v in videos]
    return triangulate_trial(
        ordered, spec.rig, cameras=[spec.cameras[v] for v in videos], options=spec.options
    )


def _is_video(name: str) -> bool:
    return Path(name).suffix.lower() in VIDEO_SUFFIXES


def camera_summaries(tri: Triangulation) -> tuple[CameraSummary, ...]:
    """Per camera of a triangulated job, the figures shown in its status entry."""
    return tuple(
        CameraSummary(
            camera=v.camera,
            video=v.video,
            median_reprojection_px=v.median_reprojection_px,
            swaps=v.swaps,
            offset_frames=v.offset_frames,
        )
        for v in tri.views
    )
