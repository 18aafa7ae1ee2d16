"""Metadata of a decoded video."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from neuropose.schemas.base import FrozenModel

__all__ = ["VideoMetadata"]


class VideoMetadata(FrozenModel):
    """What the decoder saw, recorded with every prediction.

    Attributes
    ----------
    width, height : int
        Frame size in pixels as fed to the model, i.e. after rotation.
    rotation_degrees : int
        Clockwise rotation applied to make frames upright (0, 90, 180, 270).
    codec : str
        FourCC or codec name reported by the container ("" for images).
    declared_frame_count : int or None
        Frame count the container declares (None when unknown).
    decoded_frame_count : int
        Frames actually decoded.
    fps_reported : float or None
        Nominal frame rate from the container.
    timestamp_source : {"container", "fps_fallback", "image"}
        Where per-frame timestamps came from: container presentation times,
        ``index / fps`` when the container gives none, or a still image.
    duration_s : float
        Time from the first to the last decoded frame plus one nominal frame
        interval, in seconds.
    variable_frame_rate : bool
        True when frame intervals vary by more than 10 % of the median.
    short_read : bool
        True when fewer frames decoded than the container declared.
    """

    width: int = Field(gt=0)
    height: int = Field(gt=0)
    rotation_degrees: Literal[0, 90, 180, 270] = 0
    codec: str = ""
    declared_frame_count: int | None = Field(default=None, ge=0)
    decoded_frame_count: int = Field(ge=0)
    fps_reported: float | None = Field(default=None, ge=0)
    timestamp_source: Literal["container", "fps_fallback", "image"] = "container"
    duration_s: float = Field(ge=0)
    variable_frame_rate: bool = False
    short_read: bool = False
