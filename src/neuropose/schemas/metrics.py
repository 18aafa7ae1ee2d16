"""Performance metrics of one estimator run."""

from __future__ import annotations

from pydantic import Field

from neuropose.schemas.base import FrozenModel

__all__ = ["PerformanceMetrics", "StageTiming"]


class StageTiming(FrozenModel):
    """Timing summary of one pipeline stage; all durations in seconds."""

    count: int = Field(ge=0)
    total_s: float = Field(ge=0)
    mean_s: float = Field(ge=0)
    p50_s: float = Field(ge=0)
    p95_s: float = Field(ge=0)


class PerformanceMetrics(FrozenModel):
    """How fast and how heavy one run was.

    Attributes
    ----------
    stages : dict of str to StageTiming
        ``decode``, ``infer`` and ``collect`` timings (per frame or batch).
    bottleneck : str
        Name of the stage with the largest total time.
    frames : int
        Frames processed.
    wall_s : float
        Wall-clock time of the run, seconds.
    fps : float
        ``frames / wall_s``.
    model_load_s : float
        Time spent loading the model (0 when it was already loaded).
    peak_rss_bytes : int
        Peak resident set size of the process during the run.
    cpu_percent_mean : float
        Mean process CPU use, percent of one core.
    device : str
        Where inference ran, e.g. ``"cpu"``.
    mode : str
        ``"threaded"`` or ``"sequential"``.
    """

    stages: dict[str, StageTiming]
    bottleneck: str
    frames: int = Field(ge=0)
    wall_s: float = Field(ge=0)
    fps: float = Field(ge=0)
    model_load_s: float = Field(default=0.0, ge=0)
    peak_rss_bytes: int = Field(ge=0)
    cpu_percent_mean: float = Field(ge=0)
    device: str = "cpu"
    mode: str = "threaded"
