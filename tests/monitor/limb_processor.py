"""A daemon processor whose every video yields ``build_limb_predictions()`` (known segments).

Use: ``neuropose watch --model python:tests.monitor.limb_processor:make_processor``
with the repository root on ``PYTHONPATH``. Any file with a video extension is
"processed" into the 30-frame BlazePose-33 predictions of
:func:`tests.visualize.synth.build_limb_predictions` (left thigh CV 0.125,
right thigh CV 0.05, other limb segments rigid, a 0.7 mm eye edge at CV 0.29).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from tests.visualize.synth import build_limb_predictions

from neuropose.schemas import VideoPredictions

FRAMES = 30


class NoCheckpoint(BaseModel):
    """Never written: the clip is processed in one go."""

    next_frame: int = 0


class LimbProcessor:
    checkpoint_model = NoCheckpoint

    def expected_frames(self, path: Path) -> int | None:
        return FRAMES

    def process_video(
        self,
        path: Path,
        *,
        progress: Callable[[int, int | None], None],
        stop_event: threading.Event,
        checkpoint_every_frames: int,
        on_checkpoint: Callable[[Any], None],
        resume: Any | None,
    ) -> VideoPredictions:
        progress(FRAMES, FRAMES)
        vp = build_limb_predictions(FRAMES)
        return vp.model_copy(update={"video": path.name})


def make_processor(settings: Any = None) -> LimbProcessor:
    return LimbProcessor()
