"""Validated, transactional intake of zip archives, folders and video files.

``ingest`` turns a batch of videos into job directories under
``data_dir/in/`` that the daemon (``neuropose watch``) picks up. An archive
is untrusted input: nothing in it can make ingest write outside the data
directory, exhaust the disk, or leave a half-made job; a name in it cannot
rewrite the user's terminal. The rules are in ``docs/ingest.md``.

Modules: :mod:`~neuropose.ingest.api` (entry points), ``errors``, ``report``,
``naming``, ``plan`` (the member/file check shared by archives and
folders), ``zipcheck``, ``container`` (truncated videos), ``collisions``,
``fsops`` and ``placement`` (staging and the all-or-nothing move into ``in/``).

Examples
--------
>>> import tempfile, zipfile, pathlib
>>> root = pathlib.Path(tempfile.mkdtemp())
>>> with zipfile.ZipFile(root / "batch.zip", "w") as zf:
...     zf.writestr("patient_001/trial_01.mp4", b"not really a video")
...     zf.writestr("patient_001/notes.txt", b"hello")
>>> report = ingest_archive(root / "batch.zip", root / "data")
>>> [(j.name, [v.file for v in j.videos]) for j in report.jobs]
[('patient_001_trial_01', ['trial_01.mp4'])]
>>> [(s.member, s.reason.value) for s in report.skipped]
[('patient_001/notes.txt', 'not a video')]
>>> sorted(p.name for p in (root / "data/in/patient_001_trial_01").iterdir())
['READY', 'trial_01.mp4']
"""

from neuropose.datadir.layout import READY_MARKER, STAGING_DIR
from neuropose.datadir.staging import clean_staging
from neuropose.ingest.api import ingest_archive, ingest_paths
from neuropose.ingest.collisions import FREE_SPACE_RESERVE_BYTES
from neuropose.ingest.errors import (
    ArchiveLimitError,
    IngestBusyError,
    IngestError,
    InsufficientSpaceError,
    JobBusyError,
    JobCollisionError,
    NoVideosError,
    UnsafeArchiveError,
)
from neuropose.ingest.naming import (
    ARCHIVE_EXTENSIONS,
    MAX_NAME_LENGTH,
    VIDEO_EXTENSIONS,
    sanitize_name,
)
from neuropose.ingest.report import (
    RATIO_EXEMPT_BYTES,
    IngestedJob,
    IngestedVideo,
    IngestLimits,
    IngestReport,
    Mode,
    ProgressCallback,
    SkippedMember,
    SkipReason,
)

#: Name of the staging directory inside the data directory.
STAGING_DIR_NAME = STAGING_DIR

__all__ = [
    "ARCHIVE_EXTENSIONS",
    "FREE_SPACE_RESERVE_BYTES",
    "MAX_NAME_LENGTH",
    "RATIO_EXEMPT_BYTES",
    "READY_MARKER",
    "STAGING_DIR_NAME",
    "VIDEO_EXTENSIONS",
    "ArchiveLimitError",
    "IngestBusyError",
    "IngestError",
    "IngestLimits",
    "IngestReport",
    "IngestedJob",
    "IngestedVideo",
    "InsufficientSpaceError",
    "JobBusyError",
    "JobCollisionError",
    "Mode",
    "NoVideosError",
    "ProgressCallback",
    "SkipReason",
    "SkippedMember",
    "UnsafeArchiveError",
    "clean_staging",
    "ingest_archive",
    "ingest_paths",
    "sanitize_name",
]
