"""Pose2Sim's OpenSim setup files, fetched from the pinned ``pose2sim==0.10.49`` wheel.

Like the demo clip (:mod:`neuropose.samples`), the files are taken out of a
PyPI wheel with ``pip download`` (nothing is installed): the wheel's SHA-256
is checked, then each named file's SHA-256, then the ``Geometry/`` folder's
manifest (``sha256  name`` lines, sorted) against a pinned hash. Files:
``Model_Pose2Sim_simple.osim`` (the full-body model), ``Markers_BlazePose.xml``
(its BlazePose marker set), ``Scaling_Setup_Pose2Sim_Blazepose.xml``,
``IK_Setup_Pose2Sim_Blazepose.xml`` and ``Geometry/`` (bone meshes, only for
viewing the model). BSD-3-Clause, © David Pagnon and Pose2Sim contributors.
"""

from __future__ import annotations

import hashlib
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from neuropose.io import sha256_file, write_bytes_atomic
from neuropose.wheels import WheelFetchError, extract_member, pip_download

__all__ = ["POSE2SIM_SETUP", "SetupFiles", "fetch_setup_files"]

_PREFIX = "Pose2Sim/OpenSim_Setup/"
_GEOMETRY = _PREFIX + "Geometry/"


@dataclass(frozen=True)
class SetupFiles:
    """The verified local copies (all in one directory)."""

    directory: Path
    model: Path
    markers: Path
    scaling: Path
    ik: Path
    geometry: Path
    hashes: dict[str, str]


@dataclass(frozen=True)
class _Pinned:
    requirement: str
    wheel_sha256: str
    members: dict[str, str]
    geometry_manifest_sha256: str
    geometry_files: int
    licence: str


POSE2SIM_SETUP = _Pinned(
    requirement="pose2sim==0.10.49",
    wheel_sha256="403e0dc4065898ba6a595e72a8970950310979253d60e24c2e00b16b36bf21e1",
    members={
        "Model_Pose2Sim_simple.osim": (
            "0b25e3efb09f1a6e8c35dbc9a90afe7248895cc74263e3f4f0dbd29519034707"
        ),
        "Markers_BlazePose.xml": "0de8eb64eaa25683caa4d6a9ddf1430009e56233faa4faad91e65b49cf2578a0",
        "Scaling_Setup_Pose2Sim_Blazepose.xml": (
            "a2ef85eca690d04697d3f328fda9c1cb9d978c750080de458d97d8a15b682e85"
        ),
        "IK_Setup_Pose2Sim_Blazepose.xml": (
            "2ca03a9c9add43e83eda3f62cd6f749e06d271f9e6351a343e6f3cc94e3ac314"
        ),
    },
    geometry_manifest_sha256="1e2ede860d1f3675e4a8b851726823ed17a1bc379b518d7d29b5e9cb8ab35fe4",
    geometry_files=215,
    licence="BSD-3-Clause, © David Pagnon and Pose2Sim contributors",
)


def _manifest(entries: dict[str, str]) -> str:
    return "".join(f"{h}  {n}\n" for n, h in sorted(entries.items()))


def _files(directory: Path) -> SetupFiles:
    pinned = POSE2SIM_SETUP
    hashes = dict(pinned.members)
    hashes["Geometry/ (manifest)"] = pinned.geometry_manifest_sha256
    return SetupFiles(
        directory=directory,
        model=directory / "Model_Pose2Sim_simple.osim",
        markers=directory / "Markers_BlazePose.xml",
        scaling=directory / "Scaling_Setup_Pose2Sim_Blazepose.xml",
        ik=directory / "IK_Setup_Pose2Sim_Blazepose.xml",
        geometry=directory / "Geometry",
        hashes=hashes,
    )


def _complete(directory: Path) -> bool:
    pinned = POSE2SIM_SETUP
    for name, sha in pinned.members.items():
        p = directory / name
        if not p.is_file() or sha256_file(p) != sha:
            return False
    manifest = directory / "Geometry" / ".manifest"
    return manifest.is_file() and (
        hashlib.sha256(manifest.read_bytes()).hexdigest() == pinned.geometry_manifest_sha256
    )


def fetch_setup_files(cache_dir: Path) -> SetupFiles:
    """Verified setup files under ``cache_dir/pose2sim-0.10.49/``, fetched when absent.

    Raises
    ------
    neuropose.wheels.WheelFetchError
        Offline, or a hash did not match (exit code 4); nothing unverified
        is left in place.
    """
    pinned = POSE2SIM_SETUP
    directory = cache_dir / pinned.requirement.replace("==", "-")
    if _complete(directory):
        return _files(directory)
    with tempfile.TemporaryDirectory(prefix="neuropose-wheel-") as tmp:
        wheel = pip_download(pinned.requirement, Path(tmp), wheel_sha256=pinned.wheel_sha256)
        for name, sha in pinned.members.items():
            extract_member(wheel, _PREFIX + name, directory / name, sha256=sha)
        _extract_geometry(wheel, directory / "Geometry")
    return _files(directory)


def _extract_geometry(wheel: Path, target: Path) -> None:
    pinned = POSE2SIM_SETUP
    with zipfile.ZipFile(wheel) as zf:
        members = [n for n in zf.namelist() if n.startswith(_GEOMETRY) and not n.endswith("/")]
        blobs = {n[len(_GEOMETRY) :]: zf.read(n) for n in members}
    entries = {n: hashlib.sha256(b).hexdigest() for n, b in blobs.items()}
    manifest = _manifest(entries)
    got = hashlib.sha256(manifest.encode()).hexdigest()
    if got != pinned.geometry_manifest_sha256 or len(entries) != pinned.geometry_files:
        raise WheelFetchError(
            f"Geometry/ in {wheel.name} has manifest sha256 {got} ({len(entries)} files), "
            f"expected {pinned.geometry_manifest_sha256} ({pinned.geometry_files} files)"
        )
    target.mkdir(parents=True, exist_ok=True)
    for name, data in blobs.items():
        write_bytes_atomic(target / name, data)
    write_bytes_atomic(target / ".manifest", manifest.encode())  # written last: marks completion
