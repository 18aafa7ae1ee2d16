"""The on-disk model cache: layout, manifests, hashing, staging and locking.

Layout
------
::

    model_cache_dir/
      <name>/                    one directory per installed model
        manifest.json            ModelManifest: source, archive sha256, every file's sha256+size
        <weight files...>        e.g. pose_detection.tflite, or model/ (a SavedModel)
      .staging/<name>.<random>/  a fetch in progress (never read)
      .downloads/<file>.part     partial downloads kept for HTTP Range resume
      .locks/<name>.lock         flock held while fetching or removing <name>

Crash invariants
----------------
* A model directory is installed by renaming a complete staging directory
  (files written, fsync'd, manifest written last) onto ``<name>/``; a reader
  sees either no model or a complete one. A fetch killed half-way leaves
  only ``.staging/`` debris, removed by the next fetch of that model.
* ``--force`` re-fetches into staging first and swaps only when the new copy
  verified, so a failed re-fetch never destroys a working model.
* A model directory without a readable ``manifest.json`` is *corrupt*, never
  "not cached": it is reported with the file name and ``fetch --force``.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path

from pydantic import Field

from neuropose.datadir.lock import ExclusiveLock, LockHeldError
from neuropose.errors import InvalidDocumentError
from neuropose.io import fsync_directory, load_model, sha256_file, write_model_atomic
from neuropose.models.errors import CorruptModelError, ModelBusyError
from neuropose.schemas.base import FrozenModel
from neuropose.timefmt import utc_iso

__all__ = [
    "MANIFEST_NAME",
    "ModelManifest",
    "check_sizes",
    "combined_digest",
    "fetch_lock",
    "file_digests",
    "hash_tree",
    "install_staged",
    "model_dir",
    "model_use_lock",
    "read_manifest",
    "sha256_file",
    "staging_dir",
    "verify_hashes",
]

MANIFEST_NAME = "manifest.json"
_CHUNK = 1 << 20


class ModelManifest(FrozenModel):
    """What was installed in ``<cache>/<name>/`` and the sha256 of every file.

    Attributes
    ----------
    name : str
        Registry name of the model.
    kind : str
        Backend kind (``"blazepose"``, ``"metrabs"``).
    source : str
        Where the bytes came from (URL, pip requirement, or local path).
    archive_sha256 : str or None
        SHA-256 of the downloaded archive (wheel or tarball), if any.
    files : dict
        Path relative to the model directory → lowercase hex sha256.
    sizes : dict
        Path relative to the model directory → size in bytes.
    fetched_at : str
        ISO-8601 UTC time of installation.
    pinned : bool
        Whether the bytes were checked against a hash published in the
        registry or given with ``--sha256`` (``False`` after ``--trust-unpinned``).
    mtimes_ns : dict
        Path relative to the model directory → modification time (ns since
        the epoch) when its sha256 was last computed; with the size it lets
        :func:`file_digests` skip re-hashing an unchanged file. Empty in
        manifests written before it existed (filled in on the next load).
    """

    name: str
    kind: str
    source: str
    archive_sha256: str | None = None
    files: dict[str, str] = Field(min_length=1)
    sizes: dict[str, int]
    fetched_at: str
    pinned: bool = True
    mtimes_ns: dict[str, int] = Field(default_factory=dict)


def hash_tree(root: Path) -> tuple[dict[str, str], dict[str, int]]:
    """SHA-256 and size of every regular file under ``root`` except the manifest."""
    files: dict[str, str] = {}
    sizes: dict[str, int] = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            rel = path.relative_to(root).as_posix()
            if rel == MANIFEST_NAME:
                continue
            files[rel] = sha256_file(path)
            sizes[rel] = path.stat().st_size
    return files, sizes


def combined_digest(files: dict[str, str]) -> str:
    """One SHA-256 identifying a set of files.

    It is the SHA-256 of the UTF-8 text made of one line
    ``"<sha256>  <relative path>\\n"`` per file, sorted by path (the format of
    ``sha256sum``), so it can be reproduced with standard tools:
    ``(cd DIR && sha256sum FILES | sort -k2) | sha256sum``.
    """
    text = "".join(f"{files[k]}  {k}\n" for k in sorted(files))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def model_dir(cache_dir: Path, name: str) -> Path:
    """Directory of model ``name`` in the cache (it may not exist)."""
    return Path(cache_dir) / _safe(name)


def _safe(name: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "-_.+" else "_" for c in name)
    return cleaned.lstrip(".") or "_"


def read_manifest(directory: Path) -> ModelManifest:
    """The manifest of an installed model directory.

    Raises
    ------
    CorruptModelError
        The directory exists but its manifest is missing or invalid.
    """
    path = directory / MANIFEST_NAME
    if not path.exists():
        raise CorruptModelError(
            f"{directory} has no {MANIFEST_NAME}: the cached model is incomplete",
            hint=f"re-fetch it with `neuropose models fetch {directory.name} --force`",
        )
    try:
        return load_model(path, ModelManifest)
    except InvalidDocumentError as exc:
        raise CorruptModelError(
            f"cached model manifest is corrupt: {exc.message}",
            hint=f"re-fetch it with `neuropose models fetch {directory.name} --force`",
        ) from exc


def check_sizes(directory: Path, manifest: ModelManifest) -> None:
    """Cheap integrity check: every manifest file exists with its recorded size.

    Raises
    ------
    CorruptModelError
        Naming the first missing or wrongly sized file.
    """
    for rel, size in manifest.sizes.items():
        path = directory / rel
        if not path.is_file():
            raise CorruptModelError(
                f"cached model file {path} is missing",
                hint=f"re-fetch it with `neuropose models fetch {manifest.name} --force`",
            )
        actual = path.stat().st_size
        if actual != size:
            raise CorruptModelError(
                f"cached model file {path} has {actual} bytes, expected {size}",
                hint=f"re-fetch it with `neuropose models fetch {manifest.name} --force`",
            )


def verify_hashes(directory: Path, manifest: ModelManifest) -> None:
    """Re-hash every file of an installed model against its manifest.

    Raises
    ------
    CorruptModelError
        Naming the first file whose bytes differ.
    """
    check_sizes(directory, manifest)
    for rel, expected in manifest.files.items():
        path = directory / rel
        actual = sha256_file(path)
        if actual != expected:
            raise CorruptModelError(
                f"cached model file {path} is corrupt: sha256 {actual}, expected {expected}",
                hint=f"re-fetch it with `neuropose models fetch {manifest.name} --force`",
            )


def file_digests(directory: Path, manifest: ModelManifest, names: Iterable[str]) -> dict[str, str]:
    """SHA-256 of the installed files ``names``, read only when they changed.

    A file whose size and modification time (nanoseconds) equal those the
    manifest recorded when it was hashed gets the manifest's digest without
    being read, as ``make`` and ``git`` trust a file's stat; any other file
    is hashed. When every hashed file matched the manifest, their sizes and
    times are recorded in it (atomic rewrite; a read-only cache is left as
    it is), so the next load reads nothing. ``neuropose models verify``
    always re-hashes every byte. Missing files are left out of the result
    (the caller reports them).

    Parameters
    ----------
    directory : Path
        The installed model directory (holding ``manifest.json``).
    manifest : ModelManifest
        Its manifest, as read by :func:`read_manifest`.
    names : iterable of str
        Paths relative to ``directory``.

    Returns
    -------
    dict
        Relative path → lowercase hex sha256 of the file's current bytes.
    """
    digests: dict[str, str] = {}
    fresh: dict[str, tuple[int, int]] = {}
    for rel in names:
        try:
            st = (directory / rel).stat()
        except FileNotFoundError:
            continue
        known = manifest.files.get(rel)
        if (
            known is not None
            and manifest.sizes.get(rel) == st.st_size
            and manifest.mtimes_ns.get(rel) == st.st_mtime_ns
        ):
            digests[rel] = known
            continue
        digests[rel] = sha256_file(directory / rel)
        fresh[rel] = (st.st_size, st.st_mtime_ns)
    if fresh and all(digests[rel] == manifest.files.get(rel) for rel in fresh):
        mtimes = dict(manifest.mtimes_ns)
        mtimes.update({rel: mtime for rel, (_size, mtime) in fresh.items()})
        with contextlib.suppress(OSError):
            write_model_atomic(
                directory / MANIFEST_NAME, manifest.model_copy(update={"mtimes_ns": mtimes})
            )
    return digests


@contextlib.contextmanager
def fetch_lock(cache_dir: Path, name: str, *, wait_s: float = 3600.0) -> Iterator[None]:
    """Hold the per-model lock (fetch/remove) for the duration of the block.

    A second fetcher of the same model waits up to ``wait_s`` seconds, then
    raises :class:`ModelBusyError`. Different models never block each other.
    """
    locks = Path(cache_dir) / ".locks"
    locks.mkdir(parents=True, exist_ok=True)
    lock = ExclusiveLock(locks / f"{_safe(name)}.lock", purpose=f"fetch {name}", wait_s=wait_s)
    try:
        lock.acquire()
    except LockHeldError as exc:
        raise ModelBusyError(
            f"model {name!r} is being fetched or removed by another process ({exc.message})",
            hint="wait for it to finish, then retry",
        ) from None
    try:
        yield
    finally:
        lock.release()


def model_use_lock(cache_dir: Path, spec: str, purpose: str) -> ExclusiveLock | None:
    """The (not yet acquired) lock a process holds while the model of ``spec`` is loaded.

    ``neuropose watch`` and ``neuropose live`` take it so that one machine
    never runs the same model twice at once; the refused one's
    :class:`~neuropose.datadir.lock.LockHeldError` (exit 3) names the holder's
    pid, host and ``purpose``. The file is ``<cache>/.locks/<model>.inuse.lock``
    where ``<model>`` is the spec without its ``?options`` (same weights, same
    lock). ``python:`` factories (test doubles, custom research code) get
    None: they are not weights this cache manages.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> model_use_lock(d, "blazepose-full?tracking=false", "doctest").path.name
    'blazepose-full.inuse.lock'
    >>> model_use_lock(d, "python:tests.fakes:make_model", "doctest") is None
    True
    """
    if spec.startswith("python:"):
        return None
    name = spec.split("?", 1)[0]
    return ExclusiveLock(
        Path(cache_dir) / ".locks" / f"{_safe(name)}.inuse.lock",
        purpose=purpose,
        wait_s=0.2,
        make_parent=True,
        busy_hint=f"model {name!r} is loaded by another process on this machine; stop it "
        "(or wait for it to finish) before starting this one",
    )


@contextlib.contextmanager
def staging_dir(cache_dir: Path, name: str) -> Iterator[Path]:
    """A fresh, uniquely named staging directory, removed when the block ends.

    Debris of earlier interrupted fetches of ``name`` is removed first (the
    caller holds :func:`fetch_lock`, so no live fetch owns it).
    """
    root = Path(cache_dir) / ".staging"
    root.mkdir(parents=True, exist_ok=True)
    prefix = f"{_safe(name)}."
    for old in root.iterdir():
        if old.name.startswith(prefix):
            shutil.rmtree(old, ignore_errors=True)
    path = root / f"{prefix}{secrets.token_hex(8)}"
    path.mkdir()
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _fsync_tree(root: Path) -> None:
    for dirpath, _dirnames, filenames in os.walk(root):
        for fname in filenames:
            fd = os.open(os.path.join(dirpath, fname), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        fsync_directory(Path(dirpath))


def install_staged(
    cache_dir: Path,
    staged: Path,
    *,
    name: str,
    kind: str,
    source: str,
    archive_sha256: str | None,
    pinned: bool,
) -> ModelManifest:
    """Hash ``staged``, write its manifest, and atomically install it as ``<cache>/<name>``.

    An existing installation is replaced only after the new one is complete
    (renamed aside, new one renamed in, old one deleted).
    """
    files, sizes = hash_tree(staged)
    manifest = ModelManifest(
        name=name,
        kind=kind,
        source=source,
        archive_sha256=archive_sha256,
        files=files,
        sizes=sizes,
        fetched_at=utc_iso(),
        pinned=pinned,
        mtimes_ns={rel: (staged / rel).stat().st_mtime_ns for rel in files},
    )
    _fsync_tree(staged)
    write_model_atomic(staged / MANIFEST_NAME, manifest)
    target = model_dir(cache_dir, name)
    old: Path | None = None
    if target.exists():
        old = staged.parent / f"{staged.name}.old"
        os.replace(target, old)
    os.replace(staged, target)
    fsync_directory(target.parent)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    staged.mkdir()  # the staging context removes it again
    return manifest
