"""Live mode: pose inference and the causal signal graph on a camera, stream or replay.

::

    sources.py    Source: camera index, stream URL, video file, results-file replay
    loop.py       LiveLoop: paced ticks, inference per new frame, drops and stale ticks
    events.py     Tick, the tick-consumer hook, debounced threshold/repetition events
    states.py     idle / predicting / recording and the refused transitions
    recording.py  JSONL files finalised atomically at the stop
    session.py    the session folder, its recorder and live.json
    run.py        run_live: everything wired, under the model's use lock

See docs/live.md.
"""

from __future__ import annotations

from neuropose.live.events import (
    RepetitionDetector,
    ThresholdDetector,
    Tick,
    TickConsumer,
)
from neuropose.live.loop import LiveLoop, LoopOptions, LoopStats
from neuropose.live.run import LiveConfig, LiveResult, run_live
from neuropose.live.sources import Capture, Source, SourceError, open_source
from neuropose.live.states import StateError, StateMachine

__all__ = [
    "Capture",
    "LiveConfig",
    "LiveLoop",
    "LiveResult",
    "LoopOptions",
    "LoopStats",
    "RepetitionDetector",
    "Source",
    "SourceError",
    "StateError",
    "StateMachine",
    "ThresholdDetector",
    "Tick",
    "TickConsumer",
    "open_source",
    "run_live",
]
