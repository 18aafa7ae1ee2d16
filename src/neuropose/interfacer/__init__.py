"""The job daemon ``neuropose watch`` and the job-status reader everyone uses.

See :mod:`neuropose.interfacer.interfacer` for the data-directory layout,
job state transitions and crash invariants, and
:mod:`neuropose.interfacer.status` for the status files.
"""

from neuropose.interfacer.status import (
    aggregate_status_path,
    job_status_path,
    read_job_status,
    read_status,
    write_aggregate_status,
    write_job_status,
)

__all__ = [
    "aggregate_status_path",
    "job_status_path",
    "read_job_status",
    "read_status",
    "write_aggregate_status",
    "write_job_status",
]
