"""NeuroPose: trustworthy 3D poses and kinematics from clinical movement videos.

The package is organised by pipeline stage: ``ingest`` stages videos into job
directories, ``interfacer`` is the daemon that runs jobs, ``estimator`` turns
a video into predictions with an injected pose model from ``models``,
``monitor`` serves the dashboard and ``analyzer`` turns predictions into
kinematics. ``schemas`` holds every persisted document and ``io`` the atomic
reads and writes. Importing this package has no side effects and never
imports TensorFlow.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("neuropose")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
