"""Loading and validating analysis configs (TOML).

A config is a TOML file validated by
:class:`neuropose.schemas.analysis.AnalysisConfig`; unknown keys and bad
values raise :class:`~neuropose.errors.ConfigError` naming the file and the
key (e.g. ``segmentations.0.signal.kind``). Relative paths inside the config
(``inputs`` globs, comparison files) resolve against the config file's
directory, so a config and its data can be moved together.
"""

from __future__ import annotations

import glob
import tomllib
from pathlib import Path

from pydantic import ValidationError

from neuropose.analyzer.angles import ANGLE_NAMES
from neuropose.errors import ConfigError
from neuropose.io import format_validation_error
from neuropose.schemas.analysis import AnalysisConfig

__all__ = ["load_config", "resolve_inputs"]


def load_config(path: Path | str) -> AnalysisConfig:
    """Read and validate an analysis config.

    Raises
    ------
    ConfigError
        File missing, not TOML, unknown key, bad value, or unknown angle name.
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
    return cfg


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
