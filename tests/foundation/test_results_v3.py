"""JobResults v3: raw landmark arrays stored as rounded deltas, and the v2 -> v3 migration.

Ground truth: the benchmark's synthetic body (``benchmarks/bench_results_encoding.py``,
1 minute at 30 fps) with raw = refined + jitter and left/right exchanges, plus a NaN
and a jump too large for int16 planted by hand.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from neuropose.errors import InvalidDocumentError
from neuropose.io import load_model, write_json_atomic, write_model_atomic
from neuropose.schemas import JobResults
from neuropose.schemas.raw_delta import ENCODING, RAW_QUANTUM

RAW = ("poses3d_raw", "poses2d_raw", "confidence_raw")


def _results() -> JobResults:
    from benchmarks.bench_results_encoding import make_results

    res = make_results(1.0, raw=True)
    vp = res.videos[0]
    p3 = vp.poses3d_raw.copy()
    p3[5, 3, 1] = np.nan  # the model gave no value
    p3[7, 0, 0] = vp.poses3d[7, 0, 0] + 9000.0  # 90,000 quanta: does not fit int16
    return res.model_copy(update={"videos": (vp.model_copy(update={"poses3d_raw": p3}),)})


def test_raw_arrays_round_trip_within_half_a_quantum(tmp_path: Path) -> None:
    res = _results()
    path = tmp_path / "results.json"
    write_model_atomic(path, res, indent=None)
    doc = json.loads(path.read_text())
    assert doc["schema_version"] == JobResults.SCHEMA_VERSION == 3
    stored = doc["videos"][0]["poses3d_raw"]
    assert stored["encoding"] == ENCODING and stored["reference"] == "poses3d"
    assert stored["exception_index"]["shape"] == [2]  # the NaN and the 9 m jump
    back, src = load_model(path, JobResults).videos[0], res.videos[0]
    for name in RAW:
        a, b = getattr(back, name), getattr(src, name)
        assert a.dtype == np.float32 and a.shape == b.shape
        ok = np.isfinite(b)
        assert np.max(np.abs(a[ok] - b[ok])) <= RAW_QUANTUM[name] / 2 * 1.001
        assert np.array_equal(np.isnan(a), np.isnan(b))
    assert back.poses3d_raw[7, 0, 0] == src.poses3d_raw[7, 0, 0]  # exceptions are exact
    for name in ("poses3d", "poses2d", "confidence", "boxes"):  # refined arrays: exact
        assert np.array_equal(getattr(back, name), getattr(src, name))
    again = tmp_path / "again.json"
    write_model_atomic(again, load_model(path, JobResults), indent=None)
    assert again.read_bytes() == path.read_bytes()  # re-encoding a loaded file is stable


def test_a_v2_file_migrates_with_its_raw_arrays_unchanged(tmp_path: Path) -> None:
    from benchmarks.bench_results_encoding import as_v2_raw

    res = _results()
    v2 = tmp_path / "v2.json"
    write_json_atomic(v2, as_v2_raw(res), indent=None)
    assert json.loads(v2.read_text())["schema_version"] == 2
    loaded = load_model(v2, JobResults)
    assert loaded.schema_version == 3
    for name in RAW:
        np.testing.assert_array_equal(getattr(loaded.videos[0], name), getattr(res.videos[0], name))
    v3 = tmp_path / "v3.json"
    write_model_atomic(v3, loaded, indent=None)
    assert v3.stat().st_size < 0.8 * v2.stat().st_size


def test_a_corrupt_delta_is_refused_naming_the_field(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    write_model_atomic(path, _results(), indent=None)
    doc = json.loads(path.read_text())
    doc["videos"][0]["poses2d_raw"]["shape"][0] = 59
    path.write_text(json.dumps(doc))
    with pytest.raises(InvalidDocumentError, match=r"poses2d_raw: shape \[59, 33, 2\] differs"):
        load_model(path, JobResults)
