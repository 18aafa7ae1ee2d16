"""Logging configuration for the CLI (library code only ever logs, never prints).

Native libraries (LiteRT/XNNPACK, absl, OpenCV, FFmpeg) write straight to
file descriptor 2, below Python. :class:`NativeStderr` routes that
descriptor into the ``neuropose.native`` logger (debug level, so ``-vv``
shows it) and counts the lines, so a command can summarise them instead.
:func:`adopt_logger` does the same for a library's Python logger that
writes to stderr itself (Ray's ``ray`` logger).
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import sys
import threading
from datetime import UTC, datetime
from typing import Any, TextIO

from neuropose.timefmt import utc_iso

__all__ = [
    "NativeStderr",
    "adopt_logger",
    "configure_logging",
    "native_stderr",
    "printable",
    "terminal_fd",
]


def printable(text: object, *, keep_newlines: bool = False) -> str:
    r"""``text`` safe to show on a terminal or in a log: control characters escaped.

    File names come from collaborators and archives; a name holding ``ESC``
    sequences or bidirectional overrides would otherwise rewrite the user's
    terminal (retitle it, clear it, hide a line) when printed. Every
    non-printable character (Unicode categories C* and the separators other
    than a space) becomes its Python escape (``\x1b``, ``\u202e``).
    ``keep_newlines`` keeps ``\n`` for multi-line messages.

    Examples
    --------
    >>> print(printable("walk\x1b]0;owned\x07\x1b[2J.mp4"))
    walk\x1b]0;owned\x07\x1b[2J.mp4
    >>> print(printable("caf\u00e9 \u202egnp.mp4"))
    café \u202egnp.mp4
    >>> printable("a\nb", keep_newlines=True) == "a\nb"
    True
    """
    s = str(text)
    if s.isprintable():
        return s
    return "".join(c if c.isprintable() or (keep_newlines and c == "\n") else _escape(c) for c in s)


def _escape(c: str) -> str:
    code = ord(c)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


class _PrintableFormatter(logging.Formatter):
    """The human log format, with control characters in messages escaped."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        return printable(super().formatMessage(record), keep_newlines=True)


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "time": utc_iso(datetime.fromtimestamp(record.created, UTC), timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        extra = getattr(record, "fields", None)
        if isinstance(extra, dict):
            payload.update(extra)
        if record.exc_info:
            payload["traceback"] = self.formatException(record.exc_info)
        return json.dumps(payload, ensure_ascii=False, default=str)


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg,unused-ignore]
    """Writes to whatever ``sys.stderr`` is at emit time.

    A handler bound to the stream object of the moment would keep writing to
    a replaced (and possibly closed) stream after a test harness or a
    redirect swaps ``sys.stderr``.
    """

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property  # type: ignore[override,unused-ignore]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


def configure_logging(level: int = logging.INFO, fmt: str = "human") -> None:
    """Send NeuroPose logs to stderr, human-readable or one JSON object per line.

    Structured fields passed as ``logger.info(msg, extra={"fields": {...}})``
    become keys of the JSON object.
    """
    handler = _StderrHandler()
    if fmt == "json":
        handler.setFormatter(_JsonFormatter())
    else:
        handler.setFormatter(
            _PrintableFormatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S")
        )
    root = logging.getLogger("neuropose")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


_SYNC = b"\0neuropose-sync"
#: Native lines that announce a crash: logged as errors, not hidden at debug level.
_FATAL = re.compile(rb"^(F\d{4} |Fatal|terminate called|Check failed|Segmentation fault|Aborted)")


class NativeStderr:
    """Route file descriptor 2 into the ``neuropose.native`` logger.

    After :meth:`start`, whatever native code writes to fd 2 goes through a
    pipe to a reader thread that logs each line at DEBUG level (lines that
    announce a crash, such as absl's ``F0000`` or ``terminate called``, at
    ERROR); ``sys.stderr`` is re-opened on a duplicate of the original
    descriptor, so Python's own output (logs, progress, error messages)
    still reaches the terminal directly. Child processes inherit the pipe,
    so a caller that wants a child's stderr on the terminal passes
    ``stderr=sys.stderr``. :meth:`stop` restores fd 2 and ``sys.stderr``.

    Only a program's entry point starts it (it changes process-wide state);
    library code only reads :meth:`count`.
    """

    def __init__(self, logger_name: str = "neuropose.native") -> None:
        self._logger = logging.getLogger(logger_name)
        self._lock = threading.Lock()
        self._lines = 0
        self._sync_seen = 0
        self._synced = threading.Condition(self._lock)
        self._saved_fd: int | None = None
        self._saved_stderr: TextIO | None = None
        self._thread: threading.Thread | None = None
        self._read_fd: int | None = None

    def terminal_fd(self) -> int:
        """The descriptor that reaches the real stderr (fd 2 when not routing)."""
        return self._saved_fd if self._saved_fd is not None else 2

    @property
    def active(self) -> bool:
        """Whether fd 2 is being routed."""
        return self._thread is not None

    def start(self) -> bool:
        """Start routing; False (and nothing changed) when fd 2 cannot be duplicated."""
        if self.active:
            return True
        try:
            saved = os.dup(2)
        except OSError:
            return False
        read_fd, write_fd = os.pipe()
        sys.stderr.flush()
        os.dup2(write_fd, 2)
        os.close(write_fd)
        self._saved_fd, self._read_fd = saved, read_fd
        self._saved_stderr = sys.stderr
        sys.stderr = io.TextIOWrapper(
            io.FileIO(os.dup(saved), "w"),
            encoding=getattr(sys.stderr, "encoding", None) or "utf-8",
            errors="backslashreplace",
            line_buffering=True,
        )
        self._thread = threading.Thread(target=self._pump, name="native-stderr", daemon=True)
        self._thread.start()
        return True

    def stop(self) -> None:
        """Restore fd 2 and ``sys.stderr``; log what was still in the pipe."""
        if self._thread is None or self._saved_fd is None:
            return
        sys.stderr.flush()
        os.dup2(self._saved_fd, 2)  # closes the pipe's last write end: the reader sees EOF
        self._thread.join(timeout=5.0)
        replaced = sys.stderr
        if self._saved_stderr is not None:
            sys.stderr = self._saved_stderr
        replaced.close()
        os.close(self._saved_fd)
        self._thread = self._saved_fd = self._saved_stderr = None

    def count(self) -> int:
        """Native lines routed so far (after waiting for the pipe to drain)."""
        self._sync()
        with self._lock:
            return self._lines

    def _sync(self) -> None:
        """Wait until the reader has consumed everything written to fd 2 so far."""
        if self._thread is None:
            return
        with self._lock:
            target = self._sync_seen + 1
        try:
            os.write(2, _SYNC + b"\n")
        except OSError:
            return
        with self._synced:
            self._synced.wait_for(lambda: self._sync_seen >= target, timeout=2.0)

    def _pump(self) -> None:
        assert self._read_fd is not None
        pending = b""
        while True:
            try:
                chunk = os.read(self._read_fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                self._emit(line)
        if pending:
            self._emit(pending)
        os.close(self._read_fd)

    def _emit(self, raw: bytes) -> None:
        if _SYNC in raw:  # possibly glued to a partial line another thread was writing
            raw = raw.replace(_SYNC, b"")
            with self._synced:
                self._sync_seen += 1
                self._synced.notify_all()
        line = raw.decode("utf-8", "backslashreplace").rstrip()
        if not line:
            return
        with self._lock:
            self._lines += 1
        level = logging.ERROR if _FATAL.match(raw) else logging.DEBUG
        self._logger.log(level, "%s", line)


#: The process's router (started by the CLI's entry point).
native_stderr = NativeStderr()


def terminal_fd() -> int:
    """The file descriptor of the real stderr, for ``os.write`` where logging cannot run.

    A signal handler about to ``os._exit`` writes its last words here: with
    :data:`native_stderr` routing, fd 2 is a pipe whose reader would die
    with the process before logging them.
    """
    return native_stderr.terminal_fd()


class _Forward(logging.Handler):
    """Re-logs a library's records into a NeuroPose logger at DEBUG (level name kept)."""

    def __init__(self, target: logging.Logger) -> None:
        super().__init__(logging.DEBUG)
        self._target = target

    def emit(self, record: logging.LogRecord) -> None:
        if self._target.isEnabledFor(logging.DEBUG):
            message = record.getMessage()
            self._target.debug("%s %s: %s", record.levelname, record.name, message)


def adopt_logger(name: str) -> logging.Logger:
    """Send library logger ``name``'s records to ``neuropose.<name>`` at DEBUG level only.

    Some libraries give their logger its own stderr handler (Ray does at
    import: ``Token authentication is enabled...``), which would bypass the
    CLI's verbosity. Its handlers are replaced by one that re-logs each record
    at DEBUG, so ``-vv`` shows them and the default verbosity does not.
    Idempotent; returns the adopted logger.

    >>> lib = logging.getLogger("some_library")
    >>> lib.addHandler(logging.StreamHandler())
    >>> adopt_logger("some_library") is lib, lib.propagate, len(lib.handlers)
    (True, False, 1)
    """
    lib = logging.getLogger(name)
    target = logging.getLogger(f"neuropose.{name}")
    for handler in list(lib.handlers):
        lib.removeHandler(handler)
    lib.addHandler(_Forward(target))
    lib.propagate = False
    return lib
