"""Compact storage of the raw (unrefined) landmark arrays: a rounded delta from the refined ones.

``results.json`` (``JobResults`` schema version 3) keeps the model's own
landmarks beside the refined ones so every analysis can be redone on them.
Stored as float32 they doubled the file; they are stored instead as the
difference from the refined array of the same detection, rounded to a fixed
quantum (:data:`RAW_QUANTUM`: 0.1 mm for ``poses3d_raw``, 0.01 px for
``poses2d_raw``, 1e-4 for ``confidence_raw``), as little-endian int16
compressed with zlib (level 6), base64 in JSON::

    {"encoding": "delta_int16_zlib", "reference": "poses3d", "quantum": 0.1,
     "shape": [D, J, 3], "data": "<base64>",
     "exception_index": <int64 array>, "exception_value": <float32 array>}

A value whose delta does not fit int16 (``|delta| > 32767 quanta``: a
left/right swap seen from the side can move a wrist by more than 3.3 m in
``poses3d``, or 327 px in 2D) or is not finite is stored exactly, as float32,
at its flat index in ``exception_*``. On reading, ``raw = refined + q ×
quantum`` (in float64, then float32), so a loaded raw array is within half a
quantum of what the model produced (0.05 mm, 0.005 px, 5e-5), and encoding a
loaded file again gives the same bytes. Plain float arrays (schema version 2
files) are still read unchanged.

Examples
--------
>>> import numpy as np
>>> ref = np.array([[1.0, 2.0]], np.float32)
>>> raw = np.array([[1.234, 5000.0]], np.float32)
>>> doc = encode(raw, ref, "poses2d", 0.01)
>>> doc["encoding"], decode(doc, ref).tolist()
('delta_int16_zlib', [[1.2300000190734863, 5000.0]])
"""

from __future__ import annotations

import base64
import zlib
from typing import Any

import numpy as np

from neuropose.schemas.base import _decode, _encode

__all__ = ["ENCODING", "RAW_QUANTUM", "RAW_REFERENCE", "decode", "encode", "is_encoded"]

#: Name of this encoding in the stored dict.
ENCODING = "delta_int16_zlib"
#: Quantum (unit of the stored delta) of each raw array: mm, px, confidence.
RAW_QUANTUM: dict[str, float] = {"poses3d_raw": 0.1, "poses2d_raw": 0.01, "confidence_raw": 1e-4}
#: The refined array each raw array is a delta from.
RAW_REFERENCE: dict[str, str] = {
    "poses3d_raw": "poses3d",
    "poses2d_raw": "poses2d",
    "confidence_raw": "confidence",
}
_LIMIT = 32767


def is_encoded(value: Any) -> bool:
    """True for a dict in this module's encoding."""
    return isinstance(value, dict) and value.get("encoding") == ENCODING


def encode(raw: np.ndarray, ref: np.ndarray, reference: str, quantum: float) -> dict[str, Any]:
    """``raw`` as a rounded int16 delta from ``ref`` (same shape), JSON-ready."""
    q = (raw.astype(np.float64) - ref.astype(np.float64)) / quantum
    with np.errstate(invalid="ignore"):
        q = np.rint(q)
        ok = np.isfinite(q) & (np.abs(q) <= _LIMIT)
    qi = np.where(ok, q, 0.0).astype("<i2")
    idx = np.flatnonzero(~ok).astype(np.int64)
    return {
        "encoding": ENCODING,
        "reference": reference,
        "quantum": quantum,
        "shape": list(raw.shape),
        "data": base64.b64encode(zlib.compress(qi.tobytes(), 6)).decode("ascii"),
        "exception_index": _encode(idx),
        "exception_value": _encode(raw.reshape(-1)[idx].astype(np.float32)),
    }


def decode(value: dict[str, Any], ref: np.ndarray) -> np.ndarray:
    """The float32 raw array ``value`` encodes, given its reference array ``ref``.

    Raises
    ------
    ValueError
        A malformed dict, a shape that is not the reference's, or bad data
        (pydantic reports it against the field).
    """
    try:
        shape = tuple(int(s) for s in value["shape"])
        quantum = float(value["quantum"])
        body = zlib.decompress(base64.b64decode(value["data"], validate=True))
        idx = _decode(value["exception_index"], "int64", 1, ())
        vals = _decode(value["exception_value"], "float32", 1, ())
    except (KeyError, TypeError, ValueError, zlib.error) as exc:
        raise ValueError(f"a {ENCODING} array needs shape, quantum, data, exceptions") from exc
    if shape != tuple(ref.shape):
        raise ValueError(f"shape {list(shape)} differs from its reference {list(ref.shape)}")
    n = int(np.prod(shape, dtype=np.int64))
    if len(body) != 2 * n or not quantum > 0 or idx.shape != vals.shape:
        raise ValueError(f"{ENCODING} data does not match shape {list(shape)}")
    q = np.frombuffer(body, dtype="<i2").astype(np.float64)
    out = (ref.astype(np.float64).reshape(-1) + q * quantum).astype(np.float32)
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        raise ValueError(f"{ENCODING} exception index outside the array")
    out[idx] = vals
    return out.reshape(shape)
