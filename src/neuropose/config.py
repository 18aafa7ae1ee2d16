"""Settings: every tunable of NeuroPose, with documented layered sources.

Precedence (highest first)
--------------------------
1. command-line flags (e.g. ``--batch-size 4``);
2. environment variables ``NEUROPOSE_<KEY>`` (e.g. ``NEUROPOSE_BATCH_SIZE=4``);
3. the TOML file given with ``--config`` (no implicit discovery: a file is
   only read when named);
4. built-in defaults.

Relative paths in a TOML file resolve against the file's directory; ``~`` is
expanded everywhere. Unknown keys in a file are errors naming the key; invalid
values are errors naming the key, the value, its source and what is allowed.
``neuropose config show`` prints the effective settings and where each value
came from. ``config.example.toml`` lists every key with its default.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from neuropose.errors import ConfigError

__all__ = ["ENV_PREFIX", "LoadedSettings", "Settings", "SubjectRule", "load_settings"]

ENV_PREFIX = "NEUROPOSE_"


def _xdg_data_home() -> Path:
    base = os.environ.get("XDG_DATA_HOME")
    return Path(base).expanduser() if base else Path.home() / ".local" / "share"


def _default_data_dir() -> Path:
    return _xdg_data_home() / "neuropose" / "jobs"


def _default_model_cache_dir() -> Path:
    return _xdg_data_home() / "neuropose" / "models"


class SubjectRule(StrEnum):
    """How the primary subject is chosen among tracks (or give a track id)."""

    LARGEST = "largest"
    MOST_CENTRAL = "most_central"
    LONGEST_TRACK = "longest_track"
    MOST_PRESENT = "most_present"


class Settings(BaseModel):
    """Effective NeuroPose settings. Construct with :func:`load_settings`.

    A plain pydantic model: it validates what it is given and reads neither
    files nor the environment (:func:`load_settings` layers those itself, to
    report each value's origin), so no settings library is imported.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)

    # --- storage -----------------------------------------------------------
    data_dir: Path = Field(
        default_factory=_default_data_dir,
        description="Job directory root holding in/, out/, failed/ "
        "(default $XDG_DATA_HOME/neuropose/jobs).",
    )
    model_cache_dir: Path = Field(
        default_factory=_default_model_cache_dir,
        description="Where fetched model weights are kept "
        "(default $XDG_DATA_HOME/neuropose/models).",
    )
    # --- model and inference -------------------------------------------------
    default_model: str = Field(
        default="blazepose-full", min_length=1, description="Pose model used when none is named."
    )
    fov_degrees: float = Field(
        default=55.0,
        gt=0,
        lt=180,
        description="Assumed horizontal field of view on the larger image side, degrees, "
        "when the input declares no focal length.",
    )
    camera_file: Path | None = Field(
        default=None,
        description="camera.json/TOML with fx, fy, cx, cy[, distortion]; overrides fov_degrees.",
    )
    batch_size: int = Field(
        default=8, ge=1, le=256, description="Frames per model call for batching models."
    )
    prefetch_frames: int = Field(
        default=16,
        ge=1,
        le=1024,
        description="Cap on frames decoded but not yet collected (bounds memory).",
    )
    num_threads: int = Field(
        default=2, ge=1, le=64, description="CPU threads for model inference (TFLite/TF)."
    )
    max_persons: int = Field(default=1, ge=1, le=32, description="Most people tracked per frame.")
    subject_rule: str = Field(
        default="most_present",
        description="Primary subject: largest, most_central, longest_track, most_present, "
        "or a track id.",
    )
    max_unseen_frames: int = Field(
        default=30, ge=0, description="Frames a track may go undetected before it ends."
    )
    swap_correction: bool = Field(
        default=True, description="Correct left/right label swaps against the track's history."
    )
    landmark_smoothing: bool = Field(
        default=True,
        description="One-euro smoothing of landmarks (raw landmarks are kept in the results).",
    )
    stall_timeout_s: float = Field(
        default=120.0, gt=0, description="Fail a video when no frame moves for this long, s."
    )
    # --- daemon ----------------------------------------------------------------
    poll_interval_s: float = Field(
        default=2.0, gt=0, le=3600, description="How often the daemon scans in/, seconds."
    )
    settle_seconds: float = Field(
        default=5.0,
        ge=0,
        description="A job is picked up only after no file changed for this long, seconds.",
    )
    require_ready_marker: bool = Field(
        default=False, description="Only pick up jobs that contain a READY file."
    )
    checkpoint_every_frames: int = Field(
        default=300, ge=1, description="Frames between mid-video checkpoints."
    )
    max_attempts: int = Field(
        default=3, ge=1, description="Crashes before a job is quarantined as poison."
    )
    shutdown_grace_seconds: float = Field(
        default=30.0, gt=0, description="Time allowed for a graceful stop, seconds."
    )
    # --- ingest ----------------------------------------------------------------
    ingest_max_members: int = Field(
        default=10_000, ge=1, description="Most members an archive may hold."
    )
    ingest_max_total_bytes: int = Field(
        default=200 * 1024**3, ge=1, description="Most bytes an ingest may write."
    )
    ingest_max_ratio: float = Field(
        default=200.0, gt=1, description="Largest compression ratio accepted per member."
    )
    # --- monitor ---------------------------------------------------------------
    monitor_host: str = Field(default="127.0.0.1", description="Dashboard bind address.")
    monitor_port: int = Field(default=8765, ge=0, le=65535, description="Dashboard port.")
    monitor_token: SecretStr | None = Field(
        default=None, description="Bearer token; required to bind a non-loopback address."
    )
    stale_after_seconds: float = Field(
        default=120.0, gt=0, description="Mark a processing job stale after this heartbeat age."
    )
    export_formats: str = Field(
        default="",
        pattern=r"^\s*([a-z0-9-]+\s*(,\s*[a-z0-9-]+\s*)*)?$",
        description="Exports the daemon writes to out/<job>/export/ after each job "
        "(comma-separated, e.g. 'csv-long,trc,mot'; empty: none).",
    )
    render_after_job: bool = Field(
        default=True,
        description="The daemon renders each completed job's overlay video, 3D view and plots "
        "into out/<job>/visualize/ when idle (for the dashboard's job page).",
    )
    # --- logging ---------------------------------------------------------------
    log_format: Literal["human", "json"] = Field(
        default="human", description="Log line format: human or json."
    )

    @field_validator("subject_rule")
    @classmethod
    def _subject_rule(cls, v: str) -> str:
        if v in {r.value for r in SubjectRule} or v.lstrip("-").isdigit():
            return v
        raise ValueError(
            "must be largest, most_central, longest_track, most_present or an integer track id"
        )

    @field_validator("camera_file", "monitor_token", mode="before")
    @classmethod
    def _empty_is_unset(cls, v: Any) -> Any:
        # NEUROPOSE_CAMERA_FILE= (empty) means "not set", not the current directory.
        return None if isinstance(v, str) and not v.strip() else v

    @field_validator("data_dir", "model_cache_dir", mode="before")
    @classmethod
    def _not_empty(cls, v: Any) -> Any:
        # An empty path would silently mean the current directory.
        if isinstance(v, str) and not v.strip():
            raise ValueError("must not be empty (unset it to use the default)")
        return v

    @field_validator("data_dir", "model_cache_dir", "camera_file")
    @classmethod
    def _expand(cls, v: Path | None) -> Path | None:
        return None if v is None else v.expanduser()


@dataclass(frozen=True)
class LoadedSettings:
    """Settings plus where each value came from (``default``/``file:PATH``/``env:VAR``/``flag``)."""

    settings: Settings
    origins: dict[str, str]


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(
            f"config file {path} does not exist", hint="check the --config path"
        ) from None
    except OSError as exc:  # a directory, no permission, I/O error
        raise ConfigError(
            f"config file {path} cannot be read: {exc.strerror or exc}",
            hint="--config takes a TOML file you can read",
        ) from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"config file {path} is not UTF-8 text: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from exc
    known = set(Settings.model_fields)
    for key, value in data.items():
        if key not in known:
            raise ConfigError(
                f"config file {path}: unknown key '{key}'",
                hint="see config.example.toml or `neuropose config show` for the known keys",
            )
        if key in {"data_dir", "model_cache_dir", "camera_file"} and isinstance(value, str):
            p = Path(value).expanduser()
            data[key] = str(p if p.is_absolute() else (path.parent / p).resolve())
    return data


def load_settings(
    config_file: Path | None = None,
    flags: dict[str, Any] | None = None,
    environ: dict[str, str] | None = None,
) -> LoadedSettings:
    """Build :class:`Settings` from defaults, a TOML file, the environment and flags.

    Parameters
    ----------
    config_file : Path, optional
        TOML file named with ``--config``.
    flags : dict, optional
        Values given on the command line; ``None`` values are ignored.
    environ : dict, optional
        Environment to read (default ``os.environ``).

    Raises
    ------
    ConfigError
        Unknown key in the file, or an invalid value from any source; the
        message names the key, the value and its source.
    """
    env = os.environ if environ is None else environ
    layers: list[tuple[str, dict[str, Any]]] = []
    if config_file is not None:
        layers.append((f"file:{config_file}", _read_toml(Path(config_file))))
    env_layer = {}
    env_origin = {}
    for key in Settings.model_fields:
        var = ENV_PREFIX + key.upper()
        if var in env:
            env_layer[key] = env[var]
            env_origin[key] = f"env:{var}"
    known_vars = [ENV_PREFIX + k.upper() for k in Settings.model_fields]
    for var in sorted(env):
        if var.startswith(ENV_PREFIX) and var not in known_vars:
            known = ", ".join(known_vars)
            raise ConfigError(
                f"unknown environment variable {var}",
                hint=f"unset it or use one of: {known}",
            )
    layers.append(("env", env_layer))
    layers.append(("flag", {k: v for k, v in (flags or {}).items() if v is not None}))

    values: dict[str, Any] = {}
    origins = dict.fromkeys(Settings.model_fields, "default")
    for origin, layer in layers:
        for key, value in layer.items():
            values[key] = value
            origins[key] = env_origin[key] if origin == "env" else origin
    try:
        settings = Settings.model_validate(values)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = str(err["loc"][0]) if err["loc"] else "<settings>"
        source = origins.get(key, "?")
        raise ConfigError(
            f"invalid value for '{key}' = {values.get(key)!r} (from {source}): "
            f"{err['msg'].removeprefix('Value error, ')}",
            hint=_allowed(key),
        ) from exc
    return LoadedSettings(settings=settings, origins=origins)


_BOUNDS = (("gt", ">"), ("ge", ">="), ("lt", "<"), ("le", "<="), ("min_length", "of length >="))


def _allowed(key: str) -> str | None:
    """One sentence describing what ``key`` accepts (type, bounds, choices)."""
    field = Settings.model_fields.get(key)
    if field is None:
        return None
    ann = field.annotation
    kinds: dict[Any, str] = {int: "an integer", float: "a number", bool: "true or false"}
    kind = kinds.get(ann, "a string")
    if key == "log_format":
        kind = "one of 'human', 'json'"
    elif key in {"data_dir", "model_cache_dir"}:
        kind = "a directory path"
    elif key == "camera_file":
        kind = "a file path"
    elif key == "subject_rule":
        kind = "largest, most_central, longest_track, most_present or an integer track id"
    bounds = []
    for meta in field.metadata:
        for attr, sym in _BOUNDS:
            value = getattr(meta, attr, None)
            if value is not None:
                bounds.append(f"{sym} {value}")
    allowed = kind
    if bounds:
        allowed += " " + " and ".join(bounds)
    return f"'{key}' must be {allowed}: {field.description}"
