"""The focal length a container declares: QuickTime/MP4 metadata or image EXIF.

OpenCV, the stack's only video reader, exposes no container tags, and PyAV is
not a dependency, so the few MP4/QuickTime atoms needed are read here:
``moov/meta`` (and ``moov/udta/meta``) with handler ``mdta``, its ``keys``
list and the ``ilst`` item whose key is
``com.apple.quicktime.camera.focal_length.35mm_equivalent`` (phones write
it). Still images: the EXIF tag ``FocalLengthIn35mmFilm`` (0xA405), read with
Pillow. Only the header atoms are read (``mdat`` is skipped by seeking); a
``moov`` larger than :data:`MAX_MOOV_BYTES` is not parsed.

A 35 mm equivalent focal length ``f35`` gives the same diagonal angle of view
as on a 36 × 24 mm frame (CIPA DC-004), so the focal length in pixels of a
``w × h`` frame is ``f35 · hypot(w, h) / hypot(36, 24)``
(:func:`focal_px_from_35mm`).

Examples
--------
>>> round(focal_px_from_35mm(26.0, 1920, 1080), 1)
1323.8
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from pathlib import Path

from neuropose.video.suffixes import IMAGE_SUFFIXES

__all__ = [
    "FOCAL_35MM_KEY",
    "MAX_MOOV_BYTES",
    "FocalTag",
    "focal_px_from_35mm",
    "read_focal_tag",
]

#: QuickTime metadata key of the 35 mm equivalent focal length (mm).
FOCAL_35MM_KEY = "com.apple.quicktime.camera.focal_length.35mm_equivalent"
#: EXIF FocalLengthIn35mmFilm tag, in the Exif sub-IFD (0x8769).
_EXIF_FOCAL_35MM, _EXIF_IFD = 0xA405, 0x8769
#: A ``moov`` atom larger than this is not parsed (metadata never needs more).
MAX_MOOV_BYTES = 64 * 1024 * 1024
_FULL_FRAME_DIAGONAL_MM = math.hypot(36.0, 24.0)


@dataclass(frozen=True)
class FocalTag:
    """A focal length read from a file's metadata.

    Attributes
    ----------
    focal_35mm : float
        35 mm equivalent focal length (mm).
    tag : str
        Which tag it came from (the QuickTime key or ``EXIF FocalLengthIn35mmFilm``).
    """

    focal_35mm: float
    tag: str


def focal_px_from_35mm(focal_35mm: float, width: int, height: int) -> float:
    """Focal length in pixels of a ``width × height`` frame with this 35 mm equivalent."""
    return focal_35mm * math.hypot(width, height) / _FULL_FRAME_DIAGONAL_MM


def read_focal_tag(path: str | Path) -> FocalTag | None:
    """The 35 mm equivalent focal length ``path`` declares, or None.

    Never raises for a file without the tag, a truncated or foreign
    container, or an unreadable EXIF block: those give None (the caller
    falls back to the configured field of view).
    """
    p = Path(path)
    try:
        if p.suffix.lower() in IMAGE_SUFFIXES:
            return _exif_focal(p)
        return _mp4_focal(p)
    except (OSError, ValueError, struct.error):
        return None


def _exif_focal(path: Path) -> FocalTag | None:
    from PIL import Image  # Pillow: only to read an image's EXIF

    with Image.open(path) as img:
        value = img.getexif().get_ifd(_EXIF_IFD).get(_EXIF_FOCAL_35MM)
    if isinstance(value, int | float) and value > 0:
        return FocalTag(float(value), "EXIF FocalLengthIn35mmFilm")
    return None


def _boxes(buf: bytes, start: int, end: int) -> list[tuple[bytes, int, int]]:
    """(type, payload start, payload end) of the boxes in ``buf[start:end]``."""
    out = []
    pos = start
    while pos + 8 <= end:
        size, kind = struct.unpack_from(">I4s", buf, pos)
        head = 8
        if size == 1:
            size = struct.unpack_from(">Q", buf, pos + 8)[0]
            head = 16
        elif size == 0:
            size = end - pos
        if size < head or pos + size > end:
            break
        out.append((kind, pos + head, pos + size))
        pos += size
    return out


def _read_moov(path: Path) -> bytes | None:
    with path.open("rb") as fh:
        while True:
            head = fh.read(8)
            if len(head) < 8:
                return None
            size, kind = struct.unpack(">I4s", head)
            hlen = 8
            if size == 1:
                size = struct.unpack(">Q", fh.read(8))[0]
                hlen = 16
            if kind == b"moov":
                if size == 0 or size - hlen > MAX_MOOV_BYTES:
                    return None
                return fh.read(size - hlen)
            if size == 0 or size < hlen:
                return None
            fh.seek(size - hlen, 1)


def _mp4_focal(path: Path) -> FocalTag | None:
    moov = _read_moov(path)
    if moov is None:
        return None
    metas = [b for b in _boxes(moov, 0, len(moov)) if b[0] == b"meta"]
    for kind, a, b in _boxes(moov, 0, len(moov)):
        if kind == b"udta":
            metas += [x for x in _boxes(moov, a, b) if x[0] == b"meta"]
    for _, a, b in metas:
        # QuickTime's meta has no version/flags, ISO's does: the first child is 'hdlr'
        if moov[a + 4 : a + 8] != b"hdlr":
            a += 4
        value = _focal_in_meta(moov, a, b)
        if value is not None:
            return FocalTag(value, FOCAL_35MM_KEY)
    return None


def _focal_in_meta(buf: bytes, start: int, end: int) -> float | None:
    children = _boxes(buf, start, end)
    keys: dict[int, str] = {}
    for kind, a, _b in children:
        if kind == b"keys":
            (count,) = struct.unpack_from(">I", buf, a + 4)
            pos = a + 8
            for i in range(1, count + 1):
                (size,) = struct.unpack_from(">I", buf, pos)
                keys[i] = buf[pos + 8 : pos + size].decode("utf-8", "replace")
                pos += size
    want = [i for i, k in keys.items() if k == FOCAL_35MM_KEY]
    for kind, a, b in children:
        if kind != b"ilst" or not want:
            continue
        for item, ia, ib in _boxes(buf, a, b):
            if int.from_bytes(item, "big") not in want:
                continue
            for dkind, da, db in _boxes(buf, ia, ib):
                if dkind == b"data":
                    value = _data_value(buf[da:db])
                    if value is not None and value > 0:
                        return value
    return None


def _data_value(payload: bytes) -> float | None:
    """The number in a QuickTime ``data`` atom (type, locale, value)."""
    dtype = int.from_bytes(payload[1:4], "big")
    raw = payload[8:]
    if dtype == 1:  # UTF-8 text
        try:
            return float(raw.decode("utf-8").strip())
        except ValueError:
            return None
    if dtype in (21, 22) and len(raw) in (1, 2, 4, 8):  # big-endian signed / unsigned int
        return float(int.from_bytes(raw, "big", signed=dtype == 21))
    if dtype == 23 and len(raw) == 4:
        return float(struct.unpack(">f", raw)[0])
    if dtype == 24 and len(raw) == 8:
        return float(struct.unpack(">d", raw)[0])
    return None
