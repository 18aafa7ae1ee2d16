"""The status document of a ``neuropose live`` session (``live/<session>/live.json``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from neuropose.schemas.base import Document, FrozenModel

__all__ = ["LiveEvent", "LiveState", "LiveStatus"]

#: States of a live session (see :mod:`neuropose.live.states`).
LiveState = Literal["idle", "predicting", "recording"]


class LiveEvent(FrozenModel):
    """One debounced event (one line of ``events.jsonl``).

    Attributes
    ----------
    time_s : float
        Source timestamp of the tick that completed the event, seconds.
    kind : str
        ``repetition`` or ``threshold`` (or a tick consumer's own kind).
    signal : str
        The signal it is about.
    value : float or None
        The signal's value at that tick (None when not numeric).
    detail : str
        Sentence for people, e.g. ``left_knee_angle rose above 120``.
    count : int
        Running number of events of this kind and signal (1 = first).
    """

    time_s: float
    kind: str
    signal: str
    value: float | None = None
    detail: str = ""
    count: int = Field(default=1, ge=1)


class LiveStatus(Document):
    """What a running (or finished) live session reports, updated about once a second.

    Attributes
    ----------
    session, state, source : str
        Session name, state and the source as given on the command line.
    source_fps : float or None
        Frames per second the source delivered so far (None before 2 frames).
    predict_fps : float or None
        Frames per second predicted (inference + signals) so far.
    frames_in, frames_predicted, frames_dropped, stale_ticks : int
        Source frames seen, frames predicted, frames skipped because the
        loop was busy, ticks on which no new frame had arrived.
    elapsed_s : float
        Wall time since the loop started, seconds.
    latency_median_ms, latency_p95_ms : float or None
        Capture -> signal latency of the predicted frames, milliseconds.
    signals : dict of str to list of [time_s, value]
        The newest window of each plotted scalar signal (NaN as null).
    events : list of LiveEvent
        The newest events, oldest first.
    spec_sha256 : str or None
        SHA-256 of the signal spec file.
    updated_at : str
        UTC ISO time of this write.
    """

    session: str
    state: LiveState
    source: str
    source_fps: float | None = None
    predict_fps: float | None = None
    frames_in: int = 0
    frames_predicted: int = 0
    frames_dropped: int = 0
    stale_ticks: int = 0
    elapsed_s: float = 0.0
    latency_median_ms: float | None = None
    latency_p95_ms: float | None = None
    signals: dict[str, list[tuple[float, float | None]]] = Field(default_factory=dict)
    events: list[LiveEvent] = Field(default_factory=list)
    spec_sha256: str | None = None
    recording: bool = False
    error: str | None = None
    updated_at: str
