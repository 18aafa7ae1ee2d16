"""Checks of an untrusted zip archive, before anything is extracted.

An archive is refused as a whole, every problem listed, when a member has an
absolute path, a ``..`` component, a backslash, a drive letter, a control
character, is a symbolic link or special file (Unix mode in the external
attributes), is encrypted, uses an unsupported compression method, has a
name that is not valid UTF-8 (names without the UTF-8 flag, bit 11, are
accepted when ASCII or valid UTF-8; legacy code pages are refused rather
than guessed), appears twice, or is a zero-byte video. The member count is
read from the end record before :class:`zipfile.ZipFile` builds anything;
each video above :data:`~neuropose.ingest.report.RATIO_EXEMPT_BYTES` must
stay under the compression-ratio limit.

>>> path_problem("../evil.mp4")
"member '../evil.mp4' has a '..' component (path traversal)"
>>> path_problem("patient_001/trial.mp4") is None
True
"""

from __future__ import annotations

import os
import re
import stat
import unicodedata
import zipfile
import zlib
from pathlib import Path

from neuropose.ingest.errors import ArchiveLimitError, IngestError, UnsafeArchiveError
from neuropose.ingest.multiview import plan_multiview
from neuropose.ingest.naming import listing, sanitize_name
from neuropose.ingest.plan import Item, Plan, Planner
from neuropose.ingest.report import RATIO_EXEMPT_BYTES, IngestLimits
from neuropose.logs import printable

__all__ = ["open_archive", "path_problem", "plan_archive"]

_DRIVE = re.compile(r"^[A-Za-z]:")
_SUPPORTED_COMPRESSION = {
    zipfile.ZIP_STORED,
    zipfile.ZIP_DEFLATED,
    zipfile.ZIP_BZIP2,
    zipfile.ZIP_LZMA,
}
_MEMBERS_HINT = "raise it with --max-members (setting ingest_max_members) if the archive is trusted"


def open_archive(archive: Path, limits: IngestLimits) -> zipfile.ZipFile:
    """Open ``archive`` after checking its declared member count.

    Raises
    ------
    ArchiveLimitError, UnsafeArchiveError, IngestError
        Too many members, a member name marked UTF-8 that is not, or not a
        readable zip archive.
    """
    declared = _declared_member_count(archive)
    if declared is not None and declared > limits.max_members:
        raise ArchiveLimitError(
            f"{printable(archive)}: {declared} members exceed the limit of {limits.max_members}",
            hint=_MEMBERS_HINT,
        )
    try:
        return zipfile.ZipFile(archive)
    except UnicodeDecodeError:
        raise UnsafeArchiveError(
            f"{printable(archive)}: a member name is marked UTF-8 but is not valid UTF-8",
            hint="nothing was written; re-create the archive with UTF-8 names",
        ) from None
    except (zipfile.BadZipFile, EOFError, ValueError) as exc:
        raise IngestError(f"{printable(archive)}: not a valid zip archive ({exc})") from exc
    except OSError as exc:
        raise IngestError(f"{printable(archive)}: cannot read ({exc.strerror})") from exc


def plan_archive(zf: zipfile.ZipFile, archive: Path, job: str | None, limits: IngestLimits) -> Plan:
    """Check every member of ``zf`` and plan its videos; raise listing every problem."""
    infos = zf.infolist()
    if len(infos) > limits.max_members:
        raise ArchiveLimitError(
            f"{printable(archive)}: {len(infos)} members exceed the limit of {limits.max_members}",
            hint=_MEMBERS_HINT,
        )
    planner = Planner([str(archive)], "extract", job)
    planner.source_key = "<archive>"
    planner.root_names[planner.source_key] = sanitize_name(archive.name.rsplit(".", 1)[0])
    over: list[str] = []
    seen: dict[str, str] = {}
    for info in infos:
        name, problem = _zip_member_name(info)
        if name is not None and problem is None:
            problem = path_problem(name)
        if name is None or problem is not None:
            planner.problems.append(problem or "")
            continue
        parts = [p for p in name.split("/") if p not in ("", ".")]
        key = "/".join(parts)
        if not parts:
            continue
        problem = _member_problem(info, name, seen.get(key))
        seen[key] = name
        if problem is not None:
            planner.problems.append(problem)
            continue
        if info.is_dir():
            continue
        if planner.take_side_file(parts, name, info.file_size, zip_info=info):
            continue
        if not planner.is_video(parts, name):
            continue
        label = f"member {name!r}"
        if info.compress_type not in _SUPPORTED_COMPRESSION:
            planner.problems.append(
                f"{label} uses unsupported compression method {info.compress_type}"
            )
            continue
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > RATIO_EXEMPT_BYTES and ratio > limits.max_ratio:
            over.append(
                f"{label} has compression ratio {ratio:.0f}:1, above the limit "
                f"of {limits.max_ratio:g}:1 (possible zip bomb)"
            )
            continue
        planner.add_video(parts, name, info.file_size, label=label, zip_info=info)
    if planner.problems:
        n = len(planner.problems)
        raise UnsafeArchiveError(
            f"{printable(archive)}: refusing an unsafe archive ({n} problem"
            f"{'s' if n != 1 else ''}):\n{listing(planner.problems)}",
            problems=planner.problems,
            hint="nothing was written; ask the sender for an archive of plain video files "
            "with relative UTF-8 paths",
        )
    if over:
        raise ArchiveLimitError(
            f"{printable(archive)}: compression-ratio limit exceeded:\n{listing(over)}",
            hint="nothing was written; raise --max-ratio (setting ingest_max_ratio) only if "
            "the archive is trusted",
        )
    plan_multiview(planner, probe=False, read=lambda item: _read_member(zf, item))
    if planner.problems:
        n = len(planner.problems)
        raise IngestError(
            f"{printable(archive)}: refusing the archive ({n} problem"
            f"{'s' if n != 1 else ''}):\n{listing(planner.problems)}",
            hint="nothing was written; fix the multi-view job(s) listed",
        )
    return planner.plan


def _read_member(zf: zipfile.ZipFile, item: Item) -> bytes:
    """A small member (calibration, camera map) read in full; its declared size is bounded."""
    assert item.zip_info is not None
    try:
        return zf.read(item.zip_info)
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, NotImplementedError) as exc:
        raise UnsafeArchiveError(
            f"member {item.source!r} is corrupt or its header lies: {exc}",
            hint="nothing was written; ask the sender for a new archive",
        ) from exc


def path_problem(name: str) -> str | None:
    """Why a member name could escape the data directory or mislead, else ``None``."""
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


def _member_problem(info: zipfile.ZipInfo, name: str, seen_as: str | None) -> str | None:
    """Duplicate, link, special-file and encryption checks of one member."""
    if seen_as is not None and not (info.is_dir() and seen_as.endswith("/")):
        return f"member {name!r} appears more than once"
    unix_mode = info.external_attr >> 16
    if stat.S_ISLNK(unix_mode):
        return f"member {name!r} is a symbolic link"
    if stat.S_IFMT(unix_mode) not in (0, stat.S_IFREG, stat.S_IFDIR):
        return f"member {name!r} is a special file (mode {oct(unix_mode)})"
    if not info.is_dir() and info.flag_bits & 0x1:
        return f"member {name!r} is encrypted"
    return None


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
        raise IngestError(f"{printable(archive)}: cannot read ({exc.strerror})") from exc
