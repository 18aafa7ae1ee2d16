"""Labels tables and fixed-length windows over a recording's timestamps.

Windows
-------
A recording with frame times ``t`` (seconds, strictly increasing) is cut
into windows ``[s, s + win_s)`` with ``s = t[0] + k·hop_s`` for every
``k ≥ 0`` such that ``s + win_s ≤ t_end``, where ``t_end = t[-1] + Δ`` is the
end of the last frame (``Δ`` = median frame interval). A 10 s recording at
10 frames/s (``t = 0, 0.1, …, 9.9``) therefore gives, with ``win_s = 1`` and
``hop_s = 0.5``, the 19 windows starting at 0, 0.5, …, 9.0, each holding the
10 frames with ``s ≤ t < s + win_s``. Comparisons allow 1e-9 s of rounding.

Rejections
----------
A window is not used for training, and the reason is counted, when (checks in
this order, the first failing one is the reason):

1. ``crosses_label_boundary``: it overlaps intervals of two different labels;
2. ``outside_labels``: part or all of it is not covered by any labelled interval;
3. ``too_many_missing_frames``: the fraction of its frames without the subject
   (no finite joint) is above ``max_missing``, or fewer than 2 frames have the
   subject;
4. ``features_undefined``: a feature is NaN (a joint it needs is missing on
   every frame of the window).

Examples
--------
>>> import numpy as np
>>> from neuropose.classify.records import WindowParams
>>> t = np.arange(100) / 10
>>> spans = window_spans(t, WindowParams(win_s=1.0, hop_s=0.5, max_missing=0.2))
>>> len(spans), spans[0], spans[-1]
(19, (0.0, 1.0), (9.0, 10.0))
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydantic import ValidationError

from neuropose.classify.records import Interval, LabelRow, WindowParams
from neuropose.errors import InputError
from neuropose.io import format_validation_error

__all__ = [
    "EPS_S",
    "LABEL_COLUMNS",
    "LabelledFile",
    "Window",
    "cut_windows",
    "group_labels",
    "label_window",
    "load_labels",
    "window_spans",
]

#: Rounding tolerance of every time comparison, seconds.
EPS_S = 1e-9
#: Columns of a labels table, in this order.
LABEL_COLUMNS: tuple[str, ...] = ("file", "start_s", "end_s", "label", "subject")


class LabelsError(InputError):
    """A labels table is malformed (names the file, line and column)."""


def load_labels(path: Path | str) -> list[LabelRow]:
    """Read a labels table (CSV with the header ``file,start_s,end_s,label,subject``).

    Raises
    ------
    LabelsError
        Missing or unknown columns, an empty table, or a row that does not
        validate (the message names the file, line and field).
    """
    p = Path(path)
    try:
        text = p.read_text("utf-8-sig")
    except FileNotFoundError:
        raise LabelsError(f"{p}: labels table not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise LabelsError(f"{p}: cannot read the labels table ({exc})") from None
    reader = csv.DictReader(io.StringIO(text))
    header = tuple(reader.fieldnames or ())
    missing = [c for c in LABEL_COLUMNS if c not in header]
    unknown = [c for c in header if c not in LABEL_COLUMNS]
    if missing or unknown:
        raise LabelsError(
            f"{p}: labels table columns are {list(header)}"
            + (f"; missing {missing}" if missing else "")
            + (f"; unknown {unknown}" if unknown else ""),
            hint=f"the header must be: {','.join(LABEL_COLUMNS)}",
        )
    rows: list[LabelRow] = []
    for line, raw in enumerate(reader, start=2):
        if None in raw:
            raise LabelsError(f"{p}: line {line}: more values than the {len(header)} columns")
        try:
            rows.append(LabelRow.model_validate({k: (v or "").strip() for k, v in raw.items()}))
        except ValidationError as exc:
            raise LabelsError(f"{p}: line {line}: {format_validation_error(exc)}") from None
    if not rows:
        raise LabelsError(f"{p}: the labels table has no rows")
    return rows


@dataclass(frozen=True)
class LabelledFile:
    """The labelled intervals of one results file."""

    path: Path
    subject: str
    intervals: tuple[Interval, ...]


def group_labels(rows: Sequence[LabelRow], base: Path, source: str) -> list[LabelledFile]:
    """Rows grouped by file (first-appearance order), paths resolved against ``base``.

    Raises
    ------
    LabelsError
        One file listed under two subjects, or overlapping intervals with
        different labels.
    """
    grouped: dict[str, list[LabelRow]] = {}
    for row in rows:
        grouped.setdefault(row.file, []).append(row)
    out = []
    for name, items in grouped.items():
        subjects = sorted({r.subject for r in items})
        if len(subjects) > 1:
            raise LabelsError(
                f"{source}: file {name!r} is listed under several subjects {subjects}",
                hint="one results file holds one subject's recording",
            )
        ordered = sorted(items, key=lambda r: (r.start_s, r.end_s))
        for a, b in itertools.combinations(ordered, 2):  # tables are small: every pair
            if b.start_s < a.end_s - EPS_S and a.label != b.label:
                raise LabelsError(
                    f"{source}: file {name!r}: {a.label!r} {a.start_s}-{a.end_s} s overlaps "
                    f"{b.label!r} {b.start_s}-{b.end_s} s",
                    hint="labelled intervals of different classes must not overlap",
                )
        path = Path(name) if Path(name).is_absolute() else base / name
        intervals = tuple(
            Interval(start_s=r.start_s, end_s=r.end_s, label=r.label) for r in ordered
        )
        out.append(LabelledFile(path=path, subject=subjects[0], intervals=intervals))
    return out


def window_spans(t: np.ndarray, params: WindowParams) -> list[tuple[float, float]]:
    """``(start_s, end_s)`` of every window of a recording with frame times ``t``."""
    t = np.asarray(t, dtype=np.float64)
    if t.size < 2:
        return []
    t_end = float(t[-1] + np.median(np.diff(t)))
    t0 = float(t[0])
    span = t_end - t0 - params.win_s
    if span < -EPS_S:
        return []
    count = int(np.floor(span / params.hop_s + 1e-9)) + 1
    return [
        (round(t0 + k * params.hop_s, 9), round(t0 + k * params.hop_s + params.win_s, 9))
        for k in range(count)
    ]


@dataclass(frozen=True)
class Window:
    """The frames of one window.

    Attributes
    ----------
    start_s, end_s : float
        The window ``[start_s, end_s)``, seconds.
    times_s : ndarray, shape (n,)
        Frame times inside it.
    poses : ndarray, shape (n, J, 3)
        Joint positions (mm), NaN where the subject is missing.
    missing : int
        Frames without any finite joint.
    """

    start_s: float
    end_s: float
    times_s: np.ndarray
    poses: np.ndarray
    missing: int

    def too_sparse(self, max_missing: float) -> bool:
        """True when more than ``max_missing`` of the frames, or all but one, are missing."""
        n = int(self.times_s.size)
        present = n - self.missing
        return present < 2 or self.missing > max_missing * n + 1e-12


def cut_windows(t: np.ndarray, poses: np.ndarray, params: WindowParams) -> Iterator[Window]:
    """The windows of a recording (see :func:`window_spans`), in time order."""
    t = np.asarray(t, dtype=np.float64)
    detected = np.isfinite(poses).any(axis=(1, 2))
    for start, end in window_spans(t, params):
        sel = (t >= start - EPS_S) & (t < end - EPS_S)
        yield Window(
            start_s=start,
            end_s=end,
            times_s=t[sel],
            poses=poses[sel],
            missing=int((~detected[sel]).sum()),
        )


def label_window(start: float, end: float, intervals: Sequence[Interval]) -> tuple[str | None, str]:
    """The label of window ``[start, end)``, or None and the rejection reason.

    Returns ``(label, "")`` when the window lies inside intervals of one
    label (adjacent intervals of that label may share it).

    Examples
    --------
    >>> iv = [Interval(start_s=0, end_s=2, label="a"), Interval(start_s=2, end_s=4, label="b")]
    >>> label_window(0.5, 1.5, iv), label_window(1.5, 2.5, iv), label_window(3.5, 4.5, iv)
    (('a', ''), (None, 'crosses_label_boundary'), (None, 'outside_labels'))
    """
    hits = [iv for iv in intervals if iv.start_s < end - EPS_S and iv.end_s > start + EPS_S]
    labels = {iv.label for iv in hits}
    if len(labels) > 1:
        return None, "crosses_label_boundary"
    if not hits:
        return None, "outside_labels"
    covered = 0.0
    cursor = start
    for iv in sorted(hits, key=lambda iv: iv.start_s):
        lo, hi = max(iv.start_s, cursor), min(iv.end_s, end)
        if hi > lo:
            covered += hi - lo
            cursor = hi
    if covered < (end - start) - 1e-6:
        return None, "outside_labels"
    return hits[0].label, ""
