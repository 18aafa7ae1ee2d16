"""Streamed, resumable, verified HTTP downloads and safe tar extraction.

Partial downloads live in ``<model_cache_dir>/.downloads/<file>.part`` and
are resumed with an HTTP ``Range`` request (a server answering ``200``
instead of ``206`` restarts the file cleanly). A download is accepted only
when its size equals the server's announced length and its sha256 equals the
expected one; a sha256 mismatch deletes the partial file, a short read keeps
it for the next attempt. Callers hold the model's fetch lock, so one
``.part`` file has one writer.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import tarfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path, PurePosixPath

from neuropose.models.errors import ModelFetchError, ModelIntegrityError

__all__ = ["download", "safe_extract_tar"]

logger = logging.getLogger(__name__)

_CHUNK = 1 << 20
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")


def _hash_prefix(path: Path) -> hashlib._Hash:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest


def _attempt(
    url: str,
    part: Path,
    progress: Callable[[int, int | None], None] | None,
    timeout: float,
) -> tuple[hashlib._Hash, int, int | None]:
    """One HTTP request appending to ``part``; returns (hash, bytes on disk, total or None)."""
    offset = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"User-Agent": "neuropose"})
    if offset:
        request.add_header("Range", f"bytes={offset}-")
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and offset:
            # Requested range not satisfiable: the part file is complete (or bogus).
            return _hash_prefix(part), offset, offset
        raise ModelFetchError(f"{url}: HTTP {exc.code} {exc.reason}") from exc
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ModelFetchError(f"cannot reach {url}: {reason}") from exc
    with response:
        total: int | None = None
        if response.status == 206:
            m = _CONTENT_RANGE.match(response.headers.get("Content-Range", ""))
            if not m or int(m.group(1)) != offset:
                raise ModelFetchError(f"{url}: server sent an unexpected Content-Range")
            total = int(m.group(3)) if m.group(3) != "*" else None
            digest = _hash_prefix(part)
            mode = "ab"
            done = offset
        else:
            if offset:
                logger.info("server ignored the Range request; restarting %s", part.name)
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            digest = hashlib.sha256()
            mode = "wb"
            done = 0
        with part.open(mode) as out:
            while True:
                try:
                    chunk = response.read1(_CHUNK)  # what has arrived, up to 1 MiB
                except (OSError, ValueError) as exc:  # connection reset, IncompleteRead, timeout
                    logger.info("download of %s interrupted at %d bytes: %s", url, done, exc)
                    break
                if not chunk:
                    break
                out.write(chunk)  # a disk error here propagates (not a network hiccup)
                digest.update(chunk)
                done += len(chunk)
                if progress is not None:
                    progress(done, total)
            out.flush()
            os.fsync(out.fileno())
    return digest, done, total


def download(
    url: str,
    downloads_dir: Path,
    *,
    expected_sha256: str | None,
    file_name: str,
    progress: Callable[[int, int | None], None] | None = None,
    attempts: int = 3,
    timeout: float = 60.0,
) -> tuple[Path, str]:
    """Download ``url`` to ``downloads_dir/file_name.part``, resuming, and verify it.

    Parameters
    ----------
    url : str
        HTTP(S) URL.
    downloads_dir : Path
        Directory for partial downloads (created).
    expected_sha256 : str or None
        Required hash; ``None`` only for an explicitly trusted unpinned source.
    file_name : str
        Name of the partial file (stable across runs so a later run resumes).
    progress : callable, optional
        ``progress(bytes_done, bytes_total_or_None)``.
    attempts : int
        Requests made (each resuming the last) before giving up.

    Returns
    -------
    (Path, str)
        The complete file (the caller deletes it after use) and its sha256.

    Raises
    ------
    ModelFetchError
        Unreachable, HTTP error, or still truncated after ``attempts``
        (the partial file is kept: running again resumes).
    ModelIntegrityError
        Complete but the sha256 differs (the partial file is deleted).
    """
    downloads_dir.mkdir(parents=True, exist_ok=True)
    part = downloads_dir / f"{file_name}.part"
    done, total = 0, None
    for attempt in range(1, attempts + 1):
        digest, done, total = _attempt(url, part, progress, timeout)
        if total is None or done >= total:
            break
        logger.info("%s: %d of %d bytes after attempt %d; resuming", url, done, total, attempt)
        time.sleep(min(0.2 * attempt, 1.0))
    else:
        raise ModelFetchError(
            f"download of {url} is truncated: {done} of {total} bytes after {attempts} attempts",
            hint="run the same command again to resume from the partial download",
        )
    if total is not None and done != total:
        part.unlink(missing_ok=True)
        raise ModelIntegrityError(f"{url}: received {done} bytes, server announced {total}")
    actual = digest.hexdigest()
    if expected_sha256 is not None and actual != expected_sha256:
        part.unlink(missing_ok=True)
        raise ModelIntegrityError(
            f"{url}: sha256 {actual} does not match the expected {expected_sha256}; "
            "nothing was installed",
            hint="the server or a proxy delivered different bytes; retry, or check the URL",
        )
    return part, actual


def safe_extract_tar(archive: Path, target: Path) -> list[str]:
    """Extract regular files and directories of ``archive`` into ``target``.

    Refuses (with :class:`ModelFetchError`, before writing anything) archives
    with absolute member names, ``..`` components, links, devices or FIFOs,
    so no member can land outside ``target``.

    Returns
    -------
    list of str
        Extracted member names.
    """
    try:
        with tarfile.open(archive, "r:*") as tar:
            members = tar.getmembers()
            for m in members:
                p = PurePosixPath(m.name)
                if p.is_absolute() or ".." in p.parts or m.name.startswith(("/", "\\")):
                    raise ModelFetchError(
                        f"{archive.name}: refusing member {m.name!r} that escapes the target"
                    )
                if not (m.isfile() or m.isdir()):
                    raise ModelFetchError(
                        f"{archive.name}: refusing member {m.name!r} (links and special "
                        "files are not allowed in model archives)"
                    )
            root = target.resolve()
            for m in members:
                dest = (target / m.name).resolve()
                if dest != root and root not in dest.parents:
                    raise ModelFetchError(f"{archive.name}: member {m.name!r} escapes the target")
                if m.isdir():
                    dest.mkdir(parents=True, exist_ok=True)
                    continue
                dest.parent.mkdir(parents=True, exist_ok=True)
                src = tar.extractfile(m)
                if src is None:  # pragma: no cover - regular files always have data
                    raise ModelFetchError(f"{archive.name}: cannot read member {m.name!r}")
                with src, dest.open("wb") as out:
                    shutil.copyfileobj(src, out, _CHUNK)
            return [m.name for m in members]
    except (tarfile.TarError, EOFError) as exc:
        raise ModelFetchError(f"{archive.name} is not a valid tar archive: {exc}") from exc
