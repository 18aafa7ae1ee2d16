"""Health checks of a data directory and its environment (``neuropose doctor``).

Each check returns a :class:`Check` (name, ok, detail, fix). ``watch`` runs
the fast checks (:func:`run_start_checks`: directories writable and on one
filesystem, free disk) before processing anything and refuses to start when
one fails; ``neuropose doctor`` runs all of them, including the model cache
(verified against its manifest) and whether the model's runtime is installed
(LiteRT for ``.tflite`` models, TensorFlow for MeTRAbs: looked up, not imported,
so ``doctor`` stays fast and quiet) and, with ``executor = "ray"``, the cluster.
"""

from __future__ import annotations

import errno
import importlib
import importlib.metadata
import importlib.util
import logging
import os
import shutil
import socket
import tempfile
from dataclasses import dataclass
from pathlib import Path

from neuropose.config import Settings
from neuropose.datadir.layout import DataDir
from neuropose.datadir.lock import probe_lock
from neuropose.errors import NeuroPoseError, ResourceError
from neuropose.logs import adopt_logger

__all__ = [
    "FREE_DISK_FIX",
    "MIN_FREE_BYTES",
    "Check",
    "check_cluster",
    "check_directories",
    "check_free_disk",
    "check_lock",
    "check_model",
    "check_runtime",
    "check_same_filesystem",
    "probe_ray_address",
    "run_all_checks",
    "run_start_checks",
]

#: Less free space than this on the data directory's filesystem fails the check.
MIN_FREE_BYTES = 512 * 1024**2


@dataclass(frozen=True)
class Check:
    """Outcome of one health check; ``fix`` says what to do when ``ok`` is false."""

    name: str
    ok: bool
    detail: str
    fix: str = ""


def _subdirs(data_dir: Path) -> list[Path]:
    return list(DataDir(data_dir).job_folders)


#: The fix of a full disk (one wording, whichever check found it).
FREE_DISK_FIX = "free disk space or point data_dir at a larger filesystem"


def check_directories(data_dir: Path) -> Check:
    """``in/``, ``out/`` and ``failed/`` exist (or can be made) and are writable.

    The fix names the cause: a full disk (``ENOSPC``/``EDQUOT``) is not a
    permission problem.
    """
    problems = []
    disk_full = True
    for d in [data_dir, *_subdirs(data_dir)]:
        try:
            d.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=d, prefix=".doctor.", suffix=".probe"):
                pass
        except OSError as exc:
            problems.append(f"{d}: {exc.strerror or exc}")
            disk_full = disk_full and exc.errno in (errno.ENOSPC, errno.EDQUOT)
    if problems:
        return Check(
            "directories writable",
            False,
            "; ".join(problems),
            FREE_DISK_FIX
            if disk_full
            else "fix ownership/permissions (the daemon's user must be able to write them)",
        )
    return Check("directories writable", True, f"{data_dir}/{{in,out,failed}}")


def check_same_filesystem(data_dir: Path) -> Check:
    """Every directory of the layout is on one filesystem (renames must be atomic)."""
    dirs = [data_dir, *_subdirs(data_dir), DataDir(data_dir).staging]
    devices = {}
    for d in dirs:
        if d.exists():
            devices[d] = os.stat(d).st_dev
    if len(set(devices.values())) > 1:
        base = devices.get(data_dir)
        other = [str(d) for d, dev in devices.items() if dev != base]
        return Check(
            "one filesystem",
            False,
            f"{', '.join(other)} on a different filesystem than {data_dir}",
            "mount or move them so that in/, out/, failed/ and .staging/ share one filesystem",
        )
    return Check("one filesystem", True, f"{len(devices)} directories share one device")


def check_free_disk(data_dir: Path, min_free: int = MIN_FREE_BYTES) -> Check:
    """At least ``min_free`` bytes free where results are written."""
    target = data_dir if data_dir.exists() else data_dir.parent
    usage = shutil.disk_usage(target)
    gib = usage.free / 1024**3
    if usage.free < min_free:
        return Check(
            "free disk",
            False,
            f"{gib:.2f} GiB free on {target} (need {min_free / 1024**3:.2f} GiB)",
            FREE_DISK_FIX,
        )
    return Check("free disk", True, f"{gib:.1f} GiB free")


def check_lock(data_dir: Path) -> Check:
    """Whether a daemon holds the data directory (informational: never fails)."""
    info = probe_lock(DataDir(data_dir).lock)
    if info.held:
        return Check("daemon lock", True, f"held by {info.describe()}")
    return Check("daemon lock", True, "free (no daemon running on this data directory)")


def check_model(settings: Settings, name: str | None = None) -> Check:
    """The model is cached and its files match their recorded SHA-256."""
    model = name or settings.default_model
    if model.startswith("python:"):
        return Check("model cached", True, f"{model} (custom factory, nothing to verify)")
    try:
        models = importlib.import_module("neuropose.models")
        models.verify_model(model, settings.model_cache_dir)
    except NeuroPoseError as exc:
        return Check("model cached", False, exc.message, exc.hint or "")
    except (ImportError, AttributeError) as exc:
        return Check("model cached", False, f"model registry unavailable: {exc}")
    return Check("model cached", True, f"{model} verified in {settings.model_cache_dir}")


#: Per model kind: (module, what it is, how to install it).
_RUNTIMES = {
    "blazepose": (
        "ai_edge_litert",
        "LiteRT (runs .tflite models)",
        "pip install ai-edge-litert (a dependency of neuropose: reinstall neuropose)",
    ),
    "metrabs": (
        "tensorflow",
        "TensorFlow (runs MeTRAbs SavedModels)",
        "pip install 'neuropose[metrabs]'",
    ),
}


def _model_kind(spec: str) -> str | None:
    base = spec.partition("?")[0]
    kind, sep, _ = base.partition(":")
    if sep:
        return kind
    try:
        return str(importlib.import_module("neuropose.models").get_entry(base).kind)
    except (NeuroPoseError, ImportError, AttributeError):
        return None  # check_model reports an unknown name


def check_runtime(settings: Settings, name: str | None = None) -> Check:
    """The runtime the model needs is installed (found on the path, not imported)."""
    model = name or settings.default_model
    runtime = _RUNTIMES.get(_model_kind(model) or "")
    if runtime is None:
        return Check("model runtime", True, f"{model}: no built-in runtime to check")
    module, what, fix = runtime
    if importlib.util.find_spec(module) is None:
        return Check("model runtime", False, f"{what} is not installed, {model} needs it", fix)
    try:
        version = importlib.metadata.version(module.replace("_", "-"))
    except importlib.metadata.PackageNotFoundError:
        version = "?"
    return Check("model runtime", True, f"{what}: {module.replace('_', '-')} {version}")


#: Seconds a TCP connection to the Ray head may take before it counts as unreachable.
RAY_PROBE_TIMEOUT_S = 5.0


def probe_ray_address(address: str, timeout_s: float = RAY_PROBE_TIMEOUT_S) -> str | None:
    """Why the Ray head at ``HOST:PORT`` cannot be reached, or ``None`` when it answers.

    A plain TCP connection (Ray's own client retries for minutes on a wrong
    address); ``auto`` and ``ray://`` addresses are not probed.

    >>> probe_ray_address("auto") is None
    True
    >>> probe_ray_address("no-port")
    "'no-port' is not HOST:PORT"
    """
    if address == "auto" or "://" in address:
        return None
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit():
        return f"{address!r} is not HOST:PORT"
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s):
            return None
    except OSError as exc:
        return f"nothing answers at {address}: {exc.strerror or exc}"


def check_cluster(settings: Settings) -> Check:
    """``executor = "ray"``: Ray installed, the cluster reachable and big enough for the pool.

    A private local instance (no ``ray_address``) is judged by this
    machine's CPU count; a cluster is joined briefly to read its resources.
    """
    name = "ray cluster"
    if importlib.util.find_spec("ray") is None:
        return Check(name, False, "executor is ray but Ray is not installed",
                     "pip install 'neuropose[ray]' (or set executor = \"local\")")  # fmt: skip
    need_cpu = settings.ray_workers * settings.ray_cpus_per_worker
    need_gpu = settings.ray_workers * settings.ray_gpus_per_worker
    need = f"{settings.ray_workers} workers need {need_cpu:g} CPU, {need_gpu:g} GPU"
    fix = "lower ray_workers / ray_cpus_per_worker / ray_gpus_per_worker, or add nodes"
    address = settings.ray_address
    if address in (None, "local"):
        cpus = os.cpu_count() or 1
        if cpus < need_cpu:
            return Check(name, False, f"local Ray instance: {cpus} CPUs here; {need}", fix)
        gpus = " (GPUs are checked when the pool starts)" if need_gpu else ""
        return Check(name, True, f"local Ray instance: {cpus} CPUs here; {need}{gpus}")
    problem = probe_ray_address(address)
    if problem is not None:
        fix_head = "start the head (`ray start --head`, docs/ray.md) or fix ray_address"
        return Check(name, False, problem, fix_head)
    import ray  # the extra: only for executor = ray

    adopt_logger("ray")  # Ray's own lines: debug level, as for `watch`
    try:
        ray.init(address=address, logging_level=logging.INFO, log_to_driver=False)
        total = ray.cluster_resources()
        nodes = sum(1 for n in ray.nodes() if n.get("Alive"))
    except Exception as exc:
        fix_join = "check the head node's logs and that this machine runs the same Ray"
        return Check(name, False, f"cannot join the Ray cluster at {address}: {exc}", fix_join)
    finally:
        ray.shutdown()
    have_cpu, have_gpu = total.get("CPU", 0.0), total.get("GPU", 0.0)
    detail = f"{address}: {nodes} node(s), {have_cpu:g} CPU, {have_gpu:g} GPU; {need}"
    ok = have_cpu >= need_cpu and have_gpu >= need_gpu
    return Check(name, ok, detail, "" if ok else fix)


def run_start_checks(settings: Settings) -> list[Check]:
    """The checks ``watch`` runs at start; raises when one fails.

    Raises
    ------
    ResourceError
        A directory is not writable, the layout spans filesystems, the disk
        is nearly full, or (``executor = "ray"`` with ``ray_address``) nothing
        answers at the Ray head; the message lists every failed check.
    """
    data_dir = Path(settings.data_dir)
    checks = [
        check_directories(data_dir),
        check_same_filesystem(data_dir),
        check_free_disk(data_dir),
    ]
    if settings.executor == "ray" and settings.ray_address not in (None, "local"):
        problem = probe_ray_address(settings.ray_address)  # a TCP probe, not a Ray client
        checks.append(
            Check("ray head reachable", problem is None, problem or settings.ray_address,
                  "start the head (`ray start --head`, docs/ray.md) or fix ray_address")
        )  # fmt: skip
    failed = [c for c in checks if not c.ok]
    if failed:
        raise ResourceError(
            "data directory checks failed: " + "; ".join(f"{c.name}: {c.detail}" for c in failed),
            hint=" / ".join(dict.fromkeys(c.fix for c in failed if c.fix)) or None,
        )
    return checks


def run_all_checks(settings: Settings, model: str | None = None) -> list[Check]:
    """Every check, in checklist order (for ``neuropose doctor``)."""
    data_dir = Path(settings.data_dir)
    return [
        check_directories(data_dir),
        check_same_filesystem(data_dir),
        check_free_disk(data_dir),
        check_lock(data_dir),
        check_model(settings, model),
        check_runtime(settings, model),
        *([check_cluster(settings)] if settings.executor == "ray" else []),
    ]
