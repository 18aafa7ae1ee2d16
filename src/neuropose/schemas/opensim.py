"""OpenSim documents: ``opensim.json`` and the header of OpenSim storage files.

``opensim.json`` (:class:`OpenSimRecord`) is written by ``neuropose opensim``
beside the scaled model and the ``.ik.mot``; the analyzer (IK angle source)
and the quality report read it. :class:`StorageHeader` validates the header of
a ``.mot``/``.sto`` file (OpenSim's ``STOFileAdapter`` format).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from neuropose.schemas.base import Document, FrozenModel

__all__ = ["OpenSimRecord", "StorageHeader"]


class StorageHeader(FrozenModel):
    """Header of an OpenSim storage file (``.mot``/``.sto``), validated before the data are read.

    Attributes
    ----------
    name : str
        First line of the file (OpenSim writes ``Coordinates`` for IK output).
    version : int
        ``version=`` line (1 for files written by OpenSim 4).
    n_rows, n_columns : int
        ``nRows=`` / ``nColumns=``: rows of data and columns including ``time``.
    in_degrees : bool
        ``inDegrees=yes|no``: rotational values in degrees (yes) or radians.
    labels : tuple of str
        Column labels; the first is ``time`` (seconds).
    """

    name: str
    version: int = Field(default=1, ge=1)
    n_rows: int = Field(ge=1)
    n_columns: int = Field(ge=2)
    in_degrees: bool
    labels: tuple[str, ...]

    @model_validator(mode="after")
    def _check(self) -> StorageHeader:
        if len(self.labels) != self.n_columns:
            raise ValueError(
                f"nColumns={self.n_columns} but the label line has {len(self.labels)} columns"
            )
        if self.labels[0].lower() != "time":
            raise ValueError(f"first column is {self.labels[0]!r}, expected 'time'")
        if len(set(self.labels)) != len(self.labels):
            raise ValueError("column labels are not unique")
        return self


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
