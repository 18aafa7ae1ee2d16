"""Command-line options shared by several commands, declared once.

Each alias is an ``Annotated`` type for a typer parameter; a value of
``None`` means "not given", so the setting's other layers (environment,
``--config`` file, default) apply.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from neuropose.errors import InputError

if TYPE_CHECKING:
    from neuropose.config import LoadedSettings

__all__ = [
    "BatchSizeOption",
    "DataDirNotFoundError",
    "DataDirOption",
    "DecodeThreadsOption",
    "ModelOption",
    "OpenCVThreadsOption",
    "PrefetchOption",
    "existing_data_dir",
]

DataDirOption = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="Data directory (in/, out/, failed/); setting data_dir.",
        show_default=False,
    ),
]
ModelOption = Annotated[
    str | None,
    typer.Option(
        "--model",
        "-m",
        help="Pose model name, or python:<module>:<factory> (default: setting default_model).",
    ),
]
BatchSizeOption = Annotated[
    int | None, typer.Option("--batch-size", help="Frames per model call (setting batch_size).")
]
PrefetchOption = Annotated[
    int | None,
    typer.Option("--prefetch", help="Cap on frames decoded but not yet collected."),
]
DecodeThreadsOption = Annotated[
    int | None, typer.Option("--decode-threads", min=1, help="FFmpeg decoder threads.")
]
OpenCVThreadsOption = Annotated[
    int | None,
    typer.Option("--opencv-threads", min=1, help="cv2.setNumThreads for this process."),
]


class DataDirNotFoundError(InputError):
    """The data directory a command reads does not exist (exit code 2)."""


def _origin(origin: str) -> str:
    """Where a setting came from, as the user wrote it.

    >>> [_origin(o) for o in ("flag", "env:NEUROPOSE_DATA_DIR", "file:lab.toml", "default")]
    ['--data-dir', 'NEUROPOSE_DATA_DIR', 'data_dir in lab.toml', 'the default data_dir']
    """
    kind, _, where = origin.partition(":")
    return {
        "flag": "--data-dir",
        "env": where,
        "file": f"data_dir in {where}",
    }.get(kind, "the default data_dir")


def existing_data_dir(loaded: LoadedSettings) -> Path:
    """The data directory of a command that reads one; raise when it does not exist.

    ``neuropose watch`` creates a new data directory; every other command
    reads an existing one, and a path that does not exist is almost always a
    typo (an empty listing would hide it).

    Raises
    ------
    DataDirNotFoundError
        Naming the path and the setting it came from (exit code 2).
    """
    root = Path(loaded.settings.data_dir)
    if root.is_dir():
        return root
    what = "is not a directory" if root.exists() else "does not exist"
    raise DataDirNotFoundError(
        f"data directory {root} {what} (from {_origin(loaded.origins.get('data_dir', ''))})",
        hint="check the path; `neuropose watch` creates a new data directory",
    )
