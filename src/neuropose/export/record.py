"""The export record written beside the exports (``<stem>.export.json``).

:class:`OpenSimRecord` lives in :mod:`neuropose.schemas.opensim` (the analyzer and
the quality report read it too) and is re-exported here.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from neuropose.schemas.base import Document, FrozenModel
from neuropose.schemas.opensim import OpenSimRecord

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
