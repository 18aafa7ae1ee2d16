"""A reviewer's verdict on a quality report: usable, caution or not usable, with reasons.

Rules (rules of thumb for screening a trial, not a clinical validation):

* **not usable** when the subject is detected on fewer than
  :data:`MIN_USABLE_DETECTION` of the frames (or never), the median length
  CV of the clinical limb segments exceeds :data:`MAX_USABLE_SEGMENT_CV`
  (the skeleton does not keep its bones, so angles are not trustworthy), or
  the mean joint confidence is below :data:`MIN_USABLE_CONFIDENCE`;
* **caution** when the report has any warning
  (:func:`~neuropose.quality.report.build_quality_report`'s rules);
* **usable** otherwise.

The reasons are the report's own strings, so the verdict never disagrees
with the report shown beside it.

Examples
--------
>>> from neuropose.schemas import Skeleton, VideoPredictions
>>> from neuropose.quality.report import build_quality_report
>>> vp = VideoPredictions.empty_for_tests(Skeleton(name="t", joints=("a",)), 4)
>>> v = quality_verdict(build_quality_report(vp, job_id="j"))
>>> v.level, v.reasons[0]
('not usable', 'the subject is never detected')
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from neuropose.schemas.quality import QualityReport

__all__ = [
    "LEVELS",
    "MAX_USABLE_SEGMENT_CV",
    "MIN_USABLE_CONFIDENCE",
    "MIN_USABLE_DETECTION",
    "Verdict",
    "combine_verdicts",
    "quality_verdict",
]

#: Below this fraction of frames with the subject, a video is not usable.
MIN_USABLE_DETECTION = 0.5
#: Above this median length CV of the clinical limb segments, a video is not usable.
MAX_USABLE_SEGMENT_CV = 0.20
#: Below this mean joint confidence (mean over joints), a video is not usable.
MIN_USABLE_CONFIDENCE = 0.3
#: Verdict levels, best first.
LEVELS = ("usable", "caution", "not usable")


@dataclass(frozen=True)
class Verdict:
    """``level`` (one of :data:`LEVELS`) and the reasons for it (empty when usable)."""

    level: str
    reasons: tuple[str, ...] = ()


def quality_verdict(report: QualityReport) -> Verdict:
    """The verdict on one video's report (see the module docstring for the rules).

    Examples
    --------
    >>> from neuropose.schemas import Skeleton, VideoPredictions
    >>> from neuropose.quality.report import build_quality_report
    >>> vp = VideoPredictions.empty_for_tests(Skeleton(name="t", joints=("a",)), 4)
    >>> r = build_quality_report(vp, job_id="j")
    >>> quality_verdict(r.model_copy(update={"subject_detection_rate": 1.0, "warnings": ()}))
    Verdict(level='usable', reasons=())
    """
    fatal: list[str] = []
    rate = report.subject_detection_rate
    if rate is None or rate == 0:
        fatal.append("the subject is never detected")
    elif rate < MIN_USABLE_DETECTION:
        fatal.append(
            f"the subject is detected on only {100 * rate:.1f}% of frames "
            f"(at least {100 * MIN_USABLE_DETECTION:.0f}% needed)"
        )
    cvs = [v for v in report.segment_length_cv.values() if v is not None]
    if cvs and float(np.median(cvs)) > MAX_USABLE_SEGMENT_CV:
        fatal.append(
            f"limb segment lengths vary by {100 * float(np.median(cvs)):.1f}% (median) "
            f"over the video (above {100 * MAX_USABLE_SEGMENT_CV:.0f}%): joint angles "
            "are not trustworthy"
        )
    conf = [v for v in report.mean_confidence.values() if v is not None]
    if conf and float(np.mean(conf)) < MIN_USABLE_CONFIDENCE:
        fatal.append(
            f"mean joint confidence {float(np.mean(conf)):.2f} (below {MIN_USABLE_CONFIDENCE})"
        )
    if fatal:
        return Verdict("not usable", tuple(fatal) + tuple(report.warnings))
    if report.warnings:
        return Verdict("caution", tuple(report.warnings))
    return Verdict("usable")


def combine_verdicts(verdicts: Iterable[tuple[str, Verdict]]) -> Verdict:
    """The verdict of several videos: the worst level; reasons prefixed by the video name.

    >>> combine_verdicts([("a.mp4", Verdict("usable")), ("b.mp4", Verdict("caution", ("x",)))])
    Verdict(level='caution', reasons=('b.mp4: x',))
    >>> combine_verdicts([])
    Verdict(level='usable', reasons=())
    """
    items = list(verdicts)
    level = max((v.level for _, v in items), key=LEVELS.index, default=LEVELS[0])
    reasons = tuple(
        f"{video}: {r}" if len(items) > 1 else r for video, v in items for r in v.reasons
    )
    return Verdict(level, reasons)
