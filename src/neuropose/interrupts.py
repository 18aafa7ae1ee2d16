"""Scoped handling of stop signals (SIGINT, SIGTERM): the one helper of the package.

:func:`handle_signals` installs a handler for the duration of a ``with``
block and restores the previous handlers on leaving it, whatever happens
inside. Handlers can only be installed from the main thread; elsewhere the
block runs with the process's handlers unchanged (and ``handle_signals``
yields ``False``). :class:`GracefulStop` builds the daemon's bounded stop on it.

Examples
--------
>>> import signal
>>> seen = []
>>> with handle_signals(lambda signum, frame: seen.append(signum), (signal.SIGUSR1,)) as on:
...     if on:  # installed (main thread only)
...         signal.raise_signal(signal.SIGUSR1)
>>> seen == ([signal.SIGUSR1] if on else [])
True
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
from collections.abc import Callable, Iterator
from types import FrameType, TracebackType
from typing import Any

from neuropose.logs import terminal_fd

__all__ = ["ABORT_EXIT_CODE", "STOP_SIGNALS", "GracefulStop", "SignalHandler", "handle_signals"]

logger = logging.getLogger(__name__)

#: Exit code of an immediate abort (second signal or grace period exceeded).
ABORT_EXIT_CODE = 130

#: The signals that ask a NeuroPose process to stop.
STOP_SIGNALS: tuple[signal.Signals, ...] = (signal.SIGINT, signal.SIGTERM)

SignalHandler = Callable[[int, FrameType | None], Any]


@contextlib.contextmanager
def handle_signals(
    handler: SignalHandler, signals: tuple[signal.Signals, ...] = STOP_SIGNALS
) -> Iterator[bool]:
    """Run ``handler`` for ``signals`` inside the block; restore the previous handlers after.

    Parameters
    ----------
    handler : callable
        ``handler(signum, frame)``, run in the main thread between bytecodes.
        An exception it raises propagates out of the code the block runs.
    signals : tuple of signal.Signals
        Default :data:`STOP_SIGNALS`.

    Yields
    ------
    bool
        Whether the handler was installed (only possible in the main thread).
    """
    if threading.current_thread() is not threading.main_thread():
        yield False
        return
    previous: dict[signal.Signals, Any] = {}
    try:
        for sig in signals:
            previous[sig] = signal.signal(sig, handler)
        yield True
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


class GracefulStop:
    """Context manager turning the first stop signal into an event, bounded in time.

    Inside ``with GracefulStop(grace_s) as stop:``

    * the first SIGINT or SIGTERM sets ``stop.event`` (a
      :class:`threading.Event` the estimator polls between frames) and starts
      a watchdog: if the process has not left the block within ``grace_s``
      seconds it exits at once with :data:`ABORT_EXIT_CODE`;
    * a second signal exits at once with :data:`ABORT_EXIT_CODE` (``os._exit``:
      no cleanup; a kernel lock such as the daemon's flock is released and the
      next start recovers from the last checkpoint);
    * on leaving the block the previous handlers are restored and the watchdog
      is cancelled.

    Outside the main thread the object is inert apart from its event (tests
    may set it directly).

    Parameters
    ----------
    grace_s : float
        Seconds allowed between the first signal and leaving the block.

    Examples
    --------
    >>> stop = GracefulStop(5.0)
    >>> with stop:
    ...     stop.event.is_set()
    False
    """

    def __init__(self, grace_s: float) -> None:
        self.grace_s = grace_s
        self.event = threading.Event()
        self.signal_name: str | None = None
        self._scope: contextlib.ExitStack | None = None
        self._watchdog: threading.Timer | None = None

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if self.event.is_set():
            os.write(terminal_fd(), f"neuropose: second {name}, aborting now\n".encode())
            os._exit(ABORT_EXIT_CODE)
        self.signal_name = name
        self.event.set()
        logger.info(
            "received %s: checkpointing and stopping (within %g s; send again to abort)",
            name,
            self.grace_s,
            extra={"fields": {"event": "stop_requested", "signal": name}},
        )
        self._watchdog = threading.Timer(self.grace_s, self._expire)
        self._watchdog.daemon = True
        self._watchdog.start()

    def _expire(self) -> None:
        os.write(
            terminal_fd(),
            f"neuropose: graceful stop exceeded {self.grace_s:g} s, aborting\n".encode(),
        )
        os._exit(ABORT_EXIT_CODE)

    def __enter__(self) -> GracefulStop:
        scope = contextlib.ExitStack()
        scope.enter_context(handle_signals(self._handle))
        self._scope = scope
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._scope is not None:
            self._scope.close()
            self._scope = None
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
