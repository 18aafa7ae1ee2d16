"""Base classes and the compact array type shared by every schema.

Array encoding
--------------
Large numeric arrays (poses, boxes, timestamps) are stored in JSON as
``{"dtype": "float32", "shape": [N, J, 3], "data": "<base64>"}`` where
``data`` is the array's bytes in C order, little-endian. Any language reads
them with a base64 decoder and a typed-array view; NumPy does it with
``np.frombuffer(base64.b64decode(data), dtype).reshape(shape)``. This keeps a
10-minute, 30 fps results file near 20 MB and loads it in a fraction of a
second, where nested JSON lists would be slower to parse and validate. On
input, plain nested lists are also accepted (hand-written files, tests).
NaN is allowed inside arrays and means "no value" (for example a joint that
was not estimated).
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, PlainValidator

if TYPE_CHECKING:
    import numpy as np

__all__ = ["Document", "FrozenModel", "array_field"]  # and NDArray, built on first use

_DTYPES = {"float32", "float64", "int32", "int64", "uint8", "bool"}


class FrozenModel(BaseModel):
    """Immutable model that rejects unknown fields.

    Equality compares the JSON form, so models holding NumPy arrays compare
    by value.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, BaseModel)
        return self.model_dump(mode="json") == other.model_dump(mode="json")

    def __hash__(self) -> int:  # frozen models stay usable as dict keys
        return hash(self.model_dump_json())


class Document(FrozenModel):
    """A top-level persisted document with a ``schema_version``.

    Subclasses set :attr:`SCHEMA_VERSION`; loading a document with a higher
    version raises :class:`~neuropose.errors.FutureSchemaError`, a lower one
    is migrated by :mod:`neuropose.schemas.migrations`.
    """

    SCHEMA_VERSION: ClassVar[int] = 1
    schema_version: int = Field(default=1, description="Version of this document's schema.")

    def model_post_init(self, __context: Any) -> None:
        if self.schema_version != self.SCHEMA_VERSION:
            raise ValueError(
                f"schema_version {self.schema_version} is not the current "
                f"{self.SCHEMA_VERSION}; load the file with neuropose.io.load_model to migrate it"
            )


def _decode(value: Any, dtype: str, ndim: int | None, tail: tuple[int, ...]) -> np.ndarray:
    import numpy as np  # here, not at import: status files and settings need no NumPy

    if isinstance(value, np.ndarray):
        arr = value
    elif isinstance(value, dict):
        try:
            stored = value["dtype"]
            shape = tuple(int(s) for s in value["shape"])
            data = base64.b64decode(value["data"], validate=True)
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(
                "an encoded array needs 'dtype', 'shape' (list of ints) and base64 'data'"
            ) from exc
        if stored not in _DTYPES:
            raise ValueError(f"unsupported array dtype {stored!r}")
        expected = int(np.prod(shape, dtype=np.int64)) * np.dtype(stored).itemsize
        if len(data) != expected:
            raise ValueError(
                f"array data has {len(data)} bytes but shape {list(shape)} of {stored} "
                f"needs {expected}"
            )
        arr = np.frombuffer(data, dtype=np.dtype(stored).newbyteorder("<")).reshape(shape)
    elif isinstance(value, list | tuple):
        try:
            arr = np.asarray(value, dtype=np.float64 if dtype.startswith("float") else None)
        except ValueError as exc:
            raise ValueError("nested lists must be rectangular") from exc
        if arr.dtype == object:
            raise ValueError("nested lists must be rectangular")
        if arr.size == 0 and ndim is not None and arr.ndim != ndim:
            arr = arr.reshape((0, *tail)) if ndim == 1 + len(tail) else arr
    else:
        raise ValueError(f"expected an array, got {type(value).__name__}")
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"expected a {ndim}-D array, got shape {list(arr.shape)}")
    if tail and tuple(arr.shape[arr.ndim - len(tail) :]) != tail:
        want = ["*"] * (arr.ndim - len(tail)) + list(tail)
        raise ValueError(f"expected shape {want}, got {list(arr.shape)}")
    _check_lossless(arr, np.dtype(dtype))
    try:
        out = np.ascontiguousarray(arr, dtype=np.dtype(dtype))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"cannot convert array to {dtype}") from exc
    if out is arr or out.base is not None:
        out = out.copy()
    out.flags.writeable = False
    return out


def _check_lossless(arr: np.ndarray, target: np.dtype[Any]) -> None:
    """Refuse conversions to an integer/bool dtype that would change values.

    Floats are allowed into float fields (float64 -> float32 rounds, as
    intended), but ``1.5`` or NaN into an ``int32`` field, or ``2**40`` into
    ``int32``, would silently become a different number.
    """
    import numpy as np

    if target.kind not in "iub" or arr.size == 0 or arr.dtype == target:
        return
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)) or np.any(arr != np.trunc(arr)):
            raise ValueError(f"expected whole numbers for a {target.name} array")
    elif arr.dtype.kind not in "iub":
        return
    if target.kind == "b":
        if np.any((arr != 0) & (arr != 1)):
            raise ValueError("expected 0/1 or true/false for a bool array")
        return
    info = np.iinfo(target)
    lo, hi = arr.min(), arr.max()
    if lo < info.min or hi > info.max:
        raise ValueError(f"values {lo}..{hi} do not fit in {target.name}")


def _encode(arr: np.ndarray) -> dict[str, Any]:
    import numpy as np

    little = np.ascontiguousarray(arr, dtype=arr.dtype.newbyteorder("<"))
    return {
        "dtype": arr.dtype.name,
        "shape": list(arr.shape),
        "data": base64.b64encode(little.tobytes()).decode("ascii"),
    }


def array_field(dtype: str, ndim: int | None = None, tail: tuple[int, ...] = ()) -> Any:
    """Annotated NumPy array type validated for dtype, rank and trailing shape.

    Parameters
    ----------
    dtype : str
        NumPy dtype name the array is converted to (``"float32"``...).
    ndim : int, optional
        Required number of dimensions.
    tail : tuple of int
        Required trailing dimensions, e.g. ``(3,)`` for 3D points.
    """
    import numpy as np

    if dtype not in _DTYPES:
        raise ValueError(dtype)
    return Annotated[
        np.ndarray,
        PlainValidator(lambda v: _decode(v, dtype, ndim, tail)),
        PlainSerializer(_encode, when_used="json"),
    ]


def __getattr__(name: str) -> Any:
    """``NDArray`` (any float32 array) is built on first use: it needs NumPy."""
    if name == "NDArray":
        return array_field("float32")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
