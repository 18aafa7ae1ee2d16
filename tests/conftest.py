"""Fixtures shared by the whole suite.

* ``repo_root``: the project checkout. Subprocesses get ``PYTHONPATH =
  REPO_PYTHONPATH`` (this checkout's ``src`` first, then the root for
  ``tests.*`` specs), so they run this checkout's code even when another
  checkout is installed in the venv.
* ``shared_media``: ``../shared/media`` beside the checkout; tests using it are
  skipped with a reason when it is absent (it is never copied into the repo).
* ``model_cache_dir``: a model cache shared by every test of one checkout
  (``.cache/models``, git-ignored), so real weights are fetched once.
* ``artifacts_dir``: where tests save screenshots and frames for people to
  look at (``test-artifacts/``, git-ignored).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_MEDIA = REPO_ROOT.parent / "shared" / "media"
#: PYTHONPATH for subprocesses: this checkout's sources, then its root (``tests.*``).
REPO_PYTHONPATH = f"{REPO_ROOT / 'src'}{os.pathsep}{REPO_ROOT}"


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


@pytest.fixture(scope="session")
def blazepose_weights(model_cache_dir: Path) -> Path:
    """``model_cache_dir`` holding verified ``blazepose-full`` weights.

    Fetched once with ``pip download`` from the package index (or from the
    wheel named by the ``MEDIAPIPE_WHEEL`` environment variable, for offline
    machines). Every test that runs the real model, in process or through a
    ``neuropose`` subprocess given ``NEUROPOSE_MODEL_CACHE_DIR``, depends on
    this fixture, so no real-model test skips because another one had not yet
    fetched the weights. Skips with the reason only when the index cannot be
    reached.
    """
    import os

    from neuropose.models import FetchOptions, ModelFetchError, fetch_model

    wheel = os.environ.get("MEDIAPIPE_WHEEL")
    opts = FetchOptions(from_path=Path(wheel)) if wheel else FetchOptions()
    try:
        fetch_model("blazepose-full", model_cache_dir, opts)
    except ModelFetchError as exc:
        if "pip could not download" not in str(exc):
            raise  # a hash mismatch or a broken wheel is a failure, not an offline machine
        pytest.skip(f"blazepose-full weights unavailable: {exc}")
    return model_cache_dir


@pytest.fixture(scope="session")
def blazepose_model(blazepose_weights: Path):  # type: ignore[no-untyped-def]
    """``blazepose-full`` (BlazePose GHUM 3D, 33 joints, root-relative mm) ready to use.

    Weights from :func:`blazepose_weights`, loaded with 2 threads and
    ``max_persons=1``. The instance is shared by the session: call
    ``model.reset()`` before each video or image sequence.
    """
    from neuropose.config import load_settings
    from neuropose.models import load_pose_model

    settings = load_settings(
        flags={"model_cache_dir": str(blazepose_weights), "num_threads": 2, "max_persons": 1},
        environ={},
    ).settings
    model = load_pose_model("blazepose-full", settings)
    model.reset()
    return model


@pytest.fixture(autouse=True)
def _restore_neuropose_logger():
    """Undo what an in-process ``main()`` call did to the ``neuropose`` logger.

    ``configure_logging`` replaces the handlers and stops propagation, which
    would hide later tests' logs from ``caplog``.
    """
    import logging

    logger = logging.getLogger("neuropose")
    saved = (list(logger.handlers), logger.level, logger.propagate)
    yield
    logger.handlers[:], logger.level, logger.propagate = saved
