"""Schemas of analysis configs (``neuropose analyze CONFIG.toml``) and reports.

Every config model rejects unknown keys (``extra="forbid"``), so a typo such
as ``cuttoff_hz`` fails with a message naming the key instead of being
silently ignored. Relative paths in a config resolve against the config
file's directory.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from neuropose.schemas.base import Document

__all__ = [
    "AnalysisConfig",
    "AnalysisReport",
    "ComparisonSpec",
    "CustomAngleSpec",
    "FilterSpec",
    "GaitSpec",
    "SegmentationSignal",
    "SegmentationSpec",
]


#: Where a named angle comes from (``AnalysisConfig.angle_source``).
AngleSource = Literal["keypoints", "opensim"]


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SegmentationSignal(_Strict):
    """The 1-D signal of a trial that segmentation runs on (``[segment] signal``).

    Not the derived-signal graph spec (:class:`neuropose.signals.SignalSpec`),
    though ``kind = "signal"`` picks one node of such a graph.

    Examples: ``{kind="angle", angle="left_elbow_flexion"}``,
    ``{kind="joint_axis", joint="left_wrist", axis="up"}``,
    ``{kind="distance", joints=["left_wrist", "left_hip"]}``,
    ``{kind="speed", joint="right_wrist"}``,
    ``{kind="angle", joints=["left_shoulder", "left_elbow", "left_wrist"]}``,
    ``{kind="signal", node="knee_l_filt"}`` or just ``"knee_l_filt"``: a node of
    the derived-signal spec (:mod:`neuropose.signals`) named by the config's
    ``signals_spec`` (or by ``spec_file``).
    """

    kind: Literal["joint_axis", "distance", "speed", "angle", "signal"]
    joint: str | None = None
    joints: tuple[str, ...] = ()
    axis: Literal["x", "y", "z", "up"] = "up"
    angle: str | None = None
    node: str | None = None
    spec_file: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _node_name(cls, data: Any) -> Any:
        return {"kind": "signal", "node": data} if isinstance(data, str) else data

    @model_validator(mode="after")
    def _check(self) -> SegmentationSignal:
        if self.kind == "signal" and not self.node:
            raise ValueError("signal kind 'signal' needs 'node' (a node of the signals spec)")
        if self.kind in {"joint_axis", "speed"} and not self.joint:
            raise ValueError(f"signal kind {self.kind!r} needs 'joint'")
        if self.kind == "distance" and len(self.joints) != 2:
            raise ValueError("signal kind 'distance' needs 'joints' = [a, b]")
        if self.kind == "angle" and self.angle is None and len(self.joints) != 3:
            raise ValueError("signal kind 'angle' needs 'angle' or 'joints' = [a, vertex, c]")
        return self

    @classmethod
    def parse(cls, text: str) -> SegmentationSignal:
        """Parse the CLI form ``angle:NAME``, ``angle:A,B,C``, ``axis:JOINT[:x|y|z|up]``,
        ``distance:A,B``, ``speed:JOINT`` or ``signal:NODE:SPEC_FILE``."""
        kind, _, rest = text.partition(":")
        parts = rest.split(":") if rest else []
        if kind == "angle" and parts:
            names = parts[0].split(",")
            return (
                cls(kind="angle", joints=tuple(names))
                if len(names) == 3
                else cls(kind="angle", angle=parts[0])
            )
        if kind == "axis" and parts:
            axis = parts[1] if len(parts) > 1 else "up"
            return cls(kind="joint_axis", joint=parts[0], axis=axis)
        if kind == "distance" and parts:
            return cls(kind="distance", joints=tuple(parts[0].split(",")))
        if kind == "speed" and parts:
            return cls(kind="speed", joint=parts[0])
        if kind == "signal" and len(parts) >= 2:
            return cls(kind="signal", node=parts[0], spec_file=":".join(parts[1:]))
        raise ValueError(
            f"cannot parse signal {text!r}; use angle:NAME, angle:A,B,C, axis:JOINT[:x|y|z|up], "
            "distance:A,B, speed:JOINT or signal:NODE:SPEC_FILE"
        )


class CustomAngleSpec(_Strict):
    """A user-defined angle: ``three_point`` ∠(a, vertex, c) or ``segment`` a→b vs an axis.

    Examples: ``{name = "l_arm_trunk", kind = "three_point", joints = ["left_elbow",
    "left_shoulder", "left_hip"]}``, ``{name = "shank_tilt", kind = "segment",
    joints = ["left_ankle", "left_knee"], reference = "up"}``. Degrees, 0..180.
    """

    name: str = Field(min_length=1)
    kind: Literal["three_point", "segment"]
    joints: tuple[str, ...]
    reference: Literal["up", "x", "y", "z"] = "up"

    @model_validator(mode="after")
    def _check(self) -> CustomAngleSpec:
        need = 3 if self.kind == "three_point" else 2
        if len(self.joints) != need:
            raise ValueError(f"custom angle kind {self.kind!r} needs {need} joints")
        return self


class FilterSpec(_Strict):
    """A smoothing filter applied to joint positions before analysis."""

    kind: Literal["butterworth", "savitzky_golay", "one_euro", "none"] = "none"
    cutoff_hz: float | None = Field(default=None, gt=0, description="Butterworth cut-off, Hz.")
    order: int = Field(default=4, ge=1, le=8, description="Butterworth order.")
    window_s: float | None = Field(default=None, gt=0, description="Savitzky–Golay window, s.")
    polyorder: int = Field(default=3, ge=1, le=6)
    min_cutoff_hz: float = Field(default=1.0, gt=0)
    beta: float = Field(default=0.0, ge=0)
    d_cutoff_hz: float = Field(default=1.0, gt=0)

    @model_validator(mode="after")
    def _check(self) -> FilterSpec:
        if self.kind == "butterworth" and self.cutoff_hz is None:
            raise ValueError("filter kind 'butterworth' needs 'cutoff_hz'")
        if self.kind == "savitzky_golay" and self.window_s is None:
            raise ValueError("filter kind 'savitzky_golay' needs 'window_s'")
        return self


class SegmentationSpec(_Strict):
    """Repetition segmentation of one signal."""

    name: str = Field(min_length=1)
    signal: SegmentationSignal
    prominence: float | None = Field(default=None, gt=0)
    min_distance_s: float = Field(default=0.3, gt=0)
    smoothing_hz: float | None = Field(default=None, gt=0)
    polarity: Literal["max", "min"] = "max"


class GaitSpec(_Strict):
    """Gait event detection (Zeni et al. 2008) and spatiotemporal parameters."""

    min_event_interval_s: float = Field(default=0.35, gt=0)
    prominence_fraction: float = Field(default=0.2, gt=0, lt=1)
    smoothing_hz: float | None = Field(default=6.0, gt=0)


class ComparisonSpec(_Strict):
    """DTW comparison of two trials (paths relative to the config file)."""

    name: str = Field(min_length=1)
    a: str
    b: str
    video_a: str | None = None
    video_b: str | None = None
    mode: Literal["all", "per_joint", "relation", "angles", "signals"] = "all"
    joints: tuple[str, ...] = ()
    pairs: tuple[tuple[str, str], ...] = ()
    angles: tuple[str, ...] = ()
    signals: tuple[str, ...] = ()
    alignment: Literal["none", "procrustes_frame", "procrustes_sequence"] = "none"
    scale: bool = False
    engine: Literal["exact", "fastdtw"] = "exact"
    band: float | None = Field(default=None, gt=0)
    radius: int = Field(default=1, ge=0)
    nan_policy: Literal["propagate", "interpolate", "drop"] = "interpolate"

    @model_validator(mode="after")
    def _check(self) -> ComparisonSpec:
        if self.mode == "relation" and not self.pairs:
            raise ValueError("comparison mode 'relation' needs 'pairs'")
        if self.mode == "angles" and not self.angles:
            raise ValueError("comparison mode 'angles' needs 'angles'")
        if self.mode == "signals" and not self.signals:
            raise ValueError("comparison mode 'signals' needs 'signals' (nodes of signals_spec)")
        if self.engine == "fastdtw" and self.band is not None:
            raise ValueError("'band' applies to the exact engine; fastdtw uses 'radius'")
        if self.mode in {"all", "per_joint"} and not self.joints:
            raise ValueError(f"comparison mode {self.mode!r} needs 'joints' (canonical names)")
        return self


class AnalysisConfig(_Strict):
    """A declarative analysis (the TOML file of ``neuropose analyze``).

    Attributes
    ----------
    inputs : list of str
        Glob patterns of results files, relative to the config file.
    video : str, optional
        Video inside each results file (needed when a file holds several).
    track_id : int, optional
        Subject track; default the estimator's primary subject.
    max_gap : int
        Longest gap (frames) filled by interpolation before filtering.
    filter : FilterSpec
        Smoothing of joint positions.
    angles : list of str
        Named angles to compute and summarise.
    custom_angles : list of CustomAngleSpec
        Generic 3-point and segment angles, summarised like named ones.
    speeds : list of str
        Joints whose speed (mm/s, from timestamps) is summarised.
    up_axis : str
        Up-axis estimation method (auto, ground_plane, body_axis, camera).
    angle_source : str or dict
        Where named angles come from: ``"keypoints"`` (computed from three
        keypoints, the default) or ``"opensim"`` (the results' OpenSim
        inverse kinematics, ``neuropose opensim``; angles without an OpenSim
        coordinate, e.g. ``trunk_inclination``, stay keypoint angles), or a
        table angle -> source for some angles only (the others: keypoints).
    segmentations : list of SegmentationSpec
    gait : GaitSpec, optional
    comparisons : list of ComparisonSpec
    signals_spec : str, optional
        Derived-signal spec (:mod:`neuropose.signals`, relative to the config)
        whose nodes segmentations (``signal = "NODE"``) and comparisons
        (``mode = "signals"``) use; computed on the preprocessed trial.
    """

    name: str = "analysis"
    inputs: tuple[str, ...] = ()
    video: str | None = None
    track_id: int | None = None
    max_gap: int = Field(default=5, ge=0)
    filter: FilterSpec = FilterSpec()
    angles: tuple[str, ...] = ()
    custom_angles: tuple[CustomAngleSpec, ...] = ()
    speeds: tuple[str, ...] = ()
    up_axis: Literal["auto", "ground_plane", "body_axis", "camera"] = "auto"
    angle_source: AngleSource | dict[str, AngleSource] = "keypoints"
    segmentations: tuple[SegmentationSpec, ...] = ()
    gait: GaitSpec | None = None
    comparisons: tuple[ComparisonSpec, ...] = ()
    signals_spec: str | None = None

    @model_validator(mode="after")
    def _check(self) -> AnalysisConfig:
        names = [s.name for s in self.segmentations]
        if len(set(names)) != len(names):
            raise ValueError("segmentation names must be unique")
        angle_names = [*self.angles, *(c.name for c in self.custom_angles)]
        if len(set(angle_names)) != len(angle_names):
            raise ValueError("angle names (angles and custom_angles) must be unique")
        if isinstance(self.angle_source, dict):
            stray = sorted(set(self.angle_source) - set(self.angles))
            if stray:
                raise ValueError(
                    f"angle_source names {', '.join(stray)}, not in 'angles' "
                    "(custom angles are always computed from keypoints)"
                )
        return self

    def source_of(self, angle: str, opensim_angles: tuple[str, ...]) -> AngleSource:
        """Source of a named angle: ``"opensim"`` only for angles in ``opensim_angles``
        when the config asks for it globally, as asked when per angle."""
        if isinstance(self.angle_source, dict):
            return self.angle_source.get(angle, "keypoints")
        return (
            "opensim"
            if self.angle_source == "opensim" and angle in opensim_angles
            else ("keypoints")
        )


class AnalysisReport(Document):
    """The JSON report of ``neuropose analyze``.

    Attributes
    ----------
    provenance : dict
        Config (as loaded) and its sha256, config path name, package
        versions, creation time.
    inputs : list of dict
        One entry per input file in input order: file name, sha256, status
        (``ok``/``failed``), error message, trial description (model,
        track), transforms applied, angle summaries, segmentations with
        per-segment statistics, gait events and parameters.
    comparisons : list of dict
        DTW results of each configured comparison.
    tables : dict
        Names of the CSV tables written beside the report.
    """

    SCHEMA_VERSION: ClassVar[int] = 1
    provenance: dict[str, Any]
    inputs: tuple[dict[str, Any], ...] = ()
    comparisons: tuple[dict[str, Any], ...] = ()
    tables: dict[str, str] = Field(default_factory=dict)
