"""Validated, transactional intake of zip archives, folders and video files.

``ingest`` turns a batch of videos handed over by collaborators into job
directories under ``data_dir/in/`` that the daemon (``neuropose watch``)
picks up. An archive is untrusted input: nothing in it can make ingest write
outside the data directory, exhaust the disk, or leave a half-made job.

Inputs and job names
--------------------
* A ``.zip`` archive (:func:`ingest_archive`), a folder, or a list of video
  files (:func:`ingest_paths`).
* By default every video becomes its own job, named after its path inside
  the archive (or relative to the folder) without the extension, components
  joined with ``_``: ``patient_001/trial_01.mp4`` becomes job
  ``patient_001_trial_01`` holding ``trial_01.mp4``. A video file given
  directly is named by its file name alone.
* ``job="NAME"`` puts every video of the input into the single job
  ``NAME``; each file inside is then named after its full path joined with
  ``_`` (``patient_001/trial_01.mp4`` -> ``patient_001_trial_01.mp4``), so
  equal base names in different folders never clash.
* Names are sanitised: every character outside ``[A-Za-z0-9._-]`` becomes
  ``_`` and leading dots are removed; a name that ends up empty, ``.``,
  ``..`` or longer than :data:`MAX_NAME_LENGTH` characters is rejected.

Video detection
---------------
A member is a video when its extension (case-insensitive) is one of
:data:`VIDEO_EXTENSIONS` (``.mp4 .mov .avi .mkv .m4v .webm .mpg .mpeg
.wmv .mts``). Ingest does not decode videos: an unreadable video is reported by
the daemon when it processes the job. Other members are skipped and
reported: archives (:data:`ARCHIVE_EXTENSIONS`, never expanded), hidden
files and macOS metadata (any path component starting with ``.`` or named
``__MACOSX``, e.g. the AppleDouble ``._trial.mp4`` files that look like
videos), anything else ("not a video"), and, in folders, symbolic links and
special files (never followed).

Validation (everything is checked before anything is written)
--------------------------------------------------------------
An archive is rejected as a whole, with every problem listed at once, when a
member has an absolute path, a ``..`` component, a backslash, a drive letter
(``C:``), a control character, is a symbolic link or other special file
(Unix mode in the zip external attributes), is encrypted, uses an
unsupported compression method, has a name that is not valid UTF-8 (names
without the zip UTF-8 flag, bit 11, are accepted when they are pure ASCII or
valid UTF-8; legacy code-page names such as cp437 or Shift-JIS are refused
rather than guessed), appears twice, or is a zero-byte video. Limits
(:class:`IngestLimits`, from the ``ingest_*`` settings): number of members
(read from the archive's end record before the zip parser builds anything),
declared total size of the videos, and compression ratio of each video
larger than :data:`RATIO_EXEMPT_BYTES`. Declared sizes can lie, so while
extracting, the bytes actually produced are counted and extraction stops as
soon as a member yields more than it declared (the stdlib reader also
truncates at the declared size, which makes such a member fail its CRC
check). Before anything is extracted, the free space of the data directory
must exceed the declared total by :data:`FREE_SPACE_RESERVE_BYTES`. A
source file (folder input) whose size changes while it is ingested is
refused as still being written.

Collisions
----------
Job names are checked, all at once, against each other and against
``in/<job>``, ``out/<job>``, ``failed/<job>`` and the job ids known to
:func:`neuropose.datadir.status.read_status`. With ``force=True`` each
colliding job is replaced: the existing ``in/``, ``out/`` and ``failed/``
directories of exactly that job are removed and listed in
:attr:`IngestedJob.replaced`; when no daemon runs, the job's old entry is
also dropped from ``status.json`` (under the daemon lock) so the next
daemon processes the replacement. A job the daemon is processing right now
is never replaced, nor, while a daemon runs, a job it recorded as completed
(it would never reprocess it) (:class:`JobBusyError`). Collisions inside the
input itself cannot be forced.

On-disk layout and crash invariants
-----------------------------------
::

    data_dir/.staging/                  exists only while an ingest runs (or after a crash)
    data_dir/.staging/ingest.lock       flock held by the running ingest
    data_dir/.staging/<unique>/jobs/<job>/<videos>, READY
    data_dir/.staging/<unique>/replaced/  old directories moved aside by force
    data_dir/in/<job>/<videos>, READY     a complete job

1. Videos are written into the staging directory (same filesystem as
   ``in/``), each file and directory is ``fsync``'d, an empty ``READY``
   marker is added, and only then is each complete job directory moved into
   ``in/`` with one rename that refuses to replace anything (Linux
   ``renameat2(RENAME_NOREPLACE)``), followed by an ``fsync`` of ``in/``.
   The daemon therefore never sees a partial job, whether it waits for
   ``READY`` or for files to settle.
2. Any failure before placement (exception, Ctrl-C) removes the staging
   directory; a failure while placing moves already placed jobs (and
   directories set aside by ``force``) back, so the data directory is left
   as it was (placement takes milliseconds, far below the daemon's
   ``settle_seconds``). After SIGKILL the staging directory may remain; it is never
   read and :func:`clean_staging` removes it at the next ingest or daemon
   start. Sources are never modified before placement succeeded (``move``
   deletes them only afterwards).
3. Ingests into one data directory are serialised by the flock on
   ``.staging/ingest.lock`` (a second one fails with :class:`IngestBusyError`),
   and :func:`clean_staging` leaves the staging area alone while that lock is
   held. The holder removes the lock file and the empty ``.staging`` before
   unlocking, so a finished or refused ingest leaves no trace outside
   ``in/``; a data directory the ingest had to create is removed again when
   the ingest fails.

Examples
--------
>>> import tempfile, zipfile, pathlib
>>> root = pathlib.Path(tempfile.mkdtemp())
>>> with zipfile.ZipFile(root / "batch.zip", "w") as zf:
...     zf.writestr("patient_001/trial_01.mp4", b"not really a video")
...     zf.writestr("patient_001/notes.txt", b"hello")
>>> report = ingest_archive(root / "batch.zip", root / "data")
>>> [(j.name, [v.file for v in j.videos]) for j in report.jobs]
[('patient_001_trial_01', ['trial_01.mp4'])]
>>> [(s.member, s.reason.value) for s in report.skipped]
[('patient_001/notes.txt', 'not a video')]
>>> sorted(p.name for p in (root / "data/in/patient_001_trial_01").iterdir())
['READY', 'trial_01.mp4']
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import logging
import os
import re
import secrets
import shutil
import stat
import unicodedata
import zipfile
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import IO, Any, Literal

from pydantic import Field

from neuropose.config import Settings
from neuropose.datadir.layout import (
    IN_DIR,
    READY_MARKER,
    STAGING_DIR,
    DataDir,
    InvalidJobNameError,
    check_job_name,
)
from neuropose.datadir.lock import ExclusiveLock, LockHeldError, probe_lock
from neuropose.datadir.staging import clean_locked, clean_staging, remove_tree, staging_lock
from neuropose.datadir.status import forget_jobs, read_job_status, read_status, restore_jobs
from neuropose.errors import BusyError, InputError, NeuroPoseError, ResourceError
from neuropose.io import fsync_directory
from neuropose.media import VIDEO_SUFFIXES
from neuropose.schemas.base import FrozenModel
from neuropose.schemas.status import JobState, JobStatusEntry

__all__ = [
    "ARCHIVE_EXTENSIONS",
    "FREE_SPACE_RESERVE_BYTES",
    "MAX_NAME_LENGTH",
    "RATIO_EXEMPT_BYTES",
    "READY_MARKER",
    "STAGING_DIR_NAME",
    "VIDEO_EXTENSIONS",
    "ArchiveLimitError",
    "IngestBusyError",
    "IngestError",
    "IngestLimits",
    "IngestReport",
    "IngestedJob",
    "IngestedVideo",
    "InsufficientSpaceError",
    "JobBusyError",
    "JobCollisionError",
    "Mode",
    "NoVideosError",
    "ProgressCallback",
    "SkipReason",
    "SkippedMember",
    "UnsafeArchiveError",
    "clean_staging",
    "ingest_archive",
    "ingest_paths",
    "sanitize_name",
]

logger = logging.getLogger(__name__)

#: Extensions (lower case) that make a file a video.
VIDEO_EXTENSIONS = VIDEO_SUFFIXES
#: Extensions of archives that are reported and never expanded.
ARCHIVE_EXTENSIONS = frozenset(
    {".zip", ".tar", ".gz", ".tgz", ".bz2", ".tbz2", ".xz", ".txz", ".zst", ".7z", ".rar", ".lz4"}
)
#: Name of the staging directory inside the data directory.
STAGING_DIR_NAME = STAGING_DIR
#: Free space that must remain after extracting, bytes (64 MiB).
FREE_SPACE_RESERVE_BYTES = 64 * 1024**2
#: Videos up to this size (bytes) are exempt from the compression-ratio cap.
RATIO_EXEMPT_BYTES = 64 * 1024
#: Longest job or file name ingest creates, characters.
MAX_NAME_LENGTH = 200

_CHUNK = 1024 * 1024
_MAX_LISTED = 25
_SAFE_CHARS = re.compile(r"[^A-Za-z0-9._-]")
_DRIVE = re.compile(r"^[A-Za-z]:")
_SUPPORTED_COMPRESSION = {
    zipfile.ZIP_STORED,
    zipfile.ZIP_DEFLATED,
    zipfile.ZIP_BZIP2,
    zipfile.ZIP_LZMA,
}

Mode = Literal["copy", "move", "link"]
ProgressCallback = Callable[[int, int], None]


# --------------------------------------------------------------------------- errors


class IngestError(InputError):
    """The input cannot be ingested as given (exit code 2)."""


class UnsafeArchiveError(IngestError):
    """Archive members could write outside the data dir or are unreadable.

    ``problems`` lists one line per offending member.
    """

    def __init__(self, message: str, *, problems: Sequence[str] = (), hint: str | None = None):
        super().__init__(message, hint=hint)
        self.problems = tuple(problems)


class ArchiveLimitError(IngestError):
    """A member-count, size or compression-ratio limit was exceeded (exit code 2)."""


class NoVideosError(IngestError):
    """The input holds no video to ingest (exit code 2)."""


class JobCollisionError(IngestError):
    """Job names clash with each other or with existing jobs (exit code 2).

    ``collisions`` maps each job name to what it clashes with.
    """

    def __init__(
        self, message: str, *, collisions: dict[str, list[str]], hint: str | None = None
    ) -> None:
        super().__init__(message, hint=hint)
        self.collisions = collisions


class JobBusyError(BusyError):
    """``force`` would replace a job the daemon is processing (exit code 3)."""


class IngestBusyError(BusyError):
    """Another ingest into the same data directory is running (exit code 3)."""


class InsufficientSpaceError(ResourceError):
    """The data directory's filesystem lacks space for the input (exit code 4)."""


# --------------------------------------------------------------------------- report models


class IngestLimits(FrozenModel):
    """Bounds that protect the data directory from hostile or mistaken input.

    Attributes
    ----------
    max_members : int
        Most entries (files and folders) an archive or folder may hold.
    max_total_bytes : int
        Most bytes of video one ingest may write (declared sizes, and the
        bytes actually produced).
    max_ratio : float
        Largest accepted ratio of uncompressed to compressed size of one
        archived video (videos up to :data:`RATIO_EXEMPT_BYTES` are exempt).
    """

    max_members: int = Field(default=10_000, ge=1)
    max_total_bytes: int = Field(default=200 * 1024**3, ge=1)
    max_ratio: float = Field(default=200.0, gt=1)

    @classmethod
    def from_settings(cls, settings: Settings) -> IngestLimits:
        """Limits from :class:`neuropose.config.Settings` (``ingest_*`` keys)."""
        return cls(
            max_members=settings.ingest_max_members,
            max_total_bytes=settings.ingest_max_total_bytes,
            max_ratio=settings.ingest_max_ratio,
        )


class SkipReason(StrEnum):
    """Why an input member was not ingested."""

    NOT_VIDEO = "not a video"
    NESTED_ARCHIVE = "nested archive (not expanded)"
    HIDDEN = "hidden file or macOS metadata"
    SYMLINK = "symbolic link (not followed)"
    SPECIAL = "not a regular file"


class SkippedMember(FrozenModel):
    """An input member that was left out, and why."""

    member: str
    reason: SkipReason


class IngestedVideo(FrozenModel):
    """One video placed in a job.

    Attributes
    ----------
    source : str
        Path inside the archive, or the source file path.
    file : str
        File name inside the job directory.
    size_bytes : int
        Size of the placed file, bytes.
    """

    source: str
    file: str
    size_bytes: int = Field(ge=1)


class IngestedJob(FrozenModel):
    """One job directory created in ``in/``.

    Attributes
    ----------
    name : str
        Job name (directory name under ``in/``).
    path : str
        ``in/<name>``, relative to the data directory.
    videos : tuple of IngestedVideo
        Exactly the videos in the job, sorted by file name.
    size_bytes : int
        Total size of the videos, bytes.
    replaced : tuple of str
        Directories (relative to the data directory) removed because
        ``force`` replaced this job; empty when nothing was replaced.
    previous_state : JobState or None
        State the daemon's status recorded for a job of this name before it
        was replaced, if any.
    """

    name: str
    path: str
    videos: tuple[IngestedVideo, ...]
    size_bytes: int = Field(ge=0)
    replaced: tuple[str, ...] = ()
    previous_state: JobState | None = None


class IngestReport(FrozenModel):
    """What an ingest did (also the ``--json`` output of ``neuropose ingest``).

    Attributes
    ----------
    sources : tuple of str
        The archive, folders or files ingested, as given.
    data_dir : str
        The data directory.
    mode : {"extract", "copy", "move", "link"}
        How the videos got there.
    jobs : tuple of IngestedJob
        Jobs created, sorted by name.
    skipped : tuple of SkippedMember
        Members left out, in input order.
    bytes_written : int
        Bytes of video written (0 for hard links; moved files count when
        they had to be copied across filesystems).
    cleaned_staging : tuple of str
        Leftovers of interrupted ingests removed first.
    dry_run : bool
        ``True`` when nothing was written: the jobs are those that would be
        created (archive data was still read in full and CRC-checked).
    """

    sources: tuple[str, ...]
    data_dir: str
    mode: Literal["extract", "copy", "move", "link"]
    jobs: tuple[IngestedJob, ...]
    skipped: tuple[SkippedMember, ...] = ()
    bytes_written: int = Field(default=0, ge=0)
    cleaned_staging: tuple[str, ...] = ()
    dry_run: bool = False


# --------------------------------------------------------------------------- naming


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


def _check_name(name: str, what: str) -> str | None:
    """A problem description when ``name`` is unusable, else ``None``."""
    if name in {"", ".", ".."}:
        return f"{what} gives an empty job or file name"
    if len(name) > MAX_NAME_LENGTH:
        return f"{what} gives a name longer than {MAX_NAME_LENGTH} characters"
    try:
        check_job_name(name)  # the data directory's own rule (reserved names)
    except InvalidJobNameError as exc:
        return f"{what}: {exc.message}"
    return None


def _job_and_file(parts: Sequence[str], job: str | None) -> tuple[str, str]:
    """Job name and in-job file name for a video at path ``parts``."""
    *dirs, base = parts
    stem, ext = os.path.splitext(base)
    if job is None:
        return sanitize_name("_".join([*dirs, stem])), sanitize_name(base)
    return job, sanitize_name("_".join([*dirs, stem]) + ext)


def _classify(parts: Sequence[str]) -> SkipReason | None:
    """``None`` for a video, else why the member is skipped."""
    if any(p.startswith(".") or p == "__MACOSX" for p in parts):
        return SkipReason.HIDDEN
    lower = parts[-1].lower()
    ext = os.path.splitext(lower)[1]
    if ext in VIDEO_EXTENSIONS:
        return None
    if ext in ARCHIVE_EXTENSIONS or lower.endswith((".tar.gz", ".tar.bz2", ".tar.xz")):
        return SkipReason.NESTED_ARCHIVE
    return SkipReason.NOT_VIDEO


def _listing(lines: Sequence[str]) -> str:
    shown = [f"  - {line}" for line in lines[:_MAX_LISTED]]
    if len(lines) > _MAX_LISTED:
        shown.append(f"  ... and {len(lines) - _MAX_LISTED} more")
    return "\n".join(shown)


def _human(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"  # pragma: no cover


# --------------------------------------------------------------------------- planning


@dataclass
class _Item:
    """One video to place: where it comes from and where it goes."""

    source: str
    job: str
    file: str
    size: int
    zip_info: zipfile.ZipInfo | None = None
    path: Path | None = None


@dataclass
class _Plan:
    sources: tuple[str, ...]
    mode: Literal["extract", "copy", "move", "link"]
    items: list[_Item] = field(default_factory=list)
    skipped: list[SkippedMember] = field(default_factory=list)

    @property
    def total_bytes(self) -> int:
        return sum(i.size for i in self.items)


def _zip_member_name(info: zipfile.ZipInfo) -> tuple[str | None, str | None]:
    """(name, problem) of a member, checking that its name is valid UTF-8."""
    name = info.orig_filename
    if info.flag_bits & 0x800 or name.isascii():
        return name, None
    raw = name.encode("cp437")  # zipfile decoded the raw bytes as cp437
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError:
        return None, (
            f"member name {raw!r} is not valid UTF-8 (a legacy code page such as cp437 "
            "or Shift-JIS cannot be decoded reliably)"
        )


def _path_problem(name: str) -> str | None:
    if "\x00" in name or any(unicodedata.category(c) == "Cc" for c in name):
        return f"member {name!r} has control characters in its name"
    if "\\" in name:
        return f"member {name!r} has a backslash in its path (Windows-style path)"
    if _DRIVE.match(name):
        return f"member {name!r} has a drive-letter path"
    if name.startswith("/"):
        return f"member {name!r} has an absolute path"
    if ".." in name.split("/"):
        return f"member {name!r} has a '..' component (path traversal)"
    return None


def _declared_member_count(archive: Path) -> int | None:
    """Member count from the end-of-central-directory record, read before parsing.

    Lets a hostile archive that declares millions of members be refused
    before :class:`zipfile.ZipFile` builds an object for each. ``None`` when
    the record is not found (the zip parser then reports the archive).
    """
    try:
        with archive.open("rb") as f:
            size = f.seek(0, os.SEEK_END)
            tail_len = min(size, 22 + 65535)
            f.seek(size - tail_len)
            tail = f.read(tail_len)
            at = tail.rfind(b"PK\x05\x06")
            if at < 0 or at + 22 > len(tail):
                return None
            count = int.from_bytes(tail[at + 10 : at + 12], "little")
            if count != 0xFFFF or at < 20 or tail[at - 20 : at - 16] != b"PK\x06\x07":
                return count
            zip64_offset = int.from_bytes(tail[at - 12 : at - 4], "little")
            f.seek(zip64_offset)
            record = f.read(56)
            if len(record) < 40 or record[:4] != b"PK\x06\x06":
                return None
            return int.from_bytes(record[32:40], "little")
    except OSError as exc:
        raise IngestError(f"{archive}: cannot read ({exc.strerror})") from exc


def _plan_archive(
    zf: zipfile.ZipFile, archive: Path, job: str | None, limits: IngestLimits
) -> _Plan:
    infos = zf.infolist()
    if len(infos) > limits.max_members:
        raise ArchiveLimitError(
            f"{archive}: {len(infos)} members exceed the limit of {limits.max_members}",
            hint="raise it with --max-members (setting ingest_max_members) if the archive "
            "is trusted",
        )
    plan = _Plan(sources=(str(archive),), mode="extract")
    unsafe: list[str] = []
    over: list[str] = []
    seen: dict[str, str] = {}
    for info in infos:
        name, problem = _zip_member_name(info)
        if name is None:
            unsafe.append(problem or "")
            continue
        problem = _path_problem(name)
        if problem:
            unsafe.append(problem)
            continue
        parts = [p for p in name.split("/") if p not in ("", ".")]
        key = "/".join(parts)
        if not parts:
            continue
        if key in seen and not (info.is_dir() and seen[key].endswith("/")):
            unsafe.append(f"member {name!r} appears more than once")
            continue
        seen[key] = name
        unix_mode = info.external_attr >> 16
        if stat.S_ISLNK(unix_mode):
            unsafe.append(f"member {name!r} is a symbolic link")
            continue
        if stat.S_IFMT(unix_mode) not in (0, stat.S_IFREG, stat.S_IFDIR):
            unsafe.append(f"member {name!r} is a special file (mode {oct(unix_mode)})")
            continue
        if info.is_dir():
            continue
        if info.flag_bits & 0x1:
            unsafe.append(f"member {name!r} is encrypted")
            continue
        reason = _classify(parts)
        if reason is not None:
            plan.skipped.append(SkippedMember(member=name, reason=reason))
            continue
        if info.compress_type not in _SUPPORTED_COMPRESSION:
            unsafe.append(
                f"member {name!r} uses unsupported compression method {info.compress_type}"
            )
            continue
        if info.file_size == 0:
            unsafe.append(f"member {name!r} is a zero-byte video (truncated transfer?)")
            continue
        if info.file_size > RATIO_EXEMPT_BYTES:
            ratio = info.file_size / max(info.compress_size, 1)
            if ratio > limits.max_ratio:
                over.append(
                    f"member {name!r} has compression ratio {ratio:.0f}:1, above the limit "
                    f"of {limits.max_ratio:g}:1 (possible zip bomb)"
                )
                continue
        job_name, file_name = _job_and_file(parts, job)
        for value, what in ((job_name, "job name"), (file_name, "file name")):
            bad = _check_name(value, f"member {name!r} ({what})")
            if bad:
                unsafe.append(bad + "; use --job NAME")
        plan.items.append(
            _Item(source=name, job=job_name, file=file_name, size=info.file_size, zip_info=info)
        )
    if unsafe:
        raise UnsafeArchiveError(
            f"{archive}: refusing an unsafe archive ({len(unsafe)} problem"
            f"{'s' if len(unsafe) != 1 else ''}):\n{_listing(unsafe)}",
            problems=unsafe,
            hint="nothing was written; ask the sender for an archive of plain video files "
            "with relative UTF-8 paths",
        )
    if over:
        raise ArchiveLimitError(
            f"{archive}: compression-ratio limit exceeded:\n{_listing(over)}",
            hint="nothing was written; raise --max-ratio (setting ingest_max_ratio) only if "
            "the archive is trusted",
        )
    return plan


def _plan_paths(paths: Sequence[Path], job: str | None, mode: Mode, limits: IngestLimits) -> _Plan:
    plan = _Plan(sources=tuple(str(p) for p in paths), mode=mode)
    count = 0
    problems: list[str] = []

    def add_file(path: Path, parts: Sequence[str], display: str) -> None:
        reason = _classify(parts)
        if reason is not None:
            plan.skipped.append(SkippedMember(member=display, reason=reason))
            return
        size = path.stat().st_size
        if size == 0:
            problems.append(f"{display} is a zero-byte video (truncated transfer?)")
            return
        job_name, file_name = _job_and_file(parts, job)
        for value, what in ((job_name, "job name"), (file_name, "file name")):
            bad = _check_name(value, f"{display} ({what})")
            if bad:
                problems.append(bad + "; use --job NAME")
        plan.items.append(_Item(source=display, job=job_name, file=file_name, size=size, path=path))

    for given in paths:
        src = Path(given)
        try:
            st = src.stat()
        except FileNotFoundError:
            raise IngestError(f"{src}: no such file or directory") from None
        except OSError as exc:
            raise IngestError(f"{src}: cannot read ({exc.strerror})") from exc
        if stat.S_ISREG(st.st_mode):
            count += 1
            add_file(src, [src.name], str(src))
            continue
        if not stat.S_ISDIR(st.st_mode):
            raise IngestError(f"{src}: not a regular file or folder")
        for dirpath, dirnames, filenames in os.walk(src, onerror=_raise_walk_error):
            dirnames.sort()
            base = Path(dirpath)
            rel_dir = base.relative_to(src).parts
            count += len(dirnames) + len(filenames)
            if count > limits.max_members:
                raise ArchiveLimitError(
                    f"{src}: more than {limits.max_members} entries",
                    hint="raise --max-members (setting ingest_max_members) or ingest "
                    "sub-folders separately",
                )
            for dname in list(dirnames):
                if (base / dname).is_symlink():
                    plan.skipped.append(
                        SkippedMember(member=str(base / dname), reason=SkipReason.SYMLINK)
                    )
            for fname in sorted(filenames):
                path = base / fname
                display = str(path)
                mode_bits = path.lstat().st_mode
                if stat.S_ISLNK(mode_bits):
                    plan.skipped.append(SkippedMember(member=display, reason=SkipReason.SYMLINK))
                elif not stat.S_ISREG(mode_bits):
                    plan.skipped.append(SkippedMember(member=display, reason=SkipReason.SPECIAL))
                else:
                    add_file(path, [*rel_dir, fname], display)
    if count > limits.max_members:
        raise ArchiveLimitError(
            f"{count} input files exceed the limit of {limits.max_members}",
            hint="raise --max-members (setting ingest_max_members)",
        )
    if problems:
        raise IngestError(
            f"refusing the input ({len(problems)} problem{'s' if len(problems) != 1 else ''}):"
            f"\n{_listing(problems)}",
            hint="nothing was written; remove or fix the files listed",
        )
    return plan


def _raise_walk_error(exc: OSError) -> None:
    raise IngestError(f"{exc.filename}: cannot read ({exc.strerror})") from exc


# --------------------------------------------------------------------------- checks


def _existing(data_dir: Path) -> tuple[dict[str, list[str]], dict[str, JobState]]:
    """Existing job directories (name -> relative paths) and status states."""
    found: dict[str, list[str]] = {}
    layout = DataDir(data_dir)
    for folder in layout.job_folders:
        try:
            entries = list(os.scandir(folder))
        except FileNotFoundError:
            continue
        for entry in entries:
            # Only folders are jobs (an old-layout out/status.json is the daemon's file).
            if not entry.name.startswith(".") and entry.is_dir(follow_symlinks=False):
                found.setdefault(entry.name, []).append(f"{folder.name}/{entry.name}")
    states: dict[str, JobState] = {}
    if layout.out_dir.is_dir() or layout.status.is_file():
        states = {jid: entry.state for jid, entry in read_status(data_dir).jobs.items()}
    return found, states


def _state(data_dir: Path, states: dict[str, JobState], name: str) -> JobState | None:
    """State of job ``name``: from the listed jobs, else from the status index (older jobs)."""
    if name in states:
        return states[name]
    entry = read_job_status(data_dir, name) if DataDir(data_dir).out_dir.is_dir() else None
    return entry.state if entry is not None else None


@dataclass
class _JobPlan:
    name: str
    items: list[_Item]
    replace: list[str] = field(default_factory=list)
    previous_state: JobState | None = None


def _group_and_check(plan: _Plan, data_dir: Path, force: bool, single_job: bool) -> list[_JobPlan]:
    """Group items into jobs and report every collision at once."""
    jobs: dict[str, _JobPlan] = {}
    internal: list[str] = []
    files: dict[tuple[str, str], str] = {}
    for item in plan.items:
        job = jobs.setdefault(item.job, _JobPlan(name=item.job, items=[]))
        if single_job:
            other = files.get((item.job, item.file))
            if other is not None:
                internal.append(
                    f"{other!r} and {item.source!r} both map to file {item.job}/{item.file}"
                )
                continue
        elif job.items:
            internal.append(
                f"{job.items[0].source!r} and {item.source!r} both map to job {item.job!r}"
            )
            continue
        files[(item.job, item.file)] = item.source
        job.items.append(item)
    if internal:
        raise JobCollisionError(
            f"names clash inside the input ({len(internal)}):\n{_listing(internal)}",
            collisions={"<input>": internal},
            hint="nothing was written; rename the files, or use --job NAME to put all "
            "videos in one job",
        )
    found, states = _existing(data_dir)
    clashes: dict[str, list[str]] = {}
    busy: list[str] = []
    for name, job in jobs.items():
        what = list(found.get(name, []))
        state = _state(data_dir, states, name)
        if state is not None:
            what.append(f"status.json ({state.value})")
            if state is JobState.PROCESSING:
                busy.append(name)
        if what:
            clashes[name] = what
            job.replace = list(found.get(name, []))
            job.previous_state = state
    if busy:
        raise JobBusyError(
            "the daemon is processing job(s) with these names: " + ", ".join(sorted(busy)),
            hint="wait until they finish (see `neuropose status`) or choose another --job name",
        )
    if clashes and not force:
        lines = [f"{n}: exists as {', '.join(w)}" for n, w in sorted(clashes.items())]
        raise JobCollisionError(
            f"{len(clashes)} job name(s) already exist:\n{_listing(lines)}",
            collisions=clashes,
            hint="nothing was written; use --force to replace exactly these jobs, or --job NAME",
        )
    return [jobs[n] for n in sorted(jobs)]


def _completed_jobs_blocked(jobs: list[_JobPlan], data_dir: Path) -> None:
    """Refuse to replace completed jobs while a daemon runs (it would never reprocess them).

    A running daemon keeps job states in memory and does not pick up new
    inputs of a job it recorded as completed; without a daemon, ingest drops
    the old status entries itself (under the daemon lock).
    """
    completed = sorted(j.name for j in jobs if j.previous_state is JobState.COMPLETED)
    if not completed:
        return
    info = probe_lock(DataDir(data_dir).lock)
    if info.held:
        raise JobBusyError(
            f"the running daemon ({info.describe()}) recorded job(s) "
            f"{', '.join(completed)} as completed and would not process a replacement",
            hint="stop `neuropose watch`, run the same ingest with --force, then start it "
            "again; or choose another --job name",
        )


def _job_report(job: _JobPlan) -> IngestedJob:
    videos = [IngestedVideo(source=i.source, file=i.file, size_bytes=i.size) for i in job.items]
    return IngestedJob(
        name=job.name,
        path=f"{IN_DIR}/{job.name}",
        videos=tuple(sorted(videos, key=lambda v: v.file)),
        size_bytes=sum(v.size_bytes for v in videos),
        replaced=tuple(job.replace),
        previous_state=job.previous_state,
    )


def _check_space(data_dir: Path, needed: int) -> None:
    probe = data_dir
    while not probe.exists():
        probe = probe.parent
    free = shutil.disk_usage(probe).free
    if free < needed + FREE_SPACE_RESERVE_BYTES:
        raise InsufficientSpaceError(
            f"{data_dir}: {_human(free)} free, but the input needs {_human(needed)} plus a "
            f"reserve of {_human(FREE_SPACE_RESERVE_BYTES)}",
            hint="free disk space or ingest a smaller batch",
        )


def _check_total(plan: _Plan, limits: IngestLimits) -> None:
    total = plan.total_bytes
    if total > limits.max_total_bytes:
        raise ArchiveLimitError(
            f"{', '.join(plan.sources)}: the videos total {total} bytes ({_human(total)}), "
            f"above the limit of {limits.max_total_bytes} bytes",
            hint="nothing was written; raise --max-total-bytes (setting "
            "ingest_max_total_bytes) or ingest a smaller batch",
        )


def _check_has_videos(plan: _Plan) -> None:
    if plan.items:
        return
    lines = [f"{s.member}: {s.reason.value}" for s in plan.skipped]
    detail = f"; skipped:\n{_listing(lines)}" if lines else ""
    raise NoVideosError(
        f"{', '.join(plan.sources)}: no video to ingest{detail}",
        hint="videos are recognised by extension: " + " ".join(sorted(VIDEO_EXTENSIONS)),
    )


# --------------------------------------------------------------------------- staging


def _staging_root(data_dir: Path) -> Path:
    return DataDir(data_dir).staging


def _write_stream(
    reader: IO[bytes],
    dest: Path | None,
    declared: int,
    budget: list[int],
    member: str,
    progress: Callable[[int], None],
) -> int:
    """Copy ``reader`` to a new file, stopping at more than ``declared`` bytes.

    With ``dest=None`` the data is read, counted and CRC-checked but not written.
    """
    written = 0
    if dest is None:
        out_ctx: Any = open(os.devnull, "wb")  # noqa: SIM115 - closed by the with below
    else:
        fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        out_ctx = os.fdopen(fd, "wb")
    with out_ctx as out:
        while True:
            chunk = reader.read(_CHUNK)
            if not chunk:
                break
            written += len(chunk)
            budget[0] -= len(chunk)
            if written > declared:
                raise UnsafeArchiveError(
                    f"member {member!r} produced more than its declared {declared} bytes; "
                    "the archive's size fields lie (possible zip bomb)",
                    hint="nothing was written; do not trust this archive",
                )
            if budget[0] < 0:
                raise ArchiveLimitError(
                    f"member {member!r}: extraction exceeded the byte limit of this ingest",
                    hint="nothing was written; raise --max-total-bytes if the archive is trusted",
                )
            out.write(chunk)
            progress(len(chunk))
        out.flush()
        if dest is not None:
            os.fsync(out.fileno())
    if written != declared:
        raise UnsafeArchiveError(
            f"member {member!r} produced {written} bytes but declares {declared}; the "
            "archive is corrupt or crafted",
            hint="nothing was written; ask the sender for a new archive",
        )
    return written


def _stage_item(
    item: _Item,
    dest: Path | None,
    zf: zipfile.ZipFile | None,
    mode: str,
    budget: list[int],
    progress: Callable[[int], None],
) -> int:
    """Put one video at ``dest``; returns bytes written (0 for a hard link)."""
    if zf is not None:
        assert item.zip_info is not None
        try:
            with zf.open(item.zip_info) as reader:
                return _write_stream(reader, dest, item.size, budget, item.source, progress)
        except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, NotImplementedError) as exc:
            raise UnsafeArchiveError(
                f"member {item.source!r} is corrupt or its header lies: {exc}",
                hint="nothing was written; ask the sender for a new archive",
            ) from exc
    assert item.path is not None and dest is not None
    if mode in ("link", "move"):
        try:
            os.link(item.path, dest)
            progress(item.size)
            return 0
        except OSError as exc:
            if mode == "link":
                raise IngestError(
                    f"cannot hard-link {item.path} into the data directory: {exc.strerror}",
                    hint="hard links need the same filesystem and permission; use copy "
                    "(the default) instead",
                ) from exc
    return _copy_file(item.path, dest, item.size, budget, progress)


def _copy_file(
    src: Path, dest: Path, declared: int, budget: list[int], progress: Callable[[int], None]
) -> int:
    """Copy exactly ``declared`` bytes of ``src`` to a new, fsync'd ``dest``.

    Uses ``os.copy_file_range`` (in-kernel copy) where possible, else
    read/write. Source-side problems raise :class:`IngestError`; destination
    errors (ENOSPC...) propagate as ``OSError`` and are typed by the caller.
    """
    try:
        src_fd = os.open(src, os.O_RDONLY)
    except OSError as exc:
        raise IngestError(f"{src}: cannot read ({exc.strerror})") from exc
    changed = IngestError(
        f"{src} changed size while being ingested (expected {declared} bytes)",
        hint="wait until the file is complete and retry; nothing was queued",
    )
    try:
        if os.fstat(src_fd).st_size != declared:
            raise changed
        fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            written = 0
            kernel_copy = hasattr(os, "copy_file_range")
            while written < declared:
                want = min(8 * _CHUNK, declared - written)
                if kernel_copy:
                    try:
                        n = os.copy_file_range(src_fd, fd, want)
                    except OSError as exc:
                        if written == 0 and exc.errno in (
                            errno.EXDEV,
                            errno.EINVAL,
                            errno.ENOSYS,
                            errno.EOPNOTSUPP,
                        ):
                            kernel_copy = False
                            continue
                        raise
                else:
                    chunk = os.read(src_fd, want)
                    n = len(chunk)
                    view = memoryview(chunk)
                    while view:
                        view = view[os.write(fd, view) :]
                if n == 0:
                    break
                written += n
                budget[0] -= n
                if budget[0] < 0:
                    raise ArchiveLimitError(
                        f"{src}: copying exceeded the byte limit of this ingest",
                        hint="raise --max-total-bytes (setting ingest_max_total_bytes)",
                    )
                progress(n)
            if written != declared or os.fstat(src_fd).st_size != declared:
                raise changed
            os.fsync(fd)
        finally:
            os.close(fd)
    finally:
        os.close(src_fd)
    return written


_AT_FDCWD = -100
_RENAME_NOREPLACE = 1


def _libc_renameat2() -> Any:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return getattr(libc, "renameat2", None)
    except OSError:  # pragma: no cover - no libc (not Linux)
        return None


_RENAMEAT2 = _libc_renameat2()


def _rename_noreplace(src: Path, dst: Path) -> None:
    """Rename ``src`` to ``dst`` atomically, failing with ``FileExistsError`` if ``dst`` exists.

    Uses Linux ``renameat2(RENAME_NOREPLACE)``; where that is unavailable
    (other kernels, some filesystems) it falls back to check-then-rename,
    which cannot replace a non-empty directory either.
    """
    if _RENAMEAT2 is not None:
        rc = _RENAMEAT2(_AT_FDCWD, os.fsencode(src), _AT_FDCWD, os.fsencode(dst), _RENAME_NOREPLACE)
        if rc == 0:
            return
        err = ctypes.get_errno()
        if err not in (errno.ENOSYS, errno.EINVAL):
            raise OSError(err, os.strerror(err), str(dst))
    if os.path.lexists(dst):
        raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(dst))
    os.rename(src, dst)


def _typed_os_error(exc: OSError, data_dir: Path) -> NeuroPoseError:
    """The typed error for an unexpected ``OSError`` while ingesting."""
    where = exc.filename or data_dir
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return InsufficientSpaceError(
            f"{where}: the disk filled up while ingesting ({exc.strerror}); nothing was queued",
            hint="free disk space and retry",
        )
    if exc.errno == errno.EFBIG:
        return ResourceError(
            f"{where}: file too large for this filesystem or process limit ({exc.strerror}); "
            "nothing was queued",
            hint="check `ulimit -f` and the filesystem's file-size limit",
        )
    if exc.errno in (errno.EEXIST, errno.ENOTEMPTY):
        return JobCollisionError(
            f"{where} appeared while ingesting (another program wrote into in/); "
            "nothing was queued",
            collisions={str(where): ["created concurrently"]},
            hint="retry; use --force to replace it",
        )
    return ResourceError(
        f"{where}: {exc.strerror or exc}; nothing was queued",
        hint="check that the data directory is writable and on a healthy filesystem",
    )


def _execute(
    plan: _Plan,
    data_dir: Path,
    *,
    force: bool,
    limits: IngestLimits,
    zf: zipfile.ZipFile | None,
    progress: ProgressCallback | None,
    single: bool,
    dry_run: bool = False,
) -> IngestReport:
    try:
        return _execute_checked(
            plan,
            data_dir,
            force=force,
            limits=limits,
            zf=zf,
            progress=progress,
            single=single,
            dry_run=dry_run,
        )
    except OSError as exc:
        raise _typed_os_error(exc, data_dir) from exc


def _execute_checked(
    plan: _Plan,
    data_dir: Path,
    *,
    force: bool,
    limits: IngestLimits,
    zf: zipfile.ZipFile | None,
    progress: ProgressCallback | None,
    single: bool,
    dry_run: bool,
) -> IngestReport:
    _check_has_videos(plan)
    _check_total(plan, limits)
    planned = _group_and_check(plan, data_dir, force, single)
    _completed_jobs_blocked(planned, data_dir)
    needs_space = plan.mode in ("extract", "copy")
    if needs_space:
        _check_space(data_dir, plan.total_bytes)
    if dry_run:
        return _dry_run(plan, data_dir, planned, zf=zf, limits=limits, progress=progress)

    root = _staging_root(data_dir)
    created = [p for p in (data_dir, *data_dir.parents) if not p.exists()]
    lock = staging_lock(data_dir, "neuropose ingest", wait_s=2.0)
    if not lock.try_acquire():
        raise IngestBusyError(
            f"another ingest is running in {data_dir} (holder: {lock.describe_holder()})",
            hint="wait for it to finish and retry",
        )
    ok = False
    daemon_lock: ExclusiveLock | None = None
    try:
        cleaned = clean_locked(root)
        # Re-check under the lock: another ingest may have finished meanwhile.
        jobs = _group_and_check(plan, data_dir, force, single)
        _completed_jobs_blocked(jobs, data_dir)
        if needs_space:
            _check_space(data_dir, plan.total_bytes)
        drop = [j.name for j in jobs if j.previous_state is not None]
        if drop:
            try:
                daemon_lock = ExclusiveLock(
                    DataDir(data_dir).lock, purpose="neuropose ingest --force", wait_s=0.5
                ).acquire()
            except LockHeldError:
                # A daemon started meanwhile: it requeues failed/queued jobs by itself.
                _completed_jobs_blocked(jobs, data_dir)
                drop = []
        report = _stage_and_place(
            plan,
            data_dir,
            root,
            jobs,
            zf=zf,
            limits=limits,
            progress=progress,
            cleaned=cleaned,
            drop_status=drop,
        )
        ok = True
        return report
    finally:
        if daemon_lock is not None:
            daemon_lock.release()
        lock.release()
        if not ok:  # leave no directory this failed ingest created
            for path in created:
                with contextlib.suppress(OSError):
                    path.rmdir()


def _dry_run(
    plan: _Plan,
    data_dir: Path,
    jobs: list[_JobPlan],
    *,
    zf: zipfile.ZipFile | None,
    limits: IngestLimits,
    progress: ProgressCallback | None,
) -> IngestReport:
    """Check everything an ingest would, reading archive data fully, and write nothing."""
    total = plan.total_bytes
    done = [0]

    def tick(n: int) -> None:
        done[0] += n
        if progress is not None:
            progress(done[0], total)

    budget = [limits.max_total_bytes]
    if zf is not None:
        for job in jobs:
            for item in job.items:
                _stage_item(item, None, zf, plan.mode, budget, tick)
    return IngestReport(
        sources=plan.sources,
        data_dir=str(data_dir),
        mode=plan.mode,
        dry_run=True,
        jobs=tuple(_job_report(j) for j in jobs),
        skipped=tuple(plan.skipped),
    )


def _stage_and_place(
    plan: _Plan,
    data_dir: Path,
    root: Path,
    jobs: list[_JobPlan],
    *,
    zf: zipfile.ZipFile | None,
    limits: IngestLimits,
    progress: ProgressCallback | None,
    cleaned: list[Path],
    drop_status: list[str],
) -> IngestReport:
    staging = root / f"ingest-{os.getpid()}-{secrets.token_hex(6)}"
    staged_jobs = staging / "jobs"
    trash = staging / "replaced"
    in_dir = DataDir(data_dir).in_dir
    total = plan.total_bytes
    done = [0]

    def tick(n: int) -> None:
        done[0] += n
        if progress is not None:
            progress(done[0], total)

    budget = [limits.max_total_bytes]
    bytes_written = 0
    placed: list[tuple[Path, Path]] = []  # (in/<job>, staged path) for rollback
    moved_aside: list[tuple[Path, Path]] = []  # (original, trash path)
    reports: list[IngestedJob] = []
    in_created = False
    status_rewritten = False
    forgotten: list[JobStatusEntry] = []
    try:
        staged_jobs.mkdir(parents=True)
        trash.mkdir()
        for job in jobs:
            job_dir = staged_jobs / job.name
            job_dir.mkdir()
            for item in job.items:
                bytes_written += _stage_item(item, job_dir / item.file, zf, plan.mode, budget, tick)
            with (job_dir / READY_MARKER).open("wb") as marker:
                os.fsync(marker.fileno())
            fsync_directory(job_dir)
            reports.append(_job_report(job))
        fsync_directory(staged_jobs)
        in_created = not in_dir.exists()
        in_dir.mkdir(parents=True, exist_ok=True)
        if drop_status:  # we hold the daemon lock: forget the replaced jobs' old states
            forgotten = forget_jobs(data_dir, drop_status)
            status_rewritten = True
        for job in jobs:
            for rel in job.replace:
                original = data_dir / rel
                aside = trash / rel.replace("/", "__")
                os.rename(original, aside)
                moved_aside.append((original, aside))
            target = in_dir / job.name
            _rename_noreplace(staged_jobs / job.name, target)
            placed.append((target, staged_jobs / job.name))
        fsync_directory(in_dir)
        for sub in {Path(rel).parts[0] for job in jobs for rel in job.replace}:
            fsync_directory(data_dir / sub)
    except BaseException:
        for target, back in reversed(placed):
            with contextlib.suppress(OSError):
                os.rename(target, back)
        for original, aside in reversed(moved_aside):
            with contextlib.suppress(OSError):
                os.rename(aside, original)
        if status_rewritten:
            with contextlib.suppress(OSError, NeuroPoseError):
                restore_jobs(data_dir, forgotten)
        remove_tree(staging)
        with contextlib.suppress(OSError):
            if in_created:
                in_dir.rmdir()
            elif placed:
                fsync_directory(in_dir)
        raise
    remove_tree(staging)
    fsync_directory(root)
    if plan.mode == "move":
        for job in jobs:
            for item in job.items:
                assert item.path is not None
                try:
                    item.path.unlink()
                except OSError as exc:
                    logger.warning(
                        "placed %s but could not remove the source: %s", item.path, exc.strerror
                    )
    for r in reports:
        logger.debug("queued job %s (%d video(s), %d bytes)", r.name, len(r.videos), r.size_bytes)
    return IngestReport(
        sources=plan.sources,
        data_dir=str(data_dir),
        mode=plan.mode,
        jobs=tuple(reports),
        skipped=tuple(plan.skipped),
        bytes_written=bytes_written,
        cleaned_staging=tuple(str(p) for p in cleaned),
    )


# --------------------------------------------------------------------------- public API


def _validate_job(job: str | None) -> None:
    if job is None:
        return
    if sanitize_name(job) != job or _check_name(job, "--job") is not None:
        raise IngestError(
            f"invalid job name {job!r}",
            hint=f"use letters, digits, '.', '_' and '-', not starting with '.', at most "
            f"{MAX_NAME_LENGTH} characters (for example {sanitize_name(job) or 'job_1'!r})",
        )


def ingest_archive(
    zip_path: Path | str,
    data_dir: Path | str,
    *,
    job: str | None = None,
    force: bool = False,
    limits: IngestLimits | None = None,
    progress: ProgressCallback | None = None,
    dry_run: bool = False,
) -> IngestReport:
    """Validate a zip archive and turn its videos into jobs in ``data_dir/in/``.

    Parameters
    ----------
    zip_path : Path or str
        The archive (untrusted).
    data_dir : Path or str
        The data directory; created when missing.
    job : str, optional
        Put every video into this one job instead of one job per video.
    force : bool
        Replace existing jobs of the same names (each listed in the report).
    limits : IngestLimits, optional
        Member-count, size and ratio limits (default :class:`IngestLimits()`).
    progress : callable, optional
        Called as ``progress(bytes_done, bytes_total)`` while extracting.
    dry_run : bool
        Run every check (reading and CRC-checking all video data) and report
        the jobs that would be created, writing nothing.

    Returns
    -------
    IngestReport
        Jobs created and members skipped.

    Raises
    ------
    UnsafeArchiveError, ArchiveLimitError, NoVideosError, JobCollisionError
        The archive is refused (exit code 2); nothing was written.
    JobBusyError, IngestBusyError
        A job to replace is being processed, or another ingest runs (exit 3).
    InsufficientSpaceError
        Not enough free disk space (exit code 4).
    """
    archive = Path(zip_path)
    data = Path(data_dir)
    limits = limits or IngestLimits()
    _validate_job(job)
    if not archive.is_file():
        raise IngestError(f"{archive}: no such archive")
    declared = _declared_member_count(archive)
    if declared is not None and declared > limits.max_members:
        raise ArchiveLimitError(
            f"{archive}: {declared} members exceed the limit of {limits.max_members}",
            hint="raise it with --max-members (setting ingest_max_members) if the archive "
            "is trusted",
        )
    try:
        zf = zipfile.ZipFile(archive)
    except UnicodeDecodeError:
        raise UnsafeArchiveError(
            f"{archive}: a member name is marked UTF-8 but is not valid UTF-8",
            hint="nothing was written; re-create the archive with UTF-8 names",
        ) from None
    except (zipfile.BadZipFile, EOFError, ValueError) as exc:
        raise IngestError(f"{archive}: not a valid zip archive ({exc})") from exc
    except OSError as exc:
        raise IngestError(f"{archive}: cannot read ({exc.strerror})") from exc
    with zf:
        plan = _plan_archive(zf, archive, job, limits)
        return _execute(
            plan,
            data,
            force=force,
            limits=limits,
            zf=zf,
            progress=progress,
            single=job is not None,
            dry_run=dry_run,
        )


def ingest_paths(
    paths: Iterable[Path | str],
    data_dir: Path | str,
    *,
    job: str | None = None,
    force: bool = False,
    mode: Mode = "copy",
    limits: IngestLimits | None = None,
    progress: ProgressCallback | None = None,
    dry_run: bool = False,
) -> IngestReport:
    """Turn folders and video files into jobs in ``data_dir/in/``.

    Parameters
    ----------
    paths : iterable of Path or str
        Folders (walked recursively; names relative to the folder) and video
        files (named by their file name).
    data_dir : Path or str
        The data directory; created when missing.
    job : str, optional
        Put every video into this one job.
    force : bool
        Replace existing jobs of the same names (each listed in the report).
    mode : {"copy", "move", "link"}
        ``copy`` (default) leaves the sources alone; ``move`` removes each
        source after its job was placed (hard-linked when on the same
        filesystem, else copied); ``link`` hard-links and fails when that is
        impossible (another filesystem).
    limits : IngestLimits, optional
        Entry-count and size limits.
    progress : callable, optional
        Called as ``progress(bytes_done, bytes_total)``.
    dry_run : bool
        Run every check and report the jobs that would be created, writing
        nothing.

    Returns
    -------
    IngestReport

    Raises
    ------
    IngestError, ArchiveLimitError, NoVideosError, JobCollisionError
        The input is refused (exit code 2); nothing was written.
    JobBusyError, IngestBusyError, InsufficientSpaceError
        As for :func:`ingest_archive`.
    """
    if mode not in ("copy", "move", "link"):
        raise IngestError(f"unknown mode {mode!r}", hint="use copy, move or link")
    _validate_job(job)
    sources = [Path(p) for p in paths]
    if not sources:
        raise IngestError("nothing to ingest: no paths given")
    limits = limits or IngestLimits()
    data = Path(data_dir).resolve()
    for src in sources:
        real = src.resolve()
        if real == data or data in real.parents:
            raise IngestError(
                f"{src} is inside the data directory {data}",
                hint="ingest from outside the data directory; jobs in in/ are already queued",
            )
        if real in data.parents:
            raise IngestError(
                f"the data directory {data} is inside {src}; ingesting it would queue the "
                "queue itself",
                hint="ingest a folder that does not contain the data directory",
            )
    plan = _plan_paths(sources, job, mode, limits)
    return _execute(
        plan,
        Path(data_dir),
        force=force,
        limits=limits,
        zf=None,
        progress=progress,
        single=job is not None,
        dry_run=dry_run,
    )
