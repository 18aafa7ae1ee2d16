"""Parse-time errors of signal specs: each names the file, the node and the field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neuropose.errors import InputError
from neuropose.signals import SignalGraph, SpecError, load_spec, parse_spec
from neuropose.signals.nodes import REGISTRY
from neuropose.skeletons import BLAZEPOSE_33, H36M_17

KNEE = {"a": "left_hip", "b": "left_knee", "c": "left_ankle"}


def _err(nodes: list[dict], source: str = "s.toml") -> SpecError:
    with pytest.raises(SpecError) as info:
        parse_spec({"nodes": nodes}, source=source)
    assert isinstance(info.value, InputError) and info.value.exit_code == 2
    return info.value


def test_duplicate_name() -> None:
    e = _err([{"name": "k", "kind": "angle_3pt", "params": KNEE}] * 2)
    assert str(e) == "s.toml: node 'k', field 'name': duplicate node name"
    assert (e.source, e.node, e.field) == ("s.toml", "k", "name")


def test_unknown_input_lists_the_nodes() -> None:
    e = _err(
        [
            {"name": "k", "kind": "angle_3pt", "params": KNEE},
            {"name": "v", "kind": "velocity", "inputs": ["knee"]},
        ]
    )
    assert str(e).startswith("s.toml: node 'v', field 'inputs': unknown input 'knee'")
    assert "inputs name other nodes of the spec: k, v" in str(e)


def test_cycle_prints_its_path() -> None:
    e = _err(
        [
            {"name": "k", "kind": "angle_3pt", "params": KNEE},
            {"name": "a", "kind": "velocity", "inputs": ["c"]},
            {"name": "b", "kind": "velocity", "inputs": ["a"]},
            {"name": "c", "kind": "moving_average", "inputs": ["b"], "params": {"window": 2}},
        ]
    )
    assert str(e) == "s.toml: cycle in the signal graph: a -> b -> c -> a"
    e = _err([{"name": "self", "kind": "velocity", "inputs": ["self"]}])
    assert str(e) == "s.toml: cycle in the signal graph: self -> self"


def test_unknown_kind_lists_the_kinds() -> None:
    e = _err([{"name": "k", "kind": "lowpass", "inputs": []}])
    assert str(e).startswith("s.toml: node 'k', field 'kind': unknown kind 'lowpass'; known")
    assert "butterworth" in str(e) and "one_euro" in str(e)


def test_unknown_param_lists_the_params() -> None:
    e = _err(
        [
            {"name": "k", "kind": "angle_3pt", "params": KNEE},
            {"name": "f", "kind": "butterworth", "inputs": ["k"],
             "params": {"cutoff": 6, "fs_hz": 60}},
        ]
    )  # fmt: skip
    assert str(e).startswith(
        "s.toml: node 'f', field 'params.cutoff': unknown param 'cutoff' for kind 'butterworth'"
    )
    assert "its params: btype, cutoff_hz, order, fs_hz" in str(e)


def test_unknown_node_field_and_missing_param() -> None:
    e = _err([{"name": "k", "kind": "angle_3pt", "params": KNEE, "input": []}])
    assert "node 'k', field 'input': unknown field 'input'" in str(e)
    e = _err([{"name": "k", "kind": "angle_3pt", "params": {"a": "left_hip"}}])
    assert str(e) == "s.toml: node 'k', field 'params.b': Field required"


def test_unknown_joint_names_the_field() -> None:
    e = _err([{"name": "k", "kind": "angle_3pt", "params": {**KNEE, "b": "left_kne"}}])
    assert str(e).startswith("s.toml: node 'k', field 'params.b': unknown joint 'left_kne'")
    assert "left_knee" in str(e)  # the canonical names are listed


def test_bad_values_name_node_and_field() -> None:
    e = _err(
        [
            {"name": "k", "kind": "angle_3pt", "params": KNEE},
            {"name": "f", "kind": "butterworth", "inputs": ["k"],
             "params": {"cutoff_hz": 40, "fs_hz": 60}},
        ]
    )  # fmt: skip
    assert "node 'f'" in str(e) and "below the Nyquist frequency 30.0 Hz" in str(e)
    e = _err([{"name": "k", "kind": "velocity", "inputs": []}])
    assert str(e) == "s.toml: node 'k', field 'inputs': kind 'velocity' takes 1 input(s), got 0"
    e = _err([{"kind": "pose"}])
    assert str(e) == "s.toml: node '#1', field 'name': Field required"


def test_joint_missing_from_the_skeleton_is_refused_at_graph_build() -> None:
    spec = parse_spec(
        {"nodes": [{"name": "heel", "kind": "joint", "params": {"joint": "left_heel"}}]},
        source="h.toml",
    )
    SignalGraph(spec, BLAZEPOSE_33.joints)  # BlazePose has heels
    with pytest.raises(SpecError) as info:
        SignalGraph(spec, H36M_17.joints)
    assert str(info.value).startswith(
        "h.toml: node 'heel', field 'params.joint': joint 'left_heel' is not provided by "
        "skeleton 'h36m_17'"
    )


def test_toml_and_json_load_to_the_same_spec_and_sha256(tmp_path: Path) -> None:
    toml = tmp_path / "s.toml"
    toml.write_text(
        '[[nodes]]\nname = "k"\nkind = "angle_3pt"\n'
        'params = { a = "left_hip", b = "left_knee", c = "left_ankle" }\n'
    )
    js = tmp_path / "s.json"
    js.write_text(json.dumps({"nodes": [{"name": "k", "kind": "angle_3pt", "params": KNEE,
                                         "inputs": []}]}))  # fmt: skip
    a, b = load_spec(toml), load_spec(js)
    assert a.canonical_json() == b.canonical_json() and a.nodes == b.nodes
    assert a.sha256 == b.sha256 and len(a.sha256) == 64
    other = parse_spec({"nodes": [{"name": "k", "kind": "angle_3pt",
                                   "params": {**KNEE, "complement": True}}]})  # fmt: skip
    assert other.sha256 != a.sha256
    assert a.source == str(toml)


def test_file_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[[nodes]]\nname = "k\n')
    with pytest.raises(SpecError, match=r"bad\.toml: invalid TOML: .*line 2"):
        load_spec(bad)
    bad = tmp_path / "bad.json"
    bad.write_text('{"nodes": [}')
    with pytest.raises(SpecError, match=r"bad\.json: invalid JSON at line 1, column 12"):
        load_spec(bad)
    with pytest.raises(SpecError, match=r"s\.yaml: unknown spec format '\.yaml'"):
        load_spec(tmp_path / "s.yaml")
    with pytest.raises(SpecError, match=r"none\.toml: cannot read the spec"):
        load_spec(tmp_path / "none.toml")
    empty = tmp_path / "empty.toml"
    empty.write_text("")
    with pytest.raises(SpecError, match=r"empty\.toml, field 'nodes': Field required"):
        load_spec(empty)


def test_docs_describe_every_node_kind() -> None:
    from neuropose.signals.nodes import REGISTRY

    doc = (Path(__file__).resolve().parents[2] / "docs" / "signals.md").read_text()
    rows = {
        line.split("|")[1].strip().strip("`") for line in doc.splitlines() if line.startswith("| `")
    }
    assert set(REGISTRY) <= rows, sorted(set(REGISTRY) - rows)
    for kind, cls in REGISTRY.items():
        row = next(line for line in doc.splitlines() if line.startswith(f"| `{kind}` |"))
        assert ("| yes |" in row) == cls.causal, kind


_JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 100) | st.floats(allow_nan=True)
    | st.sampled_from(["a", "k", "velocity", "left_hip", "butterworth", "low", ""]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["name", "kind", "inputs", "params", "cutoff_hz", "fs_hz", "joint",
                         "window", "a", "b", "c", "x"]), inner, max_size=4),
    max_leaves=12,
)  # fmt: skip
_NODE = st.fixed_dictionaries(
    {"name": st.sampled_from(["a", "b", "c", "bad name"]),
     "kind": st.sampled_from([*sorted(REGISTRY), "nope"])},
    optional={"inputs": st.lists(st.sampled_from(["a", "b", "c", "z"]), max_size=2),
              "params": st.dictionaries(st.sampled_from(["joint", "a", "b", "c", "window",
                                                         "cutoff_hz", "fs_hz", "btype", "q"]),
                                        _JSONISH, max_size=4)},
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.one_of(_JSONISH, st.fixed_dictionaries({"nodes": st.lists(_NODE, max_size=4)})))
def test_any_document_parses_or_raises_spec_error(data) -> None:
    try:
        spec = parse_spec(data, source="fuzz.json")
    except SpecError as exc:
        assert str(exc).startswith("fuzz.json")
        return
    assert spec.order and len(spec.sha256) == 64
