"""Staging and the transactional placement of jobs into ``in/``.

::

    data_dir/.staging/<unique>/jobs/<job>/<videos>, READY   staged, fsync'd
    data_dir/.staging/<unique>/replaced/                    old directories set aside by force
    data_dir/in/<job>/<videos>, READY                       a complete job

1. Every video is written into the staging directory (same file system as
   ``in/``), each file and directory is ``fsync``'d and an empty ``READY``
   marker added.
2. Each complete job directory is moved into ``in/`` with one rename that
   refuses to replace anything (:func:`~neuropose.ingest.fsops.rename_noreplace`),
   then ``in/`` is ``fsync``'d: the daemon sees a job all at once or not at all.
3. Any failure (exception, Ctrl-C) moves placed jobs back, restores the
   directories set aside by ``force`` and the status file, and removes the
   staging directory: the data directory is left as it was. After SIGKILL
   only the staging directory can remain; it is never read and is removed at
   the next ingest or daemon start.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import zipfile
import zlib
from pathlib import Path

from neuropose.datadir.layout import READY_MARKER, DataDir
from neuropose.datadir.staging import remove_tree
from neuropose.datadir.status import forget_jobs, restore_jobs
from neuropose.errors import NeuroPoseError
from neuropose.ingest.collisions import JobPlan
from neuropose.ingest.errors import IngestError, UnsafeArchiveError
from neuropose.ingest.fsops import Budget, Meter, copy_file, rename_noreplace, write_stream
from neuropose.ingest.plan import Item
from neuropose.io import fsync_directory
from neuropose.logs import printable
from neuropose.schemas.status import JobStatusEntry

__all__ = ["Placement", "stage_item"]

logger = logging.getLogger(__name__)


def stage_item(
    item: Item,
    dest: Path | None,
    zf: zipfile.ZipFile | None,
    mode: str,
    budget: Budget,
    meter: Meter,
) -> int:
    """Put one video at ``dest`` (``None``: read and check only); bytes written (0: link)."""
    if zf is not None:
        assert item.zip_info is not None
        try:
            with zf.open(item.zip_info) as reader:
                return write_stream(reader, dest, item.size, budget, item.source, meter)
        except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, NotImplementedError) as exc:
            raise UnsafeArchiveError(
                f"member {item.source!r} is corrupt or its header lies: {exc}",
                hint="nothing was written; ask the sender for a new archive",
            ) from exc
    assert item.path is not None and dest is not None
    if mode in ("link", "move"):
        try:
            os.link(item.path, dest)
            meter(item.size)
            return 0
        except OSError as exc:
            if mode == "link":
                raise IngestError(
                    f"cannot hard-link {printable(item.path)} into the data directory: "
                    f"{exc.strerror}",
                    hint="hard links need the same filesystem and permission; use copy "
                    "(the default) instead",
                ) from exc
    return copy_file(item.path, dest, item.size, budget, meter)


class _StatusEdit:
    """Drops replaced jobs from the status (daemon lock held); can undo it."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.forgotten: list[JobStatusEntry] = []
        self.done = False

    def forget(self, names: list[str]) -> None:
        self.forgotten = forget_jobs(self.data_dir, names)
        self.done = True

    def undo(self) -> None:
        if not self.done:
            return
        with contextlib.suppress(OSError, NeuroPoseError):
            restore_jobs(self.data_dir, self.forgotten)


class Placement:
    """One ingest's staging directory and the all-or-nothing move of its jobs into ``in/``.

    Call :meth:`stage`, then :meth:`place`; on any exception call
    :meth:`rollback`, else :meth:`finish`.
    """

    def __init__(self, data_dir: Path, staging_root: Path, jobs: list[JobPlan]) -> None:
        self.data_dir = data_dir
        self.root = staging_root
        self.jobs = jobs
        self.staging = staging_root / f"ingest-{os.getpid()}-{secrets.token_hex(6)}"
        self.staged = self.staging / "jobs"
        self.trash = self.staging / "replaced"
        self.in_dir = DataDir(data_dir).in_dir
        self.placed: list[tuple[Path, Path]] = []  # (in/<job>, staged path)
        self.moved_aside: list[tuple[Path, Path]] = []  # (original, trash path)
        self.in_created = False
        self.status = _StatusEdit(data_dir)

    def stage(self, zf: zipfile.ZipFile | None, mode: str, budget: Budget, meter: Meter) -> int:
        """Write every job, fsync'd and with ``READY``, into staging; bytes written."""
        written = 0
        self.staged.mkdir(parents=True)
        self.trash.mkdir()
        for job in self.jobs:
            job_dir = self.staged / job.name
            job_dir.mkdir()
            for item in job.items:
                written += stage_item(item, job_dir / item.file, zf, mode, budget, meter)
            with (job_dir / READY_MARKER).open("wb") as marker:
                os.fsync(marker.fileno())
            fsync_directory(job_dir)
        fsync_directory(self.staged)
        return written

    def place(self, drop_status: list[str]) -> None:
        """Forget ``drop_status`` in the status, set replaced jobs aside, rename into ``in/``."""
        self.in_created = not self.in_dir.exists()
        self.in_dir.mkdir(parents=True, exist_ok=True)
        if drop_status:
            self.status.forget(drop_status)
        for job in self.jobs:
            for rel in job.replace:
                original = self.data_dir / rel
                aside = self.trash / rel.replace("/", "__")
                os.rename(original, aside)
                self.moved_aside.append((original, aside))
            target = self.in_dir / job.name
            rename_noreplace(self.staged / job.name, target)
            self.placed.append((target, self.staged / job.name))
        fsync_directory(self.in_dir)
        for sub in {Path(rel).parts[0] for job in self.jobs for rel in job.replace}:
            fsync_directory(self.data_dir / sub)

    def rollback(self) -> None:
        """Undo everything :meth:`place` did and remove the staging directory."""
        for target, back in reversed(self.placed):
            with contextlib.suppress(OSError):
                os.rename(target, back)
        for original, aside in reversed(self.moved_aside):
            with contextlib.suppress(OSError):
                os.rename(aside, original)
        self.status.undo()
        remove_tree(self.staging)
        with contextlib.suppress(OSError):
            if self.in_created:
                self.in_dir.rmdir()
            elif self.placed:
                fsync_directory(self.in_dir)

    def finish(self, mode: str) -> None:
        """Remove the staging directory; with ``move``, the sources."""
        remove_tree(self.staging)
        fsync_directory(self.root)
        if mode != "move":
            return
        for job in self.jobs:
            for item in job.items:
                assert item.path is not None
                try:
                    item.path.unlink()
                except OSError as exc:
                    logger.warning(
                        "placed %s but could not remove the source: %s", item.path, exc.strerror
                    )
