"""The demo clip comes from the pinned pose2sim wheel on PyPI (needs PyPI)."""

from __future__ import annotations

from pathlib import Path

import pytest

from neuropose.io import sha256_file
from neuropose.samples import DEMO_CLIP, fetch_sample
from neuropose.wheels import WheelFetchError


@pytest.mark.slow
def test_demo_clip_is_fetched_verified_and_cached(tmp_path: Path, shared_media: Path) -> None:
    try:
        clip = fetch_sample(DEMO_CLIP, tmp_path)
    except WheelFetchError as exc:
        if "pip could not download" not in str(exc):
            raise  # a hash mismatch is a failure, not an offline machine
        pytest.skip(f"PyPI not reachable: {exc}")
    assert clip.name == "cam01.mp4"
    assert sha256_file(clip) == DEMO_CLIP.sha256
    # The same bytes as the lab clip in ../shared/media.
    assert clip.read_bytes() == (shared_media / "lab_single_person" / "cam01.mp4").read_bytes()
    mtime = clip.stat().st_mtime_ns
    assert fetch_sample(DEMO_CLIP, tmp_path) == clip  # cached: not downloaded again
    assert clip.stat().st_mtime_ns == mtime
