"""Job and file names from input paths, and what counts as a video.

* One job per video by default, named after the video's path (inside the
  archive, or relative to the folder) without the extension, parts joined
  with ``_``; with ``job="NAME"`` every video goes into one job and the file
  inside is named after its whole path.
* :func:`sanitize_name` maps names to ``[A-Za-z0-9._-]``; the result must
  then pass :func:`neuropose.datadir.check_job_name` (at most
  :data:`MAX_NAME_LENGTH` bytes, not reserved).
* Names shown to a user go through :func:`neuropose.logs.printable`.

>>> job_and_file(["patient_001", "trial 01.mp4"], None)
('patient_001_trial_01', 'trial_01.mp4')
>>> job_and_file(["patient_001", "trial.mp4"], "s1")
('s1', 'patient_001_trial.mp4')
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence

from neuropose.datadir.layout import MAX_JOB_NAME_BYTES, InvalidJobNameError, check_job_name
from neuropose.ingest.report import SkipReason
from neuropose.logs import printable
from neuropose.video.suffixes import VIDEO_SUFFIXES

__all__ = [
    "ARCHIVE_EXTENSIONS",
    "MAX_NAME_LENGTH",
    "VIDEO_EXTENSIONS",
    "check_name",
    "classify",
    "job_and_file",
    "listing",
    "sanitize_name",
]

#: Extensions (lower case) that make a file a video.
VIDEO_EXTENSIONS = VIDEO_SUFFIXES
#: Extensions of archives that are reported and never expanded.
ARCHIVE_EXTENSIONS = frozenset(
    {".zip", ".tar", ".gz", ".tgz", ".bz2", ".tbz2", ".xz", ".txz", ".zst", ".7z", ".rar", ".lz4"}
)
#: Longest job or file name ingest creates, bytes (names are ASCII once sanitised).
MAX_NAME_LENGTH = MAX_JOB_NAME_BYTES

_MAX_LISTED = 25
_SAFE_CHARS = re.compile(r"[^A-Za-z0-9._-]")


def sanitize_name(text: str) -> str:
    """Map ``text`` to ``[A-Za-z0-9._-]``: other characters become ``_``, leading dots go.

    Returns ``""`` when nothing usable remains (callers reject that).

    Examples
    --------
    >>> sanitize_name("patient 001_trial(2)")
    'patient_001_trial_2_'
    >>> sanitize_name("..hidden")
    'hidden'
    """
    return _SAFE_CHARS.sub("_", text).lstrip(".")


def check_name(name: str, what: str) -> str | None:
    """A problem description when ``name`` is unusable, else ``None``.

    >>> check_name("a" * 256, "member 'x.mp4' (job name)")
    "member 'x.mp4' (job name) gives a name longer than 255 bytes"
    """
    if name in {"", ".", ".."}:
        return f"{what} gives an empty job or file name"
    if len(name.encode("utf-8", "surrogateescape")) > MAX_NAME_LENGTH:
        return f"{what} gives a name longer than {MAX_NAME_LENGTH} bytes"
    try:
        check_job_name(name)  # the data directory's own rule (reserved names)
    except InvalidJobNameError as exc:
        return f"{what}: {exc.message}"
    return None


def job_and_file(parts: Sequence[str], job: str | None) -> tuple[str, str]:
    """Job name and in-job file name for a video at path ``parts``."""
    *dirs, base = parts
    stem, ext = os.path.splitext(base)
    if job is None:
        return sanitize_name("_".join([*dirs, stem])), sanitize_name(base)
    return job, sanitize_name("_".join([*dirs, stem]) + ext)


def classify(parts: Sequence[str]) -> SkipReason | None:
    """``None`` for a video, else why the member is skipped.

    >>> classify(["__MACOSX", "._a.mp4"]).name, classify(["a.MP4"])
    ('HIDDEN', None)
    """
    if any(p.startswith(".") or p == "__MACOSX" for p in parts):
        return SkipReason.HIDDEN
    lower = parts[-1].lower()
    ext = os.path.splitext(lower)[1]
    if ext in VIDEO_EXTENSIONS:
        return None
    if ext in ARCHIVE_EXTENSIONS or lower.endswith((".tar.gz", ".tar.bz2", ".tar.xz")):
        return SkipReason.NESTED_ARCHIVE
    return SkipReason.NOT_VIDEO


def listing(lines: Sequence[str]) -> str:
    """At most 25 lines as an indented list, control characters escaped.

    >>> print(listing(["a\\x1b[2J"]))
      - a\\x1b[2J
    """
    shown = [f"  - {printable(line)}" for line in lines[:_MAX_LISTED]]
    if len(lines) > _MAX_LISTED:
        shown.append(f"  ... and {len(lines) - _MAX_LISTED} more")
    return "\n".join(shown)
