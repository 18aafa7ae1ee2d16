"""The states of a live session and the transitions between them.

::

    idle ──start──▶ predicting ──record──▶ recording
      ▲                 │  ▲                  │
      └──────stop───────┘  └──stop_recording──┘
      ▲                                       │
      └─────────────────stop──────────────────┘

``predicting`` runs inference and the signal graph; ``recording`` does that
and writes poses, signals and events to the session folder. Any other
transition is refused with :class:`StateError`, whose message names the
current state.

Examples
--------
>>> m = StateMachine()
>>> m.start(); m.record(); m.state
'recording'
>>> try:
...     m.start()
... except StateError as exc:
...     print(exc.message)
cannot start: the session is recording (start is allowed only when idle)
"""

from __future__ import annotations

from neuropose.errors import UsageError
from neuropose.schemas.live import LiveState

__all__ = ["StateError", "StateMachine"]

#: transition -> (states it is allowed from, state it leads to)
_TRANSITIONS: dict[str, tuple[tuple[LiveState, ...], LiveState]] = {
    "start": (("idle",), "predicting"),
    "record": (("predicting",), "recording"),
    "stop_recording": (("recording",), "predicting"),
    "stop": (("predicting", "recording"), "idle"),
}


class StateError(UsageError):
    """A transition that the current state does not allow (exit code 2)."""


class StateMachine:
    """idle / predicting / recording (see the module docstring).

    Attributes
    ----------
    state : str
        The current state.
    """

    def __init__(self) -> None:
        self.state: LiveState = "idle"

    def _go(self, transition: str) -> None:
        allowed, target = _TRANSITIONS[transition]
        if self.state not in allowed:
            raise StateError(
                f"cannot {transition.replace('_', ' ')}: the session is {self.state} "
                f"({transition.replace('_', ' ')} is allowed only when {' or '.join(allowed)})"
            )
        self.state = target

    def start(self) -> None:
        """idle -> predicting."""
        self._go("start")

    def record(self) -> None:
        """predicting -> recording."""
        self._go("record")

    def stop_recording(self) -> None:
        """recording -> predicting."""
        self._go("stop_recording")

    def stop(self) -> None:
        """predicting or recording -> idle."""
        self._go("stop")
