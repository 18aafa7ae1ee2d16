"""Chunk invariance and causality of every causal node kind and of the example spec."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from neuropose.signals import SignalGraph, load_spec, parse_spec
from neuropose.signals.nodes import REGISTRY
from tests.signals.cases import CASES, JOINTS, recording

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "signals_knee.toml"


def test_every_causal_kind_has_a_chunk_invariance_case() -> None:
    causal = {k for k, cls in REGISTRY.items() if cls.causal}
    assert causal - set(CASES) == set(), "add a case to tests/signals/cases.py::CASES"
    assert set(CASES) <= causal
    assert {k for k, cls in REGISTRY.items() if not cls.causal} == {"filtfilt", "centered_average"}


def _specs() -> list[tuple[str, object]]:
    out = [(kind, parse_spec({"nodes": nodes})) for kind, nodes in CASES.items()]
    out.append(("example", load_spec(EXAMPLE)))
    return out


SPECS = _specs()


def _chunks(n: int, rng: np.random.Generator) -> list[tuple[int, int]]:
    bounds, i = [], 0
    while i < n:
        k = int(rng.choice([0, 1, 1, 2, 3, 5, 8, 17, 40]))  # 0: an empty push (a stale tick)
        bounds.append((i, min(n, i + k)))
        i += k
    return bounds


def _pushed(graph: SignalGraph, t, poses, bounds) -> dict[str, np.ndarray]:
    graph.reset()
    parts = [graph.push(t[a:b], poses[a:b]) for a, b in bounds]
    return {k: np.concatenate([p[k] for p in parts]) for k in graph.outputs}


def _assert_same(a: np.ndarray, b: np.ndarray, what: str) -> None:
    assert a.shape == b.shape, what
    assert np.array_equal(np.isnan(a), np.isnan(b)), f"{what}: NaN masks differ"
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-9, equal_nan=True, err_msg=what)


@pytest.mark.parametrize("missing", ["propagate", "hold"])
@pytest.mark.parametrize(("label", "spec"), SPECS, ids=[s[0] for s in SPECS])
def test_frame_by_frame_random_chunks_and_whole_array_agree(label, spec, missing) -> None:
    t, poses = recording()
    graph = SignalGraph(spec, JOINTS, live=True, missing=missing)
    whole = graph.run(t, poses)
    n = len(t)
    single = _pushed(graph, t, poses, [(i, i + 1) for i in range(n)])
    rng = np.random.default_rng(7)
    for name in graph.outputs:
        assert whole[name].shape[0] == n
        assert np.isfinite(whole[name]).any(), f"{label}/{name} is all NaN: a vacuous case"
        _assert_same(single[name], whole[name], f"{label}/{name} frame by frame")
    for trial in range(3):
        chunked = _pushed(graph, t, poses, _chunks(n, rng))
        for name in graph.outputs:
            _assert_same(chunked[name], whole[name], f"{label}/{name} chunks #{trial}")


@pytest.mark.parametrize(("label", "spec"), SPECS, ids=[s[0] for s in SPECS])
def test_perturbing_frame_k_changes_no_output_before_k(label, spec) -> None:
    t, poses = recording()
    graph = SignalGraph(spec, JOINTS)
    before = graph.run(t, poses)
    for k in (0, 60, 101, 200):
        p2 = poses.copy()
        t2 = t.copy()
        p2[k] += np.random.default_rng(k).normal(0, 30, p2[k].shape)
        p2[k, 3] = np.nan
        t2[k:] += 0.013  # a later clock for the rest also must not reach back
        after = graph.run(t2, p2)
        changed = False
        for name in graph.outputs:
            a, b = before[name], after[name]
            assert np.array_equal(a[:k], b[:k], equal_nan=True), f"{label}/{name} before {k}"
            changed |= not np.array_equal(a[k:], b[k:], equal_nan=True)
        assert changed, f"{label}: perturbing frame {k} changed nothing (vacuous test)"


def test_the_non_causal_nodes_do_reach_back() -> None:
    spec = parse_spec(
        {
            "nodes": [
                {"name": "x", "kind": "joint", "params": {"joint": "nose", "axis": "x"}},
                {"name": "zp", "kind": "filtfilt", "inputs": ["x"],
                 "params": {"cutoff_hz": 4.0, "fs_hz": 60.0}},
                {"name": "cw", "kind": "centered_average", "inputs": ["x"],
                 "params": {"window": 5}},
            ]
        }
    )  # fmt: skip
    t, poses = recording(gaps=False)
    graph = SignalGraph(spec, JOINTS)
    assert graph.non_causal == ["zp", "cw"]
    before = graph.run(t, poses)
    p2 = poses.copy()
    p2[120] += 50.0
    after = graph.run(t, p2)
    assert not np.array_equal(before["zp"][:120], after["zp"][:120])
    assert not np.array_equal(before["cw"][118:120], after["cw"][118:120])
    # Pushed in chunks, a non-causal node still ends with the offline result.
    graph.reset()
    parts = [graph.push(t[a : a + 50], poses[a : a + 50]) for a in range(0, len(t), 50)]
    np.testing.assert_allclose(parts[-1]["zp"], before["zp"][200:], atol=1e-9)
