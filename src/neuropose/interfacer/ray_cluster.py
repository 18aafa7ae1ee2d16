"""Joining the Ray cluster, and telling a lost cluster from a lost worker (imports Ray).

:func:`connect` starts a private local instance (no dashboard) or joins
``ray_address`` after a TCP probe (Ray's own client retries for minutes);
:func:`check_room` refuses a pool the cluster cannot hold; :class:`ClusterWatch`
probes the GCS (Ray's head service) so that the head going away becomes
:class:`~neuropose.interfacer.errors.ClusterUnavailableError` (exit code 4)
and not a chain of lost workers. Ray ends a driver whose GCS is gone for 60 s,
so the daemon cannot wait for the head in-process: it records the running job
``interrupted`` and exits for its supervisor to restart it (docs/ray.md).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Literal

import ray
import ray.exceptions

from neuropose.config import Settings
from neuropose.errors import NeuroPoseError
from neuropose.interfacer.doctor import probe_ray_address
from neuropose.interfacer.errors import ClusterUnavailableError
from neuropose.logs import adopt_logger

__all__ = [
    "GCS_GRACE_S",
    "ClusterWatch",
    "check_room",
    "cluster_errors",
    "connect",
    "resolve_transfer",
]

logger = logging.getLogger(__name__)

#: Seconds the GCS may stay unreachable before the cluster counts as gone
#: (Ray itself ends the driver after 60 s).
GCS_GRACE_S = 10.0
#: Seconds between two probes of the GCS.
PROBE_EVERY_S = 2.0


class ClusterWatch:
    """Whether the cluster's GCS answers (a TCP probe, at most every :data:`PROBE_EVERY_S` s).

    Parameters
    ----------
    gcs_address : str
        ``HOST:PORT`` of the GCS (``ray.get_runtime_context().gcs_address``).
    """

    def __init__(self, gcs_address: str) -> None:
        self.gcs_address = gcs_address
        self._lock = threading.Lock()
        self._checked = 0.0
        self._down_since: float | None = None

    def _probe(self) -> None:
        with self._lock:
            now = time.monotonic()
            if now - self._checked < PROBE_EVERY_S:
                return
            self._checked = now
            problem = probe_ray_address(self.gcs_address, timeout_s=PROBE_EVERY_S)
            if problem is None:
                self._down_since = None
            elif self._down_since is None:
                logger.warning("Ray head (GCS %s) not answering: %s", self.gcs_address, problem)
                self._down_since = now

    def alive_now(self) -> bool:
        """Probe now: whether the GCS answers (after a worker died: cluster or worker?)."""
        with self._lock:
            self._checked = 0.0
        self._probe()
        return self._down_since is None

    def gone(self) -> bool:
        """Whether the GCS has been unreachable for more than :data:`GCS_GRACE_S` s."""
        self._probe()
        down = self._down_since
        return down is not None and time.monotonic() - down > GCS_GRACE_S

    def error(self, what: str) -> ClusterUnavailableError:
        """The error that stops the daemon (exit code 4) when the cluster is gone."""
        return ClusterUnavailableError(
            f"lost the Ray cluster (GCS {self.gcs_address} not answering) {what}",
            hint="the job is recorded interrupted and resumes from its checkpoints when "
            "`neuropose watch` starts again with the cluster back (a supervisor restarts "
            "it on exit code 4; docs/ray.md)",
        )


def resolve_transfer(settings: Settings) -> Literal["path", "bytes"]:
    """How videos reach the actors: ``path`` for a private local instance, else ``bytes``.

    >>> from neuropose.config import load_settings
    >>> resolve_transfer(load_settings(flags={"executor": "ray"}, environ={}).settings)
    'path'
    >>> s = load_settings(flags={"ray_address": "10.0.0.5:6379"}, environ={}).settings
    >>> resolve_transfer(s)
    'bytes'
    """
    if settings.ray_video_transfer != "auto":
        return settings.ray_video_transfer
    return "path" if settings.ray_address in (None, "local") else "bytes"


class cluster_errors:
    """Context manager: Ray's system errors (head gone, connection lost) as ClusterUnavailableError.

    Actor deaths (``RayActorError``) pass through: the pool replaces the actor.
    """

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        if exc is None or isinstance(exc, (ray.exceptions.RayActorError, NeuroPoseError)):
            return
        if isinstance(exc, (ray.exceptions.RaySystemError, ConnectionError)) or (
            isinstance(exc, ray.exceptions.RayError)
            and not isinstance(exc, ray.exceptions.RayTaskError)
        ):
            raise ClusterUnavailableError(
                f"lost the Ray cluster: {type(exc).__name__}: {exc}",
                hint="check the Ray head (`ray status`); the job resumes from its "
                "checkpoints when `neuropose watch` starts again",
            ) from exc


def connect(settings: Settings) -> bool:
    """Start or join Ray (reusing an already initialised Ray); whether this call started it."""
    if ray.is_initialized():
        return False
    address = settings.ray_address
    # Quiet by default: the actors' output stays in Ray's log files (log_to_driver), and the
    # driver's "ray" logger goes to NeuroPose's log at debug level (-vv shows it).
    adopt_logger("ray")
    options: dict[str, Any] = {"logging_level": logging.INFO, "log_to_driver": False}
    if address in (None, "local"):
        options.update(include_dashboard=False)  # no HTTP dashboard for a private instance
    else:
        problem = probe_ray_address(address)
        if problem is not None:  # Ray's client would retry for minutes
            raise ClusterUnavailableError(
                f"cannot join the Ray cluster: {problem}",
                hint="start the head with `ray start --head` (docs/ray.md) or fix ray_address",
            )
        options.update(address=address)
    try:
        ray.init(**options)
    except (ConnectionError, RuntimeError, ValueError, TimeoutError) as exc:
        raise ClusterUnavailableError(
            f"cannot {'join the Ray cluster at ' + address if address else 'start Ray'}: {exc}",
            hint="start the head with `ray start --head` (docs/ray.md) or fix ray_address",
        ) from exc
    return True


def check_room(settings: Settings) -> None:
    """The cluster has the CPUs and GPUs the pool asks for (else no actor could start)."""
    total = ray.cluster_resources()
    needs = {
        "CPU": settings.ray_workers * settings.ray_cpus_per_worker,
        "GPU": settings.ray_workers * settings.ray_gpus_per_worker,
    }
    short = {k: v for k, v in needs.items() if v > 0 and total.get(k, 0.0) + 1e-9 < v}
    if short:
        what = ", ".join(f"{v:g} {k} (cluster has {total.get(k, 0.0):g})" for k, v in short.items())
        raise ClusterUnavailableError(
            f"the Ray pool needs {what}: ray_workers = {settings.ray_workers} x "
            f"{settings.ray_cpus_per_worker:g} CPU + {settings.ray_gpus_per_worker:g} GPU",
            hint="lower --workers / --cpus-per-worker / --gpus-per-worker, or add nodes",
        )
