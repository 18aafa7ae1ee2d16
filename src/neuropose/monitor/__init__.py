"""The monitor: ``neuropose serve``, a read-only live dashboard and JSON API.

It runs as its own process beside the daemon, reads ``data_dir`` only (see
:mod:`neuropose.monitor.snapshot` for the files it reads) and keeps serving
when the daemon is down or the status file is unreadable. See
:mod:`neuropose.monitor.server` for routes and security rules and
``docs/monitor.md`` for the user guide.
"""

from neuropose.monitor.server import (
    MonitorBindError,
    MonitorConfigError,
    MonitorServer,
    check_bind,
    is_loopback,
    run_until_signal,
)
from neuropose.monitor.snapshot import Snapshot, StatusUnavailable, load_status, take_snapshot

__all__ = [
    "MonitorBindError",
    "MonitorConfigError",
    "MonitorServer",
    "Snapshot",
    "StatusUnavailable",
    "check_bind",
    "is_loopback",
    "load_status",
    "run_until_signal",
    "take_snapshot",
]
