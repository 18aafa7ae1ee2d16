"""The job daemon ``neuropose watch``.

See :mod:`neuropose.interfacer.interfacer` for the daemon's rooms and crash
invariants, :mod:`neuropose.interfacer.transitions` for the job states, and
:mod:`neuropose.datadir` for the data-directory layout, the status files and
the operator actions (re-exported here for existing callers). Importing this
package is cheap: the model and estimator load only when a job is processed.
"""

from neuropose.datadir.operations import UnknownJobError, plan_prune, plan_reset, retry_job
from neuropose.datadir.status import (
    aggregate_status_path,
    job_status_path,
    read_job_status,
    read_status,
    write_aggregate_status,
    write_job_status,
)
from neuropose.interfacer.errors import (
    CheckpointRejectedError,
    DaemonStopped,
    JobVanishedError,
    NoVideosError,
    PoisonJobError,
    StatusWriteError,
    describe_error,
)
from neuropose.interfacer.interfacer import Interfacer
from neuropose.interfacer.processor import (
    LazyProcessor,
    ProcessorFactory,
    VideoProcessor,
    build_executor,
    build_processor,
)
from neuropose.interfacer.transitions import JobBook, RunSummary

__all__ = [
    "CheckpointRejectedError",
    "DaemonStopped",
    "Interfacer",
    "JobBook",
    "JobVanishedError",
    "LazyProcessor",
    "NoVideosError",
    "PoisonJobError",
    "ProcessorFactory",
    "RunSummary",
    "StatusWriteError",
    "UnknownJobError",
    "VideoProcessor",
    "aggregate_status_path",
    "build_executor",
    "build_processor",
    "describe_error",
    "job_status_path",
    "plan_prune",
    "plan_reset",
    "read_job_status",
    "read_status",
    "retry_job",
    "write_aggregate_status",
    "write_job_status",
]
