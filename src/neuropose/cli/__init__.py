"""The ``neuropose`` command line.

Every command lives in its own module under :mod:`neuropose.cli` and
registers itself on :data:`neuropose.cli.app.app`. Errors are handled once,
in :func:`main`: a :class:`~neuropose.errors.NeuroPoseError` prints
``error: <message>`` (plus its hint) and exits with the class's exit code;
``-v`` adds the traceback. Command modules import heavy libraries
(TensorFlow) only inside the functions that need them.
"""

from __future__ import annotations

import sys

from neuropose.cli.app import app, main

# Command modules register their commands on `app` when imported.
from neuropose.cli import config_cmd  # noqa: F401  isort: skip
from neuropose.cli import models_cmd  # noqa: F401  isort: skip
from neuropose.cli import watch_cmd  # noqa: F401  isort: skip
from neuropose.cli import jobs_cmd  # noqa: F401  isort: skip
from neuropose.cli import serve_cmd  # noqa: F401  isort: skip
from neuropose.cli import ingest_cmd  # noqa: F401  isort: skip
from neuropose.cli import visualize_cmd  # noqa: F401  isort: skip
from neuropose.cli import segment_cmd  # noqa: F401  isort: skip
from neuropose.cli import analyze_cmd  # noqa: F401  isort: skip
from neuropose.cli import process_cmd, benchmark_cmd  # noqa: F401  isort: skip
from neuropose.cli import demo_cmd  # noqa: F401  isort: skip
from neuropose.cli import triangulate_cmd  # noqa: F401  isort: skip
from neuropose.cli import export_cmd, opensim_cmd  # noqa: F401  isort: skip
from neuropose.cli import live_cmd  # noqa: F401  isort: skip
from neuropose.cli import signals_cmd  # noqa: F401  isort: skip

__all__ = ["app", "main"]

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
