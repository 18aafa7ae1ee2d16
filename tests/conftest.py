"""Fixtures shared by the whole suite.

* ``repo_root``: the project checkout.
* ``shared_media``: ``../shared/media`` beside the checkout; tests using it are
  skipped with a reason when it is absent (it is never copied into the repo).
* ``model_cache_dir``: a model cache shared by every test of one checkout
  (``.cache/models``, git-ignored), so real weights are fetched once.
* ``artifacts_dir``: where tests save screenshots and frames for people to
  look at (``test-artifacts/``, git-ignored).
"""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_MEDIA = REPO_ROOT.parent / "shared" / "media"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def shared_media() -> Path:
    if not SHARED_MEDIA.is_dir():
        pytest.skip(f"real media not available: {SHARED_MEDIA} is absent")
    return SHARED_MEDIA


@pytest.fixture(scope="session")
def model_cache_dir() -> Path:
    path = REPO_ROOT / ".cache" / "models"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    path = REPO_ROOT / "test-artifacts"
    path.mkdir(parents=True, exist_ok=True)
    return path
