"""The analyzer: kinematics, repetitions, gait and DTW from NeuroPose results.

Pure functions of the predictions — no daemon, no TensorFlow. Typical use::

    from neuropose.analyzer import load_trial, compute_angle, segment_repetitions
    trial = load_trial("out/job/results.json")          # primary subject, NaN if missed
    knee = compute_angle(trial, "left_knee_flexion")    # degrees, documented convention
    reps = segment_repetitions(knee, trial.timestamps, min_distance_s=0.5)

Modules: :mod:`~neuropose.analyzer.load` (trials, joint lookup by canonical
name), :mod:`~neuropose.analyzer.angles` (conventions, up-axis estimation),
:mod:`~neuropose.analyzer.kinematics` (derivatives from timestamps,
statistics), :mod:`~neuropose.analyzer.filtering` (gaps, Butterworth,
Savitzky–Golay, one-euro), :mod:`~neuropose.analyzer.dtw`,
:mod:`~neuropose.analyzer.segment`, :mod:`~neuropose.analyzer.gait`,
:mod:`~neuropose.analyzer.config` and :mod:`~neuropose.analyzer.report`
(``neuropose analyze``).
"""

from neuropose.analyzer.angles import (
    ANGLE_NAMES,
    UpAxis,
    angle_3pt,
    angle_between,
    compute_angle,
    estimate_up_axis,
    segment_angle,
)
from neuropose.analyzer.dtw import (
    DTWInputError,
    DTWResult,
    align_sequences,
    dtw,
    dtw_all,
    dtw_per_joint,
    dtw_relation,
    exact_dtw,
    fast_dtw,
)
from neuropose.analyzer.filtering import (
    butterworth,
    interpolate_gaps,
    measured_rate,
    one_euro,
    savitzky_golay,
)
from neuropose.analyzer.gait import (
    GaitEvents,
    detect_gait_events,
    gait_cycles,
    gait_parameters,
    symmetry_index,
)
from neuropose.analyzer.kinematics import (
    acceleration,
    range_of_motion,
    segment_stats,
    speed,
    summary_stats,
    velocity,
)
from neuropose.analyzer.load import (
    JointNotFoundError,
    SubjectNotFoundError,
    Trial,
    load_trial,
    trial_from_arrays,
)
from neuropose.analyzer.segment import (
    RepetitionResult,
    compute_signal,
    segment_repetitions,
    segment_trial,
)

__all__ = [
    "ANGLE_NAMES",
    "DTWInputError",
    "DTWResult",
    "GaitEvents",
    "JointNotFoundError",
    "RepetitionResult",
    "SubjectNotFoundError",
    "Trial",
    "UpAxis",
    "acceleration",
    "align_sequences",
    "angle_3pt",
    "angle_between",
    "butterworth",
    "compute_angle",
    "compute_signal",
    "detect_gait_events",
    "dtw",
    "dtw_all",
    "dtw_per_joint",
    "dtw_relation",
    "estimate_up_axis",
    "exact_dtw",
    "fast_dtw",
    "gait_cycles",
    "gait_parameters",
    "interpolate_gaps",
    "load_trial",
    "measured_rate",
    "one_euro",
    "range_of_motion",
    "savitzky_golay",
    "segment_angle",
    "segment_repetitions",
    "segment_stats",
    "segment_trial",
    "speed",
    "summary_stats",
    "symmetry_index",
    "trial_from_arrays",
    "velocity",
]
