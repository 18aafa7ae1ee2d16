"""Command-line options shared by several commands, declared once.

Each alias is an ``Annotated`` type for a typer parameter; a value of
``None`` means "not given", so the setting's other layers (environment,
``--config`` file, default) apply.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = [
    "BatchSizeOption",
    "DataDirOption",
    "DecodeThreadsOption",
    "ModelOption",
    "OpenCVThreadsOption",
    "PrefetchOption",
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
