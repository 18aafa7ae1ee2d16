"""neuropose.wheels: pinned files out of wheels, verified, placed atomically.

The fixture wheel ``toy_pkg-1.0-py3-none-any.whl`` holds one member
``toy_pkg/data/clip.bin`` with the bytes ``b"frame" * 1000``; pip finds it
through ``--no-index --find-links`` so the real ``pip download`` subprocess
runs without a network.
"""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import pytest

from neuropose.io import sha256_file
from neuropose.wheels import WheelFetchError, extract_member, pip_download

PAYLOAD = b"frame" * 1000
MEMBER = "toy_pkg/data/clip.bin"


@pytest.fixture
def toy_wheel(tmp_path: Path) -> Path:
    index = tmp_path / "index"
    index.mkdir()
    wheel = index / "toy_pkg-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr(MEMBER, PAYLOAD)
        zf.writestr(
            "toy_pkg-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: toy-pkg\nVersion: 1.0\n"
        )
        zf.writestr(
            "toy_pkg-1.0.dist-info/WHEEL",
            "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        )
        zf.writestr("toy_pkg-1.0.dist-info/RECORD", "")
    return wheel


def test_pip_download_verifies_the_wheel_hash(toy_wheel: Path, tmp_path: Path) -> None:
    dest = tmp_path / "dl"
    dest.mkdir()
    args = ["--no-index", "--find-links", str(toy_wheel.parent)]
    got = pip_download("toy-pkg==1.0", dest, wheel_sha256=sha256_file(toy_wheel), extra_args=args)
    assert got.read_bytes() == toy_wheel.read_bytes()

    with pytest.raises(WheelFetchError, match=r"has sha256 [0-9a-f]{64}, expected 0000"):
        pip_download("toy-pkg==1.0", dest, wheel_sha256="0" * 64, extra_args=args)


def test_pip_download_failure_names_the_requirement(tmp_path: Path) -> None:
    args = ["--no-index", "--find-links", str(tmp_path)]
    with pytest.raises(WheelFetchError, match=r"pip could not download toy-pkg==9\.9"):
        pip_download("toy-pkg==9.9", tmp_path, wheel_sha256="0" * 64, extra_args=args)


def test_extract_member_checks_hash_and_leaves_nothing_on_mismatch(
    toy_wheel: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    target = out / "clip.bin"
    good = hashlib.sha256(PAYLOAD).hexdigest()
    assert extract_member(toy_wheel, MEMBER, target, sha256=good).read_bytes() == PAYLOAD

    target.write_bytes(b"previous")
    with pytest.raises(
        WheelFetchError, match=r"clip\.bin in toy_pkg-1\.0-py3-none-any\.whl has sha256"
    ):
        extract_member(toy_wheel, MEMBER, target, sha256="1" * 64)
    assert target.read_bytes() == b"previous"
    assert sorted(p.name for p in out.iterdir()) == ["clip.bin"]

    with pytest.raises(WheelFetchError, match="does not contain toy_pkg/missing"):
        extract_member(toy_wheel, "toy_pkg/missing", target, sha256=good)
