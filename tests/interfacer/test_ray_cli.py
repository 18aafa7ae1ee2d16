"""``watch --executor ray`` and ``doctor`` as a user runs them (no Ray cluster started here)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from tests.interfacer.conftest import FAKE_SPEC

#: The CLI of this checkout with Ray hidden, as on a machine without neuropose[ray].
NO_RAY = "import sys; sys.modules['ray'] = None; from neuropose.cli import main; sys.exit(main())"
WITH_RAY = "import sys; from neuropose.cli import main; sys.exit(main())"


def run(code: str, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_executor_ray_without_ray_installed_names_the_extra(
    data_dir: Path, daemon_env: dict[str, str]
) -> None:
    res = run(NO_RAY, daemon_env, "watch", "--once", "--executor", "ray",
              "--data-dir", str(data_dir), "--model", FAKE_SPEC)  # fmt: skip
    assert res.returncode == 4, res.stderr
    assert "executor 'ray' needs Ray, which is not installed" in res.stderr
    assert "pip install 'neuropose[ray]'" in res.stderr
    assert "Traceback" not in res.stderr
    assert not (data_dir / "neuropose.lock").exists()  # refused before taking the lock


def test_doctor_reports_a_missing_ray(data_dir: Path, daemon_env: dict[str, str]) -> None:
    env = {**daemon_env, "NEUROPOSE_EXECUTOR": "ray"}
    res = run(NO_RAY, env, "doctor", "--data-dir", str(data_dir), "--model", FAKE_SPEC)
    assert res.returncode == 1, res.stderr
    assert "FAIL ray cluster: executor is ray but Ray is not installed" in res.stdout
    assert "fix: pip install 'neuropose[ray]'" in res.stdout


@pytest.mark.parametrize(
    ("flag", "value", "key"),
    [
        ("--workers", "0", "ray_workers"),
        ("--cpus-per-worker", "0", "ray_cpus_per_worker"),
        ("--gpus-per-worker", "-1", "ray_gpus_per_worker"),
    ],
)
def test_bad_pool_settings_are_config_errors(
    data_dir: Path, daemon_env: dict[str, str], flag: str, value: str, key: str
) -> None:
    res = run(WITH_RAY, daemon_env, "watch", "--once", "--executor", "ray", flag, value,
              "--data-dir", str(data_dir))  # fmt: skip
    assert res.returncode == 2, res.stderr
    assert f"invalid value for '{key}'" in res.stderr and "(from flag)" in res.stderr
    assert "Traceback" not in res.stderr


def test_bad_executor_names_the_choices(data_dir: Path, daemon_env: dict[str, str]) -> None:
    env = {**daemon_env, "NEUROPOSE_EXECUTOR": "spark"}
    res = run(WITH_RAY, env, "watch", "--once", "--data-dir", str(data_dir))
    assert res.returncode == 2
    assert "invalid value for 'executor' = 'spark' (from env:NEUROPOSE_EXECUTOR)" in res.stderr
    assert "one of 'local', 'ray'" in res.stderr


def test_unreachable_cluster_exits_4_at_once(data_dir: Path, daemon_env: dict[str, str]) -> None:
    pytest.importorskip("ray")
    res = run(WITH_RAY, daemon_env, "watch", "--once", "--executor", "ray",
              "--ray-address", "127.0.0.1:1", "--data-dir", str(data_dir),
              "--model", FAKE_SPEC)  # fmt: skip
    assert res.returncode == 4, res.stderr
    assert "ray head reachable: nothing answers at 127.0.0.1:1" in res.stderr
    assert "ray start --head" in res.stderr and "Traceback" not in res.stderr
    assert "watching" not in res.stderr  # refused at start, not when the first job comes


def test_doctor_checks_the_cluster(data_dir: Path, daemon_env: dict[str, str]) -> None:
    pytest.importorskip("ray")
    env = {**daemon_env, "NEUROPOSE_EXECUTOR": "ray", "NEUROPOSE_RAY_CPUS_PER_WORKER": "0.5"}
    res = run(WITH_RAY, env, "doctor", "--data-dir", str(data_dir), "--model", FAKE_SPEC)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "ok   ray cluster: local Ray instance:" in res.stdout
    assert "2 workers need 1 CPU, 0 GPU" in res.stdout
    env["NEUROPOSE_RAY_ADDRESS"] = "127.0.0.1:1"
    res = run(WITH_RAY, env, "doctor", "--data-dir", str(data_dir), "--model", FAKE_SPEC)
    assert res.returncode == 1
    assert "FAIL ray cluster: nothing answers at 127.0.0.1:1" in res.stdout
    env["NEUROPOSE_RAY_ADDRESS"] = ""
    env["NEUROPOSE_RAY_WORKERS"] = "1000"
    res = run(WITH_RAY, env, "doctor", "--data-dir", str(data_dir), "--model", FAKE_SPEC)
    assert res.returncode == 1
    assert "1000 workers need 500 CPU" in res.stdout
