"""JSON Lines files written while recording and finalised atomically at the stop.

A :class:`JsonlRecording` writes to a unique temporary file in the session
folder (``.<name>.<hex>.tmp``, :func:`neuropose.io.temp_path_for`) and only
:meth:`~JsonlRecording.finalise` makes it visible under its name: flush,
``fsync``, rename, ``fsync`` of the folder. A reader therefore sees either
no file or a complete one. Lines are written whole (one ``write`` per
line), so a stop between two frames never cuts a line; the loop finishes the
frame in flight before it finalises (see :mod:`neuropose.live.loop`).

Values are plain JSON: NaN and infinities become ``null``; NumPy arrays
become nested lists.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
from pathlib import Path
from typing import IO, Any

import numpy as np

from neuropose.io import fsync_directory, temp_path_for

__all__ = ["JsonlRecording", "jsonable"]


def jsonable(value: Any) -> Any:
    """``value`` with arrays as lists and non-finite floats as None.

    Examples
    --------
    >>> import numpy as np
    >>> jsonable({"a": np.array([1.5, np.nan]), "b": float("inf"), "c": np.float32(2)})
    {'a': [1.5, None], 'b': None, 'c': 2.0}
    """
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return value


class JsonlRecording:
    """One JSONL file of a session, visible only once finalised.

    Parameters
    ----------
    path : Path
        The final file (its folder must exist).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> rec = JsonlRecording(d / "x.jsonl")
    >>> rec.write({"t": 0.5}); (d / "x.jsonl").exists()
    False
    >>> rec.finalise(); (d / "x.jsonl").read_text()
    '{"t":0.5}\\n'
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.tmp = temp_path_for(self.path)
        fd = os.open(self.tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        self._file: IO[bytes] | None = os.fdopen(fd, "wb")
        self.lines = 0

    def write(self, record: dict[str, Any]) -> None:
        """Append one line (one ``write`` call)."""
        if self._file is None:
            raise RuntimeError(f"{self.path.name} is already finalised")
        line = json.dumps(jsonable(record), separators=(",", ":"), allow_nan=False) + "\n"
        self._file.write(line.encode("utf-8"))
        self.lines += 1

    def finalise(self) -> None:
        """Flush, fsync, rename to :attr:`path`, fsync the folder (idempotent)."""
        if self._file is None:
            return
        f, self._file = self._file, None
        f.flush()
        os.fsync(f.fileno())
        f.close()
        os.replace(self.tmp, self.path)
        fsync_directory(self.path.parent)

    def discard(self) -> None:
        """Close and delete the temporary file (nothing becomes visible)."""
        if self._file is not None:
            self._file.close()
            self._file = None
        with contextlib.suppress(FileNotFoundError):
            self.tmp.unlink()
