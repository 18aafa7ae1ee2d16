"""Logging configuration for the CLI (library code only ever logs, never prints)."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

from neuropose.timefmt import utc_iso

__all__ = ["configure_logging", "printable"]


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
