"""Closed-form tests of each node kind and of the missing-detection policies."""

from __future__ import annotations

import numpy as np
import pytest

from neuropose.errors import UsageError
from neuropose.geometry import angle_3pt as geometry_angle_3pt
from neuropose.signals import SignalGraph, SpecError, parse_spec
from neuropose.skeletons import BLAZEPOSE_33

#: Short test names a, b, c, d for four canonical joints (the pose axis of these tests).
NAMES = {"a": "left_hip", "b": "left_knee", "c": "left_ankle", "d": "left_heel"}
JOINTS = tuple(NAMES.values())
_JOINT_PARAMS = {"a", "b", "c", "ref_a", "ref_b", "joint"}


def graph(*nodes: dict, joints=JOINTS, **kw) -> SignalGraph:
    """A graph of ``nodes`` whose joint params a..d are spelled as in :data:`NAMES`."""
    for n in nodes:
        params = n.get("params", {})
        for key in _JOINT_PARAMS & set(params):
            params[key] = NAMES.get(params[key], params[key])
    return SignalGraph(parse_spec({"nodes": list(nodes)}), joints, **kw)


def poses_of(**xyz) -> np.ndarray:
    """(n, 4, 3) poses with joint positions given per name as (n, 3) arrays."""
    n = len(next(iter(xyz.values())))
    p = np.zeros((n, len(JOINTS), 3))
    for name, v in xyz.items():
        p[:, JOINTS.index(NAMES[name])] = v
    return p


def test_analyzer_angles_use_the_shared_geometry() -> None:
    from neuropose.analyzer import angles

    assert angles.angle_3pt is geometry_angle_3pt


def test_right_angle_is_90_degrees_and_knee_flexion_convention() -> None:
    g = graph(
        {"name": "ang", "kind": "angle_3pt", "params": {"a": "a", "b": "b", "c": "c"}},
        {"name": "flex", "kind": "angle_3pt",
         "params": {"a": "a", "b": "b", "c": "d", "complement": True}},
    )  # fmt: skip
    p = poses_of(
        a=np.array([[1.0, 0, 0]] * 2),
        b=np.zeros((2, 3)),
        c=np.array([[0, 5.0, 0], [0, 0, 2.0]]),
        d=np.array([[-3.0, 0, 0], [-1.0, 1.0, 0]]),
    )
    out = g.run(np.array([0.0, 0.1]), p)
    np.testing.assert_allclose(out["ang"], [90.0, 90.0], atol=1e-12)
    np.testing.assert_allclose(out["flex"], [0.0, 45.0], atol=1e-12)  # straight limb = 0


def test_segment_angle_against_camera_up_and_a_reference_segment() -> None:
    g = graph(
        {"name": "up", "kind": "segment_angle", "params": {"a": "a", "b": "b"}},
        {"name": "seg", "kind": "segment_angle",
         "params": {"a": "a", "b": "b", "ref_a": "c", "ref_b": "d"}},
    )  # fmt: skip
    p = poses_of(
        a=np.zeros((3, 3)),
        b=np.array([[0, -2.0, 0], [3.0, 0, 0], [1.0, -1.0, 0]]),  # up, sideways, 45°
        c=np.zeros((3, 3)),
        d=np.array([[1.0, 0, 0]] * 3),
    )
    out = g.run(np.arange(3.0), p)
    np.testing.assert_allclose(out["up"], [0.0, 90.0, 45.0], atol=1e-12)
    np.testing.assert_allclose(out["seg"], [90.0, 0.0, 45.0], atol=1e-12)


def test_joint_axis_distance_and_normalisation() -> None:
    g = graph(
        {"name": "by", "kind": "joint", "params": {"joint": "b", "axis": "y"}},
        {"name": "dist", "kind": "distance", "params": {"a": "a", "b": "b"}},
        {"name": "norm", "kind": "normalize", "inputs": ["dist"], "params": {"a": "c", "b": "d"}},
    )
    p = poses_of(
        a=np.zeros((2, 3)),
        b=np.array([[3.0, 4.0, 0], [0, 6.0, 8.0]]),
        c=np.zeros((2, 3)),
        d=np.array([[0, 0, 2.0], [0, 0, 0]]),  # zero-length segment on frame 1
    )
    out = g.run(np.arange(2.0), p)
    assert out["by"].tolist() == [4.0, 6.0]
    assert out["dist"].tolist() == [5.0, 10.0]
    assert out["norm"][0] == 2.5 and np.isnan(out["norm"][1])  # never inf


def test_canonical_joint_on_blazepose_is_the_mean_of_its_landmarks() -> None:
    g = graph({"name": "pel", "kind": "joint", "params": {"joint": "pelvis"}},
              joints=BLAZEPOSE_33.joints)  # fmt: skip
    p = np.zeros((1, 33, 3))
    p[0, 23], p[0, 24] = [100.0, 2, 0], [-50.0, 4, 0]
    assert g.run(np.zeros(1), p)["pel"].tolist() == [[25.0, 3.0, 0.0]]


def _line(t: np.ndarray, v: np.ndarray) -> np.ndarray:
    return poses_of(a=np.outer(t, v), b=np.zeros((len(t), 3)))


def test_velocity_of_3t_under_jittered_timestamps_is_3() -> None:
    rng = np.random.default_rng(1)
    t = np.cumsum(rng.uniform(0.005, 0.05, 200))  # 20..200 fps, jittered
    g = graph(
        {"name": "x", "kind": "joint", "params": {"joint": "a", "axis": "x"}},
        {"name": "v", "kind": "velocity", "inputs": ["x"]},
        {"name": "acc", "kind": "acceleration", "inputs": ["x"]},
        {"name": "p", "kind": "joint", "params": {"joint": "a"}},
        {"name": "s", "kind": "speed", "inputs": ["p"]},
        {"name": "fr", "kind": "frame_rate"},
    )
    out = g.run(t, _line(t, np.array([3.0, 4.0, 0.0])))
    assert np.isnan(out["v"][0]) and np.isnan(out["fr"][0])
    np.testing.assert_allclose(out["v"][1:], 3.0, rtol=1e-9)
    np.testing.assert_allclose(out["s"][1:], 5.0, rtol=1e-9)
    np.testing.assert_allclose(out["acc"][2:], 0.0, atol=1e-6)
    np.testing.assert_allclose(out["fr"][1:], 1.0 / np.diff(t), rtol=1e-12)


def test_acceleration_of_a_parabola_on_uneven_times_is_exact() -> None:
    t = np.cumsum(np.random.default_rng(2).uniform(0.01, 0.04, 100))
    x = 1.5 * t**2  # a = 3
    g = graph(
        {"name": "x", "kind": "joint", "params": {"joint": "a", "axis": "x"}},
        {"name": "acc", "kind": "acceleration", "inputs": ["x"]},
    )
    out = g.run(t, poses_of(a=np.column_stack([x, 0 * x, 0 * x])))
    assert np.isnan(out["acc"][:2]).all()
    np.testing.assert_allclose(out["acc"][2:], 3.0, rtol=1e-6)


def test_duplicate_and_backward_timestamps_give_nan_never_inf() -> None:
    t = np.array([0.0, 0.1, 0.1, 0.2, 0.15, 0.3])
    g = graph(
        {"name": "x", "kind": "joint", "params": {"joint": "a", "axis": "x"}},
        {"name": "v", "kind": "velocity", "inputs": ["x"]},
        {"name": "acc", "kind": "acceleration", "inputs": ["x"]},
        {"name": "fr", "kind": "frame_rate"},
    )
    with np.errstate(all="raise"):
        out = g.run(t, _line(t, np.array([2.0, 0, 0])))
    for name in ("v", "acc", "fr"):
        assert not np.isinf(out[name]).any()
    v = out["v"]
    assert np.isnan(v[[0, 2, 4]]).all()  # first frame, duplicate, backwards
    np.testing.assert_allclose(v[[1, 3, 5]], 2.0)  # the frame after a duplicate is fine
    np.testing.assert_allclose(out["fr"][[1, 3, 5]], [10.0, 10.0, 1 / 0.15])


def _butter(btype: str, cutoff, order: int = 2) -> SignalGraph:
    return graph(
        {"name": "x", "kind": "joint", "params": {"joint": "a", "axis": "x"}},
        {"name": "f", "kind": "butterworth", "inputs": ["x"],
         "params": {"btype": btype, "cutoff_hz": cutoff, "order": order, "fs_hz": 100.0}},
    )  # fmt: skip


def _sine(freq: float, n: int = 2000, fs: float = 100.0, offset: float = 0.0):
    t = np.arange(n) / fs
    x = offset + np.sin(2 * np.pi * freq * t)
    return t, poses_of(a=np.column_stack([x, 0 * x, 0 * x]))


def _amplitude(y: np.ndarray) -> float:
    tail = y[len(y) // 2 :]
    return float((tail.max() - tail.min()) / 2)


@pytest.mark.parametrize("order", [1, 2, 4])
def test_butterworth_lowpass_dc_gain_1_and_20db_at_10x_cutoff(order: int) -> None:
    g = _butter("low", 2.0, order)
    t = np.arange(1500) / 100.0
    step = np.where(t > 0.5, 7.0, -3.0)  # starts at steady state, then a step
    out = g.run(t, poses_of(a=np.column_stack([step, 0 * t, 0 * t])))["f"]
    assert out[0] == pytest.approx(-3.0, abs=1e-12)  # starts at steady state, no transient
    assert out[-1] == pytest.approx(7.0, abs=1e-6)  # DC gain 1
    out = g.run(*_sine(20.0))["f"]  # 10 x the cut-off
    gain_db = 20 * np.log10(_amplitude(out))
    assert gain_db <= -20.0, gain_db
    assert _amplitude(g.run(*_sine(0.2))["f"]) == pytest.approx(1.0, abs=0.02)  # passband


def test_butterworth_highpass_and_bandpass() -> None:
    hp = _butter("high", 5.0)
    assert abs(hp.run(*_sine(0.1, offset=40.0))["f"][-200:]).max() < 0.1  # DC and drift removed
    assert _amplitude(hp.run(*_sine(30.0, offset=40.0))["f"]) == pytest.approx(1.0, abs=0.02)
    bp = _butter("band", [2.0, 8.0])
    assert _amplitude(bp.run(*_sine(4.0, offset=40.0))["f"]) == pytest.approx(1.0, abs=0.05)
    assert _amplitude(bp.run(*_sine(40.0))["f"]) < 0.1
    assert _amplitude(bp.run(*_sine(0.2))["f"]) < 0.1


def test_butterworth_never_latches_nan_after_a_gap() -> None:
    g = _butter("low", 2.0)
    t, p = _sine(0.5, n=400)
    p[100:110] = np.nan
    out = g.run(t, p)["f"]
    assert np.isnan(out[100:110]).all()
    assert np.isfinite(out[:100]).all() and np.isfinite(out[110:]).all()
    assert out[110] == pytest.approx(p[110, 0, 0], abs=1e-12)  # restarts at steady state


def test_one_euro_converges_on_a_constant_and_passes_nan() -> None:
    t = np.arange(600) / 60.0
    rng = np.random.default_rng(3)
    x = np.where(t < 2.0, rng.normal(0, 50, t.size), 12.5)
    x[300] = np.nan
    g = graph(
        {"name": "x", "kind": "joint", "params": {"joint": "a", "axis": "x"}},
        {"name": "f", "kind": "one_euro", "inputs": ["x"],
         "params": {"min_cutoff_hz": 1.0, "beta": 0.05}},
    )  # fmt: skip
    out = g.run(t, poses_of(a=np.column_stack([x, 0 * x, 0 * x])))["f"]
    assert np.isnan(out[300]) and np.isfinite(out[301:]).all()
    assert abs(out[-1] - 12.5) < 1e-6
    assert abs(out[125] - 12.5) > 1e-2  # just after the switch it had not (a real convergence)


def test_moving_average_on_t_j_3_poses() -> None:
    rng = np.random.default_rng(4)
    p = rng.normal(0, 100, (30, 4, 3))
    p[10, 2, 1] = np.nan
    g = graph(
        {"name": "p", "kind": "pose"},
        {"name": "ma", "kind": "moving_average", "inputs": ["p"], "params": {"window": 4}},
    )
    out = g.run(np.arange(30) / 30, p)["ma"]
    assert out.shape == (30, 4, 3)
    assert np.isnan(out[:3]).all()  # window not full yet
    np.testing.assert_allclose(out[3], p[0:4].mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(out[29], p[26:30].mean(axis=0), rtol=1e-12)
    # The missing element makes only that element NaN, for frames 10..13.
    assert np.isnan(out[10:14, 2, 1]).all() and np.isfinite(out[14, 2, 1])
    assert np.isfinite(np.delete(out[10:14].reshape(4, -1), 2 * 3 + 1, axis=1)).all()


def test_offline_filtfilt_has_no_lag_and_centred_average_is_exact_on_a_ramp() -> None:
    t, p = _sine(0.5, n=1000)
    g = graph(
        {"name": "x", "kind": "joint", "params": {"joint": "a", "axis": "x"}},
        {"name": "zp", "kind": "filtfilt", "inputs": ["x"],
         "params": {"cutoff_hz": 5.0, "fs_hz": 100.0, "order": 4}},
        {"name": "causal", "kind": "butterworth", "inputs": ["x"],
         "params": {"cutoff_hz": 5.0, "fs_hz": 100.0, "order": 4}},
        {"name": "cw", "kind": "centered_average", "inputs": ["x"], "params": {"window": 5}},
    )  # fmt: skip
    out = g.run(t, p)
    x = p[:, 0, 0]
    assert abs(out["zp"][100:-100] - x[100:-100]).max() < 1e-3  # zero phase
    assert abs(out["causal"][100:-100] - x[100:-100]).max() > 1e-2  # the causal one lags
    ramp = g.run(t, poses_of(a=np.column_stack([3 * t, 0 * t, 0 * t])))["cw"]
    assert np.isnan(ramp[[0, 1, -2, -1]]).all()
    np.testing.assert_allclose(ramp[2:-2], 3 * t[2:-2], rtol=1e-12)


def test_missing_policies_propagate_hold_interpolate() -> None:
    t = np.arange(6) / 10
    x = np.array([0.0, 1.0, np.nan, np.nan, 4.0, np.nan])
    p = poses_of(a=np.column_stack([x, x, x]))
    node = {"name": "x", "kind": "joint", "params": {"joint": "a", "axis": "x"}}
    vel = {"name": "v", "kind": "velocity", "inputs": ["x"]}
    prop = graph(node, vel).run(t, p)
    assert np.array_equal(prop["x"], x, equal_nan=True)
    assert np.isnan(prop["v"][[0, 2, 3, 4, 5]]).all()  # missing frame k: k and k + 1
    hold = graph(node, vel, missing="hold")
    assert hold.run(t, p)["x"].tolist() == [0.0, 1.0, 1.0, 1.0, 4.0, 4.0]
    interp = graph(node, vel, missing="interpolate")
    out = interp.run(t, p)
    np.testing.assert_allclose(out["x"], [0.0, 1.0, 2.0, 3.0, 4.0, np.nan], rtol=1e-12)
    np.testing.assert_allclose(out["v"][1:5], 10.0)
    assert interp.non_causal == ["missing=interpolate"]
    short = graph(node, missing="interpolate", max_gap=1).run(t, p)["x"]
    assert np.array_equal(short, x, equal_nan=True)  # the 2-frame gap is longer than 1
    with pytest.raises(UsageError, match="max_gap=2 applies to missing='interpolate' only"):
        graph(node, max_gap=2)
    with pytest.raises(UsageError, match="call run"):
        interp.push(t, p)
    with pytest.raises(UsageError, match="cannot run live"):
        graph(node, missing="interpolate", live=True)
    with pytest.raises(UsageError, match="unknown missing-detection policy 'zero'"):
        graph(node, missing="zero")


def test_live_graph_refuses_a_non_causal_node_by_name() -> None:
    nodes = [
        {"name": "x", "kind": "joint", "params": {"joint": "a", "axis": "x"}},
        {"name": "smooth_x", "kind": "centered_average", "inputs": ["x"],
         "params": {"window": 3}},
    ]  # fmt: skip
    assert graph(*nodes).non_causal == ["smooth_x"]
    with pytest.raises(SpecError, match=r"node 'smooth_x'.*'centered_average' is not causal"):
        graph(*nodes, live=True)


def test_push_checks_shapes() -> None:
    g = graph({"name": "x", "kind": "joint", "params": {"joint": "a"}})
    with pytest.raises(UsageError, match=r"do not match \(n, 4, 3\)"):
        g.push(np.zeros(2), np.zeros((2, 5, 3)))


def test_butterworth_warns_once_when_frames_arrive_at_another_rate(caplog) -> None:
    g = _butter("low", 2.0)  # designed for 100 Hz
    t, p = _sine(1.0, n=200, fs=30.0)
    with caplog.at_level("WARNING", logger="neuropose.signals.nodes.filters"):
        g.run(t, p)
    msgs = [r.getMessage() for r in caplog.records]
    assert msgs == [
        "signal node 'f': frames arrive at 30.0 Hz but its filter is designed for fs_hz = 100; "
        "its cut-offs are off by that ratio"
    ]
    caplog.clear()
    with caplog.at_level("WARNING", logger="neuropose.signals.nodes.filters"):
        g.run(*_sine(1.0, n=200))  # at 100 Hz: silent
    assert caplog.records == []


def test_each_causal_kind_makes_exactly_its_documented_window_nan() -> None:
    from neuropose.signals.nodes import REGISTRY
    from tests.signals.cases import CASES, recording
    from tests.signals.cases import JOINTS as BP_JOINTS

    t, clean = recording(gaps=False, dup=False)
    n, k = len(t), 120
    checked = set()
    for kind, nodes in CASES.items():
        # The cases feed the node under test from span-0 nodes only.
        assert {x["kind"] for x in nodes if x["name"] != "out"} <= {"joint", "pose", "distance"}
        g = SignalGraph(parse_spec({"nodes": nodes}), BP_JOINTS)
        span = g.nan_span("out")
        assert np.isfinite(g.run(t, clean)["out"][20:]).all(), kind
        holed = clean.copy()
        holed[k] = np.nan  # subject missed on frame k
        out = g.run(t, holed)["out"]
        bad = np.flatnonzero(~np.isfinite(out.reshape(n, -1)[20:]).all(axis=1)) + 20
        expected = [] if span is None else list(range(k, k + span + 1))
        assert bad.tolist() == expected, kind
        checked.add(kind)
    assert checked == {kind for kind, c in REGISTRY.items() if c.causal}
