"""Installing model weights: verified fetching, re-verification and removal.

Fetching checks the downloaded archive's sha256 (pinned in the registry
entry, or given with ``--sha256``) and, where the entry pins them, the sha256
of every extracted file; nothing is installed unless every hash matched.
Installation goes through a staging directory and a file lock
(:mod:`neuropose.models.cache`), so concurrent fetchers and a SIGKILL never
leave a half-installed model. Entries and backends come from
:mod:`neuropose.models.registry`.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from neuropose.models import cache
from neuropose.models.errors import (
    CorruptModelError,
    ModelFetchError,
    ModelIntegrityError,
    UnpinnedModelError,
)
from neuropose.models.registry import (
    Backend,
    FetchOptions,
    ModelEntry,
    backend_for,
    get_entry,
    model_path,
    model_status,
)

__all__ = ["fetch_model", "remove_model", "verify_model"]

logger = logging.getLogger(__name__)


def verify_model(name: str, cache_dir: Path) -> cache.ModelManifest:
    """Re-hash every installed file of ``name`` against its manifest and pins.

    Raises
    ------
    CorruptModelError
        Naming the first file whose bytes or size differ, with a
        ``fetch --force`` hint.
    ModelNotCachedError
        The model is not installed.
    """
    path = model_path(name, cache_dir)
    manifest = cache.read_manifest(path)
    cache.verify_hashes(path, manifest)
    entry = get_entry(name)
    for rel, sha in entry.files.items():
        if manifest.files.get(rel) != sha:
            raise CorruptModelError(
                f"cached model file {path / rel} does not have the pinned sha256 {sha}",
                hint=f"re-fetch it with `neuropose models fetch {name} --force`",
            )
    return manifest


def fetch_model(
    name: str, cache_dir: Path, opts: FetchOptions | None = None
) -> cache.ModelManifest:
    """Download (or copy from ``opts.from_path``), verify and install ``name``.

    ``name`` may carry ``?key=value`` load options (ignored here), so the
    configured ``default_model`` can be passed as is. Concurrent fetches of
    the same model serialise on a file lock; the
    second finds the first's verified copy and returns it. Nothing is
    installed unless every hash matched.

    Raises
    ------
    UnknownModelError
        ``name`` is not registered.
    UnpinnedModelError
        No published hash and neither ``sha256`` nor ``trust_unpinned``.
    ModelFetchError
        Offline, HTTP failure, truncated or malformed archive.
    ModelIntegrityError
        A sha256 or size differs from what was expected.
    ModelBusyError
        Another process held the model's lock for too long.
    """
    opts = opts or FetchOptions()
    name = name.partition("?")[0]  # a spec's load options do not affect the weights
    entry = get_entry(name)
    backend = backend_for(entry.kind)
    expected = entry.archive_sha256
    if opts.sha256 is not None:
        given = opts.sha256.strip().lower()
        if len(given) != 64 or any(c not in "0123456789abcdef" for c in given):
            raise UnpinnedModelError(f"--sha256 {opts.sha256!r} is not a 64-digit hex sha256")
        if expected is not None and given != expected:
            raise UnpinnedModelError(
                f"--sha256 {given} differs from the hash pinned for {name!r} ({expected})",
                hint="omit --sha256 for pinned models",
            )
        expected = given
    if expected is None and not opts.trust_unpinned:
        raise UnpinnedModelError(
            f"model {name!r} has no published sha256, so its download cannot be verified",
            hint=f"pass --sha256 HASH (preferred) or --trust-unpinned to fetch {entry.source}",
        )
    if expected is None:
        logger.warning(
            "fetching %s without a pinned sha256 (--trust-unpinned): its bytes are not verified",
            name,
        )
    cache_dir = Path(cache_dir)
    try:
        return _fetch_locked(name, entry, backend, cache_dir, opts, expected)
    except OSError as exc:
        raise ModelFetchError(
            f"cannot install {name} in {cache_dir}: {exc.strerror or exc}"
            + (f" ({exc.filename})" if exc.filename else ""),
            hint="check that model_cache_dir is writable and has free space",
        ) from exc


def _fetch_locked(
    name: str,
    entry: ModelEntry,
    backend: Backend,
    cache_dir: Path,
    opts: FetchOptions,
    expected: str | None,
) -> cache.ModelManifest:
    cache_dir.mkdir(parents=True, exist_ok=True)
    with cache.fetch_lock(cache_dir, name):
        if not opts.force:
            st = model_status(name, cache_dir)
            if st.cached and st.verified is not False and st.manifest is not None:
                logger.info("%s is already installed in %s", name, st.path)
                return st.manifest
        with cache.staging_dir(cache_dir, name) as staged:
            result = backend.materialize(entry, staged, opts, expected, cache_dir)
            files, _sizes = cache.hash_tree(staged)
            for rel, sha in entry.files.items():
                got = files.get(rel)
                if got != sha:
                    raise ModelIntegrityError(
                        f"{name}: extracted file {rel} has sha256 {got}, expected {sha}; "
                        "nothing was installed",
                        hint="the source may be tampered with or a different release; "
                        "check the mirror or file you fetched from",
                    )
            manifest = cache.install_staged(
                cache_dir,
                staged,
                name=name,
                kind=entry.kind,
                source=result.source,
                archive_sha256=result.archive_sha256,
                pinned=expected is not None,
            )
    logger.info("installed %s in %s", name, cache.model_dir(cache_dir, name))
    return manifest


def remove_model(name: str, cache_dir: Path) -> bool:
    """Delete the installed copy of ``name``; ``False`` when it was not installed."""
    get_entry(name)
    path = cache.model_dir(cache_dir, name)
    if not path.exists():
        return False
    try:
        with cache.fetch_lock(cache_dir, name, wait_s=10.0):
            shutil.rmtree(path)
    except OSError as exc:
        raise ModelFetchError(
            f"cannot remove {path}: {exc.strerror or exc}",
            hint="check the permissions of model_cache_dir",
        ) from exc
    return True
