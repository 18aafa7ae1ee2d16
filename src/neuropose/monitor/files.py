"""Serving a job's output files: confinement, content types and HTTP byte ranges.

Only files inside a job's own output folders are served (``out/<job>/``,
``out/<job>/visualize/``, ``out/<job>/export/``; see :func:`open_job_file`),
found by *resolved* path, so a symlink pointing outside the job's folder
answers 404 like a missing file. The content type comes from the file's
extension (:data:`CONTENT_TYPES`) and from nothing else; other extensions are
not served. Ranges follow RFC 9110 section 14 for a single range
(:func:`parse_range`): a video player seeks with ``Range: bytes=N-``.

Examples
--------
>>> parse_range("bytes=0-99", 1000)
ByteRange(start=0, stop=100)
>>> parse_range("bytes=-100", 1000), parse_range("bytes=900-", 1000)
(ByteRange(start=900, stop=1000), ByteRange(start=900, stop=1000))
>>> parse_range("items=0-1", 1000) is None  # another unit: ignored, whole file
True
"""

from __future__ import annotations

import email.utils
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote

__all__ = [
    "ATTACHMENT_SUFFIXES",
    "CONTENT_TYPES",
    "ByteRange",
    "OpenFile",
    "RangeNotSatisfiable",
    "answer_range",
    "content_disposition",
    "content_type_for",
    "etag",
    "open_job_file",
    "parse_range",
]

#: Content type by (lower-case) extension; files with other extensions are never served.
CONTENT_TYPES: dict[str, str] = {
    ".mp4": "video/mp4",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".json": "application/json",
    ".html": "text/html; charset=utf-8",
    ".csv": "text/csv; charset=utf-8",
    ".tsv": "text/tab-separated-values; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".trc": "text/plain; charset=utf-8",
    ".mot": "text/plain; charset=utf-8",
    ".sto": "text/plain; charset=utf-8",
    ".osim": "application/xml",
    ".xml": "application/xml",
    ".c3d": "application/octet-stream",
    ".nwb": "application/x-hdf5",
    ".parquet": "application/vnd.apache.parquet",
    ".npz": "application/octet-stream",
}

#: Extensions sent with ``Content-Disposition: attachment`` (downloaded, never
#: rendered as a document of the monitor's origin). Videos and PNGs are shown inline.
ATTACHMENT_SUFFIXES = frozenset(CONTENT_TYPES) - {".mp4", ".png"}

_RANGE = re.compile(r"^\s*(\d*)\s*-\s*(\d*)\s*$")


class RangeNotSatisfiable(Exception):
    """The ``Range`` header asks for bytes the file does not have, or is malformed.

    ``reason`` says which, for the 416 answer's body.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ByteRange:
    """Bytes ``start`` (inclusive) to ``stop`` (exclusive) of a file."""

    start: int
    stop: int

    @property
    def length(self) -> int:
        """Number of bytes."""
        return self.stop - self.start

    def content_range(self, size: int) -> str:
        """The ``Content-Range`` value, e.g. ``bytes 0-99/1000``."""
        return f"bytes {self.start}-{self.stop - 1}/{size}"


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The single byte range a ``Range`` header asks for, or ``None`` for the whole file.

    Parameters
    ----------
    header : str or None
        The ``Range`` header's value.
    size : int
        The file's size, bytes.

    Returns
    -------
    ByteRange or None
        ``None`` when there is no header or its unit is not ``bytes`` (RFC
        9110: such a header is ignored). A last position beyond the end is
        clamped to the end; a suffix ``-N`` longer than the file means the
        whole file (as a 206).

    Raises
    ------
    RangeNotSatisfiable
        Several ranges (not supported: request one), a malformed range
        (``bytes=5-2``, ``bytes=x-``), a first position at or after the end,
        a zero-length suffix, or any range of an empty file.

    Examples
    --------
    >>> parse_range("bytes=990-5000", 1000)
    ByteRange(start=990, stop=1000)
    >>> parse_range("bytes=-5000", 1000)
    ByteRange(start=0, stop=1000)
    >>> try:
    ...     parse_range("bytes=1000-", 1000)
    ... except RangeNotSatisfiable as exc:
    ...     print(exc.reason)
    the range starts at byte 1000 but the file has 1000 bytes (0-999)
    """
    if header is None:
        return None
    unit, sep, spec = header.partition("=")
    if not sep or unit.strip().lower() != "bytes":
        return None
    if "," in spec:
        raise RangeNotSatisfiable(
            "multiple ranges in one request are not supported; request one range"
        )
    m = _RANGE.match(spec)
    if m is None or (not m.group(1) and not m.group(2)):
        raise RangeNotSatisfiable(f"malformed range {spec.strip()[:60]!r}")
    first, last = m.group(1), m.group(2)
    if size == 0:
        raise RangeNotSatisfiable("the file is empty")
    if not first:  # suffix: the last N bytes
        n = int(last)
        if n == 0:
            raise RangeNotSatisfiable("a suffix range of 0 bytes is empty")
        return ByteRange(max(0, size - n), size)
    start = int(first)
    if last and int(last) < start:
        raise RangeNotSatisfiable(f"malformed range {spec.strip()[:60]!r} (end before start)")
    if start >= size:
        raise RangeNotSatisfiable(
            f"the range starts at byte {start} but the file has {size} bytes (0-{size - 1})"
        )
    stop = size if not last else min(size, int(last) + 1)
    return ByteRange(start, stop)


def content_type_for(name: str) -> str | None:
    """The content type served for a file name, or ``None`` when it is never served.

    >>> content_type_for("cam01.overlay.mp4"), content_type_for("x.exe") is None
    ('video/mp4', True)
    """
    return CONTENT_TYPES.get(os.path.splitext(name)[1].lower())


def content_disposition(name: str) -> str | None:
    """``attachment; filename=...`` for downloads (RFC 6266 with a UTF-8 form), else ``None``.

    >>> content_disposition("results.json")
    'attachment; filename="results.json"; filename*=UTF-8\\'\\'results.json'
    >>> content_disposition("cam01.overlay.mp4") is None
    True
    """
    if os.path.splitext(name)[1].lower() not in ATTACHMENT_SUFFIXES:
        return None
    ascii_name = "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "_" for c in name)
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


def etag(st: os.stat_result) -> str:
    """A strong validator of one version of a file (inode, size, mtime in ns).

    The daemon and ``neuropose visualize`` replace files by rename, so a new
    version always has a new inode or mtime.
    """
    return f'"{st.st_ino:x}-{st.st_size:x}-{st.st_mtime_ns:x}"'


@dataclass
class OpenFile:
    """A served file, open for reading; close it with :meth:`close`."""

    file: BinaryIO
    name: str
    size: int
    etag: str
    mtime: float
    content_type: str

    def close(self) -> None:
        """Close the file."""
        self.file.close()


def _inside(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
    except ValueError:
        return False
    return True


def open_job_file(job_dir: Path, folder: str | None, name: str) -> OpenFile | None:
    """Open ``job_dir/[folder/]name`` when it may be served, else ``None``.

    Parameters
    ----------
    job_dir : Path
        ``out/<job>`` (built from a status-file job name, never from a URL).
    folder : str or None
        A sub-folder of the job (the caller allows only known names) or
        ``None`` for the job folder itself.
    name : str
        A plain file name from the URL: one path component, no leading dot.

    Returns
    -------
    OpenFile or None
        ``None`` (answer 404) when the name is not plain, its extension has no
        content type, the file does not exist, is not a regular file, or its
        resolved path lies outside the resolved ``job_dir`` (a symlink
        escape). The file is opened by its resolved path without following
        a last-component symlink, and checked again with ``fstat``.
    """
    if not name or name.startswith(".") or "/" in name or "\\" in name or "\x00" in name:
        return None
    ctype = content_type_for(name)
    if ctype is None:
        return None
    try:
        root = job_dir.resolve(strict=True)
        path = (job_dir / folder / name if folder else job_dir / name).resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    if not _inside(path, root):
        return None
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            os.close(fd)
            return None
        fh = os.fdopen(fd, "rb")
    except OSError:
        os.close(fd)
        return None
    return OpenFile(fh, name, st.st_size, etag(st), st.st_mtime, ctype)


def answer_range(
    handle: OpenFile, range_header: str | None, if_range: str | None
) -> tuple[int, dict[str, str], tuple[int, int]] | RangeNotSatisfiable:
    """Status (200/206), headers and byte span of the answer for ``handle``, or why it is 416.

    Headers: ``Accept-Ranges``, ``ETag``, ``Last-Modified``, ``Content-Range``
    (206) and ``Content-Disposition`` (downloads). An ``If-Range`` naming
    another version of the file (neither its ETag nor its Last-Modified)
    gets the whole file.
    """
    modified = email.utils.formatdate(handle.mtime, usegmt=True)
    headers = {"Accept-Ranges": "bytes", "ETag": handle.etag, "Last-Modified": modified}
    disposition = content_disposition(handle.name)
    if disposition is not None:
        headers["Content-Disposition"] = disposition
    if if_range is not None and if_range.strip() not in (handle.etag, modified):
        range_header = None  # the client's copy is of another version: send it all
    try:
        span = parse_range(range_header, handle.size)
    except RangeNotSatisfiable as exc:
        return exc
    if span is None:
        return 200, headers, (0, handle.size)
    headers["Content-Range"] = span.content_range(handle.size)
    return 206, headers, (span.start, span.stop)
