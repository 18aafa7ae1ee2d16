"""What a result records about how it was made, and when two results are equal.

:func:`build_provenance` fills :class:`~neuropose.schemas.Provenance` (model
and SHA-256 of its weights, options, intrinsics, software versions, input
SHA-256); :func:`without_run_details` drops what legitimately differs between
two equal runs; :func:`video_metadata` turns the container's timestamps into
the recorded time axis.
"""

from __future__ import annotations

import importlib.metadata
import logging
import platform
import sys
from typing import Any

import numpy as np

from neuropose.estimator.errors import VideoUnreadableError
from neuropose.models.base import PoseModel
from neuropose.schemas import CameraIntrinsics, Provenance, VideoMetadata, VideoPredictions
from neuropose.timefmt import utc_now
from neuropose.video.reader import VideoInfo

__all__ = ["build_provenance", "video_metadata", "without_run_details"]

logger = logging.getLogger(__name__)


def without_run_details(vp: VideoPredictions) -> VideoPredictions:
    """``vp`` without the fields that legitimately differ between equal runs.

    Drops ``metrics`` (timings, RSS, CPU) and blanks ``provenance.created_at``;
    everything else — frames, timestamps, detections, track ids, metadata,
    model, options, intrinsics, input hash — is kept, so two runs of a
    deterministic model compare equal with ``==`` exactly when their
    predictions agree (threaded vs sequential, resumed vs uninterrupted).
    """
    prov = vp.provenance.model_copy(update={"created_at": ""})
    return vp.model_copy(update={"metrics": None, "provenance": prov})


def software_versions() -> dict[str, str]:
    """Versions of Python and of the installed distributions that shape a result.

    TensorFlow is listed only when it is imported (it ran the model), not
    merely installed.
    """
    out = {"python": platform.python_version()}
    for dist in ("neuropose", "numpy", "opencv-python-headless", "scipy", "ai-edge-litert",
                 "tensorflow"):  # fmt: skip
        if dist == "tensorflow" and "tensorflow" not in sys.modules:
            continue  # installed (the metrabs extra) but not what ran this model
        try:
            out[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            continue
    return out


def build_provenance(
    model: PoseModel,
    options: dict[str, Any],
    intrinsics: CameraIntrinsics,
    input_sha256: str,
    input_name: str,
) -> Provenance:
    """Provenance of one video's predictions, created now."""
    return Provenance(
        model_name=model.name,
        model_sha256=model.weights_sha256,
        root_relative=bool(model.root_relative),
        options=options,
        intrinsics=intrinsics,
        versions=software_versions(),
        platform=platform.platform(),
        input_sha256=input_sha256,
        input_name=input_name,
        created_at=utc_now(),
    )


def video_metadata(
    info: VideoInfo, timestamps_ms: np.ndarray, *, short_read: bool
) -> tuple[np.ndarray, VideoMetadata]:
    """The time axis of the decoded frames (seconds) and the video's metadata.

    Parameters
    ----------
    info : VideoInfo
        Probe of the input.
    timestamps_ms : ndarray, shape (n,)
        Container presentation time of each decoded frame in ms (NaN when
        the container gave none).
    short_read : bool
        Fewer frames decoded than declared (and allowed).

    Returns
    -------
    timestamps_s : ndarray, shape (n,)
        ``timestamps_ms / 1000`` when every one is finite and strictly
        increasing (``timestamp_source="container"``); otherwise
        ``index / fps`` (``"fps_fallback"``, logged); 0 for an image.
    metadata : VideoMetadata
        Size, rotation, codec, frame counts, reported fps, timestamp source,
        duration (last - first timestamp + one nominal frame interval) and
        whether the frame rate varies (any interval more than 10 % from the
        median).

    Raises
    ------
    VideoUnreadableError
        Neither usable timestamps nor a frame rate.

    Examples
    --------
    >>> from pathlib import Path
    >>> info = VideoInfo(Path("v.mp4"), False, 64, 48, 0, "mp4v", 3, 10.0, 1000)
    >>> ts, meta = video_metadata(info, np.array([0.0, 100.0, 200.0]), short_read=False)
    >>> ts.tolist(), meta.timestamp_source, round(meta.duration_s, 3)
    ([0.0, 0.1, 0.2], 'container', 0.3)
    """
    name = info.path.name
    n = len(timestamps_ms)
    fps = info.fps_reported
    if info.is_image:
        ts = np.zeros(1)
        source = "image"
    elif np.all(np.isfinite(timestamps_ms)) and (n == 1 or np.all(np.diff(timestamps_ms) > 0)):
        ts = timestamps_ms / 1000.0
        source = "container"
    else:
        if not fps:
            raise VideoUnreadableError(
                f"{name}: the container gives neither usable frame timestamps nor a frame rate",
                hint="remux the file (e.g. ffmpeg -i in -c copy out.mp4)",
            )
        logger.warning(
            "%s: container timestamps are missing or not increasing; using index / fps", name
        )
        ts = np.arange(n) / fps
        source = "fps_fallback"
    diffs = np.diff(ts)
    vfr = False
    if diffs.size >= 2:
        med = float(np.median(diffs))
        vfr = bool(np.any(np.abs(diffs - med) > 0.1 * med))
    interval = 1.0 / fps if fps else (float(np.median(diffs)) if diffs.size else 0.0)
    duration = float(ts[-1] - ts[0]) + (interval if not info.is_image else 0.0)
    metadata = VideoMetadata(
        width=info.width,
        height=info.height,
        rotation_degrees=info.rotation_degrees,
        codec=info.codec,
        declared_frame_count=info.declared_frame_count,
        decoded_frame_count=n,
        fps_reported=fps,
        timestamp_source=source,
        duration_s=max(0.0, duration),
        variable_frame_rate=vfr,
        short_read=short_read,
    )
    return ts, metadata
