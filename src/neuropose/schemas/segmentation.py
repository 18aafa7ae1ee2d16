"""Named segmentations (repetitions, gait cycles) of the videos of a results file.

``neuropose segment`` writes them to a sidecar beside the results
(:class:`SegmentationFile`, sealed to the results by their SHA-256), never into
the results file itself, whose hash is the provenance of every later
analysis. Segmentations embedded in older results files stay readable.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from neuropose.schemas.base import Document, FrozenModel

__all__ = ["Segment", "Segmentation", "SegmentationFile"]


class Segment(FrozenModel):
    """One segment: frames ``start_frame``..``end_frame`` inclusive.

    Times are the timestamps of those frames, in seconds.

    Attributes
    ----------
    complete : bool
        False for a repetition cut by the start or end of the recording.
    prominence : float or None
        Peak height above the higher of the two bounding valleys, in the
        signal's unit.
    peak_frame : int or None
        Frame of the repetition's extremum.
    duration_ratio : float or None
        Duration divided by the median duration of the complete segments
        (1.0 = perfectly regular).
    """

    start_frame: int = Field(ge=0)
    end_frame: int = Field(ge=0)
    start_s: float
    end_s: float
    complete: bool = True
    prominence: float | None = None
    peak_frame: int | None = None
    duration_ratio: float | None = None


class Segmentation(FrozenModel):
    """A named segmentation and how it was made.

    Attributes
    ----------
    method : str
        Algorithm name, e.g. ``"valley_to_valley"``.
    signal : dict
        The signal definition it ran on.
    parameters : dict
        Every parameter of the method.
    segments : list of Segment
        The segments found, in time order.
    created_at : str
        ISO-8601 UTC time of creation.
    neuropose_version : str
        Version that made it.
    """

    method: str
    signal: dict[str, Any]
    parameters: dict[str, Any] = Field(default_factory=dict)
    segments: tuple[Segment, ...] = ()
    created_at: str
    neuropose_version: str


class SegmentationFile(Document):
    """The segmentations sidecar of one results file (``<results>.segmentations.json``).

    Attributes
    ----------
    results_file : str
        File name of the results these segmentations belong to.
    results_sha256 : str
        SHA-256 of that file's bytes when the segmentations were made; a
        reader ignores the sidecar (with a warning) when the results changed.
    videos : dict of str to dict of str to Segmentation
        Per video name, the named segmentations.
    """

    results_file: str
    results_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    videos: dict[str, dict[str, Segmentation]] = Field(default_factory=dict)
