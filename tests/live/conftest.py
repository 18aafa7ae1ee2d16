"""Shared helpers of the live-mode tests.

* ``arm_results``: a results file whose primary subject raises the left
  forearm ``cycles`` times (elbow flexion ``75 - 45 cos(2π t)``, 30° → 120°),
  from :func:`tests.analyzer.conftest.make_arm`, plus a static bystander.
* :class:`WristHeight`: a tiny causal pusher standing in for
  ``neuropose.signals.SignalGraph`` in loop-level tests (a test scaffold,
  never shipped): ``wrist_y`` is the left wrist's y (mm, camera y points
  down), ``wrist_height`` its negative and ``wrist_ema`` an exponential
  moving average of ``wrist_y`` carried across pushes.
* ``browser``, ``page``, ``server``: the monitor tests' fixtures.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tests.analyzer.conftest import JOINTS, make_arm, make_results
from tests.monitor.conftest import browser, page, server  # noqa: F401  (fixtures)

from neuropose.io import write_model_atomic


def write_arm_results(
    path: Path, *, cycles: int = 5, fs: float = 30.0, missing: tuple[int, ...] = ()
) -> np.ndarray:
    """Write the arm-raise results to ``path``; the true elbow flexion (degrees)."""
    trial, flex = make_arm(fs=fs, cycles=cycles)
    write_model_atomic(path, make_results(trial, missing=missing))
    return flex


@pytest.fixture
def arm_results(tmp_path: Path) -> Path:
    path = tmp_path / "arm.results.json"
    write_arm_results(path)
    return path


class WristHeight:
    """Causal stand-in graph: ``wrist_y`` and its EMA (state carried across pushes)."""

    def __init__(self, alpha: float = 0.5) -> None:
        self.alpha = alpha
        self.state: float | None = None
        self.j = JOINTS.index("left_wrist")

    def push(self, times_s: np.ndarray, poses: np.ndarray) -> dict[str, np.ndarray]:
        y = poses[:, self.j, 1].astype(float)
        ema = np.empty_like(y)
        for k, v in enumerate(y):
            if np.isnan(v):
                ema[k] = np.nan
                continue
            self.state = v if self.state is None else self.alpha * v + (1 - self.alpha) * self.state
            ema[k] = self.state
        return {"wrist_y": y, "wrist_height": -y, "wrist_ema": ema}
