"""The data directory's layout: the only place its paths are spelled.

::

    data_dir/
      neuropose.lock            daemon lock (flock; JSON naming the holder)
      status.json               aggregated StatusFile (counts, unfinished and recent jobs)
      status.db                 status index: SQLite (WAL), one row per job
      workers.json              Ray worker pool (WorkersFile; executor = ray only)
      .staging/                 ingest's work area (ingest.lock, staged jobs)
      in/<job>/                 inputs of a queued or running job (+ READY)
      out/<job>/                one folder per job and nothing else:
        status.json             live JobStatusEntry of the job
        results.json            JobResults, written once when complete
        partial/                checkpoints of an interrupted video
        visualize/<stem>.quality.json   quality report (and other visual outputs)
        visualize/render.json   the daemon's render step: state, error, files
        export/                 exported files (CSV, TRC, MOT, C3D, NWB)
        opensim/<stem>/         OpenSim scaled model, IK motion, marker errors
      failed/<job>/             inputs of a failed job
      live/<session>/           one ``neuropose live`` session (LivePaths)
        live.json               LiveStatus, rewritten about once a second
        poses.jsonl             one line per predicted frame (finalised at stop)
        signals.jsonl           one line per tick with the signal values
        events.jsonl            one line per debounced event
        video.mp4               only with --record-video

Jobs and the daemon's own files live in separate namespaces: ``in/``,
``out/`` and ``failed/`` hold only job folders, the daemon's state sits at
the top level. Up to NeuroPose 0.x the aggregate lived at
``out/status.json`` (:attr:`DataDir.legacy_status`); the daemon moves it on
start (:func:`neuropose.datadir.status.migrate_layout`). Job names starting
with ``.`` stay reserved (work in progress of ingest and copy tools).

Examples
--------
>>> d = DataDir("/srv/np")
>>> str(d.status), str(d.job("walk1").results)
('/srv/np/status.json', '/srv/np/out/walk1/results.json')
>>> str(d.job("walk1").quality("trial 1.mp4"))
'/srv/np/out/walk1/visualize/trial 1.quality.json'
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from neuropose.errors import InputError
from neuropose.io import fit_name

__all__ = [
    "EXPORT_DIR",
    "FAILED_DIR",
    "INGEST_LOCK_FILE",
    "IN_DIR",
    "LIVE_DIR",
    "LOCK_FILE",
    "MAX_JOB_NAME_BYTES",
    "OPENSIM_DIR",
    "OUT_DIR",
    "PARTIAL_DIR",
    "READY_MARKER",
    "RENDER_RECORD_FILE",
    "RESERVED_PREFIX",
    "RESULTS_FILE",
    "STAGING_DIR",
    "STATUS_FILE",
    "STATUS_INDEX_FILE",
    "VISUALIZE_DIR",
    "WORKERS_FILE",
    "DataDir",
    "InvalidJobNameError",
    "JobPaths",
    "LivePaths",
    "check_job_name",
    "is_job_name",
    "quality_path",
]

#: Folder of queued and running jobs' inputs.
IN_DIR = "in"
#: Folder of per-job outputs (job folders only).
OUT_DIR = "out"
#: Folder of failed jobs' inputs.
FAILED_DIR = "failed"
#: Folder of ``neuropose live`` sessions (one sub-folder per session).
LIVE_DIR = "live"
#: Ingest's work area at the top of the data directory.
STAGING_DIR = ".staging"
#: Lock file of ingest inside :data:`STAGING_DIR`.
INGEST_LOCK_FILE = "ingest.lock"
#: The daemon's lock file at the top of the data directory.
LOCK_FILE = "neuropose.lock"
#: Name of both the aggregated (top level) and the per-job status file.
STATUS_FILE = "status.json"
#: The Ray worker pool file (written only with ``executor = "ray"``).
WORKERS_FILE = "workers.json"
#: The status index (SQLite; ``-wal``/``-shm`` files beside it while open).
STATUS_INDEX_FILE = "status.db"
#: Per-job results file.
RESULTS_FILE = "results.json"
#: Per-job checkpoint folder.
PARTIAL_DIR = "partial"
#: Per-job folder of visual outputs and quality reports.
VISUALIZE_DIR = "visualize"
#: Record of the daemon's render step inside :data:`VISUALIZE_DIR`.
RENDER_RECORD_FILE = "render.json"
#: Per-job folder of exported files (``neuropose export``, setting ``export_formats``).
EXPORT_DIR = "export"
#: Per-job folder of OpenSim scaling + inverse kinematics outputs (``neuropose opensim``).
OPENSIM_DIR = "opensim"
#: Empty marker file declaring a job in ``in/`` complete.
READY_MARKER = "READY"
#: Job names starting with this are reserved for work in progress.
RESERVED_PREFIX = "."
#: Longest job name, bytes of UTF-8 (a file name's limit on Linux file systems).
MAX_JOB_NAME_BYTES = 255


class InvalidJobNameError(InputError):
    """A job name cannot name a folder of ``in/``, ``out/`` or ``failed/`` (exit code 2)."""


def check_job_name(name: str, *, source: str | None = None) -> str:
    """Return ``name`` when it can be a job folder's name; raise otherwise.

    A job name is one path component: not empty, not ``.``/``..``, without
    ``/``, NUL or control characters, at most :data:`MAX_JOB_NAME_BYTES`
    bytes, and not starting with :data:`RESERVED_PREFIX` (dot-names are work
    in progress of ingest and copy tools, e.g. ``.staging``).

    Parameters
    ----------
    name : str
        The candidate job name.
    source : str, optional
        The file or folder the name came from, named in the message.

    Raises
    ------
    InvalidJobNameError
        The message names ``source`` (or the name) and how to fix it.

    Examples
    --------
    >>> check_job_name("status.json")
    'status.json'
    >>> try:
    ...     check_job_name(".staging", source="in/.staging")
    ... except InvalidJobNameError as exc:
    ...     print(exc.message)
    in/.staging: job name '.staging' starts with '.', which is reserved for work in progress
    """
    where = f"{source}: " if source else ""
    problem = None
    if name in ("", ".", ".."):
        problem = "is empty or a relative path"
    elif "/" in name or "\\" in name:
        problem = "contains a path separator"
    elif any(ord(c) < 32 or ord(c) == 127 for c in name):
        problem = "contains a control character"
    elif len(name.encode("utf-8", "surrogateescape")) > MAX_JOB_NAME_BYTES:
        problem = f"is longer than {MAX_JOB_NAME_BYTES} bytes"
    elif name.startswith(RESERVED_PREFIX):
        problem = f"starts with {RESERVED_PREFIX!r}, which is reserved for work in progress"
    if problem is None:
        return name
    raise InvalidJobNameError(
        f"{where}job name {name!r} {problem}",
        hint="rename the file or folder (or choose another --job NAME) to a plain name "
        "such as 'patient_001_trial_01'",
    )


def is_job_name(name: str) -> bool:
    """Whether :func:`check_job_name` accepts ``name``.

    >>> is_job_name("walk1"), is_job_name(".staging"), is_job_name("a/b")
    (True, False, False)
    """
    try:
        check_job_name(name)
    except InvalidJobNameError:
        return False
    return True


@dataclass(frozen=True)
class JobPaths:
    """Every path of one job.

    >>> j = DataDir("/d").job("walk1")
    >>> [str(p) for p in (j.input, j.output, j.failed)]
    ['/d/in/walk1', '/d/out/walk1', '/d/failed/walk1']
    >>> [str(p) for p in (j.status, j.partial, j.visualize)]
    ['/d/out/walk1/status.json', '/d/out/walk1/partial', '/d/out/walk1/visualize']
    """

    root: Path
    name: str

    @property
    def input(self) -> Path:
        """``in/<job>``: inputs while queued or running."""
        return self.root / IN_DIR / self.name

    @property
    def output(self) -> Path:
        """``out/<job>``: everything the daemon writes for the job."""
        return self.root / OUT_DIR / self.name

    @property
    def failed(self) -> Path:
        """``failed/<job>``: inputs of a failed job."""
        return self.root / FAILED_DIR / self.name

    @property
    def status(self) -> Path:
        """``out/<job>/status.json``: the live :class:`~neuropose.schemas.JobStatusEntry`."""
        return self.output / STATUS_FILE

    @property
    def results(self) -> Path:
        """``out/<job>/results.json``."""
        return self.output / RESULTS_FILE

    @property
    def partial(self) -> Path:
        """``out/<job>/partial``: checkpoints."""
        return self.output / PARTIAL_DIR

    @property
    def visualize(self) -> Path:
        """``out/<job>/visualize``: visual outputs and quality reports."""
        return self.output / VISUALIZE_DIR

    @property
    def render_record(self) -> Path:
        """``out/<job>/visualize/render.json``: state of the daemon's render step."""
        return self.visualize / RENDER_RECORD_FILE

    @property
    def render_lock(self) -> Path:
        """``out/<job>/visualize/.render.lock``: held while the job's visuals are rendered."""
        return self.visualize / f"{RESERVED_PREFIX}render.lock"

    @property
    def export(self) -> Path:
        """``out/<job>/export``: exported files (CSV, TRC, MOT, C3D, NWB)."""
        return self.output / EXPORT_DIR

    @property
    def opensim(self) -> Path:
        """``out/<job>/opensim``: scaled model, IK motion and marker errors."""
        return self.output / OPENSIM_DIR

    @property
    def relative_results(self) -> str:
        """``out/<job>/results.json`` relative to the data directory (as status records it)."""
        return f"{OUT_DIR}/{self.name}/{RESULTS_FILE}"

    def quality(self, video: str) -> Path:
        """``out/<job>/visualize/<stem>.quality.json`` of one video."""
        return quality_path(self.visualize, video)


def quality_path(folder: Path | str, video: str) -> Path:
    """``<folder>/<stem>.quality.json`` of ``video`` (the name itself when it has no stem).

    >>> str(quality_path("/v", "walk.mp4"))
    '/v/walk.quality.json'
    """
    return Path(folder) / fit_name(Path(video).stem or video, ".quality.json")


@dataclass(frozen=True)
class LivePaths:
    """Every path of one ``neuropose live`` session.

    >>> s = DataDir("/d").live_session("s1")
    >>> [p.name for p in (s.status, s.poses, s.signals, s.events, s.video)]
    ['live.json', 'poses.jsonl', 'signals.jsonl', 'events.jsonl', 'video.mp4']
    >>> str(s.folder)
    '/d/live/s1'
    """

    root: Path
    name: str

    @property
    def folder(self) -> Path:
        """``live/<session>``."""
        return self.root / LIVE_DIR / self.name

    @property
    def status(self) -> Path:
        """``live/<session>/live.json``: the session status (``LiveStatus``)."""
        return self.folder / "live.json"

    @property
    def poses(self) -> Path:
        """``live/<session>/poses.jsonl``: one JSON object per predicted frame."""
        return self.folder / "poses.jsonl"

    @property
    def signals(self) -> Path:
        """``live/<session>/signals.jsonl``: one JSON object per tick."""
        return self.folder / "signals.jsonl"

    @property
    def events(self) -> Path:
        """``live/<session>/events.jsonl``: one JSON object per event."""
        return self.folder / "events.jsonl"

    @property
    def video(self) -> Path:
        """``live/<session>/video.mp4``: written only with ``--record-video``."""
        return self.folder / "video.mp4"


@dataclass(frozen=True, init=False)
class DataDir:
    """The paths of one data directory (nothing is created or checked).

    >>> d = DataDir("/srv/np")
    >>> [str(p) for p in (d.in_dir, d.out_dir, d.failed_dir, d.staging, d.lock)]
    ['/srv/np/in', '/srv/np/out', '/srv/np/failed', '/srv/np/.staging', '/srv/np/neuropose.lock']
    """

    root: Path

    def __init__(self, root: Path | str) -> None:
        object.__setattr__(self, "root", Path(root))

    @property
    def in_dir(self) -> Path:
        """``in/``."""
        return self.root / IN_DIR

    @property
    def out_dir(self) -> Path:
        """``out/``."""
        return self.root / OUT_DIR

    @property
    def failed_dir(self) -> Path:
        """``failed/``."""
        return self.root / FAILED_DIR

    @property
    def job_folders(self) -> tuple[Path, Path, Path]:
        """``in/``, ``out/`` and ``failed/``: the folders whose entries are jobs."""
        return (self.in_dir, self.out_dir, self.failed_dir)

    @property
    def staging(self) -> Path:
        """``.staging/``: ingest's work area."""
        return self.root / STAGING_DIR

    @property
    def ingest_lock(self) -> Path:
        """``.staging/ingest.lock``."""
        return self.staging / INGEST_LOCK_FILE

    @property
    def lock(self) -> Path:
        """``neuropose.lock``: the daemon lock."""
        return self.root / LOCK_FILE

    @property
    def status(self) -> Path:
        """``status.json``: the aggregated status of every job."""
        return self.root / STATUS_FILE

    @property
    def workers(self) -> Path:
        """``workers.json``: the Ray pool (:class:`~neuropose.schemas.workers.WorkersFile`)."""
        return self.root / WORKERS_FILE

    @property
    def status_index(self) -> Path:
        """``status.db``: the status index (one row per job)."""
        return self.root / STATUS_INDEX_FILE

    @property
    def status_index_files(self) -> tuple[Path, Path, Path]:
        """``status.db`` and SQLite's ``status.db-wal`` and ``status.db-shm`` beside it."""
        db = self.status_index
        return (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm"))

    @property
    def legacy_status(self) -> Path:
        """``out/status.json``: where the aggregate lived before the namespaces were split."""
        return self.out_dir / STATUS_FILE

    def has_legacy_status(self) -> bool:
        """Whether an old-layout aggregate (a regular file ``out/status.json``) is present."""
        try:
            return os.path.isfile(self.legacy_status) and not os.path.islink(self.legacy_status)
        except OSError:
            return False

    @property
    def live_dir(self) -> Path:
        """``live/``: one folder per ``neuropose live`` session."""
        return self.root / LIVE_DIR

    def live_session(self, name: str) -> LivePaths:
        """The paths of live session ``name`` (check it with :func:`check_job_name`)."""
        return LivePaths(self.root, name)

    def live_sessions(self) -> list[str]:
        """Names of the session folders in ``live/`` (dot-names excluded), sorted."""
        try:
            entries = list(os.scandir(self.live_dir))
        except (FileNotFoundError, NotADirectoryError):
            return []
        return sorted(
            e.name
            for e in entries
            if not e.name.startswith(RESERVED_PREFIX) and e.is_dir(follow_symlinks=False)
        )

    def job(self, name: str) -> JobPaths:
        """The paths of job ``name`` (not validated; see :func:`check_job_name`)."""
        return JobPaths(self.root, name)

    def output_jobs(self) -> list[str]:
        """Names of the job folders in ``out/`` (dot-names and files excluded), sorted."""
        try:
            entries = list(os.scandir(self.out_dir))
        except (FileNotFoundError, NotADirectoryError):
            return []
        return sorted(
            e.name
            for e in entries
            if not e.name.startswith(RESERVED_PREFIX) and e.is_dir(follow_symlinks=False)
        )
