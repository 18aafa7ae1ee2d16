"""Which files NeuroPose treats as inputs, by extension (lower case, with the dot).

One definition shared by ingest (which stages videos), the daemon (which
processes videos and still images found in a job) and the frame reader
(which decodes images as one-frame inputs). Whether a file really decodes
is decided by :class:`~neuropose.video.reader.FrameReader`, which raises a
typed error naming it.

>>> from neuropose.video.suffixes import INPUT_SUFFIXES
>>> ".mp4" in INPUT_SUFFIXES, ".png" in INPUT_SUFFIXES, ".txt" in INPUT_SUFFIXES
(True, True, False)
"""

from __future__ import annotations

__all__ = ["IMAGE_SUFFIXES", "INPUT_SUFFIXES", "VIDEO_SUFFIXES"]

#: Video containers.
VIDEO_SUFFIXES = frozenset(
    {".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".wmv", ".mts"}
)
#: Still images, processed as one-frame inputs.
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"})
#: Everything the daemon processes in a job directory.
INPUT_SUFFIXES = VIDEO_SUFFIXES | IMAGE_SUFFIXES
