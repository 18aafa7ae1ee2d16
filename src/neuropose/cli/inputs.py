"""What a file given on the command line is, and which command takes it.

Commands call :func:`require` on each path argument before doing any work:
a file of the wrong kind (a video given to ``visualize``, a results file
given to ``analyze``) is refused with a message that says what the file is,
what the command expected and which command reads that kind of file. The
kind is decided from the file's first bytes (magic numbers, JSON keys, TOML
tables), never from its name alone, and reading it never changes it; no
message ever suggests deleting an input.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Set
from enum import StrEnum
from pathlib import Path

from neuropose.errors import InputError

__all__ = ["RESULTS_EXPECTED", "RESULTS_KINDS", "FileKind", "describe", "require", "sniff"]

#: How commands that read results files word what they expect.
RESULTS_EXPECTED = "a results JSON file (written by `neuropose process` or the daemon)"

_HEAD_BYTES = 64 * 1024
_TOML_MAX_BYTES = 1024 * 1024


class FileKind(StrEnum):
    """Kinds of files NeuroPose commands read."""

    MISSING = "missing"
    DIRECTORY = "directory"
    EMPTY = "empty"
    VIDEO = "video"
    IMAGE = "image"
    ZIP = "zip"
    RESULTS = "results"
    STATUS = "status"
    JSON = "json"
    DAMAGED_JSON = "damaged_json"
    ANALYSIS_CONFIG = "analysis_config"
    SETTINGS = "settings"
    TOML = "toml"
    DAMAGED_TOML = "damaged_toml"
    OTHER = "other"


_WHAT = {
    FileKind.MISSING: "not found",
    FileKind.DIRECTORY: "a directory",
    FileKind.EMPTY: "an empty file",
    FileKind.VIDEO: "a video",
    FileKind.IMAGE: "an image",
    FileKind.ZIP: "a zip archive",
    FileKind.RESULTS: "a NeuroPose results file (JSON)",
    FileKind.STATUS: "a NeuroPose status file (JSON)",
    FileKind.JSON: "a JSON document that is not a NeuroPose results file",
    FileKind.DAMAGED_JSON: "a JSON file that does not parse (incomplete or damaged)",
    FileKind.ANALYSIS_CONFIG: "an analysis config (TOML)",
    FileKind.SETTINGS: "a NeuroPose settings file (TOML)",
    FileKind.TOML: "a TOML file",
    FileKind.DAMAGED_TOML: "a .toml file that does not parse",
    FileKind.OTHER: "not a video, an image, JSON or TOML (by its content)",
}

#: Which command reads each kind (``{path}`` is the file).
_TAKEN_BY = {
    FileKind.VIDEO: "estimate poses with `neuropose process {path}` "
    "(or queue it for the daemon with `neuropose ingest {path}`)",
    FileKind.IMAGE: "estimate poses with `neuropose process {path}`",
    FileKind.ZIP: "queue its videos with `neuropose ingest {path}`",
    FileKind.RESULTS: "render it with `neuropose visualize {path}`, segment it with "
    "`neuropose segment {path}`, or analyse it with "
    "`neuropose analyze CONFIG.toml --inputs {path}`",
    FileKind.STATUS: "the daemon's status is shown by `neuropose status`",
    FileKind.ANALYSIS_CONFIG: "run it with `neuropose analyze {path}`",
    FileKind.SETTINGS: "use it with `neuropose --config {path} COMMAND`",
}

#: Kinds a command reading results files accepts (a damaged one is left to the loader,
#: whose message names the position of the JSON error).
RESULTS_KINDS = frozenset({FileKind.RESULTS, FileKind.DAMAGED_JSON})

_MP4_BRANDS = re.compile(rb"^....ftyp(qt  |M4V |M4VP|mp4|iso|avc|3g|dash|MSNV|XAVC|f4v|crx )")
_IMAGE_MAGIC = (
    b"\xff\xd8\xff",
    b"\x89PNG\r\n\x1a\n",
    b"BM",
    b"II*\x00",
    b"MM\x00*",
    b"GIF8",
)
_ANALYSIS_KEYS = {"inputs", "angles", "comparisons", "segmentations", "gait", "filter", "max_gap"}


def _sniff_bytes(head: bytes) -> FileKind | None:
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return FileKind.ZIP
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return FileKind.IMAGE
    if head.startswith(b"RIFF") and head[8:12] == b"AVI ":
        return FileKind.VIDEO
    if head.startswith(_IMAGE_MAGIC):
        return FileKind.IMAGE
    if _MP4_BRANDS.match(head) or head[4:8] in (b"moov", b"mdat", b"wide", b"free"):
        return FileKind.VIDEO
    if head.startswith((b"\x1a\x45\xdf\xa3", b"\x00\x00\x01\xba", b"\x00\x00\x01\xb3")):
        return FileKind.VIDEO  # Matroska/WebM, MPEG-PS
    if len(head) > 376 and head[0] == head[188] == head[376] == 0x47:
        return FileKind.VIDEO  # MPEG-TS (.mts)
    if head.startswith(b"0&\xb2\x75\x8e\x66\xcf\x11"):
        return FileKind.VIDEO  # ASF/WMV
    return None


def _is_json(text: str, head: bytes) -> bool:
    """A whole (small) file that parses as JSON; ``[table]`` TOML does not."""
    if len(head) >= _HEAD_BYTES:
        return False
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _sniff_text(path: Path, head: bytes) -> FileKind:
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        if len(head) < _HEAD_BYTES:
            return FileKind.OTHER
        text = head[: _HEAD_BYTES - 4].decode("utf-8", "ignore")
    stripped = text.lstrip("\ufeff \t\r\n")
    if stripped.startswith("{") or (stripped.startswith("[") and _is_json(text, head)):
        if re.search(r'"videos"\s*:', text) and re.search(r'"job_id"\s*:', text):
            return FileKind.RESULTS
        if re.search(r'"jobs"\s*:', text) and re.search(r'"schema_version"\s*:', text):
            return FileKind.STATUS
        if len(head) < _HEAD_BYTES:
            try:
                json.loads(text)
            except ValueError:
                return FileKind.DAMAGED_JSON
        return FileKind.JSON
    if path.stat().st_size > _TOML_MAX_BYTES:
        return FileKind.OTHER
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError):
        return FileKind.DAMAGED_TOML if path.suffix.lower() == ".toml" else FileKind.OTHER
    if not data:
        return FileKind.TOML
    if set(data) & _ANALYSIS_KEYS:
        return FileKind.ANALYSIS_CONFIG
    from neuropose.config import Settings  # only when a TOML file is not an analysis config

    if set(data) <= set(Settings.model_fields):
        return FileKind.SETTINGS
    return FileKind.TOML


def sniff(path: Path) -> FileKind:
    """The kind of ``path`` from its content (reads at most 64 KiB, or a TOML file up to 1 MiB).

    Examples
    --------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> _ = (d / "a.json").write_text('{"job_id": "a", "videos": []}')
    >>> _ = (d / "b.toml").write_text('inputs = ["*.json"]')
    >>> _ = (d / "c.mp4").write_bytes(b"\\x00\\x00\\x00\\x20ftypisom" + bytes(64))
    >>> [sniff(d / n).value for n in ("a.json", "b.toml", "c.mp4", "missing.mp4")]
    ['results', 'analysis_config', 'video', 'missing']
    """
    if not path.exists():
        return FileKind.MISSING
    if path.is_dir():
        return FileKind.DIRECTORY
    with path.open("rb") as handle:
        head = handle.read(_HEAD_BYTES)
    if not head:
        return FileKind.EMPTY
    return _sniff_bytes(head) or _sniff_text(path, head)


def describe(kind: FileKind) -> str:
    """A noun phrase for ``kind``, e.g. ``"a video"``."""
    return _WHAT[kind]


def require(path: Path, command: str, expected: Set[FileKind], what: str) -> FileKind:
    """Return the kind of ``path``, or refuse it when it is not one of ``expected``.

    Parameters
    ----------
    path : Path
        The argument as the user gave it (named as given in the message).
    command : str
        The command's name, e.g. ``"visualize"``.
    expected : set of FileKind
        Kinds the command accepts.
    what : str
        What the command expects, in words, e.g. ``"a results JSON file"``.

    Raises
    ------
    InputError
        ``path`` is missing or of another kind (exit 2). The message says
        what the file is and what ``command`` expects; the hint names the
        command that reads this kind of file, when there is one.

    Examples
    --------
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "clip.mp4"
    >>> _ = p.write_bytes(b"\\x00\\x00\\x00\\x20ftypisom" + bytes(64))
    >>> require(p, "visualize", {FileKind.RESULTS}, "a results JSON file")
    Traceback (most recent call last):
    ...
    neuropose.errors.InputError: ... is a video; `neuropose visualize` expects a results JSON file
      hint: estimate poses with `neuropose process ...`...
    """
    kind = sniff(path)
    if kind in expected:
        return kind
    if kind is FileKind.MISSING:
        raise InputError(
            f"{path} does not exist; `neuropose {command}` expects {what}",
            hint="check the path (relative paths are taken from the current directory)",
        )
    taken = _TAKEN_BY.get(kind)
    raise InputError(
        f"{path} is {_WHAT[kind]}; `neuropose {command}` expects {what}",
        hint=taken.format(path=path) if taken else None,
    )
