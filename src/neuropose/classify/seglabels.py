"""Labels tables from stored segmentations (``neuropose segment``).

Each segment ``[start_s, end_s)`` of the named segmentation becomes a row with
``label``; with ``rest``, the time between segments, before the first and
after the last (up to the end of the last frame) becomes a row with
``rest``. Incomplete segments (cut by the recording) are labelled too; their
windows are only kept when they lie inside the segment.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from neuropose.analyzer.load import load_results
from neuropose.classify.records import LabelRow
from neuropose.classify.windows import EPS_S, LABEL_COLUMNS
from neuropose.errors import InputError, UsageError
from neuropose.io import write_bytes_atomic

__all__ = ["labels_from_segmentations", "write_labels"]


def labels_from_segmentations(
    results: Sequence[Path],
    subjects: Sequence[str],
    segmentation: str,
    label: str,
    *,
    rest: str | None = None,
    relative_to: Path | None = None,
) -> list[LabelRow]:
    """Rows of a labels table from the segmentation ``segmentation`` of each results file.

    Raises
    ------
    UsageError
        Not one subject per results file.
    InputError
        A file with several videos, or without that segmentation (the message
        lists the ones it has).
    """
    if len(subjects) != len(results):
        raise UsageError(
            f"{len(results)} results files but {len(subjects)} --subject values",
            hint="give one --subject per results file, in the same order",
        )
    rows: list[LabelRow] = []
    for path, subject in zip(results, subjects, strict=True):
        doc = load_results(path)
        if len(doc.videos) != 1:
            raise InputError(f"{path}: holds {len(doc.videos)} videos; segment labels need one")
        vp = doc.videos[0]
        if segmentation not in vp.segmentations:
            have = ", ".join(sorted(vp.segmentations)) or "none"
            raise InputError(
                f"{path}: no segmentation named {segmentation!r} (it has: {have})",
                hint=f"store one with neuropose segment {path} --name {segmentation} --signal …",
            )
        base = relative_to or Path.cwd()
        name = os.path.relpath(Path(path).resolve(), base.resolve())
        t = np.asarray(vp.timestamp_s, dtype=np.float64)
        t_end = float(t[-1] + np.median(np.diff(t))) if t.size > 1 else float(t[-1])
        cursor = float(t[0])
        for seg in vp.segmentations[segmentation].segments:
            if rest is not None and seg.start_s > cursor + EPS_S:
                rows.append(LabelRow(file=name, start_s=cursor, end_s=seg.start_s,
                                     label=rest, subject=subject))  # fmt: skip
            if seg.end_s > seg.start_s:
                rows.append(LabelRow(file=name, start_s=seg.start_s, end_s=seg.end_s,
                                     label=label, subject=subject))  # fmt: skip
            cursor = max(cursor, seg.end_s)
        if rest is not None and t_end > cursor + EPS_S:
            rows.append(LabelRow(file=name, start_s=cursor, end_s=t_end, label=rest,
                                 subject=subject))  # fmt: skip
    return rows


def write_labels(path: Path, rows: Sequence[LabelRow]) -> None:
    """Write ``rows`` as a labels table (atomically)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(LABEL_COLUMNS)
    for r in rows:
        w.writerow([r.file, f"{r.start_s:.6f}", f"{r.end_s:.6f}", r.label, r.subject])
    write_bytes_atomic(path, buf.getvalue().encode("utf-8"))
