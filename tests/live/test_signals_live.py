"""Online = offline: ``neuropose live`` writes the signals ``neuropose signals compute``
gives on the same poses; events from a real spec; non-causal specs refused by name."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from tests.live.conftest import write_arm_results
from tests.live.test_cli import _env, _lines, neuropose

from neuropose.datadir.layout import DataDir
from neuropose.io import load_model
from neuropose.schemas.live import LiveStatus

ELBOW_SPEC = """
[[nodes]]
name = "elbow"                  # left elbow flexion, deg
kind = "angle_3pt"
params = { a = "left_shoulder", b = "left_elbow", c = "left_wrist", complement = true }

[[nodes]]
name = "elbow_filt"
kind = "butterworth"
inputs = ["elbow"]
params = { btype = "low", cutoff_hz = 4.0, order = 2, fs_hz = 30.0 }

[[nodes]]
name = "elbow_vel"
kind = "velocity"
inputs = ["elbow_filt"]
"""


def _nan(v: object) -> object:
    """JSON null -> NaN, also inside vectors."""
    if isinstance(v, list):
        return [_nan(x) for x in v]
    return np.nan if v is None else v


def _online(folder: Path) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    rows = _lines(folder / "signals.jsonl")
    names = list(rows[0]["values"])
    t = np.array([r["t"] for r in rows])
    vals = {k: np.array([_nan(r["values"][k]) for r in rows], float) for k in names}
    return t, vals


def _offline(path: Path) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    doc = json.loads(path.read_text())
    return np.array(doc["time_s"]), {k: np.array(v, dtype=float) for k, v in doc["signals"].items()}


def _assert_same(online: tuple, offline: tuple) -> None:
    t_on, on = online
    t_off, off = offline
    np.testing.assert_allclose(t_on, t_off, rtol=0, atol=1e-12)
    assert sorted(on) == sorted(off)
    for name in off:
        a = on[name]
        np.testing.assert_array_equal(np.isnan(a), np.isnan(off[name]), err_msg=name)
        np.testing.assert_allclose(a, off[name], rtol=0, atol=1e-9, equal_nan=True, err_msg=name)


def _run_both(
    tmp_path: Path, source: Path, results: Path, spec: Path, missing: str = "propagate"
) -> tuple:
    data = tmp_path / "data"
    proc = neuropose(tmp_path, "live", "--source", str(source), "--spec", str(spec),
                     "--data-dir", str(data), "--session", "on", "--replay-speed", "0",
                     "--missing", missing, timeout=600)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    off = tmp_path / "offline.json"
    proc = neuropose(tmp_path, "signals", "compute", str(results), "--spec", str(spec),
                     "-o", str(off), "--missing", missing)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return _online(DataDir(data).live_session("on").folder), _offline(off)


@pytest.mark.parametrize("missing", ["propagate", "hold"])
def test_replayed_results_give_the_offline_signals(
    tmp_path: Path, repo_root: Path, missing: str
) -> None:
    """The 10-node example spec on a replay with missing frames: equal to 1e-9, NaN for NaN."""
    src = tmp_path / "arm.json"
    write_arm_results(src, cycles=3, missing=(10, 11, 12, 40))
    spec = repo_root / "examples" / "signals_knee.toml"
    online, offline = _run_both(tmp_path, src, src, spec, missing)
    _assert_same(online, offline)
    if missing == "hold":
        assert np.isfinite(offline[1]["knee_l"]).all()
        return
    assert np.isnan(offline[1]["knee_l"][10:13]).all()
    filt = offline[1]["knee_l_filt"]
    assert np.isfinite(np.delete(filt[13:], 40 - 13)).all()  # NaN is not latched in the filter
    status = load_model(tmp_path / "data" / "live" / "on" / "live.json", LiveStatus)
    assert status.spec_sha256 is not None and len(status.spec_sha256) == 64


def test_a_replayed_repeated_reach_emits_one_event_per_repetition(tmp_path: Path) -> None:
    src = tmp_path / "arm.json"
    write_arm_results(src, cycles=6)  # elbow flexion 30 -> 120 -> 30 degrees, 6 times
    spec = tmp_path / "elbow.toml"
    spec.write_text(ELBOW_SPEC)
    data = tmp_path / "data"
    proc = neuropose(tmp_path, "live", "--source", str(src), "--spec", str(spec),
                     "--data-dir", str(data), "--session", "s", "--replay-speed", "0",
                     "--repetition", "elbow_filt:50:100", "--threshold", "elbow>110")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "events: 12" in proc.stdout
    events = _lines(DataDir(data).live_session("s").events)
    reps = [e for e in events if e["kind"] == "repetition"]
    above = [e for e in events if e["kind"] == "threshold"]
    assert [e["count"] for e in reps] == [1, 2, 3, 4, 5, 6]
    assert [e["count"] for e in above] == [1, 2, 3, 4, 5, 6]
    # each repetition ends on the way down of its own cycle; each crossing near its peak
    assert all(k + 0.5 < e["time_s"] < k + 1.0 for k, e in enumerate(reps))
    assert all(k + 0.3 < e["time_s"] < k + 0.5 for k, e in enumerate(above))
    assert all(e["signal"] == "elbow_filt" and e["value"] < 50 for e in reps)


def test_a_non_causal_spec_is_refused_by_name(tmp_path: Path) -> None:
    src = tmp_path / "arm.json"
    write_arm_results(src, cycles=1)
    spec = tmp_path / "smooth.toml"
    spec.write_text(
        ELBOW_SPEC
        + '\n[[nodes]]\nname = "elbow_zero_phase"\nkind = "filtfilt"\ninputs = ["elbow"]\n'
        'params = { btype = "low", cutoff_hz = 4.0, order = 2, fs_hz = 30.0 }\n'
    )
    proc = neuropose(tmp_path, "live", "--source", str(src), "--spec", str(spec),
                     "--data-dir", str(tmp_path / "d"), "--replay-speed", "0")  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert "elbow_zero_phase" in proc.stderr and "not causal" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "d" / "live").exists() or not any((tmp_path / "d" / "live").iterdir())
    proc = neuropose(tmp_path, "live", "--source", str(src), "--spec", str(spec),
                     "--data-dir", str(tmp_path / "d"), "--missing", "interpolate")  # fmt: skip
    assert proc.returncode == 2 and "cannot run live" in proc.stderr


@pytest.mark.slow
def test_lab_clip_online_equals_offline_with_the_real_model(
    tmp_path: Path, repo_root: Path, shared_media: Path, blazepose_weights: Path
) -> None:
    """cam01.mp4 through BlazePose live (speed 0) = `signals compute` on its results.

    Live poses are the model's raw output (no whole-video refinement), so the
    offline results are made with swap correction and landmark smoothing off,
    which makes their poses3d the raw output too.
    """
    video = shared_media / "lab_single_person" / "cam01.mp4"
    spec = repo_root / "examples" / "signals_knee.toml"
    env = {"NEUROPOSE_MODEL_CACHE_DIR": str(blazepose_weights), "NEUROPOSE_NUM_THREADS": "2"}
    results = tmp_path / "cam01.results.json"
    import subprocess
    import sys

    base = {**_env(tmp_path), **env}
    proc = subprocess.run(
        [sys.executable, "-c", "import sys; from neuropose.cli import main; sys.exit(main())",
         "process", str(video), "-o", str(results), "--model", "blazepose-full"],
        env={**base, "NEUROPOSE_SWAP_CORRECTION": "false",
             "NEUROPOSE_LANDMARK_SMOOTHING": "false"},
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    data = tmp_path / "data"
    proc = subprocess.run(
        [sys.executable, "-c", "import sys; from neuropose.cli import main; sys.exit(main())",
         "live", "--source", str(video), "--spec", str(spec), "--data-dir", str(data),
         "--session", "on", "--replay-speed", "0", "--model", "blazepose-full"],
        env=base, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "100 frames predicted, 0 dropped" in proc.stdout
    off = tmp_path / "offline.json"
    proc = neuropose(tmp_path, "signals", "compute", str(results), "--spec", str(spec),
                     "-o", str(off))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    online, offline = _online(data / "live" / "on"), _offline(off)
    _assert_same(online, offline)
    assert np.isfinite(offline[1]["knee_l"]).sum() >= 95  # the subject is seen throughout
