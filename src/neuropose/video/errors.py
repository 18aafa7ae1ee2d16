"""Errors about input media, each a subclass of an :mod:`neuropose.errors` category.

=============================  ==========  ====
class                          category    exit
=============================  ==========  ====
:class:`VideoNotFoundError`    InputError  2
:class:`VideoUnreadableError`  InputError  2
:class:`NoFramesError`         InputError  2
:class:`ShortReadError`        InputError  2
:class:`NoVideosError`         InputError  2
=============================  ==========  ====
"""

from __future__ import annotations

from neuropose.errors import InputError

__all__ = [
    "NoFramesError",
    "NoVideosError",
    "ShortReadError",
    "VideoError",
    "VideoNotFoundError",
    "VideoUnreadableError",
]


class VideoError(InputError):
    """Base class of problems with an input video or image."""


class VideoNotFoundError(VideoError):
    """The input file does not exist."""


class VideoUnreadableError(VideoError):
    """The input exists but cannot be read or is not a decodable video/image."""


class NoFramesError(VideoError):
    """The container opened but not a single frame decoded."""


class ShortReadError(VideoError):
    """Fewer frames decoded than the container declares (truncated or corrupt file).

    Attributes
    ----------
    declared, decoded : int
        Frame counts declared by the container and actually decoded.
    """

    def __init__(self, message: str, *, declared: int, decoded: int, hint: str | None = None):
        super().__init__(message, hint=hint)
        self.declared = declared
        self.decoded = decoded


class NoVideosError(InputError):
    """An ingest input or a job directory holds no file with a video (or image) extension.

    Raised by ingest before anything is written and by the daemon for a job
    directory without inputs; the extensions are those of
    :mod:`neuropose.video.suffixes`.
    """
