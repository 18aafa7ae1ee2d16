"""Helpers that build ordinary and hostile zip archives byte by byte, and snapshot trees.

``build_zip`` writes members with exact names, Unix modes and compression;
``patch_member`` then rewrites header fields the stdlib writer will not
produce (encryption flag, lying sizes, raw non-UTF-8 names) in both the local
header and the central directory, so the archive looks exactly like one a
hostile sender would craft.
"""

from __future__ import annotations

import hashlib
import os
import struct
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Member:
    """One archive member: ``name`` exactly as stored, ``data``, compression, Unix mode."""

    name: str
    data: bytes = b"video-bytes"
    compress: int = zipfile.ZIP_STORED
    mode: int | None = None  # full st_mode (file type + permissions) stored in external_attr


def build_zip(path: Path, members: list[Member]) -> Path:
    """Write ``members`` to a new zip at ``path`` (duplicate names allowed)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # duplicate names are deliberate
        with zipfile.ZipFile(path, "w") as zf:
            for m in members:
                info = zipfile.ZipInfo(m.name, date_time=(2024, 1, 2, 3, 4, 6))
                info.compress_type = m.compress
                if m.mode is not None:
                    info.external_attr = m.mode << 16
                zf.writestr(info, m.data)
    return path


def _central_records(blob: bytes) -> list[tuple[int, int]]:
    """(central record offset, local header offset) of every member, in order."""
    eocd = blob.rfind(b"PK\x05\x06")
    count = struct.unpack_from("<H", blob, eocd + 10)[0]
    offset = struct.unpack_from("<I", blob, eocd + 16)[0]
    out = []
    for _ in range(count):
        assert blob[offset : offset + 4] == b"PK\x01\x02"
        name_len, extra_len, comment_len = struct.unpack_from("<HHH", blob, offset + 28)
        local = struct.unpack_from("<I", blob, offset + 42)[0]
        out.append((offset, local))
        offset += 46 + name_len + extra_len + comment_len
    return out


def patch_member(
    path: Path,
    index: int,
    *,
    set_flags: int = 0,
    clear_flags: int = 0,
    file_size: int | None = None,
    raw_name: bytes | None = None,
) -> Path:
    """Rewrite header fields of member ``index`` in place (local + central headers).

    ``raw_name`` must have the same length as the stored name.
    """
    blob = bytearray(path.read_bytes())
    central, local = _central_records(bytes(blob))[index]
    for flags_at in (central + 8, local + 6):
        flags = struct.unpack_from("<H", blob, flags_at)[0]
        struct.pack_into("<H", blob, flags_at, (flags | set_flags) & ~clear_flags)
    if file_size is not None:
        struct.pack_into("<I", blob, central + 24, file_size)
        struct.pack_into("<I", blob, local + 22, file_size)
    if raw_name is not None:
        c_len = struct.unpack_from("<H", blob, central + 28)[0]
        l_len = struct.unpack_from("<H", blob, local + 26)[0]
        assert c_len == l_len == len(raw_name)
        blob[central + 46 : central + 46 + c_len] = raw_name
        blob[local + 30 : local + 30 + l_len] = raw_name
    path.write_bytes(bytes(blob))
    return path


def tree_state(root: Path) -> dict[str, tuple[object, ...]]:
    """Every entry under ``root``: type, and for files size, mtime and SHA-256."""
    state: dict[str, tuple[object, ...]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            rel = str(p.relative_to(root))
            st = p.lstat()
            if p.is_symlink():
                state[rel] = ("link", os.readlink(p))
            elif p.is_dir():
                state[rel] = ("dir", st.st_mode)
            else:
                digest = hashlib.sha256(p.read_bytes()).hexdigest()
                state[rel] = ("file", st.st_size, st.st_mtime_ns, digest)
    return state
