"""Write computed signals to CSV, JSON or Parquet, with provenance, atomically.

Every file carries the provenance
(:class:`neuropose.schemas.signals.SignalsProvenance`): the spec and
its SHA-256, the results file and its SHA-256, the missing-detection
policy, the non-causal nodes, each node's unit, and the NeuroPose version.

Layouts
-------
CSV (``.csv``)
    Columns ``time_s, frame_index`` then one column per signal element:
    ``<name>`` for a per-frame scalar, ``<name>_x``/``_y``/``_z`` for a
    3-vector, ``<name>_<i>_x``… for larger shapes (``i`` = joint index).
    Missing values are empty cells. The provenance goes beside it in
    ``<file>.provenance.json``.
JSON (``.json``)
    ``{"format": "neuropose.signals", "provenance", "time_s", "frame_index",
    "signals": {name: per-frame values (nested lists, null = missing)}}``.
Parquet (``.parquet``, needs pyarrow: ``pip install 'neuropose[signals]'``)
    The CSV columns; the provenance JSON in the schema metadata key ``neuropose``.
"""

from __future__ import annotations

import io
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from neuropose.errors import ResourceError, UsageError
from neuropose.io import write_bytes_atomic, write_json_atomic
from neuropose.schemas.signals import SignalsProvenance

__all__ = [
    "FORMATS",
    "flat_columns",
    "provenance_path",
    "write_signals",
]

#: Output formats by file suffix.
FORMATS = (".csv", ".json", ".parquet")


def _axis_names(shape: tuple[int, ...]) -> list[str]:
    if not shape:
        return [""]
    last = ["_x", "_y", "_z"] if shape[-1] == 3 else [f"_{k}" for k in range(shape[-1])]
    heads = [""]
    for size in shape[:-1]:
        heads = [f"{h}_{i}" for h in heads for i in range(size)]
    return [h + s for h in heads for s in last]


def flat_columns(outputs: dict[str, np.ndarray]) -> list[tuple[str, np.ndarray]]:
    """One (column name, (n,) values) per element of every signal (module layout).

    Examples
    --------
    >>> out = {"a": np.zeros(2), "p": np.zeros((2, 3))}
    >>> [c for c, _ in flat_columns(out)]
    ['a', 'p_x', 'p_y', 'p_z']
    >>> flat_columns({"p": np.zeros((2, 3)), "p_x": np.zeros(2)})
    Traceback (most recent call last):
    ...
    neuropose.errors.UsageError: node 'p_x' gives column 'p_x', which is also a column of node 'p'
      hint: rename one of the nodes in the spec
    """
    cols: list[tuple[str, np.ndarray]] = []
    owner = {"time_s": "the time column", "frame_index": "the frame column"}
    for name, values in outputs.items():
        v = np.asarray(values, np.float64)
        flat = v.reshape(v.shape[0], int(np.prod(v.shape[1:])))
        for k, suffix in enumerate(_axis_names(v.shape[1:])):
            col = name + suffix
            if col in owner:
                raise UsageError(
                    f"node {name!r} gives column {col!r}, which is also {owner[col]}",
                    hint="rename one of the nodes in the spec",
                )
            owner[col] = f"a column of node {name!r}"
            cols.append((col, flat[:, k]))
    return cols


def provenance_path(csv_path: Path) -> Path:
    """The provenance file written beside a CSV output."""
    return csv_path.with_name(csv_path.name + ".provenance.json")


def _nulls(x: Any) -> Any:
    if isinstance(x, list):
        return [_nulls(v) for v in x]
    return None if isinstance(x, float) and not math.isfinite(x) else x


def _csv_bytes(times: np.ndarray, frames: np.ndarray, cols: list[tuple[str, np.ndarray]]) -> bytes:
    header = ",".join(["time_s", "frame_index", *(c for c, _ in cols)])
    data = np.column_stack([times, *(v for _, v in cols)]) if cols else times[:, None]
    fmt = "%.9f,%d" + ",%.17g" * len(cols)
    rows = [fmt % (r[0], f, *r[1:]) for r, f in zip(data.tolist(), frames.tolist(), strict=True)]
    text = "\n".join([header, *rows]) + "\n"
    # Missing values are empty cells (pandas, R and spreadsheets read them as NA).
    return text.replace(",nan", ",").encode()


def _parquet_bytes(
    times: np.ndarray, frames: np.ndarray, cols: list[tuple[str, np.ndarray]], meta: str
) -> bytes:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise ResourceError(
            "writing Parquet needs pyarrow, which is not installed",
            hint="pip install 'neuropose[signals]', or write .csv or .json",
        ) from None
    arrays = {"time_s": times, "frame_index": frames, **dict(cols)}
    table = pa.table(arrays).replace_schema_metadata({"neuropose": meta})
    buf = io.BytesIO()
    pq.write_table(table, buf)
    return buf.getvalue()


def write_signals(
    path: Path | str,
    times_s: np.ndarray,
    frame_index: np.ndarray,
    outputs: dict[str, np.ndarray],
    provenance: SignalsProvenance,
) -> list[Path]:
    """Write ``outputs`` (name → (n, …)) to ``path`` in the format of its suffix.

    Returns
    -------
    list of Path
        The files written (a CSV also writes its provenance file).

    Raises
    ------
    UsageError
        Unknown suffix.
    ResourceError
        Parquet without pyarrow (nothing is written).
    """
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in FORMATS:
        raise UsageError(
            f"{p}: unknown output format {p.suffix or '(no suffix)'!r}",
            hint=f"name the output with one of {', '.join(FORMATS)}",
        )
    times = np.asarray(times_s, np.float64)
    frames = np.asarray(frame_index, np.int64)
    prov = provenance.model_dump(mode="json")
    if suffix == ".json":
        doc = {
            "format": "neuropose.signals",
            "provenance": prov,
            "time_s": times.tolist(),
            "frame_index": frames.tolist(),
            "signals": {k: _nulls(np.asarray(v, np.float64).tolist()) for k, v in outputs.items()},
        }
        write_json_atomic(p, doc, indent=None)
        return [p]
    cols = flat_columns(outputs)
    if suffix == ".parquet":
        write_bytes_atomic(p, _parquet_bytes(times, frames, cols, json.dumps(prov)))
        return [p]
    side = provenance_path(p)
    write_json_atomic(side, prov)
    try:
        write_bytes_atomic(p, _csv_bytes(times, frames, cols))
    except BaseException:
        side.unlink(missing_ok=True)
        raise
    return [p, side]
