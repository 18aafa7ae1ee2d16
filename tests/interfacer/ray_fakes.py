"""Processor factories for the Ray executor tests (loaded by the actors by spec).

* ``make_slow``: :class:`FakeProcessor` at 20 ms per frame, so a test can
  kill an actor mid-video.
* ``make_recording``: the same, and every call appends ``<video> <first frame>``
  to ``calls.log`` beside the data directory (``settings.data_dir.parent``),
  so a test sees where a re-run video started.
"""

from __future__ import annotations

import fcntl
from pathlib import Path
from typing import Any

from tests.interfacer.fake_processor import FakeProcessor

from neuropose.schemas import VideoPredictions

SLOW_COST_S = 0.02


def make_slow(settings: Any = None) -> FakeProcessor:
    return FakeProcessor(cost_s=SLOW_COST_S)


class RecordingProcessor(FakeProcessor):
    def __init__(self, log: Path) -> None:
        super().__init__(cost_s=SLOW_COST_S)
        self.log = log

    def process_video(self, path: Path, **kwargs: Any) -> VideoPredictions:
        resume = kwargs.get("resume")
        start = 0 if resume is None else resume.next_frame
        with self.log.open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            handle.write(f"{path.name} {start}\n")
        return super().process_video(path, **kwargs)


def make_recording(settings: Any) -> RecordingProcessor:
    return RecordingProcessor(Path(settings.data_dir).parent / "calls.log")
