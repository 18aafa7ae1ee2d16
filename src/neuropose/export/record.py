"""The export record written beside the exports (``<stem>.export.json``)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from neuropose.schemas.base import Document, FrozenModel

__all__ = ["ExportRecord", "ExportedFile", "OpenSimRecord"]


class ExportedFile(FrozenModel):
    """One file written by an export.

    Attributes
    ----------
    format : str
        Writer name (``trc``, ``nwb``...).
    file : str
        File name inside the export directory.
    sha256 : str
        SHA-256 of the file's bytes.
    details : dict
        Units, axes, markers, gap policy results... (per format).
    """

    format: str
    file: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    details: dict[str, Any] = Field(default_factory=dict)


class ExportRecord(Document):
    """Provenance of the exports of one video: source, options and every file.

    Attributes
    ----------
    created_at : str
        ISO-8601 UTC time of the export.
    neuropose_version : str
        Version that wrote the exports.
    source : dict
        Job, video, track, model and input hashes (:meth:`PoseTrack.describe`).
    options : dict
        :meth:`ExportOptions.record`.
    files : list of ExportedFile
        In the order written.
    """

    created_at: str
    neuropose_version: str
    source: dict[str, Any]
    options: dict[str, Any]
    files: tuple[ExportedFile, ...]


class OpenSimRecord(Document):
    """``opensim.json``: provenance and summary of one scaling + IK run.

    Attributes
    ----------
    created_at, neuropose_version, opensim_version : str
        When and with what.
    source : dict
        Job, video, track, model and input hashes.
    options : dict
        Height, mass, locked coordinates, scaling time range, gap policy.
    setup_files : dict
        Where Pose2Sim's setup files came from and the SHA-256 of each.
    markers : dict
        The marker frame transform and gap-policy record.
    frames : list of int
        Half-open frame range of the results that IK ran on.
    summary : dict
        Marker RMS (median and max over frames, mm), mean error per marker,
        given vs estimated height, RMS difference between IK knee angles and
        NeuroPose's 3-point knee flexion (degrees).
    coordinates : dict
        Per IK coordinate: min, max, unit, locked, fraction of frames at a
        range limit.
    files : dict
        SHA-256 of every output file (except this record).
    """

    created_at: str
    neuropose_version: str
    opensim_version: str
    source: dict[str, Any]
    options: dict[str, Any]
    setup_files: dict[str, Any]
    markers: dict[str, Any]
    frames: list[int]
    summary: dict[str, Any]
    coordinates: dict[str, dict[str, Any]]
    files: dict[str, str]
