"""Ingest's work area ``data_dir/.staging/`` and its lock.

::

    data_dir/.staging/                    exists only while an ingest runs (or after a crash)
    data_dir/.staging/ingest.lock         flock held by the running ingest
    data_dir/.staging/<unique>/...        one ingest's staged jobs

Ingests into one data directory are serialised by an
:class:`~neuropose.datadir.lock.ExclusiveLock` on ``.staging/ingest.lock``.
Its holder deletes the lock file and the then empty ``.staging`` before
unlocking, so a finished ingest leaves no trace. :func:`clean_staging`
(called by the daemon on start and by every ingest) removes what a killed
ingest left, and leaves a live ingest's staging alone.

Examples
--------
>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> (d / ".staging" / "ingest-1-abc" / "jobs").mkdir(parents=True)
>>> [p.name for p in clean_staging(d)], (d / ".staging").exists()
(['ingest-1-abc'], False)
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
from pathlib import Path

from neuropose.datadir.layout import INGEST_LOCK_FILE, DataDir
from neuropose.datadir.lock import ExclusiveLock
from neuropose.io import fsync_directory

__all__ = ["clean_locked", "clean_staging", "remove_tree", "staging_lock"]

logger = logging.getLogger(__name__)


def remove_tree(path: Path) -> None:
    """Remove a file, symlink or folder tree; a missing path is fine."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _remove_when_empty(lock: ExclusiveLock) -> None:
    """``on_release`` of the staging lock: delete the lock file and ``.staging`` when
    nothing else is in it (still holding the lock)."""
    root = lock.path.parent
    try:
        if [p.name for p in root.iterdir()] == [INGEST_LOCK_FILE]:
            lock.path.unlink()
            root.rmdir()
            fsync_directory(root.parent)
    except OSError:
        pass


def staging_lock(data_dir: Path | str, purpose: str, *, wait_s: float = 0.0) -> ExclusiveLock:
    """The (not yet acquired) lock on ``.staging/ingest.lock``; creates ``.staging`` when
    acquired and removes it, once empty, when released.

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> with staging_lock(d, "doctest"):
    ...     (d / ".staging" / "ingest.lock").exists()
    True
    >>> (d / ".staging").exists()
    False
    """
    return ExclusiveLock(
        DataDir(data_dir).ingest_lock,
        purpose=purpose,
        wait_s=wait_s,
        make_parent=True,
        on_release=_remove_when_empty,
        busy_hint="wait for the other ingest to finish and retry",
    )


def clean_locked(root: Path) -> list[Path]:
    """Remove every entry of the staging folder ``root`` but the lock (hold it)."""
    removed = []
    for entry in sorted(root.iterdir()):
        if entry.name == INGEST_LOCK_FILE:
            continue
        remove_tree(entry)
        if os.path.lexists(entry):
            logger.warning("could not remove staging leftover %s; remove it by hand", entry)
            continue
        removed.append(entry)
    if removed:
        fsync_directory(root)
        logger.info("removed %d staging leftover(s) in %s", len(removed), root)
    return removed


def clean_staging(data_dir: Path | str) -> list[Path]:
    """Remove what interrupted ingests left in ``data_dir/.staging/``.

    The daemon calls this when it starts; every ingest calls it first. While
    an ingest holds ``.staging/ingest.lock`` nothing is removed (its staging
    directory is live) and the result is empty. Nothing is created when
    ``.staging`` does not exist, and ``.staging`` itself is removed once
    empty.

    Parameters
    ----------
    data_dir : Path or str
        The data directory.

    Returns
    -------
    list of Path
        The removed staging entries.
    """
    root = DataDir(data_dir).staging
    if not root.is_dir():
        return []
    lock = staging_lock(data_dir, "neuropose ingest (cleaning)")
    if not lock.try_acquire():
        logger.info("an ingest is running in %s; staging left alone", root)
        return []
    try:
        return clean_locked(root)
    finally:
        lock.release()
