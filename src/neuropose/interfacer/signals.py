"""Scoped SIGINT/SIGTERM handling for a graceful, bounded stop.

Inside ``with GracefulStop(grace_s) as stop:``

* the first SIGINT or SIGTERM sets ``stop.event`` (a :class:`threading.Event`
  the estimator polls between frames) and starts a watchdog: if the process
  has not left the ``with`` block within ``grace_s`` seconds it exits at once
  with code 130;
* a second signal exits at once with code 130 (``os._exit``: no cleanup; the
  lock is released by the kernel and the next start recovers the job from its
  last checkpoint);
* on leaving the block the previous handlers are restored and the watchdog is
  cancelled.

Handlers can only be installed from the main thread; elsewhere the object is
inert apart from its event (tests may set it directly).
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from types import FrameType, TracebackType
from typing import Any

from neuropose.logs import terminal_fd

__all__ = ["ABORT_EXIT_CODE", "GracefulStop"]

logger = logging.getLogger(__name__)

#: Exit code of an immediate abort (second signal or grace period exceeded).
ABORT_EXIT_CODE = 130

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class GracefulStop:
    """Context manager turning the first stop signal into an event.

    Parameters
    ----------
    grace_s : float
        Seconds allowed between the first signal and leaving the block.
    """

    def __init__(self, grace_s: float) -> None:
        self.grace_s = grace_s
        self.event = threading.Event()
        self.signal_name: str | None = None
        self._previous: dict[int, Any] = {}
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
        if threading.current_thread() is threading.main_thread():
            for sig in _SIGNALS:
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for sig, previous in self._previous.items():
            signal.signal(sig, previous)
        self._previous.clear()
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
