"""The one place NeuroPose touches a TFLite runtime.

``.tflite`` models run on LiteRT (the ``ai-edge-litert`` wheel: TensorFlow's
successor runtime for TFLite, with the same XNNPACK CPU delegate), so the
default model never imports TensorFlow. ``engine="tensorflow"`` runs the same
file through ``tf.lite.Interpreter`` (deprecated by TensorFlow in favour of
LiteRT); it exists so a test can show both engines give bit-identical
outputs. Callers see nothing but :class:`TFLiteRunner`.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any, Literal

import numpy as np

from neuropose.models.errors import ModelLoadError, RuntimeMissingError

__all__ = ["ENGINES", "TFLiteRunner"]

logger = logging.getLogger(__name__)

#: The TFLite engines :class:`TFLiteRunner` accepts.
ENGINES = ("litert", "tensorflow")


def _interpreter_class(engine: str, path: Path) -> Any:
    if engine == "litert":
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError as exc:
            raise RuntimeMissingError(
                f"LiteRT (package ai-edge-litert) is needed to run {path.name}: {exc}",
                hint="pip install ai-edge-litert (a dependency of neuropose: reinstall it)",
            ) from exc
        return Interpreter
    if engine == "tensorflow":
        try:
            import tensorflow as tf
        except ImportError as exc:
            raise RuntimeMissingError(
                f"TensorFlow is needed for engine='tensorflow': {exc}",
                hint="pip install 'neuropose[metrabs]'",
            ) from exc
        return tf.lite.Interpreter
    raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")


class TFLiteRunner:
    """A single-input TFLite model with float32 input and outputs.

    Parameters
    ----------
    path : Path
        The ``.tflite`` file.
    num_threads : int
        CPU threads for XNNPACK.
    engine : {"litert", "tensorflow"}
        The runtime; ``"litert"`` (default) never imports TensorFlow.

    Attributes
    ----------
    input_shape : tuple of int
        Shape of the single input tensor, e.g. ``(1, 224, 224, 3)``.
    output_shapes : list of tuple of int
        Shapes of the outputs in the order :meth:`run` returns them.

    Raises
    ------
    RuntimeMissingError
        The engine's package is not installed (exit 4; the hint names it).
    ModelLoadError
        ``path`` is not a loadable TFLite model, or has more than one input.
    """

    def __init__(
        self, path: Path, num_threads: int, engine: Literal["litert", "tensorflow"] = "litert"
    ) -> None:
        interpreter = _interpreter_class(engine, path)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                self._interp = interpreter(model_path=str(path), num_threads=num_threads)
                self._interp.allocate_tensors()
            except (ValueError, RuntimeError) as exc:
                raise ModelLoadError(
                    f"{path} is not a loadable TFLite model: {exc}",
                    hint="re-fetch the model with --force",
                ) from exc
        inputs = self._interp.get_input_details()
        if len(inputs) != 1:
            raise ModelLoadError(f"{path}: expected 1 input tensor, found {len(inputs)}")
        self.engine = engine
        self._input_index = int(inputs[0]["index"])
        self.input_shape = tuple(int(d) for d in inputs[0]["shape"])
        self._outputs = self._interp.get_output_details()
        self.output_shapes = [tuple(int(d) for d in o["shape"]) for o in self._outputs]
        logger.debug("loaded %s on %s with %d threads", path.name, engine, num_threads)

    def run(self, x: np.ndarray) -> list[np.ndarray]:
        """Run the model on ``x`` (float32, :attr:`input_shape`); copies of the outputs."""
        self._interp.set_tensor(self._input_index, np.ascontiguousarray(x, dtype=np.float32))
        self._interp.invoke()
        return [self._interp.get_tensor(o["index"]) for o in self._outputs]
