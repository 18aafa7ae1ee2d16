"""What an ingest will do: one :class:`Item` per video, from folders and files.

:class:`Planner` is the one member/file check shared by archive planning
(:mod:`neuropose.ingest.zipcheck`) and folder planning (:func:`plan_paths`):
it skips what is not a video (with the reason), refuses zero-byte and
truncated videos, derives the job and file names and checks them. Problems
are collected so that every one is reported at once.

Symbolic links: a path named on the command line that is itself a symbolic
link (a file or a folder) is refused unless ``follow_symlinks`` is set; then
its target is read (and, with ``move``, removed once placed). Links inside a
folder are never followed (skipped and listed). Links in the parent folders
of a path given are the user's own path and are resolved as usual.
"""

from __future__ import annotations

import os
import stat
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from neuropose.ingest.errors import ArchiveLimitError, IngestError
from neuropose.ingest.multiview import plan_multiview
from neuropose.ingest.naming import check_name, classify, job_and_file, listing, sanitize_name
from neuropose.ingest.report import IngestLimits, Mode, SkippedMember, SkipReason
from neuropose.logs import printable
from neuropose.multiview.job import side_file_kind
from neuropose.video.container import TRUNCATED_HINT, scan_file

__all__ = ["FILES_KEY", "Argument", "Item", "Plan", "Planner", "open_argument", "plan_paths"]

#: Source key of the files named one by one on the command line (one folder group).
FILES_KEY = "<files>"


@dataclass
class Item:
    """One file to place: where it comes from and where it goes.

    ``kind`` is ``"video"``, or for a multi-view job its ``"calibration"`` or
    ``"camera_map"`` (:mod:`neuropose.ingest.multiview`); ``group`` is the
    folder it was found in (source key, then path parts); ``multiview`` marks
    the files of a multi-view job (several videos in one job without ``--job``).
    """

    source: str
    job: str
    file: str
    size: int
    zip_info: zipfile.ZipInfo | None = None
    path: Path | None = None
    kind: Literal["video", "calibration", "camera_map"] = "video"
    group: tuple[str, ...] = ()
    multiview: bool = False


@dataclass
class Plan:
    """Every video of one ingest and every member skipped."""

    sources: tuple[str, ...]
    mode: Literal["extract", "copy", "move", "link"]
    items: list[Item] = field(default_factory=list)
    skipped: list[SkippedMember] = field(default_factory=list)

    @property
    def total_bytes(self) -> int:
        """Bytes of video to write."""
        return sum(i.size for i in self.items)


class Planner:
    """Builds a :class:`Plan`, collecting every problem (see the module docstring)."""

    def __init__(
        self,
        sources: Sequence[str],
        mode: Literal["extract", "copy", "move", "link"],
        job: str | None,
    ) -> None:
        self.plan = Plan(sources=tuple(sources), mode=mode)
        self.job = job
        self.problems: list[str] = []
        self.truncated = False  # a problem is a truncated or unfinalised video
        self.source_key = ""  # folder group of the files being added (see Item.group)
        self.root_names: dict[str, str | None] = {}  # source key -> job name of its root
        self.side_files: list[Item] = []  # calibration / camera-map candidates

    def take_side_file(
        self,
        parts: Sequence[str],
        source: str,
        size: int,
        *,
        zip_info: zipfile.ZipInfo | None = None,
        path: Path | None = None,
    ) -> bool:
        """Keep a possible calibration or ``cameras.toml`` for the multi-view check."""
        if side_file_kind(parts[-1]) is None or classify(parts) is not SkipReason.NOT_VIDEO:
            return False
        group = (self.source_key, *parts[:-1])
        self.side_files.append(
            Item(source, "", parts[-1], size, zip_info=zip_info, path=path, group=group)
        )
        return True

    def is_video(self, parts: Sequence[str], member: str) -> bool:
        """Whether ``parts`` names a video; if not, record it as skipped with its reason."""
        reason = classify(parts)
        if reason is not None:
            self.skip(member, reason)
        return reason is None

    def add_video(
        self,
        parts: Sequence[str],
        source: str,
        size: int,
        *,
        label: str | None = None,
        zip_info: zipfile.ZipInfo | None = None,
        path: Path | None = None,
    ) -> None:
        """Plan the video ``source`` at ``parts`` (``label``, default ``source``, in messages)."""
        label = label or source
        if size == 0:
            self.problems.append(f"{label} is a zero-byte video (truncated transfer?)")
            return
        job_name, file_name = job_and_file(parts, self.job)
        for value, what in ((job_name, "job name"), (file_name, "file name")):
            bad = check_name(value, f"{label} ({what})")
            if bad:
                self.problems.append(bad + "; use --job NAME")
        self.plan.items.append(
            Item(
                source,
                job_name,
                file_name,
                size,
                zip_info=zip_info,
                path=path,
                group=(self.source_key, *parts[:-1]),
            )
        )

    def skip(self, member: str, reason: SkipReason) -> None:
        """Record ``member`` as skipped."""
        self.plan.skipped.append(SkippedMember(member=member, reason=reason))


def _read_error(exc: OSError) -> IngestError:
    """The :class:`IngestError` for a source that cannot be read."""
    return IngestError(f"{printable(exc.filename)}: cannot read ({exc.strerror})")


def plan_paths(
    paths: Sequence[Path],
    job: str | None,
    mode: Mode,
    limits: IngestLimits,
    *,
    follow_symlinks: bool = False,
) -> Plan:
    """Plan folders (walked, names relative to the folder) and video files."""
    planner = Planner([str(p) for p in paths], mode, job)
    planner.root_names[FILES_KEY] = None
    count = 0
    for index, src in enumerate(paths):
        given = open_argument(src, follow_symlinks)
        if not given.is_dir:
            count += 1
            planner.source_key = FILES_KEY
            _add_file(planner, given.path, [src.name], str(src))
            continue
        planner.source_key = f"<folder {index}>"
        planner.root_names[planner.source_key] = sanitize_name(given.path.resolve().name)
        for dirpath, dirnames, filenames in os.walk(given.path, onerror=_raise_walk_error):
            dirnames.sort()
            base = Path(dirpath)
            rel_dir = base.relative_to(given.path).parts
            shown = src.joinpath(*rel_dir)
            count += len(dirnames) + len(filenames)
            if count > limits.max_members:
                raise ArchiveLimitError(
                    f"{printable(src)}: more than {limits.max_members} entries",
                    hint="raise --max-members (setting ingest_max_members) or ingest "
                    "sub-folders separately",
                )
            for dname in list(dirnames):
                if (base / dname).is_symlink():
                    planner.skip(str(shown / dname), SkipReason.SYMLINK)
            for fname in sorted(filenames):
                mode_bits = (base / fname).lstat().st_mode
                if stat.S_ISLNK(mode_bits):
                    planner.skip(str(shown / fname), SkipReason.SYMLINK)
                elif not stat.S_ISREG(mode_bits):
                    planner.skip(str(shown / fname), SkipReason.SPECIAL)
                else:
                    _add_file(planner, base / fname, [*rel_dir, fname], str(shown / fname))
    if count > limits.max_members:
        raise ArchiveLimitError(
            f"{count} input files exceed the limit of {limits.max_members}",
            hint="raise --max-members (setting ingest_max_members)",
        )
    plan_multiview(planner, probe=True)
    if planner.problems:
        n = len(planner.problems)
        raise IngestError(
            f"refusing the input ({n} problem{'s' if n != 1 else ''}):\n"
            f"{listing(planner.problems)}",
            hint=TRUNCATED_HINT
            if planner.truncated
            else "nothing was written; remove or fix the files listed",
        )
    return planner.plan


@dataclass(frozen=True)
class Argument:
    """A source named on the command line, checked by :func:`open_argument`."""

    path: Path  # what is read: the argument, or its target when a followed link
    is_dir: bool


def open_argument(src: Path, follow_symlinks: bool) -> Argument:
    """Check one command-line path: exists, is a file or folder, link policy."""
    try:
        st = src.lstat()
        if stat.S_ISLNK(st.st_mode):
            if not follow_symlinks:
                raise IngestError(
                    f"{printable(src)} is a symbolic link (to {printable(os.readlink(src))}); "
                    "links given on the command line are not followed",
                    hint="name the target itself, or pass --follow-symlinks to read what "
                    "the link points to",
                )
            st = src.stat()
            src = src.resolve()
    except FileNotFoundError:
        raise IngestError(f"{printable(src)}: no such file or directory") from None
    except OSError as exc:
        raise IngestError(f"{printable(src)}: cannot read ({exc.strerror})") from exc
    if stat.S_ISREG(st.st_mode):
        return Argument(src, False)
    if stat.S_ISDIR(st.st_mode):
        return Argument(src, True)
    raise IngestError(f"{printable(src)}: not a regular file or folder")


def _add_file(planner: Planner, path: Path, parts: Sequence[str], display: str) -> None:
    if side_file_kind(parts[-1]) is not None:
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise _read_error(exc) from exc
        if planner.take_side_file(parts, display, size, path=path):
            return
    if not planner.is_video(parts, display):
        return
    try:
        with path.open("rb") as f:
            size = os.fstat(f.fileno()).st_size
            problem = scan_file(f, size) if size else None
    except OSError as exc:
        raise IngestError(f"{printable(display)}: cannot read ({exc.strerror})") from exc
    if problem is not None:
        planner.problems.append(f"{display}: {problem}")
        planner.truncated = True
        return
    planner.add_video(parts, display, size, path=path)


def _raise_walk_error(exc: OSError) -> None:
    raise _read_error(exc) from exc
