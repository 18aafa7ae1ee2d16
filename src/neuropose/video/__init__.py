"""Input and output media: which files are inputs, reading frames, writing MP4s.

=====================================  ==============================================
module                                 what
=====================================  ==============================================
:mod:`neuropose.video.suffixes`        ``VIDEO_SUFFIXES``, ``IMAGE_SUFFIXES``,
                                       ``INPUT_SUFFIXES``
:mod:`neuropose.video.reader`          :func:`~neuropose.video.reader.probe_video`,
                                       :func:`~neuropose.video.reader.count_frames`,
                                       :class:`~neuropose.video.reader.FrameReader`
                                       (upright RGB frames, container timestamps,
                                       short-read detection)
:mod:`neuropose.video.tags`            :func:`~neuropose.video.tags.read_focal_tag`
                                       (35 mm equivalent focal length from MP4/QuickTime
                                       metadata atoms or EXIF)
:mod:`neuropose.video.writer`          :class:`~neuropose.video.writer.VideoWriter`
                                       (atomic H.264 MP4 through ffmpeg)
:mod:`neuropose.video.errors`          :class:`~neuropose.video.errors.VideoError`
                                       and its subclasses, ``NoVideosError``
:mod:`neuropose.video.container`       :func:`~neuropose.video.container.scan_file`
                                       (is an MP4/MOV/AVI complete? box headers only)
=====================================  ==============================================

Importing this package (or ``suffixes`` / ``errors``) does not import OpenCV;
``reader`` and ``writer`` do, so import them from their modules where needed.

>>> from neuropose.video import INPUT_SUFFIXES, VideoError
>>> ".mov" in INPUT_SUFFIXES, VideoError("x").exit_code
(True, 2)
"""

from neuropose.video.errors import (
    NoFramesError,
    NoVideosError,
    ShortReadError,
    VideoError,
    VideoNotFoundError,
    VideoUnreadableError,
)
from neuropose.video.suffixes import IMAGE_SUFFIXES, INPUT_SUFFIXES, VIDEO_SUFFIXES

__all__ = [
    "IMAGE_SUFFIXES",
    "INPUT_SUFFIXES",
    "VIDEO_SUFFIXES",
    "NoFramesError",
    "NoVideosError",
    "ShortReadError",
    "VideoError",
    "VideoNotFoundError",
    "VideoUnreadableError",
]
