"""The one place NeuroPose touches a TFLite runtime.

Today this wraps ``tf.lite.Interpreter`` (TensorFlow's bundled runtime with
the XNNPACK CPU delegate). TensorFlow marks that interpreter deprecated in
favour of ``ai_edge_litert``; switching is a change to this file only, since
callers see nothing but :class:`TFLiteRunner`.
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path

import numpy as np

from neuropose.models.errors import ModelLoadError

__all__ = ["TFLiteRunner"]

logger = logging.getLogger(__name__)


class TFLiteRunner:
    """A single-input TFLite model with float32 input and outputs.

    Parameters
    ----------
    path : Path
        The ``.tflite`` file.
    num_threads : int
        CPU threads for XNNPACK.

    Attributes
    ----------
    input_shape : tuple of int
        Shape of the single input tensor, e.g. ``(1, 224, 224, 3)``.
    output_shapes : list of tuple of int
        Shapes of the outputs in the order :meth:`run` returns them.
    """

    def __init__(self, path: Path, num_threads: int) -> None:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        try:
            import tensorflow as tf
        except ImportError as exc:  # pragma: no cover - tensorflow is a dependency
            raise ModelLoadError(f"TensorFlow is needed to run {path.name}: {exc}") from exc
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                self._interp = tf.lite.Interpreter(model_path=str(path), num_threads=num_threads)
                self._interp.allocate_tensors()
            except (ValueError, RuntimeError) as exc:
                raise ModelLoadError(
                    f"{path} is not a loadable TFLite model: {exc}",
                    hint="re-fetch the model with --force",
                ) from exc
        inputs = self._interp.get_input_details()
        if len(inputs) != 1:
            raise ModelLoadError(f"{path}: expected 1 input tensor, found {len(inputs)}")
        self._input_index = int(inputs[0]["index"])
        self.input_shape = tuple(int(d) for d in inputs[0]["shape"])
        self._outputs = self._interp.get_output_details()
        self.output_shapes = [tuple(int(d) for d in o["shape"]) for o in self._outputs]
        logger.debug("loaded %s with %d threads", path.name, num_threads)

    def run(self, x: np.ndarray) -> list[np.ndarray]:
        """Run the model on ``x`` (float32, :attr:`input_shape`); copies of the outputs."""
        self._interp.set_tensor(self._input_index, np.ascontiguousarray(x, dtype=np.float32))
        self._interp.invoke()
        return [self._interp.get_tensor(o["index"]) for o in self._outputs]
