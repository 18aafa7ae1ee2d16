"""`neuropose --version`, `neuropose config show` and every configuration layer.

Precedence under test (highest first): flags > NEUROPOSE_* env > --config TOML
> defaults. Every expected failure must exit 2 with a message naming the
key/value/source, and without a traceback unless -v is given.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest

import neuropose
from neuropose.config import Settings

RunCli = Callable[..., tuple[int, str, str]]


def _show_json(run_cli: RunCli, *argv: str) -> dict[str, dict[str, object]]:
    code, out, err = run_cli(*argv, "config", "show", "--json")
    assert code == 0, err
    data: dict[str, dict[str, object]] = json.loads(out)
    return data


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# --- --version and config show ---------------------------------------------------


def test_version_flag_prints_installed_version(cli_subprocess) -> None:
    proc = cli_subprocess("--version")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"neuropose {neuropose.__version__}"
    assert neuropose.__version__ != "0.0.0+unknown"


def test_config_show_defaults_come_from_xdg_and_say_default(
    run_cli: RunCli, clean_env: Path
) -> None:
    shown = _show_json(run_cli)
    assert set(shown) == set(Settings.model_fields)
    assert {entry["source"] for entry in shown.values()} == {"default"}
    assert shown["data_dir"]["value"] == str(clean_env / "neuropose" / "jobs")
    assert shown["model_cache_dir"]["value"] == str(clean_env / "neuropose" / "models")
    assert shown["batch_size"]["value"] == 8
    assert shown["require_ready_marker"]["value"] is False
    assert shown["camera_file"]["value"] is None


def test_config_show_table_lists_every_key_with_its_source(
    run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEUROPOSE_BATCH_SIZE", "4")
    code, out, err = run_cli("config", "show")
    assert code == 0, err
    assert "source" in out
    for key in Settings.model_fields:
        assert key in out
    batch_line = next(line for line in out.splitlines() if "batch_size" in line)
    assert "4" in batch_line and "env:NEUROPOSE_BATCH_SIZE" in batch_line
    fov_line = next(line for line in out.splitlines() if "fov_degrees" in line)
    assert "55.0" in fov_line and "default" in fov_line


def test_config_show_masks_the_monitor_token(
    run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEUROPOSE_MONITOR_TOKEN", "s3cret-token")
    code, out, err = run_cli("config", "show", "--json")
    assert code == 0, err
    assert "s3cret-token" not in out
    assert json.loads(out)["monitor_token"] == {
        "value": "********",
        "source": "env:NEUROPOSE_MONITOR_TOKEN",
    }


# --- precedence ---------------------------------------------------------------------


def test_toml_file_overrides_defaults(run_cli: RunCli, tmp_path: Path) -> None:
    cfg = _write(tmp_path / "np.toml", "batch_size = 3\nfov_degrees = 70.5\n")
    shown = _show_json(run_cli, "--config", str(cfg))
    assert shown["batch_size"] == {"value": 3, "source": f"file:{cfg}"}
    assert shown["fov_degrees"] == {"value": 70.5, "source": f"file:{cfg}"}
    assert shown["prefetch_frames"] == {"value": 16, "source": "default"}


def test_env_overrides_toml_file(
    run_cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = _write(tmp_path / "np.toml", "batch_size = 3\nprefetch_frames = 32\n")
    monkeypatch.setenv("NEUROPOSE_BATCH_SIZE", "5")
    shown = _show_json(run_cli, "--config", str(cfg))
    assert shown["batch_size"] == {"value": 5, "source": "env:NEUROPOSE_BATCH_SIZE"}
    assert shown["prefetch_frames"] == {"value": 32, "source": f"file:{cfg}"}


def test_flag_overrides_env_and_file(
    run_cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = _write(tmp_path / "np.toml", 'log_format = "human"\n')
    monkeypatch.setenv("NEUROPOSE_LOG_FORMAT", "human")
    shown = _show_json(run_cli, "--config", str(cfg), "--log-format", "json")
    assert shown["log_format"] == {"value": "json", "source": "flag"}
    # Without the flag, env beats the file; without env, the file beats the default.
    monkeypatch.setenv("NEUROPOSE_LOG_FORMAT", "json")
    cfg.write_text('log_format = "human"\n')
    assert _show_json(run_cli, "--config", str(cfg))["log_format"] == {
        "value": "json",
        "source": "env:NEUROPOSE_LOG_FORMAT",
    }
    monkeypatch.delenv("NEUROPOSE_LOG_FORMAT")
    cfg.write_text('log_format = "json"\n')
    assert _show_json(run_cli, "--config", str(cfg))["log_format"] == {
        "value": "json",
        "source": f"file:{cfg}",
    }


def test_all_four_layers_through_load_settings(tmp_path: Path, clean_env: Path) -> None:
    from neuropose.config import load_settings

    cfg = _write(tmp_path / "np.toml", "batch_size = 3\nprefetch_frames = 32\nnum_threads = 4\n")
    env = {"NEUROPOSE_BATCH_SIZE": "5", "NEUROPOSE_PREFETCH_FRAMES": "64"}
    loaded = load_settings(cfg, flags={"batch_size": 7, "max_persons": None}, environ=env)
    s = loaded.settings
    assert (s.batch_size, s.prefetch_frames, s.num_threads, s.max_persons) == (7, 64, 4, 1)
    assert loaded.origins["batch_size"] == "flag"
    assert loaded.origins["prefetch_frames"] == "env:NEUROPOSE_PREFETCH_FRAMES"
    assert loaded.origins["num_threads"] == f"file:{cfg}"
    assert loaded.origins["max_persons"] == "default"


def test_relative_paths_in_toml_resolve_against_the_file(
    run_cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = _write(
        tmp_path / "project" / "conf" / "np.toml",
        'data_dir = "../jobs"\nmodel_cache_dir = "models"\ncamera_file = "cam.toml"\n',
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    shown = _show_json(run_cli, "--config", str(cfg))
    assert shown["data_dir"]["value"] == str((tmp_path / "project" / "jobs").resolve())
    assert shown["model_cache_dir"]["value"] == str((cfg.parent / "models").resolve())
    assert shown["camera_file"]["value"] == str((cfg.parent / "cam.toml").resolve())


def test_tilde_expands_to_home(
    run_cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("NEUROPOSE_DATA_DIR", "~/np-jobs")
    shown = _show_json(run_cli)
    assert shown["data_dir"]["value"] == str(tmp_path / "home" / "np-jobs")


# --- errors ---------------------------------------------------------------------------


def test_invalid_env_value_names_key_value_source_and_allowed(
    run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEUROPOSE_BATCH_SIZE", "0")
    code, out, err = run_cli("config", "show")
    assert code == 2
    assert out == ""
    assert "'batch_size'" in err and "'0'" in err
    assert "env:NEUROPOSE_BATCH_SIZE" in err
    assert "an integer >= 1 and <= 256" in err
    assert "Traceback" not in err


def test_a_bad_setting_does_not_hide_help_but_fails_the_command(
    run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEUROPOSE_BATCH_SIZE", "0")
    code, out, err = run_cli("status", "--help")
    assert code == 0, err
    assert "Usage: neuropose status" in out
    code, out, err = run_cli("status")
    assert code == 2
    assert "'batch_size'" in err and "Traceback" not in err


def test_invalid_file_value_names_the_file(run_cli: RunCli, tmp_path: Path) -> None:
    cfg = _write(tmp_path / "np.toml", "fov_degrees = 200\n")
    code, _, err = run_cli("--config", str(cfg), "config", "show")
    assert code == 2
    assert "'fov_degrees' = 200" in err
    assert f"file:{cfg}" in err
    assert "a number > 0.0 and < 180.0" in err or "a number > 0 and < 180" in err


def test_invalid_flag_value_lists_choices(run_cli: RunCli) -> None:
    code, _, err = run_cli("--log-format", "xml", "config", "show")
    assert code == 2
    assert "'log_format' = 'xml' (from flag)" in err
    assert "'human', 'json'" in err


def test_wrong_type_in_toml_is_rejected(run_cli: RunCli, tmp_path: Path) -> None:
    cfg = _write(tmp_path / "np.toml", 'require_ready_marker = "perhaps"\n')
    code, _, err = run_cli("--config", str(cfg), "config", "show")
    assert code == 2
    assert "'require_ready_marker' = 'perhaps'" in err
    assert "true or false" in err


def test_unknown_toml_key_is_named(run_cli: RunCli, tmp_path: Path) -> None:
    cfg = _write(tmp_path / "np.toml", "batch_size = 2\nbatchsize = 4\n")
    code, _, err = run_cli("--config", str(cfg), "config", "show")
    assert code == 2
    assert f"config file {cfg}: unknown key 'batchsize'" in err
    assert "config.example.toml" in err


def test_unknown_toml_table_is_named(run_cli: RunCli, tmp_path: Path) -> None:
    cfg = _write(tmp_path / "np.toml", "[monitor]\nport = 9000\n")
    code, _, err = run_cli("--config", str(cfg), "config", "show")
    assert code == 2
    assert "unknown key 'monitor'" in err


def test_unknown_env_var_is_named(run_cli: RunCli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEUROPOSE_BATCH_SIZ", "4")
    code, _, err = run_cli("config", "show")
    assert code == 2
    assert "unknown environment variable NEUROPOSE_BATCH_SIZ" in err
    assert "NEUROPOSE_BATCH_SIZE" in err  # the hint lists the real names


def test_missing_config_file(run_cli: RunCli, tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    code, out, err = run_cli("--config", str(missing), "config", "show")
    assert code == 2
    assert out == ""
    assert f"config file {missing} does not exist" in err


def test_invalid_toml_names_file_and_line(run_cli: RunCli, tmp_path: Path) -> None:
    cfg = _write(tmp_path / "np.toml", "batch_size = 2\nfov_degrees = = 3\n")
    code, _, err = run_cli("--config", str(cfg), "config", "show")
    assert code == 2
    assert f"config file {cfg} is not valid TOML" in err
    assert "line 2" in err


def test_config_error_in_subprocess_has_no_traceback_unless_verbose(
    cli_subprocess, tmp_path: Path
) -> None:
    cfg = _write(tmp_path / "np.toml", "bogus_key = 1\n")
    quiet = cli_subprocess("--config", str(cfg), "config", "show")
    assert quiet.returncode == 2
    assert "unknown key 'bogus_key'" in quiet.stderr
    assert "Traceback" not in quiet.stderr
    assert quiet.stdout == ""
    loud = cli_subprocess("-v", "--config", str(cfg), "config", "show")
    assert loud.returncode == 2
    assert "Traceback (most recent call last)" in loud.stderr
    assert "ConfigError" in loud.stderr
    assert "unknown key 'bogus_key'" in loud.stderr


# --- config.example.toml --------------------------------------------------------------

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"
#: Keys whose default is not a fixed TOML value (XDG-dependent or unset):
#: they must appear commented out.
COMMENTED = {"data_dir", "model_cache_dir", "camera_file", "monitor_token", "ray_address"}


def test_example_config_lists_every_key_with_its_default(clean_env: Path) -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    active = tomllib.loads(text)
    defaults = Settings().model_dump(mode="json")
    assert set(active) == set(Settings.model_fields) - COMMENTED
    for key, value in active.items():
        assert value == defaults[key], f"{key} = {value!r} but the default is {defaults[key]!r}"
    lines = text.splitlines()
    for key in COMMENTED:
        assert any(line.startswith(f"# {key} = ") for line in lines), f"{key} missing"

    # Every key is preceded by a comment line explaining it (not by another key).
    def key_of(line: str) -> str | None:
        name = line.removeprefix("# ").split(" = ")[0]
        return name if " = " in line and name in Settings.model_fields else None

    for i, line in enumerate(lines):
        if key_of(line):
            above = lines[i - 1]
            assert above.startswith("# ") and key_of(above) is None, f"{line!r} is unexplained"


def test_example_config_is_accepted_by_the_cli(run_cli: RunCli, clean_env: Path) -> None:
    shown = _show_json(run_cli, "--config", str(EXAMPLE))
    assert shown["batch_size"]["source"] == f"file:{EXAMPLE}"
    jobs = str(clean_env / "neuropose" / "jobs")
    assert shown["data_dir"] == {"value": jobs, "source": "default"}


def test_configuration_doc_has_a_row_for_every_key() -> None:
    doc = (EXAMPLE.parent / "docs" / "configuration.md").read_text(encoding="utf-8")
    missing = [key for key in Settings.model_fields if f"| `{key}` |" not in doc]
    assert missing == [], f"docs/configuration.md lacks rows for {missing}"


def test_command_flags_are_the_top_layer(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from neuropose.cli.app import CliState
    from neuropose.errors import ConfigError

    monkeypatch.setenv("NEUROPOSE_BATCH_SIZE", "5")
    st = CliState()
    loaded = st.load(batch_size=3, max_persons=None)  # None = flag not given
    assert (loaded.settings.batch_size, loaded.origins["batch_size"]) == (3, "flag")
    assert loaded.origins["max_persons"] == "default"
    assert st.load(batch_size=3) is loaded  # one load per distinct set of flags
    with pytest.raises(ConfigError, match=r"'batch_size' = \[3\] \(from flag\)"):
        st.load(batch_size=[3])  # unhashable values are validated, not a crash


def test_empty_values_unset_optional_keys_and_are_refused_for_directories(
    run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEUROPOSE_CAMERA_FILE", "")
    shown = _show_json(run_cli)
    assert shown["camera_file"] == {"value": None, "source": "env:NEUROPOSE_CAMERA_FILE"}
    monkeypatch.setenv("NEUROPOSE_DATA_DIR", "")
    code, _, err = run_cli("config", "show")
    assert code == 2
    assert "'data_dir' = '' (from env:NEUROPOSE_DATA_DIR): must not be empty" in err


def test_unreadable_config_files_are_errors_not_tracebacks(run_cli: RunCli, tmp_path: Path) -> None:
    code, _, err = run_cli("--config", str(tmp_path), "config", "show")
    assert code == 2
    assert f"config file {tmp_path} cannot be read: Is a directory" in err
    binary = tmp_path / "np.toml"
    binary.write_bytes(b"\xff\xfe= 1")
    code, _, err = run_cli("--config", str(binary), "config", "show")
    assert code == 2
    assert f"config file {binary} is not UTF-8 text" in err
    assert "Traceback" not in err


def test_every_setting_has_a_description() -> None:
    undocumented = [
        k for k, f in Settings.model_fields.items() if not (f.description or "").strip()
    ]
    assert undocumented == []
