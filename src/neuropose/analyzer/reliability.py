"""How far one camera's joint angles can be trusted: per-frame flags and a per-angle verdict.

A monocular 3D pose is exact in the image plane and guessed in depth, and a
model labels the body left-for-right now and then without lowering its
confidence. For every named angle (:data:`~neuropose.analyzer.angles.ANGLE_NAMES`)
and frame, five ingredients are computed from the subject's own data and
each is divided by its threshold (:class:`Thresholds`), so 1 means "at the
threshold":

============  =====================================================  ===================
ingredient    value on one frame                                     ratio (≥ 1 flags)
============  =====================================================  ===================
confidence    lowest model confidence (0..1) of the angle's joints   (1 − c) / (1 − c_min)
length        largest relative deviation ``|L / median(L) − 1|`` of  dev / max_length_dev
              the angle's limb segments (:data:`~neuropose.segments.
              CLINICAL_SEGMENTS`)
              from the track's own median length
swap          the frame lies within ``swap_margin`` frames of a      1 or 0
              left/right relabelling of the angle's body part
jitter        ``|a[t] − (a[t−1] + a[t+1]) / 2|`` of the angle (deg)  jitter / max_jitter_deg
out_of_plane  ``1 − |n · z|``: n = unit normal of the plane the      oop / max_out_of_plane
              angle moves in, z = camera axis; 0 = plane seen face-
              on, 1 = edge-on (the angle then lives in depth)
============  =====================================================  ===================

The frame's **score** is the largest ratio; the frame is **flagged** when the
score is ≥ 1 or the pose is implausible (``VideoPredictions.plausible``), and
its flags name the ingredients at or over their threshold. The angle plane's
normal is the pelvis left→right axis for the sagittal angles (hip, knee and
ankle flexion) and the cross product of the angle's two vectors otherwise
(undefined, so not scored, when they are within 10° of parallel).
``trunk_inclination`` has no plane and no side.

A clip's **verdict** per angle: ``unreliable`` when the median out-of-plane
value is ≥ :data:`EDGE_ON` (the camera sees the movement edge-on: e.g. knee
flexion filmed from the front) or more than half of the detected frames are
flagged;
``caution`` when more than :data:`CAUTION_FLAGGED` of them are flagged or the
angle's expected error (:data:`ERROR_BANDS_DEG`) exceeds
:data:`RELIABLE_BAND_DEG`; ``reliable`` otherwise. The expected errors and
the default thresholds come from ``benchmarks/validate_reliability.py``
(monocular vs triangulated angles, 2 views, 100 frames, one subject; fitted
on cam01, reported on cam02 too; see ``docs/analyzer.md``): a first
measurement, not a guarantee. With them the per-frame out-of-plane ratio
never flags (cam01 gave no evidence for it); out-of-plane acts through the
clip verdict.

Examples
--------
>>> import numpy as np
>>> ratios = {"confidence": np.array([0.2, 1.4]), "jitter": np.array([0.5, 0.1])}
>>> combine(ratios, plausible=np.array([True, True]))[0].tolist()
[0.5, 1.4]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from neuropose.analyzer.load import JointNotFoundError, resolve_joint
from neuropose.schemas.predictions import VideoPredictions
from neuropose.schemas.skeleton import Skeleton
from neuropose.segments import CLINICAL_SEGMENTS

__all__ = [
    "ANGLE_SPECS",
    "BAND_SOURCE",
    "CAUTION_FLAGGED",
    "EDGE_ON",
    "ERROR_BANDS_DEG",
    "INGREDIENTS",
    "NOT_FROM_ONE_VIEW",
    "RELIABLE_BAND_DEG",
    "AngleReliability",
    "AngleSpec",
    "Evidence",
    "Thresholds",
    "angle_reliability",
    "combine",
    "evidence_from_predictions",
    "ingredient_ratios",
    "supported",
]

Verdict = Literal["reliable", "caution", "unreliable"]
#: Ingredient names, in the order flags are listed.
INGREDIENTS = ("confidence", "length", "swap", "jitter", "out_of_plane")
#: Above this fraction of flagged detected frames the verdict is at least ``caution``.
CAUTION_FLAGGED = 0.2
#: Above this expected RMS error (deg) the verdict is at least ``caution``.
RELIABLE_BAND_DEG = 10.0
#: At or above this median out-of-plane value (``1 − |n · z|``; 0.85 puts the plane
#: of motion within ~9° of the line of sight) the verdict is ``unreliable``. A
#: geometric rule: neither lab view comes near it (medians 0.10–0.78).
EDGE_ON = 0.85
_PARALLEL_SIN = float(np.sin(np.radians(10.0)))


@dataclass(frozen=True)
class AngleSpec:
    """What an angle depends on.

    Attributes
    ----------
    joints : tuple of str
        Canonical joints the angle is computed from.
    segments : tuple of str
        Clinical segments (:data:`neuropose.segments.CLINICAL_SEGMENTS`) whose
        length enters the ``length`` ingredient.
    part : {"upper", "lower"} or None
        Body part whose left/right relabelling affects the angle.
    plane : tuple of two (from, to) joint pairs, or "sagittal", or None
        Plane of motion: spanned by the two vectors, or normal to the pelvis
        left→right axis; None when the angle has no plane.
    """

    joints: tuple[str, ...]
    segments: tuple[str, ...]
    part: Literal["upper", "lower"] | None
    plane: tuple[tuple[str, str], tuple[str, str]] | Literal["sagittal"] | None


def _specs() -> dict[str, AngleSpec]:
    out: dict[str, AngleSpec] = {}
    for s in ("left", "right"):
        out[f"{s}_knee_flexion"] = AngleSpec(
            (f"{s}_hip", f"{s}_knee", f"{s}_ankle"), (f"{s}_thigh", f"{s}_shank"), "lower",
            "sagittal",
        )  # fmt: skip
        out[f"{s}_hip_flexion"] = AngleSpec(
            (f"{s}_hip", f"{s}_knee", "neck", "pelvis"), (f"{s}_thigh",), "lower", "sagittal"
        )
        out[f"{s}_ankle_dorsiflexion"] = AngleSpec(
            (f"{s}_knee", f"{s}_ankle", f"{s}_heel", f"{s}_toe"), (f"{s}_shank",), "lower",
            "sagittal",
        )  # fmt: skip
        out[f"{s}_elbow_flexion"] = AngleSpec(
            (f"{s}_shoulder", f"{s}_elbow", f"{s}_wrist"),
            (f"{s}_upper_arm", f"{s}_forearm"),
            "upper",
            ((f"{s}_elbow", f"{s}_shoulder"), (f"{s}_elbow", f"{s}_wrist")),
        )
        out[f"{s}_shoulder_elevation"] = AngleSpec(
            (f"{s}_shoulder", f"{s}_elbow", "neck", "pelvis"),
            (f"{s}_upper_arm",),
            "upper",
            (("neck", "pelvis"), (f"{s}_shoulder", f"{s}_elbow")),
        )
    out["trunk_inclination"] = AngleSpec(("pelvis", "neck"), (), None, None)
    return out


#: Every named angle's joints, segments, body part and plane of motion.
ANGLE_SPECS: dict[str, AngleSpec] = _specs()

#: Expected RMS error (deg) of each angle kind against the two-view triangulation on
#: frames *not* flagged with the default :class:`Thresholds`, pooled over both sides
#: and both lab views (cam01, cam02), measured by ``benchmarks/validate_reliability.py``
#: (2 views, 100 frames, one subject, unfiltered angles). Keys are angle names
#: without the side. It includes each view's constant bias (up to 35 deg for one
#: elbow), which no per-frame flag can catch.
ERROR_BANDS_DEG: dict[str, float] = {
    "knee_flexion": 12.1,
    "hip_flexion": 12.0,
    "ankle_dorsiflexion": 18.2,
    "elbow_flexion": 23.9,
    "shoulder_elevation": 13.6,
    "trunk_inclination": 15.8,
}


#: Where :data:`ERROR_BANDS_DEG` comes from, in words a legend or a report can carry.
BAND_SOURCE = (
    "expected RMS error vs two-view triangulation (benchmarks/validate_reliability.py, "
    "RESEARCH.md section 13: lab trial, 2 views, 100 frames, one subject)"
)
#: How an ``unreliable`` angle is labelled wherever it is shown.
NOT_FROM_ONE_VIEW = "not reliable from one view"


@dataclass(frozen=True)
class Thresholds:
    """Where each ingredient's ratio reaches 1 (see the module docstring).

    Defaults were fitted on cam01 of the lab trial (best F1 for frames with an error
    > 15° among settings flagging ≤ 20 % of angle-frames,
    ``benchmarks/validate_reliability.py --fit``) and reported unchanged on cam02.

    Attributes
    ----------
    min_confidence : float
        Lowest acceptable joint confidence (0..1).
    max_length_dev : float
        Largest acceptable relative segment-length deviation from the track median.
    swap_margin : int
        Frames on each side of a relabelled run that are flagged too.
    max_jitter_deg : float
        Largest acceptable second difference of the angle (deg, at the clip's rate).
    max_out_of_plane : float
        Largest acceptable ``1 − |n · z|`` (0..1).
    """

    min_confidence: float = 0.9
    max_length_dev: float = 0.3
    swap_margin: int = 2
    max_jitter_deg: float = 8.0
    max_out_of_plane: float = 1.0

    def record(self) -> dict[str, float | int]:
        """JSON-ready values, for report provenance."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class Evidence:
    """One subject's monocular data that the ingredients are computed from.

    Attributes
    ----------
    poses : ndarray, shape (F, J, 3)
        Camera-frame 3D positions (mm; x right, y down, z forward), NaN when absent.
    skeleton : Skeleton
    confidence : ndarray, shape (F, J), or None
        Per-joint confidence (0..1); None when the model gives none.
    swapped : dict
        ``"upper"`` / ``"lower"`` -> (F,) bool, frames whose labels were exchanged.
    plausible : ndarray, shape (F,), bool
        False for an implausible pose (never used in statistics).
    """

    poses: np.ndarray
    skeleton: Skeleton
    confidence: np.ndarray | None = None
    swapped: dict[str, np.ndarray] = field(default_factory=dict)
    plausible: np.ndarray | None = None

    @property
    def num_frames(self) -> int:
        """Number of frames F."""
        return int(self.poses.shape[0])


def supported(skeleton: Skeleton, name: str) -> bool:
    """True when ``skeleton`` provides every joint angle ``name``'s reliability needs.

    Examples
    --------
    >>> from neuropose.skeletons import BLAZEPOSE_33, H36M_17
    >>> [supported(sk, "left_ankle_dorsiflexion") for sk in (BLAZEPOSE_33, H36M_17)]
    [True, False]
    """
    spec = ANGLE_SPECS.get(name)
    if spec is None:
        return False
    needed = set(spec.joints)
    if spec.plane == "sagittal":
        needed |= {"left_hip", "right_hip"}
    zeros = np.zeros((len(skeleton.joints), 3))
    try:
        for j in needed:
            resolve_joint(zeros, skeleton, j)
    except JointNotFoundError:
        return False
    return True


def evidence_from_predictions(vp: VideoPredictions, track_id: int | None = None) -> Evidence:
    """The :class:`Evidence` of one track (default: the primary subject) of ``vp``.

    Frames without the track are NaN, confidence 0, not swapped, plausible.
    """
    tid = vp.primary_track_id if track_id is None else track_id
    poses, rows = vp.track(tid)
    have = rows >= 0
    conf = None
    if vp.confidence is not None:
        conf = np.zeros(poses.shape[:2])
        conf[have] = vp.confidence[rows[have]]
    plausible = np.ones(vp.num_frames, bool)
    if vp.plausible is not None:
        plausible[have] = vp.plausible[rows[have]]
    swapped = {p: np.zeros(vp.num_frames, bool) for p in ("upper", "lower")}
    for c in vp.swap_corrections:
        if c.track_id == tid:
            swapped[c.part][c.first_frame : c.last_frame + 1] = True
    return Evidence(poses, vp.skeleton, conf, swapped, plausible)


def _joint(ev: Evidence, name: str) -> np.ndarray:
    return resolve_joint(ev.poses, ev.skeleton, name)


def _unit(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return v / n, n[..., 0]


def _out_of_plane(ev: Evidence, spec: AngleSpec) -> np.ndarray:
    if spec.plane is None:
        return np.full(ev.num_frames, np.nan)
    if spec.plane == "sagittal":
        normal, _ = _unit(_joint(ev, "right_hip") - _joint(ev, "left_hip"))
    else:
        (a0, a1), (b0, b1) = spec.plane
        u, _ = _unit(_joint(ev, a1) - _joint(ev, a0))
        v, _ = _unit(_joint(ev, b1) - _joint(ev, b0))
        normal, sin = _unit(np.cross(u, v))
        normal[~(sin >= _PARALLEL_SIN)] = np.nan
    return 1.0 - np.abs(normal[:, 2])


def _dilate(mask: np.ndarray, margin: int) -> np.ndarray:
    out = mask.copy()
    for k in range(1, margin + 1):
        out[k:] |= mask[:-k]
        out[:-k] |= mask[k:]
    return out


def ingredient_ratios(
    ev: Evidence, name: str, angle: np.ndarray, thresholds: Thresholds | None = None
) -> dict[str, np.ndarray]:
    """Each ingredient's per-frame ratio to its threshold for angle ``name`` (NaN = unknown).

    Parameters
    ----------
    ev : Evidence
    name : str
        A key of :data:`ANGLE_SPECS`.
    angle : ndarray, shape (F,)
        The angle's values (deg) computed from ``ev.poses``.
    thresholds : Thresholds, optional

    Returns
    -------
    dict of str to ndarray, shape (F,)
        Ingredient name (:data:`INGREDIENTS`) -> ratio (≥ 1 flags the frame).
    """
    th = thresholds or Thresholds()
    spec = ANGLE_SPECS[name]
    f = ev.num_frames
    out: dict[str, np.ndarray] = {}
    if ev.confidence is not None:
        c3 = np.repeat(ev.confidence[..., None], 3, axis=-1)
        conf = np.stack([resolve_joint(c3, ev.skeleton, j)[..., 0] for j in spec.joints])
        out["confidence"] = (1.0 - conf.min(axis=0)) / (1.0 - th.min_confidence)
    if spec.segments:
        devs = []
        for seg in spec.segments:
            a, b = CLINICAL_SEGMENTS[seg]
            length = np.linalg.norm(_joint(ev, a) - _joint(ev, b), axis=-1)
            with np.errstate(invalid="ignore", divide="ignore"):
                devs.append(np.abs(length / np.nanmedian(length) - 1.0))
        out["length"] = np.max(devs, axis=0) / th.max_length_dev
    if spec.part is not None:
        sw = ev.swapped.get(spec.part, np.zeros(f, bool))
        out["swap"] = _dilate(sw, th.swap_margin).astype(np.float64)
    jit = np.full(f, np.nan)
    if f >= 3:
        jit[1:-1] = np.abs(angle[1:-1] - (angle[:-2] + angle[2:]) / 2.0)
    out["jitter"] = jit / th.max_jitter_deg
    out["out_of_plane"] = _out_of_plane(ev, spec) / th.max_out_of_plane
    return out


def combine(
    ratios: dict[str, np.ndarray], plausible: np.ndarray | None = None
) -> tuple[np.ndarray, list[tuple[str, ...]]]:
    """Per-frame score (largest finite ratio, NaN when none) and flags.

    A frame's flags are the ingredients whose ratio is ≥ 1, plus
    ``"implausible"`` when ``plausible`` is False.
    """
    stack = np.stack(list(ratios.values()))
    with np.errstate(invalid="ignore"):
        score = np.where(
            np.isfinite(stack).any(axis=0),
            np.nanmax(np.where(np.isfinite(stack), stack, -np.inf), axis=0),
            np.nan,
        )
    names = list(ratios)
    over = np.nan_to_num(stack, nan=0.0) >= 1.0
    flags = []
    for t in range(stack.shape[1]):
        fl = tuple(n for n in INGREDIENTS if n in ratios and over[names.index(n), t])
        if plausible is not None and not plausible[t]:
            fl = (*fl, "implausible")
        flags.append(fl)
    return score, flags


@dataclass(frozen=True)
class AngleReliability:
    """The reliability of one angle over a clip.

    Attributes
    ----------
    name : str
    verdict : {"reliable", "caution", "unreliable"}
    reasons : tuple of str
        Why the verdict is not ``reliable`` (plain language).
    expected_error_deg : float or None
        Expected RMS error on unflagged frames (:data:`ERROR_BANDS_DEG`).
    score : ndarray, shape (F,)
        Per-frame score (see :func:`combine`).
    flags : list of tuple of str
        Per-frame flags.
    detected : int
        Frames where the angle is finite.
    flagged : int
        Detected frames with at least one flag.
    median_out_of_plane : float or None
        Median out-of-plane value ``1 − |n · z|`` (0..1) over the clip.
    """

    name: str
    verdict: Verdict
    reasons: tuple[str, ...]
    expected_error_deg: float | None
    score: np.ndarray
    flags: list[tuple[str, ...]]
    detected: int
    flagged: int
    median_out_of_plane: float | None

    @property
    def label(self) -> str:
        """Plain-language verdict for a legend or a table.

        Examples
        --------
        >>> r = AngleReliability("left_knee_flexion", "caution", (), 12.1, np.zeros(1), [()],
        ...                      1, 0, 0.1)
        >>> r.label
        'caution: expected error ±12° RMS'
        >>> r.__class__(**{**r.__dict__, "verdict": "unreliable"}).label
        'not reliable from one view'
        """
        if self.detected == 0:
            return "not measured"
        if self.verdict == "unreliable":
            return NOT_FROM_ONE_VIEW
        if self.expected_error_deg is None:
            return self.verdict
        return f"{self.verdict}: expected error ±{self.expected_error_deg:.0f}° RMS"

    def flagged_mask(self) -> np.ndarray:
        """(F,) bool: frames with at least one flag."""
        return np.array([bool(f) for f in self.flags], dtype=bool)

    def summary(self) -> dict[str, Any]:
        """JSON-ready summary: verdict, label, band, counts and the flagged frame positions."""
        flagged = [t for t, fl in enumerate(self.flags) if fl]
        return {
            "verdict": self.verdict,
            "label": self.label,
            "reasons": list(self.reasons),
            "expected_error_deg": self.expected_error_deg,
            "detected_frames": self.detected,
            "flagged_frames": self.flagged,
            "median_out_of_plane": self.median_out_of_plane,
            "flagged": flagged,
        }


def _kind(name: str) -> str:
    return name.removeprefix("left_").removeprefix("right_")


def angle_reliability(
    ev: Evidence, name: str, angle: np.ndarray, thresholds: Thresholds | None = None
) -> AngleReliability:
    """Flags, score and verdict of angle ``name`` (values ``angle``, deg) over one clip.

    Examples
    --------
    >>> import numpy as np
    >>> from neuropose.skeletons import BLAZEPOSE_33
    >>> ev = Evidence(np.zeros((3, 33, 3)), BLAZEPOSE_33)
    >>> r = angle_reliability(ev, "trunk_inclination", np.array([5.0, 5.0, 5.0]))
    >>> r.verdict, r.expected_error_deg, r.flagged
    ('caution', 15.8, 0)
    """
    th = thresholds or Thresholds()
    ratios = ingredient_ratios(ev, name, angle, th)
    score, flags = combine(ratios, ev.plausible)
    finite = np.isfinite(angle)
    detected = int(finite.sum())
    flagged = int(sum(1 for t in np.nonzero(finite)[0] if flags[t]))
    oop = ratios["out_of_plane"][finite] * th.max_out_of_plane
    med_oop = float(np.nanmedian(oop)) if np.isfinite(oop).any() else None
    band = ERROR_BANDS_DEG.get(_kind(name))
    reasons: list[str] = []
    verdict: Verdict = "reliable"
    frac = flagged / detected if detected else 1.0
    if med_oop is not None and med_oop >= EDGE_ON:
        reasons.append(
            f"the movement plane is seen nearly edge-on (median out-of-plane {med_oop:.2f}): "
            "the angle depends on the model's depth guess; film it from the side"
        )
    if not detected:
        reasons.append("no frame has the joints this angle needs")
    elif frac > 0.5:
        reasons.append(f"{flagged} of {detected} frames flagged")
    if reasons:
        verdict = "unreliable"
    else:
        if frac > CAUTION_FLAGGED:
            reasons.append(f"{flagged} of {detected} frames flagged")
        if band is not None and band > RELIABLE_BAND_DEG:
            reasons.append(f"expected error {band:.0f} deg RMS against two-view triangulation")
        if reasons:
            verdict = "caution"
    return AngleReliability(
        name, verdict, tuple(reasons), band, score, flags, detected, flagged, med_oop
    )
