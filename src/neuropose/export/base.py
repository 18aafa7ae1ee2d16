"""The writer protocol, the format registry and the helpers every writer shares.

A writer turns a :class:`~neuropose.export.track.PoseTrack` into one or more
:class:`Output` objects *without touching the disk* (pure conversion); each
output then saves itself atomically. :func:`neuropose.export.export_tracks`
prepares every requested format before saving anything, so a refused format
(a long gap in a ``.trc``, a missing optional library) leaves no file behind.
"""

from __future__ import annotations

import importlib
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from neuropose.errors import ResourceError, UsageError
from neuropose.io import atomic_write, write_bytes_atomic

if TYPE_CHECKING:
    from neuropose.export.track import PoseTrack

__all__ = [
    "ExportOptions",
    "MissingExtraError",
    "Output",
    "Writer",
    "bytes_output",
    "get_writer",
    "library_output",
    "register",
    "require",
    "writer_names",
]


class MissingExtraError(ResourceError):
    """An optional library a format needs is not installed (exit code 4)."""


def require(module: str, extra: str, what: str) -> Any:
    """Import ``module`` or raise :class:`MissingExtraError` naming the extra to install.

    Examples
    --------
    >>> require("json", "export", "JSON").__name__
    'json'
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingExtraError(
            f"{what} needs the Python package {module.split('.')[0]!r}, which is not installed "
            f"({exc.msg})",
            hint=f"pip install 'neuropose[{extra}]'",
        ) from None


@dataclass(frozen=True)
class ExportOptions:
    """Options shared by the writers (recorded in the export record).

    Attributes
    ----------
    max_gap : int
        Longest interior gap (frames) a ``.trc``/``.mot`` fills by linear
        interpolation in time (the analyzer's gap policy, default 5).
    on_long_gap : {"refuse", "split"}
        What ``.trc``/``.mot`` do with a longer interior gap: refuse with an
        error naming the marker and times, or write one file per gap-free
        segment (``<stem>.part1.trc`` ...).
    min_segment_frames : int
        With ``split``, segments shorter than this are left out (recorded).
    up : {"auto", "ground_plane", "body_axis", "camera"}
        Up-axis estimate used to rotate monocular data to OpenSim's Y-up.
    """

    max_gap: int = 5
    on_long_gap: str = "refuse"
    min_segment_frames: int = 10
    up: str = "auto"

    def __post_init__(self) -> None:
        if self.max_gap < 0:
            raise UsageError(f"max_gap must be >= 0, got {self.max_gap}")
        if self.on_long_gap not in {"refuse", "split"}:
            raise UsageError(
                f"unknown long-gap policy {self.on_long_gap!r}", hint="use refuse or split"
            )
        if self.up not in {"auto", "ground_plane", "body_axis", "camera"}:
            raise UsageError(
                f"unknown up-axis method {self.up!r}",
                hint="use auto, ground_plane, body_axis or camera",
            )
        if self.min_segment_frames < 2:
            raise UsageError(f"min_segment_frames must be >= 2, got {self.min_segment_frames}")

    def record(self) -> dict[str, Any]:
        """JSON-ready copy for records."""
        return {
            "max_gap_frames": self.max_gap,
            "on_long_gap": self.on_long_gap,
            "min_segment_frames": self.min_segment_frames,
            "up": self.up,
        }


@dataclass(frozen=True)
class Output:
    """One file a writer produces, not yet on disk.

    Attributes
    ----------
    filename : str
        Name inside the export directory.
    save : callable
        ``save(path)`` writes the file atomically at ``path``.
    record : dict
        What the file holds (units, axes, markers, gaps...), JSON-ready.
    """

    filename: str
    save: Callable[[Path], None]
    record: dict[str, Any] = field(default_factory=dict)


class Writer(Protocol):
    """An export format.

    Attributes
    ----------
    name : str
        Format name on the command line (``trc``, ``csv-long``...).
    extra : str or None
        The pip extra its libraries come from, or None (standard library).
    description : str
        One line for ``--help`` and the docs.
    """

    name: str
    extra: str | None
    description: str

    def check(self) -> None:
        """Raise :class:`MissingExtraError` when a library the writer needs is absent."""

    def prepare(self, track: PoseTrack, options: ExportOptions) -> list[Output]:
        """Convert ``track`` (pure: no file is written)."""


_REGISTRY: dict[str, Writer] = {}


def register(writer: Writer) -> Writer:
    """Add ``writer`` to the registry under ``writer.name``."""
    _REGISTRY[writer.name] = writer
    return writer


def writer_names() -> tuple[str, ...]:
    """Names of every registered format, in registration order."""
    return tuple(_REGISTRY)


def get_writer(name: str) -> Writer:
    """The writer called ``name``; :class:`~neuropose.errors.UsageError` names the choices."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UsageError(
            f"unknown export format {name!r}", hint=f"formats: {', '.join(_REGISTRY)}"
        ) from None


def bytes_output(filename: str, data: bytes, record: dict[str, Any]) -> Output:
    """An :class:`Output` whose content is already rendered to ``data``."""
    return Output(filename, lambda path: write_bytes_atomic(path, data), record)


def library_output(filename: str, write: Callable[[Path], None], record: dict[str, Any]) -> Output:
    """An :class:`Output` written by a library that only writes to a path.

    ``write(tmp_path)`` runs on a private temporary path in the target's
    directory; the bytes are then placed with :func:`neuropose.io.atomic_write`,
    so readers never see a half-written file and a failure leaves nothing.
    """

    def save(path: Path) -> None:
        with tempfile.TemporaryDirectory(prefix=".neuropose-export-", dir=path.parent) as tmp:
            scratch = Path(tmp) / path.name
            write(scratch)
            with scratch.open("rb") as src, atomic_write(path) as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
            os.unlink(scratch)

    return Output(filename, save, record)
