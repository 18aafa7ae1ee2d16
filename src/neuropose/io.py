"""Atomic, validated reads and writes of every persisted NeuroPose file.

Crash invariants
----------------
1. A reader of ``path`` sees either the complete previous content or the
   complete new content, never a mixture or a truncated file: the new bytes
   go to a uniquely named temporary file in the same directory
   (``.<name>.<random>.tmp``), are flushed and ``fsync``'d, renamed over
   ``path`` (atomic on POSIX within one filesystem) and then the directory is
   ``fsync``'d so the rename itself survives power loss.
2. A failed or interrupted write (exception, ENOSPC, SIGKILL between steps)
   leaves ``path`` untouched. A full disk (``ENOSPC``/``EDQUOT``) raises
   :class:`DiskFullError` (exit code 4). On an exception the temporary file is removed;
   after SIGKILL it can remain, and :func:`remove_stale_temp_files` deletes
   such leftovers (they are recognisable by name and never read).
3. Loaders never treat a corrupt file as empty: they raise
   :class:`~neuropose.errors.InvalidDocumentError` naming the file and the
   first invalid field.

Examples
--------
>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> with atomic_write(d / "hello.txt") as f:
...     _ = f.write(b"hi")
>>> (d / "hello.txt").read_bytes()
b'hi'
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import re
import secrets
import stat
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, TypeVar

from pydantic import BaseModel, ValidationError

from neuropose.errors import InvalidDocumentError, ResourceError

__all__ = [
    "TEMP_FILE_PATTERN",
    "DiskFullError",
    "atomic_write",
    "fit_name",
    "format_validation_error",
    "fsync_directory",
    "load_json",
    "load_model",
    "remove_stale_temp_files",
    "sha256_file",
    "temp_path_for",
    "write_bytes_atomic",
    "write_json_atomic",
    "write_model_atomic",
]

M = TypeVar("M", bound=BaseModel)

_DISK_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT}


class DiskFullError(ResourceError, OSError):
    """A write failed because the filesystem is full or over quota (exit code 4).

    Also an :class:`OSError`, so code that already handles ``OSError`` keeps
    working. The target file is left as it was.
    """


#: Names of temporary files made by :func:`atomic_write`.
TEMP_FILE_PATTERN = re.compile(r"^\..+\.[0-9a-f]{16}\.tmp$")

#: Longest file name (bytes) on Linux filesystems (ext4, xfs, btrfs, tmpfs).
NAME_MAX = 255
# "." + "." + 16 hex + ".tmp" around the (possibly shortened) target name.
_TEMP_OVERHEAD = 1 + 1 + 16 + 4


def temp_path_for(target: Path) -> Path:
    """A fresh, unique temporary path beside ``target`` that always fits ``NAME_MAX``.

    The name is ``.<name>.<16 hex>.tmp``; when ``target``'s name is so long that
    this would pass 255 bytes, ``<name>`` is shortened (on a UTF-8 character
    boundary) so the temporary file can still be created. The result always
    matches :data:`TEMP_FILE_PATTERN`.

    Examples
    --------
    >>> p = temp_path_for(Path("/d") / ("é" * 127 + ".json"))
    >>> len(p.name.encode()) <= NAME_MAX, bool(TEMP_FILE_PATTERN.match(p.name))
    (True, True)
    """
    raw = target.name.encode("utf-8", "surrogateescape")
    budget = NAME_MAX - _TEMP_OVERHEAD
    if len(raw) > budget:
        raw = raw[:budget]
        # Drop a trailing partial multi-byte sequence.
        name = raw.decode("utf-8", "ignore")
    else:
        name = target.name
    return target.parent / f".{name}.{secrets.token_hex(8)}.tmp"


def fit_name(stem: str, suffix: str = "") -> str:
    """``stem + suffix`` as a file name of at most :data:`NAME_MAX` bytes.

    Names derived from an input's name (``<video>.ckpt.json``,
    ``<stem>.quality.json``, ``<stem>.results.json``) would pass the file
    system's limit for inputs whose own name is near it. When ``stem +
    suffix`` does not fit, ``stem`` is cut (on a UTF-8 character boundary)
    and ends in ``~`` and 8 hex digits of the SHA-256 of the whole stem:
    distinct long stems give distinct names, and the same stem always gives
    the same name (a resumed job finds its checkpoint).

    Examples
    --------
    >>> fit_name("walk", ".ckpt.json")
    'walk.ckpt.json'
    >>> long = fit_name("é" * 127, ".quality.json")
    >>> len(long.encode()), long.endswith(".quality.json"), long[-22:-13]
    (254, True, '~2e3eba0a')
    """
    name = stem + suffix
    raw = name.encode("utf-8", "surrogateescape")
    if len(raw) <= NAME_MAX:
        return name
    digest = hashlib.sha256(stem.encode("utf-8", "surrogateescape")).hexdigest()[:8]
    tail = f"~{digest}{suffix}"
    budget = NAME_MAX - len(tail.encode("utf-8", "surrogateescape"))
    head = stem.encode("utf-8", "surrogateescape")[: max(budget, 0)]
    return head.decode("utf-8", "ignore") + tail


def fsync_directory(directory: Path) -> None:
    """``fsync`` a directory so that renames and creations in it are durable."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_write(path: Path | str, *, mode: int = 0o644) -> Iterator[IO[bytes]]:
    """Open a binary temporary file that replaces ``path`` atomically on success.

    Parameters
    ----------
    path : Path or str
        The file to create or replace. Its directory must exist.
    mode : int
        Permission bits of the new file.

    Yields
    ------
    IO[bytes]
        A writable binary file. If the ``with`` body raises, the temporary
        file is removed and ``path`` is left untouched.
    """
    target = Path(path)
    directory = target.parent
    tmp = temp_path_for(target)
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except OSError as exc:
        _raise_if_disk_full(exc, target)
        raise
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        if isinstance(exc, OSError):
            _raise_if_disk_full(exc, target)
        raise
    fsync_directory(directory)


def _raise_if_disk_full(exc: OSError, target: Path) -> None:
    if exc.errno in _DISK_FULL_ERRNOS:
        raise DiskFullError(
            f"{target}: cannot write, {os.strerror(exc.errno or errno.ENOSPC).lower()}; "
            "the previous version of the file is unchanged",
            hint=f"free space on the filesystem holding {target.parent} and retry",
        ) from exc


def write_bytes_atomic(path: Path | str, data: bytes) -> None:
    """Atomically replace ``path`` with ``data`` (see :func:`atomic_write`)."""
    with atomic_write(path) as handle:
        handle.write(data)


def write_json_atomic(path: Path | str, data: Any, *, indent: int | None = 1) -> None:
    """Atomically write ``data`` as UTF-8 JSON with a trailing newline."""
    text = json.dumps(data, indent=indent, ensure_ascii=False, allow_nan=False)
    write_bytes_atomic(path, (text + "\n").encode("utf-8"))


def write_model_atomic(path: Path | str, model: BaseModel, *, indent: int | None = 1) -> None:
    """Validate ``model`` again and write it atomically as JSON.

    The model is re-validated from its own dump first, so a document that
    could not be loaded back is never written.
    """
    payload = model.model_dump(mode="json")
    type(model).model_validate(payload)
    write_json_atomic(path, payload, indent=indent)


#: Never suggests deleting: the file may be a patient's only copy of something.
_CORRUPT_HINT = (
    "the file is damaged or incomplete (e.g. copied while it was being written); "
    "restore it from a backup"
)


def load_json(path: Path | str) -> Any:
    """Read a JSON file, raising :class:`InvalidDocumentError` naming the file.

    Whatever the bytes (truncated, not UTF-8, nested 200,000 levels deep, a
    100,000-digit number), the only exception is :class:`InvalidDocumentError`.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> bad = pathlib.Path(tempfile.mkdtemp()) / "status.json"
    >>> _ = bad.write_text("[" * 200000 + "]" * 200000)
    >>> try:
    ...     load_json(bad)
    ... except InvalidDocumentError as exc:
    ...     print(exc.message.endswith("(JSON nested too deeply to read)"))
    True
    """
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise InvalidDocumentError(f"{p}: file not found") from None
    except OSError as exc:
        raise InvalidDocumentError(f"{p}: cannot read ({exc.strerror})") from exc
    try:
        return json.loads(raw)
    except RecursionError:
        # json's C decoder recurses once per nesting level ('[' * 200000 ...).
        raise InvalidDocumentError(
            f"{p}: not a NeuroPose document (JSON nested too deeply to read)",
            hint=_CORRUPT_HINT,
        ) from None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, integer-string limit
        raise InvalidDocumentError(f"{p}: not valid JSON ({exc})", hint=_CORRUPT_HINT) from exc


def format_validation_error(exc: ValidationError) -> str:
    """Describe the first error of a pydantic ``ValidationError`` in one line."""
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "<document>"
    return f"field '{where}': {first['msg']} (got {_short(first.get('input'))})"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def load_model(path: Path | str, model: type[M]) -> M:
    """Load and validate a JSON document into ``model``.

    Documents carrying ``schema_version`` are migrated to the current
    version first (see :mod:`neuropose.schemas.migrations`).

    Raises
    ------
    InvalidDocumentError
        The file is missing, is not JSON, or fails validation; the message
        names the file and the first invalid field.
    FutureSchemaError
        The document was written by a newer NeuroPose.
    """
    from neuropose.schemas.migrations import migrate

    p = Path(path)
    data = load_json(p)
    data = migrate(model, data, source=p)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidDocumentError(f"{p}: {format_validation_error(exc)}") from exc
    except RecursionError:
        raise InvalidDocumentError(
            f"{p}: not a valid {model.__name__} (values nested too deeply)", hint=_CORRUPT_HINT
        ) from None


def remove_stale_temp_files(directory: Path | str, *, min_age_s: float = 0.0) -> list[Path]:
    """Delete temporary files left in ``directory`` by an interrupted write.

    Only names matching :data:`TEMP_FILE_PATTERN` are removed, and only files
    last modified at least ``min_age_s`` seconds ago. With the default 0,
    call it only when no other process can be writing in ``directory`` (for
    example the daemon at start-up, under its lock): a concurrent writer's
    temporary file would be removed and its rename would fail. A positive
    ``min_age_s`` (say 3600) makes it safe to run at any time.

    Returns
    -------
    list of Path
        The removed paths.
    """
    removed: list[Path] = []
    d = Path(directory)
    if not d.is_dir():
        return removed
    cutoff = time.time() - min_age_s
    for entry in d.iterdir():
        if not TEMP_FILE_PATTERN.match(entry.name):
            continue
        with contextlib.suppress(FileNotFoundError):
            st = entry.stat(follow_symlinks=False)
            if stat.S_ISREG(st.st_mode) and (min_age_s <= 0 or st.st_mtime <= cutoff):
                entry.unlink()
                removed.append(entry)
    return removed


def sha256_file(path: Path | str, *, chunk_size: int = 1 << 20) -> str:
    """Hex SHA-256 of a file's bytes, read in chunks (constant memory).

    The one hashing routine behind every recorded digest: input videos in
    provenance, model weights in the cache manifest, pinned wheels and
    their members, and analysis inputs.
    """
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()
