"""Windows, labels and rejection counts, against hand-computed numbers.

The fixture (``synth.two_files``), 1 s windows every 0.5 s, at most 20 % missing:

file a (10 s, 100 frames, subject s1): stand 0-4 s, squat 4-8 s, 8-10 s unlabelled,
frames 20-24 without the subject. 19 windows (starts 0, 0.5, ..., 9):
  starts 0-3 in stand (7) of which 1.5 and 2.0 hold 5 of 10 frames missing -> 5 stand,
  2 too_many_missing_frames; 3.5 crosses 4 s -> crosses_label_boundary;
  starts 4-7 in squat -> 7 squat; 7.5, 8, 8.5, 9 reach past 8 s -> 4 outside_labels.
file b (8 s, 80 frames, subject s2): squat 0-3 s, stand 3-8 s, left wrist NaN on
frames 60-79. 15 windows (starts 0..7): starts 0-2 -> 5 squat; 2.5 crosses; starts
3-7 in stand (9), of which 6, 6.5, 7 have no left wrist on any frame ->
3 features_undefined, 6 stand.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from neuropose.classify import WindowParams, build_dataset, build_pipeline
from neuropose.classify.records import Interval
from neuropose.classify.windows import (
    LabelsError,
    group_labels,
    label_window,
    load_labels,
    window_spans,
)
from tests.classify import synth

PARAMS = WindowParams(win_s=1.0, hop_s=0.5, max_missing=0.2)


def test_hand_counted_windows_and_rejections(tmp_path: Path) -> None:
    data = build_dataset(synth.two_files(tmp_path), build_pipeline(), PARAMS)
    a, b = data.inputs
    assert a.windows.total == 19
    assert a.windows.accepted == {"squat": 7, "stand": 5}
    assert a.windows.rejected == {
        "crosses_label_boundary": 1,
        "outside_labels": 4,
        "too_many_missing_frames": 2,
        "features_undefined": 0,
    }
    assert b.windows.total == 15
    assert b.windows.accepted == {"squat": 5, "stand": 6}
    assert b.windows.rejected == {
        "crosses_label_boundary": 1,
        "outside_labels": 0,
        "too_many_missing_frames": 0,
        "features_undefined": 3,
    }
    assert data.counts.total == 34
    assert data.counts.accepted == {"squat": 12, "stand": 11}
    assert data.X.shape == (23, 60) and np.isfinite(data.X).all()
    assert data.class_names == ("squat", "stand")
    assert list(data.groups).count("s1") == 12 and list(data.groups).count("s2") == 11
    # recorded by content hash, never by name
    assert all(len(i.sha256) == 64 for i in data.inputs)


def test_missing_fraction_is_a_strict_limit(tmp_path: Path) -> None:
    # 5 of 10 frames missing: refused at 0.4, accepted at exactly 0.5
    labels = synth.two_files(tmp_path)
    loose = build_dataset(labels, build_pipeline(), PARAMS.model_copy(update={"max_missing": 0.5}))
    assert loose.inputs[0].windows.rejected["too_many_missing_frames"] == 0
    assert loose.inputs[0].windows.accepted["stand"] == 7


def test_window_spans_count_from_the_end_of_the_last_frame() -> None:
    t = np.arange(100) / 10
    spans = window_spans(t, PARAMS)
    assert len(spans) == 19 and spans[-1] == (9.0, 10.0)
    assert len(window_spans(t, WindowParams(win_s=10.0, hop_s=1.0, max_missing=0))) == 1
    assert window_spans(t, WindowParams(win_s=10.5, hop_s=1.0, max_missing=0)) == []
    # irregular timestamps: starts follow the clock, not the frame count
    jitter = t + np.where(np.arange(100) % 2, 0.01, 0.0)
    assert len(window_spans(jitter, PARAMS)) == 19


def test_label_window_cases() -> None:
    iv = [
        Interval(start_s=0, end_s=2, label="a"),
        Interval(start_s=2, end_s=3, label="a"),
        Interval(start_s=3, end_s=5, label="b"),
        Interval(start_s=6, end_s=8, label="b"),
    ]
    assert label_window(1.5, 2.5, iv) == ("a", "")  # adjacent intervals of one label
    assert label_window(2.5, 3.5, iv) == (None, "crosses_label_boundary")
    assert label_window(4.5, 5.5, iv) == (None, "outside_labels")  # partly unlabelled
    assert label_window(5.0, 6.0, iv) == (None, "outside_labels")  # in the gap
    assert label_window(6.0, 8.0, iv) == ("b", "")  # exactly the interval


def _table(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "labels.csv"
    p.write_text(text)
    return p


def test_labels_errors_name_the_file_line_and_field(tmp_path: Path) -> None:
    with pytest.raises(LabelsError, match=r"missing \['subject'\]"):
        load_labels(_table(tmp_path, "file,start_s,end_s,label\na.json,0,1,x\n"))
    with pytest.raises(LabelsError, match=r"labels.csv: line 3: .*end_s \(1.0\) must be greater"):
        load_labels(_table(tmp_path, "file,start_s,end_s,label,subject\na,0,1,x,s\na,2,1,x,s\n"))
    with pytest.raises(LabelsError, match=r"line 2: field 'start_s'"):
        load_labels(_table(tmp_path, "file,start_s,end_s,label,subject\na,zero,1,x,s\n"))
    with pytest.raises(LabelsError, match="no rows"):
        load_labels(_table(tmp_path, "file,start_s,end_s,label,subject\n"))
    rows = load_labels(
        _table(tmp_path, "file,start_s,end_s,label,subject\na,0,2,x,s1\na,1,3,y,s1\n")
    )
    with pytest.raises(LabelsError, match=r"'x' 0.0-2.0 s overlaps 'y' 1.0-3.0 s"):
        group_labels(rows, tmp_path, "labels.csv")
    # a long interval overlapping a later one of another label, with a short one between
    rows = load_labels(
        _table(
            tmp_path,
            "file,start_s,end_s,label,subject\na,0,10,x,s1\na,1,2,x,s1\na,3,4,y,s1\n",
        )
    )
    with pytest.raises(LabelsError, match=r"'x' 0.0-10.0 s overlaps 'y' 3.0-4.0 s"):
        group_labels(rows, tmp_path, "labels.csv")
    rows = load_labels(
        _table(tmp_path, "file,start_s,end_s,label,subject\na,0,2,x,s1\na,2,3,y,s2\n")
    )
    with pytest.raises(LabelsError, match="several subjects"):
        group_labels(rows, tmp_path, "labels.csv")
