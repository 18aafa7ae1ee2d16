"""The data directory's contract: layout, lock, status files, staging, operator actions.

See :mod:`neuropose.datadir.layout` for the folders and files (the only
place their paths are spelled), :mod:`neuropose.datadir.status` for the
status files (:mod:`neuropose.datadir.index` for their SQLite index),
:mod:`neuropose.datadir.lock` for the lock, and
:mod:`neuropose.datadir.operations` for ``retry``/``prune``/``reset``.

Examples
--------
>>> from neuropose.datadir import DataDir
>>> DataDir("/srv/np").job("walk1").results.as_posix()
'/srv/np/out/walk1/results.json'
"""

from neuropose.datadir.index import StatusIndexError
from neuropose.datadir.layout import (
    DataDir,
    InvalidJobNameError,
    JobPaths,
    check_job_name,
    is_job_name,
)
from neuropose.datadir.lock import ExclusiveLock, LockHeldError, LockInfo, probe_lock
from neuropose.datadir.operations import UnknownJobError, plan_prune, plan_reset, retry_job
from neuropose.datadir.staging import clean_staging
from neuropose.datadir.status import (
    RECENT_JOBS,
    aggregate_status_path,
    current_status_path,
    forget_jobs,
    job_status_path,
    migrate_layout,
    query_jobs,
    read_job_status,
    read_status,
    restore_jobs,
    status_version,
    sync_index,
    write_aggregate_status,
    write_job_status,
)

__all__ = [
    "RECENT_JOBS",
    "DataDir",
    "ExclusiveLock",
    "InvalidJobNameError",
    "JobPaths",
    "LockHeldError",
    "LockInfo",
    "StatusIndexError",
    "UnknownJobError",
    "aggregate_status_path",
    "check_job_name",
    "clean_staging",
    "current_status_path",
    "forget_jobs",
    "is_job_name",
    "job_status_path",
    "migrate_layout",
    "plan_prune",
    "plan_reset",
    "probe_lock",
    "query_jobs",
    "read_job_status",
    "read_status",
    "restore_jobs",
    "retry_job",
    "status_version",
    "sync_index",
    "write_aggregate_status",
    "write_job_status",
]
