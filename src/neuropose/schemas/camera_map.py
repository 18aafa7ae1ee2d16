"""``cameras.toml``: which camera filmed each video of a multi-view job, and offsets.

A multi-view job folder (videos + one calibration file) may hold this file
when the video names do not contain the camera names, or when a view's time
offset is known::

    sync_search = 10     # optional: estimate residual offsets within +-10 frames (0: off)

    [cameras]            # video (file name or stem) = camera name in the calibration
    "front.mp4" = "cam_1"
    side = "cam_2"

    [offsets]            # camera = frames; that view's frame f+K is the reference's frame f
    cam_2 = 3

(TOML: top-level keys such as ``sync_search`` come before the first table.)

>>> CameraMapFile.model_validate({"cameras": {"side": "cam_2"}}).offsets
{}
"""

from __future__ import annotations

from pydantic import Field

from neuropose.schemas.base import FrozenModel

__all__ = ["CameraMapFile"]


class CameraMapFile(FrozenModel):
    """The parsed ``cameras.toml`` of a multi-view job.

    Attributes
    ----------
    cameras : dict of str -> str
        Video file name (or stem) -> camera name in the calibration.
    offsets : dict of str -> int
        Camera name -> offset in frames (see :mod:`neuropose.multiview.sync`).
    sync_search : int
        Half-width (frames) of the residual offset search; 0 disables it.
    """

    cameras: dict[str, str] = Field(default_factory=dict)
    offsets: dict[str, int] = Field(default_factory=dict)
    sync_search: int = Field(default=0, ge=0, le=600)
