"""Is a video file complete? A structural check of its container, without decoding.

A video cut short in transfer fails much later in the daemon
(:class:`~neuropose.estimator.ShortReadError`, or "no frame could be
decoded"). Its container already tells at ingest, from the box or chunk
headers alone (a few reads per file, no codec):

* ISO base media (``.mp4 .mov .m4v``; first box ``ftyp``): no top-level box
  may run past the end of the file (``mdat`` or ``moov`` cut short), and a
  ``moov`` box (the movie header, written last by most cameras) must be
  present, else no frame can be located.
* RIFF (``.avi``; ``RIFF....AVI``): the RIFF size must not exceed the file.

Files in any other format, or that do not start like one of these
containers, are not judged here (``None``): the daemon reports them.

>>> import io
>>> box = lambda kind, body: (8 + len(body)).to_bytes(4, "big") + kind + body
>>> good = box(b"ftyp", b"isom") + box(b"mdat", bytes(100)) + box(b"moov", bytes(20))
>>> scan_file(io.BytesIO(good), len(good)) is None
True
>>> print(scan_file(io.BytesIO(good[:60]), 60))
the 'mdat' box at byte 12 ends at byte 120, past the end of the file (60 bytes): it is truncated
"""

from __future__ import annotations

import io
from typing import IO

__all__ = ["TRUNCATED_HINT", "ContainerScan", "scan_file"]

#: What to do about a video refused as truncated or undecodable.
TRUNCATED_HINT = (
    "nothing was written; copy the complete file again from its source (a recording that "
    "was never finalised cannot be repaired here). To pose-estimate the frames that do "
    "decode, run `neuropose process FILE --allow-short-read` on it directly"
)

_Box = tuple[bytes, int, int]  # (type, start, end); end -1: "extends to the end of the file"


class ContainerScan:
    """Follows a file's top-level structure as its bytes stream past, in order.

    Feed every byte with :meth:`feed` (chunks of any size), then call
    :meth:`verdict`. Used while extracting archive members, whose data can
    only be read once, in order; :func:`scan_file` does the same on a
    seekable file reading only the headers.
    """

    def __init__(self) -> None:
        self._prefix = b""
        self._kind: str | None = None  # "iso", "riff" or "other"
        self._pos = 0  # bytes seen so far
        self._next = 0  # offset of the next top-level box header
        self._buf = b""  # bytes of that header seen so far (at most 16)
        self._boxes: list[_Box] = []

    def feed(self, chunk: bytes) -> None:
        """Account for the next ``chunk`` of the file."""
        if self._kind is None:  # hold the first bytes until the format is known
            self._prefix += chunk
            if len(self._prefix) < 12:
                return
            self._kind = _kind_of(self._prefix)
            chunk, self._prefix = self._prefix, self._prefix[:16]
        start = self._pos
        self._pos += len(chunk)
        if self._kind != "iso" or self._next >= self._pos:
            return
        rel = self._next - start
        self._buf = chunk[rel : rel + 16] if rel >= 0 else self._buf + chunk[: 16 - len(self._buf)]
        while len(self._buf) >= 8:
            box = _parse_box(self._buf, self._next)
            if box is None:  # a 64-bit size whose second half is in the next chunk
                return
            self._boxes.append(box)
            if box[2] < 0 or box[2] <= self._next:  # to the end, or an impossible size
                self._next = 1 << 62
                return
            self._next = box[2]
            if self._next >= self._pos:
                self._buf = b""
                return
            rel = self._next - start
            self._buf = chunk[rel : rel + 16]

    def verdict(self) -> str | None:
        """Why the file is incomplete or undecodable, or ``None`` (complete or not judged)."""
        if self._kind is None:  # fewer than 12 bytes in all
            return scan_file(io.BytesIO(self._prefix), len(self._prefix))
        return _verdict(self._kind, self._prefix, self._boxes, self._pos)


def scan_file(reader: IO[bytes], size: int) -> str | None:
    """:meth:`ContainerScan.verdict` of a seekable file of ``size`` bytes, reading headers only."""
    reader.seek(0)
    prefix = reader.read(16)
    kind = _kind_of(prefix)
    boxes: list[_Box] = []
    at = 0
    while kind == "iso" and 0 <= at < size:
        reader.seek(at)
        box = _parse_box(reader.read(16), at)
        if box is None:
            break
        boxes.append(box)
        at = box[2] if box[2] > at else -1
    return _verdict(kind, prefix, boxes, size)


def _verdict(kind: str, prefix: bytes, boxes: list[_Box], total: int) -> str | None:
    if kind == "riff":
        declared = 8 + int.from_bytes(prefix[4:8], "little")
        if declared > total:
            return (
                f"its RIFF header declares {declared} bytes but the file has {total}: "
                "it is truncated"
            )
        return None
    if kind != "iso":
        return None
    for box_type, begin, end in boxes:
        if end > total or (0 <= end <= begin):
            return (
                f"the {box_type.decode('latin-1')!r} box at byte {begin} ends at byte {end}, "
                f"past the end of the file ({total} bytes): it is truncated"
            )
    last_end = boxes[-1][2] if boxes else 0
    if 0 <= last_end < total and total - last_end < 8:
        return f"a box header at byte {last_end} is cut off: it is truncated"
    if not any(box_type == b"moov" for box_type, _, _ in boxes):
        return (
            "it has no 'moov' box (movie header), so no frame can be located: "
            "the recording was not finalised or the file is truncated"
        )
    return None


def _kind_of(prefix: bytes) -> str:
    if prefix[4:8] == b"ftyp":
        return "iso"
    if prefix[:4] == b"RIFF" and prefix[8:12] == b"AVI ":
        return "riff"
    return "other"


def _parse_box(head: bytes, at: int) -> _Box | None:
    """The box whose header starts ``head`` (at file offset ``at``); ``None`` if cut off."""
    if len(head) < 8:
        return None
    size = int.from_bytes(head[:4], "big")
    header = 8
    if size == 1:
        if len(head) < 16:
            return None
        size, header = int.from_bytes(head[8:16], "big"), 16
    if size == 0:
        return (head[4:8], at, -1)
    return (head[4:8], at, at + size if size >= header else at)
