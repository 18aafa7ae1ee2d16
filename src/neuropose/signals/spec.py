"""The signal spec: pydantic models, loading from TOML/JSON, and every parse-time check.

A spec is a list of nodes, each ``{name, kind, inputs, params}``; ``kind``
selects the node's parameter model (a discriminated union over
:data:`neuropose.signals.nodes.REGISTRY`), unknown fields and params are
refused. :func:`parse_spec` is the one validation place: field errors,
duplicate names, unknown inputs, wrong input counts and cycles all raise
:class:`SpecError` naming the file, the node and the field.

Examples
--------
>>> spec = parse_spec({"nodes": [
...     {"name": "knee", "kind": "angle_3pt",
...      "params": {"a": "left_hip", "b": "left_knee", "c": "left_ankle"}},
...     {"name": "knee_v", "kind": "velocity", "inputs": ["knee"]}]})
>>> spec.order
['knee', 'knee_v']
>>> parse_spec({"nodes": [{"name": "a", "kind": "velocity", "inputs": ["b"]},
...                       {"name": "b", "kind": "velocity", "inputs": ["a"]}]}, source="s.toml")
Traceback (most recent call last):
...
neuropose.signals.spec.SpecError: s.toml: cycle in the signal graph: a -> b -> a
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    create_model,
    model_validator,
)

from neuropose.errors import InputError
from neuropose.signals.nodes import REGISTRY, Params

__all__ = ["NodeSpec", "SignalSpec", "SpecError", "load_spec", "parse_spec"]


class SpecError(InputError):
    """A signal spec is invalid (exit code 2); names the file, node and field.

    Attributes
    ----------
    source : str
        The spec file (or ``"<spec>"``).
    node : str or None
        Name (or ``#index``) of the offending node.
    field : str or None
        The offending field, e.g. ``params.cutoff_hz``.
    """

    def __init__(
        self,
        message: str,
        *,
        source: str = "<spec>",
        node: str | None = None,
        field: str | None = None,
        hint: str | None = None,
    ) -> None:
        where = source
        if node is not None:
            where += f": node {node!r}"
        if field is not None:
            where += f", field {field!r}"
        super().__init__(f"{where}: {message}", hint=hint)
        self.source, self.node, self.field = source, node, field


class NodeBase(BaseModel):
    """Fields common to every node."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=64)
    kind: str
    inputs: tuple[str, ...] = ()
    params: Params


def _node_model(kind: str) -> type[NodeBase]:
    cls = REGISTRY[kind]
    try:
        cls.params_model()
        params: Any = (cls.params_model, Field(default_factory=cls.params_model))
    except ValidationError:
        params = (cls.params_model, ...)
    title = "".join(p.title() for p in kind.split("_")) + "Node"
    return create_model(
        title,
        __base__=NodeBase,
        __doc__=cls.__doc__,
        kind=(Literal[kind], ...),  # type: ignore[arg-type]
        params=params,
    )


_NODE_MODELS = {kind: _node_model(kind) for kind in sorted(REGISTRY)}

if TYPE_CHECKING:
    NodeSpec = NodeBase
else:
    #: One node of a spec: a discriminated union on ``kind``.
    NodeSpec = Annotated[Union[tuple(_NODE_MODELS.values())], Field(discriminator="kind")]  # noqa: UP007


class SignalSpec(BaseModel):
    """A validated signal graph spec.

    Attributes
    ----------
    version : int
        Spec format version (1).
    nodes : tuple of NodeSpec
        The nodes, in file order.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: Literal[1] = 1
    nodes: tuple[NodeSpec, ...] = Field(min_length=1)
    _source: str = PrivateAttr(default="<spec>")

    @model_validator(mode="after")
    def _graph(self, info: ValidationInfo) -> SignalSpec:
        source = str((info.context or {}).get("source", "<spec>"))
        _check_graph(self.nodes, source)
        return self

    @property
    def source(self) -> str:
        """The file the spec was loaded from (``"<spec>"`` when parsed from data)."""
        return self._source

    @property
    def order(self) -> list[str]:
        """Node names in topological order (inputs first; file order among equals)."""
        return _topological(self.nodes)

    def node(self, name: str) -> NodeSpec:
        """The node called ``name`` (``KeyError`` if absent)."""
        for n in self.nodes:
            if n.name == name:
                return n
        raise KeyError(name)

    def units(self) -> dict[str, str]:
        """Node name → unit of its output, inputs' units substituted (``"deg/s"``), in order.

        Examples
        --------
        >>> spec = parse_spec({"nodes": [
        ...     {"name": "d", "kind": "distance", "params": {"a": "neck", "b": "pelvis"}},
        ...     {"name": "v", "kind": "velocity", "inputs": ["d"]}]})
        >>> spec.units()
        {'d': 'mm', 'v': 'mm/s'}
        """
        out: dict[str, str] = {}
        for name in self.order:
            node = self.node(name)
            unit = REGISTRY[node.kind].unit
            out[name] = unit.replace("{in}", out[node.inputs[0]]) if node.inputs else unit
        return out

    def canonical_json(self) -> str:
        """The spec as canonical JSON (defaults filled, keys sorted, no spaces)."""
        return json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))

    @property
    def sha256(self) -> str:
        """SHA-256 (hex) of :meth:`canonical_json`: equal for equivalent TOML and JSON."""
        return hashlib.sha256(self.canonical_json().encode()).hexdigest()


def _check_graph(nodes: tuple[NodeBase, ...], source: str) -> None:
    names: set[str] = set()
    for node in nodes:
        if node.name in names:
            raise SpecError("duplicate node name", source=source, node=node.name, field="name")
        names.add(node.name)
    for node in nodes:
        want = REGISTRY[node.kind].n_inputs
        if len(node.inputs) != want:
            raise SpecError(
                f"kind {node.kind!r} takes {want} input(s), got {len(node.inputs)}",
                source=source,
                node=node.name,
                field="inputs",
            )
        for inp in node.inputs:
            if inp not in names:
                raise SpecError(
                    f"unknown input {inp!r}",
                    source=source,
                    node=node.name,
                    field="inputs",
                    hint=f"inputs name other nodes of the spec: {', '.join(sorted(names))}",
                )
    cycle = _find_cycle(nodes)
    if cycle:
        raise SpecError(f"cycle in the signal graph: {' -> '.join(cycle)}", source=source)


def _find_cycle(nodes: tuple[NodeBase, ...]) -> list[str] | None:
    deps = {n.name: n.inputs for n in nodes}
    state: dict[str, int] = {}  # 1 = on the stack, 2 = done
    stack: list[str] = []

    def visit(name: str) -> list[str] | None:
        state[name] = 1
        stack.append(name)
        for nxt in deps[name]:
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[name] = 2
        return None

    for n in nodes:
        if n.name not in state and (found := visit(n.name)):
            # Report in data-flow order (input -> consumer).
            return found[::-1]
    return None


def _topological(nodes: tuple[NodeBase, ...]) -> list[str]:
    done: list[str] = []
    seen: set[str] = set()
    deps = {n.name: n.inputs for n in nodes}

    def visit(name: str) -> None:
        if name in seen:
            return
        seen.add(name)
        for d in deps[name]:
            visit(d)
        done.append(name)

    for n in nodes:
        visit(n.name)
    return done


def _field_path(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc)


def _convert(exc: ValidationError, data: Any, source: str) -> SpecError:
    """The first validation error as a :class:`SpecError` naming node and field.

    An unknown field is reported before a missing one: it is usually the
    misspelling of the missing field.
    """
    errors = exc.errors()
    err = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    loc = tuple(err["loc"])
    raw_nodes = data.get("nodes") if isinstance(data, dict) else None
    if len(loc) < 2 or loc[0] != "nodes" or not isinstance(loc[1], int):
        field = _field_path(loc) or None
        return SpecError(err["msg"], source=source, field=field)
    idx = loc[1]
    raw = raw_nodes[idx] if isinstance(raw_nodes, list | tuple) and idx < len(raw_nodes) else {}
    node = str(raw.get("name")) if isinstance(raw, dict) and "name" in raw else f"#{idx + 1}"
    kind = raw.get("kind") if isinstance(raw, dict) else None
    rest = loc[2:]
    if rest and rest[0] == kind:  # the discriminated union puts the tag in the path
        rest = rest[1:]
    field = _field_path(rest) or None
    msg = err["msg"]
    if err["type"] == "union_tag_invalid":
        return SpecError(
            f"unknown kind {kind!r}; known kinds: {', '.join(sorted(REGISTRY))}",
            source=source,
            node=node,
            field="kind",
        )
    if err["type"] == "union_tag_not_found":
        return SpecError("missing field 'kind'", source=source, node=node, field="kind")
    if err["type"] == "extra_forbidden" and len(rest) == 2 and rest[0] == "params":
        known = ", ".join(REGISTRY[str(kind)].params_model.model_fields) or "none"
        return SpecError(
            f"unknown param {rest[1]!r} for kind {kind!r}; its params: {known}",
            source=source,
            node=node,
            field=field,
        )
    if err["type"] == "extra_forbidden" and len(rest) == 1:
        return SpecError(
            f"unknown field {rest[0]!r}; node fields: name, kind, inputs, params",
            source=source,
            node=node,
            field=field,
        )
    return SpecError(msg.removeprefix("Value error, "), source=source, node=node, field=field)


def parse_spec(data: Any, *, source: str = "<spec>") -> SignalSpec:
    """Validate a spec document (parsed TOML/JSON) into a :class:`SignalSpec`.

    Raises
    ------
    SpecError
        Naming ``source``, the node and the field of the first problem.
    """
    try:
        spec = SignalSpec.model_validate(data, context={"source": source})
    except ValidationError as exc:
        raise _convert(exc, data, source) from None
    spec._source = source
    return spec


def load_spec(path: Path | str) -> SignalSpec:
    """Load a spec from a ``.toml`` or ``.json`` file.

    Raises
    ------
    SpecError
        Unreadable file, syntax error (with its line), or any check of :func:`parse_spec`.
    """
    p = Path(path)
    source = str(p)
    if p.suffix.lower() not in {".toml", ".json"}:
        raise SpecError(
            f"unknown spec format {p.suffix!r}", source=source, hint="use a .toml or .json file"
        )
    try:
        text = p.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        why = getattr(exc, "strerror", None) or exc
        raise SpecError(f"cannot read the spec: {why}", source=source) from None
    if p.suffix.lower() == ".toml":
        try:
            data: Any = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise SpecError(f"invalid TOML: {exc}", source=source) from None
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SpecError(
                f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}", source=source
            ) from None
    return parse_spec(data, source=source)
