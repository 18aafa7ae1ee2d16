"""Quality-control metrics of one video's predictions (pure NumPy, no file IO).

Every metric answers one question a reviewer asks before trusting the
kinematics of a video:

* **detection rate** – on what fraction of decoded frames was anybody found,
  and on what fraction was the *subject* (``primary_track_id``) found;
* **frames with the subject missing** – how many, and which frame ranges;
* **mean confidence per joint** – mean of the model's per-joint confidence
  (0..1) over the frames where the subject was detected;
* **segment-length coefficient of variation** – for each clinical limb
  segment (:data:`CLINICAL_SEGMENTS`: upper arm, forearm, thigh and shank of
  each side, between canonical joints of :mod:`neuropose.skeletons`), the
  standard deviation of its 3D length over time divided by its mean length
  (dimensionless). A rigid skeleton gives 0; values above ~0.1 mean the
  model's 3D shape is unstable. The same figure is also kept for every
  skeleton edge (``bone_length_cv``), but only the limb segments enter the
  headline and the warnings: a 1 mm eye "bone" has a large CV from a
  millimetre of noise and says nothing about the kinematics;
* **jitter** – root-mean-square amplitude of the part of each joint
  trajectory above a cut-off frequency (default 8 Hz, lowered to 0.4 × the
  sampling rate for slow videos), in millimetres for 3D and pixels for 2D.
  Voluntary human movement has almost no power above ~6–8 Hz, so this is
  mostly estimator noise;
* **tracking switches** – how often a track ends and a *different* track id
  starts at nearly the same place within a few frames (an identity switch),
  plus the number of separate runs of the subject's track.

NaN policy: joints whose coordinates are NaN are ignored frame by frame;
a metric with no data is ``None`` (never NaN, so reports stay valid JSON).

Examples
--------
>>> import numpy as np
>>> t = np.arange(300) / 30.0
>>> x = 20 * np.sin(2 * np.pi * 1.0 * t) + 2 * np.sin(2 * np.pi * 12.0 * t)
>>> round(high_frequency_rms(x[:, None], t, cutoff_hz=8.0), 3)
1.414
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neuropose.schemas.predictions import VideoPredictions
from neuropose.segments import CLINICAL_SEGMENTS, clinical_segments, length_cv, segment_lengths

__all__ = [
    "CLINICAL_SEGMENTS",
    "DEFAULT_JITTER_CUTOFF_HZ",
    "QualityMetrics",
    "bone_length_cv",
    "clinical_segments",
    "compute_quality",
    "count_id_switches",
    "high_frequency_rms",
    "length_cv",
    "missing_ranges",
    "segment_lengths",
]

#: Default jitter cut-off frequency in hertz.
DEFAULT_JITTER_CUTOFF_HZ = 8.0


@dataclass(frozen=True)
class QualityMetrics:
    """Quality metrics of one video (see the module docstring for definitions).

    Attributes
    ----------
    n_frames : int
        Decoded frames.
    frame_rate_hz : float or None
        Median sampling rate from the timestamps (None with < 2 frames).
    n_tracks : int
        Distinct track ids.
    primary_track_id : int or None
        The subject's track.
    detection_rate : float or None
        Fraction of frames with at least one detection.
    subject_detection_rate : float or None
        Fraction of frames where the subject was detected.
    frames_subject_missing : int
        Frames without the subject.
    subject_missing_ranges : list of (int, int)
        Inclusive ranges of *positions* in ``frame_index`` where the subject is
        missing.
    mean_confidence : dict
        Joint name -> mean confidence over the subject's frames (None when the
        model gives no confidence or the subject was never seen).
    bone_length_cv : dict
        ``"a-b"`` edge name -> coefficient of variation of its 3D length.
    bone_length_mm : dict
        ``"a-b"`` edge name -> median 3D length (unit of ``poses3d``, mm).
    segment_length_cv : dict
        Clinical segment name (:data:`CLINICAL_SEGMENTS`) -> coefficient of
        variation of its 3D length; only the segments the skeleton provides.
    segment_length_mm : dict
        Clinical segment name -> median 3D length (mm).
    jitter_cutoff_hz : float or None
        Cut-off frequency used for jitter.
    jitter_mm : dict
        Joint name -> high-frequency RMS of the subject's 3D trajectory (mm).
    jitter_px : dict
        Joint name -> high-frequency RMS of the subject's 2D trajectory (px).
    id_switches : int
        Identity switches (see :func:`count_id_switches`).
    subject_fragments : int
        Separate contiguous runs of the subject's track.
    """

    n_frames: int
    frame_rate_hz: float | None
    n_tracks: int
    primary_track_id: int | None
    detection_rate: float | None
    subject_detection_rate: float | None
    frames_subject_missing: int
    subject_missing_ranges: list[tuple[int, int]]
    mean_confidence: dict[str, float | None]
    bone_length_cv: dict[str, float | None]
    bone_length_mm: dict[str, float | None]
    segment_length_cv: dict[str, float | None]
    segment_length_mm: dict[str, float | None]
    jitter_cutoff_hz: float | None
    jitter_mm: dict[str, float | None]
    jitter_px: dict[str, float | None]
    id_switches: int
    subject_fragments: int


def _finite_or_none(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def missing_ranges(present: np.ndarray) -> list[tuple[int, int]]:
    """Inclusive index ranges where ``present`` is False.

    Examples
    --------
    >>> missing_ranges(np.array([True, False, False, True, False]))
    [(1, 2), (4, 4)]
    """
    p = np.asarray(present, dtype=bool)
    if p.size == 0:
        return []
    absent = np.concatenate([[False], ~p, [False]]).astype(np.int8)
    edges = np.diff(absent)
    starts = np.nonzero(edges == 1)[0]
    ends = np.nonzero(edges == -1)[0] - 1
    return [(int(s), int(e)) for s, e in zip(starts, ends, strict=True)]


def _runs(present: np.ndarray) -> list[tuple[int, int]]:
    return missing_ranges(~np.asarray(present, dtype=bool))


def bone_length_cv(poses: np.ndarray, edges: tuple[tuple[int, int], ...]) -> np.ndarray:
    """Coefficient of variation of each edge's length over time.

    Parameters
    ----------
    poses : ndarray, shape (F, J, D)
        Joint positions (any unit); NaN where absent.
    edges : sequence of (int, int)
        Joint index pairs.

    Returns
    -------
    ndarray, shape (E,)
        ``std(length) / mean(length)`` over frames where both joints are
        finite (population std); NaN when fewer than 2 such frames or a zero
        mean length.

    Examples
    --------
    >>> p = np.zeros((3, 2, 3)); p[:, 1, 0] = [90.0, 100.0, 110.0]
    >>> np.round(bone_length_cv(p, ((0, 1),)), 4)
    array([0.0816])
    """
    return np.array(
        [length_cv(np.linalg.norm(poses[:, a] - poses[:, b], axis=-1)) for a, b in edges],
        dtype=np.float64,
    )


def _median_length(lengths: np.ndarray) -> float | None:
    finite = lengths[np.isfinite(lengths)]
    return float(np.median(finite)) if finite.size else None


def high_frequency_rms(
    traj: np.ndarray, timestamps_s: np.ndarray, *, cutoff_hz: float, min_run: int = 8
) -> float:
    """Root-mean-square amplitude of a trajectory's content above ``cutoff_hz``.

    Each contiguous run of finite samples (at least ``min_run`` long) has the
    straight line through its first and last samples and its mean removed,
    is multiplied by a Hann window (so slow movement does not leak into high
    bins) and Fourier transformed; the energy of bins at or above
    ``cutoff_hz`` is summed over runs and axes (Parseval), corrected for the
    window's power gain and divided by the number of samples. For one axis,
    a sinusoid of amplitude ``A`` above the cut-off gives ``A / sqrt(2)``
    whatever slow movement is superimposed; over several axes the result is
    the RMS length of the high-frequency displacement vector.

    Parameters
    ----------
    traj : ndarray, shape (F, D)
        Positions over time (mm or px); rows with any NaN are gaps.
    timestamps_s : ndarray, shape (F,)
        Frame times in seconds; the sampling interval is their median step.
    cutoff_hz : float
        Cut-off frequency in hertz.
    min_run : int
        Shorter runs are ignored.

    Returns
    -------
    float
        RMS in the unit of ``traj``; NaN when no run is long enough.
    """
    traj = np.asarray(traj, dtype=np.float64)
    ts = np.asarray(timestamps_s, dtype=np.float64)
    if ts.size < 2:
        return float("nan")
    dt = float(np.median(np.diff(ts)))
    if not dt > 0:
        return float("nan")
    ok = np.all(np.isfinite(traj), axis=1)
    energy = 0.0
    count = 0
    for s, e in _runs(ok):
        n = e - s + 1
        if n < min_run:
            continue
        seg = traj[s : e + 1]
        ramp = np.linspace(0.0, 1.0, n)[:, None]
        resid = seg - (seg[0] + (seg[-1] - seg[0]) * ramp)
        resid = resid - resid.mean(axis=0)
        window = np.hanning(n)[:, None]
        spec = np.fft.rfft(resid * window, axis=0)
        freqs = np.fft.rfftfreq(n, d=dt)
        weight = np.full(freqs.shape, 2.0)
        weight[0] = 1.0
        if n % 2 == 0:
            weight[-1] = 1.0
        hf = freqs >= cutoff_hz
        gain = float(np.mean(window**2))
        energy += float(np.sum(weight[hf, None] * np.abs(spec[hf]) ** 2) / n / gain)
        count += n
    if count == 0:
        return float("nan")
    return float(np.sqrt(energy / count))


def count_id_switches(
    vp: VideoPredictions, *, max_gap_frames: int = 5, max_distance: float = 0.5
) -> int:
    """Count identity switches between tracks.

    A switch is a track that ends on frame position ``e`` followed by a
    *different* track whose first detection is on a position in
    ``e+1 .. e+max_gap_frames`` and whose box centre lies within
    ``max_distance`` × (diagonal of the ended track's last box) of that box's
    centre. A bystander appearing elsewhere is not a switch.

    Parameters
    ----------
    vp : VideoPredictions
        Predictions of one video.
    max_gap_frames : int
        Largest frame-position gap still counted as a hand-over.
    max_distance : float
        Largest centre distance, as a fraction of the box diagonal.
    """
    if vp.track_id.size == 0:
        return 0
    firsts: dict[int, int] = {}
    lasts: dict[int, int] = {}
    for row, tid in enumerate(vp.track_id.tolist()):
        firsts.setdefault(tid, row)
        lasts[tid] = row
    centres = vp.boxes[:, :2] + vp.boxes[:, 2:4] / 2
    switches = 0
    for tid, last_row in lasts.items():
        end = int(vp.det_frame[last_row])
        diag = float(np.hypot(vp.boxes[last_row, 2], vp.boxes[last_row, 3]))
        for other, first_row in firsts.items():
            if other == tid:
                continue
            start = int(vp.det_frame[first_row])
            if not end < start <= end + max_gap_frames:
                continue
            dist = float(np.linalg.norm(centres[first_row] - centres[last_row]))
            if dist <= max_distance * diag:
                switches += 1
                break
    return switches


def compute_quality(
    vp: VideoPredictions, *, jitter_cutoff_hz: float = DEFAULT_JITTER_CUTOFF_HZ
) -> QualityMetrics:
    """Compute every quality metric of one video's predictions.

    Parameters
    ----------
    vp : VideoPredictions
        Predictions; the subject is ``vp.primary_track_id``.
    jitter_cutoff_hz : float
        Jitter cut-off in hertz; lowered to 0.4 × the frame rate when that is
        smaller, so some band always remains below the Nyquist frequency.

    Returns
    -------
    QualityMetrics
    """
    joints = vp.skeleton.joints
    n = vp.num_frames
    has_any = np.zeros(n, dtype=bool)
    has_any[vp.det_frame] = True
    poses3d, rows = vp.track()
    present = rows >= 0
    fps = None
    if n >= 2:
        step = float(np.median(np.diff(vp.timestamp_s)))
        fps = 1.0 / step if step > 0 else None
    cutoff = None if fps is None else min(jitter_cutoff_hz, 0.4 * fps)

    mean_conf: dict[str, float | None] = dict.fromkeys(joints)
    if vp.confidence is not None and present.any():
        c = vp.confidence[rows[present]].astype(np.float64)
        with np.errstate(invalid="ignore"):
            means = np.nanmean(np.where(np.isfinite(c), c, np.nan), axis=0) if c.size else c
        for j, name in enumerate(joints):
            mean_conf[name] = _finite_or_none(means[j])

    cv = bone_length_cv(poses3d, vp.skeleton.edges) if present.any() else None
    bone: dict[str, float | None] = {}
    bone_mm: dict[str, float | None] = {}
    for k, (a, b) in enumerate(vp.skeleton.edges):
        name = f"{joints[a]}-{joints[b]}"
        bone[name] = None if cv is None else _finite_or_none(cv[k])
        bone_mm[name] = _median_length(np.linalg.norm(poses3d[:, a] - poses3d[:, b], axis=-1))
    seg_lengths = segment_lengths(poses3d, vp.skeleton)
    seg_cv = {k: _finite_or_none(length_cv(v)) for k, v in seg_lengths.items()}
    seg_mm = {k: _median_length(v) for k, v in seg_lengths.items()}

    poses2d = np.full((n, len(joints), 2), np.nan)
    poses2d[present] = vp.poses2d[rows[present]]
    jit3: dict[str, float | None] = dict.fromkeys(joints)
    jit2: dict[str, float | None] = dict.fromkeys(joints)
    if cutoff is not None and present.any():
        for j, name in enumerate(joints):
            jit3[name] = _finite_or_none(
                high_frequency_rms(poses3d[:, j], vp.timestamp_s, cutoff_hz=cutoff)
            )
            jit2[name] = _finite_or_none(
                high_frequency_rms(poses2d[:, j], vp.timestamp_s, cutoff_hz=cutoff)
            )

    return QualityMetrics(
        n_frames=n,
        frame_rate_hz=fps,
        n_tracks=int(np.unique(vp.track_id).size),
        primary_track_id=vp.primary_track_id,
        detection_rate=float(has_any.mean()) if n else None,
        subject_detection_rate=float(present.mean()) if n else None,
        frames_subject_missing=int(n - present.sum()),
        subject_missing_ranges=missing_ranges(present),
        mean_confidence=mean_conf,
        bone_length_cv=bone,
        bone_length_mm=bone_mm,
        segment_length_cv=seg_cv,
        segment_length_mm=seg_mm,
        jitter_cutoff_hz=cutoff,
        jitter_mm=jit3,
        jitter_px=jit2,
        id_switches=count_id_switches(vp),
        subject_fragments=len(_runs(present)),
    )
