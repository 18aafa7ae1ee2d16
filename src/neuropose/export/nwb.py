"""NWB through ``pynwb`` + ``ndx-pose`` (``pip install 'neuropose[export]'``).

Layout (what ``movement.io.load_poses.from_nwb_file`` and DANDI tools read):
processing module ``behavior`` holding a ``Skeletons`` container with the
skeleton (nodes = joint names, edges) and a ``PoseEstimation`` called
``PoseEstimation`` with one ``PoseEstimationSeries`` per joint: ``data``
(F, 3) float32 **millimetres** in camera axes (x right, y down, z forward;
hip-centred when root-relative), ``confidence`` (F,) 0..1 when the model gives
one, and the true container ``timestamps`` in seconds (stored once, linked
by the other series). Missing frames are NaN. The video is an external
``ImageSeries`` (``acquisition/video``, linked as ``source_video``) holding its
file name only and its SHA-256 in the description, never its directory;
``scorer`` is the model name and the description carries its SHA-256.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from neuropose import __version__
from neuropose.export.base import ExportOptions, Output, library_output, register, require
from neuropose.export.track import PoseTrack

__all__ = ["NwbWriter"]

_CAMERA = "camera frame of the input video: x right, y down, z forward (millimetres)"


def _frame(track: PoseTrack) -> str:
    return _CAMERA if track.up is None else f"{track.axes} (millimetres)"


def _start_time(created_at: str) -> datetime:
    try:
        dt = datetime.fromisoformat(created_at.replace("Z", "+00:00"))
    except ValueError:
        return datetime(1970, 1, 1, tzinfo=UTC)
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


class NwbWriter:
    """NWB file with ndx-pose PoseEstimation (one series per joint)."""

    name = "nwb"
    extra: str | None = "export"
    description = "NWB + ndx-pose (mm, camera axes, confidence, true timestamps); movement loads it"

    def check(self) -> None:
        """Raise when pynwb or ndx-pose is not installed."""
        require("pynwb", "export", "NWB export")
        require("ndx_pose", "export", "NWB export")

    def prepare(self, track: PoseTrack, options: ExportOptions) -> list[Output]:
        """One ``.nwb`` (the NWB objects are built when saving)."""
        prov = track.provenance
        identifier = f"{track.stem}_track{track.track_id}"
        rec: dict[str, Any] = {
            "units": "mm",
            "axes": _frame(track),
            "identifier": identifier,
            "processing_module": "behavior",
            "pose_estimation": "PoseEstimation",
            "series": list(track.joints),
            "confidence": track.confidence is not None,
        }

        def write(path: Path) -> None:
            pynwb = require("pynwb", "export", "NWB export")
            ndx_pose = require("ndx_pose", "export", "NWB export")
            nwb = pynwb.NWBFile(
                session_description=f"NeuroPose poses of {track.video} (job {track.job_id})",
                identifier=identifier,
                session_start_time=_start_time(prov.created_at),
            )
            camera = nwb.create_device(name="camera", description=f"camera of {track.video}")
            edges = np.asarray(track.skeleton.edges, dtype=np.uint8).reshape(-1, 2)
            skeleton = ndx_pose.Skeleton(name="subject", nodes=list(track.joints), edges=edges)
            series: list[Any] = []
            conf = track.confidence
            for j, joint in enumerate(track.joints):
                kwargs: dict[str, Any] = {}
                if conf is not None:
                    kwargs["confidence"] = conf[:, j].astype(np.float32)
                    kwargs["confidence_definition"] = f"{prov.model_name} landmark confidence 0..1"
                series.append(
                    ndx_pose.PoseEstimationSeries(
                        name=joint,
                        description=f"{joint} position, {_frame(track)}",
                        data=track.positions[:, j].astype(np.float32),
                        unit="millimeters",
                        reference_frame=_frame(track)
                        + (
                            "; relative to the hip centre"
                            if track.describe()["root_relative"]
                            else ""
                        ),
                        timestamps=series[0] if series else track.timestamps,
                        **kwargs,
                    )
                )
            video = pynwb.image.ImageSeries(
                name="video",
                description=f"input video {track.video}, sha256 {prov.input_sha256}",
                external_file=[track.video],
                format="external",
                starting_frame=[0],
                timestamps=series[0],
                device=camera,
            )
            nwb.add_acquisition(video)
            pe = ndx_pose.PoseEstimation(
                name="PoseEstimation",
                pose_estimation_series=series,
                description=(
                    f"model {prov.model_name} sha256 {prov.model_sha256}; "
                    f"video {track.video} sha256 {prov.input_sha256}; track {track.track_id}"
                ),
                source_video=video,
                device=camera,
                scorer=prov.model_name,
                source_software="NeuroPose",
                source_software_version=__version__,
                skeleton=skeleton,
            )
            behavior = nwb.create_processing_module("behavior", "NeuroPose pose estimation")
            behavior.add(ndx_pose.Skeletons(skeletons=[skeleton]))
            behavior.add(pe)
            with pynwb.NWBHDF5IO(str(path), mode="w") as io:
                io.write(nwb)

        return [library_output(f"{track.stem}.nwb", write, rec)]


register(NwbWriter())
