"""Loading and validating analysis configs (TOML).

A config is a TOML file validated by
:class:`neuropose.schemas.analysis.AnalysisConfig`; unknown keys and bad
values raise :class:`~neuropose.errors.ConfigError` naming the file and the
key (e.g. ``segmentations.0.signal.kind``). Relative paths inside the config
(``inputs`` globs, comparison files) resolve against the config file's
directory, so a config and its data can be moved together.

Overrides (``neuropose analyze CONFIG --set KEY=VALUE``) change any value
before validation, so a shipped example runs on other files without being
copied: ``KEY`` is a dotted path whose list items are indices or, for
``comparisons`` and ``segmentations``, names (``comparisons.pose_procrustes.a``);
``VALUE`` is read as a TOML value when it parses as one (``4``, ``true``,
``["a", "b"]``) and as a string otherwise. Paths given this way
(``inputs``, a comparison's ``a`` and ``b``) are relative to the current
directory, like every path on a command line.
"""

from __future__ import annotations

import glob
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from neuropose.analyzer.angles import ANGLE_NAMES
from neuropose.analyzer.ik_source import IK_ANGLE_NAMES
from neuropose.errors import ConfigError
from neuropose.io import format_validation_error
from neuropose.schemas.analysis import AnalysisConfig, SegmentationSignal
from neuropose.signals import SpecError, load_spec

__all__ = ["apply_overrides", "load_config", "resolve_inputs"]

#: (first, last) parts of keys whose values are paths, besides ``inputs``
#: (resolved against the current directory when overridden).
_PATH_KEYS = {("comparisons", "a"), ("comparisons", "b"), ("signals_spec", "signals_spec")}


def load_config(path: Path | str, overrides: Sequence[str] = ()) -> AnalysisConfig:
    """Read and validate an analysis config, after applying ``KEY=VALUE`` overrides.

    Raises
    ------
    ConfigError
        File missing, not TOML, unknown key, bad value, unknown angle name,
        or an override that names no value of the config.
    """
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{p}: analysis config not found") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{p}: not valid TOML ({exc})") from exc
    data = apply_overrides(data, overrides, base=Path.cwd())
    try:
        cfg = AnalysisConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(
            f"{p}: {format_validation_error(exc)}",
            hint="see docs/analyzer.md for the config keys, or the files in examples/",
        ) from exc
    known = set(ANGLE_NAMES)
    named: list[tuple[str, int | None, str]] = [("angles", k, a) for k, a in enumerate(cfg.angles)]
    for c_i, comp in enumerate(cfg.comparisons):
        named += [(f"comparisons.{c_i}.angles", k, a) for k, a in enumerate(comp.angles)]
    for s_i, seg in enumerate(cfg.segmentations):
        if seg.signal.angle is not None:
            named.append((f"segmentations.{s_i}.signal.angle", None, seg.signal.angle))
    for where, k, name in named:
        if name not in known:
            key = where if k is None else f"{where}.{k}"
            raise ConfigError(
                f"{p}: field '{key}': unknown angle {name!r}",
                hint=f"known angles: {', '.join(ANGLE_NAMES)}",
            )
    if isinstance(cfg.angle_source, dict):
        for name, source in cfg.angle_source.items():
            if source == "opensim" and name not in IK_ANGLE_NAMES:
                raise ConfigError(
                    f"{p}: field 'angle_source.{name}': no OpenSim coordinate for {name!r}",
                    hint=f"angles with one: {', '.join(IK_ANGLE_NAMES)}",
                )
    return _bind_signals(cfg, p)


def _spec_nodes(path: Path, config: Path, key: str) -> set[str]:
    try:
        return {n.name for n in load_spec(path).nodes}
    except SpecError as exc:
        raise ConfigError(f"{config}: field {key!r}: {exc.message}", hint=exc.hint) from None


def _bind_signals(cfg: AnalysisConfig, config: Path) -> AnalysisConfig:
    """Check every derived-signal use against its spec; make spec paths absolute.

    A segmentation ``signal = "NODE"`` and a comparison ``mode = "signals"``
    name nodes of ``signals_spec`` (relative to the config file); a
    segmentation signal may name its own ``spec_file``.
    """
    base = config.parent
    default = None if cfg.signals_spec is None else str(base / cfg.signals_spec)
    uses: list[tuple[str, str | None, tuple[str, ...]]] = []
    for i, seg in enumerate(cfg.segmentations):
        if seg.signal.kind == "signal":
            own = seg.signal.spec_file
            spec = str(base / own) if own is not None else default
            uses.append((f"segmentations.{i}.signal.node", spec, (str(seg.signal.node),)))
    for i, comp in enumerate(cfg.comparisons):
        if comp.mode == "signals":
            uses.append((f"comparisons.{i}.signals", default, comp.signals))
    nodes: dict[str, set[str]] = {}
    for key, spec, names in uses:
        if spec is None:
            raise ConfigError(
                f"{config}: field {key!r}: a derived signal needs a signals spec",
                hint='add signals_spec = "signals.toml" to the config (see docs/signals.md)',
            )
        if spec not in nodes:
            nodes[spec] = _spec_nodes(Path(spec), config, "signals_spec")
        for name in names:
            if name not in nodes[spec]:
                raise ConfigError(
                    f"{config}: field {key!r}: no node {name!r} in {spec}",
                    hint=f"its nodes: {', '.join(sorted(nodes[spec]))}",
                )
    if not uses:
        return cfg
    segs = tuple(
        s.model_copy(
            update={
                "signal": SegmentationSignal(
                    **{
                        **s.signal.model_dump(),
                        "spec_file": str(base / s.signal.spec_file)
                        if s.signal.spec_file is not None
                        else default,
                    }
                )
            }
        )
        if s.signal.kind == "signal"
        else s
        for s in cfg.segmentations
    )
    return cfg.model_copy(update={"segmentations": segs, "signals_spec": default})


def resolve_inputs(patterns: list[str] | tuple[str, ...], base: Path) -> list[Path]:
    """Expand glob patterns (relative ones against ``base``), sorted per pattern, unique.

    Raises
    ------
    ConfigError
        No pattern given, or a pattern matches no file.
    """
    if not patterns:
        raise ConfigError(
            "no inputs: the config has no 'inputs' and no --inputs was given",
            hint='add inputs = ["results/*.json"] to the config or pass --inputs GLOB',
        )
    out: list[Path] = []
    seen: set[Path] = set()
    for pat in patterns:
        full = pat if Path(pat).is_absolute() else str(base / pat)
        matches = sorted(Path(m) for m in glob.glob(full, recursive=True) if Path(m).is_file())
        if not matches:
            raise ConfigError(f"inputs: pattern {pat!r} matched no files (looked in {base})")
        for m in matches:
            r = m.resolve()
            if r not in seen:
                seen.add(r)
                out.append(m)
    return out


def _parse_value(text: str) -> Any:
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def _absolute(value: Any, base: Path) -> Any:
    if isinstance(value, str):
        return value if Path(value).is_absolute() else str(base / value)
    if isinstance(value, list):
        return [_absolute(v, base) for v in value]
    return value


def apply_overrides(data: dict[str, Any], overrides: Sequence[str], base: Path) -> dict[str, Any]:
    """A copy of the parsed TOML ``data`` with each ``KEY=VALUE`` of ``overrides`` set.

    Raises
    ------
    ConfigError
        An override without ``=``, or a path through a list that names no
        item (the message lists the names or the valid indices).

    Examples
    --------
    >>> data = {"inputs": ["results/*.json"], "comparisons": [{"name": "c", "a": "x.json"}]}
    >>> out = apply_overrides(data, ["comparisons.c.a=/data/t1.json", "max_gap=3"], Path("/"))
    >>> out["comparisons"][0]["a"], out["max_gap"], data["comparisons"][0]["a"]
    ('/data/t1.json', 3, 'x.json')
    """
    import copy

    out = copy.deepcopy(data)
    for item in overrides:
        key, eq, raw = item.partition("=")
        parts = key.strip().split(".")
        if not eq or not all(parts):
            raise ConfigError(
                f"--set {item!r}: expected KEY=VALUE", hint="e.g. --set comparisons.0.a=t1.json"
            )
        value = _parse_value(raw.strip())
        if (parts[0], parts[-1]) in _PATH_KEYS or parts[0] == "inputs":
            value = _absolute(value, base)
        node: Any = out
        for i, part in enumerate(parts[:-1]):
            node = _child(node, part, ".".join(parts[: i + 1]), item)
        last = parts[-1]
        if isinstance(node, list):
            node[_index(node, last, key, item)] = value
        elif isinstance(node, dict):
            node[last] = value
        else:
            raise ConfigError(f"--set {item!r}: {'.'.join(parts[:-1])} is not a table")
    return out


def _child(node: Any, part: str, where: str, item: str) -> Any:
    if isinstance(node, dict):
        if part not in node:
            node[part] = {}
        return node[part]
    if isinstance(node, list):
        return node[_index(node, part, where, item)]
    raise ConfigError(f"--set {item!r}: {where} is a value, not a table or a list")


def _index(items: list[Any], part: str, where: str, item: str) -> int:
    if part.isdigit() and int(part) < len(items):
        return int(part)
    names = [x.get("name") for x in items if isinstance(x, dict)]
    if part in names:
        return names.index(part)
    raise ConfigError(
        f"--set {item!r}: {where} names no item of the list",
        hint=f"use an index 0..{len(items) - 1}"
        + (f" or a name: {', '.join(str(n) for n in names)}" if any(names) else ""),
    )
