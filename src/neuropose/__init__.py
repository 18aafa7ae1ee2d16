"""NeuroPose: trustworthy 3D poses and kinematics from clinical movement videos.

The package is organised by pipeline stage: ``ingest`` stages videos into job
directories, ``interfacer`` is the daemon that runs jobs, ``estimator`` turns
a video into predictions with an injected pose model from ``models``,
``monitor`` serves the dashboard and ``analyzer`` turns predictions into
kinematics. ``schemas`` holds every persisted document and ``io`` the atomic
reads and writes. Importing this package has no side effects and never
imports TensorFlow.
"""

from __future__ import annotations

__all__ = ["__version__"]


def __getattr__(name: str) -> str:
    # The version is read from the installed metadata on first use:
    # importlib.metadata costs tens of milliseconds every command would pay.
    if name != "__version__":
        raise AttributeError(f"module 'neuropose' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        value = version("neuropose")
    except PackageNotFoundError:  # running from a source tree without installation
        value = "0.0.0+unknown"
    globals()["__version__"] = value
    return value
